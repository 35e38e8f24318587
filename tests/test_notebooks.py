"""Every notebook runs top to bottom, is committed with its outputs, and its stored text
outputs are what a fresh run gives (images and volatile fields aside)."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="notebook tests need the test extra (nbformat)")
nbclient = pytest.importorskip("nbclient", reason="notebook tests need the test extra (nbclient)")

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
TEXT_TYPES = ("text/plain", "text/html", "text/latex", "text/markdown")


def texts(cell) -> list:
    """A code cell's outputs with only what must not change: text, never images or counts."""
    shown = []
    for output in cell.get("outputs", []):
        kind = output["output_type"]
        if kind == "stream":
            # A stream can come in chunks split by timing: join neighbouring ones.
            if shown and isinstance(shown[-1], tuple) and shown[-1][0] == output["name"]:
                shown[-1] = (output["name"], shown[-1][1] + output["text"])
            else:
                shown.append((output["name"], output["text"]))
        elif kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            shown.append({key: data[key] for key in TEXT_TYPES if key in data})
        elif kind == "error":
            shown.append(("error", output["ename"], output["evalue"]))
    return shown


def test_there_are_notebooks():
    names = [path.name for path in NOTEBOOKS]
    for prefix in ("01_", "02_", "03_", "04_", "05_"):
        assert any(name.startswith(prefix) for name in names), f"no notebook {prefix}*"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs_and_matches_its_outputs(path):
    stored = nbformat.read(path, as_version=4)
    code = [cell for cell in stored.cells if cell.cell_type == "code"]
    assert code, "a notebook without code"
    assert all(cell.get("outputs") for cell in code if cell.source.strip()), (
        "committed without outputs: run it and save it with its outputs"
    )
    fresh = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        fresh, timeout=300, kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()  # raises CellExecutionError on any error
    for before, after in zip(code, [cell for cell in fresh.cells if cell.cell_type == "code"]):
        assert texts(before) == texts(after), f"stale outputs in cell:\n{before.source}"
