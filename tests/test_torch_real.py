"""What real architectures need, checked against PyTorch 2.13, transformers and PEFT
under convention="torch": learnable tensors (param, tokens, scale), attention variants
(biases on some projections, grouped queries, qk_norm, LoRA), trainable=false and
frozen(...), gates that broadcast, and PyTorch's ceil_mode on pools.

Each case is a symparam expression and the equivalent model, built independently: a
torch module written here by hand, or a transformers model built from a config on the
meta device (no download, no memory), wrapped by PEFT where adapters are the point. The
expected count is `sum(p.numel() for p in model.parameters())`, the trainable split
comes from `p.requires_grad`, and the expected shape is that of a meta tensor pushed
through the model (batch axis dropped, channels last). Where a figure is published,
torch is first checked to give it. Nothing expected comes from symparam.
"""

from __future__ import annotations

import itertools

import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch not installed: pip install torch==2.13.0 to run the checks against it"
)
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

import symparam  # noqa: E402

# transformers' notes on deprecations and on attention modules used on their own
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::UserWarning")

CF, CL = "channels_first", "channels_last"  # how the torch model gives its output


def measure(make, torch_input, tokens=False):
    """(total, trainable, output shape without the batch axis) of `make()` on the meta device,
    fed a batch of two (a merge that broadcasts only for a batch of one would fail)."""
    with torch.device("meta"):
        model = make().eval()
        dtype = torch.long if tokens else torch.float
        output = model(torch.zeros(2, *torch_input, dtype=dtype))
    if isinstance(output, tuple):  # attention modules return (output, weights)
        output = output[0]
    if hasattr(output, "logits"):  # a transformers causal LM
        output = output.logits
    parameters = list(model.parameters())  # a shared (tied) parameter is listed once
    total = sum(p.numel() for p in parameters)
    trainable = sum(p.numel() for p in parameters if p.requires_grad)
    return total, trainable, tuple(output.shape[1:])


def check(text, make, torch_input, layout=CL, tokens=False, published=None, **sizes):
    """symparam's count, trainable split and output shape for `text` equal torch's."""
    total, trainable, shape = measure(make, torch_input, tokens)
    if published is not None:
        assert total == published  # torch agrees with the published figure
    if layout == CF and len(shape) > 1:
        shape = shape[1:] + shape[:1]  # (C, *spatial) -> (*spatial, C)
    network = symparam.parse(text, convention="torch", **sizes)
    assert (network.value, network.output_shape) == (total, shape)
    assert (int(network.trainable), int(network.non_trainable)) == (trainable, total - trainable)
    assert sum(row.params for row in network.layers) == total
    return network


def cases(*rows):
    """(expression, make, torch input, layout=CL) rows, each id'd by the expression."""
    return [pytest.param(*row, *(CL,) * (4 - len(row)), id=row[0].replace(" ", ""))
            for row in rows]


def freeze(module, keep=()):
    """requires_grad=False on every parameter but those whose name contains one of `keep`."""
    for name, parameter in module.named_parameters():
        if not any(word in name for word in keep):
            parameter.requires_grad_(False)
    return module


# ------------------------------------------------------------------ learnable tensors


class Param(nn.Module):
    """A learnable tensor beside the data path; the data passes through (or adds it)."""

    def __init__(self, *shape, trainable=True, add=False):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(*shape), requires_grad=trainable)
        self.add = add

    def forward(self, x):
        return x + self.weight if self.add else x


class Tokens(nn.Module):
    """ViT's class token (n = 1) or register tokens: (1, n, d) put before the sequence."""

    def __init__(self, n, d):
        super().__init__()
        self.tokens = nn.Parameter(torch.zeros(1, n, d))

    def forward(self, x):
        return torch.cat([self.tokens.expand(x.shape[0], -1, -1), x], dim=1)


class LayerScale(nn.Module):
    """ConvNeXt's γ: one per channel; torchvision keeps it (C, 1, 1) for a channels-first map."""

    def __init__(self, channels, init=1e-6, channels_first=False):
        super().__init__()
        shape = (channels, 1, 1) if channels_first else (channels,)
        self.gamma = nn.Parameter(torch.full(shape, init))

    def forward(self, x):
        return x * self.gamma


