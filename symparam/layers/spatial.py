"""Shape arithmetic shared by convolutions and pooling, as Keras and PyTorch compute it."""

from __future__ import annotations

from ..algebra import is_number
from ..values import shape_text as format_shape
from ..values import show

AXES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def split_channels(call, shape, rank: int):
    """(spatial extents, channels) of a channels-last input of the given rank."""
    if len(shape) != rank + 1:
        axes = ", ".join((*AXES[rank], "channels"))
        raise call.error(f"needs an input ({axes}), got {format_shape(shape)}")
    return shape[:-1], shape[-1]


def window_extent(call, rank: int, axis: int, n, kernel, stride, padding, dilation=1,
                  ceil_mode=False):
    """How many positions a window of `kernel` takes along one axis.

    valid: floor((n - d·(k-1) - 1)/s) + 1; same (and causal): ceil(n/s);
    explicit zeros (before, after): floor((n + before + after - d·(k-1) - 1)/s) + 1.
    PyTorch's ceil_mode rounds up instead, but drops a last window that would start in
    the right padding."""
    algebra = call.algebra
    reach = dilation * (kernel - 1) + 1
    if padding in ("same", "causal"):
        out = algebra.ceiling(algebra.divide(n, stride))
    else:
        before, after = (0, 0) if padding == "valid" else padding[axis]
        span = n + before + after - reach
        out = algebra.floor_divide(span + (stride - 1 if ceil_mode else 0), stride) + 1
        if ceil_mode:
            out = _drop_window_in_padding(call, AXES[rank][axis], out, n, before, reach, stride)
    _check(call, AXES[rank][axis], axis, n, out, kernel, stride, padding, dilation)
    return out


def _drop_window_in_padding(call, name, out, n, before, reach, stride):
    last_start = (out - 1) * stride
    if is_number(last_start) and is_number(n) and is_number(before):
        return out - 1 if last_start >= n + before else out
    # Without padding, a window at least as wide as the stride never starts past the end.
    if is_number(before) and before == 0 and is_number(reach - stride) and reach >= stride:
        return out
    raise call.error(
        f"ceil_mode=true: whether PyTorch keeps the last window along the {name} depends "
        f"on sizes without values; give them with --set"
    )


def transposed_extent(call, rank: int, axis: int, n, kernel, stride, padding, dilation, output_padding):
    """The inverse of window_extent, as Keras' and PyTorch's transposed convolutions give it."""
    algebra = call.algebra
    reach = dilation * (kernel - 1) + 1
    if padding == "valid" and call.convention == "torch":
        padding = ((0, 0),) * rank  # PyTorch's default padding=0, not Keras' "valid" rule
    if padding not in ("valid", "same"):
        before, after = padding[axis]
        extra = output_padding[axis] if output_padding else 0
        out = (n - 1) * stride - before - after + reach + extra
    elif output_padding is None:
        # Keras' deconv_output_length without output_padding.
        out = n * stride if padding == "same" else n * stride + algebra.maximum(reach - stride, 0)
    else:
        pad = algebra.floor_divide(reach, 2) if padding == "same" else 0
        out = (n - 1) * stride + reach - 2 * pad + output_padding[axis]
    _check(call, AXES[rank][axis], axis, n, out, kernel, stride, padding, dilation)
    return out


def _check(call, name, axis, n, out, kernel, stride, padding, dilation):
    if is_number(out) and out < 1:
        detail = f"kernel {show(kernel)}"
        if stride != 1:
            detail += f", stride {show(stride)}"
        if dilation != 1:
            detail += f", dilation {show(dilation)}"
        detail += f", padding {_padding_text(padding, axis)}"
        raise call.error(f"{name} {show(n)} → {show(out)} with {detail}")


def _padding_text(padding, axis) -> str:
    if isinstance(padding, str):
        return padding
    before, after = padding[axis]
    return show(before) if before == after else f"({show(before)}, {show(after)})"


def kernel_text(kernel) -> str:
    return "×".join(show(k) for k in kernel)


def product(values):
    result = 1
    for value in values:
        result = result * value
    return result
