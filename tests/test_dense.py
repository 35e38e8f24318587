"""Fully connected networks: the seeds' numbers, general formulas, ellipsis, repetition.

Every expected value is worked out by hand (inputs × outputs + one bias per node), from
the texts in shared/seeds, or from an explicit sum written independently of symparam.
"""

from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symparam


def dense_count(widths, bias=True):
    """The seeds' working, independently: Σ inputs·outputs + Σ outputs."""
    weights = sum(a * b for a, b in zip(widths, widths[1:]))
    biases = sum(widths[1:]) if bias else 0
    return weights + biases


def chain(widths, bias=True):
    suffix = "" if bias else ", bias=false"
    return f"in({widths[0]}) -> " + " -> ".join(f"dense({w}{suffix})" for w in widths[1:])


# ------------------------------------------------------------------ the seeds

SEEDS = [
    # (expression, total, per-layer params)
    ("in(2) -> dense(3) -> dense(2)", 17, [9, 8]),  # 2×3 + 3 = 9; 3×2 + 2 = 8
    ("in(3) -> dense(4) -> dense(4) -> dense(1)", 41, [16, 20, 5]),
    ("in(784) -> dense(16) -> dense(16) -> dense(10)", 13002, [12560, 272, 170]),
    ("in(2) -> dense(2) -> dense(2)", 12, [6, 6]),  # (2x2)+(2x2)+(2+2)
    ("in(2) -> dense(3, bias=false) -> dense(2, bias=false)", 12, [6, 6]),
]


@pytest.mark.parametrize("text, total, per_layer", SEEDS, ids=["2-3-2", "3-4-4-1", "784-16-16-10", "2-2-2", "2-3-2-nobias"])
def test_seed_networks(text, total, per_layer):
    network = symparam.parse(text)
    assert network.value == total
    assert type(network.value) is int
    assert [layer.params for layer in network.layers] == per_layer
    assert sum(layer.params for layer in network.layers) == total


def test_784_16_16_10_weights_and_biases():
    network = symparam.parse("in(784) -> dense(16) -> dense(16) -> dense(10)")
    assert network.weights == 784 * 16 + 16 * 16 + 16 * 10 == 12960
    assert network.biases == 32 + 10 == 42
    assert network.trainable == 13002 and network.non_trainable == 0


def test_dense_acts_on_the_last_axis():
    network = symparam.parse("in(10, 32) -> dense(16)")
    assert network.value == 32 * 16 + 16 == 528
    assert network.output_shape == (10, 16)


@pytest.mark.parametrize(
    "text, total",
    [
        ("in(2) -> Dense(3) -> Linear(2)", 17),
        ("input(2) -> dense(units=3) -> dense(out_features=2, use_bias=true)", 17),
        ("in(2) -> dense(3, activation=relu) -> relu -> dropout(0.5) -> dense(2) -> softmax", 17),
        ("in(2) -> dense(3, bias=False) -> dense(2, bias=false)", 12),
        ("# a comment\nin(2)   # inputs\n  -> dense(3)\n  -> dense(2)  # output\n", 17),
        ("in(5, 4, 3) -> flatten -> dense(2)", 60 * 2 + 2),
        ("in(2*3 + 1) -> dense(2^3) -> dense((10 - 4) // 4)", 7 * 8 + 8 + 8 * 1 + 1),
        ("in(1_000) -> dense(1e3)", 1000 * 1000 + 1000),
    ],
    ids=["aliases", "keywords", "zero-param-layers", "bias-false", "comments", "flatten", "arithmetic", "underscores"],
)
def test_language_forms(text, total):
    assert symparam.count(text) == total


def test_huge_layers_count_exactly():
    n = 10**15
    total = symparam.count(f"in({n}) -> dense({n}) -> dense({n})")
    assert total == 2 * n * n + 2 * n == 2_000_000_000_000_002_000_000_000_000_000
    assert type(total) is int


def test_concrete_count_stays_exact_past_float_precision():
    assert symparam.count("in(10^15 + 1) -> dense(10^15)") == (10**15 + 1) * 10**15 + 10**15


# ------------------------------------------------------------------ general formulas

i = sp.Symbol("i", integer=True)  # the summation index symparam uses


def same_formula(a, b) -> bool:
    return sp.simplify((a - b).doit()) == 0


