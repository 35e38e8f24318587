"""`symparam summary`: a table like Keras' model.summary(), one row per layer.

A repetition, a definition's call or a layer holding chains (residual, moe) is a group.
Groups deeper than `depth` fold into one row (marked ×L when repeated); an open group
shows a header row, and its layers below it, indented. The rows that are not headers
add up to the totals, at any depth.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, field, replace
from html import escape
from fractions import Fraction
from math import prod
from typing import Any

from .dtypes import bytes_per_param
from .layers.base import Count
from .errors import SymparamError
from .fold import MERGING, Fold, merged_values, output_values
from .results import Group, Layer, check_rows
from .values import (
    is_concrete, json_value, latex, notation, number, one_line, percent, readable, sum_sign, written_as,
)
from .values import text as plain
from .values import shape_order, shown_extents, shown_shape
from .working import formula, formula_latex


@dataclass(frozen=True)
class SummaryRow:
    label: str  # the layer or group as written, shortened for a table
    kind: str  # the layer kind, or "group"
    depth: int
    output_shape: tuple
    formula: str  # how one instance's count arises
    formula_latex: str
    params: Any  # what the row adds to the total (all repetitions included)
    trainable: Any
    non_trainable: Any
    times: Any = None  # a group's repetition count (×L)
    header: bool = False  # an open group's header: its layers follow, and count instead
    source: str = ""  # as written, in full (comments dropped)
    figures: dict = field(default_factory=dict)  # the other columns': {"macs": ..., "activations": ...}


@dataclass(frozen=True)
class Summary:
    rows: tuple[SummaryRow, ...]
    total: Any
    trainable: Any
    non_trainable: Any
    dtype: str = "fp32"  # the totals' memory is given for parameters stored so
    columns: tuple = ("params",)  # the figures shown beside the formula (COLUMNS)
    figures: dict = field(default_factory=dict)  # the other columns' totals
    # How its network is written (symparam.notation's keywords): repetition counts
    # factored out of formulas, shapes channels-first under PyTorch's convention.
    layout: dict = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        return to_text(self)

    __repr__ = __str__  # the table, in a terminal and as a notebook's plain text

    def _repr_html_(self) -> str:
        return to_html(self)

    def _repr_latex_(self) -> str:
        return f"$$ {to_latex(self)} $$"


COLUMNS = ("params", "macs", "activations")


def summarize(network, depth: int = 0, dtype: str = "fp32", columns=("params",)) -> Summary:
    """The table of a counted network (a Network, or its result tree's Result); the
    totals give their memory with each parameter stored as `dtype`. `columns` adds the
    forward pass's MACs ("macs") and the values of each layer's output ("activations")
    for one example beside the parameters ("params")."""
    bytes_per_param(dtype)  # an unknown dtype is refused here, before anything is built
    columns = checked_columns(columns)
    result = getattr(network, "analysis", network)
    tree = result.tree
    check_rows(tree, depth + 1)  # `block * L` opens its only child: a level more
    # A Network says how its results are written; a bare Result, only its repetitions.
    written = getattr(network, "layout", None) or {"counts": result.repetition_counts, "channels_first": False}
    figures = _Figures(network, columns)
    with notation(**written):
        rows = tuple(_Rows(figures).children(tree.children, 0, depth, _Around()))
    return Summary(
        rows=rows,
        total=tree.params,
        trainable=tree.trainable,
        non_trainable=tree.non_trainable,
        dtype=dtype,
        layout=written,
        columns=columns,
        figures=figures.of(tree, _Around()),
    )


def checked_columns(columns) -> tuple:
    columns = tuple(columns)
    unknown = [column for column in columns if column not in COLUMNS]
    if unknown or not columns:
        raise SymparamError(f"unknown column {unknown[0]!r}: the columns are {', '.join(COLUMNS)}"
                            if unknown else f"give at least one column of {', '.join(COLUMNS)}")
    return tuple(dict.fromkeys(columns))


class _Around(namedtuple("_Around", "repeats runs", defaults=((), ()))):
    """What encloses a row: the repetition counts that multiply its parameters, and how
    many times a forward pass runs it (moe runs top_k of its experts, not all)."""

    __slots__ = ()

    def inside(self, group: Group) -> "_Around":
        runs = group.runs
        return _Around(self.repeats + ((group.times,) if group.times is not None else ()),
                       self.runs + ((runs,) if runs is not None else ()))


class _Figures:
    """The forward pass's figures of a node for the columns beside the parameters."""

    def __init__(self, network, columns: tuple):
        self.folds = {}
        if "macs" in columns:
            from .compute import fold_work

            self.folds["macs"] = fold_work(network)
        if "activations" in columns:  # as `symparam memory` counts them
            self.folds["activations"] = Fold(network, output_values, merged_values)

    def of(self, node, around: _Around) -> dict:
        times = prod(around.runs, start=1)
        return {name: times * fold.of(node)[0] for name, fold in self.folds.items()}

    def has_own(self, group: Group) -> bool:
        """Whether a layer holding chains has a row of its own: its parameters (moe's
        router), or with the activations column, the tensor it makes of its chains'
        outputs (a residual's sum, a merge)."""
        if group.own.params != 0:
            return True
        return "activations" in self.folds and group.kind in MERGING

    def own(self, group: Group, around: _Around) -> dict:
        """A layer holding chains' own figures: its own work (moe's router), its merge's output."""
        figures, times = {}, prod(around.runs, start=1)
        if "macs" in self.folds:
            from .compute import own_work

            own = own_work(group, self.folds["macs"].algebra)
            figures["macs"] = times * (own.macs if own is not None else 0)
        if "activations" in self.folds:
            merged = merged_values(group)
            figures["activations"] = times * (merged[0] if merged is not None else 0)
        return figures


_MERGE_WORD = {"residual": "sum", "bidirectional": "directions joined"}


class _Rows:
    """The rows of a tree, groups open to a depth, each with its figures for the other columns."""

    def __init__(self, figures: _Figures):
        self.figures = figures

    def children(self, children, level: int, depth: int, around: _Around) -> list[SummaryRow]:
        """Rows for the nodes of one group, at `level`, inside what `around` says."""
        rows: list[SummaryRow] = []
        for node in children:
            if isinstance(node, Layer):
                if node.kind != "input":
                    rows.append(self.layer(node, node.count, level, around))
            elif node.summation is not None:
                rows.append(self.summed(node, level, around))
            elif node.kind == "chain":  # another chain, from its own input: headed by it
                header = self.folded(node, level, around, around, header=True)
                input_source = node.children[0].source
                rows.append(replace(header, label=one_line(input_source), source=input_source))
                rows.extend(self.children(node.children, level, depth, around))
            else:
                rows.extend(self.with_own(node, self.group(node, level + 1, depth, around), level, around))
        return rows

    def with_own(self, node: Group, rows: list, level: int, around: _Around) -> list[SummaryRow]:
        """A layer holding chains' rows with its own: moe's router before the experts it
        routes to, a residual's sum (with the activations column) after its branches."""
        if not self.figures.has_own(node):
            return rows
        own = replace(self.layer(node, node.own, level, around), figures=self.figures.own(node, around))
        if node.own.params != 0:
            return [own, *rows]
        return [*rows, replace(own, label=f"{own.label} (its {_MERGE_WORD.get(node.kind, 'merge')})")]

    def group(self, group: Group, level: int, depth: int, around: _Around) -> list[SummaryRow]:
        """The group folded into one row when deeper than `depth`; else a header row, then
        its nodes one level in."""
        inner = around.inside(group)
        if level > depth:
            return [self.folded(group, level - 1, inner, around)]
        rows = [self.folded(group, level - 1, inner, around, header=True)]
        only = _only_child(group)
        if only is not None:
            # `block(d, H) * L` holds just `block(d, H)`: one header says it; open the child.
            nested = self.with_own(only, self.group(only, level + 1, depth + 1, inner)[1:], level, inner)
            return rows + [replace(row, depth=row.depth - 1) for row in nested]
        return rows + self.children(group.children, level, depth, inner)

    def layer(self, node, count: Count, depth: int, around: _Around) -> SummaryRow:
        return self.row(node, count, formula(count), formula_latex(count), depth, around)

    def summed(self, node: Group, depth: int, around: _Around) -> SummaryRow:
        s = node.summation
        text = f"{sum_sign()}_{{{plain(s.index)}={plain(s.lower)}}}^{{{plain(s.upper)}}} ({formula(s.step)})"
        text_latex = (
            rf"\sum_{{{latex(s.index)}={latex(s.lower)}}}^{{{latex(s.upper)}}} "
            rf"\left({formula_latex(s.step)}\right)"
        )
        count = Count(weights=node.weights, biases=node.biases, non_trainable=node.non_trainable)
        return self.row(node, count, text, text_latex, depth, around, kind=s.kind)

    def row(self, node, count: Count, text: str, text_latex: str, depth: int, around: _Around,
            kind: str | None = None) -> SummaryRow:
        multiplier = prod(around.repeats, start=1)
        if around.repeats and count.params != 0:  # its count is for every repetition: say so
            text = f"{plain(multiplier)} × {_bracket(text)}"
            text_latex = rf"{latex(multiplier)} \cdot {_bracket(text_latex, latex=True)}"
        return SummaryRow(
            source=one_line(node.source, width=10**6),
            label=one_line(node.source),
            kind=kind or node.kind,
            depth=depth,
            output_shape=node.output_shape,
            formula=text,
            formula_latex=text_latex,
            params=multiplier * count.params,
            trainable=multiplier * count.trainable,
            non_trainable=multiplier * count.non_trainable,
            figures=self.figures.of(node, around),
        )

    def folded(self, group: Group, depth: int, inner: _Around, around: _Around,
               header: bool = False) -> SummaryRow:
        """One row for a whole group: one instance's count, times the repetitions around it
        (`inner`: its own too; its own parameters, moe's router, have a row of their own);
        its figures as a forward pass runs it, inside what is `around` it."""
        multiplier = prod(inner.repeats, start=1)
        per_instance = _inner(group, "params")
        text = formula(Count(weights=per_instance))
        text_latex = formula_latex(Count(weights=per_instance))
        first_and_others = _first_and_others(group)
        if first_and_others is not None:  # dense(16) * 3 after 784 inputs: 12560 + 2 × 272
            text, text_latex = first_and_others
        if multiplier != 1 and per_instance != 0:  # this group's count and those around it
            text = f"{plain(multiplier)} × {_bracket(text)}"
            text_latex = rf"{latex(multiplier)} \cdot {_bracket(text_latex, latex=True)}"
        figures = self.figures.of(group, around)
        if self.figures.has_own(group):  # its own row (moe's router) holds its own work, as its count
            own = self.figures.own(group, around)
            figures = {name: value - own[name] for name, value in figures.items()}
        return SummaryRow(
            source=one_line(group.source, width=10**6),
            label=one_line(group.source),
            kind="group",
            depth=depth,
            output_shape=group.output_shape,
            formula=text,
            formula_latex=text_latex,
            params=multiplier * per_instance,
            trainable=multiplier * _inner(group, "trainable"),
            non_trainable=multiplier * _inner(group, "non_trainable"),
            times=group.times,
            header=header,
            figures=figures,
        )


def _only_child(group: Group) -> Group | None:
    """The one group, unrepeated and with no parameters of its own, that is all of this one."""
    if len(group.children) != 1:
        return None
    (child,) = group.children
    if isinstance(child, Layer) or child.summation is not None:
        return None
    return child if child.times is None and child.own.params == 0 else None


def _first_and_others(group: Group):
    """'first + (n − 1) × each' for a repetition whose first instance changes the shape
    (its last child is the repetition of the others), as text and as LaTeX; else None."""
    children = group.children
    if group.kind != "repeat" or group.times is not None or len(children) < 2:
        return None
    others = children[-1]
    if not isinstance(others, Group) or others.kind != "repeat" or others.times is None:
        return None
    first = Count(weights=_inner(group._replace(children=children[:-1]), "params"))
    each = Count(weights=_inner(others, "params"))
    text = f"{formula(first)} + {_bracket(plain(others.times))} × {_bracket(formula(each))}"
    text_latex = (rf"{formula_latex(first)} + {_bracket(latex(others.times), latex=True)} \cdot "
                  rf"{_bracket(formula_latex(each), latex=True)}")
    return text, text_latex


def _bracket(text: str, latex: bool = False) -> str:
    if text.replace(",", "").replace("{}", "").isdigit() or text.isidentifier():
        return text
    return rf"\left({text}\right)" if latex else f"({text})"


def _inner(group: Group, attribute: str):
    """What one instance of the group's children adds up to."""
    values = [getattr(child, attribute) for child in group.children]
    if all(isinstance(value, int) for value in values):
        return sum(values)
    import sympy  # one Add of all the terms, not a quadratic loop of a + b

    return sympy.Add(*values)


# ------------------------------------------------------------------ rendering

HEADINGS = ("Layer", "Output shape", "Formula", "Params", "Trainable", "Non-trainable")
FIGURE_HEADINGS = {"macs": "MACs", "activations": "Activations"}
FIGURE_TOTALS = {"macs": "Total MACs (forward, one example)",
                 "activations": "Total activations (values of the layers' outputs, one example)"}


def _headings(summary: Summary) -> tuple[str, ...]:
    parameters = HEADINGS[3:] if "params" in summary.columns else ()
    figures = tuple(FIGURE_HEADINGS[column] for column in summary.columns if column in FIGURE_HEADINGS)
    return HEADINGS[:3] + parameters + figures


def _cells(row: SummaryRow, columns: tuple) -> tuple[str, ...]:
    label = "  " * row.depth + row.label + (f"  ×{row.times}" if row.times is not None else "")
    cells = [label, shown_shape(row.output_shape), row.formula]
    if "params" in columns:
        params = number(row.params)
        if row.header:
            params = f"({params})"
        elif readable(row.params):
            params += f" ({readable(row.params)})"
        cells += [params, "" if row.header else number(row.trainable),
                  "" if row.header else number(row.non_trainable)]
    for column in columns:
        if column in FIGURE_HEADINGS:
            figure = number(row.figures[column])
            cells.append(f"({figure})" if row.header else figure)
    return tuple(cells)


@written_as(lambda summary: summary.layout)
def to_text(summary: Summary) -> str:
    headings = _headings(summary)
    cells = [headings] + [_cells(row, summary.columns) for row in summary.rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(headings))]
    rule = "─" * (sum(widths) + 2 * (len(widths) - 1))

    def line(values):
        return "  ".join(
            value.rjust(width) if column >= 3 else value.ljust(width)
            for column, (value, width) in enumerate(zip(values, widths))
        ).rstrip()

    lines = [line(headings), rule, *(line(values) for values in cells[1:]), rule]
    for title, value in _totals(summary):
        notes = [keras_memory(value, summary.dtype)]  # as Keras' summary gives it
        if title == "Trainable params" and summary.non_trainable != 0:
            notes.append(percent(value, summary.total))  # PEFT's trainable share
        extra = ", ".join(note for note in notes if note)
        lines.append(f"{title}: {number(value)}" + (f" ({extra})" if extra else ""))
    lines += [f"{title}: {number(value)}" for title, value in _figure_totals(summary)]
    return "\n".join(lines)


