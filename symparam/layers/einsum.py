"""Keras' EinsumDense: a kernel whose axes an einsum equation names."""

from __future__ import annotations

import re

from .. import ast
from ..values import shape_text
from .base import Count, Output, Param, layer

EQUATION = re.compile(r"([a-z]+),([a-z]+)->([a-z]+)")


class Letters(Param):
    """Text in quotes: an einsum equation ("ab,bc->ac"), or axes named by letters ("c")."""

    def convert(self, value, call):
        if not isinstance(value, ast.Text):
            raise call.error_at(f'{self.name} is written in quotes, e.g. "ab,bc->ac" or "c"', value)
        return value.value.replace(" ", "")


class Extents(Param):
    """One size, or a tuple of them: an output's shape after the batch axis."""

    def convert(self, value, call):
        items = value.items if isinstance(value, ast.Tuple) else (value,)
        return tuple(call.size(self.name, item) for item in items)


@layer(
    "einsum_dense",
    aliases=("EinsumDense",),
    params=(Letters("equation"), Extents("output_shape"), Letters("bias_axes", None)),
)
def einsum_dense(call, shape):
    """Keras' EinsumDense: "ab,bc->ac" with output_shape=u is dense(u). The input's first
    letter is the batch; each kernel axis has the extent of its letter in the input, or
    in output_shape (every output axis after the batch; one the input has keeps its
    extent). bias_axes names the output axes the bias spans: the product of theirs."""
    equation = call["equation"]
    match = EQUATION.fullmatch(equation)
    if match is None:
        raise call.error(f'equation must be "input,kernel->output" in letters, e.g. "ab,bc->ac", got "{equation}"')
    inputs, kernel, outputs = match.groups()
    if len(inputs) - 1 != len(shape):
        raise call.error(f'"{inputs}" names a batch and {_axes(len(inputs) - 1)}; the input '
                         f"{shape_text(shape)} has {len(shape)}")
    extents = dict(zip(inputs[1:], shape))
    given = call["output_shape"]
    if len(given) != len(outputs) - 1:
        raise call.error(f'output_shape gives {len(given)} extents; "{outputs}" has '
                         f"{_axes(len(outputs) - 1)} after the batch")
    for letter, extent in zip(outputs[1:], given):
        if letter in extents and not call.same_shape((extents[letter],), (extent,)):
            raise call.error(f"output_shape gives axis '{letter}' {extent}; the input has {extents[letter]}")
        extents.setdefault(letter, extent)
    unknown = [letter for letter in kernel + (call["bias_axes"] or "") if letter not in extents]
    if unknown:
        raise call.error(f"axis '{unknown[0]}' is in neither the input nor the output, so its extent is unknown")
    weights = _product(extents[letter] for letter in kernel)
    bias_axes = call["bias_axes"] or ""
    stray = [letter for letter in bias_axes if letter not in outputs[1:]]
    if stray:
        raise call.error(f"bias_axes: '{stray[0]}' is not an output axis after the batch ({outputs[1:]})")
    biases = _product(extents[letter] for letter in bias_axes) if bias_axes else 0
    note = f"a kernel of axes {kernel}"
    return Output(tuple(extents[letter] for letter in outputs[1:]), Count(weights=weights, biases=biases, note=note))


def _product(values):
    total = 1
    for value in values:
        total = total * value
    return total


def _axes(number: int) -> str:
    return f"{number} axis" if number == 1 else f"{number} axes"
