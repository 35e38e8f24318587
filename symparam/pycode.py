"""Sizes as Python source, for exported models: `4 * d`, `h[i - 1]`, `(63 * k + 32) // 2`.

A size is an int or a SymPy expression in the names of the model; the code keeps whole
numbers whole (a half is written with //, which is exact where the count was). `Code`
also records which names a class's code reads, so that they become its constructor's
arguments.
"""

from __future__ import annotations

import keyword

import sympy

RESERVED = ("self", "torch", "nn", "math", "x")


def python_name(name: str) -> str:
    """A name as a Python identifier: `lambda` -> lambda_."""
    name = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name)
    return f"{name}_" if keyword.iskeyword(name) or name in RESERVED else name


class Code:
    """Python text for values, with the names it reads, in order of first use."""

    def __init__(self):
        self.used: list[str] = []
        self.bound: list[str] = []  # loop indices: read, but not arguments

    def bind(self, symbol) -> None:
        self.bound.append(python_name(str(symbol)))

    def unbind(self, symbol) -> None:
        self.bound.remove(python_name(str(symbol)))

    def use(self, name: str) -> str:
        if name not in self.bound and name not in self.used:
            self.used.append(name)
        return name

    def arguments(self) -> list[str]:
        return list(self.used)

    def value(self, value) -> str:
        """Any bound argument: a size, a flag, a word, a tuple of them, None."""
        if value is None or isinstance(value, bool):
            return str(value)
        if isinstance(value, str):
            return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(value, (tuple, list)):
            items = [self.value(item) for item in value]
            return f"({', '.join(items)}{',' if len(items) == 1 else ''})"
        return self.expr(value)

    def real(self, value) -> str:
        """A rate, slope or factor as Python writes a float: 0.1, not the size 1 // 10."""
        if isinstance(value, (int, float)) or getattr(value, "is_Number", False) or hasattr(value, "denominator"):
            return repr(float(value))
        return self.expr(value)

    def expr(self, value) -> str:
        if isinstance(value, int):
            return str(value)
        if not isinstance(value, sympy.Basic):  # a Fraction from the concrete path
            value = sympy.Rational(value.numerator, value.denominator)
        if value.is_Integer:
            return str(int(value))
        numerator, denominator = sympy.fraction(sympy.together(value))
        if denominator != 1:  # exact where the count is: its layers checked that it divides
            return f"{self._term(sympy.expand(numerator), 1)} // {self._term(denominator, 2)}"
        return self._term(value, 0)

    # precedence: 0 sum, 1 product, 2 power and atoms
    def _term(self, e, context: int) -> str:
        text, precedence = self._print(e)
        return f"({text})" if precedence < context else text

    def _print(self, e) -> tuple[str, int]:
        if e.is_Integer:
            return str(int(e)), (2 if e >= 0 else 0)
        if e.is_Symbol:
            return self.use(python_name(e.name)), 2
        if isinstance(e, sympy.Indexed):
            base = self.use(python_name(str(e.base.label)))
            return f"{base}[{self.expr(e.indices[0])}]", 2
        if e.is_Add:
            terms = e.as_ordered_terms()
            text = self._term(terms[0], 0)
            for term in terms[1:]:
                coefficient, rest = term.as_coeff_Mul()
                if coefficient < 0:
                    text += f" - {self._term(-term, 1)}"
                else:
                    text += f" + {self._term(term, 0)}"
            return text, 0
        if e.is_Mul:
            coefficient, rest = e.as_coeff_Mul()
            if coefficient == -1:
                return f"-{self._term(rest, 2)}", 0
            factors = [self._term(factor, 1) for factor in sympy.Mul.make_args(e)]
            return " * ".join(factors), 1
        if e.is_Pow and e.exp.is_Integer and e.exp > 0:
            base = self._term(e.base, 2)
            simple = e.base.is_Symbol or e.base.is_Integer
            return (f"{base}**{int(e.exp)}" if simple else f"{base} ** {int(e.exp)}"), 2
        if isinstance(e, (sympy.floor, sympy.ceiling)):  # a // b, or -(-a // b) rounding up
            numerator, denominator = sympy.fraction(sympy.together(e.args[0]))
            if denominator == 1:
                return self._print(numerator)
            sign = "-" if isinstance(e, sympy.ceiling) else ""
            text = f"{sign}{self._term(sympy.expand(numerator), 2)} // {self._term(denominator, 2)}"
            return (f"-({text})" if sign else text), 0
        if isinstance(e, (sympy.Max, sympy.Min)):
            name = "max" if isinstance(e, sympy.Max) else "min"
            return f"{name}({', '.join(self.expr(arg) for arg in e.args)})", 2
        raise ValueError(f"export cannot write this size as Python yet: {e}")
