"""The library of standard blocks (library.sp), written in symparam's own language and
usable by name in any text. Read and parsed once, the first time a text calls a name
that is neither a layer kind nor one of its own definitions."""

from __future__ import annotations

from functools import lru_cache

from . import ast
from .syntax import parse_library

NAME = "symparam/library.sp"  # how messages name a position in it


def beside(own) -> list[ast.Definition]:
    """The library's definitions for a text that defines the names in `own`: a block of
    such a name is kept under a name no text can write (library.NAME), and the other
    blocks call it by that name, so that a text's `squeeze_excite` does not change
    what the library's `mbconv` means."""
    blocks = definitions()
    renamed = {name: f"library.{name}" for name in blocks if name in own}
    if not renamed:
        return list(blocks.values())
    return [_renamed(definition, renamed) for definition in blocks.values()]


def _renamed(node, names: dict):
    if isinstance(node, ast.Definition) and node.name in names:
        node = node._replace(name=names[node.name])
    if isinstance(node, ast.Definition):
        return node._replace(body=_renamed(node.body, names))
    if isinstance(node, ast.Call) and node.name in names:
        node = node._replace(name=names[node.name])
    elif isinstance(node, ast.Ref) and node.index is None and node.stem in names:
        return node._replace(stem=names[node.stem])
    return ast.rebuild(node, lambda child: _renamed(child, names))


@lru_cache(maxsize=1)
def definitions() -> dict[str, ast.Definition]:
    """The library's definitions by name, in the order written."""
    from importlib.resources import files

    text = files("symparam").joinpath("library.sp").read_text(encoding="utf-8")
    _, found = parse_library(text, ast.Origin(NAME, text))
    return {definition.name: definition for definition in found}
