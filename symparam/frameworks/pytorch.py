"""Each layer kind as PyTorch builds it: one builder per kind, from the arguments symparam
bound and the layer's input shape (channels last, no batch axis), on the meta device.

A builder returns an `nn.Module` whose parameters are what PyTorch holds for that layer
(the projections of an attention as the Hugging Face models write them, a separable
convolution as its depthwise and pointwise convolutions). Kinds that hold nothing in
PyTorch (activations, pooling, padding, reshaping) are listed in HOLDS_NOTHING.
"""

from __future__ import annotations

import torch
from torch import nn

from . import HOLDS_NOTHING, Unsupported, known, plain, registry

BUILDERS, builds = registry()


def build(kind: str, arguments: dict, input_shape: tuple) -> nn.Module:
    """The PyTorch module of one layer, on the meta device (no memory, no weights).
    A builder takes (kind, arguments, input shape): one builder may serve several kinds."""
    if kind in HOLDS_NOTHING:
        return nn.Identity()
    if kind not in BUILDERS:
        raise Unsupported(f"symparam cannot build {kind} in PyTorch yet")
    with torch.device("meta"):
        return BUILDERS[kind](kind, plain(arguments), known(input_shape))


def _lora(inputs: int, outputs: int, rank) -> list[nn.Module]:
    """PEFT's adapters of a linear map: lora_A (inputs -> r) and lora_B (r -> outputs)."""
    if rank is None:
        return []
    return [nn.Linear(inputs, rank, bias=False), nn.Linear(rank, outputs, bias=False)]


def counted(module: nn.Module, tied: bool, frozen: bool) -> tuple[int, int, int]:
    """(all, trained, untrained) parameters of a built layer as its row holds them: a
    tied matrix left out (counted where it is named), a frozen layer's untrained but for
    its LoRA adapters (PEFT trains those)."""
    params = dict(module.named_parameters())
    if tied:
        params = {name: p for name, p in params.items() if name not in ("weight", "base.weight")}
    total = sum(p.numel() for p in params.values())
    if not frozen:
        return total, total, 0
    adapters = sum(p.numel() for name, p in params.items() if ".adapters." in f".{name}")
    return total, adapters, total - adapters


class Adapted(nn.Module):
    """A layer and the LoRA adapters PEFT puts beside it; `adapters` stay trainable when
    the layer is frozen."""

    def __init__(self, base: nn.Module, adapters: list[nn.Module]):
        super().__init__()
        self.base = base
        self.adapters = nn.ModuleList(adapters)


# ------------------------------------------------------------------ core


@builds("dense")
def dense(kind, args, shape):
    inputs, units = shape[-1], args["units"]
    return Adapted(nn.Linear(inputs, units, bias=args["bias"]), _lora(inputs, units, args["lora"]))


@builds("prelu")
def prelu(kind, args, shape):
    number = args["num_parameters"]
    if number is None and args["shared_axes"] is not None:
        kept = [extent for axis, extent in enumerate(shape, 1) if axis not in args["shared_axes"]]
        number = 1
        for extent in kept:
            number *= extent
        if number not in (1, shape[-1]):
            raise Unsupported("PyTorch's PReLU has one slope or one per channel, not these shared_axes")
    return nn.PReLU(number or 1)


@builds("embedding")
def embedding(kind, args, shape):
    return nn.Embedding(args["vocab"], args["dim"])


@builds("embedding_bag")
def embedding_bag(kind, args, shape):
    return nn.EmbeddingBag(args["vocab"], args["dim"], mode=args["mode"])


@builds("bilinear")
def bilinear(kind, args, shape):
    second = args["other"][-1] if args["other"] is not None else shape[-1]
    return nn.Bilinear(shape[-1], second, args["units"], bias=args["bias"])


@builds("adaptive_log_softmax")
def adaptive_log_softmax(kind, args, shape):
    return nn.AdaptiveLogSoftmaxWithLoss(shape[-1], args["classes"], list(args["cutoffs"]),
                                         div_value=float(args["div_value"]), head_bias=args["head_bias"])


