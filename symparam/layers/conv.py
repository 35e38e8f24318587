"""Convolutions: plain, transposed, depthwise and separable, in 1, 2 and 3 dimensions.

Inputs are channels last: (length, C), (height, width, C), (depth, height, width, C).
"""

from __future__ import annotations

from ..algebra import is_number
from ..values import shape_text as format_shape
from ..values import show
from .base import Count, Flag, Output, Padding, Size, Sizes, layer, written
from .core import ACTIVATION
from .spatial import AXES, kernel_text, product, split_channels, transposed_extent, window_extent

SUFFIX = {1: "1D", 2: "2D", 3: "3D"}


def _window_params(rank: int, words=("valid", "same")):
    return (
        Sizes("stride", (1,) * rank, aliases=("strides",), rank=rank),
        Padding("padding", "valid", rank=rank, words=words),
        Sizes("dilation", (1,) * rank, aliases=("dilation_rate",), rank=rank),
    )


def _kernel(rank: int):
    return Sizes("kernel", aliases=("kernel_size",), rank=rank, describe="the kernel size")


FILTERS = Size("filters", aliases=("out_channels",), describe="the number of filters")
GROUPS = Size("groups", 1)
BIAS = Flag("bias", True, aliases=("use_bias",))
DEPTH_MULTIPLIER = Size("depth_multiplier", 1)


def _check_groups(call, channels, filters, groups):
    for what, value in (("input channels", channels), ("filters", filters)):
        call.check_divides(groups, value, f"groups={show(groups)} does not divide the {show(value)} {what}")


def _above(values, limit=1) -> bool:
    """Whether a concrete value among `values` is above `limit` (symbolic ones are not)."""
    return any(is_number(value) and value > limit for value in values)


def _along(rank: int, axis: int) -> str:
    return f" along the {AXES[rank][axis]}" if rank > 1 else ""


def _check_torch_same(call):
    # PyTorch refuses padding='same' on strided convolutions ("padding='same' is not
    # supported for strided convolutions"), depthwise and separable ones too (its Conv
    # with groups); follow it under its convention.
    if call.convention == "torch" and call["padding"] == "same" and any(s != 1 for s in call["stride"]):
        raise call.error("PyTorch does not support padding=same with a stride other than 1")


def _check_torch_causal(call):
    # PyTorch's Conv1d has no causal padding ("Invalid padding string 'causal'").
    if call.convention == "torch" and call["padding"] == "causal":
        amount = show(call["dilation"][0] * (call["kernel"][0] - 1))
        raise call.error_at(
            f"PyTorch does not support padding=causal; put zero_padding1d(({amount}, 0)) "
            "before a convolution with padding=valid",
            written(call, "padding"),
        )


def _check_keras_dilated_stride(call):
    # Keras' Conv and ConvTranspose refuse the pair ("`strides > 1` not supported in
    # conjunction with `dilation_rate > 1`"), even on different axes. Its depthwise and
    # separable convolutions accept it, so they do not call this.
    if call.convention == "keras" and _above(call["stride"]) and _above(call["dilation"]):
        raise call.error_at(
            "Keras does not support a stride other than 1 together with a dilation other than 1",
            written(call, "dilation"),
        )


def _check_output_padding(call, rank):
    # Keras: "`output_padding` must be strictly less than `strides`"; PyTorch: "output
    # padding must be smaller than either stride or dilation". Concrete values only.
    output_padding = call["output_padding"]
    if output_padding is None:
        return
    torch = call.convention == "torch"
    for axis, (extra, stride, dilation) in enumerate(
        zip(output_padding, call["stride"], call["dilation"])
    ):
        if not (is_number(extra) and is_number(stride) and is_number(dilation)):
            continue
        if extra < stride or (torch and extra < dilation):
            continue
        if torch:
            message = (
                f"PyTorch needs output_padding smaller than the stride or the dilation, got "
                f"{show(extra)} with stride {show(stride)} and dilation {show(dilation)}"
            )
        else:
            message = (
                f"Keras needs output_padding smaller than the stride, got {show(extra)} "
                f"with stride {show(stride)}"
            )
        raise call.error_at(message + _along(rank, axis), written(call, "output_padding"))


def _output_extents(call, rank, spatial):
    return tuple(
        window_extent(call, rank, axis, n, k, s, call["padding"], d)
        for axis, (n, k, s, d) in enumerate(
            zip(spatial, call["kernel"], call["stride"], call["dilation"])
        )
    )


def _convolution(rank: int):
    def apply(call, shape):
        """prod(kernel)·(C_in/groups)·filters weights + filters biases."""
        spatial, channels = split_channels(call, shape, rank)
        filters, groups, kernel = call["filters"], call["groups"], call["kernel"]
        _check_groups(call, channels, filters, groups)
        _check_torch_same(call)
        _check_torch_causal(call)
        _check_keras_dilated_stride(call)
        inputs = call.algebra.exact_divide(channels, groups)
        outputs = filters * product(kernel)
        count = Count(
            weights=inputs * outputs,
            biases=filters if call["bias"] else 0,
            factors=(
                ("inputs", inputs),
                (f"outputs ({filters} filters × {kernel_text(kernel)} kernel)", outputs,
                 (filters, *kernel)),
            ),
        )
        return Output(_output_extents(call, rank, spatial) + (filters,), count)

    return apply


