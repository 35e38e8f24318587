"""Results -> JSON and the per-layer working (--breakdown).

Values become text, LaTeX and JSON in values.py; nothing here imports SymPy.
"""

from __future__ import annotations

from .results import LayerResult
from .values import (
    is_concrete, json_value, latex, noun, shape_order, shown_extents, shown_shape, text, unlimited_digits, written_as,
)
from .working import working

# ------------------------------------------------------------------ JSON


def dumps(document: dict) -> str:
    import json

    with unlimited_digits():
        return json.dumps(document, indent=2, ensure_ascii=False)


@written_as(lambda network: network.layout)
def json_document(network) -> dict:
    """The count as JSON: the keys every command's JSON starts with."""
    analysis = network.analysis
    return {
        "expression": network.expression,
        "convention": network.convention,
        "total": json_value(analysis.total),
        "total_text": text(analysis.total),  # as the text output writes it: 12·d², h_{i−1}
        "trainable": json_value(analysis.trainable),
        "non_trainable": json_value(analysis.non_trainable),
        "weights": json_value(analysis.weights),
        "biases": json_value(analysis.biases),
        "latex": latex(analysis.total),
        "shape_order": shape_order(),
        "input_shape": [json_value(extent) for extent in shown_extents(analysis.input_shape)],
        "output_shape": [json_value(extent) for extent in shown_extents(analysis.output_shape)],
        "layers": [_layer_json(row) for row in analysis.rows],
    }


def _layer_json(row: LayerResult) -> dict:
    return {
        "name": row.kind,
        "source": row.source,
        "line": row.line,
        "column": row.column,
        "output_shape": [json_value(extent) for extent in shown_extents(row.output_shape)],
        "weights": json_value(row.weights),
        "biases": json_value(row.biases),
        "params": json_value(row.params),
        "trainable": json_value(row.trainable),
        "non_trainable": json_value(row.non_trainable),
        "repeat": json_value(row.multiplier),
    }


# ------------------------------------------------------------------ the working


@written_as(lambda network: network.layout)
def breakdown(network) -> str:
    """One line per layer with its working, then the total as a sum of the rows."""
    analysis = network.analysis
    lines = []
    for head, rows in analysis.by_chain():  # each chain after its own input
        lines.append(("input", head.source, shown_shape(head.output_shape), ""))
        lines.extend(_row_line(row) for row in rows)
    width_source = max(len(line[1]) for line in lines)
    width_shape = max(len(line[2]) for line in lines)
    out = [
        f"{source:<{width_source}}  {shape:<{width_shape}}  {work}".rstrip()
        for _, source, shape, work in lines
    ]
    out.append(_total_line(analysis))
    return "\n".join(out)


def _row_line(row: LayerResult):
    if row.summation is not None:
        s = row.summation
        work = (
            f"for {s.index} = {text(s.lower)} ... {text(s.upper)}: {working(s.step)}; "
            f"in all {text(row.count.params)} params"
        )
    else:
        work = working(row.count)
    if row.repeats:
        times = "×" + " ×".join(f"({text(r)})" if not _atomic(r) else text(r) for r in row.repeats)
        work = f"{times}: {work}"
    # Inside a definition, say which call: basic(64) › conv2d(c, 3, padding=1).
    source = " › ".join((*row.context, " ".join(row.source.split())))
    return (row.kind, source, "-> " + shown_shape(row.output_shape), work)


def _atomic(value) -> bool:
    return isinstance(value, int) or getattr(value, "is_Atom", False)


def _total_line(analysis) -> str:
    total = analysis.total
    summary = f"{text(analysis.weights)} weights + {text(analysis.biases)} {noun(analysis.biases, 'bias', 'biases')}"
    if analysis.non_trainable != 0:
        summary += f" + {text(analysis.non_trainable)} non-trainable"
    contributions = [row.params for row in analysis.rows if row.params != 0]
    if is_concrete(total) and len(contributions) > 1:
        sum_text = " + ".join(text(c) for c in contributions)
        return f"total: {sum_text} = {text(total)} params ({summary})"
    return f"total: {text(total)} params ({summary})"