@builds("spectral_norm")
def spectral_norm(kind, args, shape):
    """The row of spectral_norm itself: PyTorch keeps u and v as buffers, so a module
    with those alone (its layer is a row of its own)."""
    inner_kind, inner_args, inner_shape = args["wrapped"]
    inner = BUILDERS[inner_kind](inner_kind, inner_args, known(inner_shape))
    adapted = inner.base if isinstance(inner, Adapted) else inner
    nn.utils.parametrizations.spectral_norm(adapted)
    buffers = nn.Module()
    for name, buffer in adapted.parametrizations.weight[0].named_buffers():
        buffers.register_buffer(name, buffer)
    return buffers


@builds("normalization", "einsum_dense", "stft_spectrogram", "conv_lstm1d", "conv_lstm2d", "conv_lstm3d", "dot_attention",
        "additive_attention")
def keras_only(kind, args, shape):
    raise Unsupported(f"PyTorch has no layer for {kind} (a Keras layer)")


# ------------------------------------------------------------------ convolutions


def _padding(padding, rank: int):
    """symparam's padding as PyTorch's: "valid" -> 0, "same", or per-axis zeros (PyTorch
    pads both ends alike: uneven pairs are written as a ZeroPad before the layer)."""
    if padding in ("valid", "same"):
        return 0 if padding == "valid" else "same"
    if padding == "causal":
        raise Unsupported("PyTorch has no causal padding: write zero_padding1d((k - 1, 0)) first")
    if any(before != after for before, after in padding):
        return 0  # the zeros go in a parameterless nn.ZeroPad before the convolution
    return tuple(before for before, _ in padding)


def _conv_class(rank: int, transposed: bool = False):
    name = f"Conv{'Transpose' if transposed else ''}{rank}d"
    return getattr(nn, name)


@builds("conv1d", "conv2d", "conv3d")
def conv(kind, args, shape):
    rank = len(shape) - 1
    return _conv_class(rank)(
        shape[-1], args["filters"], args["kernel"], stride=args["stride"],
        padding=_padding(args["padding"], rank), dilation=args["dilation"], groups=args["groups"],
        bias=args["bias"],
    )


@builds("conv1d_transpose", "conv2d_transpose", "conv3d_transpose")
def conv_transpose(kind, args, shape):
    rank = len(shape) - 1
    padding = args["padding"]
    return _conv_class(rank, transposed=True)(
        shape[-1], args["filters"], args["kernel"], stride=args["stride"],
        padding=0 if padding in ("valid", "same") else tuple(before for before, _ in padding),
        output_padding=args["output_padding"] or 0, dilation=args["dilation"], groups=args["groups"],
        bias=args["bias"],
    )


@builds("depthwise_conv1d", "depthwise_conv2d")
def depthwise(kind, args, shape):
    rank, channels = len(shape) - 1, shape[-1]
    return _conv_class(rank)(
        channels, channels * args["depth_multiplier"], args["kernel"], stride=args["stride"],
        padding=_padding(args["padding"], rank), dilation=args["dilation"], groups=channels,
        bias=args["bias"],
    )


@builds("separable_conv1d", "separable_conv2d")
def separable(kind, args, shape):
    rank, channels = len(shape) - 1, shape[-1]
    middle = channels * args["depth_multiplier"]
    conv_class = _conv_class(rank)
    return nn.Sequential(
        conv_class(channels, middle, args["kernel"], stride=args["stride"],
                   padding=_padding(args["padding"], rank), dilation=args["dilation"],
                   groups=channels, bias=False),
        conv_class(middle, args["filters"], 1, bias=args["bias"]),
    )


# ------------------------------------------------------------------ normalization


def _affine(args) -> bool:
    """PyTorch's one switch for γ and β: center=false and scale=false turn it off too."""
    return bool(args["affine"] and args["center"] and args["scale"])


@builds("batch_norm")
def batch_norm(kind, args, shape):
    rank = max(len(shape) - 1, 1)
    return getattr(nn, f"BatchNorm{rank}d")(shape[-1], affine=_affine(args))


@builds("instance_norm")
def instance_norm(kind, args, shape):
    rank = max(len(shape) - 1, 1)
    return getattr(nn, f"InstanceNorm{rank}d")(shape[-1], affine=_affine(args))


@builds("group_norm")
def group_norm(kind, args, shape):
    return nn.GroupNorm(args["groups"], shape[-1], affine=_affine(args))


