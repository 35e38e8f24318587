"""Sequence layers: embeddings, recurrent layers and attention. Inputs are (T, features)."""

from __future__ import annotations

from ..algebra import is_number
from ..values import shape_text as format_shape
from .base import (
    ByConvention, Choice, Context, Count, Flag, Index, LORA, Output, Projections, Real, Size, Word,
    keras_lora, layer,
    lora_adapters, written,
)


@layer(
    "embedding",
    aliases=("Embedding",),
    params=(
        Size("vocab", aliases=("input_dim", "num_embeddings"), describe="the vocabulary size"),
        Size("dim", aliases=("output_dim", "embedding_dim"), describe="the embedding size"),
        Word("tie", None, keyword_only=True),
    ),
)
def embedding(call, shape):
    """A vocab × dim table: token ids (T) -> vectors (T, dim)."""
    vocab, dim = call["vocab"], call["dim"]
    weights = 0 if call["tie"] else vocab * dim
    count = Count(
        weights=weights,
        factors=(("tokens", vocab), ("dimensions", dim)) if weights != 0 else (),
        note=f"shared with {call['tie']}, counted there" if weights == 0 else "",
        matrix=(vocab, dim),
        tie=call["tie"],
    )
    return Output(tuple(shape) + (dim,), count)


@layer(
    "embedding_bag",
    aliases=("EmbeddingBag",),
    params=(
        Size("vocab", aliases=("num_embeddings",), describe="the vocabulary size"),
        Size("dim", aliases=("embedding_dim",), describe="the embedding size"),
        Choice("mode", "mean", choices=("mean", "sum", "max")),
    ),
)
def embedding_bag(call, shape):
    """PyTorch's EmbeddingBag: a vocab × dim table whose vectors for a bag of token ids
    (T) are summed, averaged or maxed into one: (T) -> (dim)."""
    vocab, dim = call["vocab"], call["dim"]
    count = Count(weights=vocab * dim, factors=(("tokens", vocab), ("dimensions", dim)))
    return Output((dim,), count)


@layer("select", aliases=("take",), params=(Index("index", 0, aliases=("position",)),))
def select(call, shape):
    """One position of the first axis, e.g. BERT's [CLS] token: (T, d) -> (d)."""
    if len(shape) < 2:
        raise call.error(f"needs an input with a sequence axis, got {format_shape(shape)}")
    index = call["index"]
    if is_number(index) and is_number(shape[0]) and index >= shape[0]:
        raise call.error(f"index {index} is past the {shape[0]} positions")
    return Output(tuple(shape[1:]))


# ------------------------------------------------------------------ recurrent layers

GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3}


def _recurrent_params(name: str):
    params = [
        Size("units", aliases=("hidden_size",), describe="the number of units"),
        Flag("bias", True, aliases=("use_bias",)),
        Flag("bidirectional", False),
        # Keras' Bidirectional(merge_mode=...): the two directions' outputs joined or added
        Choice("merge", "concat", choices=("concat", "sum", "mul", "ave"), aliases=("merge_mode",),
               keyword_only=True),
        Size("layers", 1, aliases=("num_layers",)),
        # Keras returns the last output unless asked; PyTorch always returns them all.
        Flag("return_sequences", ByConvention(keras=False, torch=True)),
        Real("dropout", None),
    ]
    if name == "lstm":
        params.append(Size("proj", None, aliases=("proj_size",)))
    if name == "gru":
        params.append(Flag("reset_after", True))
    return tuple(params)


def _layer_count(call, gates: int, inputs, units, proj):
    """One direction of one layer: (weights, biases)."""
    recurrent = proj if proj is not None else units
    weights = gates * units * (inputs + recurrent)
    if proj is not None:
        weights = weights + proj * units  # PyTorch's projection W_hr
    if not call["bias"]:
        return weights, 0
    if call.convention == "torch":
        return weights, 2 * gates * units  # b_ih and b_hh
    reset_after = call.values.get("reset_after", False)
    return weights, (2 if reset_after else 1) * gates * units


