"""Counting: the IR folded into the result tree, in one arithmetic.

`analyze` expands the syntax tree once, then counts it on Python ints, and again with
SymPy only when a name has no value. A repetition multiplies its body's totals and never
unrolls it; a symbolic ellipsis becomes a Σ over the layer at index i.
"""

from __future__ import annotations

from .building import building
from . import ast
from .algebra import Concrete, NeedsSymbols, Symbolic, is_integer, is_number
from .errors import SymparamError, did_you_mean
from .expand import (
    CallIR, ChainIR, FrozenIR, LayerIR, Model, NamedIR, RepeatIR, SumIR, expand, index_range,
    instantiate, names_in,
)
from .layers.base import Count, LayerCall, all_names, layer_error
from .results import Group, Layer, Result, freeze, group, summation
from .limits import MAX_UNROLLED
from .sizes import Scope, Sizes, evaluate, infer_lengths
from .values import shape_text, show, unlimited_digits

LAYER_NAMES = frozenset(all_names())


@unlimited_digits()  # layers' working and messages quote sizes of up to MAX_DIGITS digits
@building
def analyze(network: ast.Network, sizes: Sizes, convention: str = "keras") -> Result:
    """Count a parsed network with the given sizes: ints when it can, SymPy when it must."""
    sizes = infer_lengths(network, sizes)
    scope = Scope(sizes, network.source, layer_names=LAYER_NAMES)
    model = expand(network, scope)
    try:
        result = _Counter(model, scope, Concrete(), convention).run()
    except NeedsSymbols:
        result = _Counter(model, scope, Symbolic(), convention).run()
    check_sizes_used(scope, network)
    return result


