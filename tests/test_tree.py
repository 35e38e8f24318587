"""The result tree (`Network.tree`): its totals, flat view, summary and shapes agree.

Random architectures are written as text by a small grammar-aware generator that
tracks the shape (so that every layer fits) and, independently of symparam, the
expected output shape and parameter count. Each architecture comes in two renderings:

- concrete: every size a number (or, for an ellipsis, a name given a value, as --set
  does), so that the ellipsis is written out;
- symbolic: some sizes written as names (qa, qb, ...) and each ellipsis ending in a
  symbolic index (`dense(ea1) -> ... -> dense(ea_{la})`), which gives a Σ.

The properties:
1. every group's totals are times × (sum of its children) + its own (moe's router);
   a Σ's are the sum of its child over the index range;
2. the flat rows, and the summary's non-header rows at depths 0, 1 and 5, add up to
   the total;
3. the symbolic rendering evaluated at the sizes equals the concrete count (and the
   count worked out by the generator);
4. along a chain, each node's output shape is the next one's input shape, and the
   root's output shape is the network's (and the generator's).
"""

from __future__ import annotations

import re
from math import prod
from pathlib import Path
from typing import NamedTuple

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symparam
from symparam.results import Group, Layer

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# ====================================================================== the generator


class Ext(NamedTuple):
    """One extent of a shape: its value, and how to write it (a size expression over
    slot placeholders §k§ and ellipsis ends «k»), or None when it has no short text."""

    value: int
    expr: str | None


def _mul(a: Ext, b: Ext) -> Ext:
    expr = f"({a.expr})*({b.expr})" if a.expr is not None and b.expr is not None else None
    return Ext(a.value * b.value, expr)


def _add(a: Ext, b: Ext) -> Ext:
    expr = f"({a.expr})+({b.expr})" if a.expr is not None and b.expr is not None else None
    return Ext(a.value + b.value, expr)


def _derived(value: int) -> Ext:
    return Ext(value, None)


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _letters(k: int) -> str:
    """0 -> a, 25 -> z, 26 -> ba, ...: names without digits (digits would be indices)."""
    out = ""
    while True:
        out = chr(ord("a") + k % 26) + out
        k //= 26
        if k == 0:
            return out


ACTIVATIONS = ("relu", "gelu", "silu", "tanh", "sigmoid", "softmax", "identity", "hard_swish",
               "leaky_relu(0.2)", "elu(1.0)", "log_softmax(-1)", "ReLU", "Swish", "relu6", "selu",
               "celu(1.0)", "mish", "hard_sigmoid", "hard_tanh", "softplus", "softsign", "exponential")


class Ends(NamedTuple):
    """An ellipsis's indexed stem and the values of its layers 1 ... n."""

    stem: str
    values: tuple


class Arch(NamedTuple):
    """A generated architecture, in both renderings."""

    concrete: str
    symbolic: str
    concrete_sizes: dict  # the ellipses' sizes, for the concrete rendering
    symbolic_sizes: dict  # every value the symbolic rendering needs (names -> values)
    names: dict  # the symbolic rendering's slot names -> values
    ellipses: tuple  # Ends; ellipsis k ends at index l<k> in the symbolic rendering
    convention: str
    total: int  # the generator's own count
    output_shape: tuple  # the generator's own output shape (values)


