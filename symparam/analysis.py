"""Syntax tree -> per-layer counts and totals.

The walk is written once for both arithmetics (see sizes.py): it is tried on Python
ints first, and redone with SymPy only when a name has no value. Repetition multiplies
a formula and never unrolls it; an ellipsis with a symbolic end becomes a Σ.
"""

from __future__ import annotations

from fractions import Fraction
from math import prod
from typing import Any, NamedTuple

from . import ast
from .errors import SymparamError, did_you_mean
from .layers import Count, apply_layer, lookup
from .layers.base import Group
from .layers.base import all_names
from .sizes import Concrete, NeedsSymbols, Scope, Sizes, Symbolic, evaluate, is_integer, is_number, show

INPUT = "input"
LAYER_NAMES = frozenset(all_names())
INDEX_NAMES = ("i", "j", "k", "m", "n", "p", "q", "r", "s", "t")


class Summation(NamedTuple):
    """A row that stands for Σ_{index=lower}^{upper} of `step` (one layer's count)."""

    index: Any
    lower: Any
    upper: Any
    step: Count
    step_input: tuple
    step_output: tuple


class LayerResult(NamedTuple):
    """One row of the result: a layer (or a Σ of layers) with what it contributes."""

    kind: str
    source: str
    span: ast.Span
    input_shape: tuple
    output_shape: tuple
    count: Count  # one instance; for a Σ row, the sums
    groups: tuple[Group, ...] = ()  # what encloses it: repetitions, definition calls
    summation: Summation | None = None

    @property
    def repeats(self) -> tuple:
        """The counts of the enclosing repetitions (and moe's experts), outermost first."""
        return tuple(group.count for group in self.groups if group.count is not None)

    @property
    def context(self) -> tuple[str, ...]:
        """The definition calls that lead to this layer, outermost first."""
        return tuple(group.source for group in self.groups if group.kind == "call")

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def column(self) -> int:
        return self.span.column

    @property
    def multiplier(self):
        return prod(self.repeats, start=1)

    @property
    def weights(self):
        return self.multiplier * self.count.weights

    @property
    def biases(self):
        return self.multiplier * self.count.biases

    @property
    def non_trainable(self):
        return self.multiplier * self.count.non_trainable

    @property
    def trainable(self):
        return self.multiplier * self.count.trainable

    @property
    def params(self):
        return self.multiplier * self.count.params


class Analysis(NamedTuple):
    rows: tuple[LayerResult, ...]
    input_shape: tuple
    output_shape: tuple
    total: Any
    weights: Any
    biases: Any
    non_trainable: Any
    symbolic: bool
    symbols: dict  # the SymPy symbols by name (empty when concrete)
    sizes: Sizes


def analyze(network: ast.Network, sizes: Sizes, convention: str = "keras") -> Analysis:
    """Count a parsed network with the given sizes: ints when it can, SymPy when it must."""
    sizes = infer_lengths(network, sizes)
    try:
        return _Walk(network, sizes, Concrete(), convention).run()
    except NeedsSymbols:
        return _Walk(network, sizes, Symbolic(), convention).run()


# ------------------------------------------------------------------ the walk


