"""`symparam sweep`: counts over a grid of sizes, as CSV and as a plot.

The formula is compiled once into a small integer program (sums, products, whole
powers, floor and ceiling of a quotient by a whole number, Max, Min) and run over the
whole grid at once, each varied size an axis of an open NumPy grid. Counts are exact:

- int64, when a bound proves that no value on the way overflows. The bound is the
  program run on magnitudes, in Python ints: |constants|, each size at its largest
  grid value, sums of bounds for sums, products for products, ceiling(B/q) for a
  floor or ceiling of n/q with |n| <= B. Every step's bound must fit in int64.
- Python ints (dtype=object) otherwise.
- A formula the program cannot hold (a size in a denominator, a negative power) is
  evaluated by SymPy's lambdify on Python ints and Fractions, as before.

A formula with rational coefficients is run as numerator // denominator, with a check
that every count comes out whole. The rows are made only when asked for.
"""

from __future__ import annotations

import csv
import io
import itertools
import operator
import os
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import reduce
from math import prod
from typing import Any

from .errors import SymparamError

INSTALL_PLOT = "sweep needs NumPy and Matplotlib: pip install 'symparam[plot]'"
MAX_POINTS = 1_000_000
INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class Range:
    """A size and the values it takes: a Python `range` (kept as one, never written out:
    d=1:10^100 costs nothing until its points are counted), or a tuple."""

    name: str
    values: range | tuple[int, ...]

    @classmethod
    def of(cls, name: str, values) -> "Range":
        if _positive_range(values):
            return cls(name, values)
        values = tuple(values)
        if not _positive_ints(values):
            raise SymparamError(f"{name}: give positive whole numbers to vary over")
        return cls(name, values)

    @property
    def size(self) -> int:
        """The number of values, exactly (len() stops at 2^63 - 1 values)."""
        return _length(self.values)

    @property
    def largest(self) -> int:
        values = self.values
        return max(values[0], values[-1]) if isinstance(values, range) else max(values)


