"""The helpers an exported PyTorch model uses (`symparam export --to torch`): what
torch.nn has no one class for. An exported module copies the ones it uses, so that it
needs nothing but torch; this file is where they are written and tested.

Tensors keep PyTorch's layout: (batch, channels, *spatial) for an image or volume,
(batch, steps, features) for a sequence, (batch, features) for a vector. So a tensor of
four or more axes is channels first; one of two or three is channels last.
"""

import math

import torch
from torch import nn


def channels_axis(x: torch.Tensor) -> int:
    """Where a tensor's channels are: first after the batch for images and volumes."""
    return 1 if x.dim() >= 4 else -1


def to_channels_last(x: torch.Tensor) -> torch.Tensor:
    return x.movedim(1, -1) if x.dim() >= 4 else x


def from_channels_last(x: torch.Tensor) -> torch.Tensor:
    return x.movedim(-1, 1) if x.dim() >= 4 else x


class ChannelsLast(nn.Module):
    """A layer that reads the last axis (Linear, LayerNorm, ...) applied to the channels
    of an image: moved last, and back."""

    def __init__(self, layer: nn.Module):
        super().__init__()
        self.layer = layer

    def forward(self, x):
        return from_channels_last(self.layer(to_channels_last(x)))


class ChannelsFirst(nn.Module):
    """A layer that reads channels first (Conv1d, BatchNorm1d, pooling) applied to a
    sequence (batch, steps, channels): transposed, and back if it is still one."""

    def __init__(self, layer: nn.Module):
        super().__init__()
        self.layer = layer

    def forward(self, x):
        y = self.layer(x.transpose(1, 2))
        return y.transpose(1, 2) if y.dim() == 3 else y


def steps_into_batch(x: torch.Tensor) -> torch.Tensor:
    """(batch, steps, ...) as (batch · steps, ...): each step an example of its own."""
    return from_channels_last(to_channels_last(x).flatten(0, 1))


def steps_out_of_batch(y: torch.Tensor, batch: int) -> torch.Tensor:
    """The inverse: (batch · steps, ...) back to (batch, steps, ...)."""
    return from_channels_last(to_channels_last(y).unflatten(0, (batch, -1)))


class LoRALinear(nn.Linear):
    """A linear map with LoRA adapters beside it, as PEFT adds them: W x + B A x."""

    def __init__(self, inputs: int, outputs: int, bias: bool = True, rank: int = 8):
        super().__init__(inputs, outputs, bias=bias)
        self.lora_A = nn.Linear(inputs, rank, bias=False)
        self.lora_B = nn.Linear(rank, outputs, bias=False)

    def forward(self, x):
        return super().forward(x) + self.lora_B(self.lora_A(x))


class TransposedLinear(nn.Module):
    """A linear map whose weight is held (inputs, outputs): the transpose of nn.Linear's,
    so that it can be another layer's matrix, shared (a tie of the other shape)."""

    def __init__(self, inputs: int, outputs: int, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(inputs, outputs))
        self.bias = nn.Parameter(torch.empty(outputs)) if bias else None

    def forward(self, x):
        y = x @ self.weight
        return y if self.bias is None else y + self.bias


def linear(inputs: int, outputs: int, bias: bool = True, rank=None) -> nn.Linear:
    """nn.Linear, or LoRALinear when it has adapters of that rank."""
    if rank is None:
        return nn.Linear(inputs, outputs, bias=bias)
    return LoRALinear(inputs, outputs, bias=bias, rank=rank)


def freeze(module: nn.Module) -> nn.Module:
    """Stop training a module's parameters, its LoRA adapters excepted (PEFT trains those)."""
    for name, parameter in module.named_parameters():
        if "lora_" not in name:
            parameter.requires_grad_(False)
    return module


