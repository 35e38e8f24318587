"""Each layer kind as one line of an exported Keras model: its constructor as source.

A writer takes (kind, arguments as bound, input shape as symparam writes it, channels
last, Code) and gives a `Built`: the constructor's text, how the layer is applied, the
helpers of frameworks/keras_runtime.py it uses. Sizes are written with Code, so that a
size left symbolic stays a name (`4 * d`). The Keras classes and arguments are those
`symparam check --against keras` builds (frameworks/keras3.py), whose counts are
checked against Keras. Tensors are channels last, as Keras' layers read them, so no
layer needs its axes moved.
"""

from __future__ import annotations

from typing import NamedTuple

from .export_layers import Unsupported, call, one_or_tuple, reshape_target
from .frameworks import registry
from .layers.core import ACTIVATIONS
from .pycode import Code


class Built(NamedTuple):
    code: str | None  # the constructor, layers.Dense(4 * d); None: an expression alone
    helpers: frozenset = frozenset()
    call: str = "{layer}({x})"  # how it is applied: {layer} to {x}; {context}, {value}, {key}: stages
    before: tuple[str, ...] = ()  # layers applied first: zeros Keras' padding= cannot write
    before_times: str | None = None  # the `before` layers in a loop, this many times (stacked)
    before_weights: bool = False  # the `before` layers hold weights (the layers stacked)
    after: tuple[str, ...] = ()  # layers applied after: a transposed convolution's crop
    matrix: bool = False  # holds the matrix a tie= may share (a kernel, an embedding table)
    lora: bool = False  # holds LoRA adapters, which stay trained when the rest is frozen


LAYERS, writes = registry()  # kind -> its writer; @writes("conv1d", "conv2d") registers one


def keras_axis(axis, rank: int) -> str | None:
    """An axis as Keras numbers it, as symparam's axis= is written (1 the first after
    the batch, -1 the last); None for the last, Keras' default."""
    if axis is None or int(axis) in (-1, rank):
        return None
    return str(int(axis))


def steps(values, code: Code) -> str | None:
    """A stride or dilation, or None when it is 1 on every axis (Keras' default)."""
    return None if all(value == 1 for value in values) else one_or_tuple(values, code)


def pairs(values, code: Code) -> str:
    """(before, after) per axis as ZeroPadding and Cropping take them: 1 when alike on
    every side, (1, 2) when each axis is even, else the pairs (one pair in 1D)."""
    values = tuple(tuple(pair) for pair in values)
    if all(before == after for before, after in values):
        return one_or_tuple([before for before, _ in values], code)
    if len(values) == 1:
        return code.value(values[0])
    return code.value(values)


def with_activation(keywords: dict, args: dict) -> dict:
    """Keras' activation= on a layer, by the name Keras gives it."""
    name = args.get("activation", "none")
    if name not in ("none", "linear", "identity"):
        kind = next((kind for kind, aliases in ACTIVATIONS.items() if name == kind or name in aliases), name)
        keywords["activation"] = f'"{kind}"'
    return keywords


# ------------------------------------------------------------------ elementwise


@writes(*(kind for kind in ACTIVATIONS if kind not in ("leaky_relu", "elu", "celu", "softmax", "identity")))
def activation(kind, args, shape, code: Code) -> Built:
    if kind == "log_softmax" and keras_axis(args["axis"], len(shape)) is not None:
        axis = keras_axis(args["axis"], len(shape))
        return Built(f"layers.Lambda(lambda t: keras.ops.log_softmax(t, axis={axis}))")
    return Built(f'layers.Activation("{kind}")')


@writes("identity")
def identity(kind, args, shape, code: Code) -> Built:
    return Built(None, call="{x}")  # no layer: the input itself


@writes("softmax")
def softmax(kind, args, shape, code: Code) -> Built:
    return Built(call("layers.Softmax", axis=keras_axis(args["axis"], len(shape))))


@writes("leaky_relu")
def leaky_relu(kind, args, shape, code: Code) -> Built:
    slope = args["negative_slope"]
    return Built(call("layers.LeakyReLU", negative_slope=None if slope is None else code.real(slope)))


