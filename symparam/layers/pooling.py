"""Pooling: windows, global and adaptive. No parameters; they change the shape."""

from __future__ import annotations

from ..algebra import is_number
from ..values import show
from .base import Flag, Output, Padding, Sizes, layer, written

from .spatial import AXES, split_channels, window_extent

SUFFIX = {1: "1D", 2: "2D", 3: "3D"}


def _pool(rank: int):
    def apply(call, shape):
        """No parameters; output extents as a convolution with stride = pool by default."""
        spatial, channels = split_channels(call, shape, rank)
        pool = call["pool"]
        stride = call["stride"] or pool
        ceil_mode = call["ceil_mode"]
        dilation = call.values.get("dilation") or (1,) * rank  # max pools only, as PyTorch's
        if call.convention == "torch":
            _check_torch_padding(call, rank, pool)
        else:
            for option in ("ceil_mode", "dilation"):  # a max pool's; an average pool has no dilation
                if option in call.kind.by_name and written(call, option) is not None:
                    raise call.error_at(
                        f"Keras' pooling has no {option} (PyTorch's); use --convention torch",
                        written(call, option),
                    )
        extents = tuple(
            window_extent(call, rank, axis, n, k, s, call["padding"], dilation=d, ceil_mode=ceil_mode)
            for axis, (n, k, s, d) in enumerate(zip(spatial, pool, stride, dilation))
        )
        return Output(extents + (channels,))

    return apply


def _check_torch_padding(call, rank, pool):
    # PyTorch's pooling takes only zeros ("argument 'padding' must be tuple of ints, not
    # str"), at most half the window ("pad should be at most half of effective kernel size").
    padding, where = call["padding"], written(call, "padding")
    if padding == "same":
        raise call.error_at("PyTorch's pooling takes a number of zeros, not padding=same", where)
    if padding == "valid":
        return
    for axis, (size, pair) in enumerate(zip(pool, padding)):
        amount = max((p for p in pair if is_number(p)), default=0)
        if is_number(size) and 2 * amount > size:
            along = f" along the {AXES[rank][axis]}" if rank > 1 else ""
            raise call.error_at(
                f"PyTorch allows a padding of at most half the pool size, got {show(amount)} "
                f"with pool size {show(size)}{along}",
                where,
            )


def _global(call, shape):
    """No parameters; one value per channel."""
    if len(shape) < 2:
        raise call.error(f"needs an input with spatial axes and channels, got {shape}")
    channels = shape[-1]
    return Output((1,) * (len(shape) - 1) + (channels,) if call["keepdims"] else (channels,))


def _adaptive(rank: int):
    def apply(call, shape):
        """No parameters; the spatial extents become output_size."""
        _, channels = split_channels(call, shape, rank)
        return Output(tuple(call["output_size"]) + (channels,))

    return apply


for _rank in (1, 2, 3):
    _d = SUFFIX[_rank]
    for _kind, _keras, _torch in (("max", "MaxPooling", "MaxPool"), ("avg", "AveragePooling", "AvgPool")):
        layer(
            f"{_kind}_pool{_rank}d",
            aliases=(f"{_keras}{_d}", f"{_torch}{_rank}d", f"{_torch}{_d}"),
            params=(
                Sizes("pool", (2,) * _rank, aliases=("pool_size", "kernel_size"), rank=_rank),
                Sizes("stride", None, aliases=("strides",), rank=_rank),
                Padding("padding", "valid", rank=_rank),
                Flag("ceil_mode", False, keyword_only=True),
                # PyTorch's MaxPool spreads its window (AvgPool has no dilation)
                *((Sizes("dilation", None, rank=_rank, keyword_only=True),) if _kind == "max" else ()),
            ),
        )(_pool(_rank))
        _name = "Avg" if _kind == "avg" else "Max"
        layer(
            f"adaptive_{_kind}_pool{_rank}d",
            aliases=(f"Adaptive{_name}Pool{_rank}d",),
            params=(Sizes("output_size", aliases=("output",), rank=_rank),),
        )(_adaptive(_rank))

for _kind, _keras in (("avg", "GlobalAveragePooling"), ("max", "GlobalMaxPooling")):
    layer(
        f"global_{_kind}_pool",
        aliases=tuple(f"{_keras}{SUFFIX[r]}" for r in (1, 2, 3))
        + tuple(f"global_{_kind}_pool{r}d" for r in (1, 2, 3)),
        params=(Flag("keepdims", False),),
    )(_global)
