"""Every input ends in a count or a clear error, in bounded time and memory, and nothing
runs that the user did not write. Each case is a reproducer from a fuzzing run."""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

import symparam
from symparam import tables
from symparam.cli import main
from symparam.errors import SymparamError


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


def assert_refused(result, message: str, where: str | None = None):
    """Exit code 2, one clear message (with its position when given), no traceback."""
    assert result.exit_code == 2, result.output
    assert message in result.output, result.output
    if where is not None:
        assert f"error: {where}: " in result.output, result.output
    assert "Traceback" not in result.output


# ====================================================================== the parser's tables


class _Planted:
    """A pickle that, when loaded, leaves a file behind: code run by loading it."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_a_file_planted_in_the_temporary_folder_is_never_loaded(tmp_path):
    # Lark's cache (cache=True) would be at a name derived from the grammar in the
    # temporary folder: let Lark write it there, then swap in a pickle that runs code.
    environment = {**os.environ, "TMPDIR": str(tmp_path)}
    write_cache = (
        "from lark import Lark; from symparam import tables;"
        "Lark(tables.grammar_text(), **tables.OPTIONS, cache=True)"
    )
    subprocess.run([sys.executable, "-c", write_cache], env=environment, check=True)
    planted = [path for path in tmp_path.iterdir() if path.name.startswith(".lark_cache")]
    assert planted, "Lark wrote no cache: the test would prove nothing"
    marker = tmp_path / "code-ran"
    for path in planted:
        first_line = path.read_bytes().split(b"\n", 1)[0]
        path.write_bytes(first_line + b"\n" + pickle.dumps(_Planted(str(marker))))

    run = subprocess.run(
        [sys.executable, "-m", "symparam", "count", "in(2) -> dense(3) -> dense(2)"],
        env=environment, capture_output=True, text=True, check=True,
    )
    assert run.stdout.strip() == "17"
    assert not marker.exists()


def test_the_parser_is_loaded_without_pickle(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pickle used to load the parser")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    tree = tables.load().parse("in(4) -> dense(2)", start="start")
    assert tree.data == "start"  # no transformer given: Lark's own parse tree


def test_the_shipped_tables_are_those_of_the_grammar():
    import lark

    from symparam import parser_tables

    text = tables.grammar_text()
    assert parser_tables.GRAMMAR_SHA256 == tables.digest(text), (
        "grammar/symparam.lark changed: rewrite the tables with "
        "python -c \"from symparam import tables; tables.write()\""
    )
    if parser_tables.LARK_VERSION != lark.__version__:
        pytest.skip(f"tables built with Lark {parser_tables.LARK_VERSION}, this is {lark.__version__}")
    assert tables.shipped(text) is parser_tables
    # The tables read as the grammar does (their text varies with set order, not their sense).
    built, loaded = tables.build(), tables.load()
    for example in ("in(784) -> dense(16) -> dense(16) -> dense(10)",
                    "let b(w) = residual(dense(w)); in(h0) -> b(4) * L -> dense(h1) -> ... -> dense(hl)",
                    "in(20, 20, 3) -> conv2d(2, 3, padding=same, strides=(1, 1)) -> flatten"):
        assert loaded.parse(example, start="start") == built.parse(example, start="start")


# ====================================================================== the layer index


def test_the_layer_index_is_that_of_the_modules():
    from symparam import layers
    from symparam.layers import index

    assert index.MODULES == layers.holders(), (
        "a layer kind was added, renamed or moved: rewrite the index with "
        "python -c \"from symparam import layers; layers.write_index()\""
    )


def test_a_count_imports_only_the_layer_modules_it_names():
    program = (
        "import sys, symparam;"
        "symparam.count('in(4) -> dense(3) -> dropout(0.5) -> dense(2)');"
        "print(sorted(m for m in sys.modules if m.startswith('symparam.layers.')))"
    )
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "['symparam.layers.base', 'symparam.layers.core', 'symparam.layers.index']"


def test_every_kind_is_found_by_each_of_its_names_in_a_fresh_process():
    # lookup imports a kind's module on first use: each name must lead to its kind.
    program = (
        "from symparam.layers import base, index;"
        "missing = [name for name in index.MODULES if base.lookup(name) is None];"
        "print(missing, len(base.REGISTRY))"
    )
    run = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    from symparam.layers import REGISTRY

    assert run.stdout.strip() == f"[] {len(REGISTRY)}"


# ====================================================================== valid, once refused


@pytest.mark.parametrize("text, expected", [
    ("in(4) -> layer_norm(eps=1e-5)", 8),
    ("in(4) -> dropout(5e-1) -> dense(2)", 10),
    ("in(4) -> dense(1e3)", 5000),
    ("in(4) -> dense(2.5e1)", 125),
    ("in(4) -> dense(1E+2)", 500),
    ("in(4) -> 2 * batch_norm", 32),
    ("in(4) -> L * layer_norm", 24),
    ("let b() = dense(4); in(4) -> 2 * b", 40),
    ("in(4) -> (layer_norm * 2) * 3", 48),
], ids=["eps", "rate", "units", "decimal-exponent", "plus-exponent", "count-first",
        "name-count-first", "definition-count-first", "repeated-repetition"])
def test_valid_forms(text, expected):
    assert symparam.parse(text).evaluate(**({"L": 3} if "L" in text else {})) == expected


def test_an_exponent_is_exact():
    # 1e-5 is the fraction 1/100000, never a float; a size must still be whole.
    with pytest.raises(SymparamError, match=r"units must be a positive whole number, got 0.1"):
        symparam.count("in(4) -> dense(1e-1)")


# ====================================================================== nesting


def _definitions_chain(depth: int, body: str, call: str) -> str:
    lines = ["let a0(x) = dense(x);"] + [
        f"let a{i}(x) = {body.format(previous=f'a{i - 1}')};" for i in range(1, depth)
    ]
    return " ".join(lines) + f" in(4) -> {call.format(last=f'a{depth - 1}')}"


def _deep(kind: str, depth: int) -> str:
    return {
        "power": "in(4) -> dense(" + "^".join(["1"] * depth) + ")",
        "sum": "in(4) -> dense(" + "+".join(["1"] * depth) + ")",
        "negation": "in(4) -> dense(" + "-" * depth + "2)",
        "index": "in(4) -> dense(" + "h_{" * depth + "1" + "}" * depth + ")",
        "chains": "in(4) -> " + "(dense(4) -> " * depth + "dense(4)" + ")" * depth,
        "residual": "in(4) -> " + "residual(" * depth + "dense(4)" + ")" * depth,
        "repetition": "in(4) -> dense(4)" + " * 2" * depth,
        "names": "in(4) -> dense(4)" + "".join(f" as n{i}" for i in range(depth)),
        "definitions": _definitions_chain(depth, "{previous}(x)", "{last}(4)"),
        "arguments": _definitions_chain(depth, "{previous}(x + 1)", "{last}(1)"),
    }[kind]


NESTED = ["power", "sum", "negation", "index", "chains", "residual", "repetition", "names",
          "definitions", "arguments"]


@pytest.mark.parametrize("kind", NESTED)
def test_nesting_past_the_limit_is_refused_with_a_position(kind):
    text = _deep(kind, 1000)
    with pytest.raises(SymparamError, match=r"nested too deeply: more than 100 levels") as caught:
        symparam.parse(text)
    assert caught.value.line == 1 and caught.value.column > 1
    assert_refused(cli("count", text), "nested too deeply", where=f"1:{caught.value.column}")


@pytest.mark.parametrize("kind", NESTED)
def test_nesting_within_the_limit_is_counted_and_printed(kind):
    text = _deep(kind, 80)
    network = symparam.parse(text, **({"h": [1, 1]} if kind == "index" else {}))
    assert network.total is not None
    for text in (str(network.summary(depth=200)), str(network.explain()), network.latex()):
        assert text


def test_deep_sizes_through_definitions_are_counted_exactly():
    # a79(1) is dense(1 + 79): 4 inputs, 80 units
    assert symparam.count(_deep("arguments", 80)) == 4 * 80 + 80


# ====================================================================== digits and input size


def test_numbers_past_pythons_digit_limit_work_through_the_api():
    network = symparam.parse("in(" + "9" * 5000 + ") -> dense(1)")
    assert network.value == 10**5000  # 99...9 weights and one bias
    for text in (str(network.summary()), str(network.explain()), repr(network)):
        assert "9" * 4500 in text.replace(",", "")
    assert network.latex() == "100" + "{,}000" * 1666  # 10^5000: 5,001 digits


@pytest.mark.parametrize("text, column", [
    ("in(4) -> dense(" + "9" * 10_001 + ")", 16),
    ("in(4) -> dense(1e1000000000)", 16),
    ("in(4) -> dense(1e-20000)", 16),
], ids=["digits", "exponent", "negative-exponent"])
def test_numbers_past_the_digit_limit_are_refused(text, column):
    with pytest.raises(SymparamError, match=r"more than 10,000 digits, symparam's limit") as caught:
        symparam.parse(text)
    assert (caught.value.line, caught.value.column) == (1, column)


@pytest.mark.parametrize("text, message", [
    ("in(4) -> dense(7^4000 * 7^4000 * 7^4000 * 7^4000)", "this product has more than 10,000 digits"),
    ("in(4) -> dense((10^4000)^3)", "this power has more than 10,000 digits"),
    ("in(4) -> dense(10^10001)", "an exponent is at most 4,096, symparam's limit"),
    ("in(4) -> dense(10^10^10)", "an exponent is at most 4,096, symparam's limit"),
    ("in(4) -> dense(d^5000)", "an exponent is at most 4,096, symparam's limit"),
], ids=["product", "power", "exponent", "tower", "symbolic"])
def test_powers_past_the_limit_are_refused(text, message):
    assert_refused(cli("count", text), message, where="1:16")


def test_a_text_past_the_input_limit_is_refused_before_parsing():
    text = "in(64)" + " -> relu" * 70_000  # 560,006 characters
    with pytest.raises(SymparamError, match=r"more than 524,288 characters, symparam's limit"):
        symparam.parse(text)


def test_a_huge_count_prints_in_every_form():
    network = symparam.parse("in(4) -> dense(2^4096)")
    assert network.value == 5 * 2**4096
    assert "Total params" in str(network.summary())
    assert cli("count", "in(4) -> dense(2^4096)", "--dtype", "fp32").exit_code == 0
    assert symparam.parse("in(4) -> dense(4) * 0").value == 0
    assert "Total params: 0" in str(symparam.parse("in(4) -> dense(4) * 0").summary())


# ====================================================================== closed forms, not loops


def test_an_ellipsis_with_far_apart_ends_is_a_sum():
    network = symparam.parse("in(h0) -> dense(h1) -> ... -> dense(hl)", l=10**9)
    assert str(network.total) == "Sum(h[i - 1]*h[i], (i, 1, 1000000000)) + Sum(h[i], (i, 1, 1000000000))"
    network = symparam.parse("in(h0) -> dense(h1) -> ... -> dense(h1000000000)")
    assert "(i, 1, 1000000000)" in str(network.total)


def test_an_ellipsis_with_near_ends_is_written_out():
    network = symparam.parse("in(h0) -> dense(h1) -> ... -> dense(h3)", h=[2, 3, 4, 5])
    assert network.value == (2 * 3 + 3) + (3 * 4 + 4) + (4 * 5 + 5)
    assert len(network.layers) == 3


@pytest.mark.parametrize("convention, expected", [
    # Keras: 4·u·(i + u + 1) per layer, every layer reading u = 4 features
    ("keras", 10**9 * 4 * 4 * (4 + 4 + 1)),
    # PyTorch: 4·h·(i + h + 2) per layer
    ("torch", 10**9 * 4 * 4 * (4 + 4 + 2)),
])
def test_stacked_recurrent_layers_in_closed_form(convention, expected):
    assert symparam.count("in(10, 4) -> lstm(4, layers=10^9)", convention=convention) == expected


def test_stacked_layers_may_be_a_name():
    # torch.nn.LSTM(4, 4, num_layers=3, bidirectional=True) has 1,216 parameters
    network = symparam.parse("in(10, 4) -> lstm(4, layers=L, bidirectional=true)", convention="torch")
    assert str(network.total) == "448*L - 128"
    assert network.evaluate(L=3) == 1216


def _doubling(levels: int, use: str) -> str:
    lines = ["let a0 = dense(4);"] + [
        f"let a{i} = {use.format(p=f'a{i - 1}')};" for i in range(1, levels + 1)
    ]
    return " ".join(lines) + f" in(4) -> a{levels}"


@pytest.mark.parametrize("use, levels", [
    ("{p} -> {p}", 40), ("parallel({p}, {p})", 40), ("residual({p} -> {p})", 30),
], ids=["chain", "parallel", "residual"])
def test_definitions_that_double_are_counted_once_per_level(use, levels):
    # dense(4) on 4 features: 20 parameters, 2^levels times
    assert symparam.count(_doubling(levels, use)) == 20 * 2**levels


def test_a_doubling_tree_is_not_listed():
    text = _doubling(40, "{p} -> {p}")
    assert_refused(cli("explain", text), "layers and groups to list, more than symparam lists")
    assert_refused(cli("count", text, "--breakdown"), "more than symparam lists (1,000,000)")
    summary = cli("summary", text, "--depth", "3")
    assert summary.exit_code == 0 and "a37" in summary.output


def test_an_ellipsis_inside_a_doubling_definition():
    text = ("let a0 = dense(h1) -> ... -> dense(h3); "
            + " ".join(f"let a{i} = a{i - 1} -> a{i - 1};" for i in range(1, 31)) + " in(h3) -> a30")
    network = symparam.parse(text, h=[0, 2, 3, 4])  # h0 unused: in(h3) feeds dense(h1)
    assert network.value == 2**30 * ((4 * 2 + 2) + (2 * 3 + 3) + (3 * 4 + 4))


def test_named_layers_in_a_shared_definition_are_still_refused_twice():
    with pytest.raises(SymparamError, match="the name 'w' is given to two layers"):
        symparam.count("let b = dense(4) as w; in(4) -> b -> b")


# ====================================================================== shapes of huge powers


def test_shapes_with_huge_powers_are_compared_without_expanding():
    assert_refused(
        cli("count", "in((a+b+c+e)^4096) -> residual(dense(1))"),
        "cannot add the branch's output (1) to the skip connection", where="1:23",
    )
    network = symparam.parse("in((a+b)^4096) -> residual(dense((b+a)^4096))")
    assert network.total is not None


# ====================================================================== positions after odd line ends


@pytest.mark.parametrize("text, line, column, shown", [
    ("in(4) -> dense(2)\r-> foo(3)", 1, 22, "  in(4) -> dense(2) -> foo(3)\n                       ^~~"),
    ("in(4)\x0c-> foo(3)", 1, 10, "  in(4) -> foo(3)\n           ^~~"),
    ("# a comment\u2028in(4)\nin(4) -> foo(3)", 2, 10, "  in(4) -> foo(3)\n           ^~~"),
    ("in(4) -> dense(2)\r\n-> foo(3)\r\n", 2, 4, "  -> foo(3) \n     ^~~"),
], ids=["lone-cr", "form-feed", "line-separator-in-comment", "crlf"])
def test_the_caret_follows_the_parsers_lines(text, line, column, shown):
    with pytest.raises(SymparamError, match="unknown layer 'foo'") as caught:
        symparam.count(text)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert str(caught.value).endswith(shown)


# ====================================================================== paths on the command line


def test_bad_paths_get_clicks_messages(tmp_path):
    binary = tmp_path / "binary"
    binary.write_bytes(b"in(4)\xd0\x00 -> dense(2)")
    for args, message in [
        (("count", "-f", str(binary)), "is not UTF-8 text"),
        (("count", "-f", str(tmp_path / "missing")), "cannot read"),
        (("sweep", "in(d) -> dense(d)", "--vary", "d=1:3", "--csv", str(tmp_path)), "Is a directory"),
        (("sweep", "in(d) -> dense(d)", "--vary", "d=1:3", "--plot", "/nonexistent/x.png"),
         "the folder /nonexistent does not exist"),
    ]:
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and "Traceback" not in result.output


def test_an_endless_file_is_read_only_up_to_the_limit():
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero here")
    assert_refused(cli("count", "-f", "/dev/zero"), "symparam's limit")


# ====================================================================== what an unexpected character meets


@pytest.mark.parametrize("text, column, expected", [
    ("in(4) -> dense(2) $", 19, "expected '->', '...', 'as', the end of the expression or an operator"),
    ("in(4) -> dense($)", 16, "expected '(', ')', a name, a number, a quoted string"),
    ("in(4) -> h_{1 $", 15, "expected 'as', '}' or an operator"),
], ids=["after-a-layer", "in-a-call", "in-an-index"])
def test_an_unexpected_character_says_what_the_parser_would_take(text, column, expected):
    with pytest.raises(SymparamError, match=re.escape(expected)) as caught:
        symparam.count(text)
    assert (caught.value.line, caught.value.column) == (1, column)


def test_a_tuple_among_reshapes_extents_is_refused():
    # found by tests/test_fuzz_inputs.py: a TypeError before
    with pytest.raises(SymparamError, match=r"an extent must be a size, not the tuple \(1, 1\)"):
        symparam.count("in(1) -> reshape(d, (1, 1))")
