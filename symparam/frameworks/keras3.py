"""Each layer kind as Keras 3 builds it, on its PyTorch backend with the weights on the
meta device (no memory: LLaMA-7B builds in a moment): one builder per kind, from the arguments symparam bound and
the layer's input shape (channels last, no batch axis).

A builder returns a built Keras layer (or a list of them: stacked recurrent layers).
Kinds that hold nothing in Keras (activations, pooling, padding, reshaping) are in
HOLDS_NOTHING (symparam/frameworks/__init__.py).
"""

from __future__ import annotations

import os
# Keras reads its backend when it is first imported: PyTorch's, where weights can be
# made on the meta device (no memory), unless the user chose another.
os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
from keras import layers as L  # noqa: E402

from . import HOLDS_NOTHING, Unsupported, known, plain, registry  # noqa: E402

BUILDERS, builds = registry()


def build(kind: str, arguments: dict, input_shape: tuple):
    """The built Keras layer(s) of one layer (weights on the meta device)."""
    if kind in HOLDS_NOTHING:
        return []
    if kind not in BUILDERS:
        raise Unsupported(f"symparam cannot build {kind} in Keras yet")
    if keras.backend.backend() != "torch":
        raise Unsupported(f"Keras runs on its {keras.backend.backend()} backend here; symparam builds "
                          "on its PyTorch backend (KERAS_BACKEND=torch), whose weights take no memory")
    with keras.device("meta"):  # Keras takes None for a size it need not know
        return BUILDERS[kind](kind, plain(arguments), known(input_shape, names_as_none=True))


def counted(built, tied: bool, frozen: bool) -> tuple[int, int, int]:
    """(all, trained, untrained) weights of the built layer(s) as the row holds them: a
    tied matrix left out (counted where it is named); inside a frozen part, everything
    untrained but the LoRA adapters."""
    variables = [v for layer in (built if isinstance(built, list) else [built]) for v in layer.weights]
    if tied:
        variables = [v for v in variables if v.path.rsplit("/", 1)[-1] not in ("kernel", "embeddings")]
    size = {id(v): _size(v) for v in variables}
    total = sum(size.values())
    if frozen:
        trained = sum(size[id(v)] for v in variables if "lora" in v.path)
    else:
        trained = sum(size[id(v)] for v in variables if v.trainable)
    return total, trained, total - trained


def _size(variable) -> int:
    count = 1
    for extent in variable.shape:
        count *= int(extent)
    return count


def _built(layer, *shapes):
    layer.build(*((None, *shape) for shape in shapes))
    return layer


def _padding(padding) -> str:
    """Keras takes valid, same or causal; zeros written out are a ZeroPadding before."""
    return padding if padding in ("valid", "same", "causal") else "valid"


# ------------------------------------------------------------------ core


@builds("dense")
def dense(kind, args, shape):
    return _built(L.Dense(args["units"], use_bias=args["bias"], lora_rank=args["lora"]), shape)


@builds("prelu")
def prelu(kind, args, shape):
    shared = args["shared_axes"]
    if args["num_parameters"] is not None:  # PyTorch's: 1 shares every axis, C all but the channels
        axes = range(1, len(shape) + (1 if args["num_parameters"] == 1 else 0))
        shared = tuple(axes)
    return _built(L.PReLU(shared_axes=list(shared) if shared else None), shape)


@builds("embedding")
def embedding(kind, args, shape):
    return _built(L.Embedding(args["vocab"], args["dim"]), shape)


class _Weights:
    """Some of a built layer's weights, counted as a layer's are."""

    def __init__(self, *weights):
        self.weights = list(weights)


@builds("spectral_norm")
def spectral_norm(kind, args, shape):
    """The row of SpectralNormalization itself: its vector u (its layer is a row of its own)."""
    inner_kind, inner_args, inner_shape = args["wrapped"]
    inner = BUILDERS[inner_kind](inner_kind, inner_args, known(inner_shape, names_as_none=True))
    wrapper = _built(L.SpectralNormalization(inner), inner_shape)
    return _Weights(wrapper.vector_u)


@builds("stft_spectrogram")
def stft_spectrogram(kind, args, shape):
    # window=None: the window shapes the kernels' values, not their number (and needs SciPy)
    layer = L.STFTSpectrogram(mode=args["mode"], frame_length=args["frame_length"],
                              frame_step=args["frame_step"], fft_length=args["fft_length"],
                              padding=args["padding"], expand_dims=args["expand_dims"], window=None)
    return _built(layer, shape)


@builds("einsum_dense")
def einsum_dense(kind, args, shape):
    layer = L.EinsumDense(args["equation"], output_shape=tuple(args["output_shape"]), bias_axes=args["bias_axes"])
    return _built(layer, shape)


PYTORCH_CLASSES = {"embedding_bag": "EmbeddingBag", "bilinear": "Bilinear",
                   "adaptive_log_softmax": "AdaptiveLogSoftmaxWithLoss"}


