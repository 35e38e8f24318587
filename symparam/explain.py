"""`symparam explain`: the count derived in words, layer by layer, as the seeds do it:
"2 inputs × 3 outputs = 6 weights, plus 3 biases (one per output) = 9 parameters."
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

from .results import LayerResult
from .summary import Summary, summarize
from .summary import to_latex as summary_latex
from .values import latex, notation, noun, number, shape_order, written_as
from .values import text as plain
from .values import shown_shape as format_shape
from .working import sentence


@dataclass(frozen=True)
class Step:
    layer: str  # the layer as written
    text: str  # what it contributes, in words


@dataclass(frozen=True)
class Explanation:
    steps: tuple[Step, ...]
    conclusion: str
    summary: Summary  # every layer, for the LaTeX form

    def __str__(self) -> str:
        return to_text(self)

    __repr__ = __str__

    def _repr_markdown_(self) -> str:
        return to_markdown(self)

    def _repr_html_(self) -> str:
        from .display import explanation_html

        return explanation_html(self)


def explain(network, compute: bool = False) -> Explanation:
    """The count derived in words; with `compute`, each layer's forward compute too."""
    with notation(**network.layout):
        return _explained(network, compute)


def _explained(network, compute: bool) -> Explanation:
    analysis = network.analysis
    work = _Work(network) if compute else None
    steps = []
    for head, rows in analysis.by_chain():  # each chain after its own input
        words = f"the input: {_shape_words(head.output_shape)}. An input has no parameters."
        steps.append(Step(head.source, words))
        for row in rows:
            text = _explain_row(row) + (f" {work.words(row)}" if work else "")
            steps.append(Step(" ".join(row.source.split()), text))
    conclusion = _conclusion(analysis) + (f" {work.conclusion()}" if work else "")
    columns = ("params", "macs") if compute else ("params",)
    return Explanation(tuple(steps), conclusion, summarize(network, depth=10**6, columns=columns))


class _Work:
    """The forward compute of each row, in words, as the parameters are."""

    def __init__(self, network):
        from .compute import fold_work

        self.network = network
        self.fold = fold_work(network)

    def words(self, row: LayerResult) -> str:
        if row.summation is not None:
            return self.summed(row)
        work = self.of(row)
        if work.macs == 0 and work.elementwise == 0:
            return "It computes nothing: it moves data."
        if work.macs == 0:
            text = f"It does no multiply–accumulates, and {_ops(work.elementwise)}."
        else:
            text = f"It computes {self.working(work)} multiply–accumulates (MACs)"
            text += f", and {_ops(work.elementwise)}." if work.elementwise != 0 else "."
        return text + self.runs(row, work.macs)

    def of(self, row: LayerResult):
        from .compute import layer_work, own_work
        from .compute_layers import GROUP_WORK, NOTHING

        if row.kind in GROUP_WORK:  # a layer holding chains' own row (moe's router)
            return own_work(row, self.fold.algebra) or NOTHING
        return layer_work(row, self.fold.algebra)

    @staticmethod
    def working(work) -> str:
        total = number(work.macs)
        if work.factors:
            product = " × ".join(f"{number(value)} {label}" for label, value in work.factors)
            return f"{product} = {total}"
        return f"{total} ({work.note})" if work.note else total

    def summed(self, row: LayerResult) -> str:
        s = row.summation
        (step,) = row.node.children
        each, total = self.fold.of(step), self.fold.of(row.node)
        return (f"Layer {plain(s.index)} computes {_bracketed(each[0])} MACs, summed over "
                f"{plain(s.index)} = {plain(s.lower)} ... {plain(s.upper)}: {_bracketed(total[0])} MACs"
                f" and {_ops(total[1])}.")

    @staticmethod
    def runs(row: LayerResult, macs) -> str:
        runs = [group.runs for group in row.groups if group.runs is not None]
        if not runs or macs == 0:
            return ""
        times = prod(runs, start=1)
        return f" A forward pass runs it {plain(times)} times: {_bracketed(times * macs)} MACs."

    def conclusion(self) -> str:
        macs, elementwise = self.fold.total
        return (f"Its forward pass for one example: {_bracketed(macs)} multiply–accumulates "
                f"(FLOPs: 2 × MACs = {_bracketed(2 * macs)}) and {_ops(elementwise)}.")


