"""What each layer kind computes in a forward pass of one example.

A formula per kind, from the layer's bound arguments and its input and output shapes
(shapes are channels last, without the batch axis), in two parts:

- `macs`: the multiply–accumulates of matrix products and convolutions (dense,
  convolutions, attention's projections and its score and weighted-sum products,
  recurrent gates). FLOPs are twice these; PyTorch's FlopCounterMode, fvcore and
  torchvision's "GFLOPS" count this part only.
- `elementwise`: one operation per element for each elementwise step: a bias added, an
  activation, a norm's normalizing, scaling and shifting, a pooling window's elements,
  a softmax over attention scores, a residual or merge addition. Tools differ on
  whether to count these, so they are kept apart.

Moving data (reshape, flatten, padding, cropping, slicing, dropout at inference, an
embedding's lookup) computes nothing. A layer holding chains (residual, moe, ...) adds
what it does itself in `GROUP_WORK`; how often its chains run is `Group.runs`.
"""

from __future__ import annotations

from collections import namedtuple
from math import prod


class Work(namedtuple("Work", "macs elementwise factors note", defaults=(0, 0, (), ""))):
    """One forward pass's multiply–accumulates and elementwise operations. `factors`
    multiply to `macs` and show the working ((label, value), ...): "400 output
    positions × 27 window inputs × 2 filters"; `note` says how it is made up otherwise."""

    __slots__ = ()

    @property
    def totals(self) -> tuple:
        """(macs, elementwise): what folds over the tree."""
        return self[:2]


NOTHING = Work()
WORK: dict = {}  # kind -> function(layer, algebra) -> Work
GROUP_WORK: dict = {}  # a layer holding chains -> function(group, algebra) -> Work


def work(*kinds):
    def register(function):
        for kind in kinds:
            WORK[kind] = function
        return function

    return register


def group_work(*kinds):
    def register(function):
        for kind in kinds:
            GROUP_WORK[kind] = function
        return function

    return register


def _show(value) -> str:
    from .values import number

    return number(value)


def size(shape) -> int:
    return prod(shape, start=1)


def positions(shape):
    """The positions a layer acting on the last axis repeats over: all but the last."""
    return prod(shape[:-1], start=1)


def _finishing(layer, bias=None, activation=None):
    """A bias added to each output, and an activation of each."""
    arguments = layer.arguments
    bias = arguments.get("bias", False) if bias is None else bias
    activation = arguments.get("activation", "none") if activation is None else activation
    steps = (1 if bias else 0) + (1 if activation not in ("none", "linear") else 0)
    return steps * size(layer.output_shape)


def _lora(layer, matrices, per):
    """PyTorch PEFT's adapters on each (inputs, outputs) matrix: r·(inputs + outputs) per position."""
    rank = layer.arguments.get("lora")
    if rank is None:
        return 0
    return per * sum((rank * (inputs + outputs) for inputs, outputs in matrices), 0)


# ------------------------------------------------------------------ moving data, activations


@work("input", "dropout", "flatten", "reshape", "select", "slice", "embedding", "tokens", "param",
      "identity", "cropping1d", "cropping2d", "cropping3d", "zero_padding1d", "zero_padding2d",
      "zero_padding3d", "upsampling1d", "upsampling2d", "upsampling3d")
def moves_data(layer, algebra):
    return NOTHING


ACTIVATION_KINDS = ("relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish",
                    "sigmoid", "hard_sigmoid", "hard_swish", "tanh", "hard_tanh", "softmax",
                    "log_softmax", "softplus", "softsign", "exponential", "prelu", "scale")


@work(*ACTIVATION_KINDS)
def elementwise(layer, algebra):
    """One operation per element (a scale is a product per element)."""
    return Work(0, size(layer.output_shape))


@work("normalization")
def normalization(layer, algebra):
    """Keras' Normalization: (x − mean) / deviation, two operations per element."""
    return Work(0, 2 * size(layer.output_shape))


# ------------------------------------------------------------------ dense


@work("dense")
def dense(layer, algebra):
    inputs, units = layer.input_shape[-1], layer.arguments["units"]
    per = positions(layer.input_shape)
    adapters = _lora(layer, [(inputs, units)], per)
    factors = ((("positions", per),) if per != 1 else ()) + (("inputs", inputs), ("outputs", units))
    note = "and the LoRA adapters', r × (inputs + outputs) at each position" if adapters != 0 else ""
    return Work(per * inputs * units + adapters, _finishing(layer), () if adapters != 0 else factors, note)


