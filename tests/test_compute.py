"""Forward and training compute (symparam.compute, `symparam flops`): values worked out
by hand below, each with its working; PyTorch's FlopCounterMode checks the same
formulas in test_compute_torch.py."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import sympy
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symparam
from symparam.cli import main
from symparam.compute_layers import GROUP_WORK, WORK
from symparam.layers import REGISTRY
from test_tree import ARCHITECTURES, _at_sizes, _parse

GPT2 = open("examples/gpt2.sp", encoding="utf-8").read()
GPT2_SMALL = dict(V=50257, T=1024, d=768, L=12, H=12)
GPT3 = dict(V=50257, T=2048, d=12288, L=96, H=96)

# (expression, forward MACs, elementwise operations), per example, each by hand.
BY_HAND = [
    pytest.param("in(2) -> dense(3) -> dense(2)", 2 * 3 + 3 * 2, 3 + 2, id="seed-2-3-2"),
    pytest.param("in(784) -> dense(16) -> dense(16) -> dense(10)",
                 784 * 16 + 16 * 16 + 16 * 10, 16 + 16 + 10, id="mnist-mlp"),
    # 20×20 positions each: 3×3 windows of 3 channels to 2 filters, then of 2 to 3;
    # flatten moves data; dense reads 1,200. Biases: 800 + 1,200 + 2.
    pytest.param("in(20, 20, 3) -> conv2d(2, 3, padding=same) -> conv2d(3, 3, padding=same) -> flatten -> dense(2)",
                 400 * 9 * 3 * 2 + 400 * 9 * 2 * 3 + 1200 * 2, 800 + 1200 + 2, id="seed-cnn"),
    # stride 2, same: 16×16 outputs; 4 groups: each filter reads 16/4 = 4 channels.
    pytest.param("in(32, 32, 16) -> conv2d(32, 3, strides=2, padding=same, groups=4, bias=false)",
                 16 * 16 * 9 * 4 * 32, 0, id="conv-grouped-strided"),
    # each of the 8×8 inputs' 4 channels spread over a 3×3 window of 2 filters
    pytest.param("in(8, 8, 4) -> conv2d_transpose(2, 3, strides=2, bias=false)", 64 * 9 * 4 * 2, 0,
                 id="conv-transposed"),
    # depthwise 3×3 on 8 channels (×2), then pointwise 16 -> 4, at 6×6 valid positions
    pytest.param("in(8, 8, 8) -> separable_conv2d(4, 3, depth_multiplier=2, bias=false)",
                 36 * (9 * 16 + 16 * 4), 0, id="separable"),
    # dense on (T, d) acts at each of the T positions; relu once per output
    pytest.param("in(5, 6) -> dense(7, activation=relu)", 5 * 6 * 7, 2 * 5 * 7, id="dense-on-sequence"),
    # LSTM: 4 gates × 8 units reading 3 inputs and 8 states, at each of 10 steps;
    # per unit and step 13 elementwise: 4 gates' bias and activation, 5 in the update
    pytest.param("in(10, 3) -> lstm(8)", 10 * 4 * 8 * (3 + 8), 10 * 8 * 13, id="lstm"),
    pytest.param("in(10, 3) -> gru(8)", 10 * 3 * 8 * (3 + 8), 10 * 8 * 10, id="gru"),
    # embedding: a lookup; layer norm: normalize, scale, shift each element
    pytest.param("in(7) -> embedding(100, 4) -> layer_norm", 0, 3 * 7 * 4, id="embedding-norm"),
    # self-attention, 2 heads of 4 over 5 positions: 4 projections of 8×8 at each
    # position, scores and weighted sums 2 × 2 heads × 5 × 5 × 4; elementwise: the
    # 4 biases at each position (4 × 5 × 8) and a softmax per score (2 × 5 × 5)
    pytest.param("in(5, 8) -> attention(2)", 4 * 5 * 8 * 8 + 2 * 2 * 5 * 5 * 4, 4 * 5 * 8 + 2 * 5 * 5,
                 id="attention"),
    # max pool 2×2 on a 4×4×3 map: 2×2×3 outputs, each of 4 elements; global average: all 12
    pytest.param("in(4, 4, 3) -> max_pool2d(2) -> global_avg_pool", 0, 2 * 2 * 3 * 4 + 2 * 2 * 3,
                 id="pooling"),
    # the residual add: one per element
    pytest.param("in(6) -> residual(dense(6, bias=false))", 36, 6, id="residual"),
    # 3 repetitions of 4×4
    pytest.param("in(4) -> dense(4, bias=false) * 3", 3 * 16, 0, id="repetition"),
    # Keras-only kinds, which PyTorch's counter cannot run. ConvLSTM: at each of 5 steps
    # and 8×8 positions, 4 gates × 4 filters read a 3×3 window of 3 inputs and 4 states;
    # per filter, position and step the 13 elementwise of an LSTM unit
    pytest.param("in(5, 8, 8, 3) -> conv_lstm2d(4, 3, padding=same)", 5 * 64 * 9 * 16 * (3 + 4),
                 5 * 64 * 4 * 13, id="conv-lstm"),
    # Keras' Attention over 5 positions of 8: 5 × 5 scores of 8 products, the weighted
    # sum as many; a softmax per score
    pytest.param("in(5, 8) -> dot_attention", 2 * 25 * 8, 25, id="dot-attention"),
    # STFT as a convolution: 7 frames of 4 samples (step 2), one kernel of 4 × 3 bins
    pytest.param("in(16, 1) -> stft_spectrogram(mode=real, frame_length=4)", 7 * 4 * 3, 7 * 3, id="stft"),
]


@pytest.mark.parametrize("expression, macs, elementwise", BY_HAND)
def test_forward_work_by_hand(expression, macs, elementwise):
    compute = symparam.parse(expression).compute()
    assert (compute.macs, compute.elementwise) == (macs, elementwise)
    assert isinstance(compute.macs, int) and isinstance(compute.elementwise, int)


def test_every_layer_kind_has_a_compute_formula():
    assert set(REGISTRY) == set(WORK) | set(GROUP_WORK)


# ------------------------------------------------------------------ formulas


def test_gpt2_macs_per_token_are_those_of_the_issue():
    """12·L·d² (projections and MLP) + 2·L·T·d (scores and weighted sums over T
    positions) + V·d (the tied head): the embeddings are lookups."""
    network = symparam.parse(GPT2)
    L, T, d, V = (network.symbols[name] for name in "LTdV")
    compute = network.compute()
    assert compute.tokens == T
    assert sympy.expand(compute.per_token - (12 * L * d**2 + 2 * L * T * d + V * d)) == 0
    assert sympy.expand(compute.macs - T * compute.per_token) == 0


def test_gpt2_small_per_token_concrete():
    compute = symparam.parse(GPT2, **GPT2_SMALL).compute()
    assert compute.per_token == 12 * 12 * 768**2 + 2 * 12 * 1024 * 768 + 50257 * 768 == 142_406_400
    assert compute.macs == 1024 * 142_406_400


def test_kaplan_six_n_per_token_is_the_leading_term():
    """Training: 3 passes × 2 FLOPs per MAC; as d grows, 6 × (12·L·d²), Kaplan's 6·N."""
    result = CliRunner().invoke(main, ["flops", GPT2, "--training", "--leading", "d", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["flops_per_token"] == "72*L*d**2"
    assert document["macs_per_token"] == "12*L*d**2"


def test_gpt3_training_compute():
    """GPT-3 175B on 300B tokens: 3.14 × 10^23 FLOPs as published (6·N·D, N the count
    174,604,259,328); the leading term 6·12·L·d²·D gives 3.13 × 10^23 and the full
    forward, with attention over 2,048 positions and the head, 3.23 × 10^23."""
    network = symparam.parse(GPT2, **GPT3)
    assert network.total == 174_604_259_328
    tokens = 300 * 10**9
    full = network.flops(training=True, tokens=tokens)
    per_token = 12 * 96 * 12288**2 + 2 * 96 * 2048 * 12288 + 50257 * 12288
    assert full == 6 * per_token * tokens
    result = CliRunner().invoke(main, ["flops", GPT2, *_set(GPT3), "--training", "--tokens", "300e9"])
    assert "6·N·D, N = 174,604,259,328" in result.output and "(≈ 3.14 × 10^23)" in result.output
    assert "FLOPs for 300,000,000,000 tokens, training: 322,912,029,081,600,000,000,000 (≈ 3.23 × 10^23)" in result.output
    leading = CliRunner().invoke(main, ["flops", GPT2, *_set(GPT3), "--training", "--tokens", "300e9",
                                        "--leading", "d"])
    assert f"training: {6 * 12 * 96 * 12288**2 * tokens:,} (≈ 3.13 × 10^23)" in leading.output


def _set(sizes: dict) -> list[str]:
    return [item for name, value in sizes.items() for item in ("--set", f"{name}={value}")]


def test_moe_runs_top_k_experts_per_position():
    """The router scores 8 experts at each of T positions; 2 of them run there."""
    network = symparam.parse("in(T, d) -> moe(8, dense(4*d, bias=false) -> dense(d, bias=false), top_k=2)")
    T, d = network.symbols["T"], network.symbols["d"]
    assert sympy.expand(network.macs - (8 * T * d + 2 * 8 * T * d**2)) == 0


def test_cross_attention_reads_the_other_length():
    network = symparam.parse("in(S, e) -> layer_norm as memory; in(T, d) -> attention(H, key_dim=k, context=memory)")
    S, e, T, d, H, k = (network.symbols[name] for name in ("S", "e", "T", "d", "H", "k"))
    # q and o at the T positions, k and v at the S positions of the memory
    expected = T * d * H * k + 2 * S * e * H * k + T * H * k * d + 2 * H * T * S * k
    assert sympy.expand(network.macs - expected) == 0


def test_grouped_query_attention_projects_fewer_keys_and_values():
    full = symparam.parse("in(16, 64) -> attention(8)").macs
    grouped = symparam.parse("in(16, 64) -> attention(8, kv_heads=2)").macs
    assert full - grouped == 2 * 16 * 64 * (64 - 16)  # k and v: 8 heads of 8 down to 2


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 10**6), min_size=2, max_size=8))
def test_a_general_formula_equals_the_concrete_count(widths):
    """Σ_{i=1}^{l} h_{i-1}·h_i with the sizes put in is the count of the layers written out."""
    general = symparam.parse("in(h0) -> dense(h1) -> ... -> dense(hl)").compute()
    h = sympy.IndexedBase("h", integer=True, positive=True)
    concrete = symparam.parse(" -> ".join([f"in({widths[0]})", *(f"dense({w})" for w in widths[1:])])).compute()
    values = {sympy.Symbol("l", integer=True, positive=True): len(widths) - 1}
    substituted = general.macs.subs(values).doit().subs({h[k]: w for k, w in enumerate(widths)})
    assert substituted == concrete.macs == sum(a * b for a, b in zip(widths, widths[1:]))