def _ops(value) -> str:
    return f"{_bracketed(value)} elementwise {noun(value, 'operation', 'operations')}"


def _bracketed(value) -> str:
    text = number(value)
    return text if " " not in text else f"({text})"


def _shape_words(shape) -> str:
    if len(shape) == 1:
        return f"{plain(shape[0])} values per example"
    if len(shape) == 2:
        return f"examples of shape {format_shape(shape)} (time steps, features)"
    return f"examples of shape {format_shape(shape)} ({shape_order().replace('_', ' ')})"


def _explain_row(row: LayerResult) -> str:
    if row.summation is not None:
        text = _explain_sum(row)
    else:
        text = f"{sentence(row.count, row.kind)}"
        if row.output_shape != row.input_shape:
            text += f" Its output has shape {format_shape(row.output_shape)}."
    for group in reversed(row.groups):
        if group.count is not None and row.count.params != 0:
            text += (
                f" It stands inside '{' '.join(group.source.split())}', which repeats "
                f"{plain(group.count)} times, so it counts {plain(group.count)} times."
            )
    return text


def _explain_sum(row: LayerResult) -> str:
    s = row.summation
    per_layer = sentence(s.step, row.kind).rstrip(".")
    return (
        f"the layers for {plain(s.index)} = {plain(s.lower)} ... {plain(s.upper)}. Layer {plain(s.index)} takes "
        f"{format_shape(s.step_input)} to {format_shape(s.step_output)}: {per_layer}. "
        f"Summed over {plain(s.index)} = {plain(s.lower)} ... {plain(s.upper)}, that is {plain(row.count.weights)} weights"
        + (f" and {plain(row.count.biases)} {noun(row.count.biases, 'bias', 'biases')}"
           if row.count.biases != 0 else "")
        + "."
    )


def _conclusion(analysis) -> str:
    contributions = [row.params for row in analysis.rows if row.params != 0]
    def part(value) -> str:  # brackets keep a formula apart from the words around it
        text = number(value)
        return text if analysis.symbolic is False or " " not in text else f"({text})"

    split = f"{part(analysis.weights)} weights + {part(analysis.biases)} {noun(analysis.biases, 'bias', 'biases')}"
    if analysis.non_trainable != 0:
        split += f" + {part(analysis.non_trainable)} non-trainable"
    if not analysis.symbolic and len(contributions) > 1:
        added = " + ".join(number(c) for c in contributions)
        return f"Adding the layers up: {added} = {number(analysis.total)} parameters ({split})."
    return f"In all: {number(analysis.total)} parameters ({split})."


# ------------------------------------------------------------------ rendering


@written_as(lambda explanation: explanation.summary.layout)
def to_text(explanation: Explanation) -> str:
    lines = [f"{step.layer}: {step.text}" for step in explanation.steps]
    return "\n".join(lines + ["", explanation.conclusion])


@written_as(lambda explanation: explanation.summary.layout)
def to_markdown(explanation: Explanation) -> str:
    lines = [f"- `{step.layer}`: {_escape(step.text)}" for step in explanation.steps]
    return "\n".join(lines + ["", f"**{_escape(explanation.conclusion)}**"])


def _escape(text: str) -> str:
    """SymPy's * and ** are Markdown's emphasis: escape them (and _ and `)."""
    for char in "\\*_`":
        text = text.replace(char, "\\" + char)
    return text


@written_as(lambda explanation: explanation.summary.layout)
def to_latex(explanation: Explanation) -> str:
    return summary_latex(explanation.summary)


@written_as(lambda explanation: explanation.summary.layout)
def to_json_dict(explanation: Explanation) -> dict:
    """The steps as JSON; the CLI puts them beside the count's own keys."""
    return {
        "steps": [{"layer": step.layer, "text": step.text} for step in explanation.steps],
        "conclusion": explanation.conclusion,
        "total_latex": latex(explanation.summary.total),
    }
