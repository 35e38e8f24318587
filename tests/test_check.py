"""`symparam check --against torch`: each layer built with PyTorch's own classes on the
meta device, its parameters counted by PyTorch, compared with symparam's row by row."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import symparam
from helpers import break_dense
from symparam.cli import main

pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0 to run the checks")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NOT_BUILT: set[str] = set()


def run(*args):
    return CliRunner().invoke(main, ["check", *args])


def example_sizes(path: Path) -> list[str]:
    """The --set values a model file's comments give for its sizes."""
    return [word for setting in re.findall(r"--set (\S+)", path.read_text()) for word in ("--set", setting)]


@pytest.mark.parametrize("path", sorted(p for p in EXAMPLES.glob("*.sp") if p.name not in NOT_BUILT),
                         ids=lambda path: path.stem)
def test_every_example_agrees_with_pytorch(path):
    result = run("-f", str(path), *example_sizes(path))
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("symparam and PyTorch agree")


def test_the_table_has_a_row_per_layer_and_the_totals():
    output = run("in(784) -> dense(16) -> relu -> dense(10)").output
    assert output.splitlines() == [
        "Layer                 symparam  PyTorch",
        "──────────────────────────────────────────",
        "dense(16)               12,560   12,560  ✓",
        "relu                         0        0  ✓",
        "dense(10)                  170      170  ✓",
        "──────────────────────────────────────────",
        "Total params            12,730   12,730  ✓",
        "Trainable params        12,730   12,730  ✓",
        "Non-trainable params         0        0  ✓",
        "──────────────────────────────────────────",
        "symparam and PyTorch agree",
    ]


def test_it_counts_under_pytorchs_convention():
    # Keras would count the moving statistics as 2·16 non-trainable; PyTorch keeps them as buffers
    output = run("in(20, 20, 3) -> conv2d(16, 3, bias=false) -> batch_norm").output
    assert "Total params                432      432  ✓" not in output
    assert re.search(r"batch_norm\s+32\s+32  ✓", output)


def test_repetitions_ties_frozen_parts_and_adapters():
    gpt2 = run("-f", str(EXAMPLES / "gpt2.sp"), *example_sizes(EXAMPLES / "gpt2.sp")).output
    assert re.search(r"attention\(H\)  ×12\s+28,348,416\s+28,348,416  ✓", gpt2)
    assert re.search(r"dense\(V, bias=false, tie=wte\)\s+0\s+0  ✓", gpt2)  # counted at wte
    tuned = run("in(8) -> frozen(dense(4, lora=2)) -> dense(1)").output
    assert re.search(r"Trainable params\s+29\s+29  ✓", tuned)  # 2·(8 + 4) adapters + 5
    assert re.search(r"Non-trainable params\s+36\s+36  ✓", tuned)


def test_json():
    result = run("in(2) -> dense(3) -> dense(2)", "--format", "json")
    document = json.loads(result.output)
    assert document["agrees"] is True and document["against"] == "torch"
    assert document["totals"] == {"symparam": {"params": 17, "trainable": 17, "non_trainable": 0},
                                  "torch": {"params": 17, "trainable": 17, "non_trainable": 0}}
    assert [row["torch"]["params"] for row in document["rows"]] == [9, 8]


def test_a_wrong_formula_is_caught_with_its_row(monkeypatch):
    """A deliberately wrong count for one layer kind (one bias too many) shows as the
    row that differs, and the check exits 1."""
    break_dense(monkeypatch)
    result = run("in(4) -> relu -> dense(3)")
    assert result.exit_code == 1
    assert re.search(r"dense\(3\)\s+16\s+15  ✗ differs", result.output)
    assert result.output.rstrip().endswith("symparam and PyTorch differ on 1 rows")


@pytest.mark.parametrize("args, message", [
    (["in(d) -> dense(d)"], "give d with --set"),
    (["in(h0) -> dense(h1) -> ... -> dense(hl)", "--set", "l=3"], "give h_0, h_1, h_2, h_3 with --set"),
    (["in(8, 4) -> conv1d(4, 3, padding=causal)"], "1:34: conv1d(4, 3, padding=causal): PyTorch does not support"),
    (["in(8, 9, 4) -> prelu(shared_axes=1)"], "PyTorch's PReLU has one slope or one per channel"),
    (["in(8, 8, 4) -> parallel(identity, conv2d(2, 3, padding=1), merge=concat) * 20000"],
     "a Σ of 20,000 instances; check builds at most 10,000"),
])
def test_what_cannot_be_checked_is_said(args, message):
    result = run(*args)
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_without_pytorch_it_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    import symparam.frameworks

    monkeypatch.delitem(sys.modules, "symparam.frameworks.pytorch", raising=False)
    monkeypatch.delattr(symparam.frameworks, "pytorch", raising=False)
    result = run("in(2) -> dense(3)")
    assert result.exit_code == 2
    assert "checking against PyTorch needs it installed: pip install 'symparam[torch]'" in result.output


