"""Values for names, from --set texts or Python keywords. Texts go through the grammar."""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from .exact import fraction, is_fraction
from . import ast
from .errors import SymparamError
from .algebra import is_integer
from .sizes import Sizes, constant
from .values import show
from .syntax import name_ref, parse_binding

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def sizes_from_texts(texts: Iterable[str]) -> Sizes:
    """`--set d=512 --set h=784,16,10 --set h_1=16` -> Sizes."""
    sizes = Sizes()
    for text in texts:
        try:
            binding = parse_binding(text)
            values = tuple(constant(value, text) for value in binding.values)
            sizes = sizes.merged(_bind(binding.target, values, text))
        except SymparamError as error:
            # Positions count within this value, so say which one it is.
            raise SymparamError(f"in --set {text}: {error.message}", error.span, text) from None
    return sizes


def sizes_from_keywords(keywords: Mapping[str, Any]) -> Sizes:
    """evaluate(d=512, h=[784, 16, 10], h1=16) -> Sizes. Strings are parsed as --set values."""
    sizes = Sizes()
    for key, value in keywords.items():
        if isinstance(value, str):
            sizes = sizes.merged(sizes_from_texts([f"{key}={value}"]))
            continue
        if not _NAME.match(key):
            raise SymparamError(f"'{key}' is not a size name")
        many = isinstance(value, (list, tuple))
        values = tuple(_exact(key, item) for item in (value if many else (value,)))
        if many and not values:
            raise SymparamError(f"{key}: a sequence needs at least one value")
        target = name_ref(key, ast.NOWHERE)
        sizes = sizes.merged(_bind(target, values, key, sequence=many))
    return sizes


def _exact(name: str, value):
    if isinstance(value, bool) or not (isinstance(value, int) or is_fraction(value)):
        if hasattr(value, "is_Integer") and value.is_Integer:  # a SymPy Integer
            return int(value)
        if hasattr(value, "is_Rational") and value.is_Rational:
            return fraction(int(value.p), int(value.q))
        raise SymparamError(
            f"{name}: sizes are exact numbers (int or Fraction), not {type(value).__name__} "
            f"{value!r}"
        )
    return value


def _bind(target: ast.Ref, values: tuple, text: str, sequence: bool | None = None) -> Sizes:
    sequence = len(values) > 1 if sequence is None else sequence
    if target.index is None:
        if sequence:
            return Sizes(sequences={target.stem: values})
        return Sizes(scalars={target.stem: values[0]})
    if sequence:
        raise SymparamError(f"{text}: one entry takes one value, not a sequence")
    index = constant(target.index, text)
    if not is_integer(index) or index < 0:
        raise SymparamError(f"{text}: an index must be a whole number >= 0, got {show(index)}")
    return Sizes(entries={(target.stem, int(index)): values[0]})