def _recurrent(name: str):
    gates = GATES[name]

    def apply(call, shape):
        """Keras: SimpleRNN u(i+u+1), LSTM 4u(i+u+1), GRU 3u(i+u+2) (reset_after).
        PyTorch: gates·(h·i + h·h + 2h); stacked layers take h·directions inputs."""
        if len(shape) != 2:
            raise call.error(f"needs an input (time steps, features), got {format_shape(shape)}")
        steps, inputs = shape
        units, proj = call["units"], call.values.get("proj")
        if proj is not None and call.convention == "keras":
            raise call.error("proj (PyTorch's proj_size) needs --convention torch")
        if call.convention == "torch" and call.values.get("reset_after") is False:
            raise call.error("PyTorch's GRU always resets after: reset_after=false is Keras only")
        if proj is not None and is_number(proj) and is_number(units) and proj >= units:
            raise call.error(f"proj={proj} must be smaller than units={units}")
        directions = 2 if call["bidirectional"] else 1
        outputs = proj if proj is not None else units
        merged = _merge(call)
        features = directions * outputs if merged == "concat" else outputs
        # The first layer reads the input; each stacked one after it reads the one
        # before (its `features`): all of those count alike, so `layers` may be any
        # size, even a name.
        first = _layer_count(call, gates, inputs, units, proj)
        stacked = _layer_count(call, gates, features, units, proj)
        more = call["layers"] - 1
        weights = directions * (first[0] + more * stacked[0])
        biases = directions * (first[1] + more * stacked[1])
        out = (steps, features) if call["return_sequences"] else (features,)
        note = f"{gates} gate{'s' if gates > 1 else ''} × {units} units"
        return Output(out, Count(weights=weights, biases=biases, note=note))

    return apply


def _merge(call) -> str:
    """How the two directions' outputs are joined; only Keras adds, multiplies or
    averages them (PyTorch concatenates)."""
    merge, where = call["merge"], written(call, "merge")
    if where is not None and not call["bidirectional"]:
        raise call.error_at("merge joins the two directions: it needs bidirectional=true", where)
    if merge != "concat" and call.convention == "torch":
        raise call.error_at("PyTorch concatenates the two directions: merge=concat only", where)
    return merge


for _name, _aliases in (
    ("simple_rnn", ("SimpleRNN", "RNN")),
    ("lstm", ("LSTM",)),
    ("gru", ("GRU",)),
):
    layer(_name, aliases=_aliases, params=_recurrent_params(_name))(_recurrent(_name))


# One step of a recurrent layer, as its own layer: (features) -> (units).
CELLS = {
    "simple_rnn_cell": ("simple_rnn", ("SimpleRNNCell", "RNNCell")),
    "lstm_cell": ("lstm", ("LSTMCell",)),
    "gru_cell": ("gru", ("GRUCell",)),
}


def _cell_params(name: str):
    params = [
        Size("units", aliases=("hidden_size",), describe="the number of units"),
        Flag("bias", True, aliases=("use_bias",)),
    ]
    if name == "gru":
        params.append(Flag("reset_after", True))
    return tuple(params)


def _cell(name: str):
    gates = GATES[name]

    def apply(call, shape):
        """One step of the recurrent layer on one vector of features: its count as the
        layer's (Keras' SimpleRNNCell, LSTMCell, GRUCell; PyTorch's RNNCell, LSTMCell,
        GRUCell, whose two bias vectors per gate count as the layers' do)."""
        if len(shape) != 1:
            raise call.error(f"needs one vector of features per step, got {format_shape(shape)}")
        if call.convention == "torch" and call.values.get("reset_after") is False:
            raise call.error("PyTorch's GRUCell always resets after: reset_after=false is Keras only")
        weights, biases = _layer_count(call, gates, shape[0], call["units"], None)
        note = f"{gates} gate{'s' if gates > 1 else ''} × {call['units']} units"
        return Output((call["units"],), Count(weights=weights, biases=biases, note=note))

    return apply


