"""Questions about a count: how wide within a budget (solve), how it grows (leading term,
big-O), and how many bytes its weights take."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fractions import Fraction

from .errors import SymparamError
from .values import number

BYTES_PER_PARAM = {"fp64": 8, "fp32": 4, "tf32": 4, "fp16": 2, "bf16": 2, "int8": 1}
BINARY_UNITS = (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10))


# ------------------------------------------------------------------ memory


def weight_bytes(total, dtype: str):
    """The exact number of bytes the parameters take in `dtype` (int, or SymPy)."""
    if dtype not in BYTES_PER_PARAM:
        raise SymparamError(f"unknown dtype '{dtype}': one of {', '.join(BYTES_PER_PARAM)}")
    return BYTES_PER_PARAM[dtype] * total


def binary_size(size: int) -> str:
    """237.4 MiB, as a person reads a size; exact integer arithmetic at any size."""
    for unit, scale in BINARY_UNITS:
        if size >= scale:
            tenths = round(Fraction(size * 10, scale))  # half to even, as format() does
            return f"{number(tenths // 10)}.{tenths % 10} {unit}"
    return f"{size} B"


# ------------------------------------------------------------------ asymptotics


def _symbol(network, name: str):
    symbol = network.symbols.get(name)
    if symbol is None:
        free = ", ".join(sorted(network.free_names())) or "none"
        raise SymparamError(f"the count has no free size '{name}' (its free sizes: {free})")
    return symbol


def leading_term(network, name: str):
    """The term that dominates as `name` grows: GPT-2's count -> 12·L·d² for d."""
    import sympy

    variable = _symbol(network, name)
    total = _asymptotic(network.total, variable)
    if not total.has(variable):
        return total
    expanded = sympy.expand(total)
    try:
        poly = sympy.Poly(expanded, variable)
    except sympy.PolynomialError:
        return _dominant(expanded, variable)
    degree = poly.degree()
    return sympy.factor_terms(poly.coeff_monomial(variable**degree) * variable**degree)


def _dominant(expr, variable):
    import sympy

    terms = sympy.Add.make_args(expr)
    best = terms[0]
    for term in terms[1:]:
        ratio = sympy.limit(term / best, variable, sympy.oo)
        if ratio in (sympy.oo, -sympy.oo):
            best = term
        elif ratio.is_finite and ratio != 0:
            best = best + term
    return best


def big_o(network, name: str):
    """O(leading term) as `name` -> ∞, without its constant factors."""
    import sympy

    variable = _symbol(network, name)
    return sympy.O(leading_term(network, name), (variable, sympy.oo))


def _asymptotic(total, variable):
    """floor(x) and ceiling(x) grow as x does when x grows with the variable: drop those
    (a floor of other sizes only stays exact), and do any finite sums."""
    import sympy

    def rounds_the_variable(expr):
        return isinstance(expr, (sympy.floor, sympy.ceiling)) and expr.has(variable)

    total = total.replace(rounds_the_variable, lambda expr: expr.args[0])
    return total.doit() if total.has(sympy.Sum) else total


# ------------------------------------------------------------------ solve


@dataclass(frozen=True)
class Solution:
    name: str
    budget: int
    value: int | None  # the largest whole value within the budget
    root: Any  # where the count equals the budget exactly (SymPy), when it can be said
    count_at_value: int | None

    def __str__(self) -> str:
        if self.value is None:
            return f"no whole {self.name} >= 1 keeps the count within {number(self.budget)}"
        text = (
            f"{self.name} = {self.value}: {number(self.count_at_value)} params, "
            f"within {number(self.budget)}"
        )
        return text + (f"; exact root {self.name} = {self.root}" if self.root is not None else "")

    __repr__ = __str__

    def _repr_html_(self) -> str:
        from .display import solution_html

        return solution_html(self)


def solve(network, name: str, budget: int) -> Solution:
    """The largest whole `name` whose count stays within `budget`, and the exact root."""
    variable = _symbol(network, name)
    others = network.free_names() - {name}
    if others:
        raise SymparamError(
            f"give the other sizes with --set: {', '.join(sorted(others))} "
            f"(only '{name}' may stay free)"
        )
    if budget < 0:
        raise SymparamError("the budget must not be negative")

    def count(value: int) -> int | None:
        try:
            return network.evaluate(**{name: value})
        except SymparamError:
            return None  # e.g. a kernel larger than the input at this size

    value = _largest_within(count, budget)
    root = _root(network.total, variable, budget)
    return Solution(name, budget, value, root, count(value) if value is not None else None)


def _largest_within(count, budget: int) -> int | None:
    """Binary search for the largest v >= 1 with count(v) <= budget (counts grow with v)."""
    first = count(1)
    if first is None or first > budget:
        return None
    low, high = 1, 2
    while True:
        value = count(high)
        if value is None or value > budget:
            break
        low, high = high, high * 2
        if high > 2**256:
            raise SymparamError("the count does not grow with this size: any value fits")
    while high - low > 1:
        middle = (low + high) // 2
        value = count(middle)
        if value is not None and value <= budget:
            low = middle
        else:
            high = middle
    return low


def _root(total, variable, budget: int):
    """The largest positive real root of count = budget, exactly, when SymPy finds one."""
    import sympy

    if total.has(sympy.floor, sympy.ceiling, sympy.Sum, sympy.Max):
        return None
    real = sympy.Symbol(variable.name, positive=True)  # sizes are integers; roots need not be
    try:
        roots = sympy.solve(sympy.Eq(total.subs(variable, real), budget), real)
    except (NotImplementedError, sympy.PolynomialError):
        return None
    real = [root for root in roots if root.is_real and root.is_positive]
    return max(real, key=lambda root: sympy.N(root)) if real else None
