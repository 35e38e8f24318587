"""Formulas as people write them, on one line: 12·d², h_{i−1}, Σ_{i=1}^{l} h_i, ⌊d/2⌋.

Two printers built on SymPy's string printer: `Readable` (Unicode) and `Ascii` (the
same forms in ASCII: 12*d^2, h_{i-1}, sum_{i=1}^{l} h_i, floor(d/2)). `arranged` puts a
formula in the one form every command shows: expanded, like terms together, repetition
counts factored out. Imported only for a symbolic value: it imports SymPy.
"""

from __future__ import annotations

import sympy
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


class Readable(StrPrinter):
    """One-line mathematical notation in Unicode."""

    printmethod = "_symparam_print"  # not _sympystr: Indexed's own would print h[i - 1]
    times = "·"
    minus = "−"
    sum_sign = "Σ"
    floor_marks, ceiling_marks = ("⌊", "⌋"), ("⌈", "⌉")
    _spaced = True  # spaces around + and −; none inside a subscript (i−1)

    def _print_Symbol(self, expr):
        return expr.name

    def _print_Integer(self, expr):
        return self.minus + str(-expr.p) if expr.p < 0 else str(expr.p)

    def _print_Rational(self, expr):
        sign = self.minus if expr.p < 0 else ""
        return f"{sign}{abs(expr.p)}/{expr.q}"

    def _compact(self, expr) -> str:
        """An index or a bound as written in a subscript: i−1, not i − 1."""
        spaced, self._spaced = self._spaced, False
        try:
            return self._print(expr)
        finally:
            self._spaced = spaced

    def _print_Indexed(self, expr):
        indices = ",".join(self._compact(index) for index in expr.indices)
        subscript = indices if len(indices) == 1 else "{" + indices + "}"
        return f"{self._print(expr.base.label)}_{subscript}"

    def _print_Add(self, expr, order=None):
        terms = self._as_ordered_terms(expr, order=order)
        # n − k, not −k + n: the subtracted terms after the others
        terms.sort(key=lambda term: term.could_extract_minus_sign())
        parts = []
        for term in terms:
            sign = self.minus if term.could_extract_minus_sign() else "+"
            magnitude = -term if sign == self.minus else term
            text = self._print(magnitude)
            if precedence(magnitude) <= PRECEDENCE["Add"]:
                text = f"({text})"
            parts += [sign, text]
        sign, *rest = parts
        return ("" if sign == "+" else sign) + (" " if self._spaced else "").join(rest)

    def _print_Mul(self, expr):
        coefficient, _ = expr.as_coeff_Mul()
        if coefficient < 0:
            return self.minus + self.parenthesize(-expr, PRECEDENCE["Mul"], strict=False)
        numerator, denominator = [], []
        for factor in expr.as_ordered_factors():
            if factor.is_Rational:
                numerator += [sympy.Integer(factor.p)] if factor.p != 1 else []
                denominator += [sympy.Integer(factor.q)] if factor.q != 1 else []
            elif factor.is_Pow and factor.exp.is_negative:
                denominator.append(sympy.Pow(factor.base, -factor.exp))
            else:
                numerator.append(factor)
        top = self._product(numerator) if numerator else "1"
        if not denominator:
            return top
        bottom = self._product(denominator)
        return f"{top}/{bottom}" if len(denominator) == 1 else f"{top}/({bottom})"

    def _product(self, factors) -> str:
        """Factors joined by the product sign; a sum, or a Σ that is not last, in brackets."""
        texts = []
        for position, factor in enumerate(factors):
            text = self.parenthesize(factor, PRECEDENCE["Mul"], strict=False)
            if isinstance(factor, sympy.Sum) and position < len(factors) - 1:
                text = f"({text})"
            texts.append(text)
        return self.times.join(texts)

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.base, expr.exp
        if exponent.is_negative:
            return self._print_Mul(sympy.Mul(1, expr, evaluate=False))
        if exponent == sympy.S.Half:
            return self._root(self._print(base))
        base_text = self.parenthesize(base, PRECEDENCE["Pow"], strict=True)
        if isinstance(base, sympy.Sum):
            base_text = f"({base_text})"
        return base_text + self._power(exponent)

    def _power(self, exponent) -> str:
        if exponent.is_Integer:
            return str(exponent).translate(_SUPERSCRIPT)
        return "^" + self.parenthesize(exponent, PRECEDENCE["Atom"], strict=True)

    def _root(self, radicand: str) -> str:
        return f"√({radicand})" if not radicand.isalnum() else f"√{radicand}"

    def _print_Order(self, expr):
        return f"O({self._print(expr.expr)})"  # the line says which size grows

    def _print_Sum(self, expr):
        body = self._print(expr.function)
        if precedence(expr.function) <= PRECEDENCE["Add"]:
            body = f"({body})"
        bounds = "".join(
            f"{self.sum_sign}_{{{self._compact(index)}={self._compact(lower)}}}^{{{self._compact(upper)}}} "
            for index, lower, upper in reversed(expr.limits)
        )
        return bounds + body

    def _rounded(self, expr, marks) -> str:
        """⌊(n − k)/s⌋: the quotient over one denominator, between the marks."""
        opening, closing = marks
        return f"{opening}{self._print(sympy.together(expr.args[0]))}{closing}"

    def _print_floor(self, expr):
        return self._rounded(expr, self.floor_marks)

    def _print_ceiling(self, expr):
        return self._rounded(expr, self.ceiling_marks)

    def _called(self, name: str, expr) -> str:
        return f"{name}(" + ", ".join(self._print(arg) for arg in expr.args) + ")"

    def _print_Max(self, expr):
        return self._called("max", expr)

    def _print_Min(self, expr):
        return self._called("min", expr)


