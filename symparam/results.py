"""The result tree: what a count is made of, as nested nodes.

A `Layer` is one layer with its count for one instance. A `Group` holds other nodes:
the whole network, a repetition (`times` = its count), a definition's call, a layer
holding chains (residual, parallel, moe: `times` = moe's experts, `own` = its router),
or a Σ over an index (a symbolic ellipsis: one child, the layer at index i). Every node
carries its totals: for a group, `times` × the sum of its children + its own
parameters; for a Σ, the sum over the index of its child.

`rows()` is the flat view, one row per layer, with the repetitions multiplied in.
"""

from __future__ import annotations

from math import prod
from collections import namedtuple
from operator import itemgetter
from typing import Iterator

from .errors import SymparamError
from .layers.base import Count
from .limits import MAX_LAYERS

NO_COUNT = Count()


# The records are collections.namedtuple: typing.NamedTuple compiles each field's
# annotation at import, and a concrete count's start-up has no time for that.


class Summation(namedtuple("Summation", "index lower upper step step_input step_output kind")):
    """A Σ_{index=lower}^{upper} over one layer: `step` is that layer's Count at the
    index, `step_input` and `step_output` its shapes; `kind` the layer's kind."""

    __slots__ = ()


class _Positioned:
    """line and column of a record that has a span."""

    __slots__ = ()

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def column(self) -> int:
        return self.span.column


class _Node(_Positioned):
    """What layers and groups share: totals, trainable, position."""

    __slots__ = ()

    @property
    def trainable(self):
        # With nothing non-trainable, the total in its folded form: L·(12d² + 13d).
        return self.params if self.non_trainable == 0 else self.weights + self.biases

    @property
    def params(self):
        return self.weights + self.biases + self.non_trainable

    def walk(self, depth: int = 0) -> Iterator[tuple["Node", int]]:
        """This node and every node inside it, depth first, with its depth."""
        yield self, depth
        for child in self.children:
            yield from child.walk(depth + 1)


class Layer(
    namedtuple("Layer", "kind source span input_shape output_shape count arguments name links",
               defaults=(None, None, None)),
    _Node,
):
    """A layer: its kind, its source as written, where it stands, its shapes and the
    Count of one instance; `arguments`, its parameters' values as bound (a dict by the
    kind's parameter names: {"units": 16, "bias": True, ...}), for building it again;
    `name`, the NAME of `... as NAME` when this node ends that stage; `links`, the
    stages its context parameters name ({"context": "memory"}), or None."""

    __slots__ = ()
    children = ()
    times = None

    @property
    def weights(self):
        return self.count.weights

    @property
    def biases(self):
        return self.count.biases

    @property
    def non_trainable(self):
        return self.count.non_trainable


class Group(
    namedtuple(
        "Group",
        "kind source span input_shape output_shape children weights biases non_trainable "
        "params times own summation arguments name parts",
        defaults=(None, NO_COUNT, None, None, None, None),
    ),
    _Node,
):
    """A group of nodes. `kind`: "network", "repeat", "call", "sum", or the layer kind
    holding chains ("residual", ...). `weights`, `biases`, `non_trainable` and `params`
    are the totals of the whole group; `params` is folded as the tree is, times × (Σ
    children) + own: L·(12d² + 13d). `times` multiplies the children (None: once), `own`
    is the group's own Count (moe's router), `summation` says the Σ of a "sum";
    `arguments` a layer holding chains' bound parameters, as a Layer's; `name` as a
    Layer's; `parts`, for a layer holding chains, which children each chain gave:
    ((parameter, number of nodes), ...) in order ((("body", 3), ("shortcut", 2)))."""

    __slots__ = ()
    params = property(itemgetter(9))  # the field, not _Node's w + b + n

    @property
    def runs(self):
        """How many times one forward pass runs the children, or None (once). Not
        always `times`, which multiplies the parameters: moe holds all its experts but
        runs top_k at each position; time_distributed and recurrent run their chain,
        counted once, at every step."""
        arguments = self.arguments or {}
        if self.kind == "moe":
            return arguments.get("top_k") or arguments["experts"]
        if self.kind in ("time_distributed", "recurrent"):
            return self.input_shape[0]
        return self.times

    def chains(self) -> dict[str, list]:
        """A layer holding chains: its children by parameter, a list of nodes per chain
        ({"body": [[...]], "shortcut": [[...]]}, parallel's "branches" one per branch)."""
        out: dict[str, list] = {}
        children = iter(self.children)
        for param, size in self.parts or ():
            out.setdefault(param, []).append([next(children) for _ in range(size)])
        return out


Node = Layer | Group


def distinct_nodes(root) -> Iterator:
    """Every node under `root` (itself too) once, depth first in order: a definition
    called twice with the same sizes is one subtree, so a tree of 40 nested doubling
    definitions is walked in 40 steps, not 2^40 (Node.walk visits each use)."""
    seen: set[int] = set()
    stack: list = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        stack.extend(reversed(node.children))