class Permute(nn.Module):
    def __init__(self, *dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return x.permute(*self.dims)


class Residual(nn.Module):
    def __init__(self, *body):
        super().__init__()
        self.body = nn.Sequential(*body)

    def forward(self, x):
        return x + self.body(x)


def convnext_block(c):
    """torchvision's CNBlock: depthwise 7×7, LayerNorm and the MLP channels last, γ."""
    return Residual(nn.Conv2d(c, c, 7, padding=3, groups=c), Permute(0, 2, 3, 1),
                    nn.LayerNorm(c, eps=1e-6), nn.Linear(c, 4 * c), nn.GELU(),
                    nn.Linear(4 * c, c), Permute(0, 3, 1, 2), LayerScale(c, channels_first=True))


class MiniViT(nn.Module):
    """torchvision's VisionTransformer, small: patches, a class token, position embeddings."""

    def __init__(self, d=64, patch=8, image=32, heads=4, mlp=128, classes=10):
        super().__init__()
        self.conv_proj = nn.Conv2d(3, d, patch, patch)
        self.class_token = Tokens(1, d)
        self.pos_embedding = Param(1, (image // patch) ** 2 + 1, d, add=True)
        self.ln_1, self.ln_2, self.ln = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.attention = nn.MultiheadAttention(d, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(d, mlp), nn.GELU(), nn.Linear(mlp, d))
        self.head = nn.Linear(d, classes)

    def forward(self, x):
        x = self.conv_proj(x).flatten(2).transpose(1, 2)
        x = self.pos_embedding(self.class_token(x))
        h = self.ln_1(x)
        x = x + self.attention(h, h, h, need_weights=False)[0]
        x = x + self.mlp(self.ln_2(x))
        return self.head(self.ln(x)[:, 0])


MINI_VIT = ("in(32, 32, 3) -> conv2d(64, 8, stride=8) -> reshape(16, 64) -> tokens(1)"
            " -> param(17, 64) -> residual(layer_norm -> attention(4))"
            " -> residual(layer_norm -> dense(128) -> gelu -> dense(64))"
            " -> layer_norm -> select(0) -> dense(10)")

TENSORS = cases(
    ("in(10) -> param(3, 4, 5)", lambda: Param(3, 4, 5), (10,)),
    ("in(10, 16) -> param(10, 16)", lambda: Param(10, 16, add=True), (10, 16)),
    ("in(10, 16) -> param(1, 10, 16)", lambda: Param(1, 10, 16, add=True), (10, 16)),
    ("in(10, 16) -> param(16)", lambda: Param(16, add=True), (10, 16)),
    ("in(10) -> param((2*7 - 1)^2, 12)", lambda: Param(169, 12), (10,)),  # Swin's bias table
    # Whisper's sinusoidal positions: kept in the model, not trained
    ("in(50, 16) -> param(50, 16, trainable=false)",
     lambda: Param(50, 16, trainable=False, add=True), (50, 16)),
    ("in(50, 16) -> param(50, 16, trainable=true)", lambda: Param(50, 16, add=True), (50, 16)),
    ("in(196, 768) -> tokens(1)", lambda: Tokens(1, 768), (196, 768)),
    ("in(10, 32) -> tokens(4)", lambda: Tokens(4, 32), (10, 32)),
    ("in(10, 32) -> cls_token(1) -> register_tokens(4)",
     lambda: nn.Sequential(Tokens(1, 32), Tokens(4, 32)), (10, 32)),
    ("in(10, 32) -> tokens(2, trainable=false)",
     lambda: freeze(Tokens(2, 32)), (10, 32)),
    ("in(7, 7, 96) -> scale", lambda: LayerScale(96, channels_first=True), (96, 7, 7), CF),
    ("in(10, 32) -> scale(init=1e-6)", lambda: LayerScale(32), (10, 32)),
    ("in(10, 32) -> layer_scale(init_value=0.1)", lambda: LayerScale(32, 0.1), (10, 32)),
    ("in(8, 8, 32) -> residual(depthwise_conv2d(7, padding=3) -> layer_norm -> dense(128)"
     " -> gelu -> dense(32) -> scale)", lambda: convnext_block(32), (32, 8, 8), CF),
    (MINI_VIT, MiniViT, (3, 32, 32)),
)


@pytest.mark.parametrize("text, make, torch_input, layout", TENSORS)
def test_learnable_tensors(text, make, torch_input, layout):
    check(text, make, torch_input, layout)


def test_param_with_a_size_by_name():
    network = check("in(10, d) -> param(d) -> param(T, d)",
                    lambda: nn.Sequential(Param(16, add=True), Param(10, 16, add=True)), (10, 16),
                    d=16, T=10)
    assert [row.params for row in network.layers if row.params] == [16, 160]


# ------------------------------------------------------------------ attention by hand


class LoRALinear(nn.Linear):
    """A linear map with, if rank is given, LoRA's A (in → r) and B (r → out) beside it."""

    def __init__(self, inputs, outputs, bias=True, rank=None):
        super().__init__(inputs, outputs, bias=bias)
        self.lora_A = nn.Linear(inputs, rank, bias=False) if rank else None
        self.lora_B = nn.Linear(rank, outputs, bias=False) if rank else None

    def forward(self, x):
        y = super().forward(x)
        return y if self.lora_A is None else y + self.lora_B(self.lora_A(x))


class Attention(nn.Module):
    """Grouped-query self-attention by hand: biases on the named projections, norms on
    queries and keys over the head dimension or over whole projections, LoRA adapters."""

    def __init__(self, d, heads, kv_heads=None, head_dim=None, bias="qkvo", qk_norm=None,
                 scope="head", norm_bias=True, lora=None, lora_targets="qv"):
        super().__init__()
        self.heads, self.kv_heads = heads, kv_heads or heads
        self.head_dim = head_dim or d // heads
        q, kv = self.heads * self.head_dim, self.kv_heads * self.head_dim
        sizes = {"q": (d, q), "k": (d, kv), "v": (d, kv), "o": (q, d)}
        self.proj = nn.ModuleDict({
            name: LoRALinear(i, o, bias=name in bias, rank=lora if name in lora_targets else None)
            for name, (i, o) in sizes.items()})
        self.scope = scope
        self.q_norm = self.k_norm = None
        if qk_norm:
            q_size, k_size = (self.head_dim,) * 2 if scope == "head" else (q, kv)
            norm = nn.RMSNorm if qk_norm == "rms" else lambda n: nn.LayerNorm(n, bias=norm_bias)
            self.q_norm, self.k_norm = norm(q_size), norm(k_size)

    def forward(self, x):
        B, T, _ = x.shape
        q, k, v = (self.proj[name](x) for name in "qkv")
        if self.q_norm is not None and self.scope == "projection":
            q, k = self.q_norm(q), self.k_norm(k)
        q = q.view(B, T, self.heads, self.head_dim).transpose(1, 2)
        k, v = (t.view(B, T, self.kv_heads, self.head_dim).transpose(1, 2) for t in (k, v))
        if self.q_norm is not None and self.scope == "head":
            q, k = self.q_norm(q), self.k_norm(k)
        a = F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
        return self.proj["o"](a.transpose(1, 2).reshape(B, T, -1))


def attention(*args, frozen=False, **kwargs):
    """A hand-built Attention; frozen: all but the adapters not trained."""
    return lambda: freeze(Attention(*args, **kwargs), keep=("lora_",)) if frozen else Attention(
        *args, **kwargs)


ATTENTION_BY_HAND = cases(
    ("in(10, 64) -> attention(8)", attention(64, 8), (10, 64)),
    ("in(10, 64) -> attention(8, bias=false)", attention(64, 8, bias=""), (10, 64)),
    ("in(10, 64) -> attention(8, bias=o)", attention(64, 8, bias="o"), (10, 64)),
    ("in(10, 64) -> attention(8, bias=(q, v, o))", attention(64, 8, bias="qvo"), (10, 64)),
    ("in(10, 64) -> attention(8, kv_heads=2, bias=(q, k, v))",
     attention(64, 8, 2, bias="qkv"), (10, 64)),
    ("in(10, 64) -> attention(8, kv_heads=1, bias=(k, v))",  # multi-query
     attention(64, 8, 1, bias="kv"), (10, 64)),
    ("in(10, 64) -> attention(8, kv_heads=2, key_dim=16, bias=false)",
     attention(64, 8, 2, head_dim=16, bias=""), (10, 64)),
    ("in(10, 64) -> attention(8, kv_heads=2, key_dim=16, bias=false, qk_norm=rms)",
     attention(64, 8, 2, head_dim=16, bias="", qk_norm="rms"), (10, 64)),
    ("in(10, 64) -> attention(8, kv_heads=2, bias=false, qk_norm=layer)",
     attention(64, 8, 2, bias="", qk_norm="layer"), (10, 64)),
    ("in(10, 64) -> attention(8, kv_heads=2, bias=false, qk_norm=layer, qk_norm_bias=false)",
     attention(64, 8, 2, bias="", qk_norm="layer", norm_bias=False), (10, 64)),
    ("in(10, 64) -> attention(8, kv_heads=2, bias=false, qk_norm=rms, qk_norm_scope=projection)",
     attention(64, 8, 2, bias="", qk_norm="rms", scope="projection"), (10, 64)),
    ("in(10, 64) -> attention(8, kv_heads=2, qk_norm=layer, qk_norm_scope=projection)",
     attention(64, 8, 2, qk_norm="layer", scope="projection"), (10, 64)),
    ("in(10, 64) -> attention(8, bias=false, lora=4)", attention(64, 8, bias="", lora=4), (10, 64)),
    ("in(10, 64) -> attention(8, kv_heads=2, lora=4, lora_targets=(k, o))",
     attention(64, 8, 2, lora=4, lora_targets="ko"), (10, 64)),
    ("in(10, 64) -> attention(8, bias=false, lora=2, lora_targets=true)",
     attention(64, 8, bias="", lora=2, lora_targets="qkvo"), (10, 64)),
    ("in(10, 64) -> attention(8, kv_heads=2, key_dim=16, lora=4, target_modules=(q, k, v))",
     attention(64, 8, 2, head_dim=16, lora=4, lora_targets="qkv"), (10, 64)),
    # frozen, the adapters alone trained
    ("in(10, 64) -> frozen(attention(8, bias=false, lora=4))",
     attention(64, 8, bias="", lora=4, frozen=True), (10, 64)),
    ("in(10, 64) -> attention(8, kv_heads=2, bias=(q, k, v), lora=4, trainable=false)",
     attention(64, 8, 2, bias="qkv", lora=4, frozen=True), (10, 64)),
    ("in(10, 64) -> attention(8, kv_heads=2, qk_norm=rms, trainable=false)",
     attention(64, 8, 2, qk_norm="rms", frozen=True), (10, 64)),
)


@pytest.mark.parametrize("text, make, torch_input, layout", ATTENTION_BY_HAND)
def test_attention_by_hand(text, make, torch_input, layout):
    check(text, make, torch_input, layout)


class DenseLoRA(nn.Module):
    def __init__(self, inputs, units, rank, bias=True):
        super().__init__()
        self.fc = LoRALinear(inputs, units, bias=bias, rank=rank)

    def forward(self, x):
        return self.fc(x)


DENSE_LORA = cases(
    ("in(32) -> dense(16, lora=4)", lambda: DenseLoRA(32, 16, 4), (32,)),
    ("in(10, 32) -> dense(16, bias=false, lora_rank=8)",
     lambda: DenseLoRA(32, 16, 8, bias=False), (10, 32)),
    ("in(32) -> frozen(dense(16, lora=4))",
     lambda: freeze(DenseLoRA(32, 16, 4), keep=("lora_",)), (32,)),
    ("in(32) -> dense(16, lora=4, trainable=false) -> dense(3)",
     lambda: nn.Sequential(freeze(DenseLoRA(32, 16, 4), keep=("lora_",)), nn.Linear(16, 3)), (32,)),
)


@pytest.mark.parametrize("text, make, torch_input, layout", DENSE_LORA)
def test_dense_lora_by_hand(text, make, torch_input, layout):
    check(text, make, torch_input, layout)


# ------------------------------------------------------------------ attention of transformers


def causal_lm(config_name, **config):
    """A transformers causal LM of `config_name` built from its config (on the current device)."""
    transformers = pytest.importorskip("transformers")
    kind = getattr(transformers, config_name, None)
    if kind is None:
        pytest.skip(f"this transformers has no {config_name}")
    config = kind(**config)
    return transformers.AutoModelForCausalLM.from_config(config)


def small_lm(config_name, **config):
    """One decoder layer 64 wide, 8 heads; tiny vocabulary and MLP (not compared)."""
    sizes = dict(vocab_size=32, hidden_size=64, intermediate_size=32, num_hidden_layers=1,
                 num_attention_heads=8, bos_token_id=None, eos_token_id=None, pad_token_id=None)
    return causal_lm(config_name, **{**sizes, **config})


def with_lora(model, rank, targets):
    peft = pytest.importorskip("peft")
    return peft.get_peft_model(model, peft.LoraConfig(r=rank, target_modules=list(targets)))


class DecoderAttention(nn.Module):
    """The self-attention of a causal LM's first decoder layer, fed its rotary positions;
    the module's parameters are the attention's alone (rotary embeddings have none)."""

    def __init__(self, model):
        super().__init__()
        self.attention = model.model.layers[0].self_attn
        self.rotary = [model.model.rotary_emb]  # a list: not registered, counted nowhere
        assert not list(model.model.rotary_emb.parameters())

    def forward(self, x):
        positions = torch.arange(x.shape[1])[None]
        cosine_sine = self.rotary[0](x, positions)
        return self.attention(x, position_embeddings=cosine_sine, attention_mask=None)[0]


def hf_attention(config_name, lora=None, targets=("q_proj", "v_proj"), **config):
    def make():
        model = small_lm(config_name, **config)
        if lora is not None:
            with_lora(model, lora, targets)  # in place: the base is frozen, the adapters not
        return DecoderAttention(model)
    return make


def whisper_attention():
    transformers = pytest.importorskip("transformers")
    from transformers.models.whisper.modeling_whisper import WhisperAttention

    config = transformers.WhisperConfig(d_model=64, encoder_attention_heads=8)
    config._attn_implementation = "sdpa"
    return WhisperAttention(64, 8, config=config)  # k_proj has no bias; q, v and out_proj do


ATTENTION_HF = cases(
    # Qwen2: biases on q, k and v, none on o; grouped queries
    ("in(7, 64) -> attention(8, kv_heads=2, bias=(q, k, v))",
     hf_attention("Qwen2Config", num_key_value_heads=2), (7, 64)),
    # LLaMA: no biases; attention_bias=True puts them on all four
    ("in(7, 64) -> attention(8, kv_heads=2, bias=false)",
     hf_attention("LlamaConfig", num_key_value_heads=2), (7, 64)),
    ("in(7, 64) -> attention(8, bias=false)", hf_attention("LlamaConfig"), (7, 64)),
    ("in(7, 64) -> attention(8, kv_heads=4, bias=true)",
     hf_attention("LlamaConfig", num_key_value_heads=4, attention_bias=True), (7, 64)),
    # Whisper: biases on q, v and the output projection
    ("in(7, 64) -> attention(8, bias=(q, v, o))", whisper_attention, (7, 64)),
    # Qwen3: RMS norms of head_dim on queries and keys, shared by the heads; 8 × 16 ≠ 64
    ("in(7, 64) -> attention(8, kv_heads=2, key_dim=16, bias=false, qk_norm=rms)",
     hf_attention("Qwen3Config", num_key_value_heads=2, head_dim=16), (7, 64)),
    ("in(7, 64) -> attention(8, kv_heads=4, key_dim=32, bias=true, qk_norm=rms)",
     hf_attention("Qwen3Config", num_key_value_heads=4, head_dim=32, attention_bias=True), (7, 64)),
    # OLMo-2: RMS norms over the whole query (8·8) and key (2·8) projections
    ("in(7, 64) -> attention(8, kv_heads=2, bias=false, qk_norm=rms, qk_norm_scope=projection)",
     hf_attention("Olmo2Config", num_key_value_heads=2), (7, 64)),
    ("in(7, 64) -> attention(8, bias=false, qk_norm=rms, qk_norm_scope=projection)",
     hf_attention("Olmo2Config"), (7, 64)),
    # a layer norm per head, not shared (Cohere: one (heads, head_dim) weight; StableLM: a
    # ModuleList of per-head LayerNorms), no bias: as many weights as the projection scope
    ("in(7, 64) -> attention(8, kv_heads=2, bias=false, qk_norm=layer, qk_norm_scope=projection,"
     " qk_norm_bias=false)",
     hf_attention("CohereConfig", num_key_value_heads=2, use_qk_norm=True), (7, 64)),
    ("in(7, 64) -> attention(8, kv_heads=2, bias=(q, k, v), qk_norm=layer,"
     " qk_norm_scope=projection, qk_norm_bias=false)",
     hf_attention("StableLmConfig", num_key_value_heads=2, qk_layernorm=True, use_qkv_bias=True),
     (7, 64)),
    # PEFT's LoRA on a frozen model: the adapters alone trained
    ("in(7, 64) -> frozen(attention(8, bias=false, lora=4))",
     hf_attention("LlamaConfig", lora=4), (7, 64)),
    ("in(7, 64) -> frozen(attention(8, kv_heads=2, bias=false, lora=4, lora_targets=(k, o)))",
     hf_attention("LlamaConfig", lora=4, targets=("k_proj", "o_proj"), num_key_value_heads=2),
     (7, 64)),
    ("in(7, 64) -> frozen(attention(8, kv_heads=2, bias=false, lora=2, lora_targets=true))",
     hf_attention("LlamaConfig", lora=2, targets=("q_proj", "k_proj", "v_proj", "o_proj"),
                  num_key_value_heads=2), (7, 64)),
    ("in(7, 64) -> attention(8, kv_heads=2, bias=(q, k, v), lora=8, trainable=false)",
     hf_attention("Qwen2Config", lora=8, num_key_value_heads=2), (7, 64)),
    ("in(7, 64) -> frozen(attention(8, kv_heads=2, key_dim=16, bias=false, qk_norm=rms,"
     " lora=4, lora_targets=(q, k, v, o)))",
     hf_attention("Qwen3Config", lora=4, targets=("q_proj", "k_proj", "v_proj", "o_proj"),
                  num_key_value_heads=2, head_dim=16), (7, 64)),
)


@pytest.mark.parametrize("text, make, torch_input, layout", ATTENTION_HF)
def test_attention_of_transformers(text, make, torch_input, layout):
    check(text, make, torch_input, layout)


class Fc(nn.Module):
    def __init__(self, inputs, units, bias=True):
        super().__init__()
        self.fc = nn.Linear(inputs, units, bias=bias)

    def forward(self, x):
        return self.fc(x)


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no-bias"])
def test_dense_lora_as_peft_adds_it(bias):
    text = f"in(10, 32) -> frozen(dense(16, bias={str(bias).lower()}, lora=4))"
    check(text, lambda: with_lora(Fc(32, 16, bias), 4, ["fc"]), (10, 32))


# ------------------------------------------------------------------ frozen parts


class Backbone(nn.Module):
    """A small CNN: a stem, a residual block and a strided stage, pooled to a vector."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16),
                                  nn.ReLU(), nn.MaxPool2d(2))
        self.block = Residual(nn.Conv2d(16, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.stage = nn.Sequential(nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32),
                                   nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, x):
        return self.stage(self.block(self.stem(x)))


def fine_tuned(freeze_what):
    """Backbone -> a new head; freeze_what(model) sets requires_grad (model[0] is the backbone)."""
    def make():
        model = nn.Sequential(Backbone(), nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 10))
        freeze_what(model)
        return model
    return make


STEM = "conv2d(16, 3, padding=1, bias=false) -> batch_norm -> relu -> max_pool2d(2)"
BLOCK = "residual(conv2d(16, 3, padding=1) -> batch_norm -> relu)"
STAGE = "conv2d(32, 3, stride=2, padding=1) -> batch_norm -> relu -> global_avg_pool"
HEAD = "dense(64) -> relu -> dense(10)"

FROZEN = [
    pytest.param(f"in(32, 32, 3) -> frozen({STEM} -> {BLOCK} -> {STAGE}) -> {HEAD}",
                 fine_tuned(lambda m: m[0].requires_grad_(False)), id="frozen-backbone"),
    pytest.param(f"in(32, 32, 3) -> {STEM} -> {BLOCK} -> {STAGE} -> {HEAD}",
                 fine_tuned(lambda m: None), id="nothing-frozen"),
    pytest.param(f"in(32, 32, 3) -> frozen({STEM}) -> {BLOCK} -> {STAGE} -> {HEAD}",
                 fine_tuned(lambda m: m[0].stem.requires_grad_(False)), id="frozen-stem"),
    pytest.param(f"let stem = {STEM};\nlet block = {BLOCK};\n"
                 f"in(32, 32, 3) -> stem(trainable=false) -> block(trainable=false) -> {STAGE}"
                 f" -> {HEAD}",
                 fine_tuned(lambda m: (m[0].stem.requires_grad_(False),
                                       m[0].block.requires_grad_(False))),
                 id="definitions-trainable=false"),
    pytest.param(f"in(32, 32, 3) -> {STEM} -> residual(conv2d(16, 3, padding=1, trainable=false)"
                 f" -> batch_norm -> relu) -> {STAGE} -> {HEAD}",
                 fine_tuned(lambda m: m[0].block.body[0].requires_grad_(False)),
                 id="one-conv-trainable=false"),
    pytest.param(f"in(32, 32, 3) -> frozen({STEM} -> {BLOCK} -> {STAGE} -> {HEAD})",
                 fine_tuned(lambda m: m.requires_grad_(False)), id="all-frozen"),
]


@pytest.mark.parametrize("text, make", FROZEN)
def test_frozen_backbone(text, make):
    check(text, make, (3, 32, 32))


FROZEN_DENSE = cases(
    ("in(4) -> dense(3, trainable=false) -> dense(2)",
     lambda: nn.Sequential(nn.Linear(4, 3).requires_grad_(False), nn.Linear(3, 2)), (4,)),
    ("in(4) -> frozen(dense(3) -> dense(3)) -> dense(2)",
     lambda: nn.Sequential(nn.Linear(4, 3).requires_grad_(False),
                           nn.Linear(3, 3).requires_grad_(False), nn.Linear(3, 2)), (4,)),
    ("in(4) -> frozen(dense(3, trainable=true)) -> dense(2)",  # frozen wins
     lambda: nn.Sequential(nn.Linear(4, 3).requires_grad_(False), nn.Linear(3, 2)), (4,)),
    ("let b(d) = dense(d) -> dense(d);\nin(4) -> b(4, trainable=false) * 3 -> dense(2)",
     lambda: nn.Sequential(*(nn.Linear(4, 4).requires_grad_(False) for _ in range(6)),
                           nn.Linear(4, 2)), (4,)),
    ("in(10, 8) -> frozen(layer_norm -> rms_norm) -> batch_norm",
     lambda: nn.Sequential(nn.LayerNorm(8).requires_grad_(False),
                           nn.RMSNorm(8).requires_grad_(False), Permute(0, 2, 1),
                           nn.BatchNorm1d(8), Permute(0, 2, 1)), (10, 8)),
)


@pytest.mark.parametrize("text, make, torch_input, layout", FROZEN_DENSE)
def test_frozen_layers(text, make, torch_input, layout):
    check(text, make, torch_input, layout)


# ------------------------------------------------------------------ gates that broadcast


class Gate(nn.Module):
    """x * gate(x) (or x + gate(x)): the gate's output broadcasts against x."""

    def __init__(self, *gate, add=False):
        super().__init__()
        self.gate, self.add = nn.Sequential(*gate), add

    def forward(self, x):
        return x + self.gate(x) if self.add else x * self.gate(x)


def squeeze_excitation(c, squeezed, activation=nn.SiLU):
    """torchvision's SqueezeExcitation: pool, 1×1 conv down, activation, 1×1 up, sigmoid."""
    return Gate(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c, squeezed, 1), activation(),
                nn.Conv2d(squeezed, c, 1), nn.Sigmoid())


class MBConv(nn.Module):
    """EfficientNet's MBConv (expand 4, 3×3 depthwise, SE to a quarter of the input)."""

    def __init__(self, c, expand=4):
        super().__init__()
        e = c * expand
        self.block = nn.Sequential(
            nn.Conv2d(c, e, 1, bias=False), nn.BatchNorm2d(e), nn.SiLU(),
            nn.Conv2d(e, e, 3, padding=1, groups=e, bias=False), nn.BatchNorm2d(e), nn.SiLU(),
            squeeze_excitation(e, c // 4), nn.Conv2d(e, c, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        return x + self.block(x)


SE = ("parallel(identity, global_avg_pool(keepdims=true) -> conv2d({s}, 1) -> silu"
      " -> conv2d({c}, 1) -> sigmoid, merge=multiply)")

GATES = cases(
    ("in(8, 8, 16) -> " + SE.format(s=4, c=16), lambda: squeeze_excitation(16, 4), (16, 8, 8), CF),
    ("in(5, 6, 7, 8) -> parallel(identity, global_avg_pool(keepdims=true) -> conv3d(2, 1) -> relu"
     " -> conv3d(8, 1) -> sigmoid, merge=multiply)",
     lambda: Gate(nn.AdaptiveAvgPool3d(1), nn.Conv3d(8, 2, 1), nn.ReLU(), nn.Conv3d(2, 8, 1),
                  nn.Sigmoid()), (8, 5, 6, 7), CF),
    ("in(8, 8, 16) -> residual(conv2d(64, 1, bias=false) -> batch_norm -> silu"
     " -> depthwise_conv2d(3, padding=1, bias=false) -> batch_norm -> silu -> "
     + SE.format(s=4, c=64) + " -> conv2d(16, 1, bias=false) -> batch_norm)",
     lambda: MBConv(16), (16, 8, 8), CF),
    ("in(10, 64) -> parallel(identity, dense(1) -> sigmoid, merge=multiply)",
     lambda: Gate(nn.Linear(64, 1), nn.Sigmoid()), (10, 64)),
    ("in(10, 64) -> parallel(dense(1) -> sigmoid, identity, merge=multiply)",
     lambda: Gate(nn.Linear(64, 1), nn.Sigmoid()), (10, 64)),
    ("in(10, 64) -> parallel(identity, dense(1), merge=add)",
     lambda: Gate(nn.Linear(64, 1), add=True), (10, 64)),
    ("in(10, 64) -> parallel(identity, global_avg_pool(keepdims=true) -> dense(64), merge=add)",
     lambda: Gate(Permute(0, 2, 1), nn.AdaptiveAvgPool1d(1), Permute(0, 2, 1), nn.Linear(64, 64),
                  add=True), (10, 64)),
    ("in(10, 64) -> parallel(identity, dense(1, trainable=false) -> sigmoid, merge=multiply)",
     lambda: Gate(nn.Linear(64, 1).requires_grad_(False), nn.Sigmoid()), (10, 64)),
)


@pytest.mark.parametrize("text, make, torch_input, layout", GATES)
def test_gates_that_broadcast(text, make, torch_input, layout):
    check(text, make, torch_input, layout)


# ------------------------------------------------------------------ ceil_mode


POOLS = {
    (kind, rank): getattr(nn, f"{'Max' if kind == 'max' else 'Avg'}Pool{rank}d")
    for kind in ("max", "avg") for rank in (1, 2, 3)
}


def ceil_grid():
    """(kind, rank, n, kernel, stride, padding) with padding ≤ kernel/2 (torch's limit)."""
    rows = []
    for n, k, s in itertools.product((5, 6, 7, 9, 10, 13), (2, 3, 4), (1, 2, 3)):
        for p in range(k // 2 + 1):
            rows.append(("max", 2, n, k, s, p))
    # the other pools and ranks on a smaller grid
    others = [("avg", 2), ("max", 1), ("avg", 1), ("max", 3), ("avg", 3)]
    for (kind, rank), n, k, s in itertools.product(others, (5, 6, 9), (2, 3), (2, 3)):
        for p in range(k // 2 + 1):
            rows.append((kind, rank, n, k, s, p))
    return rows


CEIL = ceil_grid()


CEIL_IDS = [f"{kind}_pool{rank}d:n={n},k={k},s={s},p={p}" for kind, rank, n, k, s, p in CEIL]


@pytest.mark.parametrize("kind, rank, n, kernel, stride, padding", CEIL, ids=CEIL_IDS)
def test_ceil_mode(kind, rank, n, kernel, stride, padding):
    layer = f"{kind}_pool{rank}d({kernel}, stride={stride}, padding={padding}, ceil_mode=true)"
    shape = (n,) * rank + (3,)
    text = f"in({', '.join(map(str, shape))}) -> {layer}"

    def make():
        return POOLS[kind, rank](kernel, stride=stride, padding=padding, ceil_mode=True)

    check(text, make, (3,) + (n,) * rank, CF)


def test_the_ceil_grid_covers_the_dropped_last_window():
    """Some grid cases have torch drop a last window that would start in the right padding:
    its extent is then one less than the rounded-up count."""
    dropped = set()
    for kind, rank, n, k, s, p in CEIL:
        with torch.device("meta"):
            out = POOLS[kind, rank](k, s, p, ceil_mode=True)(torch.empty((1, 3) + (n,) * rank))
        rounded_up = -(-(n + 2 * p - k) // s) + 1
        if out.shape[-1] == rounded_up - 1:
            dropped.add((kind, rank))
    assert dropped == set(POOLS)  # for every pool kind and rank


ASYMMETRIC = cases(
    ("in(9, 10, 3) -> max_pool2d((3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=true)",
     lambda: nn.MaxPool2d((3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True), (3, 9, 10), CF),
    ("in(5, 10, 3) -> max_pool2d(2, stride=2, padding=1, ceil_mode=true)",  # drops along H only
     lambda: nn.MaxPool2d(2, stride=2, padding=1, ceil_mode=True), (3, 5, 10), CF),
    ("in(7, 8, 9, 2) -> avg_pool3d((2, 3, 2), stride=(2, 2, 3), padding=(1, 0, 1), ceil_mode=true)",
     lambda: nn.AvgPool3d((2, 3, 2), stride=(2, 2, 3), padding=(1, 0, 1), ceil_mode=True),
     (2, 7, 8, 9), CF),
    ("in(112, 112, 64) -> MaxPool2d(3, stride=2, ceil_mode=true)",  # GoogLeNet's pools
     lambda: nn.MaxPool2d(3, stride=2, ceil_mode=True), (64, 112, 112), CF),
    ("in(9, 9, 3) -> max_pool2d(2, ceil_mode=false)",
     lambda: nn.MaxPool2d(2, ceil_mode=False), (3, 9, 9), CF),
)


@pytest.mark.parametrize("text, make, torch_input, layout", ASYMMETRIC)
def test_ceil_mode_per_axis(text, make, torch_input, layout):
    check(text, make, torch_input, layout)


@pytest.mark.parametrize("layer, shape", [
    ("max_pool1d", "9, 3"), ("avg_pool1d", "9, 3"), ("max_pool2d", "9, 9, 3"),
    ("avg_pool2d", "9, 9, 3"), ("max_pool3d", "9, 9, 9, 3"), ("avg_pool3d", "9, 9, 9, 3"),
], ids=lambda v: str(v).replace(" ", ""))
def test_keras_has_no_ceil_mode(layer, shape):
    text = f"in({shape}) -> {layer}(2, ceil_mode=true)"
    with pytest.raises(symparam.SymparamError, match=r"Keras' pooling has no ceil_mode"):
        symparam.parse(text, convention="keras")
    assert symparam.parse(text, convention="torch").value == 0


# ------------------------------------------------------------------ real models, full size


SWIGLU = "parallel(dense(f, bias=false) -> silu, dense(f, bias=false), merge=multiply)"

QWEN2 = f"""
let block(d, H, K, f) =
    residual(rms_norm -> attention(H, kv_heads=K, bias=(q, k, v)))
 -> residual(rms_norm -> {SWIGLU} -> dense(d, bias=false));
in(T) -> embedding(V, d) -> block(d, H, K, f) * L -> rms_norm -> dense(V, bias=false)
"""

QWEN3 = f"""
let block(d, H, K, hd, f) =
    residual(rms_norm -> attention(H, kv_heads=K, key_dim=hd, bias=false, qk_norm=rms))
 -> residual(rms_norm -> {SWIGLU} -> dense(d, bias=false));
in(T) -> embedding(V, d) as wte -> block(d, H, K, hd, f) * L -> rms_norm
      -> dense(V, bias=false, tie=wte)
"""

OLMO2 = f"""
let block(d, H, K, f) =
    residual(attention(H, kv_heads=K, bias=false, qk_norm=rms, qk_norm_scope=projection)
             -> rms_norm)
 -> residual({SWIGLU} -> dense(d, bias=false) -> rms_norm);
in(T) -> embedding(V, d) -> block(d, H, K, f) * L -> rms_norm -> dense(V, bias=false)
"""

LLAMA_LORA = f"""
let block(d, H, f, r) =
    residual(rms_norm -> attention(H, bias=false, lora=r))
 -> residual(rms_norm -> {SWIGLU} -> dense(d, bias=false));
in(T) -> frozen(embedding(V, d) -> block(d, H, f, r) * L -> rms_norm -> dense(V, bias=false))
"""

QWEN2_7B = dict(vocab_size=152064, hidden_size=3584, intermediate_size=18944,
                num_hidden_layers=28, num_attention_heads=28, num_key_value_heads=4,
                tie_word_embeddings=False, rms_norm_eps=1e-6)
# Qwen/Qwen3-0.6B's config.json: 16 heads of 128 over a width of 1024, a tied head
QWEN3_06B = dict(vocab_size=151936, hidden_size=1024, intermediate_size=3072,
                 num_hidden_layers=28, num_attention_heads=16, num_key_value_heads=8, head_dim=128,
                 tie_word_embeddings=True, rms_norm_eps=1e-6)
# allenai/OLMo-2-0425-1B's config.json
OLMO2_1B = dict(vocab_size=100352, hidden_size=2048, intermediate_size=8192,
                num_hidden_layers=16, num_attention_heads=16, num_key_value_heads=16,
                tie_word_embeddings=False, rms_norm_eps=1e-6, pad_token_id=None,
                bos_token_id=None, eos_token_id=None)
LLAMA2_7B = dict(vocab_size=32000, hidden_size=4096, intermediate_size=11008,
                 num_hidden_layers=32, num_attention_heads=32)


def sizes_of(config, T=8):
    return dict(V=config["vocab_size"], d=config["hidden_size"], f=config["intermediate_size"],
                L=config["num_hidden_layers"], H=config["num_attention_heads"],
                K=config.get("num_key_value_heads", config["num_attention_heads"]), T=T)


REAL_MODELS = [
    pytest.param(QWEN2, "Qwen2Config", QWEN2_7B, sizes_of(QWEN2_7B), 7_615_616_512, id="qwen2-7b"),
    pytest.param(QWEN2, "Qwen2Config", dict(QWEN2_7B, num_hidden_layers=2, hidden_size=256,
                                            intermediate_size=512, num_attention_heads=8,
                                            num_key_value_heads=2, vocab_size=1000),
                 dict(V=1000, d=256, f=512, L=2, H=8, K=2, T=8), None, id="qwen2-small"),
    pytest.param(QWEN3, "Qwen3Config", QWEN3_06B, dict(sizes_of(QWEN3_06B), hd=128), None,
                 id="qwen3-0.6b-tied"),
    pytest.param(OLMO2, "Olmo2Config", OLMO2_1B, sizes_of(OLMO2_1B), None, id="olmo2-1b"),
]


@pytest.mark.parametrize("text, config_name, config, sizes, published", REAL_MODELS)
def test_real_model(text, config_name, config, sizes, published):
    check(text, lambda: causal_lm(config_name, **config), (sizes["T"],), tokens=True,
          published=published, **sizes)


def test_qwen2_7b_is_7_615_616_512():
    """The figure Qwen2-7B's model card rounds to 7.6B, from transformers and from symparam."""
    with torch.device("meta"):
        model = causal_lm("Qwen2Config", **QWEN2_7B)
    assert sum(p.numel() for p in model.parameters()) == 7_615_616_512
    assert symparam.parse(QWEN2, convention="torch", **sizes_of(QWEN2_7B)).value == 7_615_616_512


def test_llama2_7b_with_peft_lora():
    """PEFT's print_trainable_parameters() for LLaMA-2-7B with LoraConfig(r=8, q_proj and
    v_proj): trainable params: 4,194,304 || all params: 6,742,609,920 || trainable%: 0.0622"""
    def make():
        return with_lora(causal_lm("LlamaConfig", **LLAMA2_7B), 8, ["q_proj", "v_proj"])

    total, trainable, shape = measure(make, (8,), tokens=True)
    assert (trainable, total) == (4_194_304, 6_742_609_920)  # PEFT's published figures
    sizes = dict(V=32000, d=4096, f=11008, L=32, H=32, T=8, r=8)
    network = check(LLAMA_LORA, make, (8,), tokens=True, **sizes)
    assert (int(network.trainable), network.value) == (4_194_304, 6_742_609_920)
    assert "0.0622%" in str(network.summary())


def test_peft_counts_as_torch_does():
    """PEFT's own tally (get_nb_trainable_parameters) equals requires_grad's, so the figures
    above are PEFT's."""
    with torch.device("meta"):
        model = with_lora(causal_lm("LlamaConfig", **dict(LLAMA2_7B, num_hidden_layers=2)), 8,
                          ["q_proj", "v_proj"])
    total, trainable = (sum(p.numel() for p in model.parameters()),
                        sum(p.numel() for p in model.parameters() if p.requires_grad))
    assert model.get_nb_trainable_parameters() == (trainable, total)
    assert trainable == 2 * 2 * 8 * (4096 + 4096)


# ------------------------------------------------------------------ errors


ERRORS = [
    ("in(4) -> param()", r"needs the tensor's shape"),
    ("in(4) -> param(0)", r"dimension must be a positive whole number, got 0"),
    ("in(4) -> param(8, 0)", r"dimension must be a positive whole number, got 0"),
    ("in(10, 64) -> attention(8, bias=(q, x))",
     r"bias names projections among q, k, v, o \(or is true or false\); 'x' is not one"),
    ("in(10, 64) -> attention(8, lora=4, lora_targets=(q, z))",
     r"lora_targets names projections among q, k, v, o .*'z' is not one"),
    ("in(10, 64) -> attention(8, lora_targets=(q, v))", r"lora_targets needs lora=r"),
    ("in(10, 64) -> attention(8, qk_norm_scope=projection)",
     r"qk_norm_scope needs qk_norm=rms or qk_norm=layer"),
    ("in(10, 64) -> layer_norm(lora=4)", r"layer_norm takes none"),
    ("in(8, 8, 16) -> parallel(identity, global_avg_pool(keepdims=true) -> conv2d(4, 1),"
     " merge=multiply)",
     r"merge=multiply needs shapes that broadcast .*\(8, 8, 16\) and \(1, 1, 4\)"),
    ("in(10, 64) -> parallel(identity, dense(3), merge=add)",
     r"merge=add needs shapes that broadcast"),
    ("in(784) -> tokens(1)", r"puts tokens before a sequence, so it needs an input"),
    ("in(4) -> dense(3, trainable=maybe)", r"trainable must be true or false"),
]


@pytest.mark.parametrize("text, message", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(text, message):
    with pytest.raises(symparam.SymparamError, match=message):
        symparam.parse(text, convention="torch")


def test_torch_refuses_what_symparam_refuses():
    """The gate and the tokens refused above fail in torch too; torch does hold an empty
    tensor, param(0), which symparam refuses as a slip (it would count nothing)."""
    with torch.device("meta"):
        with pytest.raises(RuntimeError):
            Gate(nn.AdaptiveAvgPool2d(1), nn.Conv2d(16, 4, 1))(torch.empty(2, 16, 8, 8))
        with pytest.raises(RuntimeError):
            Tokens(1, 784)(torch.empty(2, 784))
        assert nn.Parameter(torch.empty(0)).numel() == 0


# ------------------------------------------------------------------ disagreements


class TiedLM(nn.Module):
    """An embedding and an output head sharing one matrix (GPT-2's tie); the head frozen."""

    def __init__(self, vocab, d):
        super().__init__()
        self.embedding = nn.Embedding(vocab, d)
        self.head = nn.Linear(d, vocab, bias=False)
        self.head.weight = self.embedding.weight  # one Parameter, listed once
        self.head.requires_grad_(False)  # freezes the shared matrix: the embedding's too

    def forward(self, ids):
        return self.head(self.embedding(ids))


@pytest.mark.xfail(
    strict=True, raises=AssertionError,
    reason="a tied matrix is counted where it is first defined (the embedding), and takes "
           "that place's trainability: freezing the tied head leaves it trainable in symparam, "
           "while in torch the one shared Parameter is frozen for both (trainable 0, not 1600)")
@pytest.mark.parametrize("text", [
    "in(8) -> embedding(100, 16) as wte -> frozen(dense(100, bias=false, tie=wte))",
    "in(8) -> embedding(100, 16) as wte -> dense(100, bias=false, tie=wte, trainable=false)",
], ids=["frozen(tied-head)", "tied-head-trainable=false"])
def test_freezing_a_tied_head_freezes_the_embedding(text):
    check(text, lambda: TiedLM(100, 16), (8,), tokens=True)


def test_freezing_a_tied_embedding_freezes_the_head():
    """The other way round both agree: the matrix is frozen where it is counted."""
    def make():
        model = TiedLM(100, 16)
        model.requires_grad_(False)
        return model
    check("in(8) -> frozen(embedding(100, 16) as wte) -> dense(100, bias=false, tie=wte)", make,
          (8,), tokens=True)


class VectorGate(nn.Module):
    """x * g where g has lost the sequence axis: torch needs it put back (unsqueeze) to
    broadcast over a batch; symparam, without a batch axis, aligns (d) with (T, d)."""

    def __init__(self, d, unsqueeze):
        super().__init__()
        self.gate, self.unsqueeze = nn.Linear(d, d), unsqueeze

    def forward(self, x):
        g = self.gate(x.mean(dim=1))  # (B, d)
        return x * (g.unsqueeze(1) if self.unsqueeze else g)


def test_a_gate_without_the_sequence_axis():
    """symparam accepts parallel(identity, global_avg_pool -> dense(d), merge=multiply) on
    (T, d), numpy-style: that is torch's x * g.unsqueeze(1); a plain x * g of (B, T, d) by
    (B, d) does not broadcast in torch (beyond a batch of one)."""
    text = "in(10, 64) -> parallel(identity, global_avg_pool -> dense(64), merge=multiply)"
    check(text, lambda: VectorGate(64, unsqueeze=True), (10, 64))
    with torch.device("meta"), pytest.raises(RuntimeError):
        VectorGate(64, unsqueeze=False)(torch.empty(2, 10, 64))
