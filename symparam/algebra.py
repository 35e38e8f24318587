"""The two arithmetics a count runs in, behind one protocol.

`Concrete` works on Python ints (Fractions only in between) and never imports SymPy; it
raises `NeedsSymbols` at the first name without a value, and the count then starts
again with `Symbolic`, which builds SymPy expressions. Layer formulas use `+ - *` and
the methods here, never `/`: on ints `/` gives a float, and a float is never a count.
"""

from __future__ import annotations

from typing import Any, Protocol

from .exact import fraction, is_fraction


class NeedsSymbols(Exception):
    """A name has no value: the count must be symbolic."""


class NotDivisible(ArithmeticError):
    """An exact division whose divisor does not divide: the caller says why in words."""


def is_number(value) -> bool:
    return (isinstance(value, int) or is_fraction(value)) or bool(getattr(value, "is_number", False))


def is_integer(value) -> bool:
    if isinstance(value, int):
        return True
    if is_fraction(value):
        return value.denominator == 1
    return bool(getattr(value, "is_integer", False)) and bool(getattr(value, "is_number", False))


def normalize(value):
    """Fractions that are whole become ints, so results are exact Python ints."""
    if is_fraction(value) and value.denominator == 1:
        return int(value)
    return value


class Algebra(Protocol):
    """What the counting and the layer formulas need of an arithmetic."""

    symbolic: bool

    def number(self, value): ...
    def symbol(self, name: str): ...
    def indexed(self, stem: str, index): ...
    def index_symbol(self, name: str): ...
    def divide(self, a, b): ...
    def exact_divide(self, a, b): ...
    def divides(self, divisor, value) -> bool | None: ...
    def floor_divide(self, a, b): ...
    def floor(self, value): ...
    def ceiling(self, value): ...
    def power(self, base, exponent): ...
    def maximum(self, a, b): ...
    def add_all(self, terms): ...
    def equal(self, a, b) -> bool: ...
    def same_shape(self, a, b) -> bool: ...
    def substitute(self, value, symbol, replacement): ...
    def summation(self, term, index, lower, upper): ...


def _divides(divisor, value) -> bool | None:
    """Whether `divisor` divides `value` exactly; None when either is not a number."""
    if not (is_number(divisor) and is_number(value)) or divisor == 0:
        return None
    return fraction(value) / fraction(divisor) == int(fraction(value) / fraction(divisor))


class _Shapes:
    def same_shape(self, a, b) -> bool:
        """Two shapes alike, axis by axis, as this arithmetic compares values."""
        return len(a) == len(b) and all(self.equal(x, y) for x, y in zip(a, b))