@writes("elu")
def elu(kind, args, shape, code: Code) -> Built:
    alpha = args["alpha"]
    return Built(call("layers.ELU", alpha=None if alpha is None else code.real(alpha)))


@writes("celu")
def celu(kind, args, shape, code: Code) -> Built:
    if args["alpha"] is None or args["alpha"] == 1:
        return Built('layers.Activation("celu")')
    alpha = code.real(args["alpha"])
    return Built(f"layers.Lambda(lambda t: keras.activations.celu(t, alpha={alpha}))")


@writes("dropout")
def dropout(kind, args, shape, code: Code) -> Built:
    rate = args["rate"]  # Keras asks for one: PyTorch's default when none is written
    return Built(call("layers.Dropout", code.real(0.5 if rate is None else rate)))


@writes("prelu")
def prelu(kind, args, shape, code: Code) -> Built:
    shared = args["shared_axes"]
    if args["num_parameters"] is not None:  # PyTorch's: 1 shares every axis, C all but the channels
        shared = tuple(range(1, len(shape) + (1 if args["num_parameters"] == 1 else 0)))
    axes = f"[{', '.join(code.expr(axis) for axis in shared)}]" if shared else None
    return Built(call("layers.PReLU", shared_axes=axes))


# ------------------------------------------------------------------ core


@writes("dense")
def dense(kind, args, shape, code: Code) -> Built:
    keywords = {"use_bias": None if args["bias"] else "False"}
    with_activation(keywords, args)
    if args["lora"] is not None:
        keywords["lora_rank"] = code.expr(args["lora"])
    text = call("layers.Dense", code.expr(args["units"]), **keywords)
    return Built(text, matrix=True, lora=args["lora"] is not None)


def tied_dense(args, tied: str, transpose: bool) -> Built:
    """A dense layer tied to the layer `tied`: its matrix, transposed when its shape is
    the other way round (an output head reading the token embedding)."""
    if args["lora"] is not None:
        raise Unsupported("export to Keras does not write LoRA on a tied layer")
    keywords = {"transpose": "True" if transpose else None, "use_bias": None if args["bias"] else "False"}
    return Built(call("TiedDense", tied, **with_activation(keywords, args)), frozenset({"TiedDense"}))


@writes("embedding")
def embedding(kind, args, shape, code: Code) -> Built:
    return Built(f"layers.Embedding({code.expr(args['vocab'])}, {code.expr(args['dim'])})", matrix=True)


PYTORCH_CLASSES = {"embedding_bag": "EmbeddingBag", "bilinear": "Bilinear",
                   "adaptive_log_softmax": "AdaptiveLogSoftmaxWithLoss"}


@writes(*PYTORCH_CLASSES)
def pytorch_only(kind, args, shape, code: Code) -> Built:
    raise Unsupported(f"Keras has no layer for {kind} (PyTorch's {PYTORCH_CLASSES[kind]})")


@writes("einsum_dense")
def einsum_dense(kind, args, shape, code: Code) -> Built:
    extents = tuple(args["output_shape"])
    output_shape = code.expr(extents[0]) if len(extents) == 1 else code.value(extents)
    bias_axes = None if args["bias_axes"] is None else code.value(args["bias_axes"])
    return Built(call("layers.EinsumDense", code.value(args["equation"]), output_shape=output_shape,
                      bias_axes=bias_axes))


@writes("normalization")
def normalization(kind, args, shape, code: Code) -> Built:
    return Built(call("layers.Normalization", axis=keras_axis(args["axis"], len(shape))))


@writes("flatten")
def flatten(kind, args, shape, code: Code) -> Built:
    return Built("layers.Flatten()")


@writes("reshape")
def reshape(kind, args, shape, code: Code) -> Built:
    return Built(f"layers.Reshape({code.value(reshape_target(args))})")


@writes("select")
def select(kind, args, shape, code: Code) -> Built:
    return Built(None, call=f"{{x}}[:, {code.expr(args['index'])}]")  # one position of the first axis


