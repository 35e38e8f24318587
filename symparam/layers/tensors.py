"""Learnable tensors beside the data path: a position embedding or a bias table
(param), learnable tokens put before a sequence (tokens), a per-channel scale (scale)."""

from __future__ import annotations

from ..values import shape_text as format_shape
from .base import Count, Output, Real, Size, layer
from .spatial import product


@layer("param", aliases=("parameter", "Parameter", "weight"), varargs=Size("dimension"))
def param(call, shape):
    """A learnable tensor of shape (d1, ..., dk): d1 × ... × dk parameters; the data
    passes through unchanged (ViT's position embedding, Swin's bias tables, Mamba's
    A_log). With trainable=false it is kept but not trained (Whisper's sinusoids)."""
    dims = call["dimension"]
    if not dims:
        raise call.error("needs the tensor's shape, e.g. param(197, d) or param(d)")
    note = f"a learnable tensor of shape {format_shape(dims)}"
    return Output(shape, Count(weights=product(dims), note=note))


@layer("tokens", aliases=("cls_token", "register_tokens"), params=(Size("count", aliases=("n",)),))
def tokens(call, shape):
    """n learnable tokens of the input's width put before a sequence (ViT's class token,
    register tokens): n·d parameters, (T, d) -> (T + n, d)."""
    if len(shape) != 2:
        raise call.error(
            f"puts tokens before a sequence, so it needs an input (time steps, features), "
            f"got {format_shape(shape)}"
        )
    steps, width = shape
    n = call["count"]
    count = Count(weights=n * width, factors=(("tokens", n), ("features", width)))
    return Output((steps + n, width), count)


@layer("scale", aliases=("layer_scale", "LayerScale"), params=(Real("init", None, aliases=("init_value",)),))
def scale(call, shape):
    """A learnable scale per channel (the last axis), as ConvNeXt's and CaiT's layer
    scale: C parameters; `init` (its first value) changes no count."""
    channels = shape[-1]
    return Output(shape, Count(weights=channels, note="γ, one per channel"))