@work("einsum_dense")
def einsum_dense(layer, algebra):
    """As torch.einsum computes it: an axis only one side has and the output lacks is
    summed away first (additions); then one multiply–accumulate per combination of the
    axes left, when some axis is contracted (in both, not in the output). With none
    contracted it is a broadcast product: elementwise."""
    arguments = layer.arguments
    inputs, kernel, outputs = _equation(arguments["equation"])
    extents = dict(zip(inputs[1:], layer.input_shape))
    extents.update(zip(outputs[1:], layer.output_shape))
    read, weights, out = set(inputs[1:]), set(kernel), set(outputs)
    kept = {letter for letter in read if letter in weights or letter in out}
    kept |= {letter for letter in weights if letter in read or letter in out}
    finishing = _finishing(layer, bias=bool(arguments.get("bias_axes")))
    presummed = size(layer.input_shape) if kept & read != read else 0
    if not (read & weights) - out:
        return Work(0, size(layer.output_shape) + presummed + finishing)
    return Work(prod((extents[letter] for letter in sorted(kept)), start=1), presummed + finishing)


def _equation(text: str) -> tuple[str, str, str]:
    left, outputs = text.replace(" ", "").split("->")
    inputs, kernel = left.split(",")
    return inputs, kernel, outputs


@work("bilinear")
def bilinear(layer, algebra):
    """x1·A·x2 for each output, as PyTorch's kernel computes it: x1 times A (in1 × in2
    per unit), then that times x2 (in2 per unit)."""
    arguments = layer.arguments
    other = arguments.get("other") or layer.input_shape
    first, second = layer.input_shape[-1], other[-1]
    per = positions(layer.input_shape)
    return Work(per * arguments["units"] * second * (first + 1), _finishing(layer))


@work("adaptive_log_softmax")
def adaptive_log_softmax(layer, algebra):
    """The head, and each cluster's two projections, for every class's log-probability."""
    arguments = layer.arguments
    features, classes, cutoffs = layer.input_shape[-1], arguments["classes"], arguments["cutoffs"]
    bounds = (*cutoffs, classes)
    total = features * (cutoffs[0] + len(cutoffs))
    for cluster, (low, high) in enumerate(zip(bounds, bounds[1:]), start=1):
        hidden = algebra.floor_divide(features, arguments["div_value"] ** cluster)
        total = total + features * hidden + hidden * (high - low)
    return Work(positions(layer.input_shape) * total, size(layer.output_shape))


# ------------------------------------------------------------------ convolutions


def _spatial_out(layer):
    return positions(layer.output_shape)


@work("conv1d", "conv2d", "conv3d")
def convolution(layer, algebra):
    """Each output position: a kernel's window of the input's channels (per group)."""
    arguments = layer.arguments
    channels = algebra.exact_divide(layer.input_shape[-1], arguments["groups"])
    window = size(arguments["kernel"]) * channels
    macs = _spatial_out(layer) * window * arguments["filters"]
    factors = (("output positions", _spatial_out(layer)), ("window inputs (kernel × channels per group)", window),
               ("filters", arguments["filters"]))
    return Work(macs, _finishing(layer), factors)


@work("conv1d_transpose", "conv2d_transpose", "conv3d_transpose")
def transposed_convolution(layer, algebra):
    """Each input position spreads its channels over a kernel's window of outputs."""
    arguments = layer.arguments
    filters = algebra.exact_divide(arguments["filters"], arguments["groups"])
    spread = size(arguments["kernel"]) * layer.input_shape[-1]
    macs = positions(layer.input_shape) * spread * filters
    factors = (("input positions", positions(layer.input_shape)), ("kernel × channels", spread),
               ("filters per group", filters))
    return Work(macs, _finishing(layer), factors)


@work("depthwise_conv1d", "depthwise_conv2d")
def depthwise_convolution(layer, algebra):
    arguments = layer.arguments
    outputs = layer.input_shape[-1] * arguments["depth_multiplier"]
    macs = _spatial_out(layer) * size(arguments["kernel"]) * outputs
    factors = (("output positions", _spatial_out(layer)), ("kernel", size(arguments["kernel"])),
               ("channels × multiplier", outputs))
    return Work(macs, _finishing(layer), factors)