class _Walk:
    def __init__(self, network: ast.Network, sizes: Sizes, algebra, convention: str):
        self.network = network
        self.source = network.source
        self.algebra = algebra
        self.scope = Scope(sizes, network.source, layer_names=LAYER_NAMES)
        self.convention = convention
        self.rows: list[LayerResult] = []
        self.names = {ref.stem for ref in ast.walk_refs(network)}
        self.definitions = _definitions(network, self)
        self.order = {name: position for position, name in enumerate(self.definitions)}
        self.active: list[str] = []  # definitions being expanded, to refuse recursion
        self.named: dict[str, tuple | None] = {}  # `as NAME`: the layer's weight matrix

    def error(self, message: str, span: ast.Span) -> SymparamError:
        return SymparamError(message, span, self.source)

    def text(self, span: ast.Span) -> str:
        return span.text(self.source)

    def run(self) -> Analysis:
        first, *rest = self.network.chain.stages
        input_shape = self.input_shape(first)
        shape, totals = self.stages(rest, input_shape, ())
        self.check_sizes_used()
        add = self.algebra.add_all
        rows = tuple(self.rows)
        return Analysis(
            rows=rows,
            input_shape=input_shape,
            output_shape=shape,
            total=add(totals),
            weights=add(row.weights for row in rows),
            biases=add(row.biases for row in rows),
            non_trainable=add(row.non_trainable for row in rows),
            symbolic=self.algebra.symbolic,
            symbols=self.algebra.symbols() if self.algebra.symbolic else {},
            sizes=self.scope.sizes,
        )

    def input_shape(self, stage) -> tuple:
        if isinstance(stage, ast.Ellipsis) and _is_input(stage.first):
            raise self.error(
                "an ellipsis stands between two layers of one kind, and in(...) is not one",
                stage.marker,
            )
        if not (isinstance(stage, ast.Call) and _is_input(stage)):
            raise self.error(
                "a network starts with its input shape, e.g. 'in(784) -> dense(10)'",
                getattr(stage, "span", ast.NOWHERE),
            )
        _, _, out = apply_layer(stage, (), self.algebra, self.scope, self.convention)
        return tuple(out.shape)

    def stages(self, stages, shape, groups):
        totals = []
        for stage in stages:
            shape, stage_totals = self.stage(stage, shape, groups)
            totals.extend(stage_totals)
        return shape, totals

    def stage(self, stage, shape, groups):
        if isinstance(stage, ast.Call):
            return self.call(stage, shape, groups)
        if isinstance(stage, ast.Chain):
            return self.stages(stage.stages, shape, groups)
        if isinstance(stage, ast.Repeat):
            return self.repeat(stage, shape, groups)
        if isinstance(stage, ast.Ellipsis):
            return self.ellipsis(stage, shape, groups)
        if isinstance(stage, ast.Named):
            return self.named_stage(stage, shape, groups)
        raise TypeError(f"not a stage: {stage!r}")

    def call(self, node: ast.Call, shape, groups, source: str | None = None):
        if _is_input(node):
            raise self.error("in(...) can only start a network", node.span)
        if node.name in self.definitions:
            return self.invoke(self.definitions[node.name], node, shape, groups)
        first_inner = len(self.rows)
        kind, layer_call, out = apply_layer(
            node, shape, self.algebra, self.scope, self.convention,
            context=self, groups=groups, other_names=self.definitions,
        )
        row = LayerResult(
            kind=kind.name,
            source=source or self.text(node.span),
            span=node.span,
            input_shape=shape,
            output_shape=tuple(out.shape),
            count=out.count,
            groups=groups,
        )
        # A layer holding others (residual, parallel) shows no row of its own unless it
        # has parameters of its own (moe's router); its inner layers have theirs.
        if len(self.rows) == first_inner or out.count.params != 0:
            self.rows.insert(first_inner, row)
        return tuple(out.shape), [*layer_call.inner_totals, out.count.params]

    # -------------------------------------------------------------- definitions and names

    def invoke(self, definition: ast.Definition, node: ast.Call, shape, groups):
        """A call of `let name(params) = body`: the body with the parameters bound."""
        if definition.name in self.active:
            raise self.error(f"'{definition.name}' is defined in terms of itself", node.span)
        caller = self.active[-1] if self.active else None
        if caller is not None and self.order[definition.name] > self.order[caller]:
            raise self.error(
                f"'{caller}' uses '{definition.name}', which is defined after it; "
                "a definition may use only those before it",
                node.span,
            )
        values = self.definition_arguments(definition, node)
        saved = self.scope.locals
        self.scope.locals = values
        self.active.append(definition.name)
        group = Group("call", self.text(node.span) or ast.unparse_call(node), node.span)
        try:
            return self.stage(definition.body, shape, groups + (group,))
        finally:
            self.scope.locals = saved
            self.active.pop()

    def definition_arguments(self, definition: ast.Definition, node: ast.Call) -> dict:
        params = definition.params
        if len(node.args) > len(params):
            raise self.error(
                f"'{definition.name}' takes {len(params)} argument{'s' if len(params) != 1 else ''}"
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
                f"'{definition.name}' takes {len(params)} argument{'s' if len(params) != 1 else ''}"
                f" ({', '.join(params)}); missing {', '.join(missing)}",
                node.span,
            )
        return {name: evaluate(given[name], self.algebra, self.scope) for name in params}

    def named_stage(self, node: ast.Named, shape, groups):
        if node.name in self.named:
            raise self.error(f"the name '{node.name}' is given to two layers", node.name_span)
        first = len(self.rows)
        shape, totals = self.stage(node.inner, shape, groups)
        matrices = [row.count.matrix for row in self.rows[first:] if row.count.matrix]
        self.named[node.name] = matrices[-1] if matrices else None
        return shape, totals

    def named_matrix(self, name: str, span: ast.Span):
        if name not in self.named:
            known = list(self.named)
            hint = did_you_mean(name, known) or (
                f" (named layers: {', '.join(known)})" if known else
                "; name a layer first with 'as', e.g. embedding(V, d) as wte"
            )
            raise self.error(f"no layer is named '{name}'" + hint, span)
        return self.named[name]

    # -------------------------------------------------------------- repetition

    def repeat(self, node: ast.Repeat, shape, groups):
        count = evaluate(node.count, self.algebra, self.scope)
        # Zero is allowed: `dense(h) * (L - 1)` with L = 1 is no layer at all.
        if is_number(count) and (not is_integer(count) or count < 0):
            raise self.error(
                f"a repetition count must be a whole number >= 0, got {show(count)}", node.count.span
            )
        if getattr(count, "is_negative", None) is True:
            raise self.error(f"a repetition count must not be negative, got {count}", node.count.span)
        group = Group("repeat", self.text(node.span), node.span, count)
        body_shape, body_totals = self.stage(node.body, shape, groups + (group,))
        if not self.same_shape(body_shape, shape):
            raise self.error(
                f"a repeated chain must keep its input shape, but this one maps "
                f"{format_shape(shape)} to {format_shape(body_shape)}; write its first "
                f"layer out before the repetition",
                node.span,
            )
        return shape, [count * self.algebra.add_all(body_totals)]

    def same_shape(self, a, b) -> bool:
        return len(a) == len(b) and all(self.algebra.equal(x, y) for x, y in zip(a, b))

    # -------------------------------------------------------------- ellipsis

    def ellipsis(self, node: ast.Ellipsis, shape, groups):
        first, last = node.first, node.last
        for end in (first, last):
            if self.kind_name(end) is None:
                self.call(end, shape, groups)  # raises "unknown layer", with did-you-mean
        if self.kind_name(first) != self.kind_name(last):
            raise self.error(
                f"an ellipsis joins layers of one kind, not '{first.name}' and '{last.name}'",
                node.span,
            )
        pairs = _index_pairs(first, last, self)
        index_name = next(name for name in INDEX_NAMES if name not in self.names)
        template = _template(first, pairs, index_name)
        lower = self.index_value(pairs[0][0])
        upper = self.index_value(pairs[0][1])
        for left, right in pairs[1:]:
            if not self.algebra.equal(
                self.index_value(right) - upper, self.index_value(left) - lower
            ):
                raise self.error(
                    f"the indices of this ellipsis do not move together: "
                    f"{ast.ref_text(pairs[0][0])} ... {ast.ref_text(pairs[0][1])} but "
                    f"{ast.ref_text(left)} ... {ast.ref_text(right)}",
                    right.span,
                )
        if is_number(lower) and is_number(upper):
            if upper < lower:
                raise self.error(
                    f"this ellipsis runs backwards, from index {lower} down to {upper}", node.span
                )
            return self.unrolled(
                template, index_name, int(lower), int(upper), shape, groups, node, pairs
            )
        return self.summed(template, index_name, lower, upper, shape, groups, node)

    def kind_name(self, node: ast.Call) -> str | None:
        """The canonical name of a layer kind, or a definition's name."""
        if node.name in self.definitions:
            return node.name
        kind = lookup(node.name)
        return kind.name if kind else None

    def index_value(self, ref: ast.Ref):
        value = evaluate(ref.index, self.algebra, self.scope)
        if is_number(value) and not is_integer(value):
            raise self.error(f"an index must be a whole number, got {show(value)}", ref.span)
        return value

    def unrolled(self, template, index_name, lower, upper, shape, groups, node, pairs):
        # Messages about the first and last layers point at their ends of the ellipsis.
        at_first = {left.span: left.span for left, _ in pairs}
        at_last = {left.span: right.span for left, right in pairs}
        totals = []
        for index in range(lower, upper + 1):
            if index == lower:
                call = _instantiate(template, index_name, index, node.first.span, at_first)
            elif index == upper:
                call = _instantiate(template, index_name, index, node.last.span, at_last)
            else:
                call = _instantiate(template, index_name, index, node.span)
            shape, stage_totals = self.call(call, shape, groups, source=ast.unparse_call(call))
            totals.extend(stage_totals)
        return shape, totals

    def step(self, template, index_name, index, shape):
        """One layer of an ellipsis, counted aside: its output shape and its count."""
        saved_rows, saved_names = self.rows, dict(self.named)
        self.rows = []
        self.scope.locals[index_name] = index
        try:
            out_shape, _ = self.call(template, shape, ())
            rows = self.rows
        finally:
            del self.scope.locals[index_name]
            self.rows, self.named = saved_rows, saved_names
        add = self.algebra.add_all
        count = Count(
            weights=add(row.weights for row in rows),
            biases=add(row.biases for row in rows),
            non_trainable=add(row.non_trainable for row in rows),
            factors=rows[0].count.factors if len(rows) == 1 else (),
        )
        return out_shape, count

    def summed(self, template, index_name, lower, upper, shape, groups, node):
        algebra = self.algebra
        i = algebra.index_symbol(index_name)

        def output_from_start(index):
            return self.step(template, index_name, index, shape)[0]

        step_input = output_from_start(i - 1)
        step_output, step = self.step(template, index_name, i, step_input)
        if not self.same_shape(step_output, output_from_start(i)):
            raise self.error(
                "the layers of this ellipsis do not chain to a closed form: each changes the "
                f"shape ({format_shape(shape)} -> {format_shape(output_from_start(lower))} for "
                f"the first), so layer {index_name}'s input depends on every layer before it; "
                "give the sizes with --set (the layers are then written out), or keep the "
                "shape (padding=same)",
                node.span,
            )
        totals = []
        if self.starts_the_chain(output_from_start, lower, shape):
            start = lower
        else:
            # The layer before the ellipsis does not fit the pattern: count the first
            # layer on its own, then sum from the second.
            _, first_totals = self.call(node.first, shape, groups)
            totals.extend(first_totals)
            start = lower + 1
        summed = Count(
            weights=algebra.summation(step.weights, i, start, upper),
            biases=algebra.summation(step.biases, i, start, upper),
            non_trainable=algebra.summation(step.non_trainable, i, start, upper),
        )
        out_shape = output_from_start(upper)
        source = self.text(node.span)
        if start is not lower:
            second = _instantiate(template, index_name, start, node.span)
            source = f"{ast.unparse_call(second)} -> ... -> {self.text(node.last.span)}"
        self.rows.append(
            LayerResult(
                kind=self.kind_name(template),
                source=source,
                span=node.span,
                input_shape=step_input,
                output_shape=out_shape,
                count=summed,
                groups=groups,
                summation=Summation(i, start, upper, step, step_input, step_output),
            )
        )
        totals.append(algebra.add_all([summed.weights, summed.biases, summed.non_trainable]))
        return out_shape, totals

    def starts_the_chain(self, output_from_start, lower, shape) -> bool:
        """Does the stage before fit the pattern, as in(h0) before dense(h1) ... dense(hl)?"""
        try:
            return self.same_shape(output_from_start(lower - 1), shape)
        except SymparamError:
            return False

    # -------------------------------------------------------------- sizes given

    def check_sizes_used(self):
        sizes, used = self.scope.sizes, self.scope.used
        for stem, values in sizes.sequences.items():
            highest = self.scope.highest_index.get(stem)
            if stem in self.scope.open_sequences or highest is None:
                continue
            if highest < len(values) - 1:
                raise SymparamError(
                    f"{stem} has {len(values)} values, but the network uses only "
                    f"{stem}_0 ... {stem}_{highest}"
                )
        for name in sizes.names():
            if name not in used:
                raise SymparamError(
                    f"a size was given for '{name}', but the network has no such name"
                    + did_you_mean(name, sorted(self.names))
                )