for _name, (_layer, _aliases) in CELLS.items():
    layer(_name, aliases=_aliases, params=_cell_params(_layer))(_cell(_layer))


# ------------------------------------------------------------------ attention without projections


def _context_width(call, shape):
    """The width of the values the queries attend to: the stage named with context=, or
    the input itself; it must be the queries' width."""
    if len(shape) < 2:
        raise call.error(f"needs an input (time steps, features), got {format_shape(shape)}")
    context = call["context"]
    if context is not None and not call.same_shape(context[-1:], shape[-1:]):
        raise call.error(f"its values must be as wide as its queries: {format_shape(context)} "
                         f"against {format_shape(shape)}")


@layer(
    "dot_attention",
    aliases=("Attention",),
    params=(  # keyword-only: `Attention(8)` is most likely meant as multi-head attention
        Flag("use_scale", False, keyword_only=True),
        Choice("score_mode", "dot", choices=("dot", "concat"), keyword_only=True),
        Context("context", None, keyword_only=True, aliases=("value",)),
    ),
    hint="for multi-head attention, write attention(heads), Keras' MultiHeadAttention",
)
def dot_attention(call, shape):
    """Keras' Attention: dot-product attention without projections, of the input (the
    queries) over the stage named with context= (or itself). A learned scalar scale with
    use_scale=true, and one more with score_mode=concat."""
    _context_width(call, shape)
    scalars = (1 if call["use_scale"] else 0) + (1 if call["score_mode"] == "concat" else 0)
    return Output(shape, Count(weights=scalars, note="learned scalars of the scores" if scalars else ""))


@layer(
    "additive_attention",
    aliases=("AdditiveAttention",),
    params=(Flag("use_scale", True, keyword_only=True),
            Context("context", None, keyword_only=True, aliases=("value",))),
)
def additive_attention(call, shape):
    """Keras' AdditiveAttention (Bahdanau-style) without projections: a learned scale per
    feature with use_scale=true (the default), d parameters."""
    _context_width(call, shape)
    return Output(shape, Count(weights=shape[-1] if call["use_scale"] else 0,
                               note="a scale per feature" if call["use_scale"] else ""))


# ------------------------------------------------------------------ attention


PROJECTIONS = ("q", "k", "v", "o")


