"""Sequence models and structure: embeddings, RNNs, attention, residual, parallel, moe,
definitions, names and ties. Expected numbers are worked by hand (formulas beside them)
or published; tests/test_torch_sequence.py checks the PyTorch convention against torch.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp
from click.testing import CliRunner

import symparam
from symparam import SymparamError
from symparam.cli import main
from helpers import assert_error

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
GPT2_SMALL = dict(V=50257, T=1024, d=768, L=12, H=12)
BERT_BASE = dict(V=30522, P=512, S=2, d=768, L=12, H=12, F=3072)


def example(name: str) -> str:
    return (EXAMPLES / f"{name}.sp").read_text()


# ------------------------------------------------------------------ layers


@pytest.mark.parametrize(
    "text, keras, torch",
    [
        ("in(10, 32) -> simple_rnn(64)", 64 * (32 + 64 + 1), 64 * (32 + 64 + 2)),
        ("in(10, 32) -> lstm(64)", 24_832, 25_088),  # 4u(i+u+1); 4h(i+h+2)
        ("in(10, 32) -> gru(64)", 18_816, 18_816),  # 3u(i+u+2) with reset_after
        ("in(10, 32) -> gru(64, reset_after=false)", 3 * 64 * (32 + 64 + 1), None),  # Keras only
        ("in(10, 32) -> lstm(64, bias=false)", 4 * 64 * 96, 4 * 64 * 96),
        ("in(10, 32) -> lstm(64, bidirectional=true)", 2 * 24_832, 2 * 25_088),
        # layer 2 takes 2·64 inputs: 2·4·64·(32+64+2) + 2·4·64·(128+64+2) = 149,504
        ("in(10, 32) -> lstm(64, layers=2, bidirectional=true)", None, 149_504),
        ("in(10, 32) -> embedding(1000, 16)", 16_000, 16_000),
        ("in(10, 512) -> attention(8)", 1_050_624, 1_050_624),  # 4D² + 4D
        ("in(10, 512) -> attention(8, bias=false)", 4 * 512**2, 4 * 512**2),
        # grouped-query: key and value shrink to D·(kv_heads·key_dim) = 512·128
        ("in(10, 512) -> attention(8, kv_heads=2)", 2 * 262_656 + 2 * 65_664, 656_640),
        ("in(10, 64) -> attention(4, key_dim=32, out=16)", 3 * (64 * 128 + 128) + 128 * 16 + 16, None),
    ],
)
def test_sequence_layers(text, keras, torch):
    if keras is not None:
        assert symparam.count(text) == keras
    if torch is not None:
        assert symparam.count(text, convention="torch") == torch


def test_recurrent_output_shapes():
    assert symparam.parse("in(10, 32) -> lstm(64)").output_shape == (64,)  # Keras: last step
    assert symparam.parse("in(10, 32) -> lstm(64)", convention="torch").output_shape == (10, 64)
    network = symparam.parse("in(10, 32) -> lstm(64, proj=16, bidirectional=true)", convention="torch")
    # 2 directions of 4h(i + p + 2) + p·h
    assert network.value == 2 * (4 * 64 * (32 + 16 + 2) + 16 * 64)
    assert network.output_shape == (10, 32)


def test_transformer_encoder_layer():
    # PyTorch's TransformerEncoderLayer(512, 8, 2048): 3,152,384
    text = (
        "in(10, 512) -> residual(attention(8)) -> layer_norm"
        " -> residual(dense(2048) -> relu -> dense(512)) -> layer_norm"
    )
    assert symparam.count(text) == 3_152_384
    assert symparam.parse(text).output_shape == (10, 512)


@pytest.mark.parametrize(
    "text, total, shape",
    [
        ("in(8) -> parallel(dense(4), dense(6))", 36 + 54, (10,)),
        ("in(8) -> parallel(dense(4), dense(4), merge=add)", 72, (4,)),
        # SwiGLU: two bias-free d -> f, one f -> d
        (
            "in(10, 8) -> parallel(dense(16, bias=false) -> silu, dense(16, bias=false), merge=multiply)"
            " -> dense(8, bias=false)",
            3 * 8 * 16,
            (10, 8),
        ),
        # 4 experts of 8·16+16 + 16·8+8 = 280, and a router of 8·4 = 32
        ("in(10, 8) -> moe(4, dense(16) -> relu -> dense(8))", 4 * 280 + 32, (10, 8)),
        ("in(8) -> residual(dense(16) -> dense(8), shortcut=dense(8))", 144 + 136 + 72, (8,)),
        ("in(10, 8) -> select(0)", 0, (8,)),
    ],
    ids=["concat", "add", "swiglu", "moe", "projection-shortcut", "select"],
)
def test_structure(text, total, shape):
    network = symparam.parse(text)
    assert (network.value, network.output_shape) == (total, shape)


def test_moe_rows_carry_the_expert_count():
    network = symparam.parse("in(d) -> moe(E, dense(f) -> dense(d))")
    E, d, f = (network.symbols[name] for name in "Edf")
    assert sp.expand(network.total - (E * (d * f + f + f * d + d) + d * E)) == 0
    assert [row.kind for row in network.layers] == ["moe", "dense", "dense"]
    assert network.layers[1].repeats == (E,)


# ------------------------------------------------------------------ definitions and ties


def test_definitions_are_used_like_layers():
    text = "let mlp(d, f) = dense(f) -> relu -> dense(d);\nin(8) -> mlp(8, 32) -> mlp(f=4, d=8)"
    assert symparam.count(text) == (8 * 32 + 32 + 32 * 8 + 8) + (8 * 4 + 4 + 4 * 8 + 8)


def test_definitions_may_use_earlier_ones_and_repeat():
    text = (
        "let ffn(d) = dense(4*d) -> gelu -> dense(d);\n"
        "let block(d) = residual(layer_norm -> ffn(d));\n"
        "in(T, d) -> block(d) * L"
    )
    network = symparam.parse(text)
    d, L = network.symbols["d"], network.symbols["L"]
    assert sp.expand(network.total - L * (2 * d + 8 * d**2 + 5 * d)) == 0
    assert network.layers[1].context == ("block(d)", "ffn(d)")


def test_tied_weights_are_counted_once():
    tied = symparam.parse("in(T) -> embedding(V, d) as wte -> dense(V, bias=false, tie=wte)")
    V, d = tied.symbols["V"], tied.symbols["d"]
    assert tied.total == V * d
    untied = symparam.parse("in(T) -> embedding(V, d) -> dense(V, bias=false)")
    assert untied.total == 2 * V * d


# ------------------------------------------------------------------ the model zoo


def test_gpt2():
    network = symparam.parse(example("gpt2"))
    V, T, d, L = (network.symbols[name] for name in ("V", "T", "d", "L"))
    assert sp.expand(network.total - (V * d + T * d + L * (12 * d**2 + 13 * d) + 2 * d)) == 0
    assert network.evaluate(**GPT2_SMALL) == 124_439_808
    assert symparam.count(example("gpt2"), convention="torch", **GPT2_SMALL) == 124_439_808


def test_gpt2_leading_term_is_the_scaling_law_count():
    network = symparam.parse(example("gpt2"))
    d = network.symbols["d"]
    assert sp.limit(network.total / d**2, d, sp.oo) == 12 * network.symbols["L"]


def test_bert_base():
    assert symparam.count(example("bert"), **BERT_BASE) == 109_482_240
    without_pooler = example("bert").replace("-> select(0) -> dense(d) -> tanh", "")
    assert symparam.count(without_pooler, **BERT_BASE) == 108_891_648


def test_resnet18():
    assert symparam.count(example("resnet18"), convention="torch") == 11_689_512
    network = symparam.parse(example("resnet18"), convention="torch")
    assert network.output_shape == (1000,)


def test_llama_7b():
    sizes = dict(V=32000, d=4096, H=32, K=32, f=11008, L=32)
    assert symparam.count(example("llama"), **sizes) == 6_738_415_616


def test_gpt3_counts_in_closed_form():
    # GPT-3 175B: d=12288, 96 layers, 96 heads, 2048 positions, vocab 50257
    network = symparam.parse(example("gpt2"))
    assert len(network.layers) == 10  # the 96 blocks are multiplied, not unrolled
    total = network.evaluate(V=50257, T=2048, d=12288, L=96, H=96)
    assert total == 50257 * 12288 + 2048 * 12288 + 96 * (12 * 12288**2 + 13 * 12288) + 2 * 12288
    assert 174e9 < total < 176e9


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "text, message, at",
    [
        ("in(8) -> residual(dense(4))", r"cannot add the branch's output \(4\) to the skip connection: its input is \(8\)", "residual"),
        ("in(T) -> embedding(100, 8) as wte -> dense(100, tie=wtf)", r"no layer is named 'wtf'; did you mean 'wte'\?", "wtf"),
        ("in(5) -> embedding(100, 8) as wte -> dense(50, tie=wte)", r"cannot tie to 'wte': its weights are 100 × 8, this layer's would be 8 × 50", "wte)"),
        ("let b(d) = dense(d);\nin(4) -> b(4, 5)", r"'b' takes 1 argument \(d\), got 2", "b(4, 5)"),
        ("let b(d, f) = dense(d);\nin(4) -> b(4)", r"'b' takes 2 arguments \(d, f\); missing f", "b(4)"),
        ("let b(d) = b(d);\nin(4) -> b(4)", r"'b' is defined in terms of itself", "b(d);"),
        ("let b(d) = dense(d)\nin(4) -> b(4)", r"missing ';' at the end of the definition, before 'in'", "in("),
        ("in(10, 100) -> attention(8)", r"heads=8 does not divide the 100 features; give key_dim", "attention"),
        ("in(10, 512) -> attention(8, kv_heads=3)", r"kv_heads=3 does not divide heads=8", "attention"),
        ("in(10, 32) -> lstm(64, proj=16)", r"proj \(PyTorch's proj_size\) needs --convention torch", "lstm"),
        ("in(8) -> parallel(dense(4), dense(6), merge=add)", r"merge=add needs shapes that broadcast \(each axis, from the last, equal or 1\), got \(4\) and \(6\)", "parallel"),
        ("in(8) -> embedding(10, 4) as e -> dense(4) as e", r"the name 'e' is given to two layers", "e\n") ,
        ("let a(d) = b(d);\nlet b(d) = dense(d);\nin(4) -> a(4)", r"'a' uses 'b', which is defined after it", "b(d);"),
        ("in(4) -> dense(4) * 3 as x", r"'as' names what stands just before it, here the count", "3 as"),
    ],
    ids=["residual-shapes", "tie-unknown", "tie-shape", "too-many-arguments", "missing-argument",
         "recursive", "missing-semicolon", "heads", "kv-heads", "keras-proj", "merge-shapes", "name-twice",
         "later-definition", "as-binds-tightly"],
)
def test_structure_errors(text, message, at):
    where = text.index(at) if at != "e\n" else len(text) - 1
    line = text.count("\n", 0, where) + 1
    column = where - (text.rfind("\n", 0, where) + 1) + 1
    assert_error(text, message, line, column)


@pytest.mark.parametrize(
    "text, message",
    [
        ("in(10, 32) -> gru(64, reset_after=false)", "PyTorch's GRU always resets after"),
        ("in(8, 8, 4) -> conv2d_transpose(6, 3, stride=2, padding=same)",
         "PyTorch's transposed convolutions take a number of zeros, not padding=same"),
    ],
)
def test_keras_only_options_under_torch(text, message):
    assert symparam.count(text) > 0  # Keras has them
    with pytest.raises(SymparamError, match=message):
        symparam.parse(text, convention="torch")


def test_breakdown_names_the_definition_call():
    result = CliRunner().invoke(main, ["count", "let mlp(f) = dense(f) -> relu;\nin(4) -> mlp(8) -> mlp(2)", "--breakdown"])
    assert "mlp(8) › dense(f)" in result.stdout and "mlp(2) › dense(f)" in result.stdout
