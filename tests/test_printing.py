"""Formulas as people write them: one-line notation in Unicode and ASCII, LaTeX, SymPy's
own str on request, one display form in every command; shapes in the convention's order."""

from __future__ import annotations

import json

import pytest
import sympy as sp
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import symparam
from symparam.cli import main
from symparam.printing import arranged, readable
from symparam.summary import to_latex as summary_latex

GPT2 = "examples/gpt2.sp"
LLAMA = "examples/llama.sp"
DENSENET = "examples/densenet121.sp"
GENERAL = "in(h0) -> dense(h1) -> ... -> dense(hl)"
CONV = "in(n, n, c) -> conv2d(f, k, strides=s) -> flatten -> dense(10)"


def _text(path):
    with open(path, encoding="utf-8") as file:
        return file.read()


def network(source):
    return symparam.parse(_text(source) if source.endswith(".sp") else source)


# (text, ASCII, LaTeX) of each total, written out by hand from the architecture.
FORMULAS = {
    "dense_general": (
        GENERAL,
        "Σ_{i=1}^{l} h_{i−1}·h_i + Σ_{i=1}^{l} h_i",
        "sum_{i=1}^{l} h_{i-1}*h_i + sum_{i=1}^{l} h_i",
        r"\sum_{i=1}^{l} h_{i - 1} h_{i} + \sum_{i=1}^{l} h_{i}",
    ),
    # L blocks of 12d² + 13d, token and position embeddings, the final norm's 2d
    "gpt2": (
        GPT2,
        "L·(12·d² + 13·d) + T·d + V·d + 2·d",
        "L*(12*d^2 + 13*d) + T*d + V*d + 2*d",
        r"L \left(12 d^{2} + 13 d\right) + T d + V d + 2 d",
    ),
    # per block: q and o (2d²), k and v on K of H heads (2·K·d²/H), SwiGLU (3df), two norms
    "llama_gqa": (
        LLAMA,
        "L·(2·d² + 3·d·f + 2·d + 2·K·d²/H) + 2·V·d + d",
        "L*(2*d^2 + 3*d*f + 2*d + 2*K*d^2/H) + 2*V*d + d",
        r"L \left(2 d^{2} + 3 d f + 2 d + \frac{2 K d^{2}}{H}\right) + 2 V d + d",
    ),
    # c·f·k² + f in the conv; (⌊(n − k)/s⌋ + 1)² positions of f channels into 10 units
    "conv_floor": (
        CONV,
        "c·f·k² + 10·f·(⌊(n − k)/s⌋ + 1)² + f + 10",
        "c*f*k^2 + 10*f*(floor((n - k)/s) + 1)^2 + f + 10",
        r"c f k^{2} + 10 f \left(\left\lfloor{\frac{n - k}{s}}\right\rfloor + 1\right)^{2} + f + 10",
    ),
    # DenseNet-121 with the growth rate k symbolic: about 60 terms, collected into three
    "densenet_symbolic": (
        DENSENET,
        "51957·k²/8 + 43283·k + 26952",
        "51957*k^2/8 + 43283*k + 26952",
        r"\frac{51{,}957 k^{2}}{8} + 43{,}283 k + 26{,}952",
    ),
}


@pytest.mark.parametrize("source, unicode, ascii, latex", FORMULAS.values(), ids=FORMULAS.keys())
def test_the_total_is_written_as_mathematics(source, unicode, ascii, latex):
    net = network(source)
    assert net.formula() == unicode
    assert net.formula("ascii") == ascii
    assert net.latex() == latex
    assert repr(net).endswith(f": {unicode}>")


@pytest.mark.parametrize("source, unicode, ascii, latex", FORMULAS.values(), ids=FORMULAS.keys())
def test_the_cli_writes_the_same(source, unicode, ascii, latex):
    given = ["-f", source] if source.endswith(".sp") else [source]
    for options, expected in (([], unicode), (["--ascii"], ascii), (["--latex"], latex)):
        result = CliRunner().invoke(main, ["count", *given, *options])
        assert (result.exit_code, result.output) == (0, expected + "\n")


def test_the_densenet_formula_is_collected_from_its_many_terms():
    total = network(DENSENET).analysis.total  # as counted: products of sums, block by block
    terms = sum(len(sp.Add.make_args(sp.expand(product))) for product in sp.Add.make_args(total))
    assert terms > 25
    assert len(sp.Add.make_args(total)) > 10 and network(DENSENET).formula().count(" + ") == 2
    # torchvision's densenet121
    assert symparam.parse(_text(DENSENET), convention="torch").evaluate(k=32) == 7_978_856


