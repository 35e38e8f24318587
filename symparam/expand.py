"""Expansion: syntax tree -> IR, counting nothing.

Definitions are resolved (a call becomes its body with the parameters replaced by the
arguments), the chains given to residual, parallel and moe are expanded in place, an
ellipsis is unrolled when its ends are known and kept as a Σ over an index when they
are not, and a repetition stays one node carrying its count.
"""

from __future__ import annotations

from functools import cached_property
from collections import namedtuple
from typing import Union

from . import ast, library
from .algebra import Concrete, NeedsSymbols, is_integer, is_number
from .definitions import EITHER, LAYER, SIZE, TRAINABLE, parameter_kinds
from .errors import SymparamError, did_you_mean
from .limits import MAX_NESTING, MAX_UNROLLED, MAX_UNROLLED_SYMBOLIC
from .layers.base import (
    layer_error, lookup, match_arguments, truth_value, unknown_layer,
)
from .sizes import Scope, Sizes, evaluate
from .syntax import is_stage, name_ref, to_stage

INPUT = "input"
INDEX_NAMES = ("i", "j", "k", "m", "n", "p", "q", "r", "s", "t")


# ------------------------------------------------------------------ the IR


# The IR's records are collections.namedtuple: typing.NamedTuple compiles each field's
# annotation at import, and a concrete count's start-up has no time for that.


class LayerIR(namedtuple("LayerIR", "call kind source branches holds_chains", defaults=((), False))):
    """One layer (`call`, an ast.Call of the LayerKind `kind`); `branches` holds the
    expanded chains a residual, parallel or moe takes: (parameter name, [IR, ...]), one
    chain, or one per value for parallel's branches."""

    __slots__ = ()


class ChainIR(namedtuple("ChainIR", "items")):
    """Stages one after the other."""

    __slots__ = ()


class RepeatIR(namedtuple("RepeatIR", "body count span source")):
    """`body * count`: `count` is the size expression, counted, never unrolled."""

    __slots__ = ()


class CallIR(namedtuple("CallIR", "name body span source")):
    """A call of a definition: its body, with the arguments in place of the parameters.
    Calls with the same arguments share one body, so a definition that uses another
    twice, and so on, makes an IR as large as the text, not one that doubles."""

    __slots__ = ()


class NamedIR(namedtuple("NamedIR", "inner name name_span")):
    """`inner as name`."""

    __slots__ = ()


class SumIR(namedtuple("SumIR", "step first template last index pairs kind span source")):
    """`first -> ... -> last` with symbolic ends: `step` is the layer at index `index`,
    `first` the first layer as written (counted alone when the layer before does not fit
    the pattern), `template` the first layer written with the index (to name the second),
    `last` the last layer as written; `pairs` are the endpoints' indexed names that give
    the range."""

    __slots__ = ()


class FrozenIR(namedtuple("FrozenIR", "inner")):
    """A stage whose parameters are not trained: `trainable=false` on a layer or a
    definition's call, or `frozen(chain)` (a layer of its own, for its group row)."""

    __slots__ = ()


IR = Union[LayerIR, ChainIR, RepeatIR, CallIR, NamedIR, SumIR, FrozenIR]
FROZEN = "frozen"


class Model(namedtuple("Model", "input body network more", defaults=((),))):
    """The input layer, the chain after it, and the syntax tree they come from; `more`
    holds the (input, chain) of each chain after the first, with its ast.Chain."""

    __slots__ = ()

    @property
    def source(self) -> str:
        return self.network.source


def names_in(network: ast.Network) -> frozenset:
    return frozenset(ref.stem for ref in ast.walk_refs(network))


# ------------------------------------------------------------------ expansion


def expand(network: ast.Network, scope: Scope) -> Model:
    """The IR of a parsed network; `scope` gives the sizes that decide ellipses."""
    return _Expander(network, scope).model()


