"""The command line, through click's CliRunner, and once as the installed program.

With click >= 8.2, CliRunner keeps the streams apart: `result.stdout` is standard
output only, `result.stderr` standard error only (`result.output` has both).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from symparam.cli import main

MLP = "in(784) -> dense(16) -> dense(16) -> dense(10)"
MLP_WEIGHTS = 784 * 16 + 16 * 16 + 16 * 10  # 12960
MLP_BIASES = 16 + 16 + 10  # 42
MLP_TOTAL = MLP_WEIGHTS + MLP_BIASES  # 13002
assert MLP_TOTAL == 13002

SMALL = "in(2) -> dense(3) -> dense(2)"  # 2·3 + 3 = 9, then 3·2 + 2 = 8: 17
GENERAL = "in(h0) -> dense(h1) -> ... -> dense(hl)"
GENERAL_TEXT = "Σ_{i=1}^{l} h_{i−1}·h_i + Σ_{i=1}^{l} h_i"
GENERAL_ASCII = "sum_{i=1}^{l} h_{i-1}*h_i + sum_{i=1}^{l} h_i"
GENERAL_SYMPY = "Sum(h[i - 1]*h[i], (i, 1, l)) + Sum(h[i], (i, 1, l))"


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, ["count", *args], input=input)


def succeeds(result) -> str:
    """The standard output of a run that must have worked."""
    assert result.exit_code == 0, (result.output, result.exception)
    assert result.stderr == ""
    return result.stdout


# ------------------------------------------------------------------ plain output

OUTPUTS = {
    "concrete": ([MLP], str(MLP_TOTAL)),
    "symbolic": ([GENERAL], GENERAL_TEXT),
    "symbolic_ascii": ([GENERAL, "--ascii"], GENERAL_ASCII),
    "symbolic_as_sympy_writes_it": ([GENERAL, "--format", "sympy"], GENERAL_SYMPY),
    "set_length_and_sequence": ([GENERAL, "--set", "l=3", "--set", "h=784,16,16,10"], "13002"),
    "set_sequence_infers_length": ([GENERAL, "--set", "h=784,16,16,10"], "13002"),
    "set_value_is_an_expression": (["in(d) -> dense(d)", "--set", "d=2^9"], str(512 * 512 + 512)),
    "convention_torch": ([MLP, "--convention", "torch"], "13002"),
    # 10^4000·10^4000 + 10^4000 = 10^8000 + 10^4000: exact, past Python's 4300-digit str limit.
    "count_of_8001_digits": (
        ["in(10^4000) -> dense(10^4000)"],
        "1" + "0" * 3999 + "1" + "0" * 4000,
    ),
}


@pytest.mark.parametrize("args, expected", list(OUTPUTS.values()), ids=list(OUTPUTS))
def test_count_prints(args, expected):
    assert succeeds(run(*args)).strip() == expected


@pytest.mark.parametrize("flags", [["--latex"], ["--format", "latex"]], ids=["latex", "format_latex"])
def test_latex(flags):
    out = succeeds(run(GENERAL, *flags))
    assert r"\sum_{i=1}^{l}" in out
    assert "h_{i - 1}" in out


def test_breakdown_shows_the_working():
    out = succeeds(run(SMALL, "--breakdown"))
    assert "2 inputs × 3 outputs = 6 weights, + 3 biases = 9 params" in out
    assert "3 inputs × 2 outputs = 6 weights, + 2 biases = 8 params" in out
    assert "17" in out.strip().splitlines()[-1]


# ------------------------------------------------------------------ JSON

TOP_KEYS = {"expression", "total", "trainable", "non_trainable", "weights", "biases", "latex", "layers"}
LAYER_KEYS = ("name", "source", "output_shape", "weights", "biases", "params")


def test_json_concrete_counts_are_integers():
    document = json.loads(succeeds(run(SMALL, "--format", "json")))
    assert TOP_KEYS <= set(document)
    counts = {key: document[key] for key in ("total", "trainable", "non_trainable", "weights", "biases")}
    assert counts == {"total": 17, "trainable": 17, "non_trainable": 0, "weights": 12, "biases": 5}
    assert document["expression"] == SMALL
    assert isinstance(document["latex"], str)
    layers = [tuple(layer[key] for key in LAYER_KEYS) for layer in document["layers"]]
    assert layers == [("dense", "dense(3)", [3], 6, 3, 9), ("dense", "dense(2)", [2], 6, 2, 8)]
    numbers = [*counts.values()]
    for layer in document["layers"]:
        numbers += [*layer["output_shape"], layer["weights"], layer["biases"], layer["params"]]
    assert all(type(n) is int for n in numbers)  # not 17.0, not "17"


def test_json_symbolic_counts_are_strings():
    document = json.loads(succeeds(run(GENERAL, "--format", "json")))
    assert TOP_KEYS <= set(document)
    assert document["total"] == document["trainable"] == GENERAL_SYMPY  # machine-readable
    assert document["total_text"] == GENERAL_TEXT  # and as the text output writes it
    assert document["weights"] == "Sum(h[i - 1]*h[i], (i, 1, l))"
    assert document["biases"] == "Sum(h[i], (i, 1, l))"
    assert document["non_trainable"] == 0
    assert r"\sum_{i=1}^{l}" in document["latex"]
    (layer,) = document["layers"]
    assert set(LAYER_KEYS) <= set(layer)
    assert layer["params"] == GENERAL_SYMPY
    assert all(isinstance(layer[key], str) for key in ("weights", "biases"))


# ------------------------------------------------------------------ where the text comes from

NETWORK_FILE = "# the seeds' 2-3-2 network\nin(2)\n  -> dense(3)  # hidden\n  -> dense(2)\n"


def test_file(tmp_path):
    path = tmp_path / "net.sp"
    path.write_text(NETWORK_FILE, encoding="utf-8")
    assert succeeds(run("-f", str(path))).strip() == "17"


def test_error_in_a_file_names_file_line_and_column(tmp_path):
    path = tmp_path / "net.sp"
    path.write_text(NETWORK_FILE.replace("dense(2)", "dnse(2)"), encoding="utf-8")
    result = run("-f", str(path))
    assert result.exit_code == 2
    assert f"{path}:4:6:" in result.stderr
    assert "did you mean 'dense'?" in result.stderr


@pytest.mark.parametrize("args", [["-"], ["-f", "-"]], ids=["dash", "file_dash"])
def test_stdin(args):
    assert succeeds(run(*args, input=NETWORK_FILE)).strip() == "17"


# ------------------------------------------------------------------ errors

ERRORS = {
    "syntax": (["in(784) dense(16)"], r"error: 1:9: missing '->'"),
    "unknown_layer": (["in(784) -> dnse(16)"], r"error: 1:12: unknown layer 'dnse'; did you mean 'dense'\?"),
    "empty": ([""], r"error: .*empty expression"),
    "size_zero": (["in(784) -> dense(0)"], r"error: 1:18: dense\(0\)"),
    "set_not_an_expression": (["in(d) -> dense(d)", "--set", "d=__import__('os')"], r"error: 1:3: "),
    "set_without_value": (["in(d) -> dense(d)", "--set", "d"], r"error: "),
    "set_unknown_name": ([MLP, "--set", "x=3"], r"error: .*'x'.*no such name"),
    "set_typo_symbolic": (["in(784) -> dense(units)", "--set", "unit=16"], r"did you mean 'units'\?"),
    "set_sequence_too_short": ([GENERAL, "--set", "l=3", "--set", "h=784,16,16"], r"h_3 has no value"),
    "exponent_too_large": (["in(1) -> dense(2^4096^4096)"], r"error: 1:18: this power has more than 10,000 digits"),
    "no_expression": ([], r"(?i)error: .*expression"),
    "missing_file": (["-f", "/nonexistent/net.sp"], r"(?i)error: .*cannot read"),
}


@pytest.mark.parametrize("args, stderr", list(ERRORS.values()), ids=list(ERRORS))
def test_errors_exit_2_with_one_message(args, stderr):
    result = run(*args)
    assert result.exit_code == 2, (result.output, result.exception)
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert re.search(stderr, result.stderr), result.stderr


@pytest.mark.parametrize(
    "value",
    ["d=__import__('os').system('touch pwned')", "d=open('pwned', 'w').write('x')"],
    ids=["os_system", "open"],
)
def test_set_values_never_execute(value, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("in(d) -> dense(d)", "--set", value)
    assert result.exit_code == 2
    assert "error:" in result.stderr
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ the installed program


def test_installed_console_script_and_python_m(tmp_path):
    beside = Path(sys.executable).parent / "symparam"
    script = str(beside) if beside.is_file() else shutil.which("symparam")
    if script is None:
        pytest.skip("no installed `symparam` console script next to this Python or on PATH")
    for command in ([script], [sys.executable, "-m", "symparam"]):
        done = subprocess.run(
            [*command, "count", MLP], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "13002", ""), command


def test_shell_completion_scripts_and_completions():
    """The README's completion lines: click writes the script, and completes commands."""
    for shell in ("bash", "zsh", "fish"):
        result = CliRunner().invoke(main, [], prog_name="symparam", env={"_SYMPARAM_COMPLETE": f"{shell}_source"})
        assert result.exit_code == 0 and "_SYMPARAM_COMPLETE" in result.output
    result = CliRunner().invoke(main, [], prog_name="symparam",
                                env={"_SYMPARAM_COMPLETE": "bash_complete", "COMP_WORDS": "symparam su",
                                     "COMP_CWORD": "1"})
    assert "plain,summary" in result.output
