"""The syntax tree: small immutable records, each with the span of text it came from.

Sizes are kept as expression trees (not SymPy objects) so that a fully concrete count
can be computed on Python integers without importing SymPy. The records are NamedTuples,
not dataclasses: `import dataclasses` and building each class cost more start-up time
than a concrete count may take.
"""

from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple, Union


class Span(NamedTuple):
    """Where a node stands in the source: 1-based line and column, 0-based offsets."""

    line: int
    column: int
    start: int
    end: int

    def text(self, source: str) -> str:
        return source[self.start : self.end]


NOWHERE = Span(0, 0, 0, 0)


# ------------------------------------------------------------------ size expressions


class Num(NamedTuple):
    value: int | Fraction
    span: Span = NOWHERE


class Ref(NamedTuple):
    """A name: `d` (stem "d", no index) or an indexed one: `h0`, `h_i`, `h_{i-1}`."""

    stem: str
    index: "Expr | None" = None
    span: Span = NOWHERE


class BinOp(NamedTuple):
    op: str  # one of + - * / // ^
    left: "Expr"
    right: "Expr"
    span: Span = NOWHERE


class Neg(NamedTuple):
    operand: "Expr"
    span: Span = NOWHERE


class Text(NamedTuple):
    """A quoted string argument, e.g. padding="same"."""

    value: str
    span: Span = NOWHERE


class Tuple(NamedTuple):
    items: tuple["Expr", ...]
    span: Span = NOWHERE


Expr = Union[Num, Ref, BinOp, Neg]
Value = Union[Num, Ref, BinOp, Neg, Text, Tuple]


# ------------------------------------------------------------------ network structure


class Keyword(NamedTuple):
    name: str
    value: Value
    span: Span = NOWHERE


class Call(NamedTuple):
    """One layer: `dense(16, bias=false)`, or a bare name such as `relu`."""

    name: str
    args: tuple[Value, ...]
    keywords: tuple[Keyword, ...]
    span: Span = NOWHERE
    name_span: Span = NOWHERE


class Chain(NamedTuple):
    stages: tuple["Stage", ...]
    span: Span = NOWHERE


class Repeat(NamedTuple):
    """`stage * count`: the stage applied `count` times, its formula multiplied."""

    body: "Stage"
    count: Expr
    span: Span = NOWHERE


class Ellipsis(NamedTuple):
    """`first -> ... -> last`: the layers whose index runs from first's to last's."""

    first: Call
    last: Call
    span: Span = NOWHERE
    marker: Span = NOWHERE  # where the "..." stands


class Named(NamedTuple):
    """`stage as name`: a layer others can refer to, as in tie=name."""

    inner: "Stage"
    name: str
    span: Span = NOWHERE
    name_span: Span = NOWHERE


Stage = Union[Call, Chain, Repeat, Ellipsis, Named]


class Definition(NamedTuple):
    """`let block(d, heads) = chain`: a chain with size parameters, used like a layer."""

    name: str
    params: tuple[str, ...]
    body: Stage
    span: Span = NOWHERE
    name_span: Span = NOWHERE


class Network(NamedTuple):
    chain: Chain
    source: str
    definitions: tuple[Definition, ...] = ()


class Binding(NamedTuple):
    """`NAME=VALUE[,VALUE...]` from --set: one value, or a whole sequence."""

    target: Ref
    values: tuple[Expr, ...]
    source: str


# ------------------------------------------------------------------ helpers


def ref_text(ref: Ref) -> str:
    """How a name is written back: h, h_1, h_{i - 1}."""
    if ref.index is None:
        return ref.stem
    index = unparse(ref.index)
    if isinstance(ref.index, Num) and ref.stem[-1].isalpha():
        return f"{ref.stem}{index}"  # h2, as people write it
    if isinstance(ref.index, Ref) and ref.index.index is None and len(index) == 1:
        return f"{ref.stem}_{index}"
    return f"{ref.stem}_{{{index}}}"


_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "//": 2, "^": 4}


