"""Size expressions -> values, in one of two arithmetics.

`Concrete` works on Python ints (and Fractions on the way) and never imports SymPy; it
raises `NeedsSymbols` at the first name without a value, and the analysis then starts
again with `Symbolic`, which builds SymPy expressions. Layer formulas are written once,
with + - * and the helpers here, and work in both.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from . import ast
from .errors import SymparamError

MAX_EXPONENT = 4096  # keeps `2^(10^9)` from hanging the process
MAX_BITS = 1 << 20  # about 315,000 digits: far past any network, well short of a hang


class NeedsSymbols(Exception):
    """A name has no value: the count must be symbolic."""


class Sizes:
    """Values given for names: scalars (d=512), entries (h_1=16), sequences (h=784,16,10)."""

    __slots__ = ("scalars", "entries", "sequences")

    def __init__(self, scalars=None, entries=None, sequences=None):
        self.scalars: dict[str, Any] = dict(scalars or {})
        self.entries: dict[tuple[str, int], Any] = dict(entries or {})
        self.sequences: dict[str, tuple] = dict(sequences or {})

    def merged(self, other: "Sizes") -> "Sizes":
        return Sizes(
            {**self.scalars, **other.scalars},
            {**self.entries, **other.entries},
            {**self.sequences, **other.sequences},
        )

    def names(self) -> list[str]:
        entries = [f"{stem}_{index}" for stem, index in self.entries]
        return [*self.scalars, *entries, *self.sequences]

    def __bool__(self) -> bool:
        return bool(self.scalars or self.entries or self.sequences)

    def __repr__(self) -> str:
        return f"Sizes({self.scalars}, {self.entries}, {self.sequences})"


class Scope:
    """Where names get their values during one analysis."""

    def __init__(self, sizes: Sizes, source: str = "", layer_names: frozenset = frozenset()):
        self.sizes = sizes
        self.source = source
        self.layer_names = layer_names  # names that are layers, so no sizes
        self.locals: dict[str, Any] = {}  # the ellipsis index, a definition's parameters
        self.used: set[str] = set()  # names of `sizes` that were looked up
        self.highest_index: dict[str, int] = {}  # per bound sequence
        self.open_sequences: set[str] = set()  # bound, used with a symbolic index

    def error(self, message: str, span: ast.Span) -> SymparamError:
        return SymparamError(message, span, self.source)


def is_integer(value) -> bool:
    if isinstance(value, int):
        return True
    if isinstance(value, Fraction):
        return value.denominator == 1
    return bool(getattr(value, "is_integer", False)) and bool(getattr(value, "is_number", False))


def is_number(value) -> bool:
    return isinstance(value, (int, Fraction)) or bool(getattr(value, "is_number", False))


def show(value) -> str:
    """A number as a person writes it: 3/2 as 1.5, 1/3 as 1/3, 12 as 12."""
    if isinstance(value, Fraction) and value.denominator != 1:
        denominator = value.denominator
        for prime in (2, 5):
            while denominator % prime == 0:
                denominator //= prime
        if denominator == 1:  # a terminating decimal
            digits = 0
            while (value * 10**digits).denominator != 1:
                digits += 1
            return f"{float(value):.{digits}f}" if digits <= 15 else str(value)
    return str(value)


def normalize(value):
    """Fractions that are whole become ints, so results are exact Python ints."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return int(value)
    return value


