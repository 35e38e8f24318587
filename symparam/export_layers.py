"""Each layer kind as one line of an exported PyTorch model: its constructor as source.

A writer takes (kind, arguments as bound, input shape as symparam writes it, channels
last, Code) and gives a `Built`: the constructor's text, the helpers of
frameworks/torch_runtime.py it uses, and whether it holds a `weight` a tie= may share.
Sizes are written with Code, so that a size left symbolic stays a name (`4 * d`).
The exported tensors keep PyTorch's layout (see torch_runtime): a layer that reads
channels first (convolutions, pooling, batch norm) is wrapped in ChannelsFirst on a
sequence; one that reads the last axis (Linear, LayerNorm) in ChannelsLast on an image.
"""

from __future__ import annotations

from typing import NamedTuple

from .errors import SymparamError
from .frameworks import registry
from .pycode import Code


class Unsupported(SymparamError):
    """export cannot write this layer, or these arguments of it, yet."""


class Built(NamedTuple):
    code: str
    helpers: frozenset = frozenset()
    attribute: str | None = None  # the attribute's name, when not the kind's
    matrix: bool = False  # holds the `weight` a tie= shares
    weight: str = ".weight"  # where, from the attribute: ".layer.weight" inside a wrapper


LAYERS, writes = registry()  # kind -> its writer; @writes("conv1d", "conv2d") registers one
# Keras layers PyTorch has no class for: export refuses them, as check does.
KERAS_ONLY = frozenset({"normalization", "einsum_dense", "stft_spectrogram", "conv_lstm1d", "conv_lstm2d", "conv_lstm3d", "dot_attention",
                        "additive_attention"})


def torch_dim(axis, rank: int) -> int:
    """An axis as symparam writes it, numbered as Keras numbers it (1 the first after
    the batch, -1 the last; None the last), as the dim of the exported tensor, whose
    channels come first after the batch for an image or a volume."""
    index = rank - 1 if axis is None else (int(axis) - 1 if int(axis) > 0 else rank + int(axis))
    if rank >= 3:
        return 1 if index == rank - 1 else index + 2
    return index + 1


def channels_first(text: str, shape, helpers=frozenset(), **options) -> Built:
    """A layer reading (batch, channels, ...): on a sequence, its axes are swapped."""
    if len(shape) == 2:
        return Built(f"ChannelsFirst({text})", helpers | {"ChannelsFirst"}, weight=".layer.weight", **options)
    return Built(text, helpers, **options)


def last_axis(text: str, shape, helpers=frozenset(), **options) -> Built:
    """A layer reading the last axis: on an image, the channels are moved last."""
    if len(shape) >= 3:
        return Built(f"ChannelsLast({text})", helpers | {"ChannelsLast"}, weight=".layer.weight", **options)
    return Built(text, helpers, **options)


def call(name: str, *arguments: str, **keywords: str | None) -> str:
    """A constructor call as source: its arguments, then the keywords given (not None)."""
    items = [*arguments, *(f"{key}={value}" for key, value in keywords.items() if value is not None)]
    return f"{name}({', '.join(items)})"


# ------------------------------------------------------------------ elementwise

ACTIVATIONS = {
    "relu": "nn.ReLU()", "relu6": "nn.ReLU6()", "selu": "nn.SELU()", "gelu": "nn.GELU()",
    "silu": "nn.SiLU()", "swish": "nn.SiLU()", "mish": "nn.Mish()", "sigmoid": "nn.Sigmoid()",
    "hard_sigmoid": "nn.Hardsigmoid()", "hard_swish": "nn.Hardswish()", "tanh": "nn.Tanh()",
    "hard_tanh": "nn.Hardtanh()", "softplus": "nn.Softplus()", "softsign": "nn.Softsign()",
    "identity": "nn.Identity()", "exponential": "Exponential()",
}


