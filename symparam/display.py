"""Rich display in Jupyter: formulas as mathematics (MathJax), tables as tables."""

from __future__ import annotations

from html import escape

from .analysis import format_shape
from .working import latex, number


def _math(tex: str) -> str:
    # MathJax in Jupyter typesets $$...$$ inside HTML output.
    return f"$$ {escape(tex)} $$"


def summary_html(summary) -> str:
    from .summary import HEADINGS, _cells

    head = "".join(f"<th>{escape(title)}</th>" for title in HEADINGS)
    body = []
    for row in summary.rows:
        cells = _cells(row)
        style = ' style="font-style: italic"' if row.header else ""
        tds = "".join(
            f'<td style="text-align: {"right" if i >= 3 else "left"}; white-space: pre">'
            f"{escape(cell)}</td>"
            for i, cell in enumerate(cells)
        )
        body.append(f"<tr{style}>{tds}</tr>")
    totals = "".join(
        f"<tr><th colspan=\"3\" style=\"text-align: left\">{title}</th>"
        f"<td colspan=\"3\" style=\"text-align: left\">{escape(number(value))}</td></tr>"
        for title, value in (
            ("Total params", summary.total),
            ("Trainable params", summary.trainable),
            ("Non-trainable params", summary.non_trainable),
        )
    )
    return (
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
        f"<tfoot>{totals}</tfoot></table>"
    )


def _code(expression: str, width: int = 160) -> str:
    """The expression on one line, without its comments."""
    text = " ".join(" ".join(line.split("#", 1)[0].split()) for line in expression.splitlines())
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def network_html(network) -> str:
    total = network.analysis.total
    formula = _math(rf"\text{{params}} = {latex(total)}")
    shape = escape(format_shape(network.output_shape))
    return (
        f"<div><p><code>{escape(_code(network.expression))}</code> → {shape}</p>"
        f"<p>{formula}</p>{summary_html(network.summary())}</div>"
    )


def explanation_html(explanation) -> str:
    items = "".join(
        f"<li><code>{escape(step.layer)}</code>: {escape(step.text)}</li>"
        for step in explanation.steps
    )
    return f"<ul>{items}</ul><p><strong>{escape(explanation.conclusion)}</strong></p>"


def solution_html(solution) -> str:
    if solution.value is None:
        text = f"No whole {escape(solution.name)} ≥ 1 keeps the count within {solution.budget:,}."
    else:
        text = (
            f"<strong>{escape(solution.name)} = {solution.value}</strong>: "
            f"{solution.count_at_value:,} parameters, within {solution.budget:,}."
        )
    if solution.root is not None:
        text += f"<br>Exact root: {_math(f'{solution.name} = {latex(solution.root)}')}"
    return f"<p>{text}</p>"