class _Counter:
    def __init__(self, model: Model, scope: Scope, algebra, convention: str):
        self.model = model
        self.source = model.source
        self.scope = scope
        self.algebra = algebra
        self.convention = convention
        self.named: dict[str, tuple | None] = {}  # `as NAME`: the layer's weight matrix
        self.outputs: dict[str, tuple] = {}  # `as NAME`: the stage's output shape
        self.counted: dict[tuple, tuple] = {}  # (body, shape, locals) -> (nodes, output shape)
        self.named_bodies: dict[int, bool] = {}  # id(body) -> whether it holds `as NAME`
        self.instances = 0  # instances of shape-changing repetitions written out

    def error(self, message: str, span: ast.Span) -> SymparamError:
        return SymparamError(message, span, self.source)

    def run(self) -> Result:
        head = self.layer(self.model.input, ())
        children, shape = self.chain(self.model.body.items, head.output_shape)
        nodes = [head, *children]
        if self.model.more:  # several chains, each from its own input: a group each
            first = self.model.network.chain
            nodes = [group(self.algebra, "chain", first.span.text(self.source), first.span,
                           head.output_shape, shape, nodes)]
        for more_input, more_body, written in self.model.more:
            more_head = self.layer(more_input, ())
            more, shape = self.chain(more_body.items, more_head.output_shape)
            nodes.append(group(self.algebra, "chain", written.span.text(self.source), written.span,
                               more_head.output_shape, shape, [more_head, *more]))
        span = ast.Span(1, 1, 0, len(self.source))
        tree = group(self.algebra, "network", self.source, span, head.output_shape, shape, nodes)
        symbols = self.algebra.symbols() if self.algebra.symbolic else {}
        return Result(tree, self.algebra.symbolic, symbols, self.scope.sizes)

    def fold(self, ir, shape) -> tuple[list, tuple]:
        """The nodes an IR item counts to, and the shape it outputs."""
        match ir:
            case LayerIR():
                node = self.layer(ir, shape)
                return [node], node.output_shape
            case ChainIR(items):
                return self.chain(items, shape)
            case RepeatIR():
                node = self.repeat(ir, shape)
                return [node], node.output_shape
            case CallIR(_, body, span, source):
                children, out = self.body(body, shape)
                return [group(self.algebra, "call", source, span, shape, out, children)], out
            case NamedIR():
                return self.named_stage(ir, shape)
            case SumIR():
                return self.summed(ir, shape)
            case FrozenIR(inner):
                nodes, out = self.fold(inner, shape)
                memo: dict = {}
                return [freeze(self.algebra, node, memo) for node in nodes], out
        raise TypeError(f"not an IR node: {ir!r}")

    def body(self, body, shape) -> tuple[list, tuple]:
        """A definition's body, counted once per input shape (and ellipsis index): calls
        with the same arguments share it, so a definition used twice by one used twice,
        and so on, is counted in time linear in the text. The tree shares those nodes."""
        if _names_inside(body, self.named_bodies):
            return self.fold(body, shape)  # each `as NAME` must be counted, and refused, twice
        key = (id(body), shape, tuple(self.scope.locals.items()))
        if key not in self.counted:
            self.counted[key] = self.fold(body, shape)
        return self.counted[key]

    def chain(self, items, shape) -> tuple[list, tuple]:
        nodes: list = []
        for item in items:
            more, shape = self.fold(item, shape)
            nodes.extend(more)
        return nodes, shape

    # -------------------------------------------------------------- layers

    def layer(self, ir: LayerIR, shape):
        children: list = []
        parts: list = []  # (parameter, nodes) per chain: which children each chain gave
        chain_nodes: dict[str, list] = {}
        branches = {}
        links = {}
        varargs = ir.kind.varargs
        for param, chains in ir.branches:
            outs = []
            many = varargs is not None and varargs.name == param
            fed = next(stage for stage in ir.kind.chains if stage.name == param).reads(shape)
            if fed is None:  # the input has no step to feed: the layer itself says so
                branches[param] = None
                continue
            for position, chain in enumerate(chains):  # each fed the layer's input (or a step of it)
                nodes, out = self.fold(chain, fed)
                if many and len(nodes) > 1:  # parallel's branch of several layers: a group
                    written = ir.call.args[position]
                    nodes = [group(self.algebra, "branch", self.text_of(written), written.span,
                                   shape, out, nodes)]
                children.extend(nodes)
                parts.append((param, len(nodes)))
                chain_nodes.setdefault(param, []).append(nodes)
                outs.append(out)
            branches[param] = tuple(outs) if many else outs[0]
        for param in ir.kind.contexts:  # context=memory: the shape `memory` gave
            written = next((kw for kw in ir.call.keywords if kw.name in (param.name, *param.aliases)), None)
            if written is not None:
                links[param.name], branches[param.name] = self.context(ir.call, written)
        call = LayerCall(ir.kind, ir.call, self.algebra, self.scope, self.convention, branches, chain_nodes)
        out = ir.kind.apply(call, shape)
        if out.count.tie is not None:
            self.check_tie(ir.call, out.count)
        if not ir.holds_chains:
            return Layer(ir.kind.name, ir.source, ir.call.span, shape, tuple(out.shape), out.count,
                         call.values, links=links or None)
        return group(self.algebra, ir.kind.name, ir.source, ir.call.span, shape, out.shape,
                     children, times=out.times, own=out.count, arguments=call.values,
                     parts=tuple(parts))

    # -------------------------------------------------------------- names and ties

    def named_stage(self, ir: NamedIR, shape):
        if ir.name in self.named:
            raise self.error(f"the name '{ir.name}' is given to two layers", ir.name_span)
        nodes, out = self.fold(ir.inner, shape)
        nodes = [*nodes[:-1], nodes[-1]._replace(name=ir.name)]  # the node that ends the stage
        self.outputs[ir.name] = out
        matrices = [
            node.count.matrix
            for top in nodes
            for node, _ in top.walk()
            if isinstance(node, Layer) and node.count.matrix
        ]
        self.named[ir.name] = matrices[-1] if matrices else None
        return nodes, out

    def check_tie(self, node: ast.Call, count: Count) -> None:
        """tie=NAME shares the weight matrix of the layer named NAME (`... as NAME`); its
        shape must be this layer's or its transpose. The shared weights count there, once."""
        name, value = count.tie, next(kw.value for kw in node.keywords if kw.name == "tie")
        span = getattr(value, "span", None) or node.span
        if name not in self.named:
            known = list(self.named)
            hint = did_you_mean(name, known) or (
                f" (named layers: {', '.join(known)})" if known else
                "; name a layer first with 'as', e.g. embedding(V, d) as wte"
            )
            raise self.error(f"no layer is named '{name}'" + hint, span)
        named = self.named[name]
        if named is None:
            raise layer_error(node, self.source, f"the layer '{name}' has no weight matrix to share", span)
        matrix = count.matrix
        if not (self.same_shape(named, matrix) or self.same_shape(named, matrix[::-1])):
            raise layer_error(
                node, self.source,
                f"cannot tie to '{name}': its weights are {_matrix(named)}, "
                f"this layer's would be {_matrix(matrix)}",
                span,
            )

    def same_shape(self, a, b) -> bool:
        return self.algebra.same_shape(a, b)

    def text_of(self, node) -> str:
        span = getattr(node, "span", None)
        return span.text(self.source) if span is not None and span.line else ast.unparse(node)

    def context(self, node: ast.Call, keyword: ast.Keyword) -> tuple[str, tuple]:
        """The name and output shape of the stage a context= names; it must come before."""
        value = keyword.value
        span = getattr(value, "span", None) or keyword.span
        if not isinstance(value, ast.Ref):
            raise layer_error(node, self.source, f"{keyword.name} must be a name given with 'as'", span)
        # As written: `as enc2` names "enc2", which a size would read as enc_2.
        name = value.stem if value.index is None else span.text(self.source)
        if name in self.outputs:
            return name, self.outputs[name]
        later = next((named for named in ast.walk(self.model.network)
                      if isinstance(named, ast.Named) and named.name == name), None)
        if later is not None:
            where = f"{later.name_span.line}:{later.name_span.column}"
            raise layer_error(
                node, self.source,
                f"'{name}' is named at {where}, which this layer does not come after; a "
                "context must be a stage counted before it (an earlier chain, or earlier in "
                "this one)",
                span,
            )
        known = list(self.outputs)
        hint = did_you_mean(name, known) or (
            f" (named stages: {', '.join(known)})" if known else
            "; name a stage first with 'as', e.g. ... -> layer_norm as memory;"
        )
        raise layer_error(node, self.source, f"no stage is named '{name}'" + hint, span)

    # -------------------------------------------------------------- repetition

    def repeat(self, ir: RepeatIR, shape) -> Group:
        count = evaluate(ir.count, self.algebra, self.scope)
        # Zero is allowed: `dense(h) * (L - 1)` with L = 1 is no layer at all.
        if is_number(count) and (not is_integer(count) or count < 0):
            raise self.error(
                f"a repetition count must be a whole number >= 0, got {show(count)}", ir.count.span
            )
        if getattr(count, "is_negative", None) is True:
            raise self.error(f"a repetition count must not be negative, got {count}", ir.count.span)
        names_before = dict(self.named)
        nodes, body_shape = self.fold(ir.body, shape)
        if self.same_shape(body_shape, shape):
            return group(self.algebra, "repeat", ir.source, ir.span, shape, shape, nodes, times=count)
        return self.reshaping_repeat(ir, shape, count, nodes, body_shape, names_before)

    def reshaping_repeat(self, ir: RepeatIR, shape, count, first: list, first_shape,
                         names_before: dict) -> Group:
        """`stage * n` whose instances change the shape. The first may alone (dense(16)
        * 3 after in(784)): it counts on its own, the other n − 1 on its output. Or each
        may grow the shape by the same amount (DenseNet's layers): a Σ over the
        instances. Any other change: written out, for a concrete n."""
        if is_number(count) and count == 0:
            raise self.error(
                f"this repeated chain changes the shape ({shape_text(shape)} to "
                f"{shape_text(first_shape)}), so repeating it 0 times leaves no output shape",
                ir.count.span,
            )
        rest, second_shape = self.again(ir.body, first_shape, names_before)
        algebra = self.algebra
        if self.same_shape(second_shape, first_shape):
            others = group(algebra, "repeat", ir.source, ir.span, first_shape, first_shape, rest,
                           times=count - 1)
            return group(algebra, "repeat", ir.source, ir.span, shape, first_shape, [*first, others])
        if is_number(count) and count == 1:
            return group(algebra, "repeat", ir.source, ir.span, shape, first_shape, first)
        growth = _growth(algebra, shape, first_shape, second_shape)
        if growth is not None:
            if not algebra.symbolic:
                raise NeedsSymbols("the instances of a repetition")  # summed, at any count
            summed = self.growing_repeat(ir, shape, count, growth, names_before)
            if summed is not None:
                return summed
        if is_number(count):
            return self.unrolled_repeat(ir, shape, count, [*first, *rest], second_shape, names_before)
        raise self.error(
            f"this repeated chain changes the shape differently each time: "
            f"{shape_text(shape)} -> {shape_text(first_shape)} -> {shape_text(second_shape)}; "
            "give the count a value (the instances are then written out)",
            ir.span,
        )

    def again(self, body, shape, names_before: dict) -> tuple[list, tuple]:
        """The body counted once more, as it was the first time: a name it gives (`as
        NAME`) is its first instance's."""
        self.instances += 1
        if self.instances > MAX_UNROLLED:
            raise SymparamError(
                f"more than {MAX_UNROLLED:,} instances of repeated chains that change the shape "
                "would be written out, symparam's limit; give the counts smaller values, or "
                "let each instance grow the shape alike (then they are summed in closed form)"
            )
        after_first, outputs = self.named, dict(self.outputs)
        self.named = dict(names_before)
        try:
            return self.fold(body, shape)
        finally:
            self.named, self.outputs = after_first, outputs

    def unrolled_repeat(self, ir: RepeatIR, shape, count: int, nodes: list, out, names_before) -> Group:
        for _ in range(int(count) - 2):
            more, out = self.again(ir.body, out, names_before)
            nodes.extend(more)
        return group(self.algebra, "repeat", ir.source, ir.span, shape, out, nodes)

    def growing_repeat(self, ir: RepeatIR, shape, count, growth: tuple, names_before) -> Group | None:
        """Σ over the instances j = 0 … n − 1, instance j fed shape + j·growth; None
        when instance j's output is not shape + (j + 1)·growth for every j."""
        algebra = self.algebra
        j = algebra.index_symbol(_free_index(self.model.network))
        step_input = tuple(extent + j * step for extent, step in zip(shape, growth))
        try:
            nodes, step_output = self.again(ir.body, step_input, names_before)
        except SymparamError:
            return None  # a layer refuses the general instance: written out instead
        expected = tuple(extent + (j + 1) * step for extent, step in zip(shape, growth))
        if not self.same_shape(step_output, expected):
            return None
        step = nodes[0] if len(nodes) == 1 else group(
            algebra, "call", ir.source, ir.span, step_input, step_output, nodes)
        out = tuple(extent + count * step for extent, step in zip(shape, growth))
        total = summation(algebra, ir.source, ir.span, shape, out, step, j, 0, count - 1,
                          step_input, step_output, step.kind)
        return group(algebra, "repeat", ir.source, ir.span, shape, out, [total])

    # -------------------------------------------------------------- Σ

    def summed(self, ir: SumIR, shape) -> tuple[list, tuple]:
        algebra = self.algebra
        lower, upper = index_range(ir.pairs, algebra, self.scope, self.error)
        i = algebra.index_symbol(ir.index)
        # Layer i's output, fed the ellipsis's input; it depends on i alone when the
        # layers chain to a closed form, which the next lines check.
        _, out_i = self.aside(ir.step, ir.index, i, shape)
        step_input = self.substitute(out_i, i, i - 1)
        (step,), step_output = self.aside(ir.step, ir.index, i, step_input)
        if not self.same_shape(step_output, out_i):
            raise self.error(
                "the layers of this ellipsis do not chain to a closed form: each changes the "
                f"shape ({shape_text(shape)} -> {shape_text(self.substitute(out_i, i, lower))} for "
                f"the first), so layer {ir.index}'s input depends on every layer before it; "
                "give the sizes with --set (the layers are then written out), or keep the "
                "shape (padding=same)",
                ir.span,
            )
        nodes: list = []
        source = ir.source
        start, sum_input = lower, shape
        if not self.same_shape(self.substitute(out_i, i, lower - 1), shape):
            # The layer before the ellipsis does not fit the pattern (in(784) before
            # dense(h1) ... dense(hl)): count the first layer alone, then sum from the second.
            nodes, sum_input = self.fold(ir.first, shape)
            start = lower + 1
            second = instantiate(ir.template, ir.index, start, ir.span)
            source = f"{ast.unparse_call(second)} -> ... -> {ir.last}"
        out = self.substitute(out_i, i, upper)
        nodes.append(summation(algebra, source, ir.span, sum_input, out, step, i, start, upper,
                               step_input, step_output, ir.kind))
        return nodes, out

    def aside(self, ir, name: str, index, shape):
        """The layer at `index`, counted apart: names it gives are not kept."""
        saved, outputs = dict(self.named), dict(self.outputs)
        self.scope.locals[name] = index
        try:
            return self.fold(ir, shape)
        finally:
            del self.scope.locals[name]
            self.named, self.outputs = saved, outputs

    def substitute(self, shape, symbol, value) -> tuple:
        return tuple(self.algebra.substitute(extent, symbol, value) for extent in shape)