def test_batch_and_training_scale_the_flops():
    network = symparam.parse("in(784) -> dense(16) -> dense(10)")
    macs = 784 * 16 + 16 * 10
    assert network.flops() == 2 * macs
    assert network.flops(batch=4, training=True) == 3 * 4 * 2 * macs
    assert network.flops(elementwise=True) == 2 * macs + 26


def test_counts_of_10_to_the_30_stay_exact():
    network = symparam.parse("in(d) -> dense(d)", d=10**15)
    assert network.macs == 10**30 and network.flops(batch=3) == 6 * 10**30


def test_a_concrete_flop_count_does_not_import_sympy():
    program = ("import sys, symparam; n = symparam.parse('in(784) -> dense(16) -> dense(10)');"
               "print(n.flops(training=True), 'sympy' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert run.stdout.split() == [str(6 * (784 * 16 + 16 * 10)), "False"]


# ------------------------------------------------------------------ the command


def test_flops_command_text():
    result = CliRunner().invoke(main, ["flops", "in(784) -> dense(16) -> dense(16) -> dense(10)"])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "MACs, forward, one example: 12,960",
        "FLOPs, forward, one example: 25,920",
        "elementwise operations, forward, one example (not in the FLOPs): 42",
    ]


def test_flops_command_batch_and_latex():
    result = CliRunner().invoke(main, ["flops", "in(d) -> dense(d)", "--batch", "8", "--format", "latex"])
    assert result.exit_code == 0
    assert r"\text{MACs, forward, a batch of 8} &= 8 d^{2}" in result.output