class _Expander:
    def __init__(self, network: ast.Network, scope: Scope):
        self.network = network
        self.source = network.source
        self.scope = scope
        self.definitions = _definitions(network)
        self.kinds: dict[str, dict[str, str]] = {}  # definition -> its parameters' kinds
        self.library_loaded = False
        self.prebuilt: dict[str, IR] = {}  # placeholder -> a layer argument, expanded
        self.prebuilt_names: dict[str, str] = {}  # the argument as text -> its placeholder
        for name, definition in self.definitions.items():
            self.kinds[name] = parameter_kinds(definition, self.kinds, self.source)
        self.order = {name: position for position, name in enumerate(self.definitions)}
        self.active: list[str] = []  # definitions being expanded, to refuse recursion
        self.depth = 0  # stages being expanded, one inside the other
        self.deepest = 0  # the most of them so far
        self.bodies: dict[tuple, tuple] = {}  # (definition, arguments) -> (body IR, its height)

    def error(self, message: str, span: ast.Span) -> SymparamError:
        return SymparamError(message, span, self.source)

    @cached_property
    def names(self) -> frozenset:
        """Every name the text uses (walked only when an ellipsis needs an index name)."""
        return names_in(self.network)

    def text(self, span: ast.Span) -> str:
        return span.text(self.source)

    def model(self) -> Model:
        head, body = self.chain_ir(self.network.chain)
        more = tuple((*self.chain_ir(chain), chain) for chain in self.network.others)
        return Model(head, body, self.network, more)

    def chain_ir(self, chain: ast.Chain) -> tuple:
        """A chain from its input: (the input's LayerIR, the ChainIR after it)."""
        first, *rest = chain.stages
        if isinstance(first, ast.Ellipsis) and _is_input(first.first):
            raise self.error(
                "an ellipsis stands between two layers of one kind, and in(...) is not one",
                first.marker,
            )
        if not (isinstance(first, ast.Call) and _is_input(first)):
            raise self.error(
                "a network starts with its input shape, e.g. 'in(784) -> dense(10)'",
                getattr(first, "span", ast.NOWHERE),
            )
        head = LayerIR(first, lookup(first.name), self.text(first.span))
        return head, ChainIR(tuple(self.stage(stage) for stage in rest))

    def stage(self, stage) -> IR:
        # The syntax tree is at most MAX_NESTING deep, but a definition's body is another
        # tree inside it: the expansion, which recurses once per level, keeps the limit.
        self.depth += 1
        self.deepest = max(self.deepest, self.depth)
        try:
            self.check_depth(self.depth, stage)
            return self.stage_ir(stage)
        finally:
            self.depth -= 1

    def check_depth(self, depth: int, stage) -> None:
        if depth > MAX_NESTING:
            raise self.error(
                f"nested too deeply: more than {MAX_NESTING} levels of layers inside "
                "layers, counting those inside the definitions used, symparam's limit",
                getattr(stage, "span", ast.NOWHERE),
            )

    def stage_ir(self, stage) -> IR:
        match stage:
            case ast.Call():
                return self.call(stage)
            case ast.Chain(stages):
                return ChainIR(tuple(self.stage(item) for item in stages))
            case ast.Repeat(body, count, span):
                body, count = self.layer_first(body, count)
                return RepeatIR(self.stage(body), count, span, self.text(span))
            case ast.Ellipsis():
                return self.ellipsis(stage)
            case ast.Named(inner, name, _, name_span):
                return NamedIR(self.stage(inner), name, name_span)
        raise TypeError(f"not a stage: {stage!r}")

    def layer_first(self, body, count):
        """`L * layer_norm` was read as L repeated layer_norm times (the parser cannot know
        which bare name is the layer): when only the count names a layer, swap them."""
        bare = type(body) is ast.Call and not (body.args or body.keywords)
        if not (bare and isinstance(count, ast.Ref) and count.index is None):
            return body, count
        if self.is_layer(body.name) or not self.is_layer(count.stem):
            return body, count
        return ast.Call(count.stem, (), (), count.span, count.span), name_ref(body.name, body.span)

    def is_layer(self, name: str) -> bool:
        return name in self.definitions or lookup(name) is not None or self.from_library(name)

    def from_library(self, name: str) -> bool:
        """Whether `name` is a block of the library; the first time, its blocks join the
        text's definitions, before them (the text's own of the same name win)."""
        blocks = library.definitions()
        if name not in blocks:
            return False
        if not self.library_loaded:
            self.library_loaded = True
            added = library.beside(set(self.definitions))
            for position, definition in enumerate(added):
                block = definition.name
                if block not in self.definitions:  # the text's own of a name win
                    self.definitions[block] = definition
                    self.order[block] = position - len(added)
                    self.kinds[block] = parameter_kinds(definition, self.kinds, self.source)
        return True

    def call(self, node: ast.Call, source: str | None = None) -> IR:
        if node.name in self.prebuilt:
            return self.prebuilt[node.name]
        trainable = node.keywords and next((kw for kw in node.keywords if kw.name == TRAINABLE), None)
        if trainable and not self.takes_trainable(node.name):
            rest = tuple(kw for kw in node.keywords if kw is not trainable)
            inner = self.call(node._replace(keywords=rest), source or self.text(node.span))
            return inner if self.flag(node, trainable) else FrozenIR(inner)
        if node.name in self.definitions:
            return self.invoke(self.definitions[node.name], node, source)
        kind = lookup(node.name)
        if kind is None and self.from_library(node.name):
            return self.invoke(self.definitions[node.name], node, source)
        if kind is None:
            raise unknown_layer(node, self.source, [*self.definitions, *library.definitions()])
        if kind.name == INPUT:
            raise self.error("in(...) can only start a network", node.span)
        source = source or self.text(node.span)
        chains = kind.chains
        if not chains:
            return LayerIR(node, kind, source)
        if kind.name == FROZEN:
            return FrozenIR(self.layer_with_chains(node, kind, source))
        return self.layer_with_chains(node, kind, source)

    def layer_with_chains(self, node: ast.Call, kind, source: str) -> LayerIR:
        chains = kind.chains
        given = match_arguments(kind, node, self.source)
        branches = tuple(
            (param.name, self.chains(node, param, given[param.name], param is kind.varargs))
            for param in chains
            if param.name in given
        )
        return LayerIR(node, kind, source, branches, holds_chains=True)

    def takes_trainable(self, name: str) -> bool:
        """A definition may have a parameter named trainable: it is then that."""
        definition = self.definitions.get(name)
        return definition is not None and TRAINABLE in definition.params

    def flag(self, node: ast.Call, keyword: ast.Keyword) -> bool:
        truth = truth_value(keyword.value)
        if truth is None:
            span = getattr(keyword.value, "span", None) or keyword.span
            raise layer_error(node, self.source, "trainable must be true or false", span)
        return truth

    def chains(self, node: ast.Call, param, value, many: bool) -> list:
        """The chains one parameter takes: one, or one per value for varargs."""
        return [self.chain(node, param, item) for item in (value if many else (value,))]

    def chain(self, node: ast.Call, param, value) -> IR:
        if isinstance(value, (ast.Text, ast.Tuple)):
            raise layer_error(
                node, self.source, f"{param.name} must be a layer or a chain of layers", value.span
            )
        return self.stage(to_stage(value, self.source))

    # -------------------------------------------------------------- definitions

    def invoke(self, definition: ast.Definition, node: ast.Call, source: str | None) -> CallIR:
        """A call of `let name(params) = body`: the body with the arguments in place."""
        if definition.name in self.active:
            raise self.error(f"'{definition.name}' is defined in terms of itself", node.span)
        caller = self.active[-1] if self.active else None
        if caller is not None and self.order[definition.name] > self.order[caller]:
            raise self.error(
                f"'{caller}' uses '{definition.name}', which is defined after it; "
                "a definition may use only those before it",
                node.span,
            )
        values, kinds = self.arguments(definition, node)
        key = (definition.name, tuple(ast.unparse(values[name]) for name in definition.params))
        if key not in self.bodies:
            self.bodies[key] = self.body(definition, values, kinds)
        body, height = self.bodies[key]
        self.check_depth(self.depth + height, node)
        self.deepest = max(self.deepest, self.depth + height)
        text = source or self.text(node.span) or ast.unparse_call(node)
        return CallIR(definition.name, body, node.span, text)

    def body(self, definition: ast.Definition, values: dict, kinds: dict) -> tuple:
        """A definition's body with these arguments, expanded; and how deep it goes."""
        self.active.append(definition.name)
        outer, self.deepest = self.deepest, self.depth
        try:
            body = self.stage(substitute(definition.body, values, kinds))
            return body, self.deepest - self.depth
        finally:
            self.active.pop()
            self.deepest = max(outer, self.deepest)

    def arguments(self, definition: ast.Definition, node: ast.Call) -> tuple[dict, dict]:
        """The arguments by parameter, checked, and what each parameter stands for."""
        params = definition.params
        plural = "s" if len(params) != 1 else ""
        if len(node.args) > len(params):
            raise self.error(
                f"'{definition.name}' takes {len(params)} argument{plural}"
                f" ({', '.join(params)}), got {len(node.args)}",
                node.span,
            )
        given = dict(zip(params, node.args))
        for keyword in node.keywords:
            if keyword.name not in params:
                raise self.error(
                    f"'{definition.name}' has no parameter '{keyword.name}'"
                    + did_you_mean(keyword.name, params),
                    keyword.span,
                )
            if keyword.name in given:
                raise self.error(f"argument '{keyword.name}' given twice", keyword.span)
            given[keyword.name] = keyword.value
        missing = [name for name in params if name not in given]
        if missing:
            raise self.error(
                f"'{definition.name}' takes {len(params)} argument{plural}"
                f" ({', '.join(params)}); missing {', '.join(missing)}",
                node.span,
            )
        kinds = {
            name: (LAYER if self.is_layer_value(given[name]) else SIZE) if kind == EITHER else kind
            for name, kind in self.kinds[definition.name].items()
        }
        for name, value in given.items():
            if ast.too_deep(value, MAX_NESTING) is not None:  # built up through definitions
                raise self.error(
                    f"nested too deeply: this argument of '{definition.name}' is more than "
                    f"{MAX_NESTING} levels deep once the definitions' arguments are in place",
                    node.span,
                )
            if kinds[name] == LAYER:
                given[name] = self.layer_argument(definition, name, value)
            else:
                self.check_size(value)
        return given, kinds

    def is_layer_value(self, value) -> bool:
        """A layer or a chain, or a bare name of a layer kind or a definition (relu)."""
        return is_stage(value) or (_bare_name(value) and self.is_layer(value.stem))

    def layer_argument(self, definition: ast.Definition, name: str, value):
        """An argument for a parameter that stands for a layer: a layer or a chain."""
        if isinstance(value, (ast.Text, ast.Tuple)) or not (is_stage(value) or _bare_name(value)):
            raise self.error(
                f"'{name}' of '{definition.name}' stands for a layer: give a layer or a chain, "
                f"such as relu or (dense(8) -> relu), not '{ast.unparse(value)}'",
                getattr(value, "span", ast.NOWHERE),
            )
        stage = to_stage(value, self.source)
        text = ast.unparse(stage)
        if text not in self.prebuilt_names:
            # Expanded here, where the call is written (a layer argument may call the
            # very definition it is given to: level(8, level(16, relu))); the body gets
            # a placeholder that stands for it, a name the grammar cannot write.
            placeholder = f"#{len(self.prebuilt_names)}"
            self.prebuilt[placeholder] = self.stage(stage)
            self.prebuilt_names[text] = placeholder
        span = getattr(value, "span", ast.NOWHERE)
        return ast.Call(self.prebuilt_names[text], (), (), span, span)

    def check_size(self, value) -> None:
        """An argument must be a size; its value waits for the counting."""
        try:
            evaluate(value, Concrete(), self.scope)
        except NeedsSymbols:
            pass

    # -------------------------------------------------------------- ellipsis

    def ellipsis(self, node: ast.Ellipsis) -> IR:
        first, last = node.first, node.last
        for end in (first, last):
            if self.kind_name(end) is None:
                raise unknown_layer(end, self.source, self.definitions)
        if self.kind_name(first) != self.kind_name(last):
            raise self.error(
                f"an ellipsis joins layers of one kind, not '{first.name}' and '{last.name}'",
                node.span,
            )
        pairs = _index_pairs(first, last, self.error)
        index = next(name for name in INDEX_NAMES if name not in self.names)
        template = _template(first, pairs, index)
        try:
            lower, upper = index_range(pairs, Concrete(), self.scope, self.error)
            # Far-apart ends are summed in closed form, as symbolic ones are, not written out.
            most = MAX_UNROLLED_SYMBOLIC if self.free_indexed(pairs) else MAX_UNROLLED
            unroll = upper - lower < most
        except NeedsSymbols:
            unroll = False
        if not unroll:
            return SumIR(
                step=self.call(template),
                first=self.call(first),
                template=template,
                last=self.text(last.span),
                index=index,
                pairs=tuple(pairs),
                kind=self.kind_name(template),
                span=node.span,
                source=self.text(node.span),
            )
        if upper < lower:
            raise self.error(f"this ellipsis runs backwards, from index {lower} down to {upper}", node.span)
        return ChainIR(tuple(self.unrolled(template, index, int(lower), int(upper), node, pairs)))

    def free_indexed(self, pairs) -> bool:
        """Whether the ellipsis's changing sizes (h_1 ... h_l) have no values."""
        try:
            for left, right in pairs:
                evaluate(left, Concrete(), self.scope)
                evaluate(right, Concrete(), self.scope)
        except NeedsSymbols:
            return True
        return False

    def kind_name(self, node: ast.Call) -> str | None:
        """The canonical name of a layer kind, or a definition's name."""
        if node.name in self.definitions:
            return node.name
        kind = lookup(node.name)
        return kind.name if kind else None

    def unrolled(self, template, index, lower: int, upper: int, node, pairs):
        # Messages about the first and last layers point at their ends of the ellipsis.
        at_first = {left.span: left.span for left, _ in pairs}
        at_last = {left.span: right.span for left, right in pairs}
        for value in range(lower, upper + 1):
            if value == lower:
                call = instantiate(template, index, value, node.first.span, at_first)
            elif value == upper:
                call = instantiate(template, index, value, node.last.span, at_last)
            else:
                call = instantiate(template, index, value, node.span)
            yield self.call(call, source=ast.unparse_call(call))


