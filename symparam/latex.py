"""LaTeX as a paper writes it: h_{i - 1}, not {h}_{i - 1}; 2{,}099{,}712, not 2099712."""

from __future__ import annotations

from sympy.printing.latex import LatexPrinter


class SymparamLatexPrinter(LatexPrinter):
    def _print_Indexed(self, expr):
        indices = ", ".join(self._print(index) for index in expr.indices)
        return f"{self._print(expr.base.label)}_{{{indices}}}"

    def _print_Integer(self, expr):
        # Grouped as a concrete count is (values.latex), so the two never disagree.
        return f"{int(expr):,}".replace(",", "{,}")


def to_latex(expr) -> str:
    return SymparamLatexPrinter().doprint(expr)
