"""Rewrite the documentation's example outputs from what symparam prints now.

    python tests/update_examples.py            # README.md and docs/**/*.md, in place
    python tests/update_examples.py --check    # only list what differs (exit code 1 if any)
    python tests/update_examples.py docs/language.md   # some pages only

For each `$ symparam ...` line of a ```console block, the lines under it are replaced by
the command's output; for each `>>>` example of a Python session, its expected output by
what it gives. Commands, sources and prose are never changed: only output lines. An
example whose exception differs from the one shown is listed, not rewritten. The layer
reference, docs/layers.md, is written again from the layer registry, and the framework
layers' table, docs/frameworks.md, from symparam/frameworks/classes.py.

Run it after a change to what symparam prints, then read `git diff`: the prose around
an example may say something the new output no longer shows.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from docs_examples import (  # noqa: E402
    FRAMEWORKS_PAGE, LAYER_PAGE, console_examples, name, pages, run, session_outputs,
)


def update_console(path: Path, text: str) -> tuple[str, list[str]]:
    """The page with every console example's output as it is now, and what changed."""
    lines = text.split("\n")
    changed = []
    for example in reversed(console_examples(path, text)):  # from the end: indices stay right
        if not example.runs:
            continue
        actual = run(example.command).split("\n")
        if actual == example.output:
            continue
        start = example.line + 1
        lines[start:start + len(example.output)] = [example.indent + line if line else "" for line in actual]
        changed.append(str(example))
    return "\n".join(lines), changed[::-1]


def update_session(path: Path, text: str) -> tuple[str, list[str], list[str]]:
    """The page with every `>>>` example's expected output as it gives it now."""
    if not any(line.lstrip().startswith(">>> ") for line in text.splitlines()):
        return text, [], []
    changes, by_hand = session_outputs(path, text)
    lines = text.split("\n")
    changed = []
    for first, (start, count, got, indent) in sorted(changes.items(), reverse=True):
        shown = [" " * indent + (line if line.strip() else "<BLANKLINE>") for line in got.rstrip("\n").split("\n")]
        if not got:
            shown = []
        lines[start:start + count] = shown
        changed.append(f"{name(path)}:{first + 1}: >>> {lines[first].strip()[4:]}")
    return "\n".join(lines), changed[::-1], [f"{name(path)}:{line + 1}" for line in by_hand]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", type=Path, help="pages to update (default: all)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when an output differs")
    args = parser.parse_args(argv)

    chosen = [path.resolve() for path in args.pages] or pages()
    differ, look_at = [], []
    for path in chosen:
        text = path.read_text(encoding="utf-8")
        new, console = update_console(path, text)
        new, session, by_hand = update_session(path, new)
        differ += console + session
        look_at += by_hand
        if new != text and not args.check:
            path.write_text(new, encoding="utf-8")

    from symparam import reference
    from symparam.frameworks import classes

    for generated, make, what in ((LAYER_PAGE, reference.markdown_page, "the layer reference, from the registry"),
                                  (FRAMEWORKS_PAGE, classes.markdown_page, "the framework layers' table")):
        if args.pages and generated.resolve() not in chosen:
            continue
        page = make()
        if not generated.exists() or generated.read_text(encoding="utf-8") != page:
            differ.append(f"{name(generated)}: {what}")
            if not args.check:
                generated.write_text(page, encoding="utf-8")

    verb = "differs" if args.check else "rewritten"
    for item in differ:
        print(f"{verb}: {item}")
    for item in look_at:
        print(f"look at by hand (an exception other than the one shown): {item}")
    print(f"{len(differ)} {'differ' if args.check else 'rewritten'}, {len(look_at)} to look at by hand")
    return 1 if args.check and (differ or look_at) else 0


if __name__ == "__main__":
    sys.exit(main())