def unparse(expr: Value, parent: int = 0) -> str:
    """Write an expression back as text (used for unrolled ellipses and messages)."""
    if isinstance(expr, Num):
        return str(expr.value)
    if isinstance(expr, Ref):
        return ref_text(expr)
    if isinstance(expr, Neg):
        text = "-" + unparse(expr.operand, 3)
        return f"({text})" if parent > 3 else text
    if isinstance(expr, BinOp):
        own = _PRECEDENCE[expr.op]
        # Left-associative operators: the right operand needs brackets at equal precedence.
        right_level = own if expr.op == "^" else own + 1
        operator = expr.op if expr.op in ("*", "^") else f" {expr.op} "
        text = unparse(expr.left, own) + operator + unparse(expr.right, right_level)
        return f"({text})" if own < parent else text
    if isinstance(expr, Text):
        return repr(expr.value)
    if isinstance(expr, Tuple):
        return "(" + ", ".join(unparse(item) for item in expr.items) + ")"
    if isinstance(expr, Call):
        return unparse_call(expr)
    if isinstance(expr, Chain):
        return "(" + " -> ".join(unparse(stage) for stage in expr.stages) + ")"
    if isinstance(expr, Repeat):
        return f"{unparse(expr.body, 2)} * {unparse(expr.count, 3)}"
    if isinstance(expr, Named):
        return f"{unparse(expr.inner)} as {expr.name}"
    if isinstance(expr, Ellipsis):
        return f"{unparse_call(expr.first)} -> ... -> {unparse_call(expr.last)}"
    raise TypeError(f"not an expression: {expr!r}")


def unparse_call(call: Call) -> str:
    parts = [unparse(arg) for arg in call.args]
    parts += [f"{kw.name}={unparse(kw.value)}" for kw in call.keywords]
    return f"{call.name}({', '.join(parts)})" if parts else call.name


def walk_refs(node):
    """Every Ref in a tree, outer ones before the names inside their indices."""
    if isinstance(node, Ref):
        yield node
        if node.index is not None:
            yield from walk_refs(node.index)
    elif isinstance(node, BinOp):
        yield from walk_refs(node.left)
        yield from walk_refs(node.right)
    elif isinstance(node, Neg):
        yield from walk_refs(node.operand)
    elif isinstance(node, Tuple):
        for item in node.items:
            yield from walk_refs(item)
    elif isinstance(node, Call):
        for arg in node.args:
            yield from walk_refs(arg)
        for keyword in node.keywords:
            yield from walk_refs(keyword.value)
    elif isinstance(node, Chain):
        for stage in node.stages:
            yield from walk_refs(stage)
    elif isinstance(node, Repeat):
        yield from walk_refs(node.body)
        yield from walk_refs(node.count)
    elif isinstance(node, Ellipsis):
        yield from walk_refs(node.first)
        yield from walk_refs(node.last)
    elif isinstance(node, Named):
        yield from walk_refs(node.inner)
    elif isinstance(node, Definition):
        yield from walk_refs(node.body)
    elif isinstance(node, Network):
        for definition in node.definitions:
            yield from walk_refs(definition)
        yield from walk_refs(node.chain)


def map_refs(value, fn):
    """Rebuild a value with every outermost Ref replaced by fn(ref)."""
    if isinstance(value, Ref):
        return fn(value)
    if isinstance(value, BinOp):
        return BinOp(value.op, map_refs(value.left, fn), map_refs(value.right, fn), value.span)
    if isinstance(value, Neg):
        return Neg(map_refs(value.operand, fn), value.span)
    if isinstance(value, Tuple):
        return Tuple(tuple(map_refs(item, fn) for item in value.items), value.span)
    return value


def map_call_refs(call: Call, fn) -> Call:
    return Call(
        call.name,
        tuple(map_refs(arg, fn) for arg in call.args),
        tuple(Keyword(kw.name, map_refs(kw.value, fn), kw.span) for kw in call.keywords),
        call.span,
        call.name_span,
    )
