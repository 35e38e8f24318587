"""Values as people read them: the one place where an int, a Fraction or a SymPy value
becomes text, LaTeX or JSON, the same in every command.

SymPy is imported only for a value that is symbolic.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from fractions import Fraction
from typing import Any

UNITS = ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K"))


@contextmanager
def unlimited_digits():
    """Python refuses int -> str past 4,300 digits by default; a count may have more."""
    limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 0
    if limit:
        sys.set_int_max_str_digits(0)
    try:
        yield
    finally:
        if limit:
            sys.set_int_max_str_digits(limit)


def is_concrete(value) -> bool:
    """An exact whole number: a Python int or a SymPy Integer."""
    return (isinstance(value, int) and not isinstance(value, bool)) or bool(
        getattr(value, "is_Integer", False)
    )


def show(value) -> str:
    """A size as a person writes it: 3/2 as 1.5, 1/3 as 1/3, 12 as 12."""
    if isinstance(value, Fraction) and value.denominator != 1:
        denominator = value.denominator
        for prime in (2, 5):
            while denominator % prime == 0:
                denominator //= prime
        if denominator == 1:  # a terminating decimal, written out exactly
            digits = 0
            while (value * 10**digits).denominator != 1:
                digits += 1
            if digits <= 15:
                scaled = abs(value.numerator * 10**digits // value.denominator)
                whole, fraction = divmod(scaled, 10**digits)
                sign = "-" if value < 0 else ""
                return f"{sign}{whole}.{fraction:0{digits}d}"
    return text(value)


def text(value) -> str:
    """A value as plain text: 13002, or SymPy's own form of a formula."""
    with unlimited_digits():
        return str(int(value)) if is_concrete(value) else str(value)


def number(value) -> str:
    """An exact count with thousands separators, as Keras prints them: 124,439,808."""
    if not is_concrete(value):
        return text(value)
    with unlimited_digits():
        return f"{int(value):,}"


def readable(value) -> str:
    """124.4M beside the exact 124,439,808; '' for small or symbolic values.
    Exact integer arithmetic: a count past 10^308 has no float."""
    if not is_concrete(value):
        return ""
    value = int(value)
    for size, suffix in UNITS:
        if abs(value) >= 10 * 10**3 and abs(value) >= size:
            tenths = round(Fraction(abs(value) * 10, size))  # half to even, as format() does
            sign = "-" if value < 0 else ""
            return f"{sign}{number(tenths // 10)}.{tenths % 10}{suffix}"
    return ""


def percent(part, whole) -> str:
    """part / whole as a percentage to four places, as PEFT prints its trainable share:
    '0.0622%'. Exact: rounded half to even from the fraction, never through a float."""
    if not (is_concrete(part) and is_concrete(whole)) or whole == 0:
        return ""
    hundredths = round(Fraction(int(part) * 100 * 10**4, int(whole)))
    whole_part, decimals = divmod(hundredths, 10**4)
    return f"{number(whole_part)}.{decimals:04d}%"


def share(part, whole) -> str:
    """'4,194,304 of 6,742,609,920 (0.0622%)': a part of a count, with its share."""
    return f"{number(part)} of {number(whole)} ({percent(part, whole)})"


def latex(value) -> str:
    """LaTeX for a count or a formula; whole numbers grouped as 12{,}730 everywhere."""
    if is_concrete(value):
        return number(value).replace(",", "{,}")
    if isinstance(value, Fraction):
        return rf"\frac{{{latex(value.numerator)}}}{{{latex(value.denominator)}}}"
    from .latex import to_latex

    with unlimited_digits():
        return to_latex(value)


def json_value(value) -> Any:
    """A count as JSON: an integer when it is one, else the formula as SymPy writes it."""
    if is_concrete(value):
        return int(value)
    return text(value)


def shape_text(shape) -> str:
    """(20, 20, 3)."""
    return "(" + ", ".join(text(extent) for extent in shape) + ")"


def one_line(source: str, width: int = 48) -> str:
    """Source text on one line, comments dropped, cut to `width` with '...'."""
    text = " ".join(line.split("#", 1)[0] for line in source.splitlines())
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."
