"""The helpers an exported Keras model uses (`symparam export --to keras`): what
keras.layers has no one class for. An exported module copies the ones it uses, so that
it needs nothing but Keras 3; this file is where they are written and tested.

Tensors are channels last, Keras' own layout and symparam's: (batch, *spatial,
channels) for an image or volume, (batch, steps, features) for a sequence, (batch,
features) for a vector. The helpers use keras.ops only, so they run on every backend.
"""

import keras
from keras import layers


class Tensor(layers.Layer):
    """A learnable tensor off the data path (symparam's param): held, not applied."""

    def __init__(self, *shape, **kwargs):
        super().__init__(**kwargs)
        self.tensor_shape = shape

    def build(self, input_shape):
        self.value = self.add_weight(shape=self.tensor_shape, initializer="zeros")

    def call(self, x):
        return x


class Tokens(layers.Layer):
    """Learnable tokens put before a sequence (a class token, registers)."""

    def __init__(self, count, **kwargs):
        super().__init__(**kwargs)
        self.count = count

    def build(self, input_shape):
        shape = (1, self.count, input_shape[-1])
        self.tokens = self.add_weight(shape=shape, initializer="zeros")

    def call(self, x):
        batch = keras.ops.shape(x)[0]
        tokens = keras.ops.broadcast_to(self.tokens, (batch, *self.tokens.shape[1:]))
        return keras.ops.concatenate([keras.ops.cast(tokens, x.dtype), x], axis=1)


class Scale(layers.Layer):
    """A learned scale per channel (LayerScale)."""

    def __init__(self, init=1.0, **kwargs):
        super().__init__(**kwargs)
        self.init = init

    def build(self, input_shape):
        initializer = keras.initializers.Constant(self.init)
        self.gamma = self.add_weight(shape=(input_shape[-1],), initializer=initializer)

    def call(self, x):
        return x * self.gamma


def tied_matrix(layer):
    """The matrix a tie= shares: an Embedding's table, else a Dense's kernel."""
    return layer.embeddings if isinstance(layer, layers.Embedding) else layer.kernel


class TiedDense(layers.Layer):
    """A dense layer whose kernel is another layer's matrix (tie=NAME): an Embedding's
    table read transposed (an output head sharing the token embedding), or a Dense's
    kernel. It holds its bias alone; Keras counts the shared matrix once, at its owner."""

    def __init__(self, tied, transpose=False, use_bias=True, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.tied, self.transpose, self.use_bias = tied, transpose, use_bias
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        units = tied_matrix(self.tied).shape[0 if self.transpose else 1]
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(shape=(units,), initializer="zeros")

    def call(self, x):
        kernel = tied_matrix(self.tied)
        if self.transpose:
            kernel = keras.ops.transpose(kernel)
        y = keras.ops.matmul(x, kernel)
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)


def freeze(layer):
    """Stop training a layer's weights but its LoRA adapters, as a frozen model is
    fine-tuned with LoRA (trainable=False would stop the adapters too)."""
    for weight in layer.weights:
        if "lora" not in weight.path:
            weight.trainable = False
    return layer