def _transposed(rank: int):
    def apply(call, shape):
        """C_in·(filters/groups)·prod(kernel) weights + filters biases."""
        spatial, channels = split_channels(call, shape, rank)
        filters, groups, kernel = call["filters"], call["groups"], call["kernel"]
        _check_groups(call, channels, filters, groups)
        if call.convention == "torch" and call["padding"] == "same":
            raise call.error("PyTorch's transposed convolutions take a number of zeros, not padding=same")
        _check_keras_dilated_stride(call)
        _check_output_padding(call, rank)
        outputs = call.algebra.exact_divide(filters, groups) * product(kernel)
        per_group = f"{filters}/{groups}" if groups != 1 else f"{filters}"
        extents = tuple(
            transposed_extent(
                call, rank, axis, n, k, s, call["padding"], d, call["output_padding"]
            )
            for axis, (n, k, s, d) in enumerate(
                zip(spatial, kernel, call["stride"], call["dilation"])
            )
        )
        count = Count(
            weights=channels * outputs,
            biases=filters if call["bias"] else 0,
            factors=(
                ("inputs", channels),
                (f"outputs ({per_group} filters × {kernel_text(kernel)} kernel)", outputs,
                 (call.algebra.exact_divide(filters, groups), *kernel)),
            ),
        )
        return Output(extents + (filters,), count)

    return apply


def _depthwise(rank: int):
    def apply(call, shape):
        """prod(kernel)·C·m weights + C·m biases: m filters of its own for each channel."""
        spatial, channels = split_channels(call, shape, rank)
        multiplier, kernel = call["depth_multiplier"], call["kernel"]
        _check_torch_same(call)
        _check_torch_causal(call)
        outputs = multiplier * product(kernel)
        count = Count(
            weights=channels * outputs,
            biases=channels * multiplier if call["bias"] else 0,
            factors=(
                ("channels", channels),
                (f"outputs ({multiplier} per channel × {kernel_text(kernel)} kernel)", outputs,
                 (multiplier, *kernel)),
            ),
        )
        return Output(_output_extents(call, rank, spatial) + (channels * multiplier,), count)

    return apply


def _separable(rank: int):
    def apply(call, shape):
        """Depthwise prod(kernel)·C·m (no bias), then pointwise C·m·filters + filters."""
        spatial, channels = split_channels(call, shape, rank)
        multiplier, kernel, filters = call["depth_multiplier"], call["kernel"], call["filters"]
        _check_torch_same(call)
        depthwise = product(kernel) * channels * multiplier
        pointwise = channels * multiplier * filters
        count = Count(
            weights=depthwise + pointwise,
            biases=filters if call["bias"] else 0,
            note=f"{depthwise} depthwise + {pointwise} pointwise",
        )
        return Output(_output_extents(call, rank, spatial) + (filters,), count)

    return apply


for _rank in (1, 2, 3):
    _d = SUFFIX[_rank]
    _words = ("valid", "same", "causal") if _rank == 1 else ("valid", "same")
    layer(
        f"conv{_rank}d",
        aliases=(f"Conv{_d}", f"Conv{_rank}d", f"Convolution{_d}"),
        params=(FILTERS, _kernel(_rank), *_window_params(_rank, _words), GROUPS, BIAS, ACTIVATION),
    )(_convolution(_rank))
    stride, padding, dilation = _window_params(_rank)
    layer(
        f"conv{_rank}d_transpose",
        aliases=(f"Conv{_d}Transpose", f"ConvTranspose{_rank}d"),
        params=(
            FILTERS, _kernel(_rank), stride, padding,
            Sizes("output_padding", None, rank=_rank, minimum=0), dilation, GROUPS, BIAS,
            ACTIVATION,
        ),
    )(_transposed(_rank))

for _rank in (1, 2):
    _d = SUFFIX[_rank]
    # Causal, as a Keras Conv1D(groups=C, padding="causal") is: Mamba's convolution.
    _words = ("valid", "same", "causal") if _rank == 1 else ("valid", "same")
    layer(
        f"depthwise_conv{_rank}d",
        aliases=(f"DepthwiseConv{_d}",),
        params=(_kernel(_rank), DEPTH_MULTIPLIER, *_window_params(_rank, _words), BIAS, ACTIVATION),
    )(_depthwise(_rank))
    layer(
        f"separable_conv{_rank}d",
        aliases=(f"SeparableConv{_d}",),
        params=(
            FILTERS, _kernel(_rank), DEPTH_MULTIPLIER, *_window_params(_rank), BIAS, ACTIVATION,
        ),
    )(_separable(_rank))


def _conv_lstm(rank: int):
    def apply(call, shape):
        """Keras' ConvLSTM: an LSTM whose four gates are convolutions, over a sequence of
        maps (T, spatial..., C): 4F·(k^r·C + k^r·F) weights (input and recurrent kernels)
        and 4F biases, for F filters; the last map, or all with return_sequences=true."""
        if call.convention == "torch":
            raise call.error("PyTorch has no ConvLSTM layer: Keras' ConvLSTM1D/2D/3D only")
        if len(shape) != rank + 2:
            axes = ", ".join(("time steps", *AXES[rank], "channels"))
            raise call.error(f"needs an input ({axes}), got {format_shape(shape)}")
        steps, spatial, channels = shape[0], shape[1:-1], shape[-1]
        filters, kernel = call["filters"], call["kernel"]
        _check_keras_dilated_stride(call)
        window = product(kernel)
        count = Count(
            weights=4 * filters * window * (channels + filters),
            biases=4 * filters if call["bias"] else 0,
            note=f"4 gates × {show(filters)} filters of {kernel_text(kernel)} on the input and on the state",
        )
        extents = _output_extents(call, rank, spatial)
        out = (steps, *extents, filters) if call["return_sequences"] else (*extents, filters)
        return Output(out, count)

    return apply


for _rank in (1, 2, 3):
    layer(
        f"conv_lstm{_rank}d",
        aliases=(f"ConvLSTM{SUFFIX[_rank]}",),
        params=(FILTERS, _kernel(_rank), *_window_params(_rank), BIAS,
                Flag("return_sequences", False)),
    )(_conv_lstm(_rank))