def index_range(pairs, algebra, scope: Scope, error):
    """(lower, upper) of an ellipsis's index, after checking that every changing index
    moves with the first: h_{i-1}, h_i in dense(h0 ...) and in dense(h1 ...) alike."""

    def value(ref: ast.Ref):
        number = evaluate(ref.index, algebra, scope)
        if _is_fraction(number):
            raise error(f"an index must be a whole number, got {number}", ref.span)
        return number

    lower, upper = value(pairs[0][0]), value(pairs[0][1])
    for left, right in pairs[1:]:
        if not algebra.equal(value(right) - upper, value(left) - lower):
            raise error(
                f"the indices of this ellipsis do not move together: "
                f"{ast.ref_text(pairs[0][0])} ... {ast.ref_text(pairs[0][1])} but "
                f"{ast.ref_text(left)} ... {ast.ref_text(right)}",
                right.span,
            )
    return lower, upper


def _is_fraction(number) -> bool:
    return is_number(number) and not is_integer(number)


# ------------------------------------------------------------------ helpers


def _definitions(network: ast.Network) -> dict[str, ast.Definition]:
    """The network's definitions by name; each may use only those before it."""
    definitions: dict[str, ast.Definition] = {}
    for definition in network.definitions:
        if definition.name in definitions:
            first = definitions[definition.name].name_span
            where = f"{first.origin.name}:" if first.origin is not None else ""
            raise SymparamError(
                f"'{definition.name}' is defined twice (first at {where}{first.line}:{first.column})",
                definition.name_span,
                network.source,
            )
        if lookup(definition.name) is not None:
            raise SymparamError(
                f"'{definition.name}' is already a layer; choose another name",
                definition.name_span,
                network.source,
            )
        definitions[definition.name] = definition
    return definitions