def activation_code(name: str, shape) -> tuple[str, frozenset]:
    if name in ("softmax", "log_softmax"):
        torch_class = "nn.Softmax" if name == "softmax" else "nn.LogSoftmax"
        return f"{torch_class}(dim={torch_dim(-1, len(shape))})", frozenset()
    text = ACTIVATIONS[name]
    return text, frozenset({"Exponential"}) if name == "exponential" else frozenset()


def with_activation(built: Built, args: dict, shape) -> Built:
    """Keras' activation= on a layer: the activation after it."""
    name = args.get("activation", "none")
    if name in ("none", "linear"):
        return built
    name = next((kind for kind, aliases in _ALIASES.items() if name == kind or name in aliases), name)
    text, helpers = activation_code(name, shape)
    return built._replace(code=f"nn.Sequential({built.code}, {text})", helpers=built.helpers | helpers,
                          weight="[0]" + built.weight)


def _activation_aliases() -> dict:
    from .layers.core import ACTIVATIONS as names

    return names


_ALIASES = _activation_aliases()


@writes(*ACTIVATIONS, "softmax", "log_softmax")
def activation(kind, args, shape, code: Code) -> Built:
    if kind in ("softmax", "log_softmax"):
        torch_class = "nn.Softmax" if kind == "softmax" else "nn.LogSoftmax"
        return Built(f"{torch_class}(dim={torch_dim(args['axis'], len(shape))})")
    text, helpers = activation_code(kind, shape)
    return Built(text, helpers)


@writes("leaky_relu")
def leaky_relu(kind, args, shape, code: Code) -> Built:
    return Built(call("nn.LeakyReLU", code.real(args["negative_slope"])))


@writes("elu", "celu")
def elu(kind, args, shape, code: Code) -> Built:
    return Built(call("nn.ELU" if kind == "elu" else "nn.CELU", code.real(args["alpha"])))


@writes("dropout")
def dropout(kind, args, shape, code: Code) -> Built:
    rate = args["rate"]
    return Built(call("nn.Dropout", *(() if rate is None else (code.real(rate),))))


@writes("prelu")
def prelu(kind, args, shape, code: Code) -> Built:
    number = args["num_parameters"]
    if number is None and args["shared_axes"] is not None:
        raise Unsupported("export does not write PReLU's shared_axes yet")
    return channels_first(call("nn.PReLU", code.expr(number or 1)), shape)


# ------------------------------------------------------------------ core


@writes("dense")
def dense(kind, args, shape, code: Code) -> Built:
    inputs, units = code.expr(shape[-1]), code.expr(args["units"])
    bias = "" if args["bias"] else ", bias=False"
    if args["lora"] is not None:
        text = f"LoRALinear({inputs}, {units}{bias}, rank={code.expr(args['lora'])})"
        built = last_axis(text, shape, frozenset({"LoRALinear"}), attribute="linear", matrix=True)
    else:
        built = last_axis(f"nn.Linear({inputs}, {units}{bias})", shape, attribute="linear", matrix=True)
    return with_activation(built, args, shape)


def torch_weight_shape(node) -> tuple:
    """The shape of the `weight` PyTorch gives a layer holding a matrix: nn.Linear's is
    (outputs, inputs), the transpose of symparam's; nn.Embedding's (vocab, dim), as it."""
    matrix = tuple(node.count.matrix)
    return matrix[::-1] if node.kind == "dense" else matrix


def transposed_linear(args, shape, code: Code) -> Built:
    """A dense layer tied to a matrix of the other shape: it reads that weight transposed."""
    bias = "" if args["bias"] else ", bias=False"
    text = f"TransposedLinear({code.expr(shape[-1])}, {code.expr(args['units'])}{bias})"
    return with_activation(last_axis(text, shape, frozenset({"TransposedLinear"}), attribute="linear"), args, shape)


@writes("embedding")
def embedding(kind, args, shape, code: Code) -> Built:
    return Built(f"nn.Embedding({code.expr(args['vocab'])}, {code.expr(args['dim'])})", matrix=True)


