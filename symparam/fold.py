"""Folding a per-layer measure over the result tree, as a forward pass runs it.

Parameters fold by `times` (a repetition's count, moe's experts: each copy holds its
own weights). What a forward pass *does* folds by how often each part runs
(`Group.runs`): a repetition's count, moe's top_k experts per position (not all of
them), a chain that `time_distributed` or `recurrent` runs at every step, the two
directions of `bidirectional`. Compute (compute.py) and activation memory (memory.py) are both
such measures: a value per layer, and what a layer holding chains adds itself.

A measure returns a tuple of values (ints or SymPy); a Σ over an index sums its
child's with SymPy, as the parameter count does.
"""

from __future__ import annotations

from math import prod
from typing import Callable

from .algebra import Concrete
from .results import Group, Layer


class Fold:
    """`measure(layer)` for each layer, `own(group)` for what a layer holding chains
    adds itself (None: nothing), folded over the tree; nodes shared by the tree (a
    definition called twice with the same sizes) are measured once."""

    def __init__(self, network, measure: Callable[[Layer], tuple],
                 own: Callable[[Group], tuple | None] | None = None, algebra=None):
        self.measure = measure
        self.own = own or (lambda node: None)
        self.algebra = algebra or algebra_for(network)
        self.memo: dict[int, tuple] = {}
        self.total = self.of(network.tree)

    def of(self, node) -> tuple:
        key = id(node)
        if key not in self.memo:
            self.memo[key] = self._fold(node)
        return self.memo[key]

    def _fold(self, node) -> tuple:
        if isinstance(node, Layer):
            return tuple(self.measure(node))
        children = [self.of(child) for child in node.children]
        if node.summation is not None:
            s = node.summation
            return tuple(self.algebra.summation(value, s.index, s.lower, s.upper) for value in children[0])
        total = self.add(children)
        times = node.runs
        if times is not None:
            total = tuple(times * value for value in total)
        own = self.own(node)
        return self.add([total, own]) if own is not None else total

    def add(self, values: list[tuple]) -> tuple:
        if not values:
            return ()
        width = max(len(value) for value in values)
        return tuple(self.algebra.add_all([value[k] for value in values if len(value) > k])
                     for k in range(width))


def algebra_for(network):
    """The arithmetic of the network's count: SymPy's when it has symbols, else ints."""
    if network.analysis.symbolic:
        from .algebra import Symbolic

        return Symbolic()
    return Concrete()


# ------------------------------------------------------------------ the values a forward pass makes

# Layers holding chains that make a new tensor of their own from what their chains
# give (the sum of a residual, the merge of parallel branches, moe's weighted sum of
# its experts, bidirectional's two directions joined); the others (frozen,
# time_distributed, recurrent, spectral_norm) pass their chain's output on.
MERGING = frozenset({"residual", "parallel", "moe", "bidirectional"})


def output_values(layer: Layer) -> tuple:
    """A layer's output, in values per example; the input is not a layer's output."""
    return (0,) if layer.kind == "input" else (prod(layer.output_shape, start=1),)


def merged_values(group: Group):
    """The tensor a layer holding chains makes of their outputs (MERGING), or None."""
    return (prod(group.output_shape, start=1),) if group.kind in MERGING else None
