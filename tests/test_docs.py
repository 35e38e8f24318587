"""The documentation stays true: README.md and every page under docs/.

Its console examples print what they show, its Python sessions pass as doctests, the
layer reference is what the registry gives, the README holds the test command CI runs
and links to pages that exist, and the site builds with `mkdocs build --strict`.
After a change to what symparam prints, `python tests/update_examples.py` rewrites the
shown outputs (see docs/development.md).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys

import pytest

from docs_examples import (
    LAYER_PAGE, README, ROOT, all_console_examples, console_examples, name, pages, run, run_session,
    session_size,
)
from symparam.layers.base import REGISTRY

UPDATE = "python tests/update_examples.py"
EXAMPLES = [example for example in all_console_examples() if example.runs]
SESSIONS = [path for path in pages() if session_size(path)]


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{name(e.path)}:{e.command[:60]}" for e in EXAMPLES])
def test_console_example(example):
    assert run(example.command) == example.expected, f"{example} (to rewrite the outputs: {UPDATE})"


def test_every_page_with_examples_is_read():
    by_page = {name(example.path) for example in EXAMPLES}
    for page in ("README.md", "docs/language.md", "docs/layer-guide.md", "docs/cli.md", "docs/working.md",
                 "docs/zoo.md", "docs/conventions.md"):
        assert page in by_page, page
    assert len(EXAMPLES) > 80


@pytest.mark.parametrize("path", SESSIONS, ids=[name(path) for path in SESSIONS])
def test_python_session_is_a_doctest(path):
    failures, tried = run_session(path)
    assert tried > 0 and failures == 0


def test_the_python_sessions_are_found():
    assert {"README.md", "docs/api.md"} <= {name(path) for path in SESSIONS}
    assert sum(session_size(path) for path in SESSIONS) > 30


# ------------------------------------------------------------------ the README


def test_readme_shows_the_ci_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    command = re.search(r'TEST_COMMAND="(.*)"', ci).group(1)
    assert command in README.read_text(encoding="utf-8")


def test_readme_is_a_front_page_that_says_how_to_serve_the_docs():
    text = README.read_text(encoding="utf-8")
    assert "pip install '.[docs]' && mkdocs serve" in text
    assert len(text.encode("utf-8")) < 14_000, "the README is the front page: the rest belongs in docs/"


def test_readme_links_lead_to_files_that_exist():
    text = README.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    local = [link for link in links if not re.match(r"[a-z]+:", link)]
    assert any(link.startswith("docs/") for link in local)
    for link in local:
        target = link.split("#")[0]
        assert (ROOT / target).exists(), f"README links to {link}, which does not exist"
    linked = {link.split("#")[0] for link in local}
    for page in (ROOT / "docs").glob("*.md"):
        if page.name == "index.md":  # the site's front page: the README is the repository's
            continue
        assert f"docs/{page.name}" in linked, f"the README does not link to docs/{page.name}"


# ------------------------------------------------------------------ the layer reference


def test_the_layer_reference_page_is_what_the_registry_gives():
    from symparam import reference

    assert LAYER_PAGE.read_text(encoding="utf-8") == reference.markdown_page(), (
        f"docs/layers.md differs from what the layer registry gives: run {UPDATE}"
    )


def test_every_layer_kind_is_in_the_layer_reference():
    page = LAYER_PAGE.read_text(encoding="utf-8")
    missing = [kind for kind in REGISTRY if f"\n## {kind}\n" not in page]
    assert not missing, f"docs/layers.md lacks {', '.join(missing)}: run {UPDATE}"


# ------------------------------------------------------------------ the update script


def test_the_update_script_rewrites_only_output_lines(tmp_path):
    import update_examples

    page = tmp_path / "page.md"
    page.write_text(
        "Some prose.\n\n"
        "```console\n"
        "$ symparam count \"in(2) -> dense(3) -> dense(2)\"\n"
        "18\n"
        "stale line\n"
        "$ symparam count \"in(784) -> dense(16)\"\n"
        "12560\n"
        "```\n\n"
        "- In a list:\n\n"
        "  ```console\n"
        "  $ symparam count \"in(4) -> dense(4) * 3\"\n"
        "  0\n"
        "  ```\n\n"
        "```python\n"
        ">>> import symparam\n"
        ">>> symparam.count(\"in(2) -> dense(3) -> dense(2)\")\n"
        "1\n"
        ">>> print('a\\n\\nb')\n"
        "a\n"
        "\n"
        "```\n\n"
        "More prose, with 18 in it.\n",
        encoding="utf-8",
    )
    assert update_examples.main([str(page), "--check"]) == 1
    assert update_examples.main([str(page)]) == 0
    assert page.read_text(encoding="utf-8") == (
        "Some prose.\n\n"
        "```console\n"
        "$ symparam count \"in(2) -> dense(3) -> dense(2)\"\n"
        "17\n"
        "$ symparam count \"in(784) -> dense(16)\"\n"
        "12560\n"
        "```\n\n"
        "- In a list:\n\n"
        "  ```console\n"
        "  $ symparam count \"in(4) -> dense(4) * 3\"\n"
        "  60\n"
        "  ```\n\n"
        "```python\n"
        ">>> import symparam\n"
        ">>> symparam.count(\"in(2) -> dense(3) -> dense(2)\")\n"
        "17\n"
        ">>> print('a\\n\\nb')\n"
        "a\n"
        "<BLANKLINE>\n"
        "b\n"
        "\n"
        "```\n\n"
        "More prose, with 18 in it.\n"
    )
    assert update_examples.main([str(page), "--check"]) == 0
    assert [example.output for example in console_examples(page)] == [["17"], ["12560"], ["60"]]


# ------------------------------------------------------------------ the site

SITE_PACKAGES = ("mkdocs", "material", "mkdocs_jupyter", "mkdocs_click", "mkdocstrings", "mkdocstrings_handlers.python")


def test_the_site_builds_strictly(tmp_path):
    missing = [package for package in SITE_PACKAGES if _absent(package)]
    if missing:
        pytest.skip(f"the documentation build needs the docs extra (pip install '.[docs]'): "
                    f"{', '.join(missing)} not installed")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
         "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    site = tmp_path / "site"
    for page in ("layers", "cli-reference", "api-reference", "notebooks/01_dense_networks"):
        assert (site / page / "index.html").is_file(), page
    assert "symparam count" in (site / "cli-reference" / "index.html").read_text(encoding="utf-8")
    assert "symparam.parse" in (site / "api-reference" / "index.html").read_text(encoding="utf-8")


def _absent(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is None
    except ModuleNotFoundError:
        return True