def _length(values) -> int:
    """len(values), exact for a range of any size (built-in len() stops at 2^63 - 1)."""
    if isinstance(values, range):
        start, stop, step = values.start, values.stop, values.step
        span = stop - start if step > 0 else start - stop
        return max(0, -(-span // abs(step)))
    return len(values)


def _positive_range(values) -> bool:
    # A range holds whole numbers between its ends: no need to look at a million of them.
    return isinstance(values, range) and _length(values) > 0 and min(values[0], values[-1]) >= 1


def _positive_ints(values: tuple) -> bool:
    wrong = (isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in values)
    return bool(values) and not any(wrong)


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
    points = (stop - start) // step + 1  # counted from the ends, before anything is built
    if points > MAX_POINTS:
        raise SymparamError(
            f"--vary {text}: {points:,} values; a sweep has at most {MAX_POINTS:,} points"
        )
    return Range(name.strip(), range(start, stop + 1, step))


@dataclass(frozen=True)
class Sweep:
    """The grid's ranges and its counts, an array with an axis for each range (int64 or
    Python ints), and the formula."""

    ranges: tuple[Range, ...]
    counts: Any
    formula: Any

    @property
    def rows(self) -> "Rows":
        """(value of each range..., count), with Python ints."""
        return Rows(self.ranges, self.counts)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Sweep):
            return NotImplemented
        same_grid = (self.ranges, self.formula) == (other.ranges, other.formula)
        return same_grid and bool(_numpy().array_equal(self.counts, other.counts))


class Rows(Sequence):
    """The rows of a sweep, made one at a time: a million points stay two short axes and
    one array until someone reads them."""

    def __init__(self, ranges: tuple[Range, ...], counts):
        self._values = [r.values for r in ranges]
        self._counts = counts

    def __len__(self) -> int:
        return self._counts.size

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._slice(index)
        index = operator.index(index)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("sweep row index out of range")
        position = _numpy().unravel_index(index, self._counts.shape)
        values = tuple(values[i] for values, i in zip(self._values, position))
        return values + (int(self._counts[position]),)

    def _slice(self, index: slice) -> list[tuple]:
        start, stop, step = index.indices(len(self))
        if step < 0:
            return [self[i] for i in range(start, stop, step)]
        return list(itertools.islice(self, start, stop, step))

    def __iter__(self):
        # Row tuples in C order, the order of itertools.product over the axes.
        return (values + (count,) for values, count in
                zip(itertools.product(*self._values), _python_ints(self._counts)))

    def __eq__(self, other) -> bool:
        if not isinstance(other, (Rows, list)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None

    def __repr__(self) -> str:
        return f"<{len(self)} sweep rows: {self[:3]}{' ...' if len(self) > 3 else ''}>"


def _python_ints(counts, chunk: int = 1 << 16):
    """The counts in C order as Python ints, converted a chunk at a time."""
    flat = counts.reshape(-1)
    for start in range(0, flat.size, chunk):
        yield from flat[start:start + chunk].tolist()


def sweep(network, ranges: list[Range]) -> Sweep:
    """The count at every point of the grid the ranges span (the first range slowest)."""
    _numpy()
    _check_points(ranges)
    total, symbols = _formula(network, ranges)
    return Sweep(tuple(ranges), _counts(total, symbols, ranges), network.total)


def _check_points(ranges: list[Range]) -> None:
    points = prod(r.size for r in ranges)  # exact ints: no range is written out
    if points > MAX_POINTS:
        raise SymparamError(f"the grid has {points:,} points; at most {MAX_POINTS:,}")


def _formula(network, ranges: list[Range]):
    """The total with finite sums done, and the symbol of each range."""
    import sympy

    total = network.total.doit()
    names = [r.name for r in ranges]
    symbols = []
    for grid_range in ranges:
        if names.count(grid_range.name) > 1:
            raise SymparamError(f"--vary {grid_range.name}: vary each size once")
        if grid_range.name not in network.symbols:
            raise SymparamError(f"--vary {grid_range.name}: the count has no free size of that name")
        symbols.append(network.symbols[grid_range.name])
    missing = network.free_names() - set(names)
    if missing or total.has(sympy.Sum, sympy.Indexed):
        raise SymparamError(
            "give every other size a value (--set NAME=VALUE, or a keyword) before sweeping: "
            + (", ".join(sorted(missing)) or "the sums need concrete ends")
        )
    return total, symbols


def _counts(total, symbols, ranges: list[Range]):
    """The count at every point, as an array with an axis for each range."""
    np = _numpy()
    try:
        program = compile_program(total, symbols)
    except Unsupported:
        return _counts_by_lambdify(total, symbols, ranges)
    largest = [r.largest for r in ranges]  # Range values are positive
    dtype = np.int64 if fits_int64(program, largest) else object
    return run_program(program, ranges, dtype)


# ------------------------------------------------------------------ integer programs
# A program is a tree of tuples: ("const", int), ("var", axis), ("add", terms),
# ("mul", factors), ("pow", base, exponent >= 1), ("floordiv" | "ceildiv" | "exactdiv",
# numerator, divisor >= 1), ("max" | "min", options).


class Unsupported(Exception):
    """A formula outside the integer programs."""


def compile_program(total, symbols):
    """The total as an integer program over the symbols (axis i is symbols[i])."""
    axes = {symbol: axis for axis, symbol in enumerate(symbols)}
    numerator, divisor = _ratio(total, axes)
    return numerator if divisor == 1 else ("exactdiv", numerator, divisor)


def _ratio(expr, axes):
    """expr as (program of a whole numerator, whole divisor >= 1)."""
    if not any(atom.is_Rational and not atom.is_Integer for atom in expr.atoms()):
        return _integer(expr, axes), 1
    numerator, denominator = expr.as_numer_denom()
    if not denominator.is_Integer or denominator == 0:
        raise Unsupported(expr)
    sign = -1 if denominator < 0 else 1
    return _integer(sign * numerator, axes), sign * int(denominator)


def _integer(expr, axes):
    """A program for expr, which must be built of whole numbers throughout."""
    import sympy

    if expr.is_Integer:
        return ("const", int(expr))
    if expr in axes:
        return ("var", axes[expr])
    if expr.is_Add or expr.is_Mul:
        return ("add" if expr.is_Add else "mul", _integers(expr.args, axes))
    if expr.is_Pow and expr.exp.is_Integer and expr.exp >= 1:
        return ("pow", _integer(expr.base, axes), int(expr.exp))
    if isinstance(expr, (sympy.floor, sympy.ceiling)):
        # floor(n/q) is n // q exactly for whole n and q >= 1; ceiling(n/q) is -(-n // q).
        operation = "floordiv" if isinstance(expr, sympy.floor) else "ceildiv"
        return (operation, *_ratio(expr.args[0], axes))
    if isinstance(expr, (sympy.Max, sympy.Min)):
        return ("max" if isinstance(expr, sympy.Max) else "min", _integers(expr.args, axes))
    raise Unsupported(expr)


def _integers(exprs, axes) -> tuple:
    return tuple(_integer(expr, axes) for expr in exprs)


def fits_int64(program, largest: list[int]) -> bool:
    """Whether int64 holds every value met running the program, for sizes up to `largest`."""
    try:
        _bound(program, largest)
    except OverflowError:
        return False
    return True


def _bound(node, largest: list[int]) -> int:
    """A bound on |value| of node and of every partial result on the way to it, in exact
    Python ints; OverflowError as soon as one passes INT64_MAX."""
    match node:
        case ("const", value):
            bound = abs(value)
        case ("var", axis):
            bound = largest[axis]
        case ("add", terms):
            bound = sum(_bound(term, largest) for term in terms)
        case ("mul", factors):
            # At least 1 a factor, so that every partial product is within the bound.
            bound = prod(max(1, _bound(factor, largest)) for factor in factors)
        case ("pow", base, exponent):
            bound = _power_bound(max(1, _bound(base, largest)), exponent)
        case ("floordiv" | "ceildiv" | "exactdiv", numerator, divisor):
            # |n| <= B gives |floor(n/q)| and |ceiling(n/q)| <= ceiling(B/q).
            bound = -(-_bound(numerator, largest) // divisor)
        case ("max" | "min", options):
            bound = max(_bound(option, largest) for option in options)
    if bound > INT64_MAX:
        raise OverflowError(node)
    return bound


def _power_bound(base: int, exponent: int) -> int:
    # Refused before computing it: d**10**6 would build a huge int only to reject it.
    if base > 1 and exponent > 63:
        raise OverflowError(exponent)
    return base**exponent


def run_program(program, ranges: list[Range], dtype):
    """The program at every point of the grid, as an array of `dtype`."""
    np = _numpy()
    shape = tuple(r.size for r in ranges)
    leaves = [_axis(r.values, axis, len(ranges), dtype) for axis, r in enumerate(ranges)]
    return np.broadcast_to(np.asarray(_run(program, leaves), dtype=dtype), shape)


def _axis(values, axis: int, dimensions: int, dtype):
    """One range as an axis of an open grid: shape 1 along every other axis."""
    np = _numpy()
    shape = [1] * dimensions
    shape[axis] = _length(values)
    if isinstance(values, range) and dtype is not object:  # int64: the program's bound covers it
        array = np.arange(values.start, values.stop, values.step, dtype=dtype)
    else:
        array = np.array(values, dtype=dtype)
    return array.reshape(shape)


def _run(node, leaves):
    np = _numpy()
    match node:
        case ("const", value):
            return value
        case ("var", axis):
            return leaves[axis]
        case ("add", terms):
            return _combine(operator.add, [_run(term, leaves) for term in terms])
        case ("mul", factors):
            return _combine(operator.mul, [_run(factor, leaves) for factor in factors])
        case ("pow", base, exponent):
            return _power(_run(base, leaves), exponent)
        case ("floordiv", numerator, divisor):
            return _run(numerator, leaves) // divisor
        case ("ceildiv", numerator, divisor):
            return -(-_run(numerator, leaves) // divisor)
        case ("exactdiv", numerator, divisor):
            return _exact_quotient(_run(numerator, leaves), divisor)
        case ("max", options):
            return reduce(np.maximum, [_run(option, leaves) for option in options])
        case ("min", options):
            return reduce(np.minimum, [_run(option, leaves) for option in options])
    raise AssertionError(node)


def _combine(operation, values):
    # Smallest first: on an open grid, a sum or product of one-axis terms stays small until
    # the last step broadcasts it to the whole grid.
    return reduce(operation, sorted(values, key=_numpy().size))


def _power(base, exponent: int):
    """base**exponent by squaring, in the array's own arithmetic: every partial result is
    at most |base|**exponent, which the bound covers."""
    result = None
    while exponent:
        if exponent & 1:
            result = base if result is None else result * base
        exponent >>= 1
        if exponent:
            base = base * base
    return result


def _exact_quotient(numerator, divisor: int):
    """numerator / divisor, which must be whole at every point: d·(d + 1)/2 is, d·(d + 1)/3
    is not at d = 1."""
    flat = _numpy().asarray(numerator).reshape(-1)
    uneven = _numpy().flatnonzero(flat % divisor != 0)
    if uneven.size:
        _exact_int(Fraction(int(flat[uneven[0]]), divisor))  # raises, naming the count
    return numerator // divisor


# ------------------------------------------------------------------ other formulas


def _counts_by_lambdify(total, symbols, ranges: list[Range]):
    """The slow exact way, for formulas outside the integer programs: Python ints and
    Fractions through lambdify, one object per point."""
    np = _numpy()
    import sympy

    # dummify: the sizes become arguments named _Dummy_..., and the helpers are _sp_...:
    # the grammar's names start with a letter, so a size named floor or Fraction shadows
    # nothing.
    function = sympy.lambdify(symbols, total, modules=[_modules(), "numpy"],
                              printer=_printer_class(), dummify=True)
    axes = np.meshgrid(*[np.array(r.values, dtype=object) for r in ranges], indexing="ij")
    counts = np.broadcast_to(np.asarray(function(*axes), dtype=object), axes[0].shape)
    return np.asarray(np.frompyfunc(_exact_int, 1, 1)(counts), dtype=object)


def _exact_int(value) -> int:
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
    return Fraction(value).__floor__() if not hasattr(value, "shape") else _vector(_floor, value)


def _ceiling(value):
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
            return f"_sp_Fraction({expr.p}, {expr.q})"

        def _print_Half(self, expr):
            return self._print_Rational(expr)

        def _print_floor(self, expr):
            return f"_sp_floor({self._print(expr.args[0])})"

        def _print_ceiling(self, expr):
            return f"_sp_ceiling({self._print(expr.args[0])})"

        def _print_Max(self, expr):
            args = [self._print(arg) for arg in expr.args]
            text = args[0]
            for arg in args[1:]:
                text = f"_sp_Max({text}, {arg})"
            return text

    return ExactPrinter


def _modules():
    # Prefixed: no size can be named _sp_... (names start with a letter).
    return {"_sp_floor": _floor, "_sp_ceiling": _ceiling, "_sp_Max": _max, "_sp_Fraction": Fraction}


# ------------------------------------------------------------------ output


def write_csv(result: Sweep, stream) -> None:
    """The rows as CSV on a text stream (a file click opened, or standard output)."""
    # Written a block of rows at a time: standard output may flush at every line.
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([r.name for r in result.ranges] + ["params"])
    rows = iter(result.rows)
    while True:
        writer.writerows(itertools.islice(rows, 1 << 14))
        if not buffer.tell():
            break
        stream.write(buffer.getvalue())
        buffer.seek(0)
        buffer.truncate()


def to_json_dict(result: Sweep) -> dict:
    return {
        "formula": str(result.formula),
        "vary": {r.name: list(r.values) for r in result.ranges},
        "rows": [dict(zip([r.name for r in result.ranges] + ["params"], row)) for row in result.rows],
    }


def _float(value: int) -> float:
    """A point for the plot (only there do floats appear); past 1.8·10^308 there is none."""
    try:
        return float(value)
    except OverflowError:
        raise SymparamError(
            f"cannot plot a number of {len(str(value))} digits: past the largest float, about 1.8e308; write the counts "
            "as CSV (--csv) instead"
        ) from None


MAX_LINES = 8  # more values of the other sizes than this: a heatmap, not a crowded legend
PLOT_FORMATS = (".png", ".svg", ".pdf")


def plot(result: Sweep, path, logy: bool = False):
    """A line per value of the second varied size, up to MAX_LINES of them (a legend
    inside the axes); past that, for two sizes, a heatmap with a colour bar. The
    formula is the title, the names in mathematical notation; the file's extension
    (.png, .svg, .pdf) chooses the format. Returns the matplotlib Figure."""
    try:
        from matplotlib.figure import Figure  # no pyplot: a notebook's backend stays as it is
    except ImportError:
        raise SymparamError(INSTALL_PLOT) from None
    from .latex import to_latex

    suffix = os.path.splitext(str(path))[1].lower() if isinstance(path, (str, os.PathLike)) else ".png"
    if suffix not in PLOT_FORMATS:
        raise SymparamError(f"a plot is written as {', '.join(PLOT_FORMATS)}: not '{suffix or path}'")
    figure = Figure(figsize=(7, 4.5), dpi=100)
    axes = figure.subplots()
    series: dict[tuple, list] = {}
    for row in result.rows:
        series.setdefault(row[1:-1], []).append((row[0], row[-1]))
    if len(series) > MAX_LINES and len(result.ranges) == 2:
        _heatmap(figure, axes, result, logy)
    else:
        _lines(axes, result, series, logy)
    axes.set_xlabel(_math(result.ranges[0].name))
    try:
        axes.set_title(f"${to_latex(result.formula)}$", fontsize="small")
        figure.tight_layout()
        figure.savefig(path, format=suffix[1:])
    except ValueError:  # a formula mathtext cannot typeset: show it as text
        axes.set_title(str(result.formula), fontsize="small")
        figure.tight_layout()
        figure.savefig(path, format=suffix[1:])
    return figure


def _lines(axes, result: Sweep, series: dict, logy: bool) -> None:
    """One line per value of the other sizes; a legend, inside the axes, up to MAX_LINES."""
    for key, points in series.items():
        label = ", ".join(f"{_math(r.name)} = {v}" for r, v in zip(result.ranges[1:], key)) or None
        xs, ys = zip(*points)
        axes.plot([_float(x) for x in xs], [_float(y) for y in ys], marker="o" if len(xs) < 30 else None,
                  markersize=3, label=label)
    axes.set_ylabel("parameters")
    if logy:
        axes.set_yscale("log")
    if 1 < len(series) <= MAX_LINES:
        axes.legend(title=", ".join(_math(r.name) for r in result.ranges[1:]), fontsize="small", loc="best")
    axes.grid(True, alpha=0.3)


def _heatmap(figure, axes, result: Sweep, logy: bool) -> None:
    """The counts over two sizes as colours, with a colour bar."""
    from matplotlib.colors import LogNorm

    first, second = result.ranges
    xs = sorted({row[0] for row in result.rows})
    ys = sorted({row[1] for row in result.rows})
    column, line = {x: k for k, x in enumerate(xs)}, {y: k for k, y in enumerate(ys)}
    grid = [[float("nan")] * len(xs) for _ in ys]
    for x, y, count in result.rows:
        grid[line[y]][column[x]] = _float(count)
    mesh = axes.pcolormesh([_float(x) for x in xs], [_float(y) for y in ys], grid, shading="nearest",
                           norm=LogNorm() if logy else None)
    figure.colorbar(mesh, ax=axes, label="parameters")
    axes.set_ylabel(_math(second.name))


def _math(name: str) -> str:
    """A size's name as mathtext: h_1 as $h_{1}$."""
    import sympy

    from .latex import to_latex

    return f"${to_latex(sympy.Symbol(name))}$"
