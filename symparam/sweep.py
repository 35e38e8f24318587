"""`symparam sweep`: counts over a grid of sizes, as CSV and as a plot.

The formula is turned into one NumPy function (lambdify) and applied to the whole grid
at once. The grid holds Python ints (dtype=object) and rationals print as Fractions, so
every count stays exact however large it is.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import Any

from .errors import SymparamError

INSTALL_PLOT = "sweep needs NumPy and Matplotlib: pip install 'symparam[plot]'"
MAX_POINTS = 1_000_000


@dataclass(frozen=True)
class Range:
    """A size and the values it takes."""

    name: str
    values: tuple[int, ...]

    @classmethod
    def of(cls, name: str, values) -> "Range":
        values = tuple(values)
        if not values or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in values):
            raise SymparamError(f"{name}: give positive whole numbers to vary over")
        return cls(name, values)


def parse_range(text: str) -> Range:
    """`d=64:4096:64` (start:stop:step, stop included) or `L=12` or `L=6:48`."""
    from .bindings import parse_binding
    from .sizes import constant

    name, _, spec = text.partition("=")
    parts = spec.split(":")
    if not name or not spec or len(parts) > 3:
        raise SymparamError(f"--vary {text}: write NAME=START:STOP[:STEP], e.g. d=64:4096:64")
    numbers = []
    for part in parts:
        # Each number goes through the grammar's size rule, like --set values.
        binding = parse_binding(f"{name}={part}")
        value = constant(binding.values[0], part)
        if value != int(value) or value < 1:
            raise SymparamError(f"--vary {text}: {part} is not a positive whole number")
        numbers.append(int(value))
    if len(numbers) == 1:
        numbers = [numbers[0], numbers[0], 1]
    start, stop, step = (numbers + [1])[:3]
    if stop < start:
        raise SymparamError(f"--vary {text}: the range runs backwards")
    return Range(name.strip(), tuple(range(start, stop + 1, step)))


@dataclass(frozen=True)
class Sweep:
    ranges: tuple[Range, ...]
    rows: list[tuple]  # (value of each range..., count)
    formula: Any


def sweep(network, ranges: list[Range]) -> Sweep:
    np = _numpy()
    import sympy

    points = 1
    for grid_range in ranges:
        points *= len(grid_range.values)
    if points > MAX_POINTS:
        raise SymparamError(f"the grid has {points:,} points; at most {MAX_POINTS:,}")
    total = network.total.doit()
    symbols = []
    for grid_range in ranges:
        if grid_range.name not in network.symbols:
            raise SymparamError(f"--vary {grid_range.name}: the count has no free size of that name")
        symbols.append(network.symbols[grid_range.name])
    missing = network.free_names() - {r.name for r in ranges}
    if missing or total.has(sympy.Sum, sympy.Indexed):
        raise SymparamError(
            "give every other size a value (--set NAME=VALUE, or a keyword) before sweeping: "
            + (", ".join(sorted(missing)) or "the sums need concrete ends")
        )
    function = sympy.lambdify(symbols, total, modules=[_modules(), "numpy"], printer=_printer_class())
    axes = np.meshgrid(*[np.array(r.values, dtype=object) for r in ranges], indexing="ij")
    counts = np.broadcast_to(np.asarray(function(*axes), dtype=object), axes[0].shape)
    rows = [
        tuple(int(axis[index]) for axis in axes) + (_exact_int(counts[index]),)
        for index in np.ndindex(axes[0].shape)
    ]
    return Sweep(tuple(ranges), rows, network.total)


def _exact_int(value) -> int:
    from fractions import Fraction

    value = Fraction(value)
    if value.denominator != 1:
        raise SymparamError(f"a count came out as {value}: check the sizes")
    return int(value)


def _numpy():
    try:
        import numpy
    except ImportError:
        raise SymparamError(INSTALL_PLOT) from None
    return numpy


def _floor(value):
    from fractions import Fraction

    return Fraction(value).__floor__() if not hasattr(value, "shape") else _vector(_floor, value)


def _ceiling(value):
    from fractions import Fraction

    return Fraction(value).__ceil__() if not hasattr(value, "shape") else _vector(_ceiling, value)


def _max(a, b):
    np = _numpy()
    return np.frompyfunc(max, 2, 1)(a, b)


def _vector(function, array):
    np = _numpy()
    return np.frompyfunc(function, 1, 1)(array)


def _printer_class():
    from sympy.printing.numpy import NumPyPrinter

    class ExactPrinter(NumPyPrinter):
        """Rationals as Fractions and floors as exact functions: no floats anywhere."""

        def _print_Rational(self, expr):
            return f"Fraction({expr.p}, {expr.q})"

        def _print_Half(self, expr):
            return self._print_Rational(expr)

        def _print_floor(self, expr):
            return f"floor({self._print(expr.args[0])})"

        def _print_ceiling(self, expr):
            return f"ceiling({self._print(expr.args[0])})"

        def _print_Max(self, expr):
            args = [self._print(arg) for arg in expr.args]
            text = args[0]
            for arg in args[1:]:
                text = f"Max({text}, {arg})"
            return text

    return ExactPrinter


def _modules():
    from fractions import Fraction

    return {"floor": _floor, "ceiling": _ceiling, "Max": _max, "Fraction": Fraction}


# ------------------------------------------------------------------ output


def write_csv(result: Sweep, stream) -> None:
    """The rows as CSV on a text stream (a file click opened, or standard output)."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow([r.name for r in result.ranges] + ["params"])
    writer.writerows(result.rows)


def to_json_dict(result: Sweep) -> dict:
    return {
        "formula": str(result.formula),
        "vary": {r.name: list(r.values) for r in result.ranges},
        "rows": [dict(zip([r.name for r in result.ranges] + ["params"], row)) for row in result.rows],
    }


def plot(result: Sweep, path: str, logy: bool = False) -> None:
    """A line per value of the second varied size (if any), the formula as the title."""
    try:
        from matplotlib.figure import Figure  # no pyplot: a notebook's backend stays as it is
    except ImportError:
        raise SymparamError(INSTALL_PLOT) from None
    from .latex import to_latex

    figure = Figure(figsize=(7, 4.5), dpi=100)
    axes = figure.subplots()
    first = result.ranges[0]
    series: dict[tuple, list] = {}
    for row in result.rows:
        series.setdefault(row[1:-1], []).append((row[0], row[-1]))
    for key, points in series.items():
        label = ", ".join(f"{r.name} = {v}" for r, v in zip(result.ranges[1:], key)) or None
        xs, ys = zip(*points)
        axes.plot(xs, [float(y) for y in ys], marker="o" if len(xs) < 30 else None,
                  markersize=3, label=label)
    axes.set_xlabel(first.name)
    axes.set_ylabel("parameters")
    if logy:
        axes.set_yscale("log")
    if len(series) > 1:
        axes.legend(title=", ".join(r.name for r in result.ranges[1:]), fontsize="small")
    axes.grid(True, alpha=0.3)
    try:
        axes.set_title(f"${to_latex(result.formula)}$", fontsize="small")
        figure.tight_layout()
        figure.savefig(path)
    except ValueError:  # a formula mathtext cannot typeset: show it as text
        axes.set_title(str(result.formula), fontsize="small")
        figure.tight_layout()
        figure.savefig(path)