@layer(
    "attention",
    aliases=("MultiHeadAttention", "MultiheadAttention", "multi_head_attention"),
    params=(
        Size("heads", aliases=("num_heads",), describe="the number of heads"),
        Size("key_dim", None, aliases=("head_dim",)),
        Size("value_dim", None),
        Size("out", None, aliases=("output_dim",)),
        Size("kv_heads", None, aliases=("num_kv_heads", "num_key_value_heads")),
        Projections("bias", PROJECTIONS, aliases=("use_bias",), choices=PROJECTIONS),
        Real("dropout", None),
        Flag("bias_kv", False, aliases=("add_bias_kv",), keyword_only=True),
        Flag("gate", False, aliases=("use_gate",), keyword_only=True),
        Choice("qk_norm", "none", choices=("none", "rms", "layer"), keyword_only=True),
        Choice("qk_norm_scope", "head", choices=("head", "projection"), keyword_only=True),
        Flag("qk_norm_bias", True, keyword_only=True),
        LORA,
        Projections("lora_targets", ("q", "v"), choices=PROJECTIONS, keyword_only=True,
                    aliases=("target_modules",)),
        Context("context", None, keyword_only=True, aliases=("memory",)),
        Context("values", None, keyword_only=True, aliases=("value",)),
    ),
)
def attention(call, shape):
    """Self-attention over (T, D): query, key, value and output projections.
    Defaults as Keras MultiHeadAttention and PyTorch nn.MultiheadAttention: 4D² + 4D.
    context=NAME makes it cross-attention: keys and values read the stage named NAME
    (an encoder's output, (S, D')), whose width may differ from the queries'.
    bias=(q, k, v) puts biases on some projections only (Qwen2); qk_norm= norms queries
    and keys (Qwen3, OLMo-2); lora=r adapts the projections in lora_targets (PEFT);
    bias_kv=true is PyTorch's add_bias_kv, a learned key and value of one position;
    gate=true gates each head's output (Keras' use_gate, Qwen3-Next's gated attention):
    D·H·v more weights, and H·v biases when the queries have them. values=NAME reads
    the values from another stage than the keys (PyTorch's vdim beside kdim, Keras'
    value and key), of the same positions."""
    if len(shape) < 2:
        raise call.error(f"needs an input (time steps, features), got {format_shape(shape)}")
    model = shape[-1]
    context = call["context"]
    if context is not None and len(context) < 2:
        raise call.error(f"needs a context (time steps, features), got {format_shape(context)}")
    memory = context[-1] if context is not None else model  # what keys and values read
    values = call["values"]
    if values is not None:
        keys = context if context is not None else shape
        if len(values) != len(keys) or not call.same_shape(tuple(values[:-1]), tuple(keys[:-1])):
            raise call.error(f"the values {format_shape(values)} must have the keys' positions "
                             f"{format_shape(keys)}")
    value_width = values[-1] if values is not None else memory
    heads, kv_heads = call["heads"], call["kv_heads"] or call["heads"]
    key_dim = call["key_dim"]
    if key_dim is None:
        key_dim = call.exact_divide(
            model, heads, f"heads={heads} does not divide the {model} features; give key_dim"
        )
    value_dim = call["value_dim"] or key_dim
    out = call["out"] or model
    call.check_divides(kv_heads, heads, f"kv_heads={kv_heads} does not divide heads={heads}")
    sizes = {  # each projection's (inputs, outputs)
        "q": (model, heads * key_dim),
        "k": (memory, kv_heads * key_dim),
        "v": (value_width, kv_heads * value_dim),
        "o": (heads * value_dim, out),
    }
    if call["gate"]:  # a sigmoid gate on each head's output, read off the queries' input
        sizes["g"] = (model, heads * value_dim)
    weights = sum((inputs * outputs for inputs, outputs in sizes.values()), 0)
    biases = sum((sizes[name][1] for name in call["bias"]), 0)
    if call["gate"] and "q" in call["bias"]:  # the gate is biased as the queries are
        biases = biases + sizes["g"][1]
    if call["bias_kv"]:  # PyTorch's add_bias_kv: a learned key and value put before the keys
        if call.convention == "keras":
            raise call.error_at("Keras' attention has no bias_kv (PyTorch's add_bias_kv)",
                                written(call, "bias_kv"))
        biases = biases + sizes["k"][1] + sizes["v"][1]
    norm_weights, norm_biases = _qk_norm(call, heads, kv_heads, key_dim)
    adapted = [sizes[name] for name in _lora_targets(call)]
    if call.convention == "keras":
        # Keras' EinsumDense adapts a kernel (inputs, heads, head size) as a matrix of
        # inputs·heads rows: its adapters are r·(inputs·heads + head size), not PEFT's.
        einsum = {"q": (model * heads, key_dim), "k": (memory * kv_heads, key_dim),
                  "v": (value_width * kv_heads, value_dim), "o": (heads * value_dim, out)}
        adapted = [einsum[name] for name in _lora_targets(call)]
    adapters, adapter_note = lora_adapters(call, adapted)
    note = "query, key, value and output projections"
    if norm_weights != 0:
        note += f", and {'an RMS' if call['qk_norm'] == 'rms' else 'a layer'} norm on queries and keys"
    count = Count(weights=weights + norm_weights + adapters, biases=biases + norm_biases, note=note,
                  adapters=adapters, adapter_note=adapter_note)
    return Output(tuple(shape[:-1]) + (out,), keras_lora(call, count, adapted))


