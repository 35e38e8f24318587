"""Inputs, fully connected layers and the layers without parameters."""

from __future__ import annotations

from .. import ast
from ..algebra import is_number
from .base import (
    LORA, Choice, Context, Count, Flag, Output, Param, Rate, Real, Size, Word, keras_lora, layer,
    lora_adapters,
)

# Activations have no parameters; each is listed with its Keras and PyTorch class names.
ACTIVATIONS = {
    "relu": ("ReLU",),
    "relu6": ("ReLU6",),
    "leaky_relu": ("LeakyReLU",),
    "elu": ("ELU",),
    "selu": ("SELU",),
    "celu": ("CELU",),
    "gelu": ("GELU",),
    "silu": ("SiLU", "swish", "Swish"),
    "mish": ("Mish",),
    "sigmoid": ("Sigmoid",),
    "hard_sigmoid": ("Hardsigmoid", "HardSigmoid"),
    "hard_swish": ("Hardswish", "HardSwish"),
    "tanh": ("Tanh",),
    "hard_tanh": ("Hardtanh",),
    "softmax": ("Softmax",),
    "log_softmax": ("LogSoftmax",),
    "softplus": ("Softplus",),
    "softsign": ("Softsign",),
    "exponential": (),
    "identity": ("Identity",),
}

# `dense(10, activation=softmax)`, as Keras writes it; the activation adds nothing.
ACTIVATION = Choice(
    "activation",
    "none",
    keyword_only=True,
    choices=("none", "linear", *ACTIVATIONS, *(a for names in ACTIVATIONS.values() for a in names)),
)


@layer(
    "input",
    aliases=("in", "Input", "InputLayer"),
    params=(Choice("data_format", "channels_last", choices=("channels_last", "channels_first")),),
    varargs=Size("size"),
)
def input_layer(call, shape):
    """in(d1, d2, ...): the shape of one example, channels last (no batch axis).
    With data_format=channels_first, in(C, H, W) is read as PyTorch writes it."""
    sizes = call["size"]
    if not sizes:
        raise call.error("needs at least one size, e.g. in(784) or in(20, 20, 3)")
    if call["data_format"] == "channels_first":
        sizes = sizes[1:] + sizes[:1]
    return Output(sizes)


@layer(
    "dense",
    aliases=("Dense", "Linear"),
    params=(
        Size("units", aliases=("out_features",), describe="the number of units"),
        Flag("bias", True, aliases=("use_bias",)),
        ACTIVATION,
        Word("tie", None, keyword_only=True),
        LORA,
    ),
)
def dense(call, shape):
    """inputs × units weights + units biases, acting on the last axis.
    With tie=NAME the weights are those of the layer named NAME, counted there; with
    lora=r, PEFT's adapters add r × (inputs + units) trainable weights."""
    inputs, units = shape[-1], call["units"]
    tied = call["tie"] is not None
    adapters, adapter_note = lora_adapters(call, [(inputs, units)])
    count = Count(
        weights=(0 if tied else inputs * units) + adapters,
        biases=units if call["bias"] else 0,
        factors=() if tied else (("inputs", inputs), ("outputs", units)),
        note=f"shared with {call['tie']}, counted there" if tied else "",
        matrix=(inputs, units),
        tie=call["tie"],
        adapters=adapters,
        adapter_note=adapter_note,
    )
    if not tied:
        count = keras_lora(call, count, [(inputs, units)])
    return Output(shape[:-1] + (units,), count)


def _no_parameters(call, shape):
    return Output(shape)


for _name, _aliases in ACTIVATIONS.items():
    _params = ()
    if _name == "leaky_relu":
        _params = (Real("negative_slope", None, aliases=("alpha",)),)
    elif _name in ("elu", "celu"):
        _params = (Real("alpha", None),)
    elif _name in ("softmax", "log_softmax"):
        _params = (Real("axis", None, aliases=("dim",)),)
    layer(_name, aliases=_aliases, params=_params, doc="activation, no parameters")(_no_parameters)


class Axes(Param):
    """Axes as Keras numbers them, 1 for the first after the batch: 1, or (1, 2)."""

    def convert(self, value, call):
        items = value.items if isinstance(value, ast.Tuple) else (value,)
        axes = tuple(call.size(self.name, item) for item in items)
        if not all(is_number(axis) for axis in axes):
            raise call.error_at(f"{self.name} must be axis numbers, not sizes with names", value)
        return axes


