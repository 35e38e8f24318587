"""Normalization layers, where Keras and PyTorch count differently.

Keras keeps a batch norm's moving mean and variance as non-trainable weights and counts
them; PyTorch keeps them as buffers, which are not parameters. The convention decides.
"""

from __future__ import annotations

from ..algebra import is_number
from .base import ByConvention, Count, Flag, Output, Real, Size, layer, written

from .spatial import product

EPSILON = Real("epsilon", None, aliases=("eps",))
MOMENTUM = Real("momentum", None)


def _affine(call, size, count_statistics: bool = False) -> Count:
    """γ (scale) and β (shift) per normalized unit, as the flags ask."""
    affine = call["affine"]
    if call.convention == "torch" and affine and call["center"] != call["scale"]:
        # PyTorch's BatchNorm, GroupNorm and InstanceNorm have one `affine` switch for
        # both (no center= or scale= argument): γ without β, or β without γ, is Keras only.
        off = "center" if not call["center"] else "scale"
        raise call.error_at(
            "PyTorch has one affine switch for γ and β: center and scale must both be true "
            "or both false",
            written(call, off),
        )
    scale = size if affine and call["scale"] else 0
    shift = size if affine and call["center"] else 0
    statistics = 2 * size if count_statistics else 0
    return Count(
        weights=scale,
        biases=shift,
        non_trainable=statistics,
        note="γ, one per channel" if scale != 0 else "",
        non_trainable_note="moving mean and variance" if statistics != 0 else "",
    )


def _affine_flags(affine_default=True):
    return (
        Flag("affine", affine_default),
        Flag("center", True),
        Flag("scale", True),
    )


@layer(
    "batch_norm",
    aliases=("BatchNormalization", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d"),
    params=(*_affine_flags(), EPSILON, MOMENTUM),
)
def batch_norm(call, shape):
    """Over the channel (last) axis: γ and β (2C); Keras also counts 2C moving statistics."""
    return Output(shape, _affine(call, shape[-1], count_statistics=call.convention == "keras"))


@layer(
    "layer_norm",
    aliases=("LayerNormalization", "LayerNorm"),
    params=(
        Flag("bias", True, aliases=("center",)),
        Flag("scale", True),
        Flag("affine", True, aliases=("elementwise_affine",)),
        Size("axes", 1),
        EPSILON,
    ),
)
def layer_norm(call, shape):
    """Over the last `axes` axes (default 1): γ and β for each of their d elements (2d)."""
    axes = call["axes"]
    if not is_number(axes):
        raise call.error("axes must be a number: how many trailing axes to normalize")
    if axes > len(shape):
        raise call.error(f"axes={axes} but the input {shape} has only {len(shape)}")
    size = product(shape[len(shape) - int(axes) :])
    affine = call["affine"]
    return Output(
        shape,
        Count(
            weights=size if affine and call["scale"] else 0,
            biases=size if affine and call["bias"] else 0,
        ),
    )


@layer(
    "group_norm",
    aliases=("GroupNormalization", "GroupNorm"),
    params=(Size("groups", aliases=("num_groups",), describe="the number of groups"),
            *_affine_flags(), EPSILON),
)
def group_norm(call, shape):
    """γ and β per channel (2C); groups must divide the channels."""
    channels, groups = shape[-1], call["groups"]
    call.check_divides(groups, channels, f"groups={groups} does not divide the {channels} channels")
    return Output(shape, _affine(call, channels))


@layer(
    "instance_norm",
    aliases=("InstanceNormalization", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"),
    params=(*_affine_flags(ByConvention(keras=True, torch=False)), EPSILON, MOMENTUM),
)
def instance_norm(call, shape):
    """γ and β per channel (2C) when affine: by default in Keras, not in PyTorch."""
    return Output(shape, _affine(call, shape[-1]))


@layer(
    "rms_norm",
    aliases=("RMSNorm", "RMSNormalization"),
    params=(Flag("scale", True, aliases=("elementwise_affine",)), EPSILON),
)
def rms_norm(call, shape):
    """A scale γ per element of the last axis (d), no shift."""
    return Output(shape, Count(weights=shape[-1] if call["scale"] else 0))
