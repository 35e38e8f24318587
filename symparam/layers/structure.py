"""Layers made of chains: residual connections, parallel branches, mixtures of experts.

Their chains are counted first, as groups of their own; these definitions receive the
chains' output shapes and say how the branches meet and what they add themselves
(moe's router), and how many times the chains count (moe's experts).
"""

from __future__ import annotations

from ..algebra import is_integer, is_number
from ..values import shape_text as format_shape
from ..values import show
from .base import Choice, Count, Flag, Output, Param, Size, Stage, layer, written


@layer(
    "residual",
    aliases=("Residual", "skip"),
    params=(Stage("body"), Stage("shortcut", None, aliases=("projection",))),
)
def residual(call, shape):
    """body(x) + x, or body(x) + shortcut(x); the two shapes must match."""
    out = call["body"]
    skip = call["shortcut"] if call["shortcut"] is not None else shape
    if not call.same_shape(out, skip):
        what = "the shortcut gives" if call["shortcut"] is not None else "its input is"
        raise call.error(
            f"cannot add the branch's output {format_shape(out)} to the skip connection: "
            f"{what} {format_shape(skip)}; give a projection with shortcut=..."
        )
    return Output(out)


def _one_step(shape):
    """What a chain run at each step reads: the input without its first axis."""
    return tuple(shape[1:]) if len(shape) >= 2 else None


@layer(
    "time_distributed",
    aliases=("TimeDistributed",),
    params=(Stage("layer", reads=_one_step),),
)
def time_distributed(call, shape):
    """Keras' TimeDistributed: the chain applied to each step of (T, ...) alike, its
    weights shared by the steps: its count once, (T, ...) -> (T, its output)."""
    if len(shape) < 2:
        raise call.error(f"applies its chain to each step of (steps, ...), got {format_shape(shape)}")
    return Output((shape[0], *call["layer"]))


@layer(
    "recurrent",
    params=(Stage("cell", reads=lambda shape: tuple(shape[1:]) if len(shape) == 2 else None),
            Flag("return_sequences", False)),
)
def recurrent(call, shape):
    """Keras' RNN: its cell run over the steps of (T, features), one set of weights: the
    cell's count. A chain of cells is Keras' StackedRNNCells, each reading the one
    before. The last step's output, or every step's with return_sequences=true."""
    if len(shape) != 2:
        raise call.error(f"runs its cells over (steps, features), got {format_shape(shape)}")
    out = call["cell"]
    if len(out) != 1:
        raise call.error(f"its cells must give one vector per step, got {format_shape(out)}")
    return Output((shape[0], *out) if call["return_sequences"] else out)


@layer(
    "bidirectional",
    aliases=("Bidirectional",),
    params=(Stage("layer"), Choice("merge", "concat", choices=("concat", "sum", "mul", "ave"),
                                   aliases=("merge_mode",))),
)
def bidirectional(call, shape):
    """Keras' Bidirectional: the recurrent layer twice, forward and backward over the
    steps, each its own weights (2 × its count); their outputs concatenated (the last
    axis twice as wide), or added, multiplied or averaged (merge=sum, mul, ave)."""
    out = call["layer"]
    if call["merge"] == "concat":
        out = (*out[:-1], 2 * out[-1])
    return Output(out, times=2)


# The last axis of the kernel Keras' SpectralNormalization keeps its vector u for, by
# the kind wrapped: (a layer's arguments, its input shape) -> that extent.
KERNEL_LAST_AXIS = {
    "dense": lambda args, shape: args["units"],
    **{f"conv{rank}d": (lambda args, shape: args["filters"]) for rank in (1, 2, 3)},
    **{f"conv{rank}d_transpose": (lambda args, shape: shape[-1]) for rank in (1, 2, 3)},
    **{f"depthwise_conv{rank}d": (lambda args, shape: args["depth_multiplier"]) for rank in (1, 2)},
    "embedding": lambda args, shape: args["dim"],
    "einsum_dense": lambda args, shape: _einsum_kernel_last(args, shape),
}


def _einsum_kernel_last(args, shape):
    """The extent of an EinsumDense kernel's last axis: its letter's in the input or the output."""
    left, outputs = args["equation"].replace(" ", "").split("->")
    inputs, kernel = left.split(",")
    extents = dict(zip(inputs[1:], shape))
    extents.update((letter, extent) for letter, extent in zip(outputs[1:], args["output_shape"])
                   if letter not in extents)
    return extents[kernel[-1]]