@writes("slice")
def slice_(kind, args, shape, code: Code) -> Built:
    return Built(None, call=f"{{x}}[..., {code.expr(args['start'])}:{code.expr(args['stop'])}]")  # channels


# ------------------------------------------------------------------ convolutions


def suffix(shape) -> str:
    return f"{len(shape) - 1}D"


def padding(args, shape, code: Code, keywords: dict) -> tuple[str, ...]:
    """Keras' padding= ("same", "causal"); zeros written out are a ZeroPadding before."""
    written = args["padding"]
    if written in ("same", "causal"):
        keywords["padding"] = f'"{written}"'
    if written in ("valid", "same", "causal") or all(side == 0 for pair in written for side in pair):
        return ()
    return (f"layers.ZeroPadding{suffix(shape)}({pairs(written, code)})",)


def window(args, shape, code: Code, keywords: dict) -> tuple[str, ...]:
    """A convolution's strides, padding, dilation and bias, as Keras names them."""
    keywords["strides"] = steps(args["stride"], code)
    before = padding(args, shape, code, keywords)
    keywords["dilation_rate"] = steps(args["dilation"], code)
    keywords["use_bias"] = None if args["bias"] else "False"
    return before


@writes("conv1d", "conv2d", "conv3d")
def conv(kind, args, shape, code: Code) -> Built:
    keywords: dict = {}
    before = window(args, shape, code, keywords)
    if args["groups"] != 1:
        keywords["groups"] = code.expr(args["groups"])
    text = call(f"layers.Conv{suffix(shape)}", code.expr(args["filters"]), one_or_tuple(args["kernel"], code),
                **with_activation(keywords, args))
    return Built(text, before=before)


@writes("conv1d_transpose", "conv2d_transpose", "conv3d_transpose")
def conv_transpose(kind, args, shape, code: Code) -> Built:
    """Keras pads a transposed convolution "valid" or "same": the zeros PyTorch takes
    off each end (padding=p) are a Cropping after a valid one, whose output padding is
    then written (0 if none) so that Keras' length is (n - 1)·s + k + o before the crop."""
    if args["groups"] != 1:
        raise Unsupported("Keras' transposed convolutions have no groups")
    keywords: dict = {"strides": steps(args["stride"], code)}
    written, output_padding, after = args["padding"], args["output_padding"], ()
    if written == "same":
        keywords["padding"] = '"same"'
    elif written != "valid":
        output_padding = output_padding or (0,) * len(args["kernel"])
        if any(side != 0 for pair in written for side in pair):
            after = (f"layers.Cropping{suffix(shape)}({pairs(written, code)})",)
    if output_padding:
        keywords["output_padding"] = one_or_tuple(output_padding, code)
    keywords["dilation_rate"] = steps(args["dilation"], code)
    keywords["use_bias"] = None if args["bias"] else "False"
    text = call(f"layers.Conv{suffix(shape)}Transpose", code.expr(args["filters"]),
                one_or_tuple(args["kernel"], code), **with_activation(keywords, args))
    return Built(text, after=after)


def _multiplier(args, code: Code) -> dict:
    """depth_multiplier=, written when it is not Keras' default of 1."""
    if args["depth_multiplier"] == 1:
        return {}
    return {"depth_multiplier": code.expr(args["depth_multiplier"])}


@writes("depthwise_conv1d", "depthwise_conv2d")
def depthwise(kind, args, shape, code: Code) -> Built:
    keywords = _multiplier(args, code)
    before = window(args, shape, code, keywords)
    text = call(f"layers.DepthwiseConv{suffix(shape)}", one_or_tuple(args["kernel"], code),
                **with_activation(keywords, args))
    return Built(text, before=before)


@writes("separable_conv1d", "separable_conv2d")
def separable(kind, args, shape, code: Code) -> Built:
    keywords = _multiplier(args, code)
    before = window(args, shape, code, keywords)
    text = call(f"layers.SeparableConv{suffix(shape)}", code.expr(args["filters"]),
                one_or_tuple(args["kernel"], code), **with_activation(keywords, args))
    return Built(text, before=before)