@written_as(lambda summary: summary.layout)
def to_html(summary: Summary) -> str:
    """The table as HTML, for Jupyter."""
    headings = _headings(summary)
    head = "".join(f"<th>{escape(title)}</th>" for title in headings)
    body = []
    for row in summary.rows:
        style = ' style="font-style: italic"' if row.header else ""
        tds = "".join(
            f'<td style="text-align: {"right" if i >= 3 else "left"}; white-space: pre">'
            f"{escape(cell)}</td>"
            for i, cell in enumerate(_cells(row, summary.columns))
        )
        body.append(f"<tr{style}>{tds}</tr>")
    totals = "".join(
        f"<tr><th colspan=\"3\" style=\"text-align: left\">{title}</th>"
        f"<td colspan=\"{len(headings) - 3}\" style=\"text-align: left\">{escape(number(value))}</td></tr>"
        for title, value in (*_totals(summary), *_figure_totals(summary))
    )
    return (
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
        f"<tfoot>{totals}</tfoot></table>"
    )


MEMORY_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


def keras_memory(count, dtype: str) -> str:
    """'474.70 MB': the memory of `count` parameters in `dtype`, as Keras' summary
    writes it (units of 1,024, two decimals), but exact: no float at any size."""
    if not is_concrete(count):
        return ""
    size, unit = Fraction(int(count) * bytes_per_param(dtype)), MEMORY_UNITS[0]
    for unit in MEMORY_UNITS:
        if size < 1024 or unit == MEMORY_UNITS[-1]:
            break
        size /= 1024
    hundredths = round(size * 100)  # half to even, as format() does
    return f"{hundredths // 100}.{hundredths % 100:02d} {unit}"


