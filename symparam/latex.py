"""LaTeX as a paper writes it: h_{i - 1}, not {h}_{i - 1}; 2{,}099{,}712, not 2099712."""

from __future__ import annotations

from sympy import together
from sympy.printing.latex import LatexPrinter


class SymparamLatexPrinter(LatexPrinter):
    def _as_ordered_terms(self, expr, order=None):
        # n - k, not -k + n: subtracted terms after the others, as the text printer writes them
        terms = super()._as_ordered_terms(expr, order=order)
        return sorted(terms, key=lambda term: term.could_extract_minus_sign())

    def _print_Indexed(self, expr):
        indices = ", ".join(self._print(index) for index in expr.indices)
        return f"{self._print(expr.base.label)}_{{{indices}}}"

    def _print_floor(self, expr, exp=None):
        # ⌊(n − k)/s⌋ as the text printer writes it, not ⌊n/s − k/s⌋
        return super()._print_floor(expr.func(together(expr.args[0]), evaluate=False), exp)

    def _print_ceiling(self, expr, exp=None):
        return super()._print_ceiling(expr.func(together(expr.args[0]), evaluate=False), exp)

    def _print_Integer(self, expr):
        # Grouped as a concrete count is (values.latex), so the two never disagree.
        return f"{int(expr):,}".replace(",", "{,}")


def to_latex(expr) -> str:
    return SymparamLatexPrinter().doprint(expr)
