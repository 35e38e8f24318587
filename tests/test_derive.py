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
    assert "Total params: 124,439,808 (474.70 MB)" in closed  # as Keras' summary: 4 bytes each
    bf16 = run("summary", "-f", GPT2, "--set", "V=50257", "--set", "T=1024", "--set", "d=768",
               "--set", "L=12", "--set", "H=12", "--dtype", "bf16")
    assert "Total params: 124,439,808 (237.35 MB)" in bf16
    opened = run("summary", "-f", GPT2, "--depth", "3")
    assert "attention(H)" in opened and "L × (12·d² + 13·d)" in opened


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
    assert "Layer i takes (h_{i−1}) to (h_i)" in text
    assert "Σ_{i=1}^{l} h_{i−1}·h_i weights and Σ_{i=1}^{l} h_i biases" in text


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


def test_solve_keeps_to_the_values_the_network_takes():
    # GPT-2 small's sizes but d free: 12 heads must divide d, so d = 768 (124,439,808)
    # and not 770, where the count would still be within 125M
    text = run("solve", "-f", GPT2, "--set", "V=50257", "--set", "T=1024", "--set", "L=12",
               "--set", "H=12", "--total", "125000000", "--for", "d")
    assert text.startswith("d = 768: 124,439,808 params, within 125,000,000")
    # a 5×5 kernel needs n >= 5: 8·(n − 4)²·10 + 10 + 608 <= 100,000 at n = 39
    network = symparam.parse("in(n, n, 3) -> conv2d(8, 5) -> flatten -> dense(10)")
    assert network.solve("n", 100_000).value == 39
    assert network.evaluate(n=39) <= 100_000 < network.evaluate(n=40)
    assert symparam.parse("in(n, n, 3) -> conv2d(8, 5)").solve("n", 10).value is None


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
    assert "leading (d → ∞): 12·L·d²" in run("count", "-f", GPT2, "--leading", "d")
    assert "order (d → ∞): O(d²)" in run("count", "-f", GPT2, "--order", "d")


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


# ------------------------------------------------------------------ robustness: growth, limits, big numbers

GENERAL = "in(h0) -> dense(h1) -> ... -> dense(hl)"
CONV_STACK = "in(H, W, c0) -> conv2d(c1, k, padding=same) -> ... -> conv2d(cl, k, padding=same)"


def fails(*args) -> str:
    """The one-line message of a run that must exit 2, without a traceback."""
    result = CliRunner().invoke(main, [str(arg) for arg in args])
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output and result.stderr.startswith("error: ")
    return result.stderr


# With every h_i = h, Σ over i = 1..l of h_{i-1}·h_i + h_i is l·h² + l·h, by hand.
GROWTH = {
    "leading_l": ([GENERAL, "--leading", "l"], "leading (l → ∞): h·l·(h + 1), assuming every h_i = h"),
    "order_l": ([GENERAL, "--order", "l"], "order (l → ∞): O(l), assuming every h_i = h"),
    "leading_h": ([GENERAL, "--leading", "h"], "leading (h → ∞): h²·l, assuming every h_i = h"),
    "order_h": ([GENERAL, "--order", "h"], "order (h → ∞): O(h²), assuming every h_i = h"),
    "n_to_L_minus_1": (["in(n_0) -> dense(n_1) -> ... -> dense(n_{L-1})", "--leading", "L"],
                       "leading (L → ∞): L·n·(n + 1), assuming every n_i = n"),
    # k only in the summands: Σ k²·c_{i-1}·c_i = k²·Σ c_{i-1}·c_i, nothing assumed
    "kernel_out_of_the_sum": ([CONV_STACK, "--leading", "k"],
                              "leading (k → ∞): k²·Σ_{i=1}^{l} c_{i−1}·c_i"),
    "size_outside_the_sums": (["in(x) -> dense(h1) -> ... -> dense(hl) -> dense(y)", "--leading", "y"],
                              "leading (y → ∞): y·h_l + y"),
}


@pytest.mark.parametrize("args, line", list(GROWTH.values()), ids=list(GROWTH))
def test_growth_of_a_general_count(args, line):
    assert line in run("count", *args).splitlines()


