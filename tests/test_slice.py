"""slice(start, stop): part of the last axis, half-open as Python's."""

from __future__ import annotations

import pytest
from helpers import assert_error

import symparam


@pytest.mark.parametrize(
    "text, total, shape",
    [
        # Mamba's dt_proj reads the first dt_rank of x_proj's outputs: 64·48; then 16·64 + 64
        ("in(10, 64) -> dense(48, bias=false) -> slice(0, 16) -> dense(64)", 3072 + 1088, (10, 64)),
        ("in(10, 64) -> slice(8, 40)", 0, (10, 32)),
        ("in(8, 8, 6) -> slice(1, 2)", 0, (8, 8, 1)),
        ("in(10, 64) -> parallel(slice(0, 32) -> dense(8), slice(32, 64) -> dense(8), merge=concat)",
         2 * (32 * 8 + 8), (10, 16)),
    ],
)
def test_slices(text, total, shape):
    network = symparam.parse(text)
    assert (network.value, network.output_shape) == (total, shape)


def test_symbolic_bounds():
    network = symparam.parse("in(T, d) -> dense(r + 2*s, bias=false) -> slice(0, r) -> dense(d)")
    assert [str(extent) for extent in network.layers[1].output_shape] == ["T", "r"]
    assert network.evaluate(T=4, d=8, r=2, s=3) == 8 * 8 + 2 * 8 + 8


def test_the_shape_matches_python_slicing():
    values = list(range(64))
    for start, stop in ((0, 1), (5, 64), (63, 64)):
        network = symparam.parse(f"in(64) -> slice({start}, {stop})")
        assert network.output_shape == (len(values[start:stop]),)


@pytest.mark.parametrize(
    "text, message, at",
    [
        ("in(10, 64) -> slice(8, 8)", r"slice\(8, 8\): start=8 must be below stop=8", "slice"),
        ("in(10, 64) -> slice(0, 65)", r"stop=65 is past the 64 features of its input", "slice"),
        ("in(10, 64) -> slice(-1, 3)", r"start must be a whole number >= 0, got -1", "-1"),
        ("in(10, 64) -> slice(4)", r"missing stop \(argument 'stop'\)", "slice"),
    ],
)
def test_errors(text, message, at):
    assert_error(text, message, 1, text.index(at) + 1)
