"""Layer kinds: one small definition each. Importing this package registers them all."""

from . import core  # noqa: F401  (registers the kinds)
from .base import REGISTRY, Count, LayerKind, Output, apply_layer, lookup

__all__ = ["REGISTRY", "Count", "LayerKind", "Output", "apply_layer", "lookup"]
