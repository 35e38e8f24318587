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
    match expr:
        case Num(value):
            return str(value)
        case Ref():
            return ref_text(expr)
        case Neg(operand):
            text = "-" + unparse(operand, 3)
            return f"({text})" if parent > 3 else text
        case BinOp(op, left, right):
            own = _PRECEDENCE[op]
            # Left-associative operators: the right operand needs brackets at equal precedence.
            right_level = own if op == "^" else own + 1
            operator = op if op in ("*", "^") else f" {op} "
            text = unparse(left, own) + operator + unparse(right, right_level)
            return f"({text})" if own < parent else text
        case Text(value):
            return repr(value)
        case Tuple(items):
            return "(" + ", ".join(unparse(item) for item in items) + ")"
        case Call():
            return unparse_call(expr)
        case Chain(stages):
            return "(" + " -> ".join(unparse(stage) for stage in stages) + ")"
        case Repeat(body, count):
            return f"{unparse(body, 2)} * {unparse(count, 3)}"
        case Named(inner, name):
            return f"{unparse(inner)} as {name}"
        case Ellipsis(first, last):
            return f"{unparse_call(first)} -> ... -> {unparse_call(last)}"
    raise TypeError(f"not an expression: {expr!r}")


def unparse_call(call: Call) -> str:
    parts = [unparse(arg) for arg in call.args]
    parts += [f"{kw.name}={unparse(kw.value)}" for kw in call.keywords]
    return f"{call.name}({', '.join(parts)})" if parts else call.name


def children(node) -> tuple:
    """The nodes directly inside a node: the one generic walk over the syntax tree."""
    match node:
        case Ref(_, index) if index is not None:
            return (index,)
        case BinOp(_, left, right):
            return (left, right)
        case Neg(operand):
            return (operand,)
        case Tuple(items):
            return items
        case Call(_, args, keywords):
            return args + tuple(keyword.value for keyword in keywords)
        case Chain(stages):
            return stages
        case Repeat(body, count):
            return (body, count)
        case Ellipsis(first, last):
            return (first, last)
        case Named(inner):
            return (inner,)
        case Definition(body=body):
            return (body,)
        case Network(chain, _, definitions):
            return (*definitions, chain)
    return ()


def rebuild(node, fn):
    """The node with `fn` applied to each node directly inside it (positions kept)."""
    match node:
        case Ref(stem, index, span) if index is not None:
            return Ref(stem, fn(index), span)
        case BinOp(op, left, right, span):
            return BinOp(op, fn(left), fn(right), span)
        case Neg(operand, span):
            return Neg(fn(operand), span)
        case Tuple(items, span):
            return Tuple(tuple(fn(item) for item in items), span)
        case Call(name, args, keywords, span, name_span):
            keywords = tuple(Keyword(k.name, fn(k.value), k.span) for k in keywords)
            return Call(name, tuple(fn(arg) for arg in args), keywords, span, name_span)
        case Chain(stages, span):
            return Chain(tuple(fn(stage) for stage in stages), span)
        case Repeat(body, count, span):
            return Repeat(fn(body), fn(count), span)
        case Named(inner, name, span, name_span):
            return Named(fn(inner), name, span, name_span)
        case Ellipsis(first, last, span, marker):
            return Ellipsis(fn(first), fn(last), span, marker)
    return node


def walk_refs(node):
    """Every Ref in a tree, outer ones before the names inside their indices."""
    if isinstance(node, Ref):
        yield node
    for child in children(node):
        yield from walk_refs(child)


def map_refs(value, fn):
    """Rebuild a size expression with every outermost Ref replaced by fn(ref)."""
    if isinstance(value, Ref):
        return fn(value)
    if isinstance(value, (BinOp, Neg, Tuple)):
        return rebuild(value, lambda item: map_refs(item, fn))
    return value


def map_call_refs(call: Call, fn) -> Call:
    return rebuild(call, lambda value: map_refs(value, fn))
