"""The library of standard blocks (library.sp), written in symparam's own language and
usable by name in any text. Read and parsed once, the first time a text calls a name
that is neither a layer kind nor one of its own definitions."""

from __future__ import annotations

from functools import lru_cache

from . import ast
from .syntax import parse_library

NAME = "symparam/library.sp"  # how messages name a position in it


@lru_cache(maxsize=1)
def definitions() -> dict[str, ast.Definition]:
    """The library's definitions by name, in the order written."""
    from importlib.resources import files

    text = files("symparam").joinpath("library.sp").read_text(encoding="utf-8")
    _, found = parse_library(text, ast.Origin(NAME, text))
    return {definition.name: definition for definition in found}
