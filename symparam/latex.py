"""LaTeX as a paper writes it: h_{i - 1}, not {h}_{i - 1}."""

from __future__ import annotations

from sympy.printing.latex import LatexPrinter


class SymparamLatexPrinter(LatexPrinter):
    def _print_Indexed(self, expr):
        indices = ", ".join(self._print(index) for index in expr.indices)
        return f"{self._print(expr.base.label)}_{{{indices}}}"


def to_latex(expr) -> str:
    return SymparamLatexPrinter().doprint(expr)
