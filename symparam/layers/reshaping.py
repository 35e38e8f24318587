"""Layers that only move values around: padding, cropping, upsampling, reshape, slice. No parameters."""

from __future__ import annotations

from .. import ast
from ..algebra import is_integer, is_number
from ..values import shape_text as format_shape
from ..values import show
from .base import Index, Output, Padding, Param, Size, Sizes, layer, written
from .spatial import AXES, product, split_channels

SUFFIX = {1: "1D", 2: "2D", 3: "3D"}


def _zero_padding(rank: int):
    def apply(call, shape):
        """Adds zeros around each spatial axis: n -> before + n + after."""
        spatial, channels = split_channels(call, shape, rank)
        padding = call["padding"]
        return Output(
            tuple(n + before + after for n, (before, after) in zip(spatial, padding)) + (channels,)
        )

    return apply


class Factors(Param):
    """One positive scale per spatial axis, whole or not: `2`, `(2, 3)` or `1.5`."""

    def __init__(self, name: str, default, rank: int = 1, **options):
        super().__init__(name, default, **options)
        self.rank = rank

    def convert(self, value, call):
        items = value.items if isinstance(value, ast.Tuple) else (value,) * self.rank
        if len(items) != self.rank:
            raise call.error_at(f"{self.name} needs one value per axis ({self.rank})", value)
        factors = tuple(call.number(self.name, item) for item in items)
        for item, factor in zip(items, factors):
            if is_number(factor) and factor <= 0:
                raise call.error_at(f"{self.name} must be positive, got {show(factor)}", item)
        return factors


def _upsampling(rank: int):
    def apply(call, shape):
        """Repeats each position `size` times along each spatial axis; PyTorch's Upsample
        also scales by a factor that is not whole (⌊n·size⌋) or to a target size."""
        spatial, channels = split_channels(call, shape, rank)
        target, where = call["target"], written(call, "target")
        if target is not None:
            if written(call, "size") is not None:
                raise call.error_at("give size (a scale) or target (the output's size), not both", where)
            if call.convention == "keras":
                raise call.error_at("Keras' UpSampling scales by whole factors; a target size is "
                                    "PyTorch's Upsample(size=...) (or Keras' Resizing)", where)
            return Output(tuple(target) + (channels,))
        factors = call["size"]
        whole = all(not is_number(f) or is_integer(f) for f in factors)
        if not whole and call.convention == "keras":
            raise call.error_at("Keras' UpSampling takes whole factors; PyTorch's Upsample takes others",
                                written(call, "size"))
        extents = tuple(n * f if is_integer(f) or not is_number(f) else call.algebra.floor(n * f)
                        for n, f in zip(spatial, factors))
        return Output(extents + (channels,))

    return apply


def _cropping(rank: int):
    def apply(call, shape):
        """Removes positions at both ends of each spatial axis: n -> n − before − after."""
        spatial, channels = split_channels(call, shape, rank)
        out = []
        for axis, (n, (before, after)) in enumerate(zip(spatial, call["cropping"])):
            left = n - before - after
            if is_number(left) and left < 1:
                raise call.error(
                    f"crops {show(before)} + {show(after)} of the {show(n)} positions along the "
                    f"{AXES[rank][axis]}: nothing would be left"
                )
            out.append(left)
        return Output(tuple(out) + (channels,))

    return apply


# Keras' own defaults: Cropping1D (1, 1), Cropping2D nothing, Cropping3D one at each end.
CROPPING = {1: ((1, 1),), 2: ((0, 0), (0, 0)), 3: ((1, 1),) * 3}

for _rank in (1, 2, 3):
    _d = SUFFIX[_rank]
    layer(
        f"cropping{_rank}d",
        aliases=(f"Cropping{_d}",),
        params=(Padding("cropping", CROPPING[_rank], rank=_rank, words=()),),
    )(_cropping(_rank))
    layer(
        f"zero_padding{_rank}d",
        aliases=(f"ZeroPadding{_d}",),
        params=(Padding("padding", ((1, 1),) * _rank, rank=_rank, words=()),),
    )(_zero_padding(_rank))
    layer(
        f"upsampling{_rank}d",
        aliases=(f"UpSampling{_d}",),
        params=(Factors("size", (2,) * _rank, aliases=("scale_factor",), rank=_rank),
                Sizes("target", None, rank=_rank, keyword_only=True)),
    )(_upsampling(_rank))


class Extent(Param):
    """A target extent for reshape: a positive size, or -1 for 'whatever is left'."""

    def convert(self, value, call):
        if isinstance(value, ast.Tuple):
            return tuple(self.convert(item, call) for item in value.items)
        number = call.number(self.name, value)
        if is_number(number) and number == -1:
            return -1
        call.check_size(self.name, number, value)
        return number


@layer("reshape", aliases=("Reshape",), varargs=Extent("shape"))
def reshape(call, shape):
    """The same values in a new shape: reshape(7, 7, 64) or reshape((7, 7, 64)); one -1 allowed."""
    target = call["shape"]
    if len(target) == 1 and isinstance(target[0], tuple):
        target = target[0]
    nested = next((extent for extent in target if isinstance(extent, tuple)), None)
    if nested is not None:  # reshape(d, (1, 1)): one shape, written out or as a tuple
        raise call.error(f"an extent must be a size, not the tuple {format_shape(nested)}")
    if not target:
        raise call.error("needs the new shape, e.g. reshape(7, 7, 64)")
    if sum(1 for extent in target if _is_unknown(extent)) > 1:
        raise call.error("at most one extent can be -1")
    size = product(shape)
    known = product(extent for extent in target if not _is_unknown(extent))
    if any(_is_unknown(extent) for extent in target):
        rest = call.exact_divide(
            size, known, f"cannot reshape {format_shape(shape)} ({size} values) to {target}"
        )
        target = tuple(rest if _is_unknown(extent) else extent for extent in target)
    elif is_number(size) and is_number(known) and size != known:
        raise call.error(
            f"cannot reshape {format_shape(shape)} ({size} values) to "
            f"{format_shape(target)} ({known} values)"
        )
    return Output(tuple(target))


def _is_unknown(extent) -> bool:
    return is_number(extent) and extent == -1


@layer("slice", aliases=("narrow",), params=(Index("start"), Size("stop")))
def slice_layer(call, shape):
    """Positions start … stop − 1 of the last axis (half-open, as Python's): a branch
    that reads part of a projection, as Mamba's dt_proj reads x_proj's first dt_rank."""
    start, stop = call["start"], call["stop"]
    width = shape[-1]
    if is_number(start) and is_number(stop) and start >= stop:
        raise call.error(f"start={show(start)} must be below stop={show(stop)}")
    if is_number(stop) and is_number(width) and stop > width:
        raise call.error(f"stop={show(stop)} is past the {show(width)} features of its input")
    return Output(tuple(shape[:-1]) + (stop - start,))
