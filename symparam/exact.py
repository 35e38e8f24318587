"""Exact rationals, without importing `fractions` until one is made: it imports
`decimal` and `numbers`, some 5 ms of a concrete count's start-up that whole numbers
never need. Sizes are ints; a Fraction appears only for a written 0.5 or a division."""

from __future__ import annotations


def is_fraction(value) -> bool:
    """Is `value` a fractions.Fraction? (Asked without importing the module.)"""
    kind = type(value)
    return kind.__name__ == "Fraction" and kind.__module__ == "fractions"


def is_rational(value) -> bool:
    """An int or a Fraction (not a bool, which is an int to Python)."""
    return (isinstance(value, int) and not isinstance(value, bool)) or is_fraction(value)


def fraction(*arguments):
    """fractions.Fraction(*arguments), the module imported on first use."""
    from fractions import Fraction

    return Fraction(*arguments)
