"""Questions about a count: how wide within a budget (solve), how it grows (leading term,
big-O), and how many bytes its weights take."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fractions import Fraction

from .dtypes import bytes_per_param
from .errors import SymparamError
from .values import is_concrete, number

BINARY_UNITS = (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10))


# ------------------------------------------------------------------ memory


def weight_bytes(total, dtype: str):
    """The exact number of bytes the parameters take in `dtype` (int, or SymPy)."""
    return bytes_per_param(dtype) * total


def binary_size(size: int) -> str:
    """237.4 MiB, as a person reads a size; exact integer arithmetic at any size."""
    for unit, scale in BINARY_UNITS:
        if size >= scale:
            tenths = round(Fraction(size * 10, scale))  # half to even, as format() does
            return f"{number(tenths // 10)}.{tenths % 10} {unit}"
    return f"{size} B"


# ------------------------------------------------------------------ asymptotics

# The leading term expands the count: a count whose expansion could hold more than this
# many terms is refused before expanding it. The estimate is an upper bound computed on
# the formula as written (a power of a sum of t terms to the k has at most
# C(k + t - 1, t - 1) terms): (d + e + f + g)^12 has at most 455 terms and passes,
# (d + e + f + g)^60 could have 39,711 and is refused. Under a second at the limit.
MAX_EXPANDED_TERMS = 1_000


class Assumed:
    """A result that holds under an assumption, said in words beside it: the leading term
    of Σ h_{i-1}·h_i as l grows, when every h_i = h. `expr` is the SymPy expression,
    `assumption` the words ("every h_i = h"); both print together."""

    def __init__(self, expr, assumption: str, latex_assumption: str):
        self.expr = expr
        self.assumption = assumption
        self.latex_assumption = latex_assumption

    def __str__(self) -> str:
        from .values import text

        return f"{text(self.expr)}, assuming {self.assumption}"

    __repr__ = __str__

    def _sympystr(self, printer) -> str:
        return f"{printer._print(self.expr)}, assuming {self.assumption}"

    _symparam_print = _sympystr  # symparam's own printers (printing.py)

    def _latex(self, printer) -> str:
        return rf"{printer._print(self.expr)} \quad \text{{assuming }} {self.latex_assumption}"

    def __eq__(self, other) -> bool:
        if not isinstance(other, Assumed):
            return NotImplemented
        return (self.expr, self.assumption) == (other.expr, other.assumption)

    __hash__ = None


def _symbol(network, name: str):
    symbol = network.symbols.get(name)
    if symbol is None:
        free = ", ".join(sorted(network.free_names())) or "none"
        raise SymparamError(f"the count has no free size '{name}' (its free sizes: {free})")
    return symbol


def leading_term(network, name: str, total=None):
    """The term that dominates as `name` grows: GPT-2's count -> 12·L·d² for d; of
    `total` when given (another formula of the network's sizes: its compute), else of
    the count.

    A general count, Σ h_{i-1}·h_i + Σ h_i over i = 1..l, grows with l as the unknown
    h_i allow: its leading term is given when every h_i = h (an `Assumed`, which says
    so). Growing a sequence (`h`) means every h_i = h growing together. A count whose
    expansion could hold more than MAX_EXPANDED_TERMS terms is refused before expanding.
    """
    variable, total, assumed = _growth_setting(network, name, total)
    term = _leading(total, variable, name)
    return Assumed(term, *assumed) if assumed else term


def leading_terms(network, name: str, figures_of) -> dict:
    """{key: (label, its leading term as `name` grows)} for the formulas that
    `figures_of(network)` gives as {key: (label, value)} (a command's figures). A size
    given a value (--set d=12288) is let go to find each term, then given its value
    again: GPT-3's 6·N·D with N = 12·L·d² at d = 12288."""
    from .sizes import Sizes

    value = network.sizes.scalars.get(name)
    general = network
    if value is not None:
        others = {key: size for key, size in network.sizes.scalars.items() if key != name}
        sizes = Sizes(others, network.sizes.entries, network.sizes.sequences)
        general = type(network).count(network.syntax, sizes, network.convention)
    out = {}
    for key, (label, formula) in figures_of(general).items():
        if formula is not None and not (is_concrete(formula) or isinstance(formula, int)):
            formula = leading_term(general, name, formula)
            if value is not None:
                formula = formula.subs(general.symbols[name], value)
        out[key] = (label, formula)
    return out


def _leading(total, variable, name: str):
    import sympy

    total = _asymptotic(total, variable)
    if not total.has(variable):
        return total
    _check_expansion(total, name)
    try:
        expanded = sympy.expand(total)
        top = _top_power(expanded, variable)
        if top is None:  # not a polynomial in the variable
            return _dominant(expanded, variable)
    except (NotImplementedError, sympy.PolynomialError) as error:
        raise SymparamError(
            f"SymPy cannot say how the count grows with {name}: {str(error).splitlines()[0]}"
        ) from None
    degree, coefficient = top
    return sympy.factor_terms(sympy.together(coefficient) * variable**degree)


def _top_power(expanded, variable):
    """(degree, coefficient of variable^degree) of an expanded polynomial in the variable,
    term by term (a Poly over the other sizes costs ten times more); None when some term
    is not c·variable^k for a whole k >= 0."""
    import sympy

    degree, coefficients = -1, []
    for term in sympy.Add.make_args(expanded):
        coefficient, power = term.as_coeff_exponent(variable)
        if coefficient.has(variable) or not (power.is_Integer and power >= 0):
            return None
        if power > degree:
            degree, coefficients = int(power), [coefficient]
        elif power == degree:
            coefficients.append(coefficient)
    return degree, sympy.Add(*coefficients)


def _growth_setting(network, name: str, total=None):
    """(the variable, the total to study, (assumption, in LaTeX) or None).

    Sums whose ends hold `name`, and sequences such as h when `name` is h, are studied
    with every member of each sequence equal: Σ h_{i-1}·h_i over i = 1..l is l·h²."""
    import sympy

    variable = _symbol(network, name)
    total = network.total if total is None else total
    is_sequence = isinstance(variable, sympy.IndexedBase)
    if not is_sequence:
        total = total.doit()
        try:  # the variable in a summand only: k²·Σ c_{i-1}·c_i, no assumption needed
            total = total.replace(
                lambda e: isinstance(e, sympy.Sum) and e.has(variable) and not _in_limits(e, variable),
                lambda e: _split_sum(e, variable),
            )
        except sympy.PolynomialError:
            pass
        if not any(s.has(variable) for s in total.atoms(sympy.Sum)):
            return variable, total, None
    sequences = sorted({indexed.base for indexed in total.atoms(sympy.Indexed)}, key=str)
    if is_sequence and variable not in sequences:
        raise SymparamError(f"the count has no sizes {name}_i")
    plain = {base: sympy.Symbol(str(base.label), integer=True, positive=True) for base in sequences}
    uniform = total.replace(lambda e: isinstance(e, sympy.Indexed), lambda e: plain[e.base])
    uniform = uniform.doit()
    left = uniform.atoms(sympy.Sum)
    if left:
        raise SymparamError(
            f"the growth in {name} depends on the sizes in {sorted(left, key=str)[0]}, which "
            "SymPy cannot sum in closed form; set them with --set or write the layers out"
        )
    if not sequences:  # sums of known terms, done above
        return variable, uniform, None
    words = " and ".join(f"every {base}_i = {base}" for base in sequences)
    latex = r" \text{ and } ".join(f"{base}_{{i}} = {base}" for base in sequences)
    latex += r" \text{ for all } i"
    return plain.get(variable, variable), uniform, (words, latex)


def _in_limits(sum_, variable) -> bool:
    return any(bound.has(variable) for limit in sum_.limits for bound in limit[1:])


def _split_sum(sum_, variable):
    """Σ f over i, with the variable in f only, as Σ_m variable^m · Σ (coefficient of
    variable^m in f): Σ k²·c_{i-1}·c_i is k²·Σ c_{i-1}·c_i."""
    import sympy

    _check_expansion(sum_.function, str(variable))
    poly = sympy.Poly(sympy.expand(sum_.function), variable)
    return sympy.Add(*(
        variable**power * sympy.Sum(coefficient, *sum_.limits)
        for (power,), coefficient in poly.terms()
    ))


def _check_expansion(total, name: str) -> None:
    terms = _terms_bound(total, MAX_EXPANDED_TERMS)
    if terms > MAX_EXPANDED_TERMS:
        raise SymparamError(
            f"the count is too large to expand for its growth in {name}: it could have more "
            f"than {MAX_EXPANDED_TERMS:,} terms (the limit); give some sizes with --set"
        )


def _terms_bound(expr, limit: int) -> int:
    """An upper bound on the number of terms of expand(expr), or limit + 1 once past
    `limit`. Only walks the formula: nothing is expanded."""
    if expr.is_Add:
        return min(limit + 1, sum(_terms_bound(arg, limit) for arg in expr.args))
    if expr.is_Mul:
        product = 1
        for arg in expr.args:
            product = min(limit + 1, product * _terms_bound(arg, limit))
        return product
    if expr.is_Pow:
        base = _terms_bound(expr.base, limit)
        if expr.exp.is_Integer and expr.exp > 1 and base > 1:
            return _multisets(int(expr.exp), base, limit)
        _terms_bound(expr.exp, limit)
        return base
    for arg in expr.args:  # expand() also expands inside floor(...), Sum(...), ...
        if _terms_bound(arg, limit) > limit:
            return limit + 1
    return 1


def _multisets(k: int, t: int, limit: int) -> int:
    """C(k + t - 1, t - 1), the monomials of (a sum of t terms)^k, or limit + 1 once past
    `limit`: built up as C(n, j) for j = 1, 2, ..., which only grows for j <= n/2."""
    n, j_max = k + t - 1, min(k, t - 1)
    value = 1
    for j in range(1, j_max + 1):
        value = value * (n - j + 1) // j
        if value > limit:
            return limit + 1
    return value


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
    """O(leading term) as `name` -> ∞, without its constant factors (an `Assumed` when
    the leading term is)."""
    import sympy

    term = leading_term(network, name)
    if isinstance(term, Assumed):
        variable = _growth_variable(term.expr, name)
        return Assumed(sympy.O(term.expr, (variable, sympy.oo)), term.assumption, term.latex_assumption)
    return sympy.O(term, (_symbol(network, name), sympy.oo))


def _growth_variable(expr, name: str):
    import sympy

    for symbol in expr.free_symbols:
        if symbol.name == name:
            return symbol
    return sympy.Symbol(name, integer=True, positive=True)


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
        if self.root is None:
            return text
        from .values import text as formula

        return text + f"; exact root {self.name} = {formula(self.root)}"

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

    value = None
    start = _first_valid(count)
    if start is not None:
        step = _step(count, start)
        # the search runs over the values the network takes: start, start + step, ...
        largest = _largest_within(lambda j: count(start + (j - 1) * step), budget,
                                  _search_bits(network.total, budget), name)
        value = None if largest is None else start + (largest - 1) * step
    root = _root(network.total, variable, budget)
    return Solution(name, budget, value, root, count(value) if value is not None else None)


# How far solve looks for the first value a network takes, and for the next one: a size
# that heads or groups must divide (d = 768 for 12 heads) takes every H-th value only.
VALID_SCAN = 4096


def _first_valid(count) -> int | None:
    """The smallest value >= 1 the network takes (a kernel larger than the input refuses
    the small ones), within VALID_SCAN."""
    return next((value for value in range(1, VALID_SCAN + 1) if count(value) is not None), None)


def _step(count, start: int) -> int:
    """How far apart the values the network takes are, from the first two: 1, or the
    number that must divide the size. A network that takes no second value within
    VALID_SCAN is searched step by step (the search then stops at the first)."""
    return next((step for step in range(1, VALID_SCAN + 1) if count(start + step) is not None), 1)


# The exact root of count = budget is sought only when the count has degree at most this
# in the size (a bound read off the formula, nothing expanded): up to 4 a root has a
# closed form in radicals; beyond, SymPy gives an implicit CRootOf after seconds to
# minutes (degree 16: 20 s; h^4096: never). The whole value is found at any degree.
MAX_ROOT_DEGREE = 4


def _search_bits(total, budget: int) -> int:
    """How far the search for the largest value goes before saying that the count does
    not grow: 2^bits, for bits = the budget's bits + 2 + the bits of every number in the
    formula. A count is built of whole numbers, sums, products, powers, and floors and
    ceilings of quotients by those numbers; one that grows with the size at all grows at
    least as fast as the size over the product of its numbers, so it passes the budget
    before then. (A heuristic guard, not a proof for every formula: it only stops a
    count that does not grow from doubling forever, and costs one step per bit.) Exact
    integers: no other cap (--total 10^1000 on a dense layer finds h ~ 10^997)."""
    bits = budget.bit_length() + 2
    for atom in total.atoms():
        if getattr(atom, "is_Rational", False):
            bits += abs(int(atom.p)).bit_length() + int(atom.q).bit_length()
    return bits


def _largest_within(count, budget: int, bits: int, name: str) -> int | None:
    """The largest v >= 1 with count(v) <= budget (counts grow with v): doubling until the
    count passes the budget, then halving the bracket, in exact integers."""
    first = count(1)
    if first is None or first > budget:
        return None
    low, high = 1, 2
    while True:
        value = count(high)
        if value is None or value > budget:
            break
        if high.bit_length() > bits:
            raise SymparamError(
                f"the count does not grow past the budget with {name}: it stays within "
                f"{number(budget)} for {name} = 2^{high.bit_length() - 1}, far past where a "
                "growing count would exceed it"
            )
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        value = count(middle)
        if value is not None and value <= budget:
            low = middle
        else:
            high = middle
    return low


def _degree_bound(expr, variable) -> int | None:
    """An upper bound on the degree of expr in the variable, read off the formula without
    expanding it; None when expr is not a polynomial in it as written."""
    if not expr.has(variable):
        return 0
    if expr == variable:
        return 1
    if expr.is_Add:
        degrees = [_degree_bound(arg, variable) for arg in expr.args]
        return None if None in degrees else max(degrees)
    if expr.is_Mul:
        degrees = [_degree_bound(arg, variable) for arg in expr.args]
        return None if None in degrees else sum(degrees)
    if expr.is_Pow and expr.exp.is_Integer and expr.exp >= 0 and not expr.exp.has(variable):
        degree = _degree_bound(expr.base, variable)
        return None if degree is None else degree * int(expr.exp)
    return None


def _root(total, variable, budget: int):
    """The largest positive real root of count = budget, exactly, when SymPy finds one
    (degree at most MAX_ROOT_DEGREE in the size)."""
    import sympy

    if total.has(sympy.floor, sympy.ceiling, sympy.Sum, sympy.Max):
        return None
    degree = _degree_bound(total, variable)
    if degree is None or degree > MAX_ROOT_DEGREE:
        return None
    real = sympy.Symbol(variable.name, positive=True)  # sizes are integers; roots need not be
    try:
        roots = sympy.solve(sympy.Eq(total.subs(variable, real), budget), real)
    except (NotImplementedError, sympy.PolynomialError):
        return None
    real = [root for root in roots if root.is_real and root.is_positive]
    return max(real, key=lambda root: sympy.N(root)) if real else None
