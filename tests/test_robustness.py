"""Every input ends in a count or a clear error, in bounded time and memory, and nothing
runs that the user did not write. Each case is a reproducer from a fuzzing run."""

from __future__ import annotations

import os
import pickle
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
