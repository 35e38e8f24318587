"""Rich display in Jupyter: formulas as mathematics (MathJax), tables as tables."""

from __future__ import annotations

from html import escape

from .summary import to_html as summary_html
from .values import latex, number, one_line, shown_shape, written_as


def _math(tex: str) -> str:
    # MathJax in Jupyter typesets $$...$$ inside HTML output.
    return f"$$ {escape(tex)} $$"


@written_as(lambda network: network.layout)
def network_html(network) -> str:
    total = network.analysis.total
    formula = _math(rf"\text{{params}} = {latex(total)}")
    shape = escape(shown_shape(network.output_shape))
    return (
        f"<div><p><code>{escape(one_line(network.expression, 160))}</code> → {shape}</p>"
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
        text = f"No whole {escape(solution.name)} ≥ 1 keeps the count within {number(solution.budget)}."
    else:
        text = (
            f"<strong>{escape(solution.name)} = {solution.value}</strong>: "
            f"{number(solution.count_at_value)} parameters, within {number(solution.budget)}."
        )
    if solution.root is not None:
        text += f"<br>Exact root: {_math(f'{solution.name} = {latex(solution.root)}')}"
    return f"<p>{text}</p>"
