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
    compute: str = ""  # its forward multiply–accumulates and elementwise operations there (Keras')


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
    compute = _compute(example) if formulas[0] else ""
    return Entry(kind.name, signature(kind), kind.aliases, about, example, *formulas, compute)


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


def _compute(expression: str) -> str:
    """'d·units MACs, units elementwise' for the example (symparam.compute)."""
    from .network import parse

    work = parse(expression).compute()  # as built: the output positions' factors kept
    return f"{text(work.macs, arrange=False)} MACs, {text(work.elementwise, arrange=False)} elementwise"


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
        lines += ["", f"example: {item.example}", f"  Keras:   {item.keras}", f"  PyTorch: {item.torch}",
                  f"  compute: {item.compute}"]
    return "\n".join(lines)


# ------------------------------------------------------------------ the documentation's page

PAGE_INTRO = """\
Every layer kind symparam knows, generated from the layer registry: the same entries as
`symparam layers` prints, and `symparam layers NAME` shows one of them in a terminal.
Each kind has a canonical snake_case name and accepts the aliases listed (its Keras and
PyTorch class names). The signature gives the parameters in positional order with their
defaults; a keyword alias may stand for a parameter's name. The formulas are counted by
symparam itself on a call with every size a name, on the first input the kind takes:
(d), (T, d), (H, W, C) or (D, H, W, C), with k for a kernel or pool along every axis.
[Layers](layer-guide.md) explains the shapes and the families in prose."""


def markdown_page() -> str:
    """The layer reference as a Markdown page, docs/layers.md: every kind with its
    signature, what it is, its aliases and its formula under each convention."""
    from inspect import cleandoc

    items = entries()
    blocks = [
        "# Layer reference",
        "<!-- Generated from the layer registry by symparam.reference.markdown_page(): do not edit.\n"
        "     `python tests/update_examples.py` writes it again. -->",
        PAGE_INTRO,
        "| Kind | What it is |\n|---|---|\n"
        + "\n".join(f"| [`{item.name}`](#{item.name}) | {_markdown(item.about)} |" for item in items),
    ]
    for item in items:
        kind = REGISTRY[item.name]
        blocks += [f"## {item.name}", f"`{item.signature}`"]
        doc = cleandoc(kind.doc) if kind.doc else item.about
        blocks += [_markdown(" ".join(paragraph.split())) for paragraph in doc.split("\n\n")]
        if item.aliases:
            blocks.append("Aliases: " + ", ".join(f"`{alias}`" for alias in item.aliases) + ".")
        keywords = [f"`{alias}` for `{param.name}`" for param in kind.params for alias in param.aliases]
        if keywords:
            blocks.append("Keyword aliases: " + ", ".join(keywords) + ".")
        if item.keras:
            blocks.append(f"Counted on `{item.example}`:")
            if item.keras == item.torch:
                blocks.append(f"- Keras and PyTorch: `{item.keras}`")
            else:
                blocks.append(f"- Keras: `{item.keras}`\n- PyTorch: `{item.torch}`")
            blocks.append(f"Its forward pass for one example (Keras' convention): `{item.compute}`.")
    return "\n\n".join(blocks) + "\n"


def _markdown(prose: str) -> str:
    """One line of a docstring as Markdown text: code spans kept, the characters that
    Markdown would read as markup escaped."""
    parts = prose.split("`")
    for i in range(0, len(parts), 2):  # outside the code spans
        part = parts[i]
        for char in "\\*_[]|":
            part = part.replace(char, "\\" + char)
        parts[i] = part.replace("<", "&lt;")
    text_ = "`".join(parts)
    if text_[:1] in ("#", "-", "+", ">"):
        text_ = "\\" + text_
    return text_
