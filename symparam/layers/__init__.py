"""Layer kinds: one small definition each. Importing this package registers them all."""

from . import conv, core, normalization, pooling, reshaping, sequence, structure  # noqa: F401
from .base import REGISTRY, Count, LayerKind, Output, apply_layer, lookup

__all__ = ["REGISTRY", "Count", "LayerKind", "Output", "apply_layer", "lookup"]