@writes("embedding_bag")
def embedding_bag(kind, args, shape, code: Code) -> Built:
    return Built(call("nn.EmbeddingBag", code.expr(args["vocab"]), code.expr(args["dim"]),
                      mode=code.value(args["mode"])))


@writes("bilinear")
def bilinear(kind, args, shape, code: Code) -> Built:
    second = args["other"][-1] if args["other"] is not None else shape[-1]
    text = call("nn.Bilinear", code.expr(shape[-1]), code.expr(second), code.expr(args["units"]),
                bias=None if args["bias"] else "False")
    if len(shape) >= 3:
        raise Unsupported("export writes bilinear on vectors and sequences")
    return Built(text)


@writes("adaptive_log_softmax")
def adaptive_log_softmax(kind, args, shape, code: Code) -> Built:
    div = args["div_value"]
    text = call("AdaptiveLogSoftmax", code.expr(shape[-1]), code.expr(args["classes"]),
                code.value(tuple(args["cutoffs"])), div_value=None if div == 4 else code.real(div),
                head_bias="True" if args["head_bias"] else None)
    return last_axis(text, shape, frozenset({"AdaptiveLogSoftmax"}))


@writes("flatten")
def flatten(kind, args, shape, code: Code) -> Built:
    return Built("nn.Flatten()")


def reshape_target(args) -> tuple:
    """reshape's target shape: reshape(1, 12), or reshape((1, 12)) as Keras writes it."""
    target = args["shape"]
    return target[0] if len(target) == 1 and isinstance(target[0], tuple) else tuple(target)


@writes("reshape")
def reshape(kind, args, shape, code: Code) -> Built:
    target = reshape_target(args)
    return Built(call("Reshape", *(code.expr(extent) for extent in target)), frozenset({"Reshape"}))


@writes("select")
def select(kind, args, shape, code: Code) -> Built:
    return Built(call("Select", code.expr(args["index"])), frozenset({"Select"}))


@writes("slice")
def slice_(kind, args, shape, code: Code) -> Built:
    return Built(call("Slice", code.expr(args["start"]), code.expr(args["stop"])), frozenset({"Slice"}))


# ------------------------------------------------------------------ convolutions


def one_or_tuple(values, code: Code) -> str:
    """(3, 3) as 3, as PyTorch and Keras take a square kernel; else the tuple."""
    values = tuple(values)
    if all(value == values[0] for value in values):
        return code.expr(values[0])
    return code.value(values)


def _zeros(pairs, rank: int, code: Code) -> str:
    """(before, after) per axis as nn.ZeroPad's argument: last axis first."""
    flat = [code.expr(side) for pair in reversed(pairs) for side in pair]
    return f"({', '.join(flat)})"


def _conv_padding(args, rank: int, code: Code) -> tuple[str | None, str | None]:
    """(padding= text, a ZeroPad before, or None)."""
    padding = args["padding"]
    if padding == "valid":
        return None, None
    if padding == "same":
        if any(step != 1 for step in args["stride"]):
            raise Unsupported("PyTorch's padding='same' needs stride 1: write the zeros with padding=")
        return '"same"', None
    if any(before != after for before, after in padding):
        return None, f"nn.ZeroPad{rank}d({_zeros(padding, rank, code)})"
    return one_or_tuple([before for before, _ in padding], code), None


def _conv(torch_class: str, inputs, outputs, args, rank: int, code: Code, groups=None, stride=True) -> str:
    padding, zeros = _conv_padding(args, rank, code) if stride else (None, None)
    keywords = {}
    if stride and any(step != 1 for step in args["stride"]):
        keywords["stride"] = one_or_tuple(args["stride"], code)
    if padding is not None:
        keywords["padding"] = padding
    if stride and any(step != 1 for step in args["dilation"]):
        keywords["dilation"] = one_or_tuple(args["dilation"], code)
    if groups is not None:
        keywords["groups"] = groups
    if not args["bias"]:
        keywords["bias"] = "False"
    kernel = one_or_tuple(args["kernel"], code) if stride else "1"
    text = call(f"nn.{torch_class}{rank}d", code.expr(inputs), code.expr(outputs), kernel, **keywords)
    return text if zeros is None else f"nn.Sequential({zeros}, {text})"