@writes("conv_lstm1d", "conv_lstm2d", "conv_lstm3d")
def conv_lstm(kind, args, shape, code: Code) -> Built:
    """(steps, *spatial, channels): the zeros written out pad each step's frame."""
    keywords: dict = {}
    before = window(args, shape[1:], code, keywords)
    before = tuple(f"layers.TimeDistributed({layer})" for layer in before)
    keywords["return_sequences"] = "True" if args["return_sequences"] else None
    text = call(f"layers.ConvLSTM{len(shape) - 2}D", code.expr(args["filters"]),
                one_or_tuple(args["kernel"], code), **keywords)
    return Built(text, before=before)


# ------------------------------------------------------------------ normalization


def affine(args, keywords: dict, center: str = "center") -> dict:
    """Keras' center= and scale=, written when off (they are on by default)."""
    on = args["affine"]
    if not (on and args[center]):
        keywords["center"] = "False"
    if not (on and args["scale"]):
        keywords["scale"] = "False"
    return keywords


@writes("batch_norm")
def batch_norm(kind, args, shape, code: Code) -> Built:
    return Built(call("layers.BatchNormalization", **affine(args, {})))


@writes("group_norm")
def group_norm(kind, args, shape, code: Code) -> Built:
    return Built(call("layers.GroupNormalization", code.expr(args["groups"]), **affine(args, {})))


@writes("instance_norm")
def instance_norm(kind, args, shape, code: Code) -> Built:  # Keras' instance norm: a group per channel
    return Built(call("layers.GroupNormalization", groups="-1", **affine(args, {})))


@writes("layer_norm")
def layer_norm(kind, args, shape, code: Code) -> Built:
    axes = args["axes"] or 1
    keywords = {"axis": f"[{', '.join(str(-axis) for axis in range(axes, 0, -1))}]" if axes > 1 else None}
    return Built(call("layers.LayerNormalization", **affine(args, keywords, center="bias")))


@writes("rms_norm")
def rms_norm(kind, args, shape, code: Code) -> Built:
    if not args["scale"]:
        raise Unsupported("Keras' RMSNormalization always learns its scale")
    return Built("layers.RMSNormalization()")


# ------------------------------------------------------------------ pooling and resizing


@writes("max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d")
def pool(kind, args, shape, code: Code) -> Built:
    if args["ceil_mode"]:
        raise Unsupported("Keras' pooling has no ceil_mode")
    if args.get("dilation") and any(step != 1 for step in args["dilation"]):
        raise Unsupported("Keras' pooling has no dilation")
    keywords: dict = {}
    if args["stride"] is not None and tuple(args["stride"]) != tuple(args["pool"]):
        keywords["strides"] = one_or_tuple(args["stride"], code)
    before = padding(args, shape, code, keywords)
    name = "MaxPooling" if kind.startswith("max") else "AveragePooling"
    return Built(call(f"layers.{name}{suffix(shape)}", one_or_tuple(args["pool"], code), **keywords),
                 before=before)


@writes(*(f"adaptive_{mode}_pool{rank}d" for mode in ("max", "avg") for rank in (1, 2, 3)))
def adaptive_pool(kind, args, shape, code: Code) -> Built:
    name = "AdaptiveMaxPooling" if "max" in kind else "AdaptiveAveragePooling"
    return Built(call(f"layers.{name}{suffix(shape)}", one_or_tuple(args["output_size"], code)))


@writes("global_avg_pool", "global_max_pool")
def global_pool(kind, args, shape, code: Code) -> Built:
    name = "GlobalAveragePooling" if kind == "global_avg_pool" else "GlobalMaxPooling"
    return Built(call(f"layers.{name}{suffix(shape)}", keepdims="True" if args["keepdims"] else None))


@writes("zero_padding1d", "zero_padding2d", "zero_padding3d")
def zero_padding(kind, args, shape, code: Code) -> Built:
    return Built(f"layers.ZeroPadding{suffix(shape)}({pairs(args['padding'], code)})")