class Gen:
    """Draws stages that fit the current shape; a shape is a tuple of Ext."""

    MAX_DEPTH = 2

    def __init__(self, draw, convention: str):
        self.draw = draw
        self.convention = convention
        self.keras = convention == "keras"
        self.slots: list[int] = []
        self.definitions: list[str] = []
        self.ellipses: list[Ends] = []
        self.named: list[tuple[str, Ext, Ext]] = []  # (name, rows, columns) of a weight matrix
        self.in_definition = 0

    # ---------------------------------------------------------------- sizes

    def integer(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def coin(self) -> bool:
        return self.draw(st.booleans())

    def pick(self, items):
        return self.draw(st.sampled_from(list(items)))

    def slot(self, value: int) -> Ext:
        """A size the symbolic rendering may write as a name."""
        self.slots.append(value)
        return Ext(value, f"§{len(self.slots) - 1}§")

    def size(self, lo: int, hi: int) -> Ext:
        return self.sized(self.integer(lo, hi))

    def sized(self, value: int) -> Ext:
        """Mostly a slot, sometimes the number written in."""
        return self.slot(value) if self.draw(st.integers(0, 3)) else Ext(value, str(value))

    # ---------------------------------------------------------------- chains

    def chain(self, shape, keep: bool, depth: int, lo: int = 1, hi: int = 3):
        """A chain of stages: (text, shape, params). With keep, the axes before the last
        keep their extents (written the same way), so that a last dense can close it."""
        texts, total = [], 0
        for _ in range(self.integer(lo, hi)):
            text, shape, params = self.stage(shape, keep, depth)
            texts.append(text)
            total += params
        return " -> ".join(texts), shape, total

    def closed(self, shape, target: Ext, depth: int, lo: int = 1, hi: int = 3):
        """A keep-chain whose output is `shape` with its last axis `target`."""
        text, out, params = self.chain(shape, True, depth, lo, hi)
        if out[-1].expr != target.expr:
            more, out, extra = self.dense(out, units=target)
            text, params = f"{text} -> {more}" if text else more, params + extra
        return text, out, params

    def stage(self, shape, keep: bool, depth: int):
        options = self.options(shape, keep, depth)
        make = self.draw(st.sampled_from(options))
        return make(shape, keep, depth)

    def options(self, shape, keep: bool, depth: int) -> list:
        rank = len(shape)
        options = [self.dense, self.dense, self.activation, self.dropout, self.norm, self.norm, self.prelu,
                   self.spectral_norm]
        if self.named and any(self.tie_fits(shape, entry) for entry in self.named):
            options += [self.tie] * 3
        if depth < self.MAX_DEPTH:
            options += [self.residual, self.parallel, self.moe, self.repeat, self.definition, self.frozen]
        options += [self.param, self.scale, self.adapted, self.normalization]
        if rank <= 2:
            options += [self.bilinear, self.adaptive_softmax]
        if not keep and shape[-1].value >= 2:
            options.append(self.slice)
        if rank == 1 and not keep:
            options.append(self.embedding_bag)
        if rank == 2:
            options += [self.cells_over_steps, self.attention_without_projections]
        if self.keras and rank in (3, 4) and all(extent.value >= 2 for extent in shape[1:-1]):
            options.append(self.conv_lstm)
        if rank == 2 and not keep:
            options.append(self.tokens)
            if shape[0].value >= 2:
                options.append(self.stft)
        if not self.in_definition:
            options.append(self.ellipsis)
        if rank == 1:
            if not keep:
                options += [self.embedding, self.embedding, self.reshape, self.cell]
        if rank == 2:
            options += [self.attention] * 3 + [self.recurrent] * 3 + ([] if keep else [self.select])
            options += [self.bidirectional, self.einsum]
        if rank >= 2:
            options.append(self.time_distributed)
        if 2 <= rank <= 4:
            options += [self.conv, self.conv, self.spatial_keep]
            if rank <= 3:
                options += [self.depthwise, self.separable]
            if not keep:
                options += [self.transposed, self.pool, self.global_pool, self.adaptive,
                            self.zero_padding, self.upsampling, self.flatten, self.reshape]
                if all(extent.value >= 3 for extent in shape[:-1]):
                    options.append(self.cropping)
            else:
                options.append(self.transposed_keep)
        return options

    # ---------------------------------------------------------------- core

    def dense(self, shape, keep=False, depth=0, units: Ext | None = None):
        u = units or self.size(1, 6)
        name = self.pick(("dense", "dense", "Dense", "Linear"))
        args = [f"units={u.expr}" if self.coin() and name == "dense" else u.expr]
        bias = self.draw(st.integers(0, 3)) != 0
        if not bias:
            args.append("bias=false")
        if self.coin():
            args.append(f"activation={self.pick(('relu', 'tanh', 'linear', 'softmax'))}")
        text = f"{name}({', '.join(args)})"
        if (units is None and not self.in_definition and depth == 0 and shape[-1].expr is not None
                and not self.draw(st.integers(0, 4))):
            name = f"fc{_letters(len(self.named))}"
            self.named.append((name, shape[-1], u))
            text += f" as {name}"
        return text, shape[:-1] + (u,), shape[-1].value * u.value + (u.value if bias else 0)

    def prelu(self, shape, keep=False, depth=0):
        """PyTorch's one slope or one per channel; Keras' one per value, or shared
        along every axis but the channels."""
        if not self.keras:
            if self.coin() or shape[-1].expr is None:
                return "prelu", shape, 1
            return f"prelu(num_parameters={shape[-1].expr})", shape, shape[-1].value
        if len(shape) > 1 and self.coin():
            axes = ", ".join(str(axis) for axis in range(1, len(shape)))
            return f"PReLU(shared_axes=({axes},))", shape, shape[-1].value
        return "prelu", shape, prod(extent.value for extent in shape)

    def activation(self, shape, keep=False, depth=0):
        return self.pick(ACTIVATIONS), shape, 0

    def dropout(self, shape, keep=False, depth=0):
        return self.pick(("dropout(0.5)", "dropout", "Dropout(p=0.1)", "dropout(0)")), shape, 0

    def norm(self, shape, keep=False, depth=0):
        c = shape[-1].value
        kind = self.pick(("batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm"))
        if kind == "batch_norm":
            flags = self.draw(st.sets(st.sampled_from(("affine", "center", "scale")), max_size=2))
            if not self.keras and flags in ({"center"}, {"scale"}):
                flags = {"affine"}  # PyTorch has one switch for γ and β
            text = "batch_norm" + (f"({', '.join(f'{f}=false' for f in sorted(flags))})" if flags else "")
            return text, shape, self.affine(c, flags) + (2 * c if self.keras else 0)
        if kind == "layer_norm":
            axes = self.integer(1, len(shape))
            flags = self.draw(st.sets(st.sampled_from(("bias", "scale", "affine")), max_size=2))
            args = [f"{f}=false" for f in sorted(flags)] + ([f"axes={axes}"] if axes > 1 else [])
            size = prod(e.value for e in shape[len(shape) - axes:])
            affine = "affine" not in flags
            params = (size if affine and "scale" not in flags else 0) + (
                size if affine and "bias" not in flags else 0)
            return "layer_norm" + (f"({', '.join(args)})" if args else ""), shape, params
        if kind == "group_norm":
            groups = self.sized(self.pick(_divisors(c)))
            flags = self.draw(st.sets(st.sampled_from(("affine", "center", "scale")), max_size=1))
            if not self.keras and flags in ({"center"}, {"scale"}):
                flags = {"affine"}  # PyTorch has one switch for γ and β
            args = [groups.expr] + [f"{f}=false" for f in sorted(flags)]
            return f"group_norm({', '.join(args)})", shape, self.affine(c, flags)
        if kind == "instance_norm":
            affine = self.pick((None, True, False))
            default = self.keras
            text = "instance_norm" if affine is None else f"instance_norm(affine={str(affine).lower()})"
            return text, shape, 2 * c if (default if affine is None else affine) else 0
        scale = self.coin()
        return ("rms_norm" if scale else "rms_norm(scale=false)"), shape, c if scale else 0

    @staticmethod
    def affine(c: int, flags) -> int:
        if "affine" in flags:
            return 0
        return (c if "center" not in flags else 0) + (c if "scale" not in flags else 0)

    def flatten(self, shape, keep=False, depth=0):
        out = shape[0]
        for extent in shape[1:]:
            out = _mul(out, extent)
        return self.pick(("flatten", "Flatten")), (out,), 0

    def reshape(self, shape, keep=False, depth=0):
        total = prod(e.value for e in shape)
        size = shape[0]
        for extent in shape[1:]:
            size = _mul(size, extent)
        choices = [d for d in _divisors(total) if d < total]
        if not choices or self.coin():
            return "reshape(-1)", (size,), 0
        first = self.sized(self.pick(choices))
        rest_value = total // first.value
        rest = Ext(rest_value, f"({size.expr})/({first.expr})" if size.expr is not None else None)
        if self.coin():
            return f"reshape({first.expr}, -1)", (first, rest), 0
        # written out: both extents given (numbers, so that the symbolic count agrees)
        return f"reshape(({first.value}, {rest_value}))", (Ext(first.value, str(first.value)),
                                                           Ext(rest_value, str(rest_value))), 0

    # ---------------------------------------------------------------- sequences

    def embedding(self, shape, keep=False, depth=0):
        vocab, dim = self.size(2, 9), self.size(1, 5)
        ties = [e for e in self.named if e[0].startswith("emb")]
        if ties and self.coin():
            name = self.pick([e[0] for e in ties])
            entry = next(e for e in self.named if e[0] == name)
            vocab, dim = (entry[1], entry[2]) if self.coin() else (entry[2], entry[1])
            text = f"embedding({vocab.expr}, {dim.expr}, tie={name})"
            return text, shape + (dim,), 0
        text = f"embedding({vocab.expr}, {dim.expr})"
        if not self.in_definition and depth == 0 and self.coin():
            name = f"emb{_letters(len(self.named))}"
            self.named.append((name, vocab, dim))
            text += f" as {name}"
        return text, shape + (dim,), vocab.value * dim.value

    def tie_fits(self, shape, entry) -> bool:
        _, rows, cols = entry
        return shape[-1].expr is not None and shape[-1].expr in (rows.expr, cols.expr)

    def tie(self, shape, keep=False, depth=0):
        name, rows, cols = self.pick([e for e in self.named if self.tie_fits(shape, e)])
        units = cols if shape[-1].expr == rows.expr else rows
        bias = self.coin()
        text = f"dense({units.expr}, bias={'true' if bias else 'false'}, tie={name})"
        return text, shape[:-1] + (units,), units.value if bias else 0

    def attention(self, shape, keep=False, depth=0):
        d = shape[-1].value
        heads = self.pick(_divisors(d))
        h = self.sized(heads)
        args = [h.expr if self.coin() else f"num_heads={h.expr}"]
        kv = self.pick(_divisors(heads))
        key_dim = d // heads
        value_dim = None
        if kv != heads or self.coin():
            kv_ext = self.sized(kv)
            args.append(f"{self.pick(('kv_heads', 'num_kv_heads'))}={kv_ext.expr}")
        if self.coin():
            k = self.size(1, 4)
            key_dim = k.value
            args.append(f"key_dim={k.expr}")
        if self.coin():
            v = self.size(1, 4)
            value_dim = v.value
            args.append(f"value_dim={v.expr}")
        out_ext = shape[-1]
        if not keep and self.coin():
            out_ext = self.size(1, 6)
            args.append(f"out={out_ext.expr}")
        bias = self.coin()
        if not bias:
            args.append("bias=false")
        v = value_dim or key_dim
        o = out_ext.value
        weights = d * (heads * key_dim + kv * key_dim + kv * v) + heads * v * o
        biases = heads * key_dim + kv * key_dim + kv * v + o if bias else 0
        return f"attention({', '.join(args)})", shape[:-1] + (out_ext,), weights + biases

    def cross_attention(self, memory):
        """A second chain, from its own input, whose attention reads the first's output
        (`as mem`) as its keys and values: (text, output shape, params)."""
        steps, width = self.size(1, 4), self.integer(1, 6)
        heads = self.pick(_divisors(width))
        d, h = self.sized(width), self.sized(heads)
        key_dim, m = width // heads, memory[-1].value
        params = width * heads * key_dim + 2 * m * heads * key_dim + heads * key_dim * width
        params += 3 * heads * key_dim + width  # the biases
        return f"in({steps.expr}, {d.expr}) -> attention({h.expr}, context=mem)", (steps, d), params

    def conv_lstm(self, shape, keep=False, depth=0):
        """Keras' ConvLSTM1D/2D over (T, *spatial, C): 4 gates of a convolution over the
        input and the state, 4·f·kʳ·(C + f) + 4·f; valid or same padding, stride 1."""
        steps, spatial, c = shape[0], shape[1:-1], shape[-1].value
        rank = len(spatial)
        f = self.size(1, 4)
        k = self.integer(1, min(3, min(extent.value for extent in spatial)))
        same = self.coin()
        args = [f.expr, str(k)] + (["padding=same"] if same else [])
        out_spatial = spatial if same else tuple(_add(n, Ext(1 - k, str(1 - k))) for n in spatial)
        sequences = keep or self.coin()
        if sequences:
            args.append("return_sequences=true")
        out = ((steps,) if sequences else ()) + tuple(out_spatial) + (f,)
        if keep and out[-1].expr != shape[-1].expr:
            return self.dense(shape, keep, depth)
        params = 4 * f.value * k ** rank * (c + f.value) + 4 * f.value
        return f"conv_lstm{rank}d({', '.join(args)})", out, params

    def normalization(self, shape, keep=False, depth=0):
        """Keras' Normalization: mean, variance and count, non-trainable."""
        return "normalization", shape, 2 * shape[-1].value + 1

    def bilinear(self, shape, keep=False, depth=0):
        """PyTorch's Bilinear with the input read twice: u·c² + u."""
        u, c = self.size(1, 4), shape[-1].value
        bias = self.coin()
        return (f"bilinear({u.expr}{'' if bias else ', bias=false'})", shape[:-1] + (u,),
                u.value * c * c + (u.value if bias else 0))

    def adaptive_softmax(self, shape, keep=False, depth=0):
        """PyTorch's AdaptiveLogSoftmaxWithLoss with one cluster: a head of cutoff + 1,
        a projection to ⌊c / div⌋ features, then to the other classes."""
        c, cutoff = shape[-1].value, self.integer(1, 4)
        classes = self.size(cutoff + 1, cutoff + 6)
        div = self.pick((2, 4))
        hidden = c // div
        bias = self.coin()
        params = c * (cutoff + 1) + c * hidden + hidden * (classes.value - cutoff) + (cutoff + 1 if bias else 0)
        text = (f"adaptive_log_softmax({classes.expr}, cutoffs=({cutoff},), div_value={div}"
                f"{', head_bias=true' if bias else ''})")
        return text, shape[:-1] + (classes,), params

    def slice(self, shape, keep=False, depth=0):
        c = shape[-1].value
        start = self.integer(0, c - 1)
        stop = self.integer(start + 1, c)
        return f"slice({start}, {stop})", shape[:-1] + (Ext(stop - start, str(stop - start)),), 0

    def embedding_bag(self, shape, keep=False, depth=0):
        vocab, dim = self.size(2, 9), self.size(1, 5)
        return f"embedding_bag({vocab.expr}, {dim.expr})", (dim,), vocab.value * dim.value

    def cells_over_steps(self, shape, keep=False, depth=0):
        """Keras' RNN of a cell: the cell's count; the last step, or every step."""
        cell, out, params = self.cell((shape[-1],), keep, depth)
        if keep:
            return f"recurrent({cell}, return_sequences=true)", (shape[0], out[0]), params
        return f"recurrent({cell})", out, params

    def attention_without_projections(self, shape, keep=False, depth=0):
        """Keras' Attention (a scale with use_scale, one more with score_mode=concat) or
        AdditiveAttention (a scale per feature with use_scale)."""
        if self.coin():
            scale, concat = self.coin(), self.coin()
            options = [f"use_scale={str(scale).lower()}"] + (["score_mode=concat"] if concat else [])
            return f"dot_attention({', '.join(options)})", shape, int(scale) + int(concat)
        scale = self.coin()
        return f"additive_attention(use_scale={str(scale).lower()})", shape, shape[-1].value if scale else 0

    def stft(self, shape, keep=False, depth=0):
        """Keras' STFTSpectrogram on (T, C): real and imaginary kernels of L × bins."""
        steps = shape[0].value
        length = self.integer(2, min(steps, 8))
        fft = 1 << (length - 1).bit_length()
        bins = fft // 2 + 1
        frames = (steps - length) // (length // 2) + 1
        mode = self.pick(("log", "real", "stft"))
        kernels = 1 if mode == "real" else 2
        per_channel = bins * (2 if mode == "stft" else 1)
        # the widths follow the input's sizes, symbolic where they are
        out = (_derived(frames), _mul(shape[-1], Ext(per_channel, str(per_channel))))
        return f"stft_spectrogram(mode={mode}, frame_length={length})", out, kernels * length * bins

    def frozen(self, shape, keep=False, depth=0):
        """A frozen part: its parameters counted, not trained (its LoRA adapters are)."""
        text, out, params = self.chain(shape, keep, depth + 1, 1, 2)
        return f"{self.pick(('frozen', 'freeze'))}({text})", out, params

    def adapted(self, shape, keep=False, depth=0):
        """A dense layer with LoRA adapters of rank r, r·(inputs + units) more, and
        sometimes not trained itself (trainable=false: its adapters are)."""
        u, r = self.size(1, 5), self.integer(1, 3)
        args = [u.expr, f"lora={r}"] + (["trainable=false"] if self.coin() else [])
        c = shape[-1].value
        return f"dense({', '.join(args)})", shape[:-1] + (u,), c * u.value + u.value + r * (c + u.value)

    def param(self, shape, keep=False, depth=0):
        """A learnable tensor off the data path, sometimes not trained."""
        a, b = self.size(1, 4), self.size(1, 4)
        frozen = ", trainable=false" if not self.draw(st.integers(0, 3)) else ""
        return f"param({a.expr}, {b.expr}{frozen})", shape, a.value * b.value

    def scale(self, shape, keep=False, depth=0):
        return self.pick(("scale", "layer_scale")), shape, shape[-1].value

    def tokens(self, shape, keep=False, depth=0):
        n = self.size(1, 3)
        return f"tokens({n.expr})", (_add(shape[0], n), shape[1]), n.value * shape[1].value

    def spectral_norm(self, shape, keep=False, depth=0):
        """A dense layer whose kernel Keras normalizes with a vector u of its units."""
        u = self.size(1, 5)
        bias = self.coin()
        params = shape[-1].value * u.value + (u.value if bias else 0) + (u.value if self.keras else 0)
        return (f"spectral_norm(dense({u.expr}{'' if bias else ', bias=false'}))", shape[:-1] + (u,), params)

    def time_distributed(self, shape, keep=False, depth=0):
        """A dense layer on each step: the same count as on the whole."""
        u = self.size(1, 5)
        return f"time_distributed(dense({u.expr}))", shape[:-1] + (u,), shape[-1].value * u.value + u.value

    def bidirectional(self, shape, keep=False, depth=0):
        kind = self.pick(("simple_rnn", "lstm", "gru"))
        gates = {"simple_rnn": 1, "lstm": 4, "gru": 3}[kind]
        u = self.size(1, 4)
        per_gate = 2 if (not self.keras or kind == "gru") else 1  # two bias vectors
        one = gates * u.value * (shape[-1].value + u.value) + per_gate * gates * u.value
        merge = self.pick(("concat", "sum", "ave"))
        width = _mul(Ext(2, "2"), u) if merge == "concat" else u
        text = f"bidirectional({kind}({u.expr}, return_sequences=true), merge={merge})"
        return text, shape[:-1] + (width,), 2 * one

    def einsum(self, shape, keep=False, depth=0):
        """Keras' EinsumDense as a dense layer over the last axis, biased or not."""
        u = self.size(1, 5)
        bias = self.coin()
        bias_axes = ', bias_axes="d"' if bias else ""
        text = f'einsum_dense("abc,cd->abd", ({shape[0].expr}, {u.expr}){bias_axes})'
        if shape[0].expr is None:
            return self.dense(shape, keep, depth)
        return text, shape[:-1] + (u,), shape[-1].value * u.value + (u.value if bias else 0)

    def cell(self, shape, keep=False, depth=0):
        """One step of a recurrent layer: (features) -> (units)."""
        kind = self.pick(("simple_rnn_cell", "lstm_cell", "gru_cell"))
        gates = {"simple_rnn_cell": 1, "lstm_cell": 4, "gru_cell": 3}[kind]
        u = self.size(1, 5)
        bias = self.draw(st.integers(0, 3)) != 0
        args = [u.expr] + ([] if bias else ["bias=false"])
        per_gate = 2 if (not self.keras or kind == "gru_cell") else 1  # two bias vectors
        params = gates * u.value * (shape[0].value + u.value) + (per_gate * gates * u.value if bias else 0)
        return f"{kind}({', '.join(args)})", (u,), params

    def recurrent(self, shape, keep=False, depth=0):
        kind = self.pick(("simple_rnn", "lstm", "gru"))
        gates = {"simple_rnn": 1, "lstm": 4, "gru": 3}[kind]
        u = self.size(1, 5)
        args = [u.expr]
        bidirectional = self.coin()
        if bidirectional:
            args.append("bidirectional=true")
        layers = self.integer(1, 2)
        if layers > 1:
            args.append(f"layers={layers}")
        if keep:
            sequences = True
            args.append("return_sequences=true")
        else:
            sequences = self.pick((None, True, False))
            if sequences is not None:
                args.append(f"return_sequences={str(sequences).lower()}")
            else:
                sequences = not self.keras
        bias = self.draw(st.integers(0, 3)) != 0
        if not bias:
            args.append("bias=false")
        reset_after = True
        if kind == "gru" and self.keras and self.coin():
            reset_after = False
            args.append("reset_after=false")
        proj = None
        if kind == "lstm" and not self.keras and u.value >= 2 and self.coin():
            proj = self.integer(1, u.value - 1)
            args.append(f"proj={proj}")
        if self.coin():
            args.append("dropout=0.1")
        directions = 2 if bidirectional else 1
        outputs = proj or u.value
        inputs, total = shape[-1].value, 0
        for _ in range(layers):
            weights = gates * u.value * (inputs + (proj or u.value)) + (proj * u.value if proj else 0)
            if not bias:
                biases = 0
            elif not self.keras:
                biases = 2 * gates * u.value
            else:
                biases = (2 if kind == "gru" and reset_after else 1) * gates * u.value
            total += directions * (weights + biases)
            inputs = directions * outputs
        if proj:
            feature = Ext(directions * proj, str(directions * proj))
        elif directions == 2:
            feature = _mul(Ext(2, "2"), u)
        else:
            feature = u
        out = (shape[0], feature) if sequences else (feature,)
        return f"{kind}({', '.join(args)})", out, total

    def select(self, shape, keep=False, depth=0):
        index = self.integer(0, shape[0].value - 1)
        text = self.pick((f"select({index})", f"take(position={index})")) if index else "select"
        return text, shape[1:], 0

    # ---------------------------------------------------------------- convolutions

    def window(self, spatial, allow_same=True, allow_dilation=True):
        """Kernel, stride, dilation, padding for a window on these extents; the text of
        its arguments; the output extents."""
        rank = len(spatial)
        kernel = [self.integer(1, min(3, n.value)) for n in spatial]
        stride = [self.integer(1, 2) for _ in spatial]
        dilation = [1] * rank
        if allow_dilation and all(s == 1 for s in stride) and self.coin():
            dilation = [2 if (2 * (k - 1) + 1) <= n.value else 1 for k, n in zip(kernel, spatial)]
        words = ["valid", "valid", "explicit"]
        if allow_same and (self.keras or all(s == 1 for s in stride)):
            words.append("same")
        padding = self.pick(words)
        pads = [0] * rank
        if padding == "explicit":
            pads = [self.integer(0, 1) for _ in spatial]
        out = []
        for n, k, s, d, p in zip(spatial, kernel, stride, dilation, pads):
            reach = d * (k - 1) + 1
            if padding == "same":
                out.append(-(-n.value // s))
            else:
                out.append((n.value + 2 * p - reach) // s + 1)
        args = [self.tuple_text(kernel)]
        if any(s != 1 for s in stride) or self.coin():
            args.append(f"stride={self.tuple_text(stride)}")
        if padding == "explicit":
            args.append(f"padding={self.tuple_text(pads)}")
        elif padding == "same" or self.coin():
            args.append(f"padding={padding}")
        if any(d != 1 for d in dilation):
            args.append(f"dilation={self.tuple_text(dilation)}")
        if padding == "same" and all(s == 1 for s in stride):
            extents = tuple(spatial)  # ceil(n/1) = n: the same extents, written the same way
        else:
            extents = tuple(_derived(v) for v in out)
        return kernel, args, extents

    def tuple_text(self, values) -> str:
        if len(set(values)) == 1 and self.coin():
            return str(values[0])
        return "(" + ", ".join(map(str, values)) + ("," if len(values) == 1 else "") + ")"

    def conv(self, shape, keep=False, depth=0):
        spatial, channels = shape[:-1], shape[-1]
        rank = len(spatial)
        c = channels.value
        groups = self.pick(_divisors(c)) if self.coin() else 1
        filters = self.sized(groups * self.integer(1, 3))
        if keep:
            kernel = [self.pick((1, 3)) if n.value >= 3 else 1 for n in spatial]
            args = [self.tuple_text(kernel)]
            if any(k != 1 for k in kernel):
                args.append("padding=same")
            extents = tuple(spatial)
        else:
            kernel, args, extents = self.window(spatial)
        if groups != 1:
            args.append(f"groups={groups}")
        bias = self.draw(st.integers(0, 3)) != 0
        if not bias:
            args.append("bias=false")
        name = self.pick((f"conv{rank}d", f"Conv{rank}D", f"Conv{rank}d"))
        params = prod(kernel) * (c // groups) * filters.value + (filters.value if bias else 0)
        return f"{name}({filters.expr}, {', '.join(args)})", extents + (filters,), params

    def spatial_keep(self, shape, keep=False, depth=0):
        """Stages that change the extents and change them back: padding then a valid
        convolution; upsampling then a pool of the same size."""
        spatial, channels = shape[:-1], shape[-1]
        rank = len(spatial)
        if self.coin():
            pad = self.integer(1, 2)
            filters = self.size(1, 4)
            kernel = 2 * pad + 1
            text = f"zero_padding{rank}d({pad}) -> conv{rank}d({filters.expr}, {kernel})"
            return text, spatial + (filters,), kernel ** rank * channels.value * filters.value + filters.value
        size = self.integer(2, 3)
        kind = self.pick(("max", "avg"))
        return (f"upsampling{rank}d({size}) -> {kind}_pool{rank}d({size})", shape, 0)

    def transposed(self, shape, keep=False, depth=0):
        spatial, channels = shape[:-1], shape[-1]
        rank = len(spatial)
        c = channels.value
        groups = self.pick(_divisors(c)) if self.coin() else 1
        filters = self.sized(groups * self.integer(1, 2))
        kernel = [self.integer(1, 3) for _ in spatial]
        stride = [self.integer(1, 2) for _ in spatial]
        words = ["valid", "explicit"] + (["same"] if self.keras else [])
        padding = self.pick(words)
        output_padding = None
        if self.coin() and any(s > 1 for s in stride):
            output_padding = [self.integer(0, s - 1) for s in stride]
        pads = [self.integer(0, (k - 1) // 2) for k in kernel] if padding == "explicit" else None
        out = []
        for axis, (n, k, s) in enumerate(zip(spatial, kernel, stride)):
            n = n.value
            o = output_padding[axis] if output_padding else 0
            if padding == "explicit" or (padding == "valid" and not self.keras):
                p = pads[axis] if pads else 0
                out.append((n - 1) * s - 2 * p + k + o)
            elif output_padding is None:
                out.append(n * s if padding == "same" else n * s + max(k - s, 0))
            else:
                pad = k // 2 if padding == "same" else 0
                out.append((n - 1) * s + k - 2 * pad + o)
        if min(out) < 1:  # `same` with an even kernel and output_padding 0 on one position
            return self.dense(shape, keep, depth)
        args = [self.tuple_text(kernel), f"stride={self.tuple_text(stride)}"]
        if padding == "explicit":
            args.append(f"padding={self.tuple_text(pads)}")
        elif padding == "same" or self.coin():
            args.append(f"padding={padding}")
        if output_padding is not None:
            args.append(f"output_padding={self.tuple_text(output_padding)}")
        if groups != 1:
            args.append(f"groups={groups}")
        bias = self.coin()
        if not bias:
            args.append("bias=false")
        name = self.pick((f"conv{rank}d_transpose", f"ConvTranspose{rank}d"))
        params = c * (filters.value // groups) * prod(kernel) + (filters.value if bias else 0)
        return (f"{name}({filters.expr}, {', '.join(args)})",
                tuple(_derived(v) for v in out) + (filters,), params)

    def transposed_keep(self, shape, keep=False, depth=0):
        """A stride-1 transposed convolution that keeps the extents: `same` (Keras) or
        padding (k-1)/2 for an odd kernel."""
        spatial, channels = shape[:-1], shape[-1]
        rank = len(spatial)
        filters = self.size(1, 4)
        kernel = self.pick((1, 3))
        if self.keras and self.coin():
            args = f"{kernel}, padding=same"
        else:
            args = f"{kernel}, padding={(kernel - 1) // 2}"
        params = channels.value * filters.value * kernel ** rank + filters.value
        return f"conv{rank}d_transpose({filters.expr}, {args})", spatial + (filters,), params

    def _per_channel(self, shape, keep):
        """What depthwise and separable convolutions share: their window, their depth
        multiplier and bias arguments."""
        spatial = shape[:-1]
        m = self.size(1, 2)
        if keep:
            kernel, args, extents = [1] * len(spatial), ["1"], tuple(spatial)
        else:
            kernel, args, extents = self.window(spatial)
        if m.value != 1 or self.coin():
            args.append(f"depth_multiplier={m.expr}")
        else:
            m = Ext(1, "1")
        bias = self.coin()
        if not bias:
            args.append("bias=false")
        return m, prod(kernel), args, extents, bias

    def depthwise(self, shape, keep=False, depth=0):
        channels, rank = shape[-1], len(shape) - 1
        m, kernel, args, extents, bias = self._per_channel(shape, keep)
        c = channels.value
        params = kernel * c * m.value + (c * m.value if bias else 0)
        return (f"depthwise_conv{rank}d({', '.join(args)})", extents + (_mul(channels, m),), params)

    def separable(self, shape, keep=False, depth=0):
        channels, rank = shape[-1], len(shape) - 1
        filters = self.size(1, 4)
        m, kernel, args, extents, bias = self._per_channel(shape, keep)
        c = channels.value
        params = kernel * c * m.value + c * m.value * filters.value + (filters.value if bias else 0)
        return (f"separable_conv{rank}d({filters.expr}, {', '.join(args)})", extents + (filters,),
                params)

    # ---------------------------------------------------------------- pooling, reshaping

    def pool(self, shape, keep=False, depth=0):
        spatial = shape[:-1]
        rank = len(spatial)
        kind = self.pick(("max", "avg"))
        pool = [self.integer(1, min(3, n.value)) for n in spatial]
        stride = None if self.coin() else [self.integer(1, 2) for _ in spatial]
        padding = self.pick(("valid", "same") if self.keras else ("valid",))  # PyTorch: zeros only
        steps = stride or pool
        out = [(-(-n.value // s)) if padding == "same" else (n.value - k) // s + 1
               for n, k, s in zip(spatial, pool, steps)]
        args = [self.tuple_text(pool)]
        if stride:
            args.append(f"stride={self.tuple_text(stride)}")
        if padding == "same" or self.coin():
            args.append(f"padding={padding}")
        return (f"{kind}_pool{rank}d({', '.join(args)})", tuple(_derived(v) for v in out) + shape[-1:], 0)

    def global_pool(self, shape, keep=False, depth=0):
        kind = self.pick(("avg", "max"))
        if self.coin():
            return (f"global_{kind}_pool(keepdims=true)",
                    tuple(Ext(1, "1") for _ in shape[:-1]) + shape[-1:], 0)
        name = self.pick((f"global_{kind}_pool", f"global_{kind}_pool{len(shape) - 1}d"))
        return name, shape[-1:], 0

    def adaptive(self, shape, keep=False, depth=0):
        rank = len(shape) - 1
        sizes = [self.size(1, 3) for _ in range(rank)]
        kind = self.pick(("avg", "max"))
        text = ", ".join(s.expr for s in sizes)
        if rank > 1 or self.coin():
            text = f"({text}{',' if rank == 1 else ''})"
        return f"adaptive_{kind}_pool{rank}d({text})", tuple(sizes) + shape[-1:], 0

    def zero_padding(self, shape, keep=False, depth=0):
        spatial = shape[:-1]
        rank = len(spatial)
        if self.coin():
            return f"zero_padding{rank}d", tuple(_add(n, Ext(2, "2")) for n in spatial) + shape[-1:], 0
        pairs = [(self.integer(0, 2), self.integer(0, 2)) for _ in spatial]
        text = "(" + ", ".join(f"({a}, {b})" for a, b in pairs) + ")"
        if rank == 1:
            text = f"({pairs[0][0]}, {pairs[0][1]})"
        return (f"zero_padding{rank}d({text})",
                tuple(_add(n, Ext(a + b, str(a + b))) for n, (a, b) in zip(spatial, pairs)) + shape[-1:], 0)

    def cropping(self, shape, keep=False, depth=0):
        spatial = shape[:-1]
        rank = len(spatial)
        pairs = [(self.integer(0, 1), self.integer(0, 1)) for _ in spatial]
        text = "(" + ", ".join(f"({a}, {b})" for a, b in pairs) + ")"
        if rank == 1:
            text = f"({pairs[0][0]}, {pairs[0][1]})"
        out = tuple(_add(n, Ext(-(a + b), f"-{a + b}")) for n, (a, b) in zip(spatial, pairs))
        return f"cropping{rank}d({text})", out + shape[-1:], 0

    def upsampling(self, shape, keep=False, depth=0):
        spatial = shape[:-1]
        rank = len(spatial)
        size = self.integer(1, 2)
        text = f"upsampling{rank}d" if size == 2 and self.coin() else f"upsampling{rank}d({size})"
        return text, tuple(_mul(n, Ext(size, str(size))) for n in spatial) + shape[-1:], 0

    # ---------------------------------------------------------------- structure

    def residual(self, shape, keep=False, depth=0):
        if self.coin() and shape[-1].expr is not None:
            body, _, params = self.closed(shape, shape[-1], depth + 1)
            return f"residual({body})", shape, params
        target = self.size(1, 5)
        body, _, params = self.closed(shape, target, depth + 1)
        shortcut, out, extra = self.closed(shape, target, depth + 1, 0, 1)
        if not shortcut:  # the target was the input's last axis already
            shortcut = "identity"
        name = self.pick(("residual", "Residual", "skip"))
        keyword = self.pick(("shortcut", "projection"))
        return f"{name}({body}, {keyword}={shortcut})", out, params + extra

    def parallel(self, shape, keep=False, depth=0):
        merge = self.pick(("concat", "add", "multiply", "average", "maximum"))
        count = self.integer(2, 3)
        branches, params = [], 0
        if merge == "concat":
            last = None
            for _ in range(count):
                text, out, extra = self.chain(shape, True, depth + 1, 1, 2)
                branches.append(text)
                params += extra
                last = out[-1] if last is None else _add(last, out[-1])
            out = shape[:-1] + (last,)
        else:
            target = shape[-1] if shape[-1].expr is not None and self.coin() else self.size(1, 5)
            for _ in range(count):
                text, out, extra = self.closed(shape, target, depth + 1, 1, 2)
                branches.append(text)
                params += extra
        tail = "" if merge == "concat" and self.coin() else f", merge={merge}"
        return f"parallel({', '.join(branches)}{tail})", out, params

    def moe(self, shape, keep=False, depth=0):
        experts = self.size(1, 4)
        if keep:
            target = self.size(1, 5)
            expert, out, params = self.closed(shape, target, depth + 1, 1, 2)
        else:
            expert, out, params = self.chain(shape, False, depth + 1, 1, 2)
        top_k = f", top_k={self.integer(1, experts.value)}" if self.coin() else ""
        name = self.pick(("moe", "MoE", "mixture_of_experts"))
        router = shape[-1].value * experts.value
        return f"{name}({experts.expr}, {expert}{top_k})", out, experts.value * params + router

    def repeat(self, shape, keep=False, depth=0):
        if shape[-1].expr is None:
            return self.dense(shape, keep, depth)
        times = self.size(0, 3)
        body, _, params = self.closed(shape, shape[-1], depth + 1, 1, 2)
        if re.fullmatch(r"[A-Za-z_]\w*", body):
            # A bare name repeated is not always read as a layer (test_count_before_a_bare_name,
            # test_repetition_of_a_repeated_bare_name): write it as a call.
            body += "()"
        form = self.integer(0, 2)
        if form == 0 or " -> " in body:
            text = f"({body}) * {times.expr}"
        elif form == 1:
            text = f"{body} * {times.expr}"
        else:
            text = f"{times.expr} * {body}"
        return f"({text})", shape, times.value * params

    def definition(self, shape, keep=False, depth=0):
        """`let blkX(pa, ...) = body;` with the sizes drawn inside the body as its
        parameters (some of them), called once here."""
        first = len(self.slots)
        self.in_definition += 1
        try:
            if keep and shape[-1].expr is not None:
                body, out, params = self.closed(shape, shape[-1], depth + 1, 1, 2)
            else:
                body, out, params = self.chain(shape, keep, depth + 1, 1, 2)
        finally:
            self.in_definition -= 1
        inside = sorted({int(k) for k in re.findall(r"§(\d+)§", body) if int(k) >= first})
        chosen = [k for k in inside if self.coin()]
        names = [f"p{_letters(i)}" for i in range(len(chosen))]
        for k, name in zip(chosen, names):
            body = body.replace(f"§{k}§", name)
        name = f"blk{_letters(len(self.definitions))}"
        self.definitions.append(f"let {name}({', '.join(names)}) = {body};")
        if not chosen:
            call = self.pick((name, f"{name}()"))
        elif self.coin():
            call = f"{name}({', '.join(f'§{k}§' for k in chosen)})"
        else:
            call = f"{name}({', '.join(f'{n}=§{k}§' for n, k in reversed(list(zip(names, chosen))))})"
        return call, out, params

    def ellipsis(self, shape, keep=False, depth=0):
        """dense(ea1) -> ... -> dense(eaN) (concrete) or ... -> dense(ea_{la}) (a Σ);
        convolutions with padding=same on images and sequences."""
        index = len(self.ellipses)
        stem = f"e{_letters(index)}"
        values = tuple(self.integer(1, 5) for _ in range(self.integer(2, 4)))
        self.ellipses.append(Ends(stem, values))
        marker = f"«{index}»"
        rank = len(shape) - 1
        params, before = 0, shape[-1].value
        if rank in (1, 2) and self.coin():
            k = self.pick((1, 3))
            first = f"conv{rank}d({stem}1, {k}, padding=same)"
            last = f"conv{rank}d({marker}, {k}, padding=same)"
            for value in values:
                params += k ** rank * before * value + value
                before = value
        else:
            bias = self.coin()
            tail = "" if bias else ", bias=false"
            first, last = f"dense({stem}1{tail})", f"dense({marker}{tail})"
            for value in values:
                params += before * value + (value if bias else 0)
                before = value
        arrow = self.pick((" -> ... -> ", " ... -> ", " -> … -> "))
        return f"{first}{arrow}{last}", shape[:-1] + (Ext(values[-1], marker),), params

    # ---------------------------------------------------------------- the network

    def network(self):
        kind = self.pick(("vector", "tokens", "tokens", "sequence", "sequence", "image", "volume"))
        if kind == "vector":
            shape = (self.size(1, 8),)
        elif kind == "tokens":
            shape = (self.size(2, 6),)
        elif kind == "sequence":
            shape = (self.size(2, 6), self.size(1, 6))
        elif kind == "image":
            shape = (self.size(3, 7), self.size(3, 7), self.size(1, 4))
        else:
            shape = (self.size(2, 5), self.size(2, 5), self.size(2, 5), self.size(1, 3))
        head = f"in({', '.join(e.expr for e in shape)})"
        if len(shape) > 1 and self.coin():
            moved = (shape[-1],) + shape[:-1]
            head = f"in({', '.join(e.expr for e in moved)}, data_format=channels_first)"
        if kind == "tokens" and self.coin():
            text, shape, total = self.embedding(shape)
            head = f"{head} -> {text}"
        else:
            total = 0
        body, shape, params = self.chain(shape, False, 0, 1, 4)
        return head, body, shape, total + params


def _render(text: str, slots, symbolic_slots: set, ellipses, symbolic: bool) -> str:
    def slot(match):
        k = int(match.group(1))
        return f"q{_letters(k)}" if k in symbolic_slots else str(slots[k])

    def end(match):
        k = int(match.group(1))
        e = ellipses[k]
        return f"{e.stem}_{{l{_letters(k)}}}" if symbolic else f"{e.stem}{len(e.values)}"

    return re.sub(r"«(\d+)»", end, re.sub(r"§(\d+)§", slot, text))


@st.composite
def architectures(draw) -> Arch:
    convention = draw(st.sampled_from(("keras", "torch")))
    gen = Gen(draw, convention)
    head, body, shape, total = gen.network()
    chains = f"{head} -> {body}"
    if len(shape) == 2 and draw(st.integers(0, 3)) == 0:  # a second input reading this one
        second, shape, params = gen.cross_attention(shape)
        chains, total = f"{chains} -> identity as mem;\n{second}", total + params
    text = "\n".join([*gen.definitions, chains])
    used = sorted({int(k) for k in re.findall(r"§(\d+)§", text)})
    symbolic_slots = {k for k in used if draw(st.integers(0, 4))}
    concrete = _render(text, gen.slots, set(), gen.ellipses, False)
    symbolic = _render(text, gen.slots, symbolic_slots, gen.ellipses, True)
    concrete_sizes = {f"{e.stem}{i}": v for e in gen.ellipses for i, v in enumerate(e.values, 1)}
    names = {f"q{_letters(k)}": gen.slots[k] for k in symbolic_slots}
    symbolic_sizes = dict(names)
    for k, e in enumerate(gen.ellipses):
        symbolic_sizes[e.stem] = [1, *e.values]  # e_0 is never used: the first layer is alone
        symbolic_sizes[f"l{_letters(k)}"] = len(e.values)
    return Arch(concrete, symbolic, concrete_sizes, symbolic_sizes, names, tuple(gen.ellipses),
                convention, total, tuple(e.value for e in shape))


# ====================================================================== checks

TOTALS = ("weights", "biases", "non_trainable", "params")


def _parse(arch: Arch, symbolic: bool):
    if symbolic:
        return symparam.parse(arch.symbolic, convention=arch.convention)
    return symparam.parse(arch.concrete, convention=arch.convention, **arch.concrete_sizes)


def _at_sizes(expr, network, arch: Arch | None):
    """`expr` with every size of the symbolic rendering substituted: each ellipsis's
    upper end first (and the Σ done), then its entries, then the plain names."""
    if arch is None or isinstance(expr, int):
        return expr
    symbols = network.symbols
    expr = sympy.sympify(expr)
    uppers = {symbols[f"l{_letters(k)}"]: len(e.values)
              for k, e in enumerate(arch.ellipses) if f"l{_letters(k)}" in symbols}
    if uppers:
        expr = expr.subs(uppers).doit()
    entries = {symbols[e.stem][i]: v for e in arch.ellipses if e.stem in symbols
               for i, v in enumerate(e.values, 1)}
    plain = {symbols[name]: v for name, v in arch.names.items() if name in symbols}
    return expr.subs(entries).subs(plain)


def _equal(a, b, network=None, arch: Arch | None = None) -> bool:
    """a == b: exactly when they are numbers, as expressions (expanded) when symbolic,
    or failing that at the architecture's sizes."""
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    difference = sympy.sympify(a) - sympy.sympify(b)
    if difference == 0 or sympy.expand(difference) == 0:
        return True
    return arch is not None and _at_sizes(difference, network, arch) == 0


def _same_shape(a, b, network=None, arch=None) -> bool:
    return len(a) == len(b) and all(_equal(x, y, network, arch) for x, y in zip(a, b))


def check_group_totals(network, arch=None) -> None:
    for node, _ in network.tree.walk():
        # a group's params is folded on its own (L·(12d² + 13d)): it must still be w + b + n
        assert _equal(node.params, node.weights + node.biases + node.non_trainable, network, arch)
        assert _equal(node.trainable, node.weights + node.biases, network, arch)
        if not isinstance(node, Group):
            continue
        if node.kind == "sum":
            check_sum(node)
            continue
        times = 1 if node.times is None else node.times
        for attribute in TOTALS:
            children = sum((getattr(child, attribute) for child in node.children), 0)
            expected = times * children + getattr(node.own, attribute)
            assert _equal(getattr(node, attribute), expected, network, arch), (
                f"{node.kind} {node.source!r}: {attribute} {getattr(node, attribute)} "
                f"!= {times} × {children} + own"
            )
        assert node.own.params == 0 or node.kind in ("moe", "spectral_norm"), node
        if node.kind == "moe":
            assert _equal(node.own.params, node.input_shape[-1] * node.times), node.own


def check_sum(node: Group) -> None:
    """A Σ's totals are the sum of its one child over the index range: checked at
    several upper ends (the first an empty range), the Σ done by SymPy, the sum by hand."""
    s = node.summation
    assert len(node.children) == 1 and s is not None
    (child,) = node.children
    assert s.lower in (0, 1, 2), s  # an ellipsis from its first or second layer; a repetition from 0
    upper = sympy.sympify(s.upper)
    # The upper end is a name (l), a count less one (n - 1), or a number: each checked at
    # several values of the name, or at its own.
    (name,) = upper.free_symbols or {None}
    for value in range(int(s.lower) - 1, int(s.lower) + 3) if name is not None else (None,):
        at = {} if name is None else {name: value - (upper - name)}  # upper is name + a number
        last = int(upper.subs(at))
        for attribute in TOTALS:
            total, step = sympy.sympify(getattr(node, attribute)), sympy.sympify(getattr(child, attribute))
            summed = total.subs(at).doit()
            by_hand = sum((step.subs(at).subs(s.index, k) for k in range(int(s.lower), last + 1)),
                          sympy.Integer(0))
            assert sympy.expand(summed - by_hand) == 0, (node.source, attribute, last, summed, by_hand)
    # the step's count is the child's
    assert sympy.expand(sympy.sympify(s.step.params) - child.params) == 0


def check_rows_add_up(network, arch=None) -> None:
    rows = network.layers
    for attribute in ("weights", "biases", "non_trainable", "params", "trainable"):
        added = sum((getattr(row, attribute) for row in rows), 0)
        total = getattr(network, "total" if attribute == "params" else attribute)
        assert _equal(added, total, network, arch), (attribute, added)
    for depth in (0, 1, 5):
        summary = network.summary(depth)
        assert _equal(summary.total, network.total)
        counted = [row for row in summary.rows if not row.header]
        for attribute in ("params", "trainable", "non_trainable"):
            added = sum((getattr(row, attribute) for row in counted), 0)
            assert _equal(added, getattr(network, attribute if attribute != "params" else "total"),
                          network, arch), (depth, attribute, added, str(summary))
    # one flat row per layer outside a Σ (the input left out), per Σ, per router
    expected = 0
    for node, _ in _walk_outside_sums(network.tree):
        if isinstance(node, Layer):
            expected += node.kind != "input"
        elif node.kind == "sum" or node.own.params != 0:
            expected += 1
    assert len(rows) == expected


def _walk_outside_sums(node, depth=0):
    yield node, depth
    if isinstance(node, Group) and node.kind == "sum":
        return
    for child in node.children:
        yield from _walk_outside_sums(child, depth + 1)


def _keyword(source: str, name: str) -> str | None:
    """The value of keyword `name` among the top-level arguments of a call as written."""
    depth, start = 0, source.index("(") + 1
    arguments, current = [], start
    for position, char in enumerate(source[start:], start):
        if char in "([":
            depth += 1
        elif char in ")]":
            if depth == 0:
                arguments.append(source[current:position])
                break
            depth -= 1
        elif char == "," and depth == 0:
            arguments.append(source[current:position])
            current = position + 1
    for argument in arguments:
        key, _, value = argument.strip().partition("=")
        if value and key.strip() == name:
            return value.strip()
    return None


def _sum_input(node: Group):
    """The input of the first layer a Σ counts: its step's input at the lower end."""
    s = node.summation
    return tuple(sympy.sympify(e).subs(s.index, s.lower) for e in s.step_input)


def check_shapes(network, arch=None) -> None:
    root = network.tree
    assert root.kind == "network"
    # Several chains are a group each, from its own input; one chain is the root's.
    several = isinstance(root.children[0], Group) and root.children[0].kind == "chain"
    chains = root.children if several else (root,)
    assert all(chain.kind == "chain" for chain in chains) if several else True
    for chain in chains:
        head = chain.children[0]
        assert isinstance(head, Layer) and head.kind == "input" and head.input_shape == ()
        assert _same_shape(head.output_shape, chain.input_shape)
    assert _same_shape(chains[0].input_shape, root.input_shape)
    assert _same_shape(chains[-1].output_shape, root.output_shape)
    assert _same_shape(root.input_shape, network.input_shape)
    assert _same_shape(root.output_shape, network.output_shape)
    for node, depth in root.walk():
        for child, child_depth in node.walk(depth):
            assert child_depth >= depth
        if not isinstance(node, Group):
            continue
        children = node.children
        if node.kind == "sum":
            s = node.summation
            (child,) = children
            assert _same_shape(child.input_shape, s.step_input)
            assert _same_shape(child.output_shape, s.step_output)
            at_upper = tuple(sympy.sympify(e).subs(s.index, s.upper) for e in s.step_output)
            assert _same_shape(node.output_shape, at_upper)
            assert _same_shape(node.input_shape, _sum_input(node))  # its first summed layer's
            continue
        if node.kind == "network" and several:
            continue  # its chains are checked one by one
        if node.kind in ("network", "chain"):
            current, children = children[0].output_shape, children[1:]
        elif node.kind in ("time_distributed", "recurrent"):  # its chain is fed one step
            current = tuple(node.input_shape[1:])
        else:
            current = node.input_shape
        branches = node.kind in ("residual", "parallel")
        for child in children:
            given = child.input_shape
            if _same_shape(given, current, network, arch):
                pass
            elif branches and _same_shape(given, node.input_shape, network, arch):
                pass  # the next branch (or the shortcut), fed the layer's input
            else:
                raise AssertionError(
                    f"in {node.kind} {node.source!r}: {child.source!r} takes {given}, "
                    f"but the stage before gives {current}"
                )
            current = child.output_shape
        if node.kind in ("network", "chain", "repeat", "call", "moe", "residual"):
            assert _same_shape(current, node.output_shape, network, arch), (node.source, current)
        if node.kind == "parallel" and _keyword(node.source, "merge") not in (None, "concat"):
            # an element-wise merge broadcasts: the last branch's output, aligned from the
            # last axis, has the merged extent or 1 there
            assert len(current) <= len(node.output_shape), (node.source, current)
            for extent, merged in zip(reversed(current), reversed(node.output_shape)):
                assert extent == 1 or _same_shape((extent,), (merged,), network, arch), (node.source, current)
        if node.kind == "repeat" and node.times is not None:  # one that changes the shape has none
            assert _same_shape(node.input_shape, node.output_shape)


# ====================================================================== properties

ARCHITECTURES = architectures()
SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(ARCHITECTURES, st.booleans())
def test_group_totals_are_times_children_plus_own(arch, symbolic):
    network = _parse(arch, symbolic)
    check_group_totals(network, arch if symbolic else None)


@SETTINGS
@given(ARCHITECTURES, st.booleans())
def test_rows_and_summary_add_up_to_the_total(arch, symbolic):
    network = _parse(arch, symbolic)
    check_rows_add_up(network, arch if symbolic else None)


@SETTINGS
@given(ARCHITECTURES)
def test_symbolic_evaluated_equals_concrete(arch):
    concrete = _parse(arch, symbolic=False)
    assert concrete.value == arch.total  # the generator's own count
    symbolic = _parse(arch, symbolic=True)
    assert symbolic.evaluate(**arch.symbolic_sizes) == arch.total
    assert _at_sizes(symbolic.total, symbolic, arch) == arch.total
    for attribute in ("weights", "biases", "non_trainable"):
        assert _at_sizes(getattr(symbolic, attribute), symbolic, arch) == getattr(concrete, attribute)


@SETTINGS
@given(ARCHITECTURES, st.booleans())
def test_shapes_chain(arch, symbolic):
    network = _parse(arch, symbolic)
    check_shapes(network, arch if symbolic else None)
    output = tuple(_at_sizes(e, network, arch if symbolic else None) for e in network.output_shape)
    assert output == arch.output_shape


# ====================================================================== examples

d, L = sympy.symbols("d L", integer=True, positive=True)


def _outline(network) -> list[tuple[int, str, str]]:
    """(depth, Layer or Group, kind) for every node, depth first."""
    return [(depth, type(node).__name__, node.kind) for node, depth in network.tree.walk()]


def test_repeated_block():
    network = symparam.parse("in(d) -> (dense(4*d) -> gelu -> dense(d)) * L")
    root = network.tree
    assert root.kind == "network" and root.times is None
    head, repeat = root.children
    assert isinstance(head, Layer) and head.kind == "input" and head.output_shape == (d,)
    assert isinstance(repeat, Group) and repeat.kind == "repeat" and repeat.times == L
    assert all(isinstance(child, Layer) for child in repeat.children)
    assert [child.kind for child in repeat.children] == ["dense", "gelu", "dense"]
    assert [child.params for child in repeat.children] == [4 * d**2 + 4 * d, 0, 4 * d**2 + d]
    assert sympy.expand(repeat.params - L * (8 * d**2 + 5 * d)) == 0
    assert sympy.expand(network.total - L * (8 * d**2 + 5 * d)) == 0
    assert [row.repeats for row in network.layers] == [(L,)] * 3
    assert network.evaluate(d=12288, L=96) == 115970015232


def test_gpt2():
    network = symparam.parse((EXAMPLES / "gpt2.sp").read_text())
    sizes = dict(V=50257, T=1024, d=768, L=12, H=12)
    assert network.evaluate(**sizes) == 124_439_808
    assert network.total.subs({network.symbols[k]: v for k, v in sizes.items()
                               if k in network.symbols}) == 124_439_808
    assert _outline(network) == [
        (0, "Group", "network"),
        (1, "Layer", "input"),
        (1, "Group", "parallel"),
        (2, "Layer", "embedding"), (2, "Layer", "embedding"),
        (1, "Group", "repeat"),
        (2, "Group", "call"),
        (3, "Group", "residual"), (4, "Layer", "layer_norm"), (4, "Layer", "attention"),
        (3, "Group", "residual"), (4, "Layer", "layer_norm"), (4, "Layer", "dense"),
        (4, "Layer", "gelu"), (4, "Layer", "dense"),
        (1, "Layer", "layer_norm"),
        (1, "Layer", "dense"),
    ]
    head = network.tree.children[-1]
    assert head.source == "dense(V, bias=false, tie=wte)"
    assert head.weights == 0 and head.biases == 0  # shared with wte, counted there
    repeat = network.tree.children[2]
    d_, L_ = network.symbols["d"], network.symbols["L"]
    assert repeat.times == L_
    assert sympy.expand(repeat.children[0].params - (12 * d_**2 + 13 * d_)) == 0
    concrete = symparam.parse((EXAMPLES / "gpt2.sp").read_text(), **sizes)
    assert concrete.value == 124_439_808 and concrete.tree.params == 124_439_808
    for net in (network, concrete):
        check_group_totals(net)
        check_rows_add_up(net)
        check_shapes(net)


def test_zero_repetitions():
    network = symparam.parse("in(4) -> dense(4) * n -> dense(2)", n=0)
    repeat = network.tree.children[1]
    assert repeat.kind == "repeat" and repeat.times == 0
    assert repeat.children[0].params == 20 and repeat.params == 0
    assert network.value == 10
    assert [(row.params, row.repeats) for row in network.layers] == [(0, (0,)), (10, ())]
    assert symparam.parse("in(4) -> dense(4) * n -> dense(2)").evaluate(n=0) == 10


def test_mixture_of_experts():
    network = symparam.parse("in(d) -> moe(8, dense(4*d) -> dense(d))")
    (moe,) = network.tree.children[1:]
    assert isinstance(moe, Group) and moe.kind == "moe" and moe.times == 8
    assert moe.own.params == 8 * d and moe.own.weights == 8 * d and moe.own.biases == 0
    assert sympy.expand(moe.params - (8 * (8 * d**2 + 5 * d) + 8 * d)) == 0
    assert [child.kind for child in moe.children] == ["dense", "dense"]
    # the router is a row of its own; the experts' rows are multiplied by 8
    assert [(row.kind, row.repeats) for row in network.layers] == [
        ("moe", ()), ("dense", (8,)), ("dense", (8,))]
    assert network.layers[0].params == 8 * d
    check_group_totals(network)
    check_rows_add_up(network)


def test_symbolic_ellipsis_is_one_sum():
    network = symparam.parse("in(h0) -> dense(h1) -> ... -> dense(hl)")
    groups = [node for node, _ in network.tree.walk() if isinstance(node, Group)]
    assert [group.kind for group in groups] == ["network", "sum"]
    (head, total) = network.tree.children
    assert head.kind == "input"
    s = total.summation
    h, l = network.symbols["h"], network.symbols["l"]
    assert (str(s.index), s.lower, s.upper, s.kind) == ("i", 1, l, "dense")
    (step,) = total.children
    assert isinstance(step, Layer) and step.kind == "dense"
    assert step.input_shape == (h[s.index - 1],) and step.output_shape == (h[s.index],)
    assert total.input_shape == (h[0],) and total.output_shape == (h[l],)
    assert total.params == sympy.Sum(h[s.index - 1] * h[s.index], (s.index, 1, l)) + sympy.Sum(
        h[s.index], (s.index, 1, l))
    assert len(network.layers) == 1 and network.layers[0].summation == s
    assert network.evaluate(h=[784, 16, 16, 10]) == 13002
    check_group_totals(network)
    check_rows_add_up(network)
    check_shapes(network)


# (expression, sizes, convention, outline of the tree, total)
TREES = [
    pytest.param(
        "in(4) -> dense(4) * 0 -> dense(2)", {}, "keras",
        [(0, "Group", "network"), (1, "Layer", "input"), (1, "Group", "repeat"), (2, "Layer", "dense"),
         (1, "Layer", "dense")],
        10, id="zero-repetitions"),
    pytest.param(
        "in(4) -> residual(dense(8) -> dense(2), shortcut=dense(2))", {}, "keras",
        [(0, "Group", "network"), (1, "Layer", "input"), (1, "Group", "residual"),
         (2, "Layer", "dense"), (2, "Layer", "dense"), (2, "Layer", "dense")],
        40 + 18 + 10, id="residual-shortcut"),
    pytest.param(
        "in(4) -> residual(dense(8) -> relu -> dense(4))", {}, "keras",
        [(0, "Group", "network"), (1, "Layer", "input"), (1, "Group", "residual"),
         (2, "Layer", "dense"), (2, "Layer", "relu"), (2, "Layer", "dense")],
        40 + 36, id="residual"),
    pytest.param(
        "in(2) -> parallel(dense(3), dense(5) -> relu)", {}, "keras",
        [(0, "Group", "network"), (1, "Layer", "input"), (1, "Group", "parallel"),
         (2, "Layer", "dense"), (2, "Group", "branch"), (3, "Layer", "dense"), (3, "Layer", "relu")],
        9 + 15, id="parallel-concat"),  # a branch of several layers is a group of its own
    pytest.param(
        "in(2) -> parallel(dense(3), dense(3), merge=add) -> dense(1)", {}, "keras",
        [(0, "Group", "network"), (1, "Layer", "input"), (1, "Group", "parallel"),
         (2, "Layer", "dense"), (2, "Layer", "dense"), (1, "Layer", "dense")],
        9 + 9 + 4, id="parallel-add"),
    pytest.param(
        "let ffn(d, f) = dense(f) -> relu -> dense(d); in(6) -> ffn(6, 24) * 2 -> ffn(f=1, d=3)",
        {}, "keras",
        [(0, "Group", "network"), (1, "Layer", "input"), (1, "Group", "repeat"), (2, "Group", "call"),
         (3, "Layer", "dense"), (3, "Layer", "relu"), (3, "Layer", "dense"),
         (1, "Group", "call"), (2, "Layer", "dense"), (2, "Layer", "relu"), (2, "Layer", "dense")],
        2 * (6 * 24 + 24 + 24 * 6 + 6) + (6 + 1 + 3 + 3), id="let"),
    pytest.param(
        "in(5) -> embedding(9, 4) as wte -> dense(9, bias=false, tie=wte)", {}, "keras",
        [(0, "Group", "network"), (1, "Layer", "input"), (1, "Layer", "embedding"), (1, "Layer", "dense")],
        36, id="tie"),
    pytest.param(
        "in(x) -> dense(h1) -> ... -> dense(h4)", {"x": 2, "h": [1, 3, 4, 5, 6]}, "keras",
        [(0, "Group", "network"), (1, "Layer", "input")] + [(1, "Layer", "dense")] * 4,
        9 + 16 + 25 + 36, id="ellipsis-concrete"),
    pytest.param(
        "in(x) -> dense(h1) -> ... -> dense(hl) -> dense(y)", {}, "keras",
        [(0, "Group", "network"), (1, "Layer", "input"), (1, "Layer", "dense"), (1, "Group", "sum"),
         (2, "Layer", "dense"), (1, "Layer", "dense")],
        None, id="ellipsis-symbolic-first-alone"),
    pytest.param(
        "in(8, 8, 3) -> conv2d(4, 3) -> batch_norm -> max_pool2d -> flatten -> dense(2)", {},
        "keras",
        [(0, "Group", "network"), (1, "Layer", "input"), (1, "Layer", "conv2d"),
         (1, "Layer", "batch_norm"), (1, "Layer", "max_pool2d"), (1, "Layer", "flatten"),
         (1, "Layer", "dense")],
        112 + 16 + 36 * 2 + 2, id="cnn-keras-non-trainable"),
    pytest.param(
        "in(d) -> moe(E, dense(f) -> dense(d)) * L", {"d": 3, "E": 2, "f": 5, "L": 2}, "torch",
        [(0, "Group", "network"), (1, "Layer", "input"), (1, "Group", "repeat"), (2, "Group", "moe"),
         (3, "Layer", "dense"), (3, "Layer", "dense")],
        2 * (2 * 3 + 2 * (20 + 18)), id="moe-repeated"),
]


@pytest.mark.parametrize("text, sizes, convention, outline, total", TREES)
def test_tree_examples(text, sizes, convention, outline, total):
    network = symparam.parse(text, convention=convention, **sizes)
    assert _outline(network) == outline
    if total is not None:
        assert network.value == total
    check_group_totals(network)
    check_rows_add_up(network)
    check_shapes(network)


@pytest.mark.parametrize("convention", ["keras", "torch"])
@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.sp")), ids=lambda path: path.stem)
def test_model_zoo_trees(path, convention):
    network = symparam.parse(path.read_text(), convention=convention)
    check_group_totals(network)
    check_rows_add_up(network)
    check_shapes(network)


def test_sum_input_shape_after_a_first_layer_counted_alone():
    """The stage before does not fit the pattern: the first layer is counted alone and
    the Σ, from index 2, takes its output (it took the ellipsis's input before d5c0069)."""
    network = symparam.parse("in(x) -> dense(h1) -> ... -> dense(hl) -> dense(y)")
    h = network.symbols["h"]
    _, first, total, last = network.tree.children
    assert first.output_shape == (h[1],) and total.kind == "sum" and total.summation.lower == 2
    assert total.input_shape == first.output_shape
    assert total.output_shape == last.input_shape == (h[network.symbols["l"]],)
    check_shapes(network)


# ====================================================================== counts before bare names


@pytest.mark.parametrize("text, sizes, expected", [
    ("in(4) -> 2 * layer_norm", {}, 16),
    ("in(4) -> L * layer_norm", {"L": 3}, 24),
    ("let b() = dense(4); in(4) -> 2 * b", {}, 40),
], ids=["number-first", "name-first", "definition"])
def test_count_before_a_bare_name(text, sizes, expected):
    # the same stages with the count after them are counted
    flipped = re.sub(r"(\w+) \* (\w+)$", r"\2 * \1", text)
    assert symparam.parse(flipped).evaluate(**sizes) == expected
    assert symparam.parse(text).evaluate(**sizes) == expected


def test_repetition_of_a_repeated_bare_name():
    assert symparam.count("in(4) -> (layer_norm() * 2) * 3") == 48
    assert symparam.count("in(4) -> (layer_norm * 2) * 3") == 48