def test_general_formula_is_the_two_sums():
    network = symparam.parse("in(h0) -> dense(h1) -> ... -> dense(hl)")
    assert str(network.total) == "Sum(h[i - 1]*h[i], (i, 1, l)) + Sum(h[i], (i, 1, l))"
    assert str(network.weights) == "Sum(h[i - 1]*h[i], (i, 1, l))"
    assert str(network.biases) == "Sum(h[i], (i, 1, l))"


def test_general_formula_latex():
    latex = symparam.parse("in(h0) -> dense(h1) -> ... -> dense(hl)").latex()
    assert r"\sum_{i=1}^{l}" in latex and "h_{i - 1}" in latex
    assert latex == r"\sum_{i=1}^{l} h_{i - 1} h_{i} + \sum_{i=1}^{l} h_{i}"


@pytest.mark.parametrize(
    "text",
    [
        "in(h0) -> dense(h1) -> ... -> dense(hl)",
        "in(h0) -> dense(h1) ... -> dense(hl)",
        "in(h_0) -> dense(h_1) -> ... -> dense(h_l)",
        "in(h_{0}) -> dense(h_{1}) -> ... -> dense(h_{l})",
        "in(h0) -> dense(h1) … -> dense(hl)",
    ],
    ids=["arrows", "short", "underscores", "braces", "unicode-ellipsis"],
)
def test_ellipsis_spellings_agree(text):
    assert str(symparam.parse(text).total) == "Sum(h[i - 1]*h[i], (i, 1, l)) + Sum(h[i], (i, 1, l))"


@pytest.mark.parametrize("widths", [[784, 16, 16, 10], [2, 3, 2], [3, 4, 4, 1], [5, 7]])
def test_general_formula_evaluates_to_the_seeds(widths):
    network = symparam.parse("in(h0) -> dense(h1) -> ... -> dense(hl)")
    expected = dense_count(widths)
    assert network.evaluate(h=widths) == expected  # l inferred from the sequence
    assert network.evaluate(h=widths, l=len(widths) - 1) == expected
    assert symparam.count("in(h0) -> dense(h1) -> ... -> dense(hl)", h=widths) == expected


def test_stages_around_the_ellipsis_keep_their_terms():
    network = symparam.parse("in(x) -> dense(h1) -> ... -> dense(hl) -> dense(y)")
    x, y, h, l = (network.symbols[name] for name in ("x", "y", "h", "l"))
    expected = (
        x * h[1] + h[1]
        + sp.Sum(h[i - 1] * h[i] + h[i], (i, 2, l))
        + h[l] * y + y
    )
    assert same_formula(network.total, expected)
    # and evaluated: x=5, h1..h3 = 4, 3, 2, y=6
    sizes = dict(x=5, h_1=4, h_2=3, h_3=2, l=3, y=6)
    assert network.evaluate(**sizes) == dense_count([5, 4, 3, 2, 6])


def test_ellipsis_with_index_expressions():
    network = symparam.parse("in(n_0) -> dense(n_1) -> ... -> dense(n_{L-1})")
    n, L = network.symbols["n"], network.symbols["L"]
    expected = sp.Sum(n[i - 1] * n[i], (i, 1, L - 1)) + sp.Sum(n[i], (i, 1, L - 1))
    assert network.total == expected
    assert network.evaluate(n=[6, 5, 4, 3]) == dense_count([6, 5, 4, 3])  # L inferred as 4


def test_concrete_ellipsis_is_written_out():
    network = symparam.parse("in(h0) -> dense(h1) -> ... -> dense(h3)")
    assert [layer.source for layer in network.layers] == ["dense(h1)", "dense(h2)", "dense(h3)"]
    h = network.symbols["h"]
    h0, h1, h2, h3 = (h[k] for k in range(4))
    assert network.total == h0 * h1 + h1 * h2 + h2 * h3 + h1 + h2 + h3


def test_ellipsis_on_multi_axis_input():
    network = symparam.parse("in(T, c0) -> dense(c1) -> ... -> dense(cL)")
    assert network.evaluate(T=7, c=[3, 4, 5]) == dense_count([3, 4, 5])
    assert str(network.output_shape) == "(T, c[L])"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=10**6), min_size=2, max_size=9), st.booleans())
