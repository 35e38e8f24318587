"""The core's shape: values formatted in one place, exact at any size; layers that only
answer from shapes; one direction of imports."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import symparam
from symparam import values
from symparam.cli import main
from symparam.derive import binary_size

PACKAGE = Path(symparam.__file__).parent


def run(*args):
    result = CliRunner().invoke(main, [str(arg) for arg in args])
    assert result.exit_code == 0, result.output
    return result.stdout


# ------------------------------------------------------------------ values


@pytest.mark.parametrize(
    "value, text, latex",
    [
        (17, "17", "17"),
        (12730, "12,730", "12{,}730"),
        (124439808, "124,439,808", "124{,}439{,}808"),
    ],
    ids=["small", "thousands", "gpt2"],
)
def test_a_count_reads_the_same_everywhere(value, text, latex):
    assert values.number(value) == text
    assert values.latex(value) == latex


def test_count_and_summary_latex_write_a_number_alike():
    mlp = "in(784) -> dense(16) -> dense(10)"  # 12,730
    assert run("count", mlp, "--latex").strip() == "12{,}730"
    assert r"\text{total} &= 12{,}730" in run("summary", mlp, "--latex")


def test_numbers_inside_formulas_are_grouped_as_counts_are():
    assert symparam.parse("in(d) -> (dense(4*d) -> dense(d)) * L", d=512).latex() == (
        r"2{,}099{,}712 L"
    )


def test_a_count_of_6000_digits_through_the_api():
    network = symparam.parse("in(4) -> dense(10^3000 * 10^3000)")  # 4·10^6000 + 10^6000
    assert network.value == 5 * 10**6000
    table = str(network.summary())
    assert "Total params: 5," + "000," * 1999 + "000 (" in table
    assert values.readable(network.value).endswith("T")
    assert len(values.text(network.value)) == 6001
    assert values.json_value(network.value) == 5 * 10**6000
    assert "0" * 100 in repr(network)


@pytest.mark.parametrize(
    "size, text",
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (497758208, "474.7 MiB"), (2**1100, None)],
    ids=["zero", "bytes", "kib", "gpt2_fp32", "past_floats"],
)
def test_binary_sizes_are_exact(size, text):
    written = binary_size(size)
    if text is not None:
        assert written == text
    else:  # a float would overflow here
        assert written.endswith(" TiB") and written.replace(",", "").split(".")[0].isdigit()


def test_readable_rounds_half_to_even_as_format_does():
    assert values.readable(12_250_000) == "12.2M"
    assert values.readable(12_350_000) == "12.4M"
    assert values.readable(9_999) == ""


# ------------------------------------------------------------------ the package's shape


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        yield name.removesuffix(".__init__"), path


def _imports(name: str, path: Path) -> set[str]:
    """The package modules a module imports, wherever in it (functions too)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_no_import_cycle_in_the_package():
    modules = dict(_modules())
    plain = {name for name, path in modules.items() if path.name != "__init__.py"}
    graph = {name: _imports(name, path) & plain - {name} for name, path in modules.items() if name in plain}
    state: dict[str, str] = {}

    def visit(name, trail):
        state[name] = "open"
        for other in graph[name]:
            if state.get(other) == "open":
                pytest.fail("import cycle: " + " -> ".join(trail[trail.index(other):] + [other]))
            if other not in state:
                visit(other, trail + [other])
        state[name] = "done"

    for name in graph:
        if name not in state:
            visit(name, [name])


@pytest.mark.parametrize("name, path", [m for m in _modules() if m[0].startswith("symparam.layers")], ids=lambda m: str(m))
def test_layers_never_reach_up(name, path):
    """A layer answers from its shapes and arguments: it imports no walker, parser or CLI,
    and divides only through the algebra (on ints, / would give a float)."""
    above = {"counting", "expand", "syntax", "cli", "network", "summary", "render", "explain"}
    imported = {target.split(".")[1] for target in _imports(name, path) if target.startswith("symparam.")}
    assert not imported & above
    tree = ast.parse(path.read_text())
    divisions = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)]
    assert divisions == [], f"/ at lines {divisions}: use call.algebra.exact_divide or divide"


def test_no_evaluator_on_user_text():
    for _, path in _modules():
        assert not re.search(r"\b(eval|exec|sympify|parse_expr)\(", path.read_text()), path


def test_parsing_and_counting_leave_the_garbage_collector_as_they_found_it():
    import gc

    symparam.parse("in(784) -> dense(16) -> dense(10)")
    assert gc.isenabled()
    with pytest.raises(symparam.SymparamError):
        symparam.parse("in(784) -> dense(16) -> dense(0)")
    assert gc.isenabled()
    gc.disable()
    try:
        symparam.parse("in(784) -> dense(16) -> dense(10)")
        assert not gc.isenabled()
    finally:
        gc.enable()
