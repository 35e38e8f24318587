"""Checks shared by the test files (tests/ is on sys.path when pytest runs them)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

import symparam
from symparam.cli import main


def break_dense(monkeypatch) -> None:
    """Make dense count a bias too many, for the tests that must catch a wrong formula."""
    from symparam.layers import base

    kind = base.REGISTRY["dense"]
    right = kind.apply

    def wrong(call, shape):
        out = right(call, shape)
        return out._replace(count=out.count._replace(biases=out.count.biases + 1))

    monkeypatch.setitem(base.REGISTRY, "dense", kind._replace(apply=wrong))
    monkeypatch.setitem(base._BY_NAME, "dense", kind._replace(apply=wrong))


def assert_error(text: str, message: str, line: int, column: int) -> None:
    """Parsing `text` fails with `message` at line:column, in the API and on the command
    line (exit code 2, one message on stderr, no traceback)."""
    with pytest.raises(symparam.SymparamError, match=message) as info:
        symparam.parse(text)
    assert (info.value.line, info.value.column) == (line, column)
    result = CliRunner().invoke(main, ["count", text])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert re.search(f"^error: {line}:{column}: .*{message}", result.stderr)