def _totals(summary: Summary):
    if "params" not in summary.columns:
        return ()
    return (
        ("Total params", summary.total),
        ("Trainable params", summary.trainable),
        ("Non-trainable params", summary.non_trainable),
    )


def _figure_totals(summary: Summary):
    return tuple((FIGURE_TOTALS[column], summary.figures[column])
                 for column in summary.columns if column in FIGURE_TOTALS)


@written_as(lambda summary: summary.layout)
def to_json_dict(summary: Summary) -> dict:
    """The rows as JSON; the CLI puts them beside the count's own keys."""
    return {"shape_order": shape_order(), "rows": [
        {
            "layer": row.label,
            "kind": row.kind,
            "depth": row.depth,
            "group": row.header,
            "repeat": json_value(row.times) if row.times is not None else None,
            "output_shape": [json_value(extent) for extent in shown_extents(row.output_shape)],
            "formula": row.formula,
            "params": json_value(row.params),
            "trainable": json_value(row.trainable),
            "non_trainable": json_value(row.non_trainable),
            **{column: json_value(value) for column, value in row.figures.items()},
        }
        for row in summary.rows
    ], **{f"total_{column}": json_value(value) for column, value in summary.figures.items()}}


@written_as(lambda summary: summary.layout)
def to_latex(summary: Summary) -> str:
    """An align* block: one line per row, then the total."""
    lines = []
    for row in summary.rows:
        if row.header:
            continue
        label = _latex_text(row.source)
        value = latex(row.params)
        # A symbolic formula is its own value: say it once.
        concrete = is_concrete(row.params)
        equation = value if not concrete or row.formula_latex == value else f"{row.formula_latex} = {value}"
        lines.append(rf"\text{{{label}}} &: {equation}")
    lines.append(rf"\text{{total}} &= {latex(summary.total)}")
    lines += [rf"\text{{{title}}} &= {latex(value)}" for title, value in _figure_totals(summary)]
    return "\\begin{align*}\n" + " \\\\\n".join(lines) + "\n\\end{align*}"


def _latex_text(text: str) -> str:
    """Source text made safe inside \\text{...}."""
    replacements = {"\\": r"\textbackslash{}", "_": r"\_", "#": r"\#", "%": r"\%", "&": r"\&",
                    "{": r"\{", "}": r"\}", "^": r"\^{}", "~": r"\~{}", "$": r"\$"}
    text = " ".join(text.split())
    return "".join(replacements.get(char, char) for char in text).replace("->", r"$\to$")