@work("separable_conv1d", "separable_conv2d")
def separable_convolution(layer, algebra):
    """The depthwise convolution, then a pointwise one from its C·m channels."""
    arguments = layer.arguments
    middle = layer.input_shape[-1] * arguments["depth_multiplier"]
    macs = _spatial_out(layer) * middle * (size(arguments["kernel"]) + arguments["filters"])
    factors = (("output positions", _spatial_out(layer)), ("channels × multiplier", middle),
               ("kernel + filters", size(arguments["kernel"]) + arguments["filters"]))
    return Work(macs, _finishing(layer), factors)


@work("conv_lstm1d", "conv_lstm2d", "conv_lstm3d")
def conv_lstm(layer, algebra):
    """Per step, four gates' convolutions of the input and of the state."""
    arguments = layer.arguments
    steps, channels, filters = layer.input_shape[0], layer.input_shape[-1], arguments["filters"]
    rank = len(layer.input_shape) - 2
    extents = layer.output_shape[-1 - rank:-1]
    per_step = size(extents) * size(arguments["kernel"]) * 4 * filters * (channels + filters)
    updates = steps * size(extents) * filters * _GATE_UPDATES["lstm"]
    return Work(steps * per_step, updates)


# ------------------------------------------------------------------ norms and pooling


@work("batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm")
def norm(layer, algebra):
    """Normalizing each element, then scaling and shifting it when the norm learns to."""
    arguments = layer.arguments
    affine = arguments.get("affine", True)
    scales = affine and arguments.get("scale", True)
    shifts = layer.kind != "rms_norm" and affine and arguments.get("center", arguments.get("bias", True))
    return Work(0, (1 + bool(scales) + bool(shifts)) * size(layer.output_shape))


@work("max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d")
def pooling(layer, algebra):
    """A window's elements for each output."""
    return Work(0, size(layer.output_shape) * size(layer.arguments["pool"]))


@work("adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d", "adaptive_avg_pool1d",
      "adaptive_avg_pool2d", "adaptive_avg_pool3d", "global_avg_pool", "global_max_pool")
def whole_pooling(layer, algebra):
    """Every input element read into one window or another."""
    return Work(0, size(layer.input_shape))


# ------------------------------------------------------------------ sequences


@work("embedding_bag")
def embedding_bag(layer, algebra):
    """Each bag's vectors summed (or averaged, or maxed) into one."""
    return Work(0, layer.input_shape[0] * layer.arguments["dim"])


GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3}
# Per unit and step: each gate's bias and activation, then the state update (an LSTM's
# c = f·c + i·g and h = o·tanh(c); a GRU's reset product and its mix of old and new).
_GATE_UPDATES = {"simple_rnn": 2, "lstm": 4 * 2 + 5, "gru": 3 * 2 + 4}


def _recurrent_step(gates: int, inputs, units, proj=None):
    """MACs of one step of one direction: the gates read the input and the state."""
    state = proj if proj is not None else units
    macs = gates * units * (inputs + state)
    return macs + (proj * units if proj is not None else 0)


@work("simple_rnn", "lstm", "gru")
def recurrent_layer(layer, algebra):
    arguments = layer.arguments
    kind, (steps, inputs) = layer.kind, layer.input_shape
    units, proj = arguments["units"], arguments.get("proj")
    directions = 2 if arguments["bidirectional"] else 1
    outputs = proj if proj is not None else units
    features = directions * outputs if arguments["merge"] == "concat" else outputs
    gates, more = GATES[kind], arguments["layers"] - 1
    per_step = (_recurrent_step(gates, inputs, units, proj)
                + more * _recurrent_step(gates, features, units, proj))
    updates = arguments["layers"] * units * _GATE_UPDATES[kind]
    factors = (("steps", steps), *((("directions", 2),) if directions == 2 else ()), ("per step", per_step))
    return Work(steps * directions * per_step, steps * directions * updates, factors)


@work("simple_rnn_cell", "lstm_cell", "gru_cell")
def recurrent_cell(layer, algebra):
    kind = layer.kind.removesuffix("_cell")
    units = layer.arguments["units"]
    return Work(_recurrent_step(GATES[kind], layer.input_shape[0], units), units * _GATE_UPDATES[kind])


class Heads(namedtuple("Heads", "heads kv_heads key_dim value_dim")):
    """An attention layer's heads, key/value heads and dimensions per head, its
    defaults filled in as the layer counts them (key_dim: the width over the heads)."""

    __slots__ = ()