class Concrete:
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
        return normalize(Fraction(a) / Fraction(b))

    def floor_divide(self, a, b):
        return Fraction(a) // Fraction(b)

    def floor(self, value):
        return int(value // 1)

    def ceiling(self, value):
        return int(-((-value) // 1))

    def power(self, base, exponent):
        return normalize(Fraction(base) ** exponent)

    def maximum(self, a, b):
        return max(a, b)

    def add_all(self, terms):
        return normalize(sum(terms, 0))

    def equal(self, a, b) -> bool:
        return a == b

    def summation(self, term, index, lower, upper):
        raise AssertionError("concrete ranges are unrolled")


class Symbolic:
    """Arithmetic building SymPy expressions; names without a value become symbols."""

    symbolic = True

    def __init__(self):
        import sympy  # only here: a concrete count never pays for this import

        self.sp = sympy
        self._symbols: dict[str, Any] = {}
        self._bases: dict[str, Any] = {}

    def number(self, value):
        if isinstance(value, Fraction):
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
        return self.sp.Mul(a, self.sp.Pow(b, -1))

    def floor_divide(self, a, b):
        return self.sp.floor(self.divide(a, b))

    def floor(self, value):
        return self.sp.floor(value)

    def ceiling(self, value):
        return self.sp.ceiling(value)

    def power(self, base, exponent):
        return self.sp.Pow(base, exponent)

    def maximum(self, a, b):
        return self.sp.Max(a, b)

    def add_all(self, terms):
        # One Add of all the terms: linear, where a loop of `a + b` would be quadratic.
        return self.sp.Add(*terms)

    def equal(self, a, b) -> bool:
        difference = self.as_expr(a) - self.as_expr(b)
        return difference == 0 or self.sp.expand(difference) == 0

    def as_expr(self, value):
        return self.number(value) if isinstance(value, (int, Fraction)) else value

    def summation(self, term, index, lower, upper):
        if term == 0:
            return self.sp.Integer(0)
        if index not in getattr(term, "free_symbols", ()):
            return (upper - lower + 1) * term
        return self.sp.Sum(term, (index, lower, upper))

    def symbols(self) -> dict[str, Any]:
        return {**self._symbols, **self._bases}


def evaluate(expr, algebra, scope: Scope):
    """The value of a size expression."""
    if isinstance(expr, ast.Num):
        return algebra.number(expr.value)
    if isinstance(expr, ast.Ref):
        return _ref_value(expr, algebra, scope)
    if isinstance(expr, ast.Neg):
        return -evaluate(expr.operand, algebra, scope)
    if isinstance(expr, ast.BinOp):
        return _binary(expr, algebra, scope)
    if isinstance(expr, ast.Text):
        raise scope.error(f"expected a size, got the string {expr.value!r}", expr.span)
    if isinstance(expr, ast.Tuple):
        raise scope.error("expected a single size, got a tuple", expr.span)
    if isinstance(expr, (ast.Call, ast.Chain, ast.Named, ast.Repeat, ast.Ellipsis)):
        raise scope.error(f"expected a size here, not the layer '{ast.unparse(expr)}'", expr.span)
    raise TypeError(f"not a size expression: {expr!r}")


def _binary(expr: ast.BinOp, algebra, scope: Scope):
    left = evaluate(expr.left, algebra, scope)
    right = evaluate(expr.right, algebra, scope)
    if expr.op == "+":
        return left + right
    if expr.op == "-":
        return left - right
    if expr.op == "*":
        return left * right
    if expr.op in ("/", "//") and is_number(right) and right == 0:
        raise scope.error("division by zero", expr.span)
    if expr.op == "/":
        return algebra.divide(left, right)
    if expr.op == "//":
        return algebra.floor_divide(left, right)
    if is_number(right):
        if not is_integer(right):
            raise scope.error(f"the exponent must be a whole number, got {show(right)}", expr.right.span)
        if abs(int(right)) > MAX_EXPONENT or _too_many_bits(left, int(right)):
            raise scope.error("this power is too large to count", expr.span)
        if int(right) < 0 and is_number(left) and left == 0:
            raise scope.error("division by zero", expr.span)
    return algebra.power(left, right)


def _too_many_bits(base, exponent: int) -> bool:
    if not is_number(base) or exponent <= 0:
        return False
    magnitude = abs(Fraction(base))
    bits = max(magnitude.numerator.bit_length(), magnitude.denominator.bit_length())
    return bits * exponent > MAX_BITS


def _ref_value(ref: ast.Ref, algebra, scope: Scope):
    sizes = scope.sizes
    if ref.index is None:
        if ref.stem in scope.locals:
            return scope.locals[ref.stem]
        if ref.stem in sizes.scalars:
            scope.used.add(ref.stem)
            return algebra.number(sizes.scalars[ref.stem])
        if ref.stem in scope.layer_names:
            raise scope.error(f"expected a size here, not the layer '{ref.stem}'", ref.span)
        if ref.stem in sizes.sequences:
            count = len(sizes.sequences[ref.stem])
            raise scope.error(
                f"{ref.stem} is a sequence of {count} values; "
                f"write {ref.stem}_0 ... {ref.stem}_{count - 1} for its entries",
                ref.span,
            )
        return algebra.symbol(ref.stem)
    index = evaluate(ref.index, algebra, scope)
    if not is_number(index):
        if ref.stem in sizes.sequences:
            scope.used.add(ref.stem)
            scope.open_sequences.add(ref.stem)  # its length cannot be checked yet
        return algebra.indexed(ref.stem, index)
    if not is_integer(index) or index < 0:
        raise scope.error(f"the index of {ref.stem} must be a whole number >= 0, got {show(index)}", ref.span)
    return _entry(ref, int(index), algebra, scope)


def _entry(ref: ast.Ref, index: int, algebra, scope: Scope):
    sizes, stem = scope.sizes, ref.stem
    if (stem, index) in sizes.entries:
        scope.used.add(f"{stem}_{index}")
        return algebra.number(sizes.entries[(stem, index)])
    values = sizes.sequences.get(stem)
    if values is None and stem in sizes.scalars:
        values = (sizes.scalars[stem],)  # `--set h=5` for a network that indexes h
    if values is None:
        return algebra.indexed(stem, algebra.number(index))
    scope.used.add(stem)
    if index >= len(values):
        raise scope.error(
            f"{stem}_{index} has no value: {stem} has {len(values)} "
            f"value{'s' if len(values) != 1 else ''} ({stem}_0 ... {stem}_{len(values) - 1})",
            ref.span,
        )
    scope.highest_index[stem] = max(index, scope.highest_index.get(stem, -1))
    return algebra.number(values[index])


def constant(expr, source: str = ""):
    """A size expression that must not contain names (a --set value)."""
    scope = Scope(Sizes(), source)
    try:
        return evaluate(expr, Concrete(), scope)
    except NeedsSymbols as missing:
        raise SymparamError(
            f"a value must be a number, not an expression with the name '{missing}'",
            getattr(expr, "span", None),
            source,
        ) from None
