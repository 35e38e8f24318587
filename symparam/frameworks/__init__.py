"""The frameworks symparam's counts are checked against: each layer built again with the
framework's own classes, from the arguments symparam bound (`symparam check`)."""

from __future__ import annotations


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