def attention_heads(layer, algebra) -> Heads:
    arguments = layer.arguments
    heads = arguments["heads"]
    key_dim = arguments["key_dim"] or algebra.exact_divide(layer.input_shape[-1], heads)
    return Heads(heads, arguments["kv_heads"] or heads, key_dim, arguments["value_dim"] or key_dim)


@work("attention")
def attention(layer, algebra):
    """The projections at each position, and per head the T × S scores (query · key) and
    their weighted sum of the values, S the positions attended to."""
    arguments, shape = layer.arguments, layer.input_shape
    model = shape[-1]
    heads, kv_heads, key_dim, value_dim = attention_heads(layer, algebra)
    out = arguments["out"] or model
    keys = arguments["context"] or shape
    values = arguments["values"] or keys
    queries, attended = positions(shape), positions(keys)
    # PyTorch's add_bias_kv: a learned key and value, one more position the scores cover
    scored = attended + 1 if arguments["bias_kv"] else attended
    projections = {
        "q": (queries, model, heads * key_dim),
        "k": (attended, keys[-1], kv_heads * key_dim),
        "v": (attended, values[-1], kv_heads * value_dim),
        "o": (queries, heads * value_dim, out),
    }
    if arguments["gate"]:
        projections["g"] = (queries, model, heads * value_dim)
    macs = sum((n * inputs * outputs for n, inputs, outputs in projections.values()), 0)
    if arguments["lora"] is not None:
        macs = macs + sum((n * arguments["lora"] * (inputs + outputs)
                           for name, (n, inputs, outputs) in projections.items()
                           if name in arguments["lora_targets"]), 0)
    scores = heads * queries * scored
    attending = scores * (key_dim + value_dim)
    biases = sum((projections[name][0] * projections[name][2] for name in arguments["bias"]), 0)
    note = (f"{_show(macs)} in the projections + {_show(heads)} heads × {_show(queries)} × "
            f"{_show(scored)} scores × ({_show(key_dim)} + {_show(value_dim)}) for the scores and "
            "their weighted sums")
    return Work(macs + attending, biases + scores, (), note)


@work("dot_attention")
def dot_attention(layer, algebra):
    """Keras' Attention: scores (query · key) and their weighted sum, no projections."""
    shape = layer.input_shape
    context = layer.arguments["context"] or shape
    scores = positions(shape) * positions(context)
    return Work(2 * scores * shape[-1], scores)


@work("additive_attention")
def additive_attention(layer, algebra):
    """Keras' AdditiveAttention: scale · tanh(query + key) summed over the features (an
    addition and a tanh per element, then a product), and the weighted sum."""
    shape = layer.input_shape
    context = layer.arguments["context"] or shape
    scores = positions(shape) * positions(context)
    return Work(2 * scores * shape[-1], scores * (2 * shape[-1] + 1))


@work("stft_spectrogram")
def stft_spectrogram(layer, algebra):
    """Keras' STFT as a convolution: every frame of every channel times each kernel."""
    frames, channels = layer.output_shape[0], layer.input_shape[1]
    kernels = layer.count.params  # their weights, trainable or not
    return Work(frames * channels * kernels, size(layer.output_shape))


# ------------------------------------------------------------------ layers holding chains


@group_work("residual")
def residual(group, algebra):
    """The addition of the branch and the shortcut."""
    return Work(0, size(group.output_shape))


@group_work("parallel")
def parallel(group, algebra):
    """Branches merged elementwise: one operation per element for each branch after the first."""
    if group.arguments["merge"] == "concat":
        return NOTHING
    branches = len(group.chains()["branches"])
    return Work(0, (branches - 1) * size(group.output_shape))


@group_work("bidirectional")
def bidirectional(group, algebra):
    merge = group.arguments.get("merge", "concat")
    return NOTHING if merge == "concat" else Work(0, size(group.output_shape))


@group_work("moe")
def moe(group, algebra):
    """The router's scores for every expert at each position, their softmax, and the
    chosen experts' outputs weighted and added."""
    arguments, shape = group.arguments, group.input_shape
    experts = arguments["experts"]
    chosen = arguments.get("top_k") or experts
    per = positions(shape)
    return Work(per * shape[-1] * experts, per * experts + chosen * size(group.output_shape))


@group_work("time_distributed", "recurrent", "spectral_norm", "frozen")
def runs_its_chain(group, algebra):
    return NOTHING
