"""What a definition's parameters stand for: a size, or a layer (a chain of layers).

`let pre_norm(f) = residual(layer_norm -> f);` takes a layer: `f` stands where a stage
stands. `let block(d) = dense(4 * d) -> dense(d);` takes a size. Which one is read from
the body, once per definition: a parameter standing as a stage is a layer parameter,
one inside a size is a size parameter, and one used both ways is an error.
"""

from __future__ import annotations

from . import ast
from .errors import SymparamError
from .layers.base import Stage, lookup, match_arguments

LAYER, SIZE = "layer", "size"
EITHER = "either"  # only in `a * b` beside another parameter: the argument tells
TRAINABLE = "trainable"  # a keyword every layer and definition call takes


def parameter_kinds(definition: ast.Definition, earlier: dict, source: str) -> dict[str, str]:
    """{parameter: LAYER or SIZE} for `definition`; `earlier` holds those of the
    definitions before it (the only ones its body may call)."""
    uses: dict[str, tuple[str, ast.Span]] = {}
    params = set(definition.params)

    def use(name: str, kind: str, span) -> None:
        seen = uses.get(name)
        if kind == EITHER or (seen is not None and seen[0] == EITHER):
            if seen is None or seen[0] == EITHER:
                uses[name] = (kind, span)
            return
        if seen is not None and seen[0] != kind:
            raise SymparamError(
                f"'{name}' stands for a layer in one place of '{definition.name}' and for a "
                "size in another; a parameter is one or the other",
                span,
                source,
            )
        uses.setdefault(name, (kind, span))

    def walk(node, stage: bool) -> None:
        match node:
            case ast.Ref(stem, index, span):
                if stem in params and index is None:
                    use(stem, LAYER if stage else SIZE, span)
                if index is not None:
                    walk(index, False)
            case ast.Call(name, args, keywords, span) if name in params:
                if args or keywords:
                    raise SymparamError(
                        f"'{name}' is a parameter of '{definition.name}': it stands for a layer "
                        "as given, and takes no arguments here",
                        span,
                        source,
                    )
                use(name, LAYER, span)
            case ast.Call():
                for value, is_stage in _arguments(node, earlier, source):
                    walk(value, is_stage)
            case ast.Chain() | ast.Ellipsis():
                for item in ast.children(node):
                    walk(item, True)
            case ast.Repeat(body, count) if _bare_call(body, params) and _is_param(count, params):
                # `n * f`, read as n repeated f times: which is the layer, the argument
                # tells (the expansion swaps them back), unless another use does.
                use(body.name, EITHER, body.span)
                use(count.stem, EITHER, count.span)
            case ast.Repeat(body, count):
                walk(body, True)
                walk(count, False)
            case ast.Named(inner):
                walk(inner, stage)
            case ast.BinOp("*", left, right) if stage and _is_param(left, params) and _is_param(right, params):
                use(left.stem, EITHER, left.span)  # as above, inside a call's argument
                use(right.stem, EITHER, right.span)
            case ast.BinOp("*", left, right) if stage:
                # `f * 2` or `L * f` in a chain: the bare name beside a count is the layer.
                walk(left, _is_param(left, params))
                walk(right, _is_param(right, params))
            case _:
                for child in ast.children(node):
                    walk(child, False)

    walk(definition.body, True)
    return {name: uses.get(name, (SIZE,))[0] for name in definition.params}


def _bare_call(node, params) -> bool:
    return isinstance(node, ast.Call) and node.name in params and not (node.args or node.keywords)


def _is_param(node, params) -> bool:
    return isinstance(node, ast.Ref) and node.index is None and node.stem in params


def _arguments(node: ast.Call, earlier: dict, source: str):
    """(value, whether it stands as a stage) for each argument of a call in a body."""
    kinds = earlier.get(node.name)
    if kinds is not None:  # a call of an earlier definition: its parameters' kinds
        names = list(kinds)
        for position, value in enumerate(node.args):
            yield value, position < len(names) and kinds[names[position]] == LAYER
        for keyword in node.keywords:
            yield keyword.value, kinds.get(keyword.name) == LAYER
        return
    kind = lookup(node.name)
    if kind is None or not kind.chains:
        for value in ast.children(node):
            yield value, False
        return
    stages = {param.name for param in kind.chains}
    keywords = tuple(keyword for keyword in node.keywords if keyword.name != TRAINABLE)
    try:
        given = match_arguments(kind, node._replace(keywords=keywords), source)
    except SymparamError:  # refused again, with its position, where it is expanded
        for value in ast.children(node):
            yield value, False
        return
    for name, value in given.items():
        many = kind.varargs is not None and kind.varargs.name == name and isinstance(kind.varargs, Stage)
        for item in (value if many else (value,)):
            yield item, name in stages
