"""Repetitions that change the shape: the first instance alone, instances that grow the
shape alike (a closed form over the instances), or any change written out. Each is
checked against the same network written out layer by layer."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symparam

BODIES = [
    # (a body taking (a) to (b), then (b) to (b))
    "dense({b})",
    "(dense({b}) -> relu)",
    "(dense({b}, bias=false) -> layer_norm -> dropout(0.1))",
    "residual(dense({b}), shortcut=dense({b}))",
]


def written_out(body: str, times: int) -> str:
    return " -> ".join([body] * times)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.integers(1, 64), st.integers(1, 64), st.integers(1, 6), st.sampled_from(BODIES))
def test_a_repetition_whose_first_instance_changes_the_shape_equals_it_written_out(a, b, n, body):
    body = body.format(b=b)
    repeated = symparam.parse(f"in({a}) -> {body} * {n}")
    assert repeated.value == symparam.parse(f"in({a}) -> {written_out(body, n)}").value
    assert repeated.output_shape == (b,)
    assert sum(row.params for row in repeated.layers) == repeated.value


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.integers(1, 64), st.integers(1, 64), st.integers(1, 6), st.sampled_from(BODIES))
def test_a_symbolic_count_gives_the_same_formula(a, b, n, body):
    symbolic = symparam.parse(f"in({a}) -> {body.format(b=b)} * n")
    assert symbolic.evaluate(n=n) == symparam.parse(f"in({a}) -> {body.format(b=b)} * {n}").value


GROWING = "parallel(identity, {inner}, merge=concat)"
INNERS = [
    "conv2d({k}, 3, padding=1)",
    "batch_norm -> relu -> conv2d(4 * {k}, 1, bias=false) -> batch_norm -> relu -> conv2d({k}, 3, padding=1, bias=false)",
]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.integers(1, 32), st.integers(1, 16), st.integers(1, 8), st.sampled_from(INNERS),
       st.sampled_from(["keras", "torch"]))
def test_a_growing_repetition_in_closed_form_equals_the_explicit_sum(c, k, n, inner, convention):
    layer = GROWING.format(inner=inner.format(k="k"))
    formula = symparam.parse(f"in(8, 8, c) -> {layer} * n", convention=convention)
    assert "Sum" not in str(formula.total)  # a closed form, not a Σ
    explicit = symparam.parse(
        f"in(8, 8, {c}) -> {written_out(GROWING.format(inner=inner.format(k=k)), n)}",
        convention=convention,
    )
    evaluated = formula.subs(c=c, k=k, n=n)
    assert evaluated.value == explicit.value
    assert evaluated.output_shape == explicit.output_shape == (8, 8, c + n * k)


def test_a_growing_repetition_past_the_unrolling_limit_is_summed_exactly():
    layer = GROWING.format(inner="conv2d(4, 3, padding=1)")
    network = symparam.parse(f"in(8, 8, 16) -> {layer} * 20000")
    # instance j reads 16 + 4j channels: 9·4·(16 + 4j) + 4 parameters
    assert network.value == sum(36 * (16 + 4 * j) + 4 for j in range(20000))
    assert network.output_shape == (8, 8, 80016)


def test_a_concrete_count_writes_out_any_other_change():
    network = symparam.parse("in(16, 16, 4) -> (conv2d(8, 3, padding=1) -> max_pool2d(2)) * 3")
    explicit = symparam.parse("in(16, 16, 4) -> " + written_out("conv2d(8, 3, padding=1) -> max_pool2d(2)", 3))
    assert (network.value, network.output_shape) == (explicit.value, explicit.output_shape) == (1464, (2, 2, 8))  # 296 + 584 + 584


def test_the_tree_and_the_summary_show_the_first_instance_and_the_others():
    network = symparam.parse("in(784) -> dense(16) * 3 -> dense(10)")
    (_, repeat, _) = network.tree.children
    first, others = repeat.children
    assert (first.source, first.params) == ("dense(16)", 784 * 16 + 16)
    assert (others.kind, others.times, others.params) == ("repeat", 2, 2 * 272)
    assert [(row.source, row.params, row.repeats) for row in network.layers] == [
        ("dense(16)", 12560, ()), ("dense(16)", 544, (2,)), ("dense(10)", 170, ())]
    summary = network.summary(depth=0)
    assert [row.params for row in summary.rows] == [13104, 170]


@pytest.mark.parametrize("text", ["in(784) -> dense(16) * 2 as h", "in(784) -> (dense(16) as h) * 3"])
def test_a_name_inside_a_repetition_is_its_first_instance(text):
    if " * 2 as h" in text:
        with pytest.raises(symparam.SymparamError, match="'as' names what stands just before it"):
            symparam.parse(text)
        return
    assert symparam.parse(text + " -> dense(784, tie=h)").value == 784 * 16 + 16 + 2 * 272 + 784


@pytest.mark.parametrize(
    "text, written_out",
    [
        ("in(8) -> residual(dense(16) * 2 -> dense(8))", "in(8) -> residual(dense(16) -> dense(16) -> dense(8))"),
        ("in(8) -> parallel(dense(16) * 2, dense(16), merge=concat)",
         "in(8) -> parallel(dense(16) -> dense(16), dense(16), merge=concat)"),
        ("let b(w) = dense(w) * 2;\nin(4) -> b(3) -> b(5)", "in(4) -> dense(3) -> dense(3) -> dense(5) -> dense(5)"),
    ],
    ids=["in-residual", "in-parallel", "in-a-definition"],
)
def test_inside_other_constructs(text, written_out):
    assert symparam.parse(text).value == symparam.parse(written_out).value


def test_with_the_ellipsis():
    network = symparam.parse("let b(w) = dense(w) * 2;\nin(h0) -> b(h1) -> ... -> b(hl)")
    assert network.subs(h=[4, 3, 5], l=2).value == symparam.parse(
        "in(4) -> dense(3) -> dense(3) -> dense(5) -> dense(5)").value


def test_the_summary_writes_the_first_instance_and_the_others():
    rows = symparam.parse("in(784) -> dense(16) * 3").summary().rows
    assert (rows[0].formula, rows[0].params) == ("12560 + 2 × 272", 13104)
    rows = symparam.parse("in(784) -> dense(h) * L").summary().rows
    assert rows[0].formula == "785·h + (L − 1) × (h² + h)"