def _qk_norm(call, heads, kv_heads, key_dim):
    """(weights, biases) of the norms on queries and keys: one of key_dim shared by the
    heads, or with qk_norm_scope=projection one over each whole projection."""
    kind = call["qk_norm"]
    if kind == "none":
        for name in ("qk_norm_scope", "qk_norm_bias"):
            if written(call, name) is not None:
                raise call.error_at(f"{name} needs qk_norm=rms or qk_norm=layer", written(call, name))
        return 0, 0
    if call["qk_norm_scope"] == "projection":
        size = (heads + kv_heads) * key_dim
    else:
        size = 2 * key_dim
    shift = size if kind == "layer" and call["qk_norm_bias"] else 0
    return size, shift


def _lora_targets(call) -> tuple:
    if call["lora"] is None and written(call, "lora_targets") is not None:
        raise call.error_at("lora_targets needs lora=r, the adapters' rank", written(call, "lora_targets"))
    return call["lora_targets"]


# ------------------------------------------------------------------ spectrograms


@layer(
    "stft_spectrogram",
    aliases=("STFTSpectrogram",),
    params=(
        Choice("mode", "log", choices=("log", "magnitude", "psd", "real", "imag", "angle", "stft")),
        Size("frame_length", 256),
        Size("frame_step", None),
        Size("fft_length", None),
        Choice("padding", "valid", choices=("valid", "same")),
        Flag("expand_dims", False),
    ),
)
def stft_spectrogram(call, shape):
    """Keras' STFTSpectrogram: the short-time Fourier transform as convolutions whose
    kernels are learnable (trainable unless trainable=false): a real and an imaginary
    kernel of frame_length × (fft_length // 2 + 1) (one of them for mode=real or imag),
    shared by the channels. (T, C) -> (frames, C·bins), bins twice as many for
    mode=stft; with expand_dims, (frames, bins, C)."""
    if len(shape) != 2:
        raise call.error(f"reads a signal (time, channels), got {format_shape(shape)}")
    steps, channels = shape
    length = call["frame_length"]
    step = call["frame_step"] if call["frame_step"] is not None else call.algebra.floor_divide(length, 2)
    if is_number(step) and step == 0:
        raise call.error(f"frame_length={length} gives a frame_step of 0 (half the frame); give frame_step")
    if is_number(step) and is_number(length) and step > length:
        raise call.error(f"frame_step={step} is longer than frame_length={length}: frames would skip samples")
    fft = call["fft_length"]
    if fft is None:
        if not is_number(length):
            raise call.error("give fft_length: its default, the power of two from frame_length, needs a number")
        fft = 1 << (int(length) - 1).bit_length()  # the smallest power of two >= frame_length
    if is_number(fft) and is_number(length) and fft < length:
        raise call.error(f"fft_length={fft} is shorter than frame_length={length}")
    bins = call.algebra.floor_divide(fft, 2) + 1
    kernels = 1 if call["mode"] in ("real", "imag") else 2
    if call["padding"] == "valid":
        if is_number(steps) and is_number(length) and steps < length:
            raise call.error(f"frame_length={length} is longer than the {steps} steps of the signal; "
                             "give padding=same or a shorter frame")
        frames = call.algebra.floor_divide(steps - length, step) + 1
    else:
        frames = call.algebra.floor_divide(steps + step - 1, step)
    out_bins = 2 * bins if call["mode"] == "stft" else bins
    out = (frames, out_bins, channels) if call["expand_dims"] else (frames, channels * out_bins)
    count = Count(weights=kernels * length * bins,
                  note=f"{'a real and an imaginary' if kernels == 2 else 'one'} kernel of frame_length × bins")
    return Output(out, count)
