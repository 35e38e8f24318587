"""Results -> text, LaTeX, JSON and the per-layer working.

Nothing here imports SymPy unless a value is symbolic.
"""

from __future__ import annotations

from typing import Any

from .analysis import LayerResult, format_shape


def is_concrete(value) -> bool:
    return isinstance(value, int)


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


def to_json(network) -> str:
    import json

    analysis = network.analysis
    document = {
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
    return json.dumps(document, indent=2)


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


def working(count) -> str:
    """'2 inputs × 3 outputs = 6 weights, + 3 biases = 9 params', as the seeds write it."""
    parts = []
    if count.factors:
        product = " × ".join(f"{_term(value)} {label}" for label, value in count.factors)
        parts.append(f"{product} = {_term(count.weights)} weights")
    elif count.weights != 0:
        note = f" ({count.note})" if count.note else ""
        parts.append(f"{_term(count.weights)} weights{note}")
    elif count.note:
        parts.append(f"weights {count.note}")
    if count.biases != 0:
        parts.append(f"+ {_term(count.biases)} biases" if parts else f"{_term(count.biases)} biases")
    if count.non_trainable != 0:
        note = f" ({count.non_trainable_note})" if count.non_trainable_note else ""
        parts.append(f"+ {_term(count.non_trainable)} non-trainable{note}")
    if not parts:
        return "no parameters"
    return ", ".join(parts) + f" = {_term(count.params)} params"


def _term(value) -> str:
    return str(value)


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
            f"in all {_term(row.count.params)} params"
        )
    else:
        work = working(row.count)
    if row.repeats:
        times = "×" + " ×".join(f"({r})" if not _atomic(r) else str(r) for r in row.repeats)
        work = f"{times}: {work}"
    return (row.kind, row.source, "-> " + format_shape(row.output_shape), work)


def _atomic(value) -> bool:
    return isinstance(value, int) or getattr(value, "is_Atom", False)


def _total_line(analysis) -> str:
    total = analysis.total
    summary = f"{_term(analysis.weights)} weights + {_term(analysis.biases)} biases"
    if analysis.non_trainable != 0:
        summary += f" + {_term(analysis.non_trainable)} non-trainable"
    contributions = [row.params for row in analysis.rows if row.params != 0]
    if is_concrete(total) and len(contributions) > 1:
        sum_text = " + ".join(str(c) for c in contributions)
        return f"total: {sum_text} = {total} params ({summary})"
    return f"total: {_term(total)} params ({summary})"