class Concrete(_Shapes):
    """Arithmetic on Python ints; any name without a value raises NeedsSymbols."""

    symbolic = False

    def number(self, value):
        return value

    def symbol(self, name: str):
        raise NeedsSymbols(name)

    def indexed(self, stem: str, index):
        raise NeedsSymbols(stem)

    def index_symbol(self, name: str):
        raise NeedsSymbols(name)

    def divide(self, a, b):
        return normalize(fraction(a) / fraction(b))

    def exact_divide(self, a, b):
        if not _divides(b, a):
            raise NotDivisible(f"{b} does not divide {a}")
        return normalize(fraction(a) / fraction(b))

    def divides(self, divisor, value) -> bool | None:
        return _divides(divisor, value)

    def floor_divide(self, a, b):
        return fraction(a) // fraction(b)

    def floor(self, value):
        return int(value // 1)

    def ceiling(self, value):
        return int(-((-value) // 1))

    def power(self, base, exponent):
        return normalize(fraction(base) ** exponent)

    def maximum(self, a, b):
        return max(a, b)

    def add_all(self, terms):
        return normalize(sum(terms, 0))

    def equal(self, a, b) -> bool:
        return a == b

    def substitute(self, value, symbol, replacement):
        return value  # a concrete value has no symbols

    def summation(self, term, index, lower, upper):
        raise NeedsSymbols(str(index))  # concrete ranges are unrolled before counting


_EXPANDED_POWER = 16  # (a + b)^16 is expanded to compare; a higher power of a sum is not


class Symbolic(_Shapes):
    """Arithmetic building SymPy expressions; names without a value become symbols."""

    symbolic = True

    def __init__(self):
        import sympy  # only here: a concrete count never pays for this import

        self.sp = sympy
        self._symbols: dict[str, Any] = {}
        self._bases: dict[str, Any] = {}

    def number(self, value):
        if is_fraction(value):
            return self.sp.Rational(value.numerator, value.denominator)
        return self.sp.Integer(value)

    def symbol(self, name: str):
        if name not in self._symbols:
            self._symbols[name] = self.sp.Symbol(name, integer=True, positive=True)
        return self._symbols[name]

    def index_symbol(self, name: str):
        return self.sp.Symbol(name, integer=True)

    def indexed(self, stem: str, index):
        if stem not in self._bases:
            self._bases[stem] = self.sp.IndexedBase(stem, integer=True, positive=True)
        return self._bases[stem][index]

    def divide(self, a, b):
        return self.sp.Mul(self.as_expr(a), self.sp.Pow(self.as_expr(b), -1))

    def exact_divide(self, a, b):
        if self.divides(b, a) is False:
            raise NotDivisible(f"{b} does not divide {a}")
        return self.divide(a, b)

    def divides(self, divisor, value) -> bool | None:
        """True or False when it is known; None when it depends on the sizes (d/H)."""
        known = _divides(divisor, value)
        if known is not None:
            return known
        quotient = self.divide(value, divisor)
        return True if quotient.is_integer else None

    def floor_divide(self, a, b):
        return self.sp.floor(self.divide(a, b))

    def floor(self, value):
        return self.sp.floor(value)

    def ceiling(self, value):
        return self.sp.ceiling(value)

    def power(self, base, exponent):
        return self.sp.Pow(self.as_expr(base), self.as_expr(exponent))

    def maximum(self, a, b):
        return self.sp.Max(a, b)

    def add_all(self, terms):
        # One Add of all the terms: linear, where a loop of `a + b` would be quadratic.
        # Alike terms are counted first (a chain repeats the same few), so SymPy
        # flattens the distinct ones only.
        counted: dict = {}
        for term in terms:
            counted[term] = counted.get(term, 0) + 1
        return self.sp.Add(*(term * times if times > 1 else term for term, times in counted.items()))

    def equal(self, a, b) -> bool:
        """a = b for every value of the names. Expanded when that is cheap; a power of a
        sum such as (a + b + c)^4096 is not (it has millions of terms): it is compared
        exactly at random points instead, where two different polynomials of degree D
        agree with a chance of at most D / 2^64 per point (Schwartz–Zippel)."""
        difference = self.as_expr(a) - self.as_expr(b)
        if difference == 0:
            return True
        powers = difference.atoms(self.sp.Pow)
        if all(not power.base.is_Add or abs(power.exp) <= _EXPANDED_POWER for power in powers):
            return self.sp.expand(difference) == 0
        return all(self._at_random_point(difference, seed) == 0 for seed in range(3))

    def _at_random_point(self, expr, seed: int):
        import random  # only here: a start-up does not pay for it

        draw = random.Random(seed)
        names = expr.atoms(self.sp.Symbol, self.sp.Indexed)
        point = {name: self.sp.Integer(draw.getrandbits(64) + 1) for name in names}
        return expr.xreplace(point)

    def as_expr(self, value):
        return self.number(value) if (isinstance(value, int) or is_fraction(value)) else value

    def substitute(self, value, symbol, replacement):
        return self.as_expr(value).subs(symbol, replacement)

    def summation(self, term, index, lower, upper):
        if term == 0:
            return self.sp.Integer(0)
        if index not in getattr(term, "free_symbols", ()):
            return (upper - lower + 1) * term
        total = self.sp.Sum(term, (index, lower, upper))
        if any(index in atom.free_symbols for atom in term.atoms(self.sp.Indexed)):
            return total  # Σ h_{i-1}·h_i has no closed form
        # A polynomial in the index (a repetition whose instances grow): in closed form.
        return self.sp.factor_terms(self.sp.expand(total.doit()))

    def symbols(self) -> dict[str, Any]:
        return {**self._symbols, **self._bases}
