"""`symparam summary`: a table like Keras' model.summary(), one row per layer.

A repetition, a definition's call or a layer holding chains (residual, moe) is a group.
Groups deeper than `depth` fold into one row (marked ×L when repeated); an open group
shows a header row, and its layers below it, indented. The rows that are not headers
add up to the totals, at any depth.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .analysis import LayerResult, format_shape
from .layers.base import Count, Group
from .working import formula, formula_latex, is_concrete, latex, number, readable


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
    network: Any

    def __str__(self) -> str:
        return to_text(self)

    __repr__ = __str__  # the table, in a terminal and as a notebook's plain text

    def _repr_html_(self) -> str:
        from .display import summary_html

        return summary_html(self)

    def _repr_latex_(self) -> str:
        return f"$$ {to_latex(self)} $$"


def summarize(network, depth: int = 0) -> Summary:
    analysis = network.analysis
    rows = _rows(analysis.rows, depth, analysis)
    return Summary(
        rows=tuple(rows),
        total=analysis.total,
        trainable=analysis.total if analysis.non_trainable == 0 else analysis.weights + analysis.biases,
        non_trainable=analysis.non_trainable,
        network=network,
    )


def _rows(layers: tuple[LayerResult, ...], depth: int, analysis) -> list[SummaryRow]:
    out: list[SummaryRow] = []
    index = 0
    while index < len(layers):
        layer = layers[index]
        if not layer.groups:
            out.append(_layer_row(layer, 0))
            index += 1
            continue
        end = _group_end(layers, index, 1)
        out.extend(_group_rows(layers[index:end], 1, depth, analysis))
        index = end
    return out


def _group_end(layers, start: int, level: int) -> int:
    """Where the run of layers sharing layers[start]'s first `level` groups ends."""
    path = layers[start].groups[:level]
    end = start
    while end < len(layers) and layers[end].groups[:level] == path:
        end += 1
    return end


def _group_rows(layers, level: int, depth: int, analysis) -> list[SummaryRow]:
    """Rows for the group layers[0].groups[level - 1], which all of `layers` share."""
    group = layers[0].groups[level - 1]
    if level > depth:
        return [_folded_row(group, layers, level - 1, analysis)]
    rows = [_folded_row(group, layers, level - 1, analysis, header=True)]
    if _only_child(layers, level):
        # `block(d, H) * L` holds just `block(d, H)`: one header says it; open the child.
        inner = _group_rows(layers, level + 1, depth + 1, analysis)[1:]
        return rows + [replace(row, depth=row.depth - 1) for row in inner]
    index = 0
    while index < len(layers):
        layer = layers[index]
        if len(layer.groups) == level:
            rows.append(_layer_row(layer, level))
            index += 1
            continue
        end = _group_end(layers, index, level + 1)
        rows.extend(_group_rows(layers[index:end], level + 1, depth, analysis))
        index = end
    return rows


def _only_child(layers, level: int) -> bool:
    """Do all these layers share one more, unrepeated group just inside this one?"""
    inner = layers[0].groups[level] if len(layers[0].groups) > level else None
    return (
        inner is not None
        and inner.count is None
        and all(len(layer.groups) > level and layer.groups[level] == inner for layer in layers)
    )


def _layer_row(layer: LayerResult, depth: int) -> SummaryRow:
    shown = layer.summation.step if layer.summation else layer.count
    text = formula(shown)
    text_latex = formula_latex(shown)
    if layer.summation is not None:
        s = layer.summation
        text = f"Σ_{{{s.index}={s.lower}}}^{{{s.upper}}} ({text})"
        text_latex = rf"\sum_{{{latex(s.index)}={latex(s.lower)}}}^{{{latex(s.upper)}}} \left({text_latex}\right)"
    if layer.repeats and layer.params != 0:  # its count is for every repetition: say so
        times = layer.multiplier
        text = f"{times} × {_bracket(text)}"
        text_latex = rf"{latex(times)} \cdot {_bracket(text_latex, latex=True)}"
    return SummaryRow(
        source=_short(layer.source, width=10**6),
        label=_short(layer.source),
        kind=layer.kind,
        depth=depth,
        output_shape=layer.output_shape,
        formula=text,
        formula_latex=text_latex,
        params=layer.params,
        trainable=layer.trainable,
        non_trainable=layer.non_trainable,
    )


def _folded_row(group: Group, layers, outer: int, analysis, header: bool = False) -> SummaryRow:
    """One row for a whole group: its layers' counts added up."""
    add = _adder(analysis)
    multiplier = _multiplier(layers[0], outer + 1)

    def folded(attribute):
        # One instance's sum, times the repetitions around it: L*(12*d**2 + 13*d).
        return multiplier * add(_per_instance(layer, attribute, outer + 1) for layer in layers)

    per_instance = add(_per_instance(layer, "params", outer + 1) for layer in layers)
    times = group.count
    text = formula(Count(weights=per_instance))
    text_latex = formula_latex(Count(weights=per_instance))
    if multiplier != 1 and per_instance != 0:  # this group's count and those around it
        text = f"{multiplier} × {_bracket(text)}"
        text_latex = rf"{latex(multiplier)} \cdot {_bracket(text_latex, latex=True)}"
    return SummaryRow(
        source=_short(group.source, width=10**6),
        label=_short(group.source),
        kind="group",
        depth=outer,
        output_shape=layers[-1].output_shape,
        formula=text,
        formula_latex=text_latex,
        params=folded("params"),
        trainable=folded("trainable"),
        non_trainable=folded("non_trainable"),
        times=times,
        header=header,
    )


def _multiplier(layer: LayerResult, levels: int):
    result = 1
    for group in layer.groups[:levels]:
        if group.count is not None:
            result = result * group.count
    return result


def _per_instance(layer: LayerResult, attribute: str, levels: int):
    """A layer's count with the counts of its outer `levels` groups divided out."""
    value, divisor = getattr(layer, attribute), _multiplier(layer, levels)
    if isinstance(value, int) and isinstance(divisor, int):
        return value // divisor
    import sympy

    return sympy.cancel(value / divisor)


def _bracket(text: str, latex: bool = False) -> str:
    if text.replace(",", "").replace("{}", "").isdigit() or text.isidentifier():
        return text
    return rf"\left({text}\right)" if latex else f"({text})"


def _short(text: str, width: int = 48) -> str:
    text = " ".join(line.split("#", 1)[0] for line in text.splitlines())  # no comments
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _adder(analysis):
    if analysis.symbolic:
        import sympy

        return lambda terms: sympy.Add(*terms)
    return lambda terms: sum(terms, 0)


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
        format_shape(row.output_shape),
        row.formula,
        params,
        "" if row.header else number(row.trainable),
        "" if row.header else number(row.non_trainable),
    )


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
    for title, value in (
        ("Total params", summary.total),
        ("Trainable params", summary.trainable),
        ("Non-trainable params", summary.non_trainable),
    ):
        extra = f" ({readable(value)})" if readable(value) else ""
        lines.append(f"{title}: {number(value)}{extra}")
    return "\n".join(lines)


def to_json_dict(summary: Summary) -> dict:
    from .render import json_document, json_value

    document = json_document(summary.network)
    document["rows"] = [
        {
            "layer": row.label,
            "kind": row.kind,
            "depth": row.depth,
            "group": row.header,
            "repeat": json_value(row.times) if row.times is not None else None,
            "output_shape": [json_value(extent) for extent in row.output_shape],
            "formula": row.formula,
            "params": json_value(row.params),
            "trainable": json_value(row.trainable),
            "non_trainable": json_value(row.non_trainable),
        }
        for row in summary.rows
    ]
    return document


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