def _is_input(node: ast.Call) -> bool:
    kind = lookup(node.name)
    return kind is not None and kind.name == INPUT


def substitute(node, values: dict, kinds: dict | None = None):
    """`node` with each plain name in `values` replaced by its value (a definition's
    parameters by the arguments). A size keeps the place of the name it replaces, so
    that messages point into the definition, as they would for a written number; a
    layer (`kinds[name]` is LAYER) keeps its own, where the call wrote it. The values
    are not walked again: a name inside an argument is the caller's."""
    if not values:
        return node
    kinds = kinds or {}

    def walk(item):
        if isinstance(item, ast.Repeat) and _swapped(item, kinds):
            # `n * f` was read as n repeated f times; f is the layer, n the count.
            body, count = item.body, item.count
            return ast.Repeat(values[count.stem], values[body.name]._replace(span=body.span), item.span)
        if isinstance(item, ast.Ref) and item.index is None and item.stem in values:
            if kinds.get(item.stem) == LAYER:
                return values[item.stem]
            return values[item.stem]._replace(span=item.span)
        if isinstance(item, ast.Call) and kinds.get(item.name) == LAYER and not item.args:
            return values[item.name]
        return ast.rebuild(item, walk)

    return walk(node)


def _swapped(repeat: ast.Repeat, kinds: dict) -> bool:
    body, count = repeat.body, repeat.count
    return (
        isinstance(body, ast.Call) and kinds.get(body.name) == SIZE and not body.args
        and isinstance(count, ast.Ref) and count.index is None and kinds.get(count.stem) == LAYER
    )


