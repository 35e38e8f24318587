"""`symparam summary`: a table like Keras' model.summary(), one row per layer.

A repetition, a definition's call or a layer holding chains (residual, moe) is a group.
Groups deeper than `depth` fold into one row (marked ×L when repeated); an open group
shows a header row, and its layers below it, indented. The rows that are not headers
add up to the totals, at any depth.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from html import escape
from fractions import Fraction
from math import prod
from typing import Any

from .dtypes import bytes_per_param
from .layers.base import Count
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


@dataclass(frozen=True)
class Summary:
    rows: tuple[SummaryRow, ...]
    total: Any
    trainable: Any
    non_trainable: Any
    dtype: str = "fp32"  # the totals' memory is given for parameters stored so
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


def summarize(network, depth: int = 0, dtype: str = "fp32") -> Summary:
    """The table of a counted network (a Network, or its result tree's Result); the
    totals give their memory with each parameter stored as `dtype`."""
    bytes_per_param(dtype)  # an unknown dtype is refused here, before anything is built
    result = getattr(network, "analysis", network)
    tree = result.tree
    check_rows(tree, depth + 1)  # `block * L` opens its only child: a level more
    # A Network says how its results are written; a bare Result, only its repetitions.
    written = getattr(network, "layout", None) or {"counts": result.repetition_counts, "channels_first": False}
    with notation(**written):
        rows = tuple(_children_rows(tree.children, 0, depth, ()))
    return Summary(
        rows=rows,
        total=tree.params,
        trainable=tree.trainable,
        non_trainable=tree.non_trainable,
        dtype=dtype,
        layout=written,
    )


def _children_rows(children, level: int, depth: int, repeats: tuple) -> list[SummaryRow]:
    """Rows for the nodes of one group, at `level`; `repeats` are the counts around them."""
    rows: list[SummaryRow] = []
    for node in children:
        if isinstance(node, Layer):
            if node.kind != "input":
                rows.append(_layer_row(node, node.count, level, repeats))
        elif node.summation is not None:
            rows.append(_sum_row(node, level, repeats))
        elif node.kind == "chain":  # another chain, from its own input: headed by it
            header = _folded_row(node, level, repeats, header=True)
            input_source = node.children[0].source
            rows.append(replace(header, label=one_line(input_source), source=input_source))
            rows.extend(_children_rows(node.children, level, depth, repeats))
        else:
            if node.own.params != 0:  # moe's router: a row of its own, beside its experts
                rows.append(_layer_row(node, node.own, level, repeats))
            rows.extend(_group_rows(node, level + 1, depth, repeats))
    return rows


def _group_rows(group: Group, level: int, depth: int, repeats: tuple) -> list[SummaryRow]:
    """The group folded into one row when deeper than `depth`; else a header row, then
    its nodes one level in."""
    inner = repeats + ((group.times,) if group.times is not None else ())
    if level > depth:
        return [_folded_row(group, level - 1, inner)]
    rows = [_folded_row(group, level - 1, inner, header=True)]
    only = _only_child(group)
    if only is not None:
        # `block(d, H) * L` holds just `block(d, H)`: one header says it; open the child.
        nested = _group_rows(only, level + 1, depth + 1, inner)[1:]
        return rows + [replace(row, depth=row.depth - 1) for row in nested]
    return rows + _children_rows(group.children, level, depth, inner)


def _only_child(group: Group) -> Group | None:
    """The one group, unrepeated and with no parameters of its own, that is all of this one."""
    if len(group.children) != 1:
        return None
    (child,) = group.children
    if isinstance(child, Layer) or child.summation is not None:
        return None
    return child if child.times is None and child.own.params == 0 else None


def _layer_row(node, count: Count, depth: int, repeats: tuple) -> SummaryRow:
    return _row(node, count, formula(count), formula_latex(count), depth, repeats)


def _sum_row(node: Group, depth: int, repeats: tuple) -> SummaryRow:
    s = node.summation
    text = f"{sum_sign()}_{{{plain(s.index)}={plain(s.lower)}}}^{{{plain(s.upper)}}} ({formula(s.step)})"
    text_latex = (
        rf"\sum_{{{latex(s.index)}={latex(s.lower)}}}^{{{latex(s.upper)}}} "
        rf"\left({formula_latex(s.step)}\right)"
    )
    count = Count(weights=node.weights, biases=node.biases, non_trainable=node.non_trainable)
    return _row(node, count, text, text_latex, depth, repeats, kind=s.kind)


def _row(node, count: Count, text: str, text_latex: str, depth: int, repeats: tuple,
         kind: str | None = None) -> SummaryRow:
    multiplier = prod(repeats, start=1)
    if repeats and count.params != 0:  # its count is for every repetition: say so
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
    )


def _folded_row(group: Group, depth: int, repeats: tuple, header: bool = False) -> SummaryRow:
    """One row for a whole group: one instance's count, times the repetitions around it
    (its own parameters, moe's router, have a row of their own)."""
    multiplier = prod(repeats, start=1)
    per_instance = _inner(group, "params")
    text = formula(Count(weights=per_instance))
    text_latex = formula_latex(Count(weights=per_instance))
    first_and_others = _first_and_others(group)
    if first_and_others is not None:  # dense(16) * 3 after 784 inputs: 12560 + 2 × 272
        text, text_latex = first_and_others
    if multiplier != 1 and per_instance != 0:  # this group's count and those around it
        text = f"{plain(multiplier)} × {_bracket(text)}"
        text_latex = rf"{latex(multiplier)} \cdot {_bracket(text_latex, latex=True)}"
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
    )


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


def _cells(row: SummaryRow) -> tuple[str, ...]:
    label = "  " * row.depth + row.label + (f"  ×{row.times}" if row.times is not None else "")
    params = number(row.params)
    if row.header:
        params = f"({params})"
    elif readable(row.params):
        params += f" ({readable(row.params)})"
    return (
        label,
        shown_shape(row.output_shape),
        row.formula,
        params,
        "" if row.header else number(row.trainable),
        "" if row.header else number(row.non_trainable),
    )


@written_as(lambda summary: summary.layout)
def to_text(summary: Summary) -> str:
    cells = [HEADINGS] + [_cells(row) for row in summary.rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADINGS))]
    rule = "─" * (sum(widths) + 2 * (len(widths) - 1))

    def line(values):
        return "  ".join(
            value.rjust(width) if column >= 3 else value.ljust(width)
            for column, (value, width) in enumerate(zip(values, widths))
        ).rstrip()

    lines = [line(HEADINGS), rule, *(line(values) for values in cells[1:]), rule]
    for title, value in _totals(summary):
        notes = [keras_memory(value, summary.dtype)]  # as Keras' summary gives it
        if title == "Trainable params" and summary.non_trainable != 0:
            notes.append(percent(value, summary.total))  # PEFT's trainable share
        extra = ", ".join(note for note in notes if note)
        lines.append(f"{title}: {number(value)}" + (f" ({extra})" if extra else ""))
    return "\n".join(lines)