class Attention(nn.Module):
    """Multi-head attention with separate projections: grouped keys and values
    (kv_heads), per-projection biases, optional learned key/value biases, a gate, norms
    of queries and keys, LoRA adapters; `context` the width of the input keys and
    values read, `values` the values' when they read another input."""

    def __init__(
        self,
        model: int,
        heads: int,
        kv_heads=None,
        key_dim=None,
        value_dim=None,
        out=None,
        bias=("q", "k", "v", "o"),
        context=None,
        values=None,
        bias_kv=False,
        gate=False,
        qk_norm="none",
        qk_norm_scope="head",
        qk_norm_bias=True,
        lora=None,
        lora_targets=("q", "v"),
    ):
        super().__init__()
        memory = context or model
        self.heads, self.kv_heads = heads, kv_heads or heads
        self.key_dim = key_dim or model // heads
        self.value_dim = value_dim or self.key_dim
        q_size, k_size = heads * self.key_dim, self.kv_heads * self.key_dim
        v_size = self.kv_heads * self.value_dim

        def projection(name, inputs, outputs):
            rank = lora if name in lora_targets else None
            return linear(inputs, outputs, bias=name in bias, rank=rank)

        self.q = projection("q", model, q_size)
        self.k = projection("k", memory, k_size)
        self.v = projection("v", values or memory, v_size)
        self.o = projection("o", heads * self.value_dim, out or model)
        self.g = (
            nn.Linear(model, heads * self.value_dim, bias="q" in bias) if gate else None
        )
        self.bias_k = nn.Parameter(torch.empty(1, 1, k_size)) if bias_kv else None
        self.bias_v = nn.Parameter(torch.empty(1, 1, v_size)) if bias_kv else None
        self.q_norm = self.k_norm = None
        if qk_norm != "none":
            sizes = (
                (q_size, k_size)
                if qk_norm_scope == "projection"
                else (self.key_dim,) * 2
            )
            norm = (
                (lambda size: nn.RMSNorm(size))
                if qk_norm == "rms"
                else (lambda size: nn.LayerNorm(size, bias=qk_norm_bias))
            )
            self.q_norm, self.k_norm = norm(sizes[0]), norm(sizes[1])

    def forward(self, x, context=None, values=None):
        # Every axis between the batch and the features is attended over, as Keras'
        # attention_axes=None: the positions flattened into one, then put back.
        positions = x.shape[1:-1]
        x = x.flatten(1, -2)
        context = None if context is None else context.flatten(1, -2)
        values = None if values is None else values.flatten(1, -2)
        memory = x if context is None else context
        q, k = self.q(x), self.k(memory)
        v = self.v(memory if values is None else values)
        if self.bias_k is not None:
            k = torch.cat([k, self.bias_k.expand(k.shape[0], 1, -1)], dim=1)
            v = torch.cat([v, self.bias_v.expand(v.shape[0], 1, -1)], dim=1)
        per_projection = (
            self.q_norm is not None and self.q_norm.normalized_shape[0] == q.shape[-1]
        )
        if per_projection:
            q, k = self.q_norm(q), self.k_norm(k)
        q = q.unflatten(-1, (self.heads, self.key_dim)).transpose(1, 2)
        k = k.unflatten(-1, (self.kv_heads, self.key_dim)).transpose(1, 2)
        v = v.unflatten(-1, (self.kv_heads, self.value_dim)).transpose(1, 2)
        if self.q_norm is not None and not per_projection:
            q, k = self.q_norm(q), self.k_norm(k)
        groups = (
            self.heads // self.kv_heads
        )  # each key/value head serves this many queries
        k, v = k.repeat_interleave(groups, dim=1), v.repeat_interleave(groups, dim=1)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.key_dim)
        y = (scores.softmax(dim=-1) @ v).transpose(1, 2).flatten(-2)
        if self.g is not None:
            y = y * torch.sigmoid(self.g(x))
        return self.o(y).unflatten(1, positions)


class Tensor(nn.Module):
    """A learnable tensor off the data path (symparam's param): held, not applied."""

    def __init__(self, *shape: int):
        super().__init__()
        self.value = nn.Parameter(torch.empty(*shape))

    def forward(self, x):
        return x


class Tokens(nn.Module):
    """Learnable tokens put before a sequence (a class token, registers)."""

    def __init__(self, count: int, dim: int):
        super().__init__()
        self.value = nn.Parameter(torch.empty(1, count, dim))

    def forward(self, x):
        return torch.cat([self.value.expand(x.shape[0], -1, -1), x], dim=1)


class Scale(nn.Module):
    """A learned scale per channel (LayerScale)."""

    def __init__(self, channels: int):
        super().__init__()
        self.gamma = nn.Parameter(torch.empty(channels))

    def forward(self, x):
        return x * self.gamma


class Reshape(nn.Module):
    """To a shape written channels last, as symparam's reshape reads and writes it."""

    def __init__(self, *shape: int):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return from_channels_last(to_channels_last(x).reshape(x.shape[0], *self.shape))


class Select(nn.Module):
    """One position of the first axis (symparam's select: the class token's output)."""

    def __init__(self, index: int):
        super().__init__()
        self.index = index

    def forward(self, x):
        return from_channels_last(to_channels_last(x)[:, self.index])


class Slice(nn.Module):
    """Channels start to stop."""

    def __init__(self, start: int, stop: int):
        super().__init__()
        self.start, self.stop = start, stop

    def forward(self, x):
        return x.narrow(channels_axis(x), self.start, self.stop - self.start)