def test_sympy_notation_keeps_sympys_own_str():
    net = network(GENERAL)
    assert net.formula("sympy") == "Sum(h[i - 1]*h[i], (i, 1, l)) + Sum(h[i], (i, 1, l))"
    result = CliRunner().invoke(main, ["count", "-f", GPT2, "--format", "sympy"])
    assert result.output == "L*(12*d**2 + 13*d) + T*d + V*d + 2*d\n"
    # pasted into Python, it is the count again
    symbols = network(GPT2).symbols
    assert sp.parse_expr(result.output, local_dict=symbols) == network(GPT2).total


def test_json_keeps_sympys_str_and_adds_the_readable_text():
    document = json.loads(CliRunner().invoke(main, ["count", "-f", GPT2, "--format", "json"]).output)
    assert document["total"] == "L*(12*d**2 + 13*d) + T*d + V*d + 2*d"
    assert document["total_text"] == "L·(12·d² + 13·d) + T·d + V·d + 2·d"


def test_the_notation_is_chosen_for_a_block():
    net = network(GPT2)
    with symparam.notation("ascii"):
        assert "Total params: L*(12*d^2 + 13*d) + T*d + V*d + 2*d" in str(net.summary())
        assert "L × (12*d^2 + 13*d)" in str(net.summary(depth=1))
    with symparam.notation("sympy"):
        assert "L × (12*d**2 + 13*d)" in str(net.summary(depth=1))
    assert "L × (12·d² + 13·d)" in str(net.summary(depth=1))
    with pytest.raises(ValueError, match="unknown notation 'latex': use one of unicode, ascii, sympy"):
        with symparam.notation("latex"):
            pass


# ------------------------------------------------------------------ one form everywhere


def test_rows_and_total_agree_term_for_term():
    """LLaMA's block row once read (2Hd² + 2Kd²)/H while the total read 2d² + 2Kd²/H."""
    net = network(LLAMA)
    rows = {row.label.split("  ")[0]: row.formula for row in net.summary(depth=2).rows}
    block = rows["block(d, H, K, f) * L"]
    assert block == "L × (2·d² + 3·d·f + 2·d + 2·K·d²/H)"
    assert block.removeprefix("L × ") in net.formula()
    assert rows["attention(H, kv_heads=K, bias=false)"] == "L × (2·d² + 2·K·d²/H)"
    explained = str(net.explain())
    assert "L·(2·d² + 3·d·f + 2·d + 2·K·d²/H) + 2·V·d + d parameters" in explained
    assert r"L \left(2 d^{2} + 3 d f + 2 d + \frac{2 K d^{2}}{H}\right)" in summary_latex(net.summary())


def test_explain_writes_indices_as_written():
    text = str(network(GENERAL).explain())
    assert "Layer i takes (h_{i−1}) to (h_i): h_{i−1} inputs × h_i outputs = h_{i−1}·h_i weights" in text
    assert "h[" not in text and "**" not in text


def test_a_repetition_count_is_factored_out_of_a_sum_of_blocks():
    net = symparam.parse("in(T) -> embedding(V, d) -> (dense(4*d) -> dense(d)) * L")
    assert net.formula() == "L·(8·d² + 5·d) + V·d"


# ------------------------------------------------------------------ the printer's pieces

x, y, n, k = sp.symbols("x y n k", positive=True, integer=True)
h = sp.IndexedBase("h")
i = sp.Symbol("i", integer=True)


@pytest.mark.parametrize("expr, unicode, ascii", [
    (x**3 * y, "x³·y", "x^3*y"),
    (x**12, "x¹²", "x^12"),
    (x**y, "x^y", "x^y"),
    (x / 2, "x/2", "x/2"),
    (3 * x / (2 * y), "3·x/(2·y)", "3*x/(2*y)"),
    (n - k, "n − k", "n - k"),
    (-x, "−x", "-x"),
    (-x - y, "−x − y", "-x - y"),
    (sp.floor(x / 2), "⌊x/2⌋", "floor(x/2)"),
    (sp.ceiling((n - k) / 3), "⌈(n − k)/3⌉", "ceil((n - k)/3)"),
    (sp.sqrt(x + 1), "√(x + 1)", "sqrt(x + 1)"),
    (sp.Max(x, y), "max(x, y)", "max(x, y)"),
    (h[0] * h[sp.Symbol("l")], "h_0·h_l", "h_0*h_l"),
    (h[i + 1], "h_{i+1}", "h_{i+1}"),
    (sp.Sum(h[i] + 1, (i, 1, n)), "Σ_{i=1}^{n} (h_i + 1)", "sum_{i=1}^{n} (h_i + 1)"),
    (x * sp.Sum(h[i], (i, 1, n)), "x·Σ_{i=1}^{n} h_i", "x*sum_{i=1}^{n} h_i"),
    (sp.Sum(h[i], (i, 1, n)) * x * y, "x·y·Σ_{i=1}^{n} h_i", "x*y*sum_{i=1}^{n} h_i"),
    (sp.O(x**2, (x, sp.oo)), "O(x²)", "O(x^2)"),
], ids=str)
def test_pieces(expr, unicode, ascii):
    assert readable(expr) == unicode
    assert readable(expr, ascii=True) == ascii