def group(algebra, kind, source, span, input_shape, output_shape, children, times=None,
          own: Count = NO_COUNT, arguments=None, name=None, parts=None) -> Group:
    """A group with its totals folded: times × Σ children + own."""
    add = algebra.add_all
    totals = [
        add([child.weights for child in children]),
        add([child.biases for child in children]),
        add([child.non_trainable for child in children]),
        add([term for child in children for term in _param_terms(child)]),
    ]
    if times is not None:
        totals = [times * value for value in totals]
    own_totals = (own.weights, own.biases, own.non_trainable, own.params)
    totals = [value + extra if extra != 0 else value for value, extra in zip(totals, own_totals)]
    return Group(kind, source, span, input_shape, tuple(output_shape), tuple(children), *totals,
                 times=times, own=own, arguments=arguments, name=name, parts=parts)


def _param_terms(node) -> tuple:
    """What a node's params add up from: a layer's parts (one Add for a whole chain,
    not one per layer), a group's folded total."""
    if isinstance(node, Layer):
        return (node.count.weights, node.count.biases, node.count.non_trainable)
    return (node.params,)


def summation(algebra, source, span, input_shape, output_shape, step, index, lower, upper,
              step_input, step_output, kind) -> Group:
    """A Σ over `index` of the node `step` (the layer at that index)."""
    step_count = step.count if isinstance(step, Layer) else Count(
        weights=step.weights, biases=step.biases, non_trainable=step.non_trainable
    )
    totals = [algebra.summation(value, index, lower, upper)
              for value in (step.weights, step.biases, step.non_trainable)]
    totals.append(algebra.add_all(totals))
    info = Summation(index, lower, upper, step_count, tuple(step_input), tuple(step_output), kind)
    return Group("sum", source, span, input_shape, tuple(output_shape), (step,), *totals,
                 summation=info)


def freeze(algebra, node, memo: dict | None = None):
    """The node with its parameters non-trainable (trainable=false, frozen(...)), the
    LoRA adapters inside it excepted. Nodes shared in the tree stay shared."""
    memo = {} if memo is None else memo
    key = id(node)
    if key in memo:
        return memo[key]
    if isinstance(node, Layer):
        frozen = node._replace(count=node.count.frozen_count())
    elif node.summation is not None:
        s = node.summation
        (step,) = node.children
        frozen = summation(algebra, node.source, node.span, node.input_shape, node.output_shape,
                           freeze(algebra, step, memo), s.index, s.lower, s.upper, s.step_input,
                           s.step_output, s.kind)._replace(name=node.name)
    else:
        children = [freeze(algebra, child, memo) for child in node.children]
        frozen = group(algebra, node.kind, node.source, node.span, node.input_shape,
                       node.output_shape, children, node.times, node.own.frozen_count(), node.arguments,
                       node.name, node.parts)
    memo[key] = frozen
    return frozen


# ------------------------------------------------------------------ the flat view


class Enclosing(namedtuple("Enclosing", "kind source span count runs", defaults=(None, None))):
    """What encloses a row: a repetition, a definition's call or a layer holding chains
    ("repeat", "call", "layer"), as written, with what it multiplies the parameters by
    (or None), and how many times a forward pass runs what it holds (Group.runs)."""

    __slots__ = ()


def _multiplied(attribute: str) -> property:
    return property(lambda row: row.multiplier * getattr(row.count, attribute))


class LayerResult(
    namedtuple(
        "LayerResult",
        "kind source span input_shape output_shape count groups summation arguments node",
        defaults=((), None, None, None),
    ),
    _Positioned,
):
    """One row: a layer (or a Σ of layers) with what it contributes. `count` is one
    instance's (for a Σ row, the sums); `groups` what encloses it, outermost first;
    `arguments` the layer's bound parameters (None for a Σ); `node`, a Σ row's group in
    the result tree (its instances are built from it)."""

    __slots__ = ()

    @property
    def repeats(self) -> tuple:
        """The counts of the enclosing repetitions (and moe's experts), outermost first."""
        return tuple(group.count for group in self.groups if group.count is not None)

    @property
    def context(self) -> tuple[str, ...]:
        """The definition calls that lead to this layer, outermost first."""
        return tuple(group.source for group in self.groups if group.kind == "call")

    @property
    def multiplier(self):
        return prod(self.repeats, start=1)

    # One instance's count, times the repetitions around it.
    weights = _multiplied("weights")
    biases = _multiplied("biases")
    non_trainable = _multiplied("non_trainable")
    trainable = _multiplied("trainable")
    params = _multiplied("params")