# ------------------------------------------------------------------ helpers


def _definitions(network: ast.Network, walk) -> dict[str, ast.Definition]:
    """The network's definitions by name; each may use only those before it."""
    definitions: dict[str, ast.Definition] = {}
    for definition in network.definitions:
        if definition.name in definitions:
            raise walk.error(f"'{definition.name}' is defined twice", definition.name_span)
        if lookup(definition.name) is not None:
            raise walk.error(
                f"'{definition.name}' is already a layer; choose another name",
                definition.name_span,
            )
        definitions[definition.name] = definition
    return definitions


def _is_input(node: ast.Call) -> bool:
    kind = lookup(node.name)
    return kind is not None and kind.name == INPUT


def format_shape(shape) -> str:
    return "(" + ", ".join(str(extent) for extent in shape) + ")"


def _same(a, b) -> bool:
    """Structural equality of two values, ignoring where they were written."""
    return type(a) is type(b) and ast.unparse(a) == ast.unparse(b)


def _index_pairs(first: ast.Call, last: ast.Call, walk: _Walk) -> list[tuple[ast.Ref, ast.Ref]]:
    """The (first's, last's) indexed names that differ between the two endpoints."""
    pairs: list[tuple[ast.Ref, ast.Ref]] = []
    if len(first.args) != len(last.args):
        raise walk.error("the two ends of an ellipsis must have the same arguments", last.span)
    first_kw = {kw.name: kw.value for kw in first.keywords}
    last_kw = {kw.name: kw.value for kw in last.keywords}
    if set(first_kw) != set(last_kw):
        raise walk.error(
            "the two ends of an ellipsis must have the same keyword arguments", last.span
        )
    for a, b in [*zip(first.args, last.args), *((first_kw[k], last_kw[k]) for k in first_kw)]:
        _collect_pairs(a, b, pairs, walk)
    if not pairs:
        raise walk.error(
            "the two ends of an ellipsis must differ in an index, as in "
            "'dense(h1) -> ... -> dense(hl)'",
            last.span,
        )
    return pairs


