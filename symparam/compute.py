"""Forward and training compute of a counted network, as exact formulas.

Each layer kind's work is in compute_layers.py; fold.py adds it up over the tree as a
forward pass runs it. Everything is per example (the input shape as written) unless
scaled: `batch` examples, or per token for a sequence model (its input's first axis).

Training takes forward + backward ≈ 3 × forward (the backward pass computes the
gradients of the activations and of the weights, each about one forward pass):
6 FLOPs per parameter per token, Kaplan et al. (2020)'s C ≈ 6·N·D.
"""

from __future__ import annotations

from collections import namedtuple

from .compute_layers import GROUP_WORK, NOTHING, WORK, Work
from .errors import SymparamError
from .fold import Fold, algebra_for
from .results import distinct_nodes

TRAINING_PASSES = 3  # forward + backward (activations' and weights' gradients)

# Kinds that read a sequence: a network holding one has a per-token compute, its
# input's first axis being the tokens.
SEQUENCE_KINDS = frozenset({
    "embedding", "attention", "dot_attention", "additive_attention", "simple_rnn", "lstm",
    "gru", "recurrent",
})


class Compute(namedtuple("Compute", "macs elementwise tokens per_token batch training")):
    """A network's forward compute for one example: `macs` (multiply–accumulates of
    matrix products and convolutions) and `elementwise` operations; for a sequence
    model, its `tokens` (the input's first axis) and `per_token`, the forward MACs
    per token. `batch` and `training` say how `flops()` scales."""

    __slots__ = ()

    @property
    def flops(self):
        """FLOPs of the matrix products and convolutions: 2 per multiply–accumulate,
        for the batch, 3 passes when training."""
        return _scaled(self, 2 * self.macs)

    @property
    def elementwise_total(self):
        return _scaled(self, self.elementwise)

    def flops_for_tokens(self, tokens):
        """The FLOPs of `tokens` tokens (a training run's D): per token × tokens."""
        if self.per_token is None:
            raise SymparamError("FLOPs per token need a sequence model: its input's first axis "
                                "is the tokens (an embedding, attention or recurrent layer reads it)")
        passes = TRAINING_PASSES if self.training else 1
        return passes * 2 * self.per_token * tokens


def _scaled(compute: Compute, value):
    return (TRAINING_PASSES if compute.training else 1) * compute.batch * value


def layer_work(layer, algebra) -> Work:
    """One layer's forward work (a Layer of the result tree, or a row of the flat view)."""
    formula = WORK.get(layer.kind)
    if formula is None:
        raise SymparamError(f"symparam has no compute formula for {layer.kind} yet")
    return formula(layer, algebra)


def own_work(group, algebra) -> Work | None:
    formula = GROUP_WORK.get(group.kind)
    return formula(group, algebra) if formula is not None else None


def fold_work(network) -> Fold:
    """The fold of every layer's work over the network: `.total` and `.of(node)`."""
    algebra = algebra_for(network)
    return Fold(network, lambda layer: layer_work(layer, algebra).totals,
                lambda group: _totals(own_work(group, algebra)), algebra)


def _totals(work: Work | None):
    return None if work is None else work.totals


def compute(network, batch=1, training: bool = False) -> Compute:
    """The forward compute of `network` for one example (see Compute), scaled by
    `batch` and by training's three passes in `flops`."""
    _check_batch(batch)
    fold = fold_work(network)
    macs, elementwise = _pair(fold.total)
    tokens = _tokens(network)
    per_token = None if tokens is None else _per_token(macs, tokens, fold.algebra)
    return Compute(macs, elementwise, tokens, per_token, batch, training)


def _pair(total: tuple) -> tuple:
    macs, elementwise = (tuple(total) + (0, 0))[:2]
    return macs, elementwise


def _tokens(network):
    """The tokens of a sequence model (its first input's first axis), else None."""
    if not any(node.kind in SEQUENCE_KINDS for node in distinct_nodes(network.tree)):
        return None
    return network.analysis.input.output_shape[0]


def _per_token(macs, tokens, algebra):
    """macs / tokens, exact: an int, a Fraction, or a SymPy expression."""
    if isinstance(macs, int) and isinstance(tokens, int):
        if macs % tokens == 0:
            return macs // tokens
        from .exact import fraction

        return fraction(macs, tokens)
    quotient = algebra.divide(macs, tokens)
    if quotient.has(algebra.sp.Sum):
        return quotient
    return algebra.sp.expand(quotient)  # 12·L·d² + 2·L·T·d + V·d, the T divided out


def _check_batch(batch) -> None:
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise SymparamError(f"batch must be a whole number >= 1, got {batch!r}")


__all__ = ["Compute", "NOTHING", "Work", "compute", "fold_work", "layer_work", "own_work"]
