"""Definitions that take layers: `let pre_norm(f) = residual(layer_norm -> f);`.

Each count is checked against the same network with the definition written out by
hand, so nothing expected comes from the feature under test."""

from __future__ import annotations

import pytest
from helpers import assert_error
from hypothesis import given, settings
from hypothesis import strategies as st

import symparam

PRE_NORM = "let pre_norm(f) = residual(layer_norm -> f);\n"


@pytest.mark.parametrize(
    "text, written_out",
    [
        (PRE_NORM + "in(10, 64) -> pre_norm(attention(8))",
         "in(10, 64) -> residual(layer_norm -> attention(8))"),
        (PRE_NORM + "in(10, 64) -> pre_norm(dense(256) -> relu -> dense(64))",
         "in(10, 64) -> residual(layer_norm -> dense(256) -> relu -> dense(64))"),
        (PRE_NORM + "in(10, 64) -> pre_norm(relu)", "in(10, 64) -> residual(layer_norm -> relu)"),
        ("let twice(f) = f -> f;\nin(4) -> twice(dense(4))", "in(4) -> dense(4) -> dense(4)"),
        ("let rep(f, n) = f * n;\nin(4) -> rep(dense(4), 3)", "in(4) -> dense(4) * 3"),
        ("let rep(f, n) = n * f;\nin(4) -> rep(dense(4), 3)", "in(4) -> dense(4) * 3"),
        # through another definition: h's x is a layer because g's f is one
        ("let g(f) = residual(f);\nlet h(x) = g(x -> relu);\nin(8) -> h(dense(8))",
         "in(8) -> residual(dense(8) -> relu)"),
        # by keyword, and inside parallel's branches
        ("let gate(f, g) = parallel(f, g, merge=multiply);\nin(4) -> gate(g=dense(4), f=dense(4) -> silu)",
         "in(4) -> parallel(dense(4) -> silu, dense(4), merge=multiply)"),
        # frozen as an argument
        ("let head(backbone) = backbone -> dense(2);\nin(4) -> head(frozen(dense(3)))",
         "in(4) -> frozen(dense(3)) -> dense(2)"),
    ],
)
def test_a_layer_argument_counts_as_written_in_place(text, written_out):
    network, expected = symparam.parse(text), symparam.parse(written_out)
    assert (network.value, network.trainable, network.output_shape) == (
        expected.value, expected.trainable, expected.output_shape)


LEVEL = ("let level(c, inner) = parallel(identity, conv2d(c, 3, padding=1) -> inner"
         " -> conv2d(c, 3, padding=1), merge=concat);\n")


def test_a_layer_argument_may_call_the_definition_it_is_given_to():
    nested = symparam.parse(LEVEL + "in(32, 32, 3) -> level(8, level(16, relu))")
    by_hand = symparam.parse(
        "in(32, 32, 3) -> parallel(identity, conv2d(8, 3, padding=1)"
        " -> parallel(identity, conv2d(16, 3, padding=1) -> relu -> conv2d(16, 3, padding=1), merge=concat)"
        " -> conv2d(8, 3, padding=1), merge=concat)"
    )
    assert (nested.value, nested.output_shape) == (by_hand.value, by_hand.output_shape) == (5448, (32, 32, 11))


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.integers(1, 40))
def test_arguments_are_read_where_the_call_is_written(c):
    """level(2*c, level(4*c, relu)): the inner level counts at 4c, not at a name the
    outer call put in place again."""
    text = ("let level(c, inner) = parallel(identity, dense(c) -> inner, merge=concat);\n"
            "in(c) -> level(2*c, level(4*c, relu))")
    network = symparam.parse(text)
    assert str(network.total) == "10*c**2 + 6*c"  # 2c² + 2c outside, 8c² + 4c inside
    assert network.evaluate(c=c) == symparam.parse(
        f"in({c}) -> parallel(identity, dense({2 * c}) -> parallel(identity, dense({4 * c}) -> relu,"
        " merge=concat), merge=concat)").value


ERRORS = [
    ("let f(c) = dense(c) -> c;\nin(4) -> f(3)",
     r"'c' stands for a layer in one place of 'f' and for a size in another", (1, 24)),
    ("let g(f) = dense(f) -> f;\nin(4) -> g(4)",
     r"'f' stands for a layer in one place of 'g' and for a size in another", (1, 24)),
    (PRE_NORM + "in(10, 64) -> pre_norm(3)",
     r"'f' of 'pre_norm' stands for a layer: give a layer or a chain, such as relu or \(dense\(8\) -> relu\), not '3'",
     (2, 24)),
    ("let g(f) = f(3);\nin(4) -> g(relu)", r"'f' is a parameter of 'g': it stands for a layer as given, and takes no arguments here", (1, 12)),
    ("let ffn(d) = dense(d);\nin(4) -> ffn(dense(4))", r"expected a size here, not the layer 'dense\(4\)'", (2, 14)),
    ("let twice(f) = f -> f;\nin(4) -> twice(dense(4) as x)", r"the name 'x' is given to two layers", (2, 28)),
]


@pytest.mark.parametrize("text, message, where", ERRORS, ids=[e[1][:40] for e in ERRORS])
def test_errors(text, message, where):
    assert_error(text, message, *where)


@pytest.mark.parametrize("body", ["n * f", "f * n", "residual(n * f)", "residual(f * n)"])
@pytest.mark.parametrize("layer", ["dense(4)", "relu", "(dense(4) -> relu)"])
def test_which_of_two_parameters_is_the_layer_the_arguments_tell(body, layer):
    network = symparam.parse(f"let rep(f, n) = {body};\nin(4) -> rep({layer}, 3)")
    written = body.replace("n", "COUNT").replace("f", layer).replace("COUNT", "3")
    assert network.value == symparam.parse(f"in(4) -> {written}").value
