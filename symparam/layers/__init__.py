"""Layer kinds: one small definition each. Importing this package registers them all."""

from . import conv, core, einsum, normalization, pooling, reshaping, sequence, structure, tensors  # noqa: F401
from .base import REGISTRY, Count, LayerCall, LayerKind, Output, lookup

__all__ = ["REGISTRY", "Count", "LayerCall", "LayerKind", "Output", "lookup"]
