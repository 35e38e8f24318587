"""What `pip install .` ships: every package folder of symparam/, the grammar and the
library of definitions. (The tests import the checkout, so a folder left out of
pyproject.toml would pass them and still be missing for every user.)"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setuptools() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["tool"]["setuptools"]


def test_every_package_folder_is_shipped():
    folders = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "symparam").rglob("__init__.py")
    }
    shipped = set(_setuptools()["packages"])
    assert folders - shipped == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert shipped - folders == {"symparam.grammar"}  # the grammar folder, mapped by package-dir


def test_the_grammar_and_the_library_are_shipped():
    setuptools = _setuptools()
    assert setuptools["package-dir"]["symparam.grammar"] == "grammar"
    assert (ROOT / "grammar" / "symparam.lark").is_file()
    assert setuptools["package-data"] == {"symparam.grammar": ["*.lark"], "symparam": ["library.sp"]}
    assert (ROOT / "symparam" / "library.sp").is_file()
