"""Results -> text, LaTeX, JSON and the per-layer working.

Nothing here imports SymPy unless a value is symbolic.
"""

from __future__ import annotations

from typing import Any

from .analysis import LayerResult, format_shape
from .working import is_concrete, working


def text(value) -> str:
    return str(value)


def json_value(value) -> Any:
    """A count as JSON: an integer when concrete, else str() of the SymPy expression."""
    if isinstance(value, int):
        return value
    if getattr(value, "is_Integer", False):
        return int(value)
    return str(value)


def latex(value) -> str:
    if isinstance(value, int):
        return str(value)
    from .latex import to_latex

    return to_latex(value)


# ------------------------------------------------------------------ JSON


def dumps(document: dict) -> str:
    import json

    return json.dumps(document, indent=2, ensure_ascii=False)


def json_document(network) -> dict:
    """The count as JSON: the keys every command's JSON starts with."""
    analysis = network.analysis
    return {
        "expression": network.expression,
        "convention": network.convention,
        "total": json_value(analysis.total),
        "trainable": json_value(analysis.weights + analysis.biases),
        "non_trainable": json_value(analysis.non_trainable),
        "weights": json_value(analysis.weights),
        "biases": json_value(analysis.biases),
        "latex": latex(analysis.total),
        "input_shape": [json_value(extent) for extent in analysis.input_shape],
        "output_shape": [json_value(extent) for extent in analysis.output_shape],
        "layers": [_layer_json(row) for row in analysis.rows],
    }


def _layer_json(row: LayerResult) -> dict:
    return {
        "name": row.kind,
        "source": row.source,
        "line": row.line,
        "column": row.column,
        "output_shape": [json_value(extent) for extent in row.output_shape],
        "weights": json_value(row.weights),
        "biases": json_value(row.biases),
        "params": json_value(row.params),
        "trainable": json_value(row.trainable),
        "non_trainable": json_value(row.non_trainable),
        "repeat": json_value(row.multiplier),
    }


# ------------------------------------------------------------------ the working


def breakdown(network) -> str:
    """One line per layer with its working, then the total as a sum of the rows."""
    analysis = network.analysis
    lines = [("input", network.tree.chain.stages[0].span.text(network.expression),
              format_shape(analysis.input_shape), "")]
    for row in analysis.rows:
        lines.append(_row_line(row))
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
            f"for {s.index} = {s.lower} ... {s.upper}: {working(s.step)}; "
            f"in all {str(row.count.params)} params"
        )
    else:
        work = working(row.count)
    if row.repeats:
        times = "×" + " ×".join(f"({r})" if not _atomic(r) else str(r) for r in row.repeats)
        work = f"{times}: {work}"
    # Inside a definition, say which call: basic(64) › conv2d(c, 3, padding=1).
    source = " › ".join((*row.context, " ".join(row.source.split())))
    return (row.kind, source, "-> " + format_shape(row.output_shape), work)


def _atomic(value) -> bool:
    return isinstance(value, int) or getattr(value, "is_Atom", False)


def _total_line(analysis) -> str:
    total = analysis.total
    summary = f"{str(analysis.weights)} weights + {str(analysis.biases)} biases"
    if analysis.non_trainable != 0:
        summary += f" + {str(analysis.non_trainable)} non-trainable"
    contributions = [row.params for row in analysis.rows if row.params != 0]
    if is_concrete(total) and len(contributions) > 1:
        sum_text = " + ".join(str(c) for c in contributions)
        return f"total: {sum_text} = {total} params ({summary})"
    return f"total: {str(total)} params ({summary})"
