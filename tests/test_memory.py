"""Memory estimates (symparam.memory, `symparam memory`): each figure checked against
values worked out here by hand, from the published bytes per parameter (ZeRO §3.1,
Transformer Math 101), the known key/value cache sizes of LLaMA-2 and Qwen2, and
Korthikanti et al. 2022's eq. 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sympy
from click.testing import CliRunner

import symparam
from symparam.cli import main
from symparam.errors import SymparamError
from symparam.memory import PerParameter, memory, to_json_dict, to_latex, to_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

GPT2_SMALL = {"V": 50257, "T": 1024, "d": 768, "L": 12, "H": 12}
GPT2_PARAMS = 124_439_808  # examples/gpt2.sp's comment, and HuggingFace's gpt2
LLAMA2_7B = {"V": 32000, "d": 4096, "H": 32, "K": 32, "f": 11008, "L": 32, "T": 4096}
LLAMA2_70B = {"V": 32000, "d": 8192, "H": 64, "K": 8, "f": 28672, "L": 80, "T": 4096}  # grouped queries: 8 kv heads
QWEN2_7B = {"V": 152064, "d": 3584, "H": 28, "K": 4, "f": 18944, "L": 28, "T": 4096}
LORA_TRAINABLE, LORA_TOTAL = 4_194_304, 6_742_609_920  # PEFT's print_trainable_parameters()
LORA_FROZEN = LORA_TOTAL - LORA_TRAINABLE


def example(name: str, convention: str = "keras", **sizes):
    path = EXAMPLES / name
    return symparam.parse(path.read_text(encoding="utf-8"), convention=convention, path=path, **sizes)


def gpt2():
    return example("gpt2.sp", **GPT2_SMALL)


def lora():
    return example("llama2_lora.sp", convention="torch")  # PEFT's LoRA, as the file's comment counts


def invoke(*args):
    return CliRunner().invoke(main, ["memory", *args])


# ------------------------------------------------------------------ training


TRAINING = [
    # (network, dtype, optimizer, bytes): by hand, per trainable parameter
    pytest.param(gpt2, "fp32", "adam", GPT2_PARAMS * (4 + 4 + 8), id="gpt2-fp32-adam"),
    pytest.param(gpt2, "fp32", "adamw", GPT2_PARAMS * 16, id="gpt2-fp32-adamw"),
    pytest.param(gpt2, "bf16", "adam", GPT2_PARAMS * (2 + 2 + 4 + 8), id="gpt2-bf16-mixed-adam"),
    pytest.param(gpt2, "fp16", "adamw", GPT2_PARAMS * 16, id="gpt2-fp16-mixed-adamw"),
    pytest.param(gpt2, "fp32", "sgd_momentum", GPT2_PARAMS * (4 + 4 + 4), id="gpt2-fp32-sgd-momentum"),
    pytest.param(gpt2, "bf16", "sgd_momentum", GPT2_PARAMS * (2 + 2 + 4 + 4), id="gpt2-bf16-sgd-momentum"),
    pytest.param(gpt2, "fp32", "sgd", GPT2_PARAMS * (4 + 4), id="gpt2-fp32-sgd"),
    pytest.param(gpt2, "bf16", "sgd", GPT2_PARAMS * (2 + 2 + 4), id="gpt2-bf16-sgd"),
    pytest.param(gpt2, "fp64", "adam", GPT2_PARAMS * (8 + 8 + 16), id="gpt2-fp64-adam"),
    pytest.param(gpt2, "tf32", "adam", GPT2_PARAMS * 16, id="gpt2-tf32-adam"),
    # LoRA: only the adapters have gradients and optimizer states; the frozen base its weights
    pytest.param(lora, "fp32", "adam", LORA_TRAINABLE * 16 + LORA_FROZEN * 4, id="lora-fp32-adam"),
    pytest.param(lora, "bf16", "adam", LORA_TRAINABLE * 16 + LORA_FROZEN * 2, id="lora-bf16-adam"),
    pytest.param(lora, "bf16", "sgd", LORA_TRAINABLE * 8 + LORA_FROZEN * 2, id="lora-bf16-sgd"),
]


@pytest.mark.parametrize("network, dtype, optimizer, expected", TRAINING)
def test_training_bytes(network, dtype, optimizer, expected):
    report = memory(network(), dtype=dtype, optimizer=optimizer, training=True)
    assert report.training == expected and type(report.training) is int


PER_PARAMETER = [
    pytest.param("fp32", "adam", PerParameter(4, 4, 0, 8), id="fp32-adam"),
    pytest.param("bf16", "adam", PerParameter(2, 2, 4, 8), id="bf16-adam"),
    pytest.param("fp16", "sgd_momentum", PerParameter(2, 2, 4, 4), id="fp16-sgd-momentum"),
    pytest.param("fp32", "sgd", PerParameter(4, 4, 0, 0), id="fp32-sgd"),
    pytest.param("fp64", "adamw", PerParameter(8, 8, 0, 16), id="fp64-adamw"),
]


@pytest.mark.parametrize("dtype, optimizer, expected", PER_PARAMETER)
def test_the_bytes_per_trainable_parameter_are_kept(dtype, optimizer, expected):
    report = memory(symparam.parse("in(4) -> dense(3)"), dtype=dtype, optimizer=optimizer, training=True)
    assert report.per_parameter == expected
    assert report.training == 15 * expected.total


PARAMETERS = [
    pytest.param(gpt2, "fp32", GPT2_PARAMS * 4, id="gpt2-fp32"),
    pytest.param(gpt2, "bf16", 248_879_616, id="gpt2-bf16"),
    pytest.param(gpt2, "int8", GPT2_PARAMS, id="gpt2-int8"),
    pytest.param(lora, "fp16", LORA_TOTAL * 2, id="lora-fp16"),
]


@pytest.mark.parametrize("network, dtype, expected", PARAMETERS)
def test_parameter_bytes(network, dtype, expected):
    report = memory(network(), dtype=dtype)
    assert report.parameters == expected and report.training is None and report.per_parameter is None


def test_a_symbolic_network_gives_formulas():
    network = example("gpt2.sp")
    report = memory(network, training=True, dtype="bf16")
    assert report.parameters == 2 * network.total
    assert sympy.expand(report.training - 16 * network.total) == 0
    assert report.training.subs({network.symbols[name]: value for name, value in GPT2_SMALL.items()}) == (
        GPT2_PARAMS * 16
    )


# ------------------------------------------------------------------ the key/value cache


KV_CACHE = [
    # (network, dtype, batch, bytes): layers × positions × kv heads × (key + value dims) × bytes × batch
    pytest.param(lambda: example("llama.sp", **LLAMA2_7B), "fp16", 1, 2 * 32 * 32 * 128 * 4096 * 2,
                 id="llama2-7b-fp16"),
    pytest.param(lambda: example("llama.sp", **LLAMA2_7B), "fp16", 4, 4 * 2**31, id="llama2-7b-fp16-batch4"),
    pytest.param(lambda: example("llama.sp", **LLAMA2_70B), "fp16", 1, 2 * 80 * 8 * 128 * 4096 * 2,
                 id="llama2-70b-gqa-fp16"),  # 320 KiB a token: 1.25 GiB
    pytest.param(lambda: example("qwen2.sp", **QWEN2_7B), "bf16", 1, 2 * 28 * 4 * 128 * 4096 * 2,
                 id="qwen2-7b-gqa-bf16"),
    pytest.param(lambda: example("llama2_lora.sp", convention="torch"), "fp16", 1, 2**31,
                 id="llama2-7b-lora-fp16"),
    pytest.param(gpt2, "fp32", 1, 12 * 1024 * 12 * (64 + 64) * 4, id="gpt2-fp32"),
    pytest.param(lambda: symparam.parse("in(5, 8) -> attention(2, key_dim=3, value_dim=7)"), "fp32", 1,
                 5 * 2 * (3 + 7) * 4, id="key-and-value-dims"),
    pytest.param(lambda: symparam.parse("in(S, e) -> attention(H) -> layer_norm as memory; "
                                        "in(T, d) -> attention(H, context=memory, key_dim=k) -> dense(V)",
                                        S=10, e=16, H=4, T=7, d=8, k=3, V=5),
                 "fp32", 1, (10 * 4 * (4 + 4) + 10 * 4 * (3 + 3)) * 4, id="cross-attention-reads-its-context"),
    pytest.param(lambda: symparam.parse("in(6, 8) -> (attention(2) -> dense(8)) * 3"), "bf16", 2,
                 3 * 6 * 2 * (4 + 4) * 2 * 2, id="repetition"),
]


@pytest.mark.parametrize("network, dtype, batch, expected", KV_CACHE)
def test_kv_cache(network, dtype, batch, expected):
    report = memory(network(), dtype=dtype, batch=batch)
    assert report.kv_cache == expected and type(report.kv_cache) is int


def test_llama2_7b_caches_exactly_two_gib_in_fp16():
    assert memory(example("llama.sp", **LLAMA2_7B), dtype="fp16").kv_cache == 2 * 2**30


def test_grouped_queries_cache_less():
    full = memory(example("llama.sp", **{**LLAMA2_70B, "K": 64}), dtype="fp16").kv_cache
    grouped = memory(example("llama.sp", **LLAMA2_70B), dtype="fp16").kv_cache
    assert grouped * 8 == full


def test_no_attention_no_cache():
    assert memory(symparam.parse("in(784) -> dense(16) -> dense(10)")).kv_cache is None


def test_the_cache_of_a_symbolic_input_is_a_formula():
    network = symparam.parse("in(T) -> embedding(100, 8) -> attention(2)")
    report = memory(network)
    assert report.kv_cache == 64 * network.symbols["T"]  # T × 2 heads × (4 + 4) × 4 bytes
    gpt = example("gpt2.sp")
    L, T, d = (gpt.symbols[name] for name in "LTd")
    assert memory(gpt).kv_cache == 8 * L * T * d  # L × T × H × (d/H + d/H) × 4 bytes


def test_the_cache_is_worked_out_per_kind_of_attention_layer():
    report = memory(example("llama.sp", **LLAMA2_7B), dtype="fp16")
    (term,) = report.cache_terms
    assert term[:5] == (32, 4096, 32, 128, 128) and term.bytes == 2**31 and not term.summed


def test_attention_layers_whose_sizes_change_along_a_sum():
    network = symparam.parse("in(T, d) -> attention(h1) -> ... -> attention(hl)")
    report = memory(network)
    (term,) = report.cache_terms
    T, d, l = (network.symbols[name] for name in "Tdl")
    assert term.summed and term.layers == l
    assert report.kv_cache == 8 * T * d * l  # T × h_i × (d/h_i + d/h_i) × 4 bytes, for each i
    with symparam.notation("ascii"):
        assert "  l layers, their sizes changing with the index of their sum = 8*T*d*l bytes" in to_text(report)


def test_layers_caching_differently_are_lines_of_their_own():
    network = symparam.parse("in(10, 16) -> attention(4) -> layer_norm as memory; "
                             "in(7, 8) -> attention(4, context=memory, key_dim=3) -> dense(5)")
    lines = to_text(memory(network)).splitlines()
    assert lines[2:5] == [
        "  1 × 10 × 4 × (4 + 4) × 4 = 1,280 bytes (1.2 KiB)",
        "  1 × 10 × 4 × (3 + 3) × 4 = 960 bytes",
        "  in all: 2,240 bytes (2.2 KiB)",
    ]


# ------------------------------------------------------------------ activations


OUTPUTS = [
    # (expression, dtype, batch, values per example): the layers' outputs, the input not counted
    pytest.param("in(784) -> dense(16) -> dense(16) -> dense(10)", "fp32", 1, 16 + 16 + 10, id="mlp"),
    pytest.param("in(784) -> dense(16) -> dense(16) -> dense(10)", "fp32", 32, 42, id="mlp-batch32"),
    pytest.param("in(784) -> dense(16) -> dense(16) -> dense(10)", "bf16", 1, 42, id="mlp-bf16"),
    pytest.param("in(784) -> dense(16) -> relu -> dense(10)", "fp32", 1, 16 + 16 + 10, id="activation-layer"),
    # a residual's sum and a parallel's merge are tensors of their own
    pytest.param("in(8) -> residual(dense(8) -> relu) -> dense(2)", "fp32", 1, 8 + 8 + 8 + 2, id="residual"),
    pytest.param("in(8) -> parallel(dense(3), dense(5)) -> dense(2)", "fp32", 1, 3 + 5 + 8 + 2, id="parallel"),
    # each position goes through top_k = 2 of the experts, then their weighted sum
    pytest.param("in(4, 8) -> moe(4, dense(8), top_k=2)", "fp32", 1, 2 * 32 + 32, id="moe-top-k"),
    pytest.param("in(3, 4) -> dense(5) * 3", "fp32", 1, 3 * 15, id="repetition"),
]


@pytest.mark.parametrize("expression, dtype, batch, values", OUTPUTS)
def test_activations_are_the_layer_outputs(expression, dtype, batch, values):
    report = memory(symparam.parse(expression), dtype=dtype, batch=batch)
    size = {"fp32": 4, "bf16": 2}[dtype]
    assert report.activation_terms == values
    assert report.activations == values * batch * size and type(report.activations) is int


def test_gpt2_small_layer_outputs_by_hand():
    T, d, V, L = 1024, 768, 50257, 12
    # the two embeddings and their sum; per block: norm, attention, sum (3) and norm,
    # 4d, gelu 4d, d, sum (11) of T × d; the last norm and the logits
    values = 3 * T * d + L * 14 * T * d + T * d + T * V
    assert memory(gpt2()).activation_terms == values == 186_729_472


def test_a_repetition_folds_as_the_layers_written_out():
    symbolic = memory(symparam.parse("in(d) -> (dense(d) -> relu) * L -> dense(10)"))
    formula = symbolic.activations
    names = {symbol.name: symbol for symbol in formula.free_symbols}
    assert sympy.expand(formula - 4 * (2 * names["L"] * names["d"] + 10)) == 0
    written_out = memory(symparam.parse("in(5) -> dense(5) -> relu -> dense(5) -> relu -> dense(5) -> relu "
                                        "-> dense(10)"))
    assert formula.subs({names["L"]: 3, names["d"]: 5}) == written_out.activations == 4 * 40


def test_a_sum_over_an_index_folds_as_its_layers():
    network = symparam.parse("in(h0) -> dense(h1) -> ... -> dense(hl)")
    formula = memory(network).activations
    h, l = network.symbols["h"], network.symbols["l"]
    assert formula.subs(l, 3).doit().subs({h[1]: 16, h[2]: 16, h[3]: 10}) == 4 * 42


KORTHIKANTI = [
    # (network, batch, bytes): per transformer layer s·b·(34·h + 5·a·s)
    pytest.param(gpt2, 1, 12 * 1024 * (34 * 768 + 5 * 12 * 1024), id="gpt2-small"),
    pytest.param(gpt2, 8, 8 * 1_075_838_976, id="gpt2-small-batch8"),
    pytest.param(lambda: symparam.parse("in(128, 64) -> residual(layer_norm -> attention(4)) "
                                        "-> residual(layer_norm -> dense(256) -> gelu -> dense(64))"),
                 2, 128 * 2 * 64 * 34 + 5 * 4 * 128 * 128 * 2, id="one-block"),
]


@pytest.mark.parametrize("network, batch, expected", KORTHIKANTI)
def test_korthikanti_activations(network, batch, expected):
    report = memory(network(), batch=batch, activations="korthikanti")
    assert report.activations == expected and type(report.activations) is int
    assert report.activations_method == "korthikanti"


def test_korthikanti_stays_exact_in_symbols():
    network = example("gpt2.sp")
    report = memory(network, activations="korthikanti", batch=3)
    L, T, d, H = (network.symbols[name] for name in "LTdH")
    # s·b·h·(34 + 5·a·s/h), exactly: no fraction where h does not divide 5·a·s
    assert sympy.expand(report.activations - L * T * 3 * d * (34 + 5 * H * T / d)) == 0
    odd = symparam.parse("in(7, 6) -> attention(3, key_dim=5)")  # 5·3·7/6 is not whole
    assert memory(odd, activations="korthikanti").activations == 7 * (34 * 6 + 5 * 3 * 7)


def test_korthikanti_needs_attention():
    with pytest.raises(SymparamError, match="no attention layer"):
        memory(symparam.parse("in(784) -> dense(10)"), activations="korthikanti")


# ------------------------------------------------------------------ options and errors


ERRORS = [
    pytest.param({"dtype": "fp8"}, "unknown dtype 'fp8'", id="dtype"),
    pytest.param({"optimizer": "adamm"}, "unknown optimizer 'adamm'.*did you mean 'adam'", id="optimizer"),
    pytest.param({"activations": "all"}, "unknown activations 'all'", id="activations"),
    pytest.param({"batch": 0}, "batch must be a whole number from 1", id="batch-zero"),
    pytest.param({"batch": 1.5}, "batch must be a whole number from 1", id="batch-float"),
    pytest.param({"batch": True}, "batch must be a whole number from 1", id="batch-bool"),
    pytest.param({"training": True, "dtype": "int8"}, "training with int8 weights", id="int8-training"),
]


@pytest.mark.parametrize("options, message", ERRORS)
def test_wrong_options_are_refused(options, message):
    with pytest.raises(SymparamError, match=message) as error:
        memory(symparam.parse("in(4) -> dense(3)"), **options)
    assert "\n" not in str(error.value)


def test_the_options_are_echoed():
    report = memory(symparam.parse("in(4) -> dense(3)"), dtype="bf16", optimizer="sgd", batch=4)
    assert (report.dtype, report.optimizer, report.batch, report.activations_method) == ("bf16", "sgd", 4, "outputs")
    assert report.counts == (15, 15, 0)


def test_values_are_never_floats():
    for network in (gpt2(), example("gpt2.sp"), lora()):
        report = memory(network, training=True, dtype="bf16")
        for value in (report.parameters, report.training, report.kv_cache, report.activations):
            assert isinstance(value, int) if network.is_concrete else isinstance(value, sympy.Expr)
            assert not getattr(value, "has", lambda *_: False)(sympy.Float)


def test_a_concrete_estimate_does_not_import_sympy():
    code = ("import sys, symparam; from symparam.memory import memory, to_text, to_json_dict; "
            "r = memory(symparam.parse('in(4) -> dense(3)'), training=True); to_text(r); to_json_dict(r); "
            "print('sympy' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


# ------------------------------------------------------------------ rendering


def test_text_shows_the_working():
    text = to_text(memory(gpt2(), dtype="bf16", training=True))
    assert text.splitlines() == [
        "parameters: 124,439,808 × 2 bytes (bf16) = 248,879,616 bytes (237.4 MiB)",
        ("training (bf16 with fp32 master weights, adam): 16 bytes per trainable parameter = 2 weights + 2 gradients"
         " + 4 master weights + 8 Adam moments"),
        "  124,439,808 trainable × 16 = 1,991,036,928 bytes (1.9 GiB)",
        "kv cache (bf16, batch 1): layers × positions × kv heads × (key + value dims per head) × 2 bytes",
        "  12 × 1,024 × 12 × (64 + 64) × 2 = 37,748,736 bytes (36.0 MiB)",
        "activations (layer outputs, bf16, batch 1): the outputs of the layers, the input not counted",
        "  186,729,472 values per example × 2 bytes = 373,458,944 bytes (356.2 MiB)",
    ]


def test_text_shows_the_frozen_part_apart():
    text = to_text(memory(lora(), dtype="bf16", training=True, optimizer="sgd_momentum"))
    assert "12 bytes per trainable parameter = 2 weights + 2 gradients + 4 master weights + 4 momentum" in text
    assert "  4,194,304 trainable × 12 + 6,738,415,616 non-trainable × 2 = 13,527,162,880 bytes (12.6 GiB)" in text


def test_latex_is_an_align_block():
    latex = to_latex(memory(symparam.parse("in(784) -> dense(16) -> dense(16) -> dense(10)"), training=True))
    assert latex == (
        "\\begin{align*}\n"
        "\\text{parameters (fp32)} &= 52{,}008 \\\\\n"
        "\\text{training (fp32, adam)} &= 16 \\cdot 13{,}002 = 208{,}032 \\\\\n"
        "\\text{activations (layer outputs, batch 1)} &= 168\n"
        "\\end{align*}"
    )


def test_json_dict():
    document = to_json_dict(memory(gpt2(), dtype="bf16", training=True, activations="korthikanti"))
    assert document["parameters"] == {"bytes": 248_879_616, "readable": "237.4 MiB", "count": GPT2_PARAMS,
                                      "bytes_per_parameter": 2}
    assert document["training"]["bytes"] == GPT2_PARAMS * 16
    assert document["training"]["bytes_per_trainable"] == {
        "weights": 2, "gradients": 2, "master_weights": 4, "optimizer_states": 8, "total": 16,
    }
    assert document["kv_cache"]["layers"] == [{"layers": 12, "positions": 1024, "kv_heads": 12, "key_dim": 64,
                                               "value_dim": 64, "bytes": 37_748_736, "summed": False}]
    assert document["activations"]["method"] == "korthikanti"
    assert document["activations"]["bytes"] == 1_075_838_976
    json.dumps(document)


# ------------------------------------------------------------------ the command line


GPT2_ARGS = ["-f", str(EXAMPLES / "gpt2.sp"), "--set", "V=50257", "--set", "T=1024", "--set", "d=768",
             "--set", "L=12", "--set", "H=12"]


def test_cli_text():
    result = invoke(*GPT2_ARGS, "--dtype", "bf16", "--training")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == to_text(memory(gpt2(), dtype="bf16", training=True)).splitlines()


def test_cli_options():
    result = invoke("in(6, 8) -> attention(2) -> dense(4)", "--batch", "3", "--optimizer", "sgd", "--training",
                    "--activations", "korthikanti", "--dtype", "fp16")
    assert result.exit_code == 0, result.output
    assert "  1 × 6 × 2 × (4 + 4) × 2 × 3 = 576 bytes" in result.stdout  # 3 sequences of 6 positions
    assert "  1 × 6 × 3 × (34 × 8 + 5 × 2 × 6) = 5,976 bytes (5.8 KiB)" in result.stdout


def test_cli_json():
    result = invoke(*GPT2_ARGS, "--format", "json", "--training")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["total"] == GPT2_PARAMS  # the keys every command's JSON starts with
    assert document["training"]["bytes"] == GPT2_PARAMS * 16
    assert document["kv_cache"]["bytes"] == 75_497_472
    assert document["activations"] == {"bytes": 746_917_888, "readable": "712.3 MiB", "method": "outputs",
                                       "values_per_example": 186_729_472}


def test_cli_json_symbolic():
    result = invoke("-f", str(EXAMPLES / "gpt2.sp"), "--format", "json")
    document = json.loads(result.stdout)
    assert document["kv_cache"]["bytes"] == "8*L*T*d"
    assert "readable" not in document["kv_cache"]


def test_cli_latex_standalone():
    result = invoke("in(4) -> dense(3)", "--format", "latex", "--standalone")
    assert result.exit_code == 0
    assert result.stdout.startswith("\\documentclass") and "\\begin{align*}" in result.stdout


def test_cli_ascii():
    result = invoke("-f", str(EXAMPLES / "gpt2.sp"), "--training", "--activations", "korthikanti", "--ascii")
    assert result.exit_code == 0
    assert result.stdout.isascii(), result.stdout
    assert "  L x T x 1 x (34 x d + 5 x H x T) = (L*(5*H*T^2 + 34*T*d)) bytes" in result.stdout


CLI_ERRORS = [
    pytest.param(["in(4) -> dense(3)", "--activations", "korthikanti"], "no attention layer", id="korthikanti"),
    pytest.param(["in(4) -> dense(3)", "--training", "--dtype", "int8"], "training with int8", id="int8"),
    pytest.param(["in(4) -> dense(0)"], "", id="a-wrong-network"),
]


@pytest.mark.parametrize("args, message", CLI_ERRORS)
def test_cli_errors(args, message):
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


def test_cli_refuses_a_batch_of_zero():
    result = invoke("in(4) -> dense(3)", "--batch", "0")
    assert result.exit_code == 2 and "--batch" in result.stderr


def test_leading_terms_of_the_figures():
    """As d grows: 12·L·d² parameters, at 4 bytes; 16 bytes each to train with Adam; the
    cache 2 × L × T × d values (keys and values of every head) at 4 bytes."""
    result = invoke("-f", str(EXAMPLES / "gpt2.sp"), "--training", "--leading", "d", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert (document["parameters"], document["training"], document["kv_cache"]) == (
        "48*L*d**2", "192*L*d**2", "8*L*T*d")


def test_leading_terms_at_a_given_size():
    """A size given a value is let go to find the term, then given it again."""
    result = invoke(*GPT2_ARGS, "--leading", "d")
    assert result.exit_code == 0, result.output
    assert f"parameters (fp32): {48 * 12 * 768**2:,}" in result.output
