"""Size expressions -> values, in either arithmetic of algebra.py; the sizes given."""

from __future__ import annotations

from typing import Any

from .exact import fraction
from . import ast
from .algebra import Concrete, NeedsSymbols, is_integer, is_number
from .errors import SymparamError
from .limits import MAX_DIGITS, MAX_EXPONENT
from .values import show

# A power's result of at most MAX_DIGITS digits, in bits (log2(10) < 3.33)
MAX_BITS = MAX_DIGITS * 333 // 100


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


def evaluate(expr, algebra, scope: Scope):
    """The value of a size expression."""
    match expr:
        case ast.Num(value):
            return algebra.number(value)
        case ast.Ref():
            return _ref_value(expr, algebra, scope)
        case ast.Neg(operand):
            return -evaluate(operand, algebra, scope)
        case ast.BinOp():
            return _binary(expr, algebra, scope)
        case ast.Text(value, span):
            raise scope.error(f"expected a size, got the string {value!r}", span)
        case ast.Tuple(_, span):
            raise scope.error("expected a single size, got a tuple", span)
        case ast.Call() | ast.Chain() | ast.Named() | ast.Repeat() | ast.Ellipsis():
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
        if _bits(left) + _bits(right) > MAX_BITS:  # 10^4096 * 10^4096 * ... would not end
            raise scope.error(f"this product has more than {MAX_DIGITS:,} digits, symparam's limit",
                              expr.span)
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
        if abs(int(right)) > MAX_EXPONENT:
            raise scope.error(f"an exponent is at most {MAX_EXPONENT:,}, symparam's limit", expr.span)
        if _too_many_bits(left, int(right)):
            raise scope.error(f"this power has more than {MAX_DIGITS:,} digits, symparam's limit",
                              expr.span)
        if int(right) < 0 and is_number(left) and left == 0:
            raise scope.error("division by zero", expr.span)
    return algebra.power(left, right)


def _too_many_bits(base, exponent: int) -> bool:
    return exponent > 0 and _bits(base) * exponent > MAX_BITS


def _bits(value) -> int:
    """The size of a number in bits (of its numerator or denominator); 0 for a formula."""
    if type(value) is int:
        return value.bit_length()
    if not is_number(value):
        return 0
    magnitude = abs(fraction(value))
    return max(magnitude.numerator.bit_length(), magnitude.denominator.bit_length())


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


# ------------------------------------------------------------------ inferring lengths


def infer_lengths(network: ast.Network, sizes: Sizes) -> Sizes:
    """`h=784,16,16,10` for a network ending in h_l: l is 3. Solves index expressions
    that are linear in one unbound name (l, L-1, 2*n + 1, ...) for the last index."""
    inferred: dict[str, int] = {}
    for name, (stem, c0, c1) in length_relations(network, sizes).items():
        values = sizes.sequences[stem]
        solution = (len(values) - 1 - c0) / c1
        if solution.denominator != 1 or solution < 1:
            raise SymparamError(
                f"{stem} has {len(values)} values, which no whole value of {name} fits"
            )
        inferred[name] = int(solution)
    if not inferred:
        return sizes
    return sizes.merged(Sizes(scalars=inferred))


def length_relations(network: ast.Network, sizes: Sizes) -> dict[str, tuple]:
    """The names a sequence's length gives: {name: (stem, c0, c1)} when the network's
    last index of stem is c0 + c1·name, so that name = (len(stem) − 1 − c0) / c1."""
    relations: dict[str, tuple] = {}
    for stem in sizes.sequences:
        candidates = []
        for ref in ast.walk_refs(network.chain):
            if ref.stem != stem or ref.index is None:
                continue
            line = _linear_in_one_name(ref.index, sizes)
            if line is not None:
                candidates.append(line)
        if not candidates:
            continue
        name, c0, c1 = max(candidates, key=lambda line: (line[2], line[1]))
        if name not in relations:
            relations[name] = (stem, c0, c1)
    return relations


def _linear_in_one_name(expr, sizes: Sizes):
    """(name, c0, c1) when expr = c0 + c1·name for its only unbound name, else None."""
    unbound = {
        ref.stem
        for ref in ast.walk_refs(expr)
        if ref.index is None and ref.stem not in sizes.scalars
    }
    if len(unbound) != 1:
        return None
    (name,) = unbound
    values = []
    for x in (0, 1, 2):
        scope = Scope(sizes.merged(Sizes(scalars={name: x})))
        try:
            values.append(fraction(evaluate(expr, Concrete(), scope)))
        except (NeedsSymbols, SymparamError, ZeroDivisionError):
            return None
    c0, c1 = values[0], values[1] - values[0]
    if c1 <= 0 or values[2] != c0 + 2 * c1:
        return None
    return name, c0, c1
