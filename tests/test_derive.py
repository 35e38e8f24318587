"""Showing the working: summary tables, explanations, LaTeX, solve, asymptotics, memory,
sweeps. Numbers are the seeds' and hand arithmetic; plots are decoded and looked at."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import sympy as sp
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import symparam
from symparam.cli import main
from symparam.explain import explain, to_text as explain_text
from symparam.summary import summarize

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SEED_CNN = "in(20, 20, 3) -> conv2d(2, 3, padding=same) -> conv2d(3, 3, padding=same) -> flatten -> dense(2)"
GPT2 = str(EXAMPLES / "gpt2.sp")


def run(*args):
    result = CliRunner().invoke(main, [str(arg) for arg in args])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


# ------------------------------------------------------------------ summary


def test_summary_of_the_seed_cnn():
    text = run("summary", SEED_CNN)
    rows = [line.split() for line in text.splitlines()[2:6]]
    assert [row[0] for row in rows] == ["conv2d(2,", "conv2d(3,", "flatten", "dense(2)"]
    assert [row[-3] for row in rows] == ["56", "57", "0", "2,402"]
    assert "Total params: 2,515" in text
    assert "1200 × 2 + 2" in text  # the formula column: inputs × outputs + biases


def test_summary_keras_batch_norm_figures():
    # Keras: conv 432, batch norm 32 trainable + 32 non-trainable (moving mean, variance)
    expression = "in(20, 20, 3) -> conv2d(16, 3, padding=same, bias=false) -> batch_norm"
    text = run("summary", expression)
    assert "Total params: 496" in text
    assert "Trainable params: 464" in text
    assert "Non-trainable params: 32" in text
    torch = run("summary", expression, "--convention", "torch")
    assert "Total params: 464" in torch and "Non-trainable params: 0" in torch


def test_summary_groups_fold_and_open():
    closed = run("summary", "-f", GPT2, "--set", "V=50257", "--set", "T=1024", "--set", "d=768",
                 "--set", "L=12", "--set", "H=12")
    assert "block(d, H) * L  ×12" in closed
    assert "85,054,464 (85.1M)" in closed  # 12 × (12·768² + 13·768)
    assert "Total params: 124,439,808 (124.4M)" in closed
    opened = run("summary", "-f", GPT2, "--depth", "3")
    assert "attention(H)" in opened and "L × (12*d**2 + 13*d)" in opened


def leaf_sum(summary):
    return sp.expand(sum(row.params for row in summary.rows if not row.header) - summary.total)


@pytest.mark.parametrize(
    "name, sizes",
    [("gpt2", {}), ("gpt2", dict(V=100, T=10, d=8, L=3, H=2)), ("resnet18", {}), ("bert", {}),
     ("llama", {}), ("vgg16_bn", {}), ("mlp_general", {})],
)
@pytest.mark.parametrize("depth", [0, 1, 2, 5])
def test_summary_rows_add_up_to_the_total(name, sizes, depth):
    network = symparam.parse((EXAMPLES / f"{name}.sp").read_text(), **sizes)
    assert leaf_sum(summarize(network, depth)) == 0


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["dense(4)", "relu", "(dense(4) -> dense(4)) * 2",
                                 "residual(dense(4))", "moe(3, dense(4))", "layer_norm"]),
                min_size=1, max_size=6),
       st.integers(min_value=0, max_value=3))
def test_any_summary_adds_up(stages, depth):
    network = symparam.parse("in(7, 4) -> " + " -> ".join(stages))
    assert leaf_sum(summarize(network, depth)) == 0


def test_summary_json_rows_have_formulas():
    document = json.loads(run("summary", SEED_CNN, "--format", "json"))
    assert document["total"] == 2515 and document["trainable"] == 2515
    assert [row["params"] for row in document["rows"]] == [56, 57, 0, 2402]
    assert document["rows"][0]["formula"] == "3 × 2 × 3 × 3 + 2"  # inputs × filters × kernel + biases


# ------------------------------------------------------------------ explain


def test_explain_the_seed_2_3_2():
    text = run("explain", "in(2) -> dense(3) -> dense(2)")
    for step in ("2 inputs × 3 outputs = 6 weights", "3 biases", "= 9 parameters",
                 "3 inputs × 2 outputs = 6 weights", "2 biases", "= 8 parameters",
                 "9 + 8 = 17 parameters"):
        assert step in text, step


def test_explain_shows_how_the_sums_arise():
    text = explain_text(explain(symparam.parse("in(h0) -> dense(h1) -> ... -> dense(hl)")))
    assert "Layer i takes (h[i - 1]) to (h[i])" in text
    assert "Sum(h[i - 1]*h[i], (i, 1, l)) weights and Sum(h[i], (i, 1, l)) biases" in text


@pytest.mark.parametrize("fmt, marker", [("markdown", "- `dense(3)`"), ("latex", r"\begin{align*}")])
def test_explain_formats(fmt, marker):
    assert marker in run("explain", "in(2) -> dense(3) -> dense(2)", "--format", fmt)


# ------------------------------------------------------------------ LaTeX


def test_latex_align_block_has_a_line_per_layer():
    text = run("summary", "in(2) -> dense(3) -> dense(2)", "--latex")
    assert text.strip().splitlines() == [
        r"\begin{align*}",
        r"\text{dense(3)} &: 2 \cdot 3 + 3 = 9 \\",
        r"\text{dense(2)} &: 3 \cdot 2 + 2 = 8 \\",
        r"\text{total} &= 17",
        r"\end{align*}",
    ]


def test_latex_general_formula_reads_as_a_paper_writes_it():
    text = run("explain", "in(h0) -> dense(h1) -> ... -> dense(hl)", "--latex")
    assert r"\sum_{i=1}^{l} h_{i - 1} h_{i}" in text and "1.0" not in text


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("command", ["summary", "explain"])
def test_standalone_latex_compiles(tmp_path, command):
    for expression in (SEED_CNN, "in(h0) -> dense(h1) -> ... -> dense(hl)"):
        source = tmp_path / "formula.tex"
        source.write_text(run(command, expression, "--latex", "--standalone"))
        result = subprocess.run(
            ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", source.name],
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 0, result.stdout[-2000:]
        assert (tmp_path / "formula.pdf").stat().st_size > 1000


# ------------------------------------------------------------------ solve


@pytest.mark.parametrize(
    "expression, budget, value",
    [
        ("in(784) -> dense(h) -> dense(10)", "100000", 125),  # 795h + 10 <= 100,000
        ("in(784) -> dense(h) -> dense(h) -> dense(10)", "1000000", 678),  # h² + 796h + 10
        ("in(784) -> dense(h) -> dense(10)", "10^6", 1257),
    ],
)
def test_solve(expression, budget, value):
    document = json.loads(run("solve", expression, "--total", budget, "--for", "h", "--format", "json"))
    assert document["value"] == value
    limit = int(sp.Integer(10) ** 6) if budget == "10^6" else int(budget)
    assert symparam.count(expression, h=value) <= limit < symparam.count(expression, h=value + 1)


def test_solve_gives_the_exact_root():
    document = json.loads(run("solve", "in(784) -> dense(h) -> dense(h) -> dense(10)",
                              "--total", "1000000", "--for", "h", "--format", "json"))
    root = sp.parse_expr(document["root"])  # our own output, read back in a test
    assert sp.simplify(root**2 + 796 * root + 10 - 1_000_000) == 0
    assert 678 < root < 679


def test_same_count_at_a_different_depth():
    # A one-hidden-layer network of 100 units has 79,510 parameters; how wide may three
    # equal hidden layers be for the same budget?
    text = run("solve", "in(784) -> dense(h) -> dense(h) -> dense(h) -> dense(10)",
               "--like", "in(784) -> dense(100) -> dense(10)", "--for", "h")
    assert text.startswith("h = 82:")
    count = symparam.count("in(784) -> dense(h) -> dense(h) -> dense(h) -> dense(10)", h=82)
    assert count <= 79_510 < symparam.count("in(784) -> dense(h) -> dense(h) -> dense(h) -> dense(10)", h=83)


def test_solve_with_a_quadratic_in_a_conv_network():
    # Cubic in c: conv c·3·9 + c, conv c·c·9 + c, dense 16·16·c·10 + 10
    expression = "in(20, 20, 3) -> conv2d(c, 3) -> conv2d(c, 3) -> flatten -> dense(10)"
    document = json.loads(run("solve", expression, "--total", "50000", "--for", "c", "--format", "json"))
    c = document["value"]
    assert symparam.count(expression, c=c) <= 50_000 < symparam.count(expression, c=c + 1)


# ------------------------------------------------------------------ asymptotics and memory


def test_leading_term_of_gpt2_is_the_scaling_law_count():
    document = json.loads(run("count", "-f", GPT2, "--leading", "d", "--format", "json"))
    d, L = sp.symbols("d L", integer=True, positive=True)
    assert sp.parse_expr(document["leading"], local_dict={"d": d, "L": L}) == 12 * L * d**2
    assert "leading (d → ∞): 12*L*d**2" in run("count", "-f", GPT2, "--leading", "d")
    assert "O(d**2" in run("count", "-f", GPT2, "--order", "d")


def test_memory_in_bytes():
    document = json.loads(run("count", "-f", GPT2, "--set", "V=50257", "--set", "T=1024",
                              "--set", "d=768", "--set", "L=12", "--set", "H=12",
                              "--dtype", "fp16", "--format", "json"))
    assert document["bytes"] == 2 * 124_439_808
    assert document["bytes_readable"] == "237.4 MiB"


# ------------------------------------------------------------------ sweep


def test_sweep_csv_rows(tmp_path):
    path = tmp_path / "counts.csv"
    run("sweep", "in(784) -> dense(h) -> dense(10)", "--vary", "h=16:64:16", "--csv", path)
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["h", "params"]
    assert rows[1:] == [[str(h), str(795 * h + 10)] for h in (16, 32, 48, 64)]


def test_sweep_is_exact_beyond_floats():
    text = run("sweep", "in(d) -> dense(d) -> dense(d)", "--vary", "d=10^9:10^9+2")
    assert text.splitlines()[1] == f"{10**9},{2 * 10**18 + 2 * 10**9}"


def test_sweep_plot_is_a_real_picture(tmp_path):
    image = pytest.importorskip("matplotlib.image")
    path = tmp_path / "gpt2.png"
    run("sweep", "-f", GPT2, "--set", "V=50257", "--set", "T=1024", "--set", "H=12",
        "--vary", "d=64:1024:64", "--vary", "L=12:48:12", "--plot", path, "--logy")
    pixels = image.imread(path)  # decodes the PNG
    height, width = pixels.shape[:2]
    assert (height, width) == (450, 700)
    colours = {tuple(round(float(c), 1) for c in pixel[:3]) for pixel in pixels.reshape(-1, pixels.shape[2])[::37]}
    assert len(colours) > 8  # lines of several colours, not a blank canvas


def test_sweep_without_numpy_says_how_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_numpy(name, *args, **kwargs):
        if name == "numpy" or name.startswith("numpy."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_numpy)
    result = CliRunner().invoke(main, ["sweep", "in(4) -> dense(h)", "--vary", "h=1:3"])
    assert result.exit_code == 2
    assert "pip install 'symparam[plot]'" in result.stderr
