"""What real architectures need within one chain: learnable tensors (param, tokens,
scale), attention variants (bias=(q, k, v), qk_norm, LoRA), gates that broadcast, frozen
parts, LoRA adapters and PyTorch's ceil_mode. Expected values are worked out by hand
here; tests/test_torch_real.py and tests/test_real_models.py check the same against
PyTorch, transformers and PEFT."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from helpers import assert_error

import symparam
from symparam.cli import main


def counted(text, convention="keras", **sizes):
    return symparam.parse(text, convention=convention, **sizes)


# ------------------------------------------------------------------ counts by hand

COUNTS = [
    # (expression, total, trainable, output shape)
    ("in(196, 768) -> tokens(1)", 768, 768, (197, 768)),
    ("in(196, 768) -> tokens(4) -> param(200, 768)", 4 * 768 + 200 * 768, 156_672, (200, 768)),
    ("in(10) -> param(3, 4, 5)", 60, 60, (10,)),
    ("in(10) -> param((2*7 - 1)^2, 12)", 169 * 12, 169 * 12, (10,)),  # Swin's bias table
    ("in(50, 16) -> param(50, 16, trainable=false)", 800, 0, (50, 16)),  # Whisper's sinusoids
    ("in(7, 7, 96) -> scale", 96, 96, (7, 7, 96)),
    ("in(7, 7, 96) -> scale(init=1e-6)", 96, 96, (7, 7, 96)),
    # dense with LoRA: 8·4 + 4, and 2·(8 + 4) adapter weights; Keras freezes the kernel
    ("in(8) -> dense(4, lora=2)", 36 + 24, 28, (4,)),
    # attention 64 wide, 8 heads of 8: 4·64² weights; biases 64 per projection named
    ("in(10, 64) -> attention(8, bias=false)", 16_384, 16_384, (10, 64)),
    ("in(10, 64) -> attention(8, bias=(q, k, v))", 16_384 + 192, 16_576, (10, 64)),
    ("in(10, 64) -> attention(8, bias=(q, v, o))", 16_384 + 192, 16_576, (10, 64)),
    ("in(10, 64) -> attention(8, bias=o)", 16_384 + 64, 16_448, (10, 64)),
    ("in(10, 64) -> attention(8, bias=true)", 16_384 + 256, 16_640, (10, 64)),
    # grouped: q, o 64·64; k, v 64·16 (2 kv heads of 8); biases q 64, k 16, v 16
    ("in(10, 64) -> attention(8, kv_heads=2, bias=(q, k, v))", 10_240 + 96, 10_336, (10, 64)),
    # qk_norm over the head dimension (8), shared by the heads: 8 for q, 8 for k
    ("in(10, 64) -> attention(8, kv_heads=2, bias=false, qk_norm=rms)", 10_240 + 16, 10_256, (10, 64)),
    ("in(10, 64) -> attention(8, kv_heads=2, bias=false, qk_norm=layer)", 10_240 + 32, 10_272, (10, 64)),
    ("in(10, 64) -> attention(8, kv_heads=2, bias=false, qk_norm=layer, qk_norm_bias=false)",
     10_240 + 16, 10_256, (10, 64)),
    # over each whole projection: 8·8 for q, 2·8 for k
    ("in(10, 64) -> attention(8, kv_heads=2, bias=false, qk_norm=rms, qk_norm_scope=projection)",
     10_240 + 80, 10_320, (10, 64)),
    # LoRA rank 4 on q and v (the default). Keras' EinsumDense.enable_lora adapts the
    # kernel (64, 8 heads, 8) as 512 rows of 8: 4·(512 + 8) each, and freezes those two
    # kernels, 2·64·64 (Keras 3.15: MultiHeadAttention, 20,544 params, 12,352 trainable)
    ("in(10, 64) -> attention(8, bias=false, lora=4)", 16_384 + 4160, 20_544 - 8192, (10, 64)),
    # on k and o with 2 kv heads: k 4·(64·2 + 8), o (8, 8, 64) as 64 rows: 4·(64 + 64);
    # kernels 64·16 and 64·64 frozen (GroupQueryAttention: 11,296 and 6,176)
    ("in(10, 64) -> attention(8, kv_heads=2, bias=false, lora=4, lora_targets=(k, o))",
     10_240 + 544 + 512, 11_296 - 5120, (10, 64)),
    ("in(10, 64) -> attention(8, bias=false, lora=4, lora_targets=true)", 16_384 + 6752, 6752, (10, 64)),
    # a (T, 1) gate scales a (T, d) stream: dense(1) has 64 + 1
    ("in(10, 64) -> parallel(identity, dense(1) -> sigmoid, merge=multiply)", 65, 65, (10, 64)),
    ("in(10, 64) -> parallel(dense(1), identity, merge=add)", 65, 65, (10, 64)),
    # squeeze-and-excitation: 16·4 + 4 + 4·16 + 16
    ("in(8, 8, 16) -> parallel(identity, global_avg_pool(keepdims=true) -> conv2d(4, 1) -> relu"
     " -> conv2d(16, 1) -> sigmoid, merge=multiply)", 148, 148, (8, 8, 16)),
    # frozen parts: 4·3 + 3 frozen, 3·2 + 2 trained
    ("in(4) -> dense(3, trainable=false) -> dense(2)", 23, 8, (2,)),
    ("in(4) -> dense(3, trainable=true) -> dense(2)", 23, 23, (2,)),
    ("in(4) -> frozen(dense(3) -> dense(3)) -> dense(2)", 35, 8, (2,)),
    ("in(4) -> frozen(dense(3, trainable=true)) -> dense(2)", 23, 8, (2,)),  # frozen wins
    ("in(3) -> frozen(dense(3) * 2) -> dense(2)", 24 + 8, 8, (2,)),
    ("let b(d) = dense(d) -> dense(d);\nin(4) -> b(4, trainable=false) * 3 -> dense(2)", 130, 10, (2,)),
    # adapters stay trainable in a frozen part: 8·4 + 4 frozen, 2·(8 + 4) trained
    ("in(8) -> frozen(dense(4, lora=2))", 60, 24, (4,)),
    # moe's router is frozen with its experts: 4·(8·8 + 8) + 8·4
    ("in(10, 8) -> frozen(moe(4, dense(8)))", 320, 0, (10, 8)),
]


@pytest.mark.parametrize("text, total, trainable, shape", COUNTS, ids=[c[0] for c in COUNTS])
def test_counts(text, total, trainable, shape):
    network = counted(text)
    assert (network.value, network.trainable, network.output_shape) == (total, trainable, shape)
    assert network.non_trainable == total - trainable
    assert network.weights + network.biases + network.non_trainable == total
    assert sum(row.params for row in network.layers) == total
    assert sum(row.trainable for row in network.layers) == trainable


def test_the_words_in_bias_and_lora_targets_are_never_sizes():
    """`k` is a common head width: in bias=(q, k, v) it still names the projection."""
    text = "in(T, d) -> attention(H, key_dim=k, bias=(q, k, v), lora=r, lora_targets=(k,))"
    network = counted(text, d=64, H=8, k=8, r=2)
    # weights 4·64², biases q 64 + k 64 + v 64, adapters on k (Keras'): 2·(64·8 + 8)
    assert network.value == 16_384 + 192 + 1040
    assert network.free_names() == set()  # T, the length, changes nothing


def test_a_frozen_symbolic_chain_keeps_its_formula():
    network = counted("in(h0) -> frozen(dense(h1) -> ... -> dense(hl)) -> dense(c)")
    assert str(network.trainable) == "c*h[l] + c"
    assert str(network.non_trainable) == "Sum(h[i - 1]*h[i] + h[i], (i, 1, l))"
    concrete = network.subs(h=[4, 3, 3], l=2, c=2)
    assert (concrete.value, concrete.trainable) == (15 + 12 + 8, 8)


def test_a_symbolic_ellipsis_of_frozen_layers_is_summed_and_frozen():
    network = counted("in(h0) -> dense(h1, trainable=false) -> ... -> dense(hl, trainable=false) -> dense(2)")
    assert network.subs(h=[4, 3, 3], l=2).trainable == 8
    assert network.subs(h=[4, 3, 3], l=2).non_trainable == 27


def test_the_summary_and_count_show_the_trainable_share():
    text = "in(4) -> frozen(dense(3) -> dense(3)) -> dense(2)"
    summary = str(counted(text).summary(depth=1))
    assert "Trainable params: 8 (32.00 B, 22.8571%)" in summary
    assert "Non-trainable params: 27 (108.00 B)" in summary
    result = CliRunner().invoke(main, ["count", text])
    assert result.output == "35\ntrainable: 8 of 35 (22.8571%)\n"
    # nothing frozen: the count alone, as before
    assert CliRunner().invoke(main, ["count", "in(4) -> dense(2)"]).output == "10\n"


def test_the_working_of_a_frozen_layer_is_as_trained():
    (row,) = counted("in(4) -> dense(3, trainable=false)").layers
    explained = str(counted("in(4) -> dense(3, trainable=false)").explain())
    assert "4 inputs × 3 outputs = 12 weights, plus 3 biases (one per output) = 15 parameters; frozen: not trained" in explained
    summary = str(counted("in(4) -> dense(3, trainable=false)").summary())
    assert "4 × 3 + 3" in summary
    assert (row.trainable, row.non_trainable) == (0, 15)


def test_json_splits_trainable_from_non_trainable():
    result = CliRunner().invoke(main, ["count", "in(8) -> frozen(dense(4, lora=2)) -> dense(1)", "--format", "json"])
    document = json.loads(result.output)
    assert (document["total"], document["trainable"], document["non_trainable"]) == (65, 29, 36)
    assert [(layer["trainable"], layer["non_trainable"]) for layer in document["layers"]] == [(24, 36), (5, 0)]


def test_percentages_are_exact_and_rounded_half_to_even():
    from symparam.values import percent

    assert percent(4_194_304, 6_742_609_920) == "0.0622%"
    assert percent(1, 8) == "12.5000%"
    assert percent(1, 3) == "33.3333%"
    assert percent(10**40, 3 * 10**40) == "33.3333%"
    assert percent(1, 16 * 10**4) == "0.0006%"  # 0.000625: half to even


CEIL = [
    # (n, pool, stride, padding, torch's extent with ceil_mode=True)
    (9, 2, 2, 0, 5),  # 4.5 rounds up to 5
    (8, 2, 2, 0, 4),
    (6, 3, 2, 1, 4),  # ceil((6 + 2 - 3) / 2) + 1 = 4; the last window starts at 6 < 6 + 1
    (5, 2, 2, 1, 3),  # ceil((5 + 2 - 2) / 2) + 1 = 4, but the 4th window starts at 6 >= 5 + 1
    (112, 3, 2, 0, 56),  # GoogLeNet's pools
]


@pytest.mark.parametrize("n, pool, stride, padding, extent", CEIL, ids=[str(c) for c in CEIL])
def test_ceil_mode(n, pool, stride, padding, extent):
    text = f"in({n}, {n}, 3) -> max_pool2d({pool}, stride={stride}, padding={padding}, ceil_mode=true)"
    assert counted(text, "torch").output_shape == (extent, extent, 3)


def test_ceil_mode_with_a_symbolic_extent():
    network = counted("in(n, 3) -> max_pool1d(3, 2, ceil_mode=true)", "torch")
    assert network.subs(n=9).output_shape == (4, 3)
    assert network.subs(n=10).output_shape == (5, 3)


# ------------------------------------------------------------------ errors

ERRORS = [
    # (expression, message, where its caret stands)
    ("in(4) -> param()", r"param\(\): needs the tensor's shape, e\.g\. param\(197, d\)", "param"),
    ("in(4) -> param(8, 0)", r"dimension must be a positive whole number, got 0", "0)"),
    ("in(10, 64) -> attention(8, bias=(q, x))", r"bias names projections among q, k, v, o \(or is true or false\); 'x' is not one", "x)"),
    ("in(10, 64) -> attention(8, bias=(q, q))", r"bias names 'q' twice", "q))"),
    ("in(10, 64) -> attention(8, lora=4, lora_targets=(q, z))", r"lora_targets names projections among q, k, v, o .*'z' is not one", "z)"),
    ("in(10, 64) -> attention(8, lora_targets=(q, v))", r"lora_targets needs lora=r", "(q, v))"),
    ("in(10, 64) -> attention(8, qk_norm_scope=projection)", r"qk_norm_scope needs qk_norm=rms or qk_norm=layer", "projection"),
    ("in(10, 64) -> attention(8, qk_norm=l2)", r"qk_norm must be one of none, rms, layer, not 'l2'", "l2"),
    ("in(10, 64) -> layer_norm(lora=4)", r"lora= adds LoRA adapters to the weight matrices of dense and attention layers; layer_norm takes none", "lora"),
    ("in(8, 8, 3) -> conv2d(4, 3, lora=4)", r"conv2d takes none", "lora"),
    ("in(8, 8, 16) -> parallel(identity, global_avg_pool(keepdims=true) -> conv2d(4, 1), merge=multiply)",
     r"merge=multiply needs shapes that broadcast \(each axis, from the last, equal or 1\), got \(8, 8, 16\) and \(1, 1, 4\)", "parallel"),
    ("in(784) -> tokens(1)", r"tokens\(1\): puts tokens before a sequence, so it needs an input \(time steps, features\), got \(784\)", "tokens"),
    ("in(4) -> dense(3, trainable=maybe)", r"dense\(3, trainable=maybe\): trainable must be true or false", "maybe"),
    ("in(9, 9, 3) -> max_pool2d(2, ceil_mode=true)", r"Keras' pooling has no ceil_mode \(PyTorch's\); use --convention torch", "true"),
    ("in(4, 8) -> moe(4, dense(8), top_k=5)", r"top_k=5 picks more experts than the 4 there are", "moe"),
]


@pytest.mark.parametrize("text, message, at", ERRORS, ids=[e[1][:40] for e in ERRORS])
def test_errors(text, message, at):
    where = text.index(at)
    assert_error(text, message, 1, where + 1)


def test_keras_freezes_the_kernels_it_adapts_and_pytorch_leaves_it_to_the_model():
    """Keras' Dense(4, lora_rank=2) on 8 inputs: 60 parameters, 28 trainable (the 24
    adapter weights and the 4 biases), 32 not (the kernel), as Keras 3 itself reports.
    PEFT freezes through the model (get_peft_model): in symparam, frozen(...)."""
    keras, torch = (symparam.parse("in(8) -> dense(4, lora=2)", convention=c) for c in ("keras", "torch"))
    assert (keras.value, keras.trainable, keras.non_trainable) == (60, 28, 32)
    assert (torch.value, torch.trainable, torch.non_trainable) == (60, 60, 0)
    for convention in ("keras", "torch"):
        frozen = symparam.parse("in(8) -> frozen(dense(4, lora=2))", convention=convention)
        assert (frozen.trainable, frozen.non_trainable) == (24, 36)
    explained = keras.explain().steps[1].text
    assert explained.endswith("; the 32 adapted weights not trained, as Keras' lora_rank has it. "
                              "Its output has shape (4).")


@pytest.mark.parametrize(
    "params, dtype, memory",
    [
        (138_357_544, "fp32", "527.79 MB"),  # Keras' VGG16().summary()
        (124_439_808, "fp32", "474.70 MB"),
        (0, "fp32", "0.00 B"),
        (10, "fp32", "40.00 B"),
        (256, "fp32", "1.00 KB"),  # 1,024 bytes: units of 1,024
        (255, "fp32", "1020.00 B"),
        (124_439_808, "bf16", "237.35 MB"),
        (10**30, "fp32", "3552713678800500.93 PB"),  # past the last unit, exact
    ],
)
def test_the_totals_memory_as_keras_writes_it(params, dtype, memory):
    from symparam.summary import keras_memory

    assert keras_memory(params, dtype) == memory