@builds(*PYTORCH_CLASSES)
def pytorch_only(kind, args, shape):
    raise Unsupported(f"Keras has no layer for {kind} (PyTorch's {PYTORCH_CLASSES[kind]})")


@builds("normalization")
def normalization(kind, args, shape):
    return _built(L.Normalization(), shape)


# ------------------------------------------------------------------ convolutions


def _suffix(shape) -> str:
    return f"{len(shape) - 1}D"


def _window(args) -> dict:
    """A convolution's window and bias, as Keras names them."""
    return {"strides": args["stride"], "padding": _padding(args["padding"]),
            "dilation_rate": args["dilation"], "use_bias": args["bias"]}


@builds("conv1d", "conv2d", "conv3d")
def conv(kind, args, shape):
    layer = getattr(L, f"Conv{_suffix(shape)}")(args["filters"], args["kernel"], groups=args["groups"],
                                               **_window(args))
    return _built(layer, shape)


@builds("conv1d_transpose", "conv2d_transpose", "conv3d_transpose")
def conv_transpose(kind, args, shape):
    if args["groups"] != 1:
        raise Unsupported("Keras' transposed convolutions have no groups")
    layer = getattr(L, f"Conv{_suffix(shape)}Transpose")(
        args["filters"], args["kernel"], output_padding=args["output_padding"], **_window(args))
    return _built(layer, shape)


@builds("conv_lstm1d", "conv_lstm2d", "conv_lstm3d")
def conv_lstm(kind, args, shape):
    layer = getattr(L, f"ConvLSTM{len(shape) - 2}D")(
        args["filters"], args["kernel"], return_sequences=args["return_sequences"], **_window(args))
    return _built(layer, shape)


@builds("depthwise_conv1d", "depthwise_conv2d")
def depthwise(kind, args, shape):
    layer = getattr(L, f"DepthwiseConv{_suffix(shape)}")(
        args["kernel"], depth_multiplier=args["depth_multiplier"], **_window(args))
    return _built(layer, shape)


@builds("separable_conv1d", "separable_conv2d")
def separable(kind, args, shape):
    layer = getattr(L, f"SeparableConv{_suffix(shape)}")(
        args["filters"], args["kernel"], depth_multiplier=args["depth_multiplier"], **_window(args))
    return _built(layer, shape)


# ------------------------------------------------------------------ normalization


def _affine(args) -> dict:
    on = args["affine"]
    return {"center": bool(on and args["center"]), "scale": bool(on and args["scale"])}


@builds("batch_norm")
def batch_norm(kind, args, shape):
    return _built(L.BatchNormalization(**_affine(args)), shape)


@builds("group_norm")
def group_norm(kind, args, shape):
    return _built(L.GroupNormalization(args["groups"], **_affine(args)), shape)


@builds("instance_norm")
def instance_norm(kind, args, shape):  # Keras' instance norm: a group per channel
    return _built(L.GroupNormalization(shape[-1], **_affine(args)), shape)


@builds("layer_norm")
def layer_norm(kind, args, shape):
    axes = args["axes"] or 1
    on = args["affine"]
    layer = L.LayerNormalization(axis=list(range(-axes, 0)), center=bool(on and args["bias"]),
                                 scale=bool(on and args["scale"]))
    return _built(layer, shape)


@builds("rms_norm")
def rms_norm(kind, args, shape):
    if not args["scale"]:
        raise Unsupported("Keras' RMSNormalization always learns its scale")
    return _built(L.RMSNormalization(), shape)


# ------------------------------------------------------------------ sequence layers

