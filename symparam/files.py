"""`use "blocks.sp";`: the definitions of other files, brought into the text counted.

A path is read relative to the file that says it (for an expression given on the
command line, or through the API without a path, relative to the current folder). A
used file holds only `use` statements and definitions; its definitions come before the
text's own, in the order used, so the text may call them. A file used twice is read
once; a file that uses itself, through others or not, is an error.
"""

from __future__ import annotations

from pathlib import Path

from . import ast
from .errors import SymparamError
from .limits import MAX_INPUT
from .syntax import parse_library


def resolve(network: ast.Network, path: str | Path | None = None) -> ast.Network:
    """The network with the definitions of the files it uses put before its own."""
    if not network.uses:
        return network
    origin = Path(path).resolve() if path is not None else None
    folder = origin.parent if origin is not None else Path.cwd()
    loader = _Loader(network.source)
    loader.using = [(origin, None)] if origin is not None else []
    for use in network.uses:
        loader.load(use, folder)
    return network._replace(definitions=(*loader.definitions, *network.definitions))


class _Loader:
    def __init__(self, source: str):
        self.source = source  # the text counted: where its own `use` statements stand
        self.definitions: list[ast.Definition] = []
        self.read: set[Path] = set()
        # The files being read, outermost first, each with the `use` that brought it in.
        self.using: list[tuple[Path, ast.Use | None]] = []

    def load(self, use: ast.Use, folder: Path) -> None:
        path = (folder / use.path).resolve()
        paths = [used for used, _ in self.using]
        if path in paths:
            cycle = self.using[paths.index(path):]
            targets = [used.name for used, _ in cycle[1:]] + [path.name]
            statements = [statement for _, statement in cycle[1:]] + [use]
            links = [f"{used.name} uses {target} (at {_place(statement)})"
                     for (used, _), target, statement in zip(cycle, targets, statements)]
            raise self.error(f"'{use.path}' is used in a cycle: {', and '.join(links)}", use)
        if path in self.read:
            return
        text = self.text(path, use)
        origin = ast.Origin(use.path, text)
        uses, definitions = parse_library(text, origin)
        self.using.append((path, use))
        try:
            for inner in uses:
                self.load(inner, path.parent)
        finally:
            self.using.pop()
        self.read.add(path)
        self.definitions.extend(definitions)

    def text(self, path: Path, use: ast.Use) -> str:
        try:
            with open(path, encoding="utf-8") as file:
                text = file.read(MAX_INPUT + 1)
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else "not UTF-8 text"
            raise self.error(f"cannot read '{use.path}' ({path}): {reason}", use) from None
        if len(text) > MAX_INPUT:
            raise self.error(f"'{use.path}' has more than {MAX_INPUT:,} characters, symparam's limit", use)
        return text

    def error(self, message: str, use: ast.Use) -> SymparamError:
        return SymparamError(message, use.span, self.source)


def _place(use: ast.Use) -> str:
    """Where a `use` stands: file:line:column, or line:column in the text counted."""
    span = use.span
    where = f"{span.line}:{span.column}"
    return f"{span.origin.name}:{where}" if span.origin is not None else where