@written_as(lambda summary: summary.layout)
def to_html(summary: Summary) -> str:
    """The table as HTML, for Jupyter."""
    head = "".join(f"<th>{escape(title)}</th>" for title in HEADINGS)
    body = []
    for row in summary.rows:
        style = ' style="font-style: italic"' if row.header else ""
        tds = "".join(
            f'<td style="text-align: {"right" if i >= 3 else "left"}; white-space: pre">'
            f"{escape(cell)}</td>"
            for i, cell in enumerate(_cells(row))
        )
        body.append(f"<tr{style}>{tds}</tr>")
    totals = "".join(
        f"<tr><th colspan=\"3\" style=\"text-align: left\">{title}</th>"
        f"<td colspan=\"3\" style=\"text-align: left\">{escape(number(value))}</td></tr>"
        for title, value in _totals(summary)
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
    return (
        ("Total params", summary.total),
        ("Trainable params", summary.trainable),
        ("Non-trainable params", summary.non_trainable),
    )


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
        }
        for row in summary.rows
    ]}


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
    return "\\begin{align*}\n" + " \\\\\n".join(lines) + "\n\\end{align*}"


def _latex_text(text: str) -> str:
    """Source text made safe inside \\text{...}."""
    replacements = {"\\": r"\textbackslash{}", "_": r"\_", "#": r"\#", "%": r"\%", "&": r"\&",
                    "{": r"\{", "}": r"\}", "^": r"\^{}", "~": r"\~{}", "$": r"\$"}
    text = " ".join(text.split())
    return "".join(replacements.get(char, char) for char in text).replace("->", r"$\to$")
