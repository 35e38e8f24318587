"""The Python API: parse() and count(), and the Network they return."""

from __future__ import annotations

from typing import Any

from . import ast
from .bindings import sizes_from_keywords
from .counting import analyze
from .errors import SymparamError
from .results import Group, LayerResult, Result
from .sizes import Sizes
from .syntax import parse_network

CONVENTIONS = ("keras", "torch")


class Network:
    """A parsed and counted architecture.

    Counts (`total`, `weights`, `biases`, `trainable`, `non_trainable`) are SymPy
    expressions; `value` is the exact `int` when nothing is left symbolic, else None.
    `tree` is the result tree (see symparam.results); `layers` its flat view.
    """

    def __init__(self, syntax: ast.Network, analysis: Result, convention: str, sizes: Sizes):
        self.syntax = syntax
        self.analysis = analysis
        self.convention = convention
        self.sizes = sizes

    @classmethod
    def count(cls, syntax: ast.Network, sizes: Sizes, convention: str = "keras") -> "Network":
        """Count a parsed network with these sizes."""
        if convention not in CONVENTIONS:
            raise SymparamError(
                f"convention must be one of {', '.join(CONVENTIONS)}, not {convention!r}"
            )
        return cls(syntax, analyze(syntax, sizes, convention), convention, sizes)

    # ---------------------------------------------------------------- what it is
    @property
    def expression(self) -> str:
        return self.syntax.source

    @property
    def tree(self) -> Group:
        """The result tree: the network as a group of layers and groups (repetitions,
        definition calls, residual/parallel/moe, Σ), each with its totals."""
        return self.analysis.tree

    @property
    def layers(self) -> tuple[LayerResult, ...]:
        """One row per layer (a Σ row for a symbolic ellipsis), the input excluded."""
        return self.analysis.rows

    @property
    def input_shape(self) -> tuple:
        return self.analysis.input_shape

    @property
    def output_shape(self) -> tuple:
        return self.analysis.output_shape

    @property
    def is_concrete(self) -> bool:
        return not self.analysis.symbolic

    @property
    def symbols(self) -> dict[str, Any]:
        """The SymPy symbols in the formulas, by name (empty when concrete)."""
        return dict(self.analysis.symbols)

    # ---------------------------------------------------------------- counts
    @property
    def value(self) -> int | None:
        """The exact count, when no size it depends on is left without a value. (A size
        that changes no count, such as attention's heads, may stay free.)"""
        if self.is_concrete:
            return self.analysis.total
        total = self.analysis.total
        return int(total) if getattr(total, "is_Integer", False) else None

    @property
    def total(self):
        return _sympy(self.analysis.total)

    @property
    def weights(self):
        return _sympy(self.analysis.weights)

    @property
    def biases(self):
        return _sympy(self.analysis.biases)

    @property
    def non_trainable(self):
        return _sympy(self.analysis.non_trainable)

    @property
    def trainable(self):
        return _sympy(self.analysis.trainable)

    def latex(self) -> str:
        """The total in LaTeX, in the display form: L \\left(12 d^{2} + 13 d\\right) + ..."""
        from .values import latex, notation

        with notation(**self.layout):
            return latex(self.analysis.total)

    def formula(self, notation: str = "unicode") -> str:
        """The total as text: "unicode" (L·(12·d² + 13·d) + V·d), "ascii"
        (L*(12*d^2 + 13*d) + V*d) or "sympy" (SymPy's own str, to paste into Python)."""
        from . import values

        with values.notation(notation, **self.layout):
            return values.text(self.analysis.total)

    @property
    def layout(self) -> dict:
        """How this network's results are written (`symparam.notation`'s keywords): its
        repetition counts factored out of formulas, shapes channels-first under PyTorch's
        convention."""
        return {"counts": self.analysis.repetition_counts, "channels_first": self.convention == "torch"}

    # ---------------------------------------------------------------- sizes
    def subs(self, **sizes) -> "Network":
        """The same network with more sizes given; symbolic where some are still free."""
        merged = self.sizes.merged(sizes_from_keywords(sizes))
        return Network.count(self.syntax, merged, self.convention)

    def evaluate(self, **sizes) -> int:
        """The exact count with these sizes; every name must have a value."""
        network = self.subs(**sizes)
        if network.value is None:
            missing = ", ".join(sorted(network.free_names())) or "the sizes of its sums"
            raise SymparamError(f"no value for {missing}; give every size to evaluate the count")
        return network.value

    def free_names(self) -> set[str]:
        """The names still without a value in the total."""
        total = self.total
        return {name for name, symbol in self.analysis.symbols.items() if total.has(symbol)}

    def __int__(self) -> int:
        return self.evaluate()

    # ---------------------------------------------------------------- derivations
    def summary(self, depth: int = 0, dtype: str = "fp32", columns=("params",)):
        """A table like Keras' model.summary(): one row per layer (or folded group), the
        totals with their memory in `dtype`; `columns` may add "macs" (the forward pass's
        multiply–accumulates) and "activations" (each layer's output values)."""
        from .summary import summarize

        return summarize(self, depth, dtype, columns)

    def explain(self, compute: bool = False):
        """The count derived in words, layer by layer; with `compute`, each layer's
        forward multiply–accumulates and elementwise operations too."""
        from .explain import explain

        return explain(self, compute)

    def solve(self, name: str, total: int):
        """The largest whole value of size `name` whose count stays within `total`."""
        from .derive import solve

        return solve(self, name, total)

    def leading(self, name: str):
        """The leading term of the count as size `name` grows without bound."""
        from .derive import leading_term

        return leading_term(self, name)

    def order(self, name: str):
        """The big-O of the count as size `name` grows."""
        from .derive import big_o

        return big_o(self, name)

    def bytes(self, dtype: str = "fp32"):
        """The exact size of the parameters in bytes, stored as `dtype`."""
        from .derive import weight_bytes

        return weight_bytes(self.analysis.total, dtype)

    @property
    def macs(self):
        """The forward pass's multiply–accumulates for one example (the input as
        written): matrix products and convolutions; symparam.compute has the rest."""
        return self.compute().macs

    def compute(self, batch: int = 1, training: bool = False):
        """The forward compute (symparam.compute.Compute): MACs, elementwise operations,
        per token for a sequence model; `flops` scaled by `batch` and training's 3 passes."""
        from .compute import compute

        return compute(self, batch, training)

    def flops(self, batch: int = 1, training: bool = False, tokens=None, elementwise: bool = False):
        """FLOPs: 2 per multiply–accumulate, for `batch` examples, × 3 when `training`
        (forward + backward); with `tokens`, for that many tokens of a sequence model (a
        training run's D). `elementwise=True` adds the elementwise operations, one FLOP
        each."""
        result = self.compute(batch, training)
        if tokens is not None:
            if elementwise:
                raise SymparamError("elementwise operations are per example, not per token: "
                                    "give tokens or elementwise, not both")
            return result.flops_for_tokens(tokens)
        return result.flops + (result.elementwise_total if elementwise else 0)

    def memory(self, **options):
        """Memory estimates (symparam.memory): parameters at a dtype; training with an
        optimizer; the KV cache; activations."""
        from .memory import memory

        return memory(self, **options)

    def sweep(self, **ranges):
        """Counts over a grid: sweep(d=range(64, 4097, 64), L=[12, 24])."""
        from .sweep import Range, sweep

        return sweep(self, [Range.of(name, values) for name, values in ranges.items()])

    def export(self, to: str = "torch", name: str | None = None, path=None) -> str:
        """The model as source (`symparam export`): to="torch", a PyTorch nn.Module class
        whose constructor takes the sizes left symbolic, the sizes given as their defaults;
        to="keras", a function building a Keras 3 functional model from them. Counted
        under that framework's convention; `name`: the class's or function's."""
        if to == "torch":
            from .export import to_torch

            return to_torch(self, name=name, path=path)
        if to == "keras":
            from .export_keras import to_keras

            return to_keras(self, name=name, path=path)
        raise SymparamError(f"export writes for torch or keras, not {to!r}")

    # ---------------------------------------------------------------- display
    def __repr__(self) -> str:
        return f"<Network {self.expression!r}: {self.formula()}>"

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex()}$"

    def _repr_html_(self) -> str:
        from .display import network_html

        return network_html(self)