class Attention(layers.Layer):
    """Multi-head attention where MultiHeadAttention and GroupQueryAttention take
    other options: biases on some projections only, norms of queries and keys (over
    each head, or each whole projection), LoRA adapters. Its projections are
    EinsumDense, as theirs are (and KerasHub's models); kv_heads key/value heads are
    shared by groups of query heads. Called as they are: attention(query, value), with
    key=keys when they read another tensor than the values."""

    def __init__(
        self,
        num_heads,
        key_dim,
        kv_heads=None,
        value_dim=None,
        output_dim=None,
        bias=("q", "k", "v", "o"),
        use_gate=False,
        qk_norm=None,
        qk_norm_scope="head",
        qk_norm_bias=True,
        lora_rank=None,
        lora_targets=("q", "v"),
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.heads, self.kv_heads = num_heads, kv_heads or num_heads
        self.key_dim, self.value_dim = key_dim, value_dim or key_dim
        self.output_dim, self.bias, self.use_gate = output_dim, bias, use_gate
        self.qk_norm, self.qk_norm_scope = qk_norm, qk_norm_scope
        self.qk_norm_bias = qk_norm_bias
        self.lora_rank, self.lora_targets = lora_rank, lora_targets

    def projection(self, name, heads, size, input_shape):
        """(batch, steps, features) -> (batch, steps, heads, size)."""
        layer = layers.EinsumDense(
            "abc,cde->abde",
            output_shape=(None, heads, size),
            bias_axes="de" if name in self.bias else None,
            lora_rank=self.lora_rank if name in self.lora_targets else None,
        )
        layer.build(input_shape)
        return layer

    def norm(self):
        """A norm of queries or keys: over the head size, or the whole projection."""
        axis = -1 if self.qk_norm_scope == "head" else [-2, -1]
        if self.qk_norm == "rms":
            return layers.RMSNormalization(axis=axis)
        return layers.LayerNormalization(axis=axis, center=self.qk_norm_bias)

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        self.q = self.projection("q", self.heads, self.key_dim, query_shape)
        self.k = self.projection("k", self.kv_heads, self.key_dim, key_shape)
        self.v = self.projection("v", self.kv_heads, self.value_dim, value_shape)
        self.o = layers.EinsumDense(
            "abcd,cde->abe",
            output_shape=(None, self.output_dim or query_shape[-1]),
            bias_axes="e" if "o" in self.bias else None,
            lora_rank=self.lora_rank if "o" in self.lora_targets else None,
        )
        self.o.build((*query_shape[:-1], self.heads, self.value_dim))
        self.g = None
        if self.use_gate:  # biased as the queries are
            self.g = layers.EinsumDense(
                "abc,cde->abde",
                output_shape=(None, self.heads, self.value_dim),
                bias_axes="de" if "q" in self.bias else None,
            )
            self.g.build(query_shape)
        self.q_norm = self.k_norm = None
        if self.qk_norm:
            self.q_norm, self.k_norm = self.norm(), self.norm()
            self.q_norm.build((*query_shape[:-1], self.heads, self.key_dim))
            self.k_norm.build((*key_shape[:-1], self.kv_heads, self.key_dim))

    def call(self, query, value, key=None):
        key = value if key is None else key
        # each (batch, steps, heads, size)
        q, k, v = self.q(query), self.k(key), self.v(value)
        if self.q_norm is not None:
            q, k = self.q_norm(q), self.k_norm(k)
        # the query heads in kv_heads groups, each reading one key/value head
        batch, steps = keras.ops.shape(q)[0], keras.ops.shape(q)[1]
        groups = self.heads // self.kv_heads
        q = keras.ops.reshape(q, (batch, steps, self.kv_heads, groups, self.key_dim))
        scores = keras.ops.einsum("btkgh,bskh->bkgts", q, k) * self.key_dim**-0.5
        weights = keras.ops.softmax(scores, axis=-1)
        y = keras.ops.einsum("bkgts,bskh->btkgh", weights, v)
        y = keras.ops.reshape(y, (batch, steps, self.heads, self.value_dim))
        if self.g is not None:
            y = y * keras.ops.sigmoid(self.g(query))
        return self.o(y)


class Step(layers.Layer):
    """A recurrent cell (LSTMCell, ...) run for one step from zero states, giving its
    output: symparam's cells read one vector, where layers.RNN runs a cell over a
    sequence."""

    def __init__(self, cell, **kwargs):
        super().__init__(**kwargs)
        self.cell = cell
        # trainable=False given to the step must reach its cell's weights too: Keras
        # passes it on to the layers a layer holds only when it is set after them
        self.cell.trainable = self.trainable

    def build(self, input_shape):
        self.cell.build(input_shape)

    def call(self, x):
        sizes = self.cell.state_size
        sizes = sizes if isinstance(sizes, (list, tuple)) else [sizes]
        batch = keras.ops.shape(x)[0]
        states = [keras.ops.zeros((batch, size), dtype=x.dtype) for size in sizes]
        output, _ = self.cell(x, states)
        return output


def submodel(body, shape, *sizes):
    """`body`, a function of a tensor (an expert, a chain run on each step), as a model
    of its own reading tensors of `shape` (no batch): a layer another layer (a mixture,
    TimeDistributed) can run."""
    inputs = keras.Input(shape=shape)
    return keras.Model(inputs, body(inputs, *sizes))


class Mixture(layers.Layer):
    """A mixture of experts: a router (dense, without bias) scores the experts at each
    position, and the top_k there are weighted by its softmax. Every expert is run on
    every position here (simple, not fast); each must keep the positions."""

    def __init__(self, experts, top_k=2, **kwargs):
        super().__init__(**kwargs)
        self.experts = experts
        self.top_k = min(top_k, len(experts))
        self.router = layers.Dense(len(experts), use_bias=False)

    def build(self, input_shape):
        self.router.build(input_shape)

    def compute_output_shape(self, input_shape):
        # the experts' shape, found without running them (on meta tensors, some Keras
        # operations would otherwise run on real ones)
        return self.experts[0].compute_output_shape(input_shape)

    def call(self, x):
        scores = keras.ops.softmax(self.router(x), axis=-1)
        weights, chosen = keras.ops.top_k(scores, self.top_k)
        experts = keras.ops.arange(len(self.experts))
        picked = keras.ops.cast(chosen[..., None] == experts, scores.dtype)
        gates = keras.ops.sum(picked * weights[..., None], axis=-2)  # 0 if not chosen
        outputs = keras.ops.stack([expert(x) for expert in self.experts], axis=-1)
        return keras.ops.sum(outputs * gates[..., None, :], axis=-1)
