"""The layer reference, generated from the registry: each kind's signature, what it is,
and its parameter formula under each convention, counted by symparam itself on a call
with every size a name (`dense(units)` on (d) inputs: d·units + units). A new layer
kind appears here without further work."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import SymparamError
from .layers.base import REGISTRY, REQUIRED, ByConvention, LayerKind, Projections, Size, Sizes, Stage
from .values import text

# The input a kind is shown on, by rank: names a reader knows.
INPUTS = {1: ("d",), 2: ("T", "d"), 3: ("H", "W", "C"), 4: ("D", "H", "W", "C")}


@dataclass(frozen=True)
class Entry:
    name: str
    signature: str
    aliases: tuple[str, ...]
    about: str  # what it is, in one line
    example: str  # a call with every size a name, on an input of names
    keras: str  # its parameters under each convention ("" when it has no formula alone)
    torch: str


def signature(kind: LayerKind) -> str:
    """dense(units, bias=true, activation=none, tie=none, lora=none)."""
    parts = []
    for param in kind.params:
        default = param.default
        if default is REQUIRED:
            parts.append(param.name)
            continue
        if isinstance(default, ByConvention):
            shown = f"{_word(default.keras)} (Keras) / {_word(default.torch)} (PyTorch)"
        elif isinstance(param, Projections) and default == param.choices:
            shown = "true"  # every projection
        else:
            shown = _word(default)
        parts.append(f"{param.name}={shown}")
    if kind.varargs is not None:
        parts.insert(0, f"{kind.varargs.name}, ...")
    return f"{kind.name}({', '.join(parts)})" if parts else kind.name


def _word(value) -> str:
    if value is None:
        return "none"
    if value is True or value is False:
        return str(value).lower()
    if isinstance(value, tuple):
        if len(value) == 1:
            return _word(value[0])
        return "(" + ", ".join(_word(item) for item in value) + ")"
    return str(value)


def entries() -> list[Entry]:
    return [entry(kind) for kind in sorted(REGISTRY.values(), key=lambda kind: kind.name)]


def entry(kind: LayerKind) -> Entry:
    about = (kind.doc.splitlines() or [""])[0]
    example, formulas = _example(kind)
    return Entry(kind.name, signature(kind), kind.aliases, about, example, *formulas)


def _example(kind: LayerKind) -> tuple[str, tuple[str, str]]:
    """The first input rank on which a call of `kind` with named sizes counts, and its
    formula under each convention."""
    if kind.name == "input" or kind.chains:
        return "", ("", "")  # an input; a kind holding chains counts them
    call = _call(kind)
    for rank in sorted(INPUTS):
        text_in = f"in({', '.join(INPUTS[rank])})"
        try:
            formulas = tuple(_formula(f"{text_in} -> {call}", convention) for convention in ("keras", "torch"))
        except SymparamError:
            continue
        return f"{text_in} -> {call}", formulas
    return call, ("", "")


def _call(kind: LayerKind) -> str:
    args = []
    for param in kind.params:
        if param.default is not REQUIRED or param.keyword_only:
            continue
        args.append(_value(param))
    if kind.varargs is not None and not isinstance(kind.varargs, Stage):
        args += [_value(kind.varargs)] * (2 if kind.name in ("reshape", "param") else 1)
    return f"{kind.name}({', '.join(args)})" if args else kind.name


def _value(param) -> str:
    if isinstance(param, Sizes):
        return "k"  # a kernel, a pool, a size per axis
    if isinstance(param, Size):
        return {"dimension": "n", "shape": "n"}.get(param.name, param.name)
    return "1"


def _formula(expression: str, convention: str) -> str:
    from .network import parse

    network = parse(expression, convention=convention)
    return text(network.layers[-1].params)


def layer_table() -> str:
    """Every kind: name, signature, what it is, and its formula (both conventions when
    they differ)."""
    lines = []
    for item in entries():
        formula = item.keras if item.keras == item.torch else f"{item.keras} (Keras); {item.torch} (PyTorch)"
        lines.append(f"{item.signature}\n    {item.about}" + (f"\n    params: {formula}" if formula else ""))
    return "\n".join(lines)


def layer_page(name: str) -> str:
    """One kind in full, found by its name or an alias."""
    from .errors import did_you_mean
    from .layers.base import all_names, lookup

    kind = lookup(name)
    if kind is None:
        raise SymparamError(f"unknown layer '{name}'" + did_you_mean(name, all_names()))
    item = entry(kind)
    from inspect import cleandoc

    lines = [item.signature, "", cleandoc(kind.doc) if kind.doc else item.about]
    if item.aliases:
        lines += ["", "aliases: " + ", ".join(item.aliases)]
    if item.keras:
        lines += ["", f"example: {item.example}", f"  Keras:   {item.keras}", f"  PyTorch: {item.torch}"]
    return "\n".join(lines)