def test_a_power_of_a_sum_stays_a_power():
    assert readable(5 * (x + y) ** 6) == "5·(x + y)⁶"
    huge = (x + y + n + k) ** 4096
    assert arranged(huge * 4 + 4) == 4 * huge + 4  # not expanded: it would never end


def test_products_of_sums_are_expanded_and_like_terms_added():
    assert readable((2 * x + 2 * y) / x) == "2 + 2·y/x"
    assert readable(x * (x + 1) + x) == "x² + 2·x"


polynomials = st.builds(
    lambda coefficients: sum(c * x**a * y**b for (a, b), c in coefficients.items()),
    st.dictionaries(st.tuples(st.integers(0, 3), st.integers(0, 3)), st.integers(-50, 50), max_size=6),
)


@settings(max_examples=60, deadline=None)
@given(polynomials, st.sampled_from([(), (x,), (y, x)]))
def test_ascii_text_reads_back_as_the_same_formula(expr, counts):
    text = readable(expr, ascii=True, counts=counts)
    assert sp.expand(sp.parse_expr(text.replace("^", "**"), local_dict={"x": x, "y": y}) - expr) == 0


# ------------------------------------------------------------------ shapes


CNN = "in(224, 224, 3) -> conv2d(64, 7, strides=2, padding=3) -> max_pool2d(2) -> flatten -> dense(10)"


def test_torch_shapes_are_channels_first():
    torch = str(symparam.parse(CNN, convention="torch").summary())
    assert "(64, 112, 112)" in torch and "(64, 56, 56)" in torch
    keras = str(symparam.parse(CNN).summary())
    assert "(112, 112, 64)" in keras and "(56, 56, 64)" in keras
    explained = str(symparam.parse(CNN, convention="torch").explain())
    assert "examples of shape (3, 224, 224) (channels first)" in explained


def test_sequences_stay_steps_then_features_under_torch():
    summary = str(symparam.parse("in(10, 8) -> lstm(16, return_sequences=true)", convention="torch").summary())
    assert "(10, 16)" in summary


def test_json_says_its_shape_order():
    for convention, order, shape in (("torch", "channels_first", [64, 56, 56]),
                                     ("keras", "channels_last", [56, 56, 64])):
        result = CliRunner().invoke(main, ["summary", CNN, "--convention", convention, "--format", "json"])
        document = json.loads(result.output)
        assert document["shape_order"] == order
        assert document["rows"][1]["output_shape"] == shape
        assert document["layers"][1]["output_shape"] == shape


@pytest.mark.parametrize("command", ["summary", "explain"])
def test_summary_and_explain_write_sympys_str_on_request(command):
    result = CliRunner().invoke(main, [command, "in(d) -> dense(d) * L", "--format", "sympy"])
    assert result.exit_code == 0 and "d**2 + d" in result.output and "d²" not in result.output
    ascii = CliRunner().invoke(main, [command, "in(d) -> dense(d) * L", "--ascii"]).output
    assert "d^2 + d" in ascii and "d²" not in ascii and "·" not in ascii


def test_errors_quote_sizes_in_the_notation_asked_for():
    text = "in(d) -> residual(dense(2*d))"
    assert "the branch's output (2·d)" in CliRunner().invoke(main, ["count", text]).output
    assert "the branch's output (2*d)" in CliRunner().invoke(main, ["count", text, "--ascii"]).output


ASCII_EXAMPLES = ["gpt2", "llama", "densenet121", "seed_cnn", "mlp_general", "resnet50_frozen", "cnn_symbolic"]


@pytest.mark.parametrize("example", ASCII_EXAMPLES)
@pytest.mark.parametrize("command", [["count", "--breakdown"], ["count", "--leading", "L"], ["summary", "--depth", "2"],
                                     ["explain"]], ids=" ".join)
def test_ascii_output_is_ascii_throughout(example, command):
    result = CliRunner().invoke(main, [*command, "-f", f"examples/{example}.sp", "--ascii"])
    if "--leading" in command and result.exit_code == 2:  # not every model has an L
        return
    assert result.exit_code == 0, result.output
    assert result.output.isascii(), [line for line in result.output.splitlines() if not line.isascii()][:3]


def test_the_layer_reference_in_ascii():
    output = CliRunner().invoke(main, ["layers", "--ascii"]).output
    assert output.isascii() and "4*d (Keras); 2*d (PyTorch)" in output