@writes("conv1d", "conv2d", "conv3d")
def conv(kind, args, shape, code: Code) -> Built:
    rank = len(shape) - 1
    groups = code.expr(args["groups"]) if args["groups"] != 1 else None
    text = _conv("Conv", shape[-1], args["filters"], args, rank, code, groups)
    return with_activation(channels_first(text, shape), args, shape)


@writes("conv1d_transpose", "conv2d_transpose", "conv3d_transpose")
def conv_transpose(kind, args, shape, code: Code) -> Built:
    rank = len(shape) - 1
    padding = args["padding"]
    if padding == "same" and any(k != s for k, s in zip(args["kernel"], args["stride"])):
        raise Unsupported("export writes a transposed convolution with padding=same only when kernel = stride")
    keywords = {}
    if any(step != 1 for step in args["stride"]):
        keywords["stride"] = one_or_tuple(args["stride"], code)
    if padding not in ("valid", "same"):
        if any(before != after for before, after in padding):
            raise Unsupported("PyTorch's transposed convolutions crop both ends alike")
        keywords["padding"] = one_or_tuple([before for before, _ in padding], code)
    if args["output_padding"]:
        keywords["output_padding"] = one_or_tuple(args["output_padding"], code)
    if any(step != 1 for step in args["dilation"]):
        keywords["dilation"] = one_or_tuple(args["dilation"], code)
    if args["groups"] != 1:
        keywords["groups"] = code.expr(args["groups"])
    if not args["bias"]:
        keywords["bias"] = "False"
    text = call(f"nn.ConvTranspose{rank}d", code.expr(shape[-1]), code.expr(args["filters"]),
                one_or_tuple(args["kernel"], code), **keywords)
    return with_activation(channels_first(text, shape), args, shape)


@writes("depthwise_conv1d", "depthwise_conv2d")
def depthwise(kind, args, shape, code: Code) -> Built:
    rank, channels = len(shape) - 1, shape[-1]
    text = _conv("Conv", channels, channels * args["depth_multiplier"], args, rank, code, code.expr(channels))
    return with_activation(channels_first(text, shape), args, shape)


@writes("separable_conv1d", "separable_conv2d")
def separable(kind, args, shape, code: Code) -> Built:
    rank, channels = len(shape) - 1, shape[-1]
    middle = channels * args["depth_multiplier"]
    depthwise_text = _conv("Conv", channels, middle, {**args, "bias": False}, rank, code, code.expr(channels))
    pointwise = _conv("Conv", middle, args["filters"], args, rank, code, stride=False)
    return with_activation(channels_first(f"nn.Sequential({depthwise_text}, {pointwise})", shape), args, shape)


# ------------------------------------------------------------------ normalization


def _affine(args) -> bool:
    return bool(args["affine"] and args["center"] and args["scale"])


@writes("batch_norm", "instance_norm")
def batch_norm(kind, args, shape, code: Code) -> Built:
    rank = max(len(shape) - 1, 1)
    name = "BatchNorm" if kind == "batch_norm" else "InstanceNorm"
    if kind == "instance_norm" and len(shape) == 1:
        raise Unsupported("PyTorch's InstanceNorm1d normalizes over steps: a vector has none")
    affine = _affine(args)
    if kind == "instance_norm" and affine:
        text = f"nn.InstanceNorm{rank}d({code.expr(shape[-1])}, affine=True)"
    else:
        text = call(f"nn.{name}{rank}d", code.expr(shape[-1]), affine=None if affine else "False")
    return channels_first(text, shape)