@builds("layer_norm")
def layer_norm(kind, args, shape):
    axes = args["axes"] or 1
    affine = args["affine"] and (args["scale"] or args["bias"])
    if affine and not args["scale"]:
        raise Unsupported("PyTorch's LayerNorm has no shift without a scale")
    return nn.LayerNorm(list(shape[-axes:]), elementwise_affine=bool(affine), bias=bool(args["bias"]))


@builds("rms_norm")
def rms_norm(kind, args, shape):
    return nn.RMSNorm(shape[-1], elementwise_affine=args["scale"])


# ------------------------------------------------------------------ sequence layers


@builds("simple_rnn", "lstm", "gru")
def recurrent(kind, args, shape):
    options = {"proj_size": args["proj"] or 0} if "proj" in args else {}
    layer = {"simple_rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
    return layer(shape[-1], args["units"], num_layers=args["layers"], bias=args["bias"],
                 bidirectional=args["bidirectional"], batch_first=True, **options)


@builds("simple_rnn_cell", "lstm_cell", "gru_cell")
def cell(kind, args, shape):
    layer = {"simple_rnn_cell": nn.RNNCell, "lstm_cell": nn.LSTMCell, "gru_cell": nn.GRUCell}[kind]
    return layer(shape[-1], args["units"], bias=args["bias"])


@builds("attention")
def attention(kind, args, shape):
    model = shape[-1]
    memory = args["context"][-1] if args["context"] is not None else model
    values = args["values"][-1] if args.get("values") is not None else memory
    heads = args["heads"]
    kv_heads = args["kv_heads"] or heads
    key_dim = args["key_dim"] or model // heads
    value_dim = args["value_dim"] or key_dim
    out = args["out"] or model
    bias = set(args["bias"])
    plain_heads = kv_heads == heads and key_dim == value_dim == model // heads and out == model
    plain = args["qk_norm"] == "none" and args["lora"] is None and not args["gate"]
    if plain_heads and bias in (set(), {"q", "k", "v", "o"}) and plain:
        return nn.MultiheadAttention(model, heads, bias=bool(bias), add_bias_kv=args["bias_kv"],
                                     kdim=memory, vdim=values, batch_first=True)
    sizes = {"q": (model, heads * key_dim), "k": (memory, kv_heads * key_dim),
             "v": (values, kv_heads * value_dim), "o": (heads * value_dim, out)}
    projections = nn.ModuleDict()
    if args["bias_kv"]:
        projections["bias_kv"] = Tensor(sizes["k"][1] + sizes["v"][1])
    if args["gate"]:  # as Qwen3-Next's q_proj doubles to give the gate
        projections["g"] = nn.Linear(model, heads * value_dim, bias="q" in bias)
    for name, (inputs, outputs) in sizes.items():
        adapters = _lora(inputs, outputs, args["lora"]) if name in args["lora_targets"] else []
        projections[name] = Adapted(nn.Linear(inputs, outputs, bias=name in args["bias"]), adapters)
    if args["qk_norm"] != "none":  # per head (shared by the heads), or over each projection
        normed = ((heads * key_dim, kv_heads * key_dim) if args["qk_norm_scope"] == "projection"
                  else (key_dim, key_dim))
        for name, size in zip(("q_norm", "k_norm"), normed):
            projections[name] = (nn.RMSNorm(size) if args["qk_norm"] == "rms"
                                 else nn.LayerNorm(size, bias=args["qk_norm_bias"]))
    return projections


# ------------------------------------------------------------------ structure and tensors


@builds("moe")
def moe_router(kind, args, shape):
    """moe's own row: the router, a linear map to one logit per expert, without bias."""
    return nn.Linear(shape[-1], args["experts"], bias=False)


class Tensor(nn.Module):
    def __init__(self, *shape: int):
        super().__init__()
        self.value = nn.Parameter(torch.empty(*shape))


@builds("param")
def param(kind, args, shape):
    return Tensor(*args["dimension"])


@builds("tokens")
def tokens(kind, args, shape):
    return Tensor(args["count"], shape[-1])


@builds("scale")
def scale(kind, args, shape):
    return Tensor(shape[-1])
