"""The syntax tree: small immutable records, each with the span of text it came from.

Sizes are kept as expression trees (not SymPy objects) so that a fully concrete count
can be computed on Python integers without importing SymPy. The records are
collections.namedtuple, not dataclasses or typing.NamedTuple: building those classes
(and compiling their annotations) costs more start-up time than a concrete count may take.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Union

from .values import show


class Origin(namedtuple("Origin", "name text")):
    """A text other than the one being counted: a file brought in by `use`."""

    __slots__ = ()


class Span(namedtuple("Span", "line column start end origin", defaults=(None,))):
    """Where a node stands in the source: 1-based line and column, 0-based offsets;
    `origin` is None in the text being counted, or the Origin of a file it uses."""

    __slots__ = ()

    def text(self, source: str) -> str:
        return (source if self.origin is None else self.origin.text)[self.start : self.end]


NOWHERE = Span(0, 0, 0, 0)


# ------------------------------------------------------------------ size expressions


class Num(namedtuple("Num", "value span", defaults=(NOWHERE,))):
    """A number as written: an int, or a Fraction for 0.5."""

    __slots__ = ()


class Ref(namedtuple("Ref", "stem index span", defaults=(None, NOWHERE))):
    """A name: `d` (stem "d", no index) or an indexed one: `h0`, `h_i`, `h_{i-1}`."""

    __slots__ = ()


class BinOp(namedtuple("BinOp", "op left right span", defaults=(NOWHERE,))):
    """`op`: one of + - * / // ^."""

    __slots__ = ()


class Neg(namedtuple("Neg", "operand span", defaults=(NOWHERE,))):
    """-operand."""

    __slots__ = ()


class Text(namedtuple("Text", "value span", defaults=(NOWHERE,))):
    """A quoted string argument, e.g. padding="same"."""

    __slots__ = ()


class Tuple(namedtuple("Tuple", "items span", defaults=(NOWHERE,))):
    """(3, 5), (3,) and ((1, 2), (3, 4)): kernel sizes, strides, paddings."""

    __slots__ = ()


Expr = Union[Num, Ref, BinOp, Neg]
Value = Union[Num, Ref, BinOp, Neg, Text, Tuple]


# ------------------------------------------------------------------ network structure


class Keyword(namedtuple("Keyword", "name value span", defaults=(NOWHERE,))):
    """name=value in a call."""

    __slots__ = ()


class Call(namedtuple("Call", "name args keywords span name_span", defaults=(NOWHERE, NOWHERE))):
    """One layer: `dense(16, bias=false)`, or a bare name such as `relu`."""

    __slots__ = ()


class Chain(namedtuple("Chain", "stages span", defaults=(NOWHERE,))):
    """Stages joined by ->."""

    __slots__ = ()


class Repeat(namedtuple("Repeat", "body count span", defaults=(NOWHERE,))):
    """`stage * count`: the stage applied `count` times, its formula multiplied."""

    __slots__ = ()


class Ellipsis(namedtuple("Ellipsis", "first last span marker", defaults=(NOWHERE, NOWHERE))):
    """`first -> ... -> last`: the layers whose index runs from first's to last's;
    `marker` is where the "..." stands."""

    __slots__ = ()


class Named(namedtuple("Named", "inner name span name_span", defaults=(NOWHERE, NOWHERE))):
    """`stage as name`: a layer others can refer to, as in tie=name."""

    __slots__ = ()


Stage = Union[Call, Chain, Repeat, Ellipsis, Named]


class Definition(
    namedtuple("Definition", "name params body span name_span", defaults=(NOWHERE, NOWHERE))
):
    """`let block(d, heads) = chain`: a chain with size parameters, used like a layer."""

    __slots__ = ()


class Network(namedtuple("Network", "chain source definitions others uses", defaults=((), (), ()))):
    """A whole text: its chain, the text itself, its `let` definitions, the `others`
    chains after the first (an encoder–decoder has two), each from its own input, and
    the files it `uses`."""

    __slots__ = ()


class Use(namedtuple("Use", "path span")):
    """`use "blocks.sp";`: the definitions of another file, by its path as written."""

    __slots__ = ()


def located(node, origin: Origin):
    """The node with every span in it marked as coming from `origin`."""
    if isinstance(node, Span):
        return node._replace(origin=origin)
    if isinstance(node, tuple):
        items = [located(item, origin) for item in node]
        return type(node)(*items) if hasattr(node, "_fields") else tuple(items)
    return node


class Binding(namedtuple("Binding", "target values source")):
    """`NAME=VALUE[,VALUE...]` from --set: one value, or a whole sequence."""

    __slots__ = ()


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
            return show(value)
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
        case Network(chain, _, definitions, others):
            return (*definitions, chain, *others)
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


def walk(node):
    """Every node of a tree, each before the nodes inside it."""
    yield node
    for child in children(node):
        yield from walk(child)


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


def too_deep(root, limit: int):
    """The first node more than `limit` levels inside `root`, or None. Iterative, as the
    tree may be too deep to recurse over; names and numbers, the leaves, are skipped."""
    stack = [(root, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        node, depth = pop()
        if depth > limit:
            return node
        depth += 1
        kind = type(node)
        if kind is Call:  # the usual node, listed here without the generic walk
            inside = node.args + tuple(k.value for k in node.keywords) if node.keywords else node.args
        elif kind is Chain:
            inside = node.stages
        else:
            inside = children(node)
        for child in inside:
            kind = type(child)
            if not (kind is Num or (kind is Ref and child.index is None)):
                push((child, depth))
    return None