def _bare_name(value) -> bool:
    return isinstance(value, ast.Ref) and value.index is None


def _same(a, b) -> bool:
    """Structural equality of two values, ignoring where they were written."""
    return type(a) is type(b) and ast.unparse(a) == ast.unparse(b)


def _index_pairs(first: ast.Call, last: ast.Call, error) -> list[tuple[ast.Ref, ast.Ref]]:
    """The (first's, last's) indexed names that differ between the two endpoints."""
    pairs: list[tuple[ast.Ref, ast.Ref]] = []
    if len(first.args) != len(last.args):
        raise error("the two ends of an ellipsis must have the same arguments", last.span)
    first_kw = {kw.name: kw.value for kw in first.keywords}
    last_kw = {kw.name: kw.value for kw in last.keywords}
    if set(first_kw) != set(last_kw):
        raise error("the two ends of an ellipsis must have the same keyword arguments", last.span)
    for a, b in [*zip(first.args, last.args), *((first_kw[k], last_kw[k]) for k in first_kw)]:
        _collect_pairs(a, b, pairs, error)
    if not pairs:
        raise error(
            "the two ends of an ellipsis must differ in an index, as in "
            "'dense(h1) -> ... -> dense(hl)'",
            last.span,
        )
    return pairs


def _collect_pairs(a, b, pairs, error):
    if isinstance(a, ast.Ref) and isinstance(b, ast.Ref) and a.stem == b.stem:
        if a.index is not None and b.index is not None and not _same(a.index, b.index):
            pairs.append((a, b))
            return
    if _same(a, b):
        return
    match a, b:
        case ast.BinOp(), ast.BinOp() if a.op == b.op:
            _collect_pairs(a.left, b.left, pairs, error)
            _collect_pairs(a.right, b.right, pairs, error)
            return
        case ast.Neg(), ast.Neg():
            _collect_pairs(a.operand, b.operand, pairs, error)
            return
        case ast.Tuple(), ast.Tuple() if len(a.items) == len(b.items):
            for x, y in zip(a.items, b.items):
                _collect_pairs(x, y, pairs, error)
            return
    raise error(
        f"the two ends of an ellipsis may differ only in indices, but here "
        f"'{ast.unparse(a)}' becomes '{ast.unparse(b)}'",
        getattr(b, "span", ast.NOWHERE),
    )