@writes("group_norm")
def group_norm(kind, args, shape, code: Code) -> Built:
    text = call("nn.GroupNorm", code.expr(args["groups"]), code.expr(shape[-1]),
                affine=None if _affine(args) else "False")
    return channels_first(text, shape)


@writes("layer_norm")
def layer_norm(kind, args, shape, code: Code) -> Built:
    axes = args["axes"] or 1
    affine = args["affine"] and (args["scale"] or args["bias"])
    if affine and not args["scale"]:
        raise Unsupported("PyTorch's LayerNorm has no shift without a scale")
    normalized = code.expr(shape[-1]) if axes == 1 else code.value(tuple(shape[-axes:]))
    keywords = {}
    if not affine:
        keywords["elementwise_affine"] = "False"
    elif not args["bias"]:
        keywords["bias"] = "False"
    if axes > 1 and len(shape) >= 3:
        raise Unsupported("export writes layer_norm over several axes of an image only channels last")
    return last_axis(call("nn.LayerNorm", normalized, **keywords), shape)


@writes("rms_norm")
def rms_norm(kind, args, shape, code: Code) -> Built:
    text = call("nn.RMSNorm", code.expr(shape[-1]), elementwise_affine=None if args["scale"] else "False")
    return last_axis(text, shape)


# ------------------------------------------------------------------ pooling and resizing


@writes("max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d")
def pool(kind, args, shape, code: Code) -> Built:
    rank = len(shape) - 1
    padding = args["padding"]
    if padding == "same":
        raise Unsupported("PyTorch's pooling takes a number of zeros, not padding=same")
    keywords = {}
    if args["stride"] is not None and tuple(args["stride"]) != tuple(args["pool"]):
        keywords["stride"] = one_or_tuple(args["stride"], code)
    if padding != "valid":
        if any(before != after for before, after in padding):
            raise Unsupported("PyTorch's pooling pads both ends alike")
        keywords["padding"] = one_or_tuple([before for before, _ in padding], code)
    if args.get("dilation") and any(step != 1 for step in args["dilation"]):
        keywords["dilation"] = one_or_tuple(args["dilation"], code)
    if args["ceil_mode"]:
        keywords["ceil_mode"] = "True"
    name = "MaxPool" if kind.startswith("max") else "AvgPool"
    text = call(f"nn.{name}{rank}d", one_or_tuple(args["pool"], code), **keywords)
    return channels_first(text, shape)


@writes(*(f"adaptive_{mode}_pool{rank}d" for mode in ("max", "avg") for rank in (1, 2, 3)))
def adaptive_pool(kind, args, shape, code: Code) -> Built:
    rank = len(shape) - 1
    name = "AdaptiveMaxPool" if "max" in kind else "AdaptiveAvgPool"
    return channels_first(call(f"nn.{name}{rank}d", one_or_tuple(args["output_size"], code)), shape)


@writes("global_avg_pool", "global_max_pool")
def global_pool(kind, args, shape, code: Code) -> Built:
    mode = '"avg"' if kind == "global_avg_pool" else '"max"'
    return Built(call("GlobalPool", mode, keepdims="True" if args["keepdims"] else None),
                 frozenset({"GlobalPool"}))


@writes("zero_padding1d", "zero_padding2d", "zero_padding3d")
def zero_padding(kind, args, shape, code: Code) -> Built:
    rank = len(shape) - 1
    return channels_first(f"nn.ZeroPad{rank}d({_zeros(args['padding'], rank, code)})", shape)


@writes("cropping1d", "cropping2d", "cropping3d")
def cropping(kind, args, shape, code: Code) -> Built:
    pairs = ", ".join(code.value(tuple(pair)) for pair in args["cropping"])
    return channels_first(f"Crop({pairs})", shape, frozenset({"Crop"}))