class Ascii(Readable):
    """The same notation in plain ASCII, for terminals and files that need it."""

    times = "*"
    minus = "-"
    sum_sign = "sum"
    floor_marks, ceiling_marks = ("floor(", ")"), ("ceil(", ")")

    def _power(self, exponent) -> str:
        return "^" + self.parenthesize(exponent, PRECEDENCE["Atom"], strict=True)

    def _root(self, radicand: str) -> str:
        return f"sqrt({radicand})"


def arranged(expr, counts=()):
    """The display form: products of sums expanded and like terms added, then collected
    by the repetition counts, outermost first: L·(12·d² + 13·d) + V·d. A power of a sum
    stays as it is: (n − k + 1)² reads better than its terms, and (a + b)^4096 would
    never end."""
    if not isinstance(expr, sympy.Expr) or expr.is_Number:
        return expr
    units = _units(expr)
    expanded = sympy.expand(expr.xreplace(units), multinomial=False)
    expanded = expanded.xreplace({unit: _arranged_unit(part) for part, unit in units.items()})
    return _collected(expanded, [count for count in counts if count in expr.free_symbols])


def _units(expr) -> dict:
    """The parts kept whole while the rest is expanded, each as one unknown: a Σ (SymPy
    would split Σ (h_i + 1) into Σ h_i + Σ 1), and a sum holding a floor or a ceiling that
    multiplies something ((⌊(n − k)/s⌋ + 1)² reads better than its three terms)."""
    units = {}
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Sum):
            units.setdefault(node, sympy.Dummy(positive=True))
        elif node.is_Mul or node.is_Pow:
            for arg in node.args:
                if arg.is_Add and arg.has(sympy.floor, sympy.ceiling) and arg not in units:
                    units[arg] = sympy.Dummy(positive=True)
    return units


def _arranged_unit(part):
    if isinstance(part, sympy.Sum):
        return sympy.Sum(arranged(part.function), *part.limits)
    return part


def _collected(expr, counts):
    if not counts:
        return expr
    first, rest = counts[0], counts[1:]
    if first not in expr.free_symbols:
        return _collected(expr, rest)
    parts = sympy.collect(expr, first, evaluate=False)
    return sympy.Add(*(key * _collected(part, rest) for key, part in parts.items()))


READABLE = Readable(settings={"order": None})
ASCII = Ascii(settings={"order": None})


def readable(expr, ascii: bool = False, counts=(), arrange: bool = True) -> str:
    """The formula in one-line notation, in its display form (or, arrange=False, as
    it was built: C·k²·(H + 1 − k)·(W + 1 − k), its factors kept)."""
    return (ASCII if ascii else READABLE).doprint(arranged(expr, counts) if arrange else expr)