def _growth(algebra, shape, first, second) -> tuple | None:
    """What each instance adds to each extent, when the first two add the same."""
    if not len(shape) == len(first) == len(second):
        return None
    growth = tuple(b - a for a, b in zip(shape, first))
    same = algebra.same_shape(tuple(b - a for a, b in zip(first, second)), growth)
    return growth if same else None


def _free_index(network: ast.Network) -> str:
    """A name for a repetition's instance index that the text does not use."""
    used = names_in(network)
    return next(name for name in ("j", "k", "m", "n", "p", "q", "r", "s", "t") if name not in used)


def _names_inside(ir, known: dict) -> bool:
    """Does this IR hold an `as NAME`? Each shared body is looked at once."""
    key = id(ir)
    if key not in known:
        match ir:
            case NamedIR():
                found = True
            case LayerIR(branches=branches):
                found = any(_names_inside(chain, known) for _, chains in branches for chain in chains)
            case ChainIR(items):
                found = any(_names_inside(item, known) for item in items)
            case RepeatIR(body=body) | CallIR(body=body) | FrozenIR(inner=body):
                found = _names_inside(body, known)
            case SumIR(step=step, first=first):
                found = _names_inside(step, known) or _names_inside(first, known)
            case _:
                found = False
        known[key] = found
    return known[key]


def _matrix(shape) -> str:
    return " × ".join(show(extent) for extent in shape)


def check_sizes_used(scope: Scope, network: ast.Network) -> None:
    """Every size given must be used, and a sequence must not be longer than its use."""
    sizes, used = scope.sizes, scope.used
    for stem, values in sizes.sequences.items():
        highest = scope.highest_index.get(stem)
        if stem in scope.open_sequences or highest is None:
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
                + did_you_mean(name, sorted(names_in(network)))
            )