def rows(root: Group) -> tuple[LayerResult, ...]:
    """One row per layer, the input left out; a Σ is one row."""
    check_rows(root)
    out: list[LayerResult] = []
    _flatten(root.children, (), out)
    return tuple(out)


def _flatten(children, path: tuple, out: list) -> None:
    for node in children:
        if isinstance(node, Layer):
            if node.kind != "input":
                out.append(LayerResult(node.kind, node.source, node.span, node.input_shape,
                                       node.output_shape, node.count, path, None, node.arguments))
        elif node.summation is not None:
            out.append(_sum_row(node, path))
        elif node.kind in ("chain", "branch"):  # another chain; one of parallel's branches
            _flatten(node.children, path, out)
        elif node.kind in ("repeat", "call"):
            enclosing = Enclosing(node.kind, node.source, node.span, node.times, node.runs)
            _flatten(node.children, path + (enclosing,), out)
        else:  # a layer holding chains: its own row only when it has parameters of its own
            if node.own.params != 0:
                out.append(LayerResult(node.kind, node.source, node.span, node.input_shape,
                                       node.output_shape, node.own, path, None, node.arguments))
            _flatten(node.children, path + (Enclosing("layer", node.source, node.span, node.times, node.runs),), out)


def check_rows(root: Group, depth: int | None = None) -> None:
    """Refuse to list more than MAX_LAYERS rows (the layers within `depth` groups, or
    all). Calls of a definition share their nodes, so a tree of 40 nested definitions,
    each using the one before twice, holds 2^40 layers: it is counted, not listed."""
    seen: dict[tuple, int] = {}

    def count(node, left) -> int:
        if not isinstance(node, Group) or node.summation is not None or left == 0:
            return 1
        key = (id(node), left)
        if key not in seen:
            below = None if left is None else left - 1
            seen[key] = 1 + sum(count(child, below) for child in node.children)
        return seen[key]

    total = count(root, None if depth is None else depth + 1)
    if total > MAX_LAYERS:
        raise SymparamError(
            f"this network has {total:,} layers and groups to list, more than symparam lists "
            f"({MAX_LAYERS:,}); its count and a summary to a smaller --depth are available"
        )


def _sum_row(node: Group, path: tuple) -> LayerResult:
    s = node.summation
    count = Count(weights=node.weights, biases=node.biases, non_trainable=node.non_trainable)
    return LayerResult(s.kind, node.source, node.span, s.step_input, node.output_shape, count,
                       path, s, None, node)


class Result:
    """A counted network: the tree, its totals, and how it was counted."""

    __slots__ = ("tree", "symbolic", "symbols", "sizes", "_rows")

    def __init__(self, tree: Group, symbolic: bool, symbols: dict, sizes):
        self.tree = tree
        self.symbolic = symbolic
        self.symbols = symbols  # the SymPy symbols by name (empty when concrete)
        self.sizes = sizes
        self._rows = None

    @property
    def rows(self) -> tuple[LayerResult, ...]:
        if self._rows is None:
            self._rows = rows(self.tree)
        return self._rows

    def by_chain(self) -> list[tuple[Layer, list[LayerResult]]]:
        """The rows of each chain, after its input: [(input, rows)], one pair for a
        network of one chain."""
        tops = self.tree.children
        if not (isinstance(tops[0], Group) and tops[0].kind == "chain"):
            return [(self.input, list(self.rows))]
        inputs = [chain.children[0] for chain in tops]
        ends = [chain.span.end for chain in tops]
        chains: list = [(head, []) for head in inputs]
        for row in self.rows:
            # where it stands in the text: its own place, or the call that leads to it
            start = row.groups[0].span.start if row.groups else row.span.start
            index = next((k for k, end in enumerate(ends) if start < end), len(ends) - 1)
            chains[index][1].append(row)
        return chains

    @property
    def repetition_counts(self) -> tuple:
        """The names that repeat groups (L of `block * L`), outermost first: the display
        form factors them out, L·(12·d² + 13·d)."""
        if not self.symbolic:
            return ()
        counts: list = []
        for node in distinct_nodes(self.tree):
            if isinstance(node, Group) and node.times is not None:
                symbols = getattr(node.times, "free_symbols", ())
                counts += sorted((s for s in symbols if s not in counts), key=str)
        return tuple(counts)

    @property
    def input(self) -> Layer:
        """The first input (of the first chain, when there are several)."""
        node = self.tree.children[0]
        while isinstance(node, Group):
            node = node.children[0]
        return node

    # The totals and shapes are the root's.
    input_shape = property(lambda self: self.tree.input_shape)
    output_shape = property(lambda self: self.tree.output_shape)
    total = property(lambda self: self.tree.params)
    weights = property(lambda self: self.tree.weights)
    biases = property(lambda self: self.tree.biases)
    non_trainable = property(lambda self: self.tree.non_trainable)
    trainable = property(lambda self: self.tree.trainable)