class Crop(nn.Module):
    """Cut (before, after) from each spatial axis, in the order of the axes."""

    def __init__(self, *cropping):
        super().__init__()
        self.cropping = cropping

    def forward(self, x):
        for axis, (before, after) in enumerate(self.cropping, start=2):
            x = x.narrow(axis, before, x.shape[axis] - before - after)
        return x


class GlobalPool(nn.Module):
    """The mean or maximum over every spatial axis (or the steps of a sequence)."""

    def __init__(self, mode: str = "avg", keepdims: bool = False):
        super().__init__()
        self.mode, self.keepdims = mode, keepdims

    def forward(self, x):
        axes = tuple(range(2, x.dim())) if x.dim() >= 4 else (1,)
        if self.mode == "avg":
            return x.mean(dim=axes, keepdim=self.keepdims)
        return x.amax(dim=axes, keepdim=self.keepdims)


class Recurrent(nn.Module):
    """nn.RNN, nn.LSTM or nn.GRU giving its outputs at every step, or at the last."""

    def __init__(self, layer: nn.Module, return_sequences: bool = True):
        super().__init__()
        self.layer, self.return_sequences = layer, return_sequences

    def forward(self, x):
        outputs = self.layer(x)[0]
        return outputs if self.return_sequences else outputs[:, -1]


class Bidirectional(nn.Module):
    """A recurrent layer run forward over the steps and its copy run backward, their
    outputs merged: concatenated, or added, multiplied, averaged."""

    def __init__(
        self, forward_layer: nn.Module, backward_layer: nn.Module, merge: str = "concat"
    ):
        super().__init__()
        self.forward_layer, self.backward_layer, self.merge = (
            forward_layer,
            backward_layer,
            merge,
        )

    def forward(self, x):
        ahead, back = self.forward_layer(x), self.backward_layer(x.flip(1))
        if back.dim() == x.dim():  # every step's output: put back in order
            back = back.flip(1)
        if self.merge == "concat":
            return torch.cat([ahead, back], dim=-1)
        if self.merge == "sum":
            return ahead + back
        return ahead * back if self.merge == "mul" else (ahead + back) / 2


class Cell(nn.Module):
    """nn.RNNCell, nn.LSTMCell or nn.GRUCell: one step, its hidden state as the output."""

    def __init__(self, cell: nn.Module):
        super().__init__()
        self.cell = cell

    def forward(self, x):
        return self.step(x)[0]

    def step(self, x, state=None):
        """(output, state) of one step from the state before: LSTMCell's is (h, c)."""
        state = self.cell(x, state)
        return (state[0] if isinstance(state, tuple) else state), state


class Recurrence(nn.Module):
    """Keras' RNN of cells: the chain run at each step, each cell from its own state;
    the last step's output, or every step's."""

    def __init__(self, chain: nn.ModuleList, return_sequences: bool = False):
        super().__init__()
        self.chain, self.return_sequences = chain, return_sequences

    def forward(self, x):
        states, outputs = [None] * len(self.chain), []
        for t in range(x.shape[1]):
            y = x[:, t]
            for index, layer in enumerate(self.chain):
                if isinstance(layer, Cell):
                    y, states[index] = layer.step(y, states[index])
                else:
                    y = layer(y)
            outputs.append(y)
        return torch.stack(outputs, dim=1) if self.return_sequences else outputs[-1]


class AdaptiveLogSoftmax(nn.AdaptiveLogSoftmaxWithLoss):
    """The log-probabilities of every class, at every position (log_prob)."""

    def forward(self, x):
        return self.log_prob(x.flatten(0, -2)).unflatten(0, x.shape[:-1])


class Exponential(nn.Module):
    def forward(self, x):
        return torch.exp(x)


class Mixture(nn.Module):
    """A mixture of experts: a router scores the experts per position, the top_k
    are run and their outputs weighted by the router's softmax."""

    def __init__(self, router: nn.Module, experts: nn.ModuleList, top_k: int = 2):
        super().__init__()
        self.router, self.experts, self.top_k = router, experts, top_k

    def forward(self, x):
        # routed per position over the channels; each expert reads x in its own layout
        scores = self.router(to_channels_last(x)).softmax(dim=-1)
        weights, chosen = scores.topk(min(self.top_k, len(self.experts)), dim=-1)
        outputs = torch.stack(
            [to_channels_last(expert(x)) for expert in self.experts], dim=-2
        )
        index = chosen.unsqueeze(-1).expand(*chosen.shape, outputs.shape[-1])
        picked = outputs.gather(-2, index)
        return from_channels_last((picked * weights.unsqueeze(-1)).sum(dim=-2))
