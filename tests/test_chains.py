"""Several chains, each from its own input, and cross-attention (context=NAME): encoder–
decoder models such as T5. Counts are checked against PyTorch (nn.MultiheadAttention
with kdim/vdim) and transformers (T5 on the meta device), or worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import assert_error

import symparam

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_the_total_is_the_sum_over_the_chains():
    """A dual encoder (CLIP-like): two towers whose outputs feed nothing else."""
    network = symparam.parse("in(8) -> dense(4) as image; in(6) -> dense(4) as text")
    assert network.value == (8 * 4 + 4) + (6 * 4 + 4)
    assert (network.input_shape, network.output_shape) == ((8,), (4,))
    assert [row.source for row in network.layers] == ["dense(4)", "dense(4)"]


def test_a_trailing_semicolon_is_allowed():
    assert symparam.parse("in(8) -> dense(4); in(6) -> dense(4);").value == 36 + 28


def test_cross_attention_reads_keys_and_values_from_the_context():
    # queries 16 wide, 4 heads of 4; keys and values read the 32-wide memory
    network = symparam.parse("in(S, 32) -> dense(32) as memory; in(T, 16) -> attention(4, context=memory)")
    assert network.value == (32 * 32 + 32) + (16 * 16 + 2 * 32 * 16 + 16 * 16) + 4 * 16
    assert [str(extent) for extent in network.output_shape] == ["T", "16"]


def test_cross_attention_matches_pytorch():
    torch = pytest.importorskip("torch", reason="pip install torch==2.13.0 to check against PyTorch")
    with torch.device("meta"):
        module = torch.nn.MultiheadAttention(16, 4, kdim=32, vdim=32, batch_first=True)
    expected = sum(p.numel() for p in module.parameters())
    network = symparam.parse("in(S, 32) -> layer_norm as memory; in(T, 16) -> attention(4, context=memory)",
                             convention="torch")
    assert network.value - 64 == expected  # the memory's layer norm: 2 × 32


def test_a_context_inside_a_definition_is_read_where_it_is_called():
    text = ("let cross(H) = residual(layer_norm -> attention(H, context=memory));\n"
            "in(S, 8) -> dense(8) as memory;\n"
            "in(T, 8) -> cross(2)")
    assert symparam.parse(text).value == 72 + (16 + 4 * 64 + 4 * 8)


def test_a_context_earlier_in_the_same_chain():
    network = symparam.parse("in(T, 8) -> dense(8) as memory -> attention(2, context=memory)")
    assert network.value == 72 + 4 * 64 + 4 * 8


def test_ties_reach_across_chains():
    network = symparam.parse("in(S) -> embedding(100, 8) as shared; in(T) -> embedding(100, 8, tie=shared)"
                             " -> dense(100, bias=false, tie=shared)")
    assert network.value == 800


def test_the_summary_shows_each_chain_headed_by_its_input():
    network = symparam.parse("in(S, 8) -> dense(4) as memory; in(T, 4) -> attention(2, context=memory)")
    summary = network.summary()
    assert [(row.label, row.header) for row in summary.rows] == [
        ("in(S, 8)", True), ("dense(4)", False), ("in(T, 4)", True), ("attention(2, context=memory)", False)]
    assert sum(row.params for row in summary.rows if not row.header) == network.value


ENCODER_DECODERS = [
    # (model file, transformers class and config keywords, published count)
    ("t5_small", "T5ForConditionalGeneration", "T5Config",
     dict(vocab_size=32128, d_model=512, d_kv=64, d_ff=2048, num_layers=6, num_heads=8), 60_506_624),
    ("bart_base", "BartForConditionalGeneration", "BartConfig",
     dict(vocab_size=50265, d_model=768, encoder_layers=6, decoder_layers=6, encoder_attention_heads=12,
          decoder_attention_heads=12, encoder_ffn_dim=3072, decoder_ffn_dim=3072,
          max_position_embeddings=1024), 139_420_416),
    ("whisper_tiny", "WhisperForConditionalGeneration", "WhisperConfig",
     dict(vocab_size=51865, num_mel_bins=80, d_model=384, encoder_layers=4, decoder_layers=4,
          encoder_attention_heads=6, decoder_attention_heads=6, encoder_ffn_dim=1536,
          decoder_ffn_dim=1536, max_source_positions=1500, max_target_positions=448), 37_760_640),
]


@pytest.mark.parametrize("name, model_class, config_class, config, published", ENCODER_DECODERS,
                         ids=[e[0] for e in ENCODER_DECODERS])
def test_encoder_decoders_match_transformers(name, model_class, config_class, config, published):
    torch = pytest.importorskip("torch", reason="pip install torch==2.13.0 to check against transformers")
    transformers = pytest.importorskip("transformers", reason="pip install transformers for these checks")
    with torch.device("meta"):
        model = getattr(transformers, model_class)(getattr(transformers, config_class)(**config))
    parameters = list(model.parameters())
    total = sum(p.numel() for p in parameters)
    trainable = sum(p.numel() for p in parameters if p.requires_grad)
    assert total == published
    network = symparam.parse((EXAMPLES / f"{name}.sp").read_text(), convention="torch")
    assert (network.value, network.trainable) == (total, trainable)
    for convention in ("keras", "torch"):  # Whisper's fixed positions: not trained in either
        split = symparam.parse((EXAMPLES / f"{name}.sp").read_text(), convention=convention)
        assert split.non_trainable == total - trainable


ERRORS = [
    ("in(T, 8) -> attention(2, context=memory)",
     r"no stage is named 'memory'; name a stage first with 'as'", "memory"),
    ("in(S, 8) -> dense(8) as memory; in(T, 8) -> attention(2, context=memroy)",
     r"no stage is named 'memroy'; did you mean 'memory'\?", "memroy"),
    ("in(T, 8) -> attention(2, context=memory); in(S, 8) -> dense(8) as memory",
     r"'memory' is named at 1:67, which this layer does not come after", "memory"),
    # a cycle: the stage it reads comes after it, in its own chain
    ("in(T, 8) -> attention(2, context=x) -> dense(8) as x",
     r"'x' is named at 1:52, which this layer does not come after", "x)"),
    ("in(S, 8) -> dense(8) as m; in(T, 8) -> dense(8) as m", r"the name 'm' is given to two layers", "m\n"),
    ("in(S, 8) -> dense(8) * 3 as memory; in(T, 8) -> dense(8)",
     r"'as' names what stands just before it, here the count; to name a repetition, write \(stage \* count\) as name",
     "3 as"),
    ("in(S, 8) -> dense(8) as m; in(T, 8) -> attention(2, context=2)", r"context must be a name given with 'as'", "2)"),
]


@pytest.mark.parametrize("text, message, at", ERRORS, ids=[e[1][:40] for e in ERRORS])
def test_errors(text, message, at):
    where = len(text) - 1 if at == "m\n" else text.index(at)
    assert_error(text, message, 1, where + 1)


def test_explain_and_the_breakdown_put_each_chain_after_its_input():
    text = ("let cross(H) = residual(attention(H, context=memory));\n"
            "in(S, 8) -> layer_norm as memory; in(T, 8) -> cross(2) -> dense(3)")
    network = symparam.parse(text)
    steps = [step.layer for step in network.explain().steps]
    assert steps == ["in(S, 8)", "layer_norm", "in(T, 8)", "attention(H, context=memory)", "dense(3)"]
    from symparam import render

    lines = [line.split()[0] for line in render.breakdown(network).splitlines()]
    assert lines[:5] == ["in(S,", "layer_norm", "in(T,", "cross(2)", "dense(3)"]
