"""The frameworks symparam's counts are checked against: each layer built again with the
framework's own classes, from the arguments symparam bound (`symparam check`)."""

from __future__ import annotations


from collections.abc import Callable

# Kinds whose classes in both frameworks (ReLU, MaxPool2d, ZeroPadding2D, Flatten, ...)
# hold no parameters: a check of their count is a check that symparam gives none either.
HOLDS_NOTHING = frozenset({
    "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "sigmoid",
    "hard_sigmoid", "hard_swish", "tanh", "hard_tanh", "softmax", "log_softmax", "softplus",
    "softsign", "exponential", "identity", "dropout", "flatten", "reshape", "slice", "select",
    *(f"{kind}{rank}d" for kind in ("max_pool", "avg_pool", "adaptive_max_pool", "adaptive_avg_pool",
                                    "zero_padding", "upsampling", "cropping") for rank in (1, 2, 3)),
    "global_avg_pool", "global_max_pool",
})


class Unsupported(Exception):
    """The framework has no layer that does what these arguments ask."""


def registry() -> tuple[dict[str, Callable], Callable]:
    """A framework's builders by kind, and the decorator that registers one for kinds:
    @builds("conv1d", "conv2d") def conv(kind, arguments, shape): ..."""
    builders: dict[str, Callable] = {}

    def builds(*kinds: str):
        def register(builder):
            for kind in kinds:
                builders[kind] = builder
            return builder

        return register

    return builders, builds


def known(shape, names_as_none: bool = False) -> tuple:
    """A layer's input shape for a framework: whole extents as ints; a size the count does
    not need (a sequence length) kept as its name, or None where the framework takes that."""
    return tuple(int(extent) if getattr(extent, "is_Integer", True)
                 else (None if names_as_none else extent) for extent in shape)


def plain(value):
    """An argument as the frameworks take it: whole numbers as Python ints (a size given
    with --set to a formula is a SymPy Integer), tuples and dicts of them likewise."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(plain(item) for item in value)
    if getattr(value, "is_Integer", False):
        return int(value)
    return value
