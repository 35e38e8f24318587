"""Convolutions: plain, transposed, depthwise and separable, in 1, 2 and 3 dimensions.

Inputs are channels last: (length, C), (height, width, C), (depth, height, width, C).
"""

from __future__ import annotations

from .base import Count, Flag, Output, Padding, Size, Sizes, layer
from .core import ACTIVATION
from .spatial import kernel_text, product, split_channels, transposed_extent, window_extent

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
        call.check_divides(groups, value, f"groups={groups} does not divide the {value} {what}")


def _check_torch_same(call):
    # PyTorch refuses padding='same' on strided convolutions; follow it under its convention.
    if call.convention == "torch" and call["padding"] == "same" and any(s != 1 for s in call["stride"]):
        raise call.error("PyTorch does not support padding=same with a stride other than 1")


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
    layer(
        f"depthwise_conv{_rank}d",
        aliases=(f"DepthwiseConv{_d}",),
        params=(_kernel(_rank), DEPTH_MULTIPLIER, *_window_params(_rank), BIAS, ACTIVATION),
    )(_depthwise(_rank))
    layer(
        f"separable_conv{_rank}d",
        aliases=(f"SeparableConv{_d}",),
        params=(
            FILTERS, _kernel(_rank), DEPTH_MULTIPLIER, *_window_params(_rank), BIAS, ACTIVATION,
        ),
    )(_separable(_rank))