def test_a_growing_repetition_is_built_instance_by_instance():
    # DenseNet-121: each dense layer reads k channels more than the one before it
    output = run("-f", str(EXAMPLES / "densenet121.sp"), "--set", "k=32").output
    assert re.search(r"dense_layer\(k\) \* 24\s+([\d,]+)\s+\1  ✓", output)
    assert re.search(r"Total params\s+7,978,856\s+7,978,856  ✓", output)  # torchvision's densenet121


def test_the_api():
    from symparam.check import check

    result = check(symparam.parse("in(2) -> dense(3) -> dense(2)", convention="torch"))
    assert result.agrees and [row.framework.params for row in result.rows] == [9, 8]


def test_every_layer_kind_is_built_or_holds_nothing():
    """A new layer kind needs a PyTorch builder (or a place among those holding nothing)."""
    from symparam.frameworks import HOLDS_NOTHING, pytorch
    from symparam.layers.base import REGISTRY

    structure = {"input", "residual", "parallel", "frozen", "time_distributed", "recurrent",
                 "bidirectional"}  # no parameters of their own
    assert set(REGISTRY) - set(pytorch.BUILDERS) - HOLDS_NOTHING == structure
    assert not (set(pytorch.BUILDERS) | HOLDS_NOTHING) - set(REGISTRY)
    if _keras_installed():
        from symparam.frameworks import keras3

        assert set(REGISTRY) - set(keras3.BUILDERS) - HOLDS_NOTHING == structure


def _keras_installed() -> bool:
    import importlib.util
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    return importlib.util.find_spec("keras") is not None


# ------------------------------------------------------------------ Keras


def keras_or_skip():
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras", reason="Keras not installed: pip install keras to run these checks")


KERAS_REFUSES: dict[str, str] = {}  # example -> why Keras cannot build it (none now)


@pytest.mark.parametrize("path", sorted(p for p in EXAMPLES.glob("*.sp") if p.name not in NOT_BUILT),
                         ids=lambda path: path.stem)
def test_every_example_agrees_with_keras(path):
    keras_or_skip()
    result = run("-f", str(path), *example_sizes(path), "--against", "keras")
    if path.name in KERAS_REFUSES:  # Keras has no such layer: said, not guessed
        assert result.exit_code == 2 and KERAS_REFUSES[path.name] in result.output
        return
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("symparam and Keras agree")


def test_keras_counts_its_own_lora_on_attention_and_batch_norm_statistics():
    keras_or_skip()
    # EinsumDense.enable_lora on the (64, 8, 8) query and value kernels: 4·(512 + 8) each
    output = run("in(10, 64) -> attention(8, bias=false, lora=4)", "--against", "keras").output
    assert re.search(r"Total params\s+20,544\s+20,544  ✓", output)
    assert re.search(r"Trainable params\s+12,352\s+12,352  ✓", output)
    output = run("in(20, 20, 3) -> conv2d(16, 3, bias=false) -> batch_norm", "--against", "keras").output
    assert re.search(r"Non-trainable params\s+32\s+32  ✓", output)  # the moving mean and variance


def test_what_keras_cannot_build_is_said():
    keras_or_skip()
    result = run("in(10, 32) -> rms_norm(scale=false)", "--against", "keras")
    assert result.exit_code == 2 and "Keras' RMSNormalization always learns its scale" in result.output


@pytest.mark.parametrize("layer", [
    "attention(8, bias=(q, v, o))",  # Whisper: no bias on the keys
    "attention(8, kv_heads=2, bias=(q, k, v))",  # Qwen2
    "attention(8, kv_heads=2, bias=false, qk_norm=rms)",  # Qwen3
    "attention(8, kv_heads=2, bias=false, qk_norm=layer, qk_norm_scope=projection)",  # OLMo-2
    "attention(8, bias=(q, v), lora=4)",
    "attention(8, kv_heads=2, value_dim=4, out=32)",
])
def test_keras_builds_attention_variants_from_its_einsum_projections(layer):
    keras_or_skip()
    result = run(f"in(10, 64) -> {layer}", "--against", "keras")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("against", ["torch", "keras"])
def test_all_examples(monkeypatch, against):
    if against == "keras":
        keras_or_skip()
    monkeypatch.chdir(EXAMPLES.parent)
    result = run("--all-examples", "--against", against)
    assert result.exit_code == 0, result.output
    files = len(list(EXAMPLES.glob("*.sp")))
    name = {"torch": "PyTorch", "keras": "Keras"}[against]
    assert result.output.splitlines()[-1] == f"{files} files against {name}: {files} agree, 0 differ"
    assert "densenet121.sp" in result.output and "agrees:" in result.output
    document = json.loads(run("--all-examples", "--against", against, "--format", "json").output)
    assert len(document["files"]) == files and all(entry["agrees"] for entry in document["files"])


def test_all_examples_takes_no_expression(monkeypatch, tmp_path):
    result = run("in(2) -> dense(3)", "--all-examples")
    assert result.exit_code == 2 and "--all-examples checks the files in examples/" in result.output
    monkeypatch.chdir(tmp_path)
    result = run("--all-examples")
    assert result.exit_code == 2 and "no model files (*.sp) in examples" in result.output