@writes("upsampling1d", "upsampling2d", "upsampling3d")
def upsampling(kind, args, shape, code: Code) -> Built:
    if args["target"] is not None:
        text = f"nn.Upsample(size={one_or_tuple(args['target'], code)})"
    else:
        factors = tuple(args["size"])
        if any(not getattr(factor, "is_Integer", isinstance(factor, int)) for factor in factors):
            raise Unsupported("export writes upsampling by whole factors, or to a target size")
        text = f"nn.Upsample(scale_factor={one_or_tuple(factors, code)})"
    return channels_first(text, shape)


# ------------------------------------------------------------------ sequence layers


@writes("simple_rnn", "lstm", "gru")
def recurrent(kind, args, shape, code: Code) -> Built:
    if args.get("merge", "concat") != "concat":
        raise Unsupported("PyTorch's bidirectional layers concatenate the directions")
    torch_class = {"simple_rnn": "nn.RNN", "lstm": "nn.LSTM", "gru": "nn.GRU"}[kind]
    keywords = {}
    if args["layers"] != 1:
        keywords["num_layers"] = code.expr(args["layers"])
    if not args["bias"]:
        keywords["bias"] = "False"
    keywords["batch_first"] = "True"
    if args["bidirectional"]:
        keywords["bidirectional"] = "True"
    if args.get("proj"):
        keywords["proj_size"] = code.expr(args["proj"])
    layer = call(torch_class, code.expr(shape[-1]), code.expr(args["units"]), **keywords)
    sequences = "" if args["return_sequences"] else ", return_sequences=False"
    return Built(f"Recurrent({layer}{sequences})", frozenset({"Recurrent"}))


@writes("simple_rnn_cell", "lstm_cell", "gru_cell")
def cell(kind, args, shape, code: Code) -> Built:
    torch_class = {"simple_rnn_cell": "nn.RNNCell", "lstm_cell": "nn.LSTMCell", "gru_cell": "nn.GRUCell"}[kind]
    layer = call(torch_class, code.expr(shape[-1]), code.expr(args["units"]),
                 bias=None if args["bias"] else "False")
    return Built(f"Cell({layer})", frozenset({"Cell"}))


@writes("attention")
def attention(kind, args, shape, code: Code) -> Built:
    keywords = {}
    for name in ("kv_heads", "key_dim", "value_dim", "out"):
        if args[name] is not None:
            keywords[name] = code.expr(args[name])
    if tuple(args["bias"]) != ("q", "k", "v", "o"):
        keywords["bias"] = code.value(tuple(args["bias"]))
    for name in ("context", "values"):  # the widths of the stages keys and values read
        if args.get(name) is not None:
            keywords[name] = code.expr(args[name][-1])
    for name, default in (("bias_kv", False), ("gate", False), ("qk_norm", "none"),
                          ("qk_norm_scope", "head"), ("qk_norm_bias", True)):
        if args[name] != default:
            keywords[name] = code.value(args[name])
    if args["lora"] is not None:
        keywords["lora"] = code.expr(args["lora"])
        keywords["lora_targets"] = code.value(tuple(args["lora_targets"]))
    text = call("Attention", code.expr(shape[-1]), code.expr(args["heads"]), **keywords)
    return last_axis(text, shape, frozenset({"Attention"}))


# ------------------------------------------------------------------ learnable tensors


@writes("param")
def param(kind, args, shape, code: Code) -> Built:
    return Built(call("Tensor", *(code.expr(extent) for extent in args["dimension"])), frozenset({"Tensor"}))


@writes("tokens")
def tokens(kind, args, shape, code: Code) -> Built:
    return Built(call("Tokens", code.expr(args["count"]), code.expr(shape[-1])), frozenset({"Tokens"}))


@writes("scale")
def scale(kind, args, shape, code: Code) -> Built:
    return last_axis(call("Scale", code.expr(shape[-1])), shape, frozenset({"Scale"}))
