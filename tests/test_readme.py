"""The README stays true: its console examples print what it shows, its Python session
passes as a doctest, and it still holds the test command CI runs."""

from __future__ import annotations

import doctest
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from symparam.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def console_examples():
    """(command, expected output) for every `$ ...` line in a ```console block."""
    text = README.read_text(encoding="utf-8")
    examples = []
    for indent, body in re.findall(r"^( *)```console\n(.*?)^\1```", text, re.S | re.M):
        for line in body.splitlines():
            line = line[len(indent):]
            if line.startswith("$ "):
                examples.append([line[2:], []])
            else:
                examples[-1][1].append(line)
    return [(command, "\n".join(lines)) for command, lines in examples if "bench.py" not in command]


EXAMPLES = console_examples()


@pytest.mark.parametrize("command, expected", EXAMPLES, ids=[c[:60] for c, _ in EXAMPLES])
def test_console_example(command, expected, monkeypatch):
    monkeypatch.chdir(ROOT)
    if "|" in command:  # a pipeline: run it as a shell would, with this symparam first
        bin_dir = str(Path(sys.executable).parent)
        env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
        result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=env)
        output = result.stdout + result.stderr
    else:
        words = shlex.split(command)
        assert words[0] == "symparam"
        result = CliRunner().invoke(main, words[1:])
        output = result.stdout + result.stderr
    assert output.rstrip("\n") == expected


def test_python_session_is_a_doctest(monkeypatch):
    monkeypatch.chdir(ROOT)
    failures, tried = doctest.testfile(str(README), module_relative=False, verbose=False)
    assert tried > 10 and failures == 0


def test_readme_shows_the_ci_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    command = re.search(r'TEST_COMMAND="(.*)"', ci).group(1)
    assert command in README.read_text(encoding="utf-8")
