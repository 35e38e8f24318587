"""The documentation's examples, for tests/test_docs.py and tests/update_examples.py.

A console example is a `$ ...` line in a ```console block of README.md or of a page
under docs/, with the lines under it (up to the next `$` line or the block's end) as
its output. A Python session is the `>>>` examples of a page, run as a doctest.
"""

from __future__ import annotations

import doctest
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
LAYER_PAGE = ROOT / "docs" / "layers.md"
FRAMEWORKS_PAGE = ROOT / "docs" / "frameworks.md"

# Shown, but not run: they measure this machine.
NOT_RUN = ("python benchmarks/bench.py",)

OPENING = re.compile(r"^( *)```console\s*$")


def pages() -> list[Path]:
    """README.md and every Markdown page of the documentation."""
    return [README, *sorted((ROOT / "docs").rglob("*.md"))]


def name(path: Path) -> str:
    """The path as the messages give it: from the top of the repository when inside it."""
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


@dataclass
class Example:
    path: Path
    line: int  # 0-based index of the `$ ` line; the output is the lines after it
    indent: str  # of the block, for a block inside a list item
    command: str
    output: list[str]  # as shown, without the indent

    @property
    def expected(self) -> str:
        return "\n".join(self.output)

    @property
    def runs(self) -> bool:
        return not self.command.startswith(NOT_RUN)

    def __str__(self) -> str:
        return f"{name(self.path)}:{self.line + 1}: $ {self.command}"


def console_examples(path: Path, text: str | None = None) -> list[Example]:
    """Every `$ ...` line of the ```console blocks of a page, with its output."""
    lines = (path.read_text(encoding="utf-8") if text is None else text).split("\n")
    examples: list[Example] = []
    block = None  # the indent of the console block we are in
    current = None  # the example whose output the next lines are
    for number, line in enumerate(lines):
        if block is None:
            opening = OPENING.match(line)
            if opening:
                block, current = opening.group(1), None
            continue
        if line.rstrip() == block + "```":
            block = None
            continue
        content = line[len(block):] if line.startswith(block) else line.lstrip(" ")
        if content.startswith("$ "):
            current = Example(path, number, block, content[2:], [])
            examples.append(current)
        elif current is not None:
            current.output.append(content)
        else:
            raise ValueError(f"{name(path)}:{number + 1}: a console block must start with a '$ ' line")
    if block is not None:
        raise ValueError(f"{name(path)}: a console block is not closed")
    return examples


def all_console_examples() -> list[Example]:
    return [example for path in pages() for example in console_examples(path)]


def run(command: str) -> str:
    """What the command prints, standard output then standard error, run from the top of
    the repository with this interpreter's symparam."""
    old = Path.cwd()
    os.chdir(ROOT)
    try:
        if "|" in command:  # a pipeline: run it as a shell would, with this symparam first
            bin_dir = str(Path(sys.executable).parent)
            env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
            result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=env)
            output = result.stdout + result.stderr
        else:
            from click.testing import CliRunner

            from symparam.cli import main

            words = shlex.split(command)
            if words[0] != "symparam":
                raise ValueError(f"not a symparam command: {command}")
            result = CliRunner().invoke(main, words[1:])
            output = result.stdout + result.stderr
    finally:
        os.chdir(old)
    return output.rstrip("\n")


# ------------------------------------------------------------------ Python sessions


def session_size(path: Path) -> int:
    """How many `>>>` examples the page has."""
    text = path.read_text(encoding="utf-8")
    return len(doctest.DocTestParser().get_examples(text, name(path)))


def run_session(path: Path) -> doctest.TestResults:
    """The page's `>>>` examples as a doctest, from the top of the repository."""
    old = Path.cwd()
    os.chdir(ROOT)
    try:
        return doctest.testfile(str(path), module_relative=False, verbose=False, encoding="utf-8")
    finally:
        os.chdir(old)


class _Recorder(doctest.DocTestRunner):
    """Runs a doctest and keeps, for each example whose output differs, what it gave."""

    def __init__(self):
        super().__init__(verbose=False, optionflags=0)
        self.got: dict[int, str] = {}  # example's line number -> its actual output
        self.by_hand: list[int] = []  # examples whose exception or error is for a person to read

    def report_failure(self, out, test, example, got):
        if example.exc_msg is None:
            self.got[example.lineno] = got
        else:  # a different exception than shown: its traceback is not to be copied in
            self.by_hand.append(example.lineno)

    def report_unexpected_exception(self, out, test, example, exc_info):
        self.by_hand.append(example.lineno)


def session_outputs(path: Path, text: str) -> tuple[dict[int, tuple[int, int, str, int]], list[int]]:
    """The `>>>` examples of `text` whose output differs: for each, its first line's
    index -> (the index of its output's first line, how many lines it has, the output it
    gives, its indent); and the lines of the examples that raise where they should not, or another
    exception than shown (to be looked at, not rewritten)."""
    test = doctest.DocTestParser().get_doctest(text, {}, name(path), str(path), 0)
    recorder = _Recorder()
    old = Path.cwd()
    os.chdir(ROOT)
    try:
        recorder.run(test, out=lambda _: None, clear_globs=True)
    finally:
        os.chdir(old)
    changes = {}
    for example in test.examples:
        if example.lineno in recorder.got:
            start = example.lineno + example.source.count("\n")
            changes[example.lineno] = (start, example.want.count("\n"), recorder.got[example.lineno], example.indent)
    return changes, recorder.by_hand