def test_general_formula_equals_the_explicit_chain(widths, bias):
    suffix = "" if bias else ", bias=false"
    general = symparam.parse(f"in(h0) -> dense(h1{suffix}) -> ... -> dense(hl{suffix})")
    explicit = symparam.count(chain(widths, bias))
    assert explicit == dense_count(widths, bias)
    assert general.evaluate(h=widths) == explicit
    # The same through SymPy: substitute into the closed form and sum.
    h_base = general.symbols["h"]
    l_sym = general.symbols["l"]
    closed = general.total.subs(l_sym, len(widths) - 1).doit()
    closed = closed.xreplace({h_base[k]: w for k, w in enumerate(widths)})
    assert closed == explicit


# ------------------------------------------------------------------ repetition


def test_repeated_block_multiplies_the_formula():
    network = symparam.parse("in(d) -> (dense(4*d) -> dense(d)) * L")
    assert str(network.total) == "L*(8*d**2 + 5*d)"
    d, L = network.symbols["d"], network.symbols["L"]
    assert sp.expand(network.total - L * (d * 4 * d + 4 * d + 4 * d * d + d)) == 0
    assert network.evaluate(d=512, L=12) == 12 * (8 * 512**2 + 5 * 512)


@pytest.mark.parametrize(
    "text, total",
    [
        ("in(16) -> dense(16) * 3", 3 * (16 * 16 + 16)),
        ("in(16) -> (dense(16) -> relu) * 3 -> dense(2)", 3 * 272 + 34),
        ("in(8) -> ((dense(8) -> dense(8)) * 2 -> dense(8)) * 3", 3 * (2 * 2 * 72 + 72)),
        ("in(4) -> dense(4) * (1 + 1)", 2 * 20),
    ],
    ids=["single", "chain", "nested", "count-expression"],
)
def test_repetition_concrete(text, total):
    assert symparam.count(text) == total


def test_zero_repetitions_are_no_layers():
    network = symparam.parse("in(784) -> dense(h) -> dense(h) * (L - 1) -> dense(10)")
    assert network.evaluate(h=16, L=1) == 784 * 16 + 16 + 16 * 10 + 10
    assert network.evaluate(h=16, L=2) == 13002


def test_repetition_is_never_unrolled():
    # GPT-3's MLP stack: 96 blocks of d -> 4d -> d with d = 12288, counted in closed form.
    network = symparam.parse("in(d) -> (dense(4*d) -> gelu -> dense(d)) * L")
    assert len(network.layers) == 3
    assert network.evaluate(d=12288, L=96) == 96 * (8 * 12288**2 + 5 * 12288)
    assert all(layer.repeats == (network.symbols["L"],) for layer in network.layers)


def test_rows_add_up_to_the_total():
    for text in [s[0] for s in SEEDS] + ["in(d) -> (dense(4*d) -> dense(d)) * L -> dense(3)"]:
        network = symparam.parse(text)
        assert sp.expand(sum(layer.params for layer in network.layers) - network.total) == 0


# ------------------------------------------------------------------ binding sizes


def test_partial_binding_stays_symbolic():
    network = symparam.parse("in(d) -> dense(f) -> dense(d)", d=10)
    assert not network.is_concrete and network.value is None
    f = network.symbols["f"]
    assert sp.expand(network.total - (10 * f + f + f * 10 + 10)) == 0
    assert network.evaluate(f=3) == 10 * 3 + 3 + 3 * 10 + 10


@pytest.mark.parametrize(
    "sizes",
    [dict(h0=2, h1=3, h2=2, l=2), dict(h_0=2, h_1=3, h_2=2, l=2), dict(h=[2, 3, 2]), dict(h="2,3,2")],
    ids=["entries", "underscore-entries", "sequence", "text"],
)
def test_binding_forms(sizes):
    assert symparam.count("in(h0) -> dense(h1) -> ... -> dense(hl)", **sizes) == 17


def test_count_returns_sympy_when_symbolic():
    total = symparam.count("in(n) -> dense(m)")
    assert isinstance(total, sp.Expr)
    assert str(total) == "m*n + m"


def test_concrete_count_does_not_import_sympy():
    import subprocess
    import sys

    code = (
        "import sys, symparam\n"
        "assert symparam.count('in(784) -> dense(16) -> dense(16) -> dense(10)') == 13002\n"
        "assert symparam.count('in(h0) -> dense(h1) -> ... -> dense(hl)', h=[2, 3, 2]) == 17\n"
        "print('sympy' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