@pytest.mark.parametrize("arguments, message", [
    (["in(3) -> dense(2)", "--tokens", "5"], "FLOPs per token need a sequence model"),
    (["in(7) -> embedding(9, 4)", "--tokens", "2.5"], "a number of tokens is a whole number"),
    (["in(d) -> dense(d)", "--leading", "e"], "no free size 'e'"),
], ids=["tokens-without-sequence", "fractional-tokens", "leading-unknown-name"])
def test_flops_command_errors(arguments, message):
    result = CliRunner().invoke(main, ["flops", *arguments])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


# ------------------------------------------------------------------ random architectures


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(ARCHITECTURES)
def test_symbolic_compute_at_the_sizes_equals_the_concrete_compute(arch):
    """Over every layer kind and structure (test_tree's generator): the compute formula
    with the sizes put in is the compute of the network written with them, part by part."""
    concrete = _parse(arch, symbolic=False).compute()
    symbolic_network = _parse(arch, symbolic=True)
    symbolic = symbolic_network.compute()
    assert isinstance(concrete.macs, int) and isinstance(concrete.elementwise, int)
    assert concrete.macs >= 0 and concrete.elementwise >= 0
    assert _at_sizes(symbolic.macs, symbolic_network, arch) == concrete.macs
    assert _at_sizes(symbolic.elementwise, symbolic_network, arch) == concrete.elementwise