@writes("cropping1d", "cropping2d", "cropping3d")
def cropping(kind, args, shape, code: Code) -> Built:
    return Built(f"layers.Cropping{suffix(shape)}({pairs(args['cropping'], code)})")


@writes("upsampling1d", "upsampling2d", "upsampling3d")
def upsampling(kind, args, shape, code: Code) -> Built:
    if args["target"] is not None:
        raise Unsupported("Keras' UpSampling scales by whole factors, not to a target size")
    return Built(f"layers.UpSampling{suffix(shape)}({one_or_tuple(args['size'], code)})")


# ------------------------------------------------------------------ sequence layers

RECURRENT = {"simple_rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}


@writes("simple_rnn", "lstm", "gru")
def recurrent(kind, args, shape, code: Code) -> Built:
    """Keras has no num_layers: `layers` stacked layers, all but the last giving every
    step (a loop when their number is a name)."""
    if args.get("proj") is not None:
        raise Unsupported("Keras' LSTM has no projection (PyTorch's proj_size)")

    def one(sequences: bool) -> str:
        keywords = {"use_bias": None if args["bias"] else "False",
                    "return_sequences": "True" if sequences else None}
        if kind == "gru" and not args["reset_after"]:
            keywords["reset_after"] = "False"
        text = call(f"layers.{RECURRENT[kind]}", code.expr(args["units"]), **keywords)
        if args["bidirectional"]:
            merge = None if args["merge"] == "concat" else f'"{args["merge"]}"'
            text = call("layers.Bidirectional", text, merge_mode=merge)
        return text

    count, last = args["layers"], one(args["return_sequences"])
    if count == 1:
        return Built(last)
    if isinstance(count, int) or getattr(count, "is_Integer", False):  # written out, one by one
        return Built(last, before=(one(True),) * (int(count) - 1), before_weights=True)
    return Built(last, before=(one(True),), before_times=code.expr(count - 1), before_weights=True)


CELLS = {"simple_rnn_cell": "SimpleRNNCell", "lstm_cell": "LSTMCell", "gru_cell": "GRUCell"}


def cell_constructor(kind, args, code: Code) -> str:
    """A cell as Keras makes it, for layers.RNN (recurrent(...)) or one step (Step)."""
    keywords = {"use_bias": None if args["bias"] else "False"}
    if kind == "gru_cell" and not args["reset_after"]:
        keywords["reset_after"] = "False"
    return call(f"layers.{CELLS[kind]}", code.expr(args["units"]), **keywords)


@writes(*CELLS)
def cell(kind, args, shape, code: Code) -> Built:
    return Built(f"Step({cell_constructor(kind, args, code)})", frozenset({"Step"}))


@writes("stft_spectrogram")
def stft_spectrogram(kind, args, shape, code: Code) -> Built:
    """window=None, as check builds it: Keras' default window (hann) needs SciPy, and
    shapes the kernels' values, not their number."""
    keywords = {"mode": None if args["mode"] == "log" else code.value(args["mode"]),
                "frame_length": code.expr(args["frame_length"])}
    for name in ("frame_step", "fft_length"):
        keywords[name] = None if args[name] is None else code.expr(args[name])
    keywords["padding"] = None if args["padding"] == "valid" else code.value(args["padding"])
    keywords["expand_dims"] = "True" if args["expand_dims"] else None
    return Built(call("layers.STFTSpectrogram", **keywords, window="None"))


@writes("dot_attention", "additive_attention")
def attention_without_projections(kind, args, shape, code: Code) -> Built:
    """Keras' Attention and AdditiveAttention: a query and a value (the stage named by
    context=, else the input itself), as a list."""
    if kind == "dot_attention":
        keywords = {"use_scale": "True" if args["use_scale"] else None,
                    "score_mode": None if args["score_mode"] == "dot" else f'"{args["score_mode"]}"'}
        text = call("layers.Attention", **keywords)
    else:
        text = call("layers.AdditiveAttention", use_scale=None if args["use_scale"] else "False")
    return Built(text, call="{layer}([{x}, {context}])")


@writes("attention")
def attention(kind, args, shape, code: Code) -> Built:
    """MultiHeadAttention, or GroupQueryAttention with fewer key/value heads, as keras3.py
    builds them; where neither takes the arguments (biases on some projections, norms on
    queries and keys, LoRA), the runtime's Attention, of the same EinsumDense layers."""
    model = shape[-1]
    heads, kv_heads = args["heads"], args["kv_heads"] or args["heads"]
    key_dim = args["key_dim"] or _divided(model, heads)
    value_dim, out = args["value_dim"] or key_dim, args["out"] or model
    bias = tuple(args["bias"])
    whole = set(bias) in (set(), {"q", "k", "v", "o"}) and args["qk_norm"] == "none" and args["lora"] is None
    use_bias = None if bias else "False"
    gate = "True" if args["gate"] else None
    if whole and kv_heads == heads:
        text = call("layers.MultiHeadAttention", num_heads=code.expr(heads), key_dim=code.expr(key_dim),
                    value_dim=None if value_dim == key_dim else code.expr(value_dim),
                    output_shape=None if out == model else code.expr(out), use_bias=use_bias, use_gate=gate)
    elif whole and value_dim == key_dim and out == model:
        text = call("layers.GroupQueryAttention", head_dim=code.expr(key_dim), num_query_heads=code.expr(heads),
                    num_key_value_heads=code.expr(kv_heads), use_bias=use_bias, use_gate=gate)
    else:
        if len(shape) != 2:
            raise Unsupported("export to Keras writes attention with these options over a sequence only")
        return Built(_attention_helper(args, code, heads, kv_heads, key_dim, value_dim, out, model),
                     frozenset({"Attention"}), call=ATTENTION_CALL, lora=args["lora"] is not None)
    return Built(text, call=ATTENTION_CALL)


# query, value, and key= when the keys read another stage than the values (values=NAME)
ATTENTION_CALL = "{layer}({x}, {value}{key})"


def _divided(model, heads):
    """The head size: model / heads, which the count found whole."""
    if isinstance(model, int) and isinstance(heads, int):
        return model // heads
    return model / heads


def _attention_helper(args, code: Code, heads, kv_heads, key_dim, value_dim, out, model) -> str:
    bias = tuple(args["bias"])
    keywords = {
        "kv_heads": None if kv_heads == heads else code.expr(kv_heads),
        "value_dim": None if value_dim == key_dim else code.expr(value_dim),
        "output_dim": None if out == model else code.expr(out),
        "bias": None if bias == ("q", "k", "v", "o") else code.value(bias),
        "use_gate": "True" if args["gate"] else None,
    }
    if args["qk_norm"] != "none":
        keywords["qk_norm"] = code.value(args["qk_norm"])
        if args["qk_norm_scope"] != "head":
            keywords["qk_norm_scope"] = code.value(args["qk_norm_scope"])
        if args["qk_norm"] == "layer" and not args["qk_norm_bias"]:
            keywords["qk_norm_bias"] = "False"
    if args["lora"] is not None:
        keywords["lora_rank"] = code.expr(args["lora"])
        if tuple(args["lora_targets"]) != ("q", "v"):
            keywords["lora_targets"] = code.value(tuple(args["lora_targets"]))
    return call("Attention", code.expr(heads), code.expr(key_dim), **keywords)


# ------------------------------------------------------------------ learnable tensors


@writes("param")
def param(kind, args, shape, code: Code) -> Built:
    return Built(call("Tensor", *(code.expr(extent) for extent in args["dimension"])), frozenset({"Tensor"}))


@writes("tokens")
def tokens(kind, args, shape, code: Code) -> Built:
    return Built(call("Tokens", code.expr(args["count"])), frozenset({"Tokens"}))


@writes("scale")
def scale(kind, args, shape, code: Code) -> Built:
    init = args["init"]
    return Built(call("Scale", *(() if init is None else (code.real(init),))), frozenset({"Scale"}))
