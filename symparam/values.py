"""Values as people read them: the one place where an int, a Fraction or a SymPy value
becomes text, LaTeX or JSON, the same in every command.

SymPy is imported only for a value that is symbolic.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any, NamedTuple

from .exact import fraction, is_fraction

UNITS = ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K"))
NOTATIONS = ("unicode", "ascii", "sympy")


class Notation(NamedTuple):
    """How results are written: `style` "unicode" (12·d²), "ascii" (12*d^2) or "sympy"
    (SymPy's own str, 12*d**2); `counts`, the repetition counts to factor out (L·(...));
    `channels_first`, shapes as PyTorch reads them, (64, 112, 112) for 64 channels."""

    style: str = "unicode"
    counts: tuple = ()
    channels_first: bool = False


_NOTATION: ContextVar[Notation] = ContextVar("symparam_notation", default=Notation())


@contextmanager
def notation(style: str | None = None, counts=None, channels_first: bool | None = None):
    """Formulas inside the block are written in `style`, with `counts` factored out, and
    shapes channels-first or last: `with symparam.notation("ascii"): print(summary)`.
    What is not given stays as it is."""
    current = _NOTATION.get()
    if style is not None and style not in NOTATIONS:
        raise ValueError(f"unknown notation {style!r}: use one of {', '.join(NOTATIONS)}")
    token = _NOTATION.set(Notation(
        style or current.style,
        current.counts if counts is None else tuple(counts),
        current.channels_first if channels_first is None else channels_first,
    ))
    try:
        yield
    finally:
        _NOTATION.reset(token)


def written_as(get_layout):
    """A renderer's decorator: what it writes follows the layout that `get_layout(obj)`
    gives for the object rendered (a summary keeps its network's repetition counts and
    shape order): a dict of `notation`'s keywords."""

    def decorate(render):
        @wraps(render)
        def rendered(obj, *args, **kwargs):
            with notation(**get_layout(obj)):
                return render(obj, *args, **kwargs)

        return rendered

    return decorate


def sum_sign() -> str:
    """Σ, or sum in ASCII: Σ_{i=1}^{l} (...)."""
    return "sum" if _NOTATION.get().style == "ascii" else "Σ"


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
    if is_fraction(value) and value.denominator != 1:
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


def text(value, arrange: bool = True) -> str:
    """A value as text: 13002, or a formula in the notation in use (12·d² + 13·d); with
    arrange=False, as it was built, its factors kept."""
    current = _NOTATION.get()
    if current.style == "sympy" or is_concrete(value) or (isinstance(value, int) or is_fraction(value)):
        return sympy_text(value)
    with unlimited_digits():
        from .printing import readable

        return readable(value, ascii=current.style == "ascii", counts=current.counts, arrange=arrange)


# The symbols of the words around formulas, and what the ASCII notation writes instead
# (the formulas themselves are printed in ASCII by printing.Ascii).
_ASCII_SYMBOLS = str.maketrans({
    "×": "x", "·": "*", "−": "-", "─": "-", "→": "->", "≈": "~", "∞": "oo", "≤": "<=",
    "≥": ">=", "…": "...", "γ": "gamma", "β": "beta", "›": ">",
})


def for_output(text: str) -> str:
    """Text as the command line prints it: in the ASCII notation, ASCII throughout."""
    return text.translate(_ASCII_SYMBOLS) if _NOTATION.get().style == "ascii" else text


def noun(value, singular: str, plural: str) -> str:
    """The word for `value` of something: 1 bias, 3 biases, n biases."""
    return singular if value == 1 else plural


def sympy_text(value) -> str:
    """A value as SymPy writes it (12*d**2 + 13*d): for JSON and for pasting into Python."""
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
            tenths = round(fraction(abs(value) * 10, size))  # half to even, as format() does
            sign = "-" if value < 0 else ""
            return f"{sign}{number(tenths // 10)}.{tenths % 10}{suffix}"
    return ""


def scientific(value, digits: int = 3) -> str:
    """3.14 × 10^23 for an exact whole or fractional number past a million; '' otherwise.
    Rounded half to even from the exact value: no float, at any size."""
    if not (is_concrete(value) or is_fraction(value)):
        return ""
    exact = fraction(value) if is_fraction(value) else fraction(int(value))
    magnitude = abs(exact)
    if magnitude < 10**6:
        return ""
    exponent = len(str(int(magnitude))) - 1
    mantissa = round(magnitude * 10 ** (digits - 1) / 10**exponent)
    if mantissa == 10**digits:  # 9.995 rounds up to 10.0
        mantissa, exponent = mantissa // 10, exponent + 1
    whole, decimals = divmod(mantissa, 10 ** (digits - 1))
    sign = "-" if exact < 0 else ""
    return f"{sign}{whole}.{decimals:0{digits - 1}d} × 10^{exponent}"


def percent(part, whole) -> str:
    """part / whole as a percentage to four places, as PEFT prints its trainable share:
    '0.0622%'. Exact: rounded half to even from the fraction, never through a float."""
    if not (is_concrete(part) and is_concrete(whole)) or whole == 0:
        return ""
    hundredths = round(fraction(int(part) * 100 * 10**4, int(whole)))
    whole_part, decimals = divmod(hundredths, 10**4)
    return f"{number(whole_part)}.{decimals:04d}%"


def share(part, whole) -> str:
    """'4,194,304 of 6,742,609,920 (0.0622%)': a part of a count, with its share."""
    return f"{number(part)} of {number(whole)} ({percent(part, whole)})"


def latex(value) -> str:
    """LaTeX for a count or a formula; whole numbers grouped as 12{,}730 everywhere."""
    if is_concrete(value):
        return number(value).replace(",", "{,}")
    if is_fraction(value):
        return rf"\frac{{{latex(value.numerator)}}}{{{latex(value.denominator)}}}"
    from .latex import to_latex
    from .printing import arranged

    with unlimited_digits():
        return to_latex(arranged(value, _NOTATION.get().counts))


def json_value(value) -> Any:
    """A count as JSON: an integer when it is one, else the formula as SymPy writes it."""
    if is_concrete(value):
        return int(value)
    return sympy_text(value)


def shape_text(shape) -> str:
    """(20, 20, 3): in the language's order, channels last, as an expression writes it."""
    return "(" + ", ".join(text(extent) for extent in shape) + ")"


def shown_shape(shape) -> str:
    """A result's shape as its reader expects it: (20, 20, 3), or (3, 20, 20) when shapes
    are written channels-first (PyTorch). (steps, features) stays as it is: PyTorch's
    sequence layers read it so too (batch_first)."""
    return shape_text(shown_extents(shape))


def shown_extents(shape) -> tuple:
    """The extents of a result's shape in the order shapes are written in."""
    if _NOTATION.get().channels_first and len(shape) >= 3:
        return (shape[-1], *shape[:-1])
    return tuple(shape)


def shape_order() -> str:
    """The order of shown shapes, in words, for JSON and explain."""
    return "channels_first" if _NOTATION.get().channels_first else "channels_last"


def one_line(source: str, width: int = 48) -> str:
    """Source text on one line, comments dropped, cut to `width` with '...'."""
    text = " ".join(line.split("#", 1)[0] for line in source.splitlines())
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."