# ------------------------------------------------------------------ summary --columns


def _column_sum(summary, column):
    rows = [row.figures[column] for row in summary.rows if not row.header]
    return sympy.expand(sum(rows, 0)) if any(not isinstance(v, int) for v in rows) else sum(rows)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(ARCHITECTURES, st.integers(0, 3), st.booleans())
def test_summary_columns_add_up_to_the_totals(arch, depth, symbolic):
    """As the parameters do: the rows that are not headers add up to the network's MACs
    (and their outputs to the activations' total), at any depth."""
    network = _parse(arch, symbolic)
    summary = network.summary(depth=depth, columns=("params", "macs", "activations"))
    assert sympy.expand(_column_sum(summary, "macs") - network.macs) == 0
    assert sympy.expand(_column_sum(summary, "activations") - summary.figures["activations"]) == 0
    assert summary.figures["macs"] == network.macs
    assert sympy.expand(summary.figures["activations"] - network.memory().activation_terms) == 0


def test_summary_columns_of_gpt2_small():
    network = symparam.parse(GPT2, **GPT2_SMALL)
    summary = network.summary(columns=("macs", "activations"))
    # activations as `symparam memory` counts them: the layers' outputs and the merges' results
    assert summary.figures == {"macs": 145_824_153_600, "activations": 186_729_472}
    assert network.memory().activation_terms == 186_729_472
    macs = {row.label.split("  ")[0]: row.figures["macs"] for row in summary.rows}
    assert macs["dense(V, bias=false, tie=wte)"] == 1024 * 768 * 50257  # the head, tied or not
    assert macs["block(d, H) * L"] == 12 * 1024 * (12 * 768**2 + 2 * 1024 * 768)
    text = str(summary)
    assert "Total MACs (forward, one example): 145,824,153,600" in text
    assert "Params" not in text.splitlines()[0]  # only the columns asked for