def _template(first: ast.Call, pairs, index_name: str) -> ast.Call:
    """The first endpoint with its changing indices written in terms of the index name."""
    start = pairs[0][0].index
    replaced = {}
    for left, _ in pairs:
        index = ast.Ref(index_name, None, left.span)
        if left is not pairs[0][0]:
            index = ast.BinOp("+", index, ast.BinOp("-", left.index, start))
        replaced[id(left)] = ast.Ref(left.stem, index, left.span)
    return ast.map_call_refs(first, lambda ref: replaced.get(id(ref), ref))


def instantiate(template: ast.Call, index_name: str, index, span: ast.Span, ref_spans=None):
    """The template at one index, its indices folded to numbers where they can be.
    `span` (and `ref_spans`, by the template's spans) say where messages should point."""
    ref_spans = ref_spans or {}

    def fold(ref: ast.Ref) -> ast.Ref:
        if ref.index is None:
            return ref
        where = ref_spans.get(ref.span, span)
        expr = ast.map_refs(
            ref.index,
            lambda r: ast.Num(index, where) if r.stem == index_name and r.index is None else r,
        )
        try:
            value = evaluate(expr, Concrete(), Scope(Sizes()))
            if is_integer(value):
                expr = ast.Num(int(value), where)
        except (NeedsSymbols, SymparamError):
            pass
        return ast.Ref(ref.stem, expr, where)

    call = ast.map_call_refs(template, fold)
    return ast.Call(call.name, call.args, call.keywords, span, call.name_span)