def test_growth_of_a_general_count_in_python_and_latex():
    from symparam.derive import Assumed

    network = symparam.parse(GENERAL)
    leading = network.leading("l")
    assert isinstance(leading, Assumed) and leading.assumption == "every h_i = h"
    h, l = sp.symbols("h l", integer=True, positive=True)
    assert sp.expand(leading.expr - (l * h**2 + l * h)) == 0
    assert network.order("h").expr == sp.O(h**2, (h, sp.oo))
    assert r"\text{assuming } h_{i} = h \text{ for all } i" in run("count", GENERAL, "--leading", "l", "--latex")
    conv = symparam.parse(CONV_STACK)
    k = conv.symbols["k"]
    (weights,) = [s for s in conv.total.atoms(sp.Sum) if s.has(k)]  # Σ k²·c_{i-1}·c_i
    # nothing assumed: a plain SymPy expression, k² times the sum of the rest
    assert conv.leading("k") == k**2 * sp.Sum(weights.function / k**2, *weights.limits)


def test_leading_refuses_an_expansion_past_its_limit_before_expanding():
    # (d + e + f + g)^60 could expand to C(63, 3) = 39,711 terms: refused at once.
    assert "more than 1,000 terms (the limit)" in fails("count", "in(4) -> dense((d+e+f+g)^60)", "--leading", "d")
    with pytest.raises(symparam.SymparamError, match="more than 1,000 terms"):
        symparam.parse("in(4) -> dense((d+e+f+g)^60)").leading("d")
    # (d + e + f + g)^6: C(9, 3) = 84 terms, within it; the top power of d is 5·d^6
    assert "leading (d → ∞): 5·d⁶" in run("count", "in(4) -> dense((d+e+f+g)^6)", "--leading", "d")


@pytest.mark.parametrize(
    "text, bound",
    [("(d + e + f + g)**60", 39_711), ("(d + e + f + g)**12", 455),
     ("(d + 1)**4096", 4097), ("d**4096", 1), ("(a + b)*(c + d)", 4), ("(a + b)**2 + (c + d)**3", 7)],
    ids=["four_to_the_60", "four_to_the_12", "binomial_4096", "monomial", "product", "sum"],
)
def test_expansion_bound_is_read_off_the_formula(text, bound):
    from symparam.derive import _terms_bound

    expr = sp.sympify(text)  # the test's own formula, not user text
    assert _terms_bound(expr, 10**6) == bound
    assert _terms_bound(expr, 10) == min(bound, 11)


def test_solve_on_a_huge_power_gives_the_value_without_a_root():
    # 4·h^4096 + h^4096 <= 10^6 only for h = 1 (5 params); no exact root past degree 4.
    document = json.loads(run("solve", "in(4) -> dense(h^4096)", "--for", "h", "--total", "10^6",
                              "--format", "json"))
    assert (document["value"], document["count"], document["root"]) == (1, 5, None)
    from symparam.derive import _degree_bound

    h = sp.Symbol("h")
    assert _degree_bound(5 * h**4096 + (h + 1) ** 3 * h, h) == 4096
    assert _degree_bound(sp.floor(h / 2), h) is None


def test_solve_past_two_to_the_256():
    # 784·h + h = 785·h <= 10^1000: h = 10^1000 // 785, by hand.
    document = json.loads(run("solve", "in(784) -> dense(h)", "--for", "h", "--total", "10^1000",
                              "--format", "json"))
    assert document["value"] == 10**1000 // 785
    assert document["count"] == 785 * (10**1000 // 785)
    assert symparam.parse("in(784) -> dense(h)").solve("h", 10**100).value == 10**100 // 785


def test_solve_says_when_the_count_does_not_grow():
    # A pool with padding=same leaves ceil(100/h)² positions: the count shrinks as h grows.
    message = fails("solve", "in(100, 100, 3) -> max_pool2d(h, padding=same) -> flatten -> dense(10)",
                    "--for", "h", "--total", "10^6")
    assert "the count does not grow past the budget with h" in message


def _tenths_of_tib(size: int) -> str:
    whole, rest = divmod(size * 10, 2**40)
    if 2 * rest > 2**40 or (2 * rest == 2**40 and whole % 2):
        whole += 1  # half to even
    return f"{whole // 10:,}.{whole % 10} TiB"


def test_bytes_past_the_largest_float():
    # 10^200 inputs × 10^200 outputs + 10^200 biases, 4 bytes each: far past 1.8·10^308.
    document = json.loads(run("count", "in(10^200) -> dense(10^200)", "--dtype", "fp32", "--format", "json"))
    size = 4 * (10**400 + 10**200)
    assert document["bytes"] == size
    assert document["bytes_readable"] == _tenths_of_tib(size)
    text = run("count", "in(10^200) -> dense(10^200)", "--dtype", "fp32")
    assert text.splitlines()[-1] == f"fp32 weights: {size} bytes ({_tenths_of_tib(size)})"
    assert symparam.parse("in(10^200) -> dense(10^200)").bytes("fp16") == size // 2