@layer(
    "prelu",
    aliases=("PReLU",),
    params=(
        Size("num_parameters", None, keyword_only=True),
        Axes("shared_axes", None, keyword_only=True),
    ),
)
def prelu(call, shape):
    """A leaky ReLU whose negative slope is learned. PyTorch's nn.PReLU learns one slope,
    or one per channel with num_parameters=C; Keras' PReLU one per input value, shared
    along the axes in shared_axes ((1, 2): one per channel of an image). Without either,
    each convention's own default."""
    number, shared = call["num_parameters"], call["shared_axes"]
    if number is not None and shared is not None:
        raise call.error("give num_parameters (PyTorch's) or shared_axes (Keras'), not both")
    if number is None and shared is None:
        number, shared = (1, None) if call.convention == "torch" else (None, ())
    if number is not None:
        channels = shape[-1]
        if number != 1 and not call.same_shape((number,), (channels,)):
            raise call.error(f"num_parameters must be 1 or the {channels} channels, got {number}")
        slopes, note = number, "one slope" if number == 1 else "one slope per channel"
    else:
        outside = [axis for axis in shared if not 1 <= axis <= len(shape)]
        if outside:
            raise call.error(f"shared_axes: axis {outside[0]} is not one of the input's axes 1 ... {len(shape)}")
        slopes = 1
        for axis, extent in enumerate(shape, start=1):
            if axis not in shared:
                slopes = slopes * extent
        note = "one slope per value" + (" not shared" if shared else "")
    return Output(shape, Count(weights=slopes, note=note))


@layer(
    "bilinear",
    aliases=("Bilinear",),
    params=(
        Size("units", aliases=("out_features",), describe="the number of units"),
        Flag("bias", True),
        Context("other", None, keyword_only=True, aliases=("input2",)),
    ),
)
def bilinear(call, shape):
    """PyTorch's Bilinear: y = x1·A·x2 + b, a units × in1 × in2 tensor A and units
    biases. x1 is the input; x2 the stage named with other=NAME (its last axis is in2),
    or the input itself."""
    other = call["other"]
    first, second = shape[-1], (other if other is not None else shape)[-1]
    units = call["units"]
    count = Count(weights=units * first * second, biases=units if call["bias"] else 0,
                  factors=(("outputs", units), ("inputs", first), ("second inputs", second)))
    return Output(tuple(shape[:-1]) + (units,), count)


@layer(
    "normalization",
    aliases=("Normalization",),
    params=(Real("axis", None),),
)
def normalization(call, shape):
    """Keras' Normalization (preprocessing): the mean and variance of each feature of the
    last axis and the count of examples they were adapted on, all non-trainable: 2C + 1."""
    channels = shape[-1]
    count = Count(non_trainable=2 * channels + 1, non_trainable_note="mean, variance and count, adapted")
    return Output(shape, count)


@layer("dropout", aliases=("Dropout",), params=(Rate("rate", None, aliases=("p",)),))
def dropout(call, shape):
    """Zeroes a fraction of its inputs while training; no parameters."""
    return Output(shape)


@layer("flatten", aliases=("Flatten",))
def flatten(call, shape):
    """All axes into one: (H, W, C) -> (H·W·C)."""
    size = shape[0]
    for extent in shape[1:]:
        size = size * extent
    return Output((size,))


class Cutoffs(Param):
    """Increasing whole numbers, written as a tuple: cutoffs=(2000, 10000)."""

    def convert(self, value, call):
        items = value.items if isinstance(value, ast.Tuple) else (value,)
        numbers = [call.size(self.name, item) for item in items]
        if not all(is_number(number) for number in numbers):
            raise call.error_at(f"{self.name} must be numbers: they decide the clusters", value)
        if any(later <= earlier for earlier, later in zip(numbers, numbers[1:])):
            raise call.error_at(f"{self.name} must increase, got {tuple(numbers)}", value)
        return tuple(numbers)


@layer(
    "adaptive_log_softmax",
    aliases=("AdaptiveLogSoftmaxWithLoss",),
    params=(
        Size("classes", aliases=("n_classes",), describe="the number of classes"),
        Cutoffs("cutoffs"),
        Real("div_value", 4),
        Flag("head_bias", False),
    ),
)
def adaptive_log_softmax(call, shape):
    """PyTorch's AdaptiveLogSoftmaxWithLoss: a head over the shortlist (the classes
    below the first cutoff) and one entry per cluster, D·(shortlist + clusters) weights
    (and as many biases with head_bias=true); cluster i (from 1) projects to
    ⌊D / div_valueⁱ⌋ features and then to its classes, without biases. Gives the
    log-probabilities of every class."""
    features, classes, cutoffs = shape[-1], call["classes"], call["cutoffs"]
    if is_number(classes) and cutoffs[-1] >= classes:
        raise call.error(f"the cutoffs must be below the {classes} classes, got {cutoffs[-1]}")
    bounds = (*cutoffs, classes)
    head = cutoffs[0] + len(cutoffs)
    weights = features * head
    divisor = call["div_value"]
    if is_number(divisor) and divisor <= 0:
        raise call.error(f"div_value must be positive, got {divisor}")
    for cluster, (low, high) in enumerate(zip(bounds, bounds[1:]), start=1):
        hidden = call.algebra.floor_divide(features, divisor**cluster)
        weights = weights + features * hidden + hidden * (high - low)
    count = Count(weights=weights, biases=head if call["head_bias"] else 0,
                  note=f"a head of {head} and {len(cutoffs)} cluster{'s' if len(cutoffs) > 1 else ''}")
    return Output((*shape[:-1], classes), count)