RECURRENT = {"simple_rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}


@builds("simple_rnn", "lstm", "gru")
def recurrent(kind, args, shape):
    """Keras has no num_layers: `layers` stacked layers, each reading the one before."""
    if args.get("proj") is not None:
        raise Unsupported("Keras' LSTM has no projection (PyTorch's proj_size)")
    options = {"reset_after": args["reset_after"]} if kind == "gru" else {}
    directions = 2 if args["bidirectional"] else 1
    built, inputs = [], shape
    for _ in range(args["layers"]):
        layer = getattr(L, RECURRENT[kind])(args["units"], use_bias=args["bias"], return_sequences=True,
                                            **options)
        if args["bidirectional"]:
            layer = L.Bidirectional(layer, merge_mode=args["merge"])
        built.append(_built(layer, inputs))
        inputs = (shape[0], (directions if args["merge"] == "concat" else 1) * args["units"])
    return built


@builds("simple_rnn_cell", "lstm_cell", "gru_cell")
def cell(kind, args, shape):
    options = {"reset_after": args["reset_after"]} if kind == "gru_cell" else {}
    name = {"simple_rnn_cell": "SimpleRNNCell", "lstm_cell": "LSTMCell", "gru_cell": "GRUCell"}[kind]
    return _built(getattr(L, name)(args["units"], use_bias=args["bias"], **options), shape)


@builds("dot_attention", "additive_attention")
def attention_without_projections(kind, args, shape):
    values = tuple(args["context"]) if args["context"] is not None else shape
    if kind == "dot_attention":
        layer = L.Attention(use_scale=args["use_scale"], score_mode=args["score_mode"])
    else:
        layer = L.AdditiveAttention(use_scale=args["use_scale"])
    layer.build([(None, *shape), (None, *values)])
    return layer


@builds("attention")
def attention(kind, args, shape):
    """MultiHeadAttention, or GroupQueryAttention with fewer key/value heads; where
    neither class takes the arguments (biases on some projections only, norms on queries
    and keys), the EinsumDense projections those classes are made of, as KerasHub's
    Whisper and Qwen models write them."""
    model = shape[-1]
    memory = tuple(args["context"]) if args["context"] is not None else shape
    values = tuple(args["values"]) if args.get("values") is not None else memory
    heads, kv_heads = args["heads"], args["kv_heads"] or args["heads"]
    key_dim = args["key_dim"] or model // heads
    value_dim = args["value_dim"] or key_dim
    out = args["out"] or model
    bias = set(args["bias"])
    whole = bias in (set(), {"q", "k", "v", "o"}) and args["qk_norm"] == "none"
    if whole and kv_heads == heads:
        layer = L.MultiHeadAttention(heads, key_dim, value_dim=value_dim, use_bias=bool(bias),
                                     output_shape=out if out != model else None, use_gate=args["gate"])
        projections = _built(layer, shape, values, memory)  # query, value, key
    elif whole and value_dim == key_dim and out == model:
        layer = L.GroupQueryAttention(head_dim=key_dim, num_query_heads=heads,
                                      num_key_value_heads=kv_heads, use_bias=bool(bias), use_gate=args["gate"])
        projections = _built(layer, shape, values, memory)
    else:
        return _einsum_attention(args, shape, (memory, values), heads, kv_heads, key_dim, value_dim, out, bias)
    if args["lora"] is not None:  # as KerasHub adapts attention: LoRA on its projections
        for target in args["lora_targets"]:
            getattr(projections, PROJECTION[target]).enable_lora(args["lora"])
    return projections


PROJECTION = {"q": "_query_dense", "k": "_key_dense", "v": "_value_dense", "o": "_output_dense"}


def _einsum_attention(args, shape, sources, heads, kv_heads, key_dim, value_dim, out, bias):
    memory, values = sources  # what the keys and the values read
    def projection(name, heads_here, size, inputs):
        layer = L.EinsumDense("abc,cde->abde", output_shape=(None, heads_here, size),
                              bias_axes="de" if name in bias else None)
        return _built(layer, inputs)

    built = {
        "q": projection("q", heads, key_dim, shape),
        "k": projection("k", kv_heads, key_dim, memory),
        "v": projection("v", kv_heads, value_dim, values),
        "o": _built(L.EinsumDense("abcd,cde->abe", output_shape=(None, out),
                                  bias_axes="e" if "o" in bias else None), (shape[0], heads, value_dim)),
    }
    if args["gate"]:
        built["g"] = _built(L.EinsumDense("abc,cde->abde", output_shape=(None, heads, value_dim),
                                          bias_axes="de" if "q" in bias else None), shape)
    if args["lora"] is not None:
        for target in args["lora_targets"]:
            built[target].enable_lora(args["lora"])
    layers = list(built.values())
    if args["qk_norm"] != "none":  # over the head size, shared by the heads; or each projection
        per_head = args["qk_norm_scope"] == "head"
        for heads_here in (heads, kv_heads):
            norm = (L.RMSNormalization() if args["qk_norm"] == "rms"
                    else L.LayerNormalization(center=args["qk_norm_bias"]))
            normed = (shape[0], heads_here, key_dim) if per_head else (shape[0], heads_here * key_dim)
            layers.append(_built(norm, normed))
    return layers


# ------------------------------------------------------------------ structure and tensors


@builds("moe")
def moe_router(kind, args, shape):
    """moe's own row: the router, one logit per expert, without bias."""
    return _built(L.Dense(args["experts"], use_bias=False), shape)


class Tensor(keras.layers.Layer):
    """A learnable tensor of its own, as a Keras model adds one with add_weight."""

    def __init__(self, shape, **kwargs):
        super().__init__(**kwargs)
        self.tensor_shape = tuple(shape)

    def build(self, input_shape):
        self.value = self.add_weight(shape=self.tensor_shape, initializer="zeros")


@builds("param")
def param(kind, args, shape):
    return _built(Tensor(args["dimension"]), shape)


@builds("tokens")
def tokens(kind, args, shape):
    return _built(Tensor((args["count"], shape[-1])), shape)


@builds("scale")
def scale(kind, args, shape):
    return _built(Tensor((shape[-1],)), shape)