@layer(
    "spectral_norm",
    aliases=("SpectralNormalization",),
    params=(Stage("layer"), Size("power_iterations", 1)),
)
def spectral_norm(call, shape):
    """Its layer's weights divided by their largest singular value, estimated by power
    iteration. Keras' SpectralNormalization keeps the vector u of the kernel's last axis,
    non-trainable (dense: its units; a convolution: its filters; an EinsumDense: its
    kernel's last axis); PyTorch's spectral_norm
    keeps u and v as buffers, no parameters."""
    (nodes,) = call.chains["layer"]
    inner = nodes[0] if len(nodes) == 1 else None
    if inner is None or inner.children or inner.kind not in KERNEL_LAST_AXIS:
        raise call.error(f"wraps one layer with a kernel ({', '.join(sorted(KERNEL_LAST_AXIS))}), got "
                         f"{f'a chain of {len(nodes)} layers' if len(nodes) != 1 else inner.kind}")
    kept = KERNEL_LAST_AXIS[inner.kind](inner.arguments, inner.input_shape) if call.convention == "keras" else 0
    call.values["wrapped"] = (inner.kind, inner.arguments, inner.input_shape)  # for building it again
    return Output(call["layer"], Count(non_trainable=kept, non_trainable_note="the power iteration's vector u"))


class Axis(Param):
    """An axis as Keras numbers it (1 the first after the batch, -1 the last): concrete."""

    def convert(self, value, call):
        number = call.number(self.name, value)
        if not (is_number(number) and is_integer(number) and number != 0):
            raise call.error_at(f"{self.name} must be a whole number other than 0, like -1 or 2", value)
        return int(number)


@layer(
    "parallel",
    aliases=("Parallel", "branches"),
    params=(
        Choice("merge", "concat", choices=("add", "concat", "multiply", "average", "maximum")),
        Axis("axis", -1, keyword_only=True),
    ),
    varargs=Stage("branches"),
)
def parallel(call, shape):
    """Branches fed the same input, merged by add, multiply, average, maximum (shapes
    broadcast as numpy's do: a (1, 1, C) gate multiplies an (H, W, C) map) or concat
    (along the last axis, or axis=k as Keras' Concatenate numbers it: 1 the first axis
    after the batch, −1 the last)."""
    outs = call["branches"]
    if len(outs) < 2:
        raise call.error("needs at least two branches, e.g. parallel(dense(f), dense(f), merge=add)")
    if call["merge"] != "concat":
        if written(call, "axis") is not None:
            raise call.error_at("axis is where merge=concat joins the branches", written(call, "axis"))
        return Output(_broadcast(call, outs))
    rank = len(outs[0])
    axis = call["axis"]
    if not (1 <= axis <= rank or -rank <= axis <= -1) or any(len(out) != rank for out in outs):
        raise call.error_at(f"axis={axis}: the branches' outputs have axes 1 ... {rank} (or -1 ... -{rank}), "
                            "the same number each", written(call, "axis") or call.node)
    at = axis - 1 if axis > 0 else rank + axis
    others = [tuple(out[:at]) + tuple(out[at + 1:]) for out in outs]
    if any(not call.same_shape(other, others[0]) for other in others[1:]):
        raise call.error(
            f"merge=concat needs branches that differ only along the axis joined ({axis}), got "
            + " and ".join(format_shape(o) for o in outs)
        )
    joined = outs[0][at]
    for out in outs[1:]:
        joined = joined + out[at]
    return Output(tuple(outs[0][:at]) + (joined,) + tuple(outs[0][at + 1:]))



def _broadcast(call, outs) -> tuple:
    """The shape of an element-wise merge: axes aligned from the last; along each, the
    extents must agree, or be 1 (numpy's rule)."""
    merged = list(outs[0])
    for out in outs[1:]:
        if len(out) > len(merged):
            merged = [1] * (len(out) - len(merged)) + merged
        offset = len(merged) - len(out)
        for axis, extent in enumerate(out):
            current = merged[offset + axis]
            if _is_one(extent) or call.same_shape((extent,), (current,)):
                continue
            if not _is_one(current):
                raise call.error(
                    f"merge={call['merge']} needs shapes that broadcast (each axis, from the "
                    f"last, equal or 1), got " + " and ".join(format_shape(o) for o in outs)
                )
            merged[offset + axis] = extent
    return tuple(merged)


def _is_one(extent) -> bool:
    return is_number(extent) and extent == 1


@layer("frozen", aliases=("freeze",), params=(Stage("body"),))
def frozen(call, shape):
    """The chain inside with its parameters not trained (a pretrained backbone); LoRA
    adapters inside stay trainable."""
    return Output(call["body"])


@layer(
    "moe",
    aliases=("mixture_of_experts", "MoE"),
    params=(
        Size("experts", aliases=("num_experts",), describe="the number of experts"),
        Stage("expert"),
        Size("top_k", None),
    ),
)
def moe(call, shape):
    """experts × the expert chain's parameters + a router of D·experts weights (no bias)."""
    experts, top_k = call["experts"], call["top_k"]
    if is_number(experts) and is_number(top_k) and top_k > experts:
        raise call.error(f"top_k={show(top_k)} picks more experts than the {show(experts)} there are")
    router = shape[-1] * experts
    count = Count(weights=router, factors=(("inputs", shape[-1]), ("experts (router)", experts)))
    return Output(call["expert"], count, times=experts)