def _sympy(value):
    if isinstance(value, int):
        import sympy

        return sympy.Integer(value)
    return value


def parse(text: str, *, convention: str = "keras", path=None, **sizes) -> Network:
    """Parse and count an architecture expression, e.g.

    >>> parse("in(784) -> dense(16) -> dense(16) -> dense(10)").value
    13002

    `path` is the file the text comes from: its `use "..."` statements are read
    relative to it. Without a path, a text that uses files is refused: a text from
    elsewhere cannot make symparam read files (and quote them in its messages).
    """
    if convention not in CONVENTIONS:  # before parsing: a wrong convention is the first mistake
        raise SymparamError(f"convention must be one of {', '.join(CONVENTIONS)}, not {convention!r}")
    syntax = parse_network(text)
    if syntax.uses:
        from .files import resolve

        if path is None:
            use = syntax.uses[0]
            raise SymparamError(
                f"'use \"{use.path}\"' reads a file: give the text's own path, "
                "parse(text, path=...), to read it from there",
                use.span,
                text,
            )
        syntax = resolve(syntax, path)
    return Network.count(syntax, sizes_from_keywords(sizes), convention)


def count(text: str, *, convention: str = "keras", path=None, **sizes):
    """The number of parameters: an exact int when every size is known, else SymPy."""
    network = parse(text, convention=convention, path=path, **sizes)
    return network.value if network.value is not None else network.total