def test_summary_columns_command():
    result = CliRunner().invoke(main, ["summary", "in(T, d) -> moe(8, dense(4*d) -> dense(d), top_k=2)",
                                       "--columns", "macs", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["total_macs"] == "16*T*d**2 + 8*T*d"  # 2 of 8 experts run at each position
    assert [row["macs"] for row in document["rows"]] == ["8*T*d", "16*T*d**2"]  # the router, then its experts
    bad = CliRunner().invoke(main, ["summary", "in(3) -> dense(2)", "--columns", "params,flops"])
    assert bad.exit_code == 2 and "unknown column 'flops': the columns are params, macs, activations" in bad.output


# ------------------------------------------------------------------ explain --compute


def test_explain_shows_the_compute_working():
    text = str(symparam.parse(BY_HAND[2].values[0]).explain(compute=True))
    assert ("It computes 400 output positions × 27 window inputs (kernel × channels per group) × 2 filters "
            "= 21,600 multiply–accumulates (MACs), and 800 elementwise operations.") in text
    assert ("flatten: no parameters: it only changes the shape or the values, not what is learned. "
            "Its output has shape (1200). It computes nothing: it moves data.") in text
    assert ("Its forward pass for one example: 45,600 multiply–accumulates (FLOPs: 2 × MACs = 91,200) "
            "and 2,002 elementwise operations.") in text


def test_explain_says_how_often_a_layer_runs():
    """Inside moe(8, ..., top_k=2) a layer counts 8 times and runs twice."""
    text = str(symparam.parse("in(T, d) -> moe(8, dense(4*d) -> dense(d), top_k=2)").explain(compute=True))
    assert "which repeats 8 times, so it counts 8 times" in text
    assert "A forward pass runs it 2 times: 8·T·d² MACs." in text


def test_explain_without_compute_is_unchanged():
    plain = str(symparam.parse("in(2) -> dense(3) -> dense(2)").explain())
    assert "MAC" not in plain and plain.endswith("= 17 parameters (12 weights + 5 biases).")


def test_explain_compute_command():
    result = CliRunner().invoke(main, ["explain", "in(h0) -> dense(h1) -> ... -> dense(hl)", "--compute"])
    assert result.exit_code == 0
    assert ("Layer i computes h_{i−1}·h_i MACs, summed over i = 1 ... l: (Σ_{i=1}^{l} h_{i−1}·h_i) MACs "
            "and (Σ_{i=1}^{l} h_i) elementwise operations.") in result.output
    latex = CliRunner().invoke(main, ["explain", "in(784) -> dense(16) -> dense(10)", "--compute", "--latex"])
    assert r"\text{Total MACs (forward, one example)} &= 12{,}704" in latex.output


# ------------------------------------------------------------------ published figures


@pytest.mark.parametrize("file, sizes, macs, published", [
    # torchvision's model tables: "GFLOPS" there are multiply–accumulates, 2 decimals
    ("densenet121.sp", {"k": 32}, 2_834_161_664, "2.83"),
    ("efficientnet_b0.sp", {}, 385_814_752, "0.39"),
], ids=["densenet121", "efficientnet_b0"])
def test_torchvision_published_gflops(file, sizes, macs, published):
    """ResNet-50, ViT-B/16 and VGG-16 are in test_compute_torch.py, beside PyTorch's own count."""
    network = symparam.parse(open(f"examples/{file}", encoding="utf-8").read(), convention="torch",
                             path=f"examples/{file}", **sizes)
    assert network.macs == macs
    assert f"{round(macs / 10**9, 2):.2f}" == published


def test_compute_walks_a_shared_definition_once():
    """40 nested definitions, each using the one before twice: 2^40 dense layers,
    counted in linear time, and so is their compute (in a process of its own with a
    time limit, so that a walk over every use fails instead of hanging)."""
    program = (
        "import symparam\n"
        "defs = ['let f0(d) = dense(d, bias=false);'] + "
        "[f'let f{i}(d) = f{i - 1}(d) -> f{i - 1}(d);' for i in range(1, 41)]\n"
        "network = symparam.parse('\\n'.join(defs) + '\\nin(8) -> f40(8)')\n"
        "print(network.macs, network.memory().activations)\n"
    )
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True)
    assert run.stdout.split() == [str(2**40 * 64), str(2**40 * 8 * 4)]