def _collect_pairs(a, b, pairs, walk: _Walk):
    if isinstance(a, ast.Ref) and isinstance(b, ast.Ref) and a.stem == b.stem:
        if a.index is not None and b.index is not None and not _same(a.index, b.index):
            pairs.append((a, b))
            return
    if _same(a, b):
        return
    if isinstance(a, ast.BinOp) and isinstance(b, ast.BinOp) and a.op == b.op:
        _collect_pairs(a.left, b.left, pairs, walk)
        _collect_pairs(a.right, b.right, pairs, walk)
        return
    if isinstance(a, ast.Neg) and isinstance(b, ast.Neg):
        _collect_pairs(a.operand, b.operand, pairs, walk)
        return
    if isinstance(a, ast.Tuple) and isinstance(b, ast.Tuple) and len(a.items) == len(b.items):
        for x, y in zip(a.items, b.items):
            _collect_pairs(x, y, pairs, walk)
        return
    raise walk.error(
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


def _instantiate(template: ast.Call, index_name: str, index: int, span: ast.Span, ref_spans=None):
    """The template at one concrete index, its indices folded to numbers where they can be.
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


# ------------------------------------------------------------------ inferring lengths


def infer_lengths(network: ast.Network, sizes: Sizes) -> Sizes:
    """`h=784,16,16,10` for a network ending in h_l: l is 3. Solves index expressions
    that are linear in one unbound name (l, L-1, 2*n + 1, ...) for the last index."""
    if not sizes.sequences:
        return sizes
    inferred: dict[str, int] = {}
    for stem, values in sizes.sequences.items():
        candidates = []
        for ref in ast.walk_refs(network.chain):
            if ref.stem != stem or ref.index is None:
                continue
            line = _linear_in_one_name(ref.index, sizes)
            if line is not None:
                candidates.append(line)
        if not candidates:
            continue
        name, c0, c1 = max(candidates, key=lambda line: (line[2], line[1]))
        if name in inferred:
            continue
        solution = (len(values) - 1 - c0) / c1
        if solution.denominator != 1 or solution < 1:
            raise SymparamError(
                f"{stem} has {len(values)} values, which no whole value of {name} fits"
            )
        inferred[name] = int(solution)
    if not inferred:
        return sizes
    return sizes.merged(Sizes(scalars=inferred))


def _linear_in_one_name(expr, sizes: Sizes):
    """(name, c0, c1) when expr = c0 + c1·name for its only unbound name, else None."""
    unbound = {
        ref.stem
        for ref in ast.walk_refs(expr)
        if ref.index is None and ref.stem not in sizes.scalars
    }
    if len(unbound) != 1:
        return None
    (name,) = unbound
    values = []
    for x in (0, 1, 2):
        scope = Scope(sizes.merged(Sizes(scalars={name: x})))
        try:
            values.append(Fraction(evaluate(expr, Concrete(), scope)))
        except (NeedsSymbols, SymparamError, ZeroDivisionError):
            return None
    c0, c1 = values[0], values[1] - values[0]
    if c1 <= 0 or values[2] != c0 + 2 * c1:
        return None
    return name, c0, c1
