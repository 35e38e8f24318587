"""Sequence layers and network structure checked against PyTorch 2.13, under convention="torch".

Each case is a symparam expression and the equivalent torch module, built here by hand
(torchvision is not used). The expected count is torch's `sum(p.numel() for p in
module.parameters())`, which counts a shared (tied) parameter once; the expected shape is
that of a meta-device tensor pushed through the module (batch_first, batch axis dropped).
Where a case has a published figure, torch is first checked to agree with it. Nothing
expected comes from symparam.
"""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch not installed: pip install torch==2.13.0 to run the checks against it"
)
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

import symparam  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def torch_result(make, torch_input, tokens=False):
    """(parameter count, output shape without the batch axis) of a module on the meta device."""
    with torch.device("meta"):
        module = make().eval()
        output = module(torch.zeros(1, *torch_input, dtype=torch.long if tokens else torch.float))
    if isinstance(output, tuple):  # an RNN returns (output, state)
        output = output[0]
    return sum(p.numel() for p in module.parameters()), tuple(output.shape[1:])


def check(text, make, torch_input, tokens=False, published=None, **sizes):
    """symparam's count and output shape for `text` equal torch's for `make()`."""
    expected, shape = torch_result(make, torch_input, tokens)
    if published is not None:
        assert expected == published  # torch agrees with the published figure
    network = symparam.parse(text, convention="torch", **sizes)
    assert (network.value, network.output_shape) == (expected, shape)
    assert sum(row.params for row in network.layers) == expected
    return network


def cases(*rows):
    """(layer, shape, make, published=None) rows, each id'd by the layer as written."""
    return [pytest.param(*row, *(None,) * (4 - len(row)), id=f"{row[0]}@{row[1]}".replace(" ", ""))
            for row in rows]


def batch_first(kind, *args, **kwargs):
    return lambda: kind(*args, batch_first=True, **kwargs)


class SelfAttention(nn.Module):
    """nn.MultiheadAttention called as self-attention, (x, x, x); its output without weights."""

    def __init__(self, *args, **kwargs):
        super().__init__()
        self.attention = nn.MultiheadAttention(*args, batch_first=True, **kwargs)

    def forward(self, x):
        return self.attention(x, x, x)[0]


EMBEDDINGS = cases(
    ("embedding(100, 16)", (7,), lambda: nn.Embedding(100, 16)),
    ("Embedding(num_embeddings=50, embedding_dim=8)", (12,), lambda: nn.Embedding(50, 8)),
    ("embedding(10, 4)", (3, 5), lambda: nn.Embedding(10, 4)),
)

RECURRENT = cases(
    ("simple_rnn(64)", (10, 32), batch_first(nn.RNN, 32, 64)),
    ("simple_rnn(16, layers=3, bias=false)", (10, 8), batch_first(nn.RNN, 8, 16, 3, bias=False)),
    ("RNN(hidden_size=20, num_layers=2, bidirectional=true)", (6, 12),
     batch_first(nn.RNN, 12, 20, 2, bidirectional=True)),
    ("lstm(64)", (10, 32), batch_first(nn.LSTM, 32, 64), 25_088),
    ("lstm(64, layers=2, bidirectional=true)", (10, 32),
     batch_first(nn.LSTM, 32, 64, 2, bidirectional=True), 149_504),
    ("lstm(48, layers=3, bias=false)", (10, 20), batch_first(nn.LSTM, 20, 48, 3, bias=False)),
    ("lstm(64, proj=16)", (10, 32), batch_first(nn.LSTM, 32, 64, proj_size=16)),
    ("lstm(64, proj=16, layers=2, bidirectional=true)", (10, 32),
     batch_first(nn.LSTM, 32, 64, 2, bidirectional=True, proj_size=16)),
    ("LSTM(hidden_size=30, num_layers=3, proj_size=7, bias=false)", (5, 9),
     batch_first(nn.LSTM, 9, 30, 3, bias=False, proj_size=7)),
    ("lstm(8, bidirectional=true)", (4, 1), batch_first(nn.LSTM, 1, 8, bidirectional=True)),
    ("gru(64)", (10, 32), batch_first(nn.GRU, 32, 64), 18_816),
    ("gru(64, layers=3, bidirectional=true)", (10, 32),
     batch_first(nn.GRU, 32, 64, 3, bidirectional=True)),
    ("gru(40, layers=2, bias=false)", (10, 24), batch_first(nn.GRU, 24, 40, 2, bias=False)),
)

ATTENTION = cases(
    ("attention(8)", (10, 512), lambda: SelfAttention(512, 8), 1_050_624),
    ("attention(8, bias=false)", (10, 512), lambda: SelfAttention(512, 8, bias=False)),
    ("MultiheadAttention(num_heads=4)", (6, 64), lambda: SelfAttention(64, 4)),
    ("attention(1)", (5, 24), lambda: SelfAttention(24, 1)),
    ("attention(3, bias=false)", (5, 24), lambda: SelfAttention(24, 3, bias=False)),
)


def check_layer(layer, shape, make, published, tokens=False):
    text = f"in({', '.join(map(str, shape))}) -> {layer}"
    network = check(text, make, shape, tokens, published)
    assert network.layers[-1].params == network.value


@pytest.mark.parametrize("layer, shape, make, published", EMBEDDINGS)
def test_embedding(layer, shape, make, published):
    check_layer(layer, shape, make, published, tokens=True)


@pytest.mark.parametrize("layer, shape, make, published", RECURRENT)
def test_recurrent(layer, shape, make, published):
    check_layer(layer, shape, make, published)


@pytest.mark.parametrize("layer, shape, make, published", ATTENTION)
def test_attention(layer, shape, make, published):
    check_layer(layer, shape, make, published)


# ------------------------------------------------------------------ structure


class SwiGLU(nn.Module):
    def __init__(self, d, f):
        super().__init__()
        self.gate, self.up = nn.Linear(d, f, bias=False), nn.Linear(d, f, bias=False)
        self.down = nn.Linear(f, d, bias=False)

    def forward(self, x):
        return self.down(F.silu(self.gate(x)) * self.up(x))


class MoE(nn.Module):
    """`experts` MLPs d -> f -> d and a bias-free router; top-k routing adds no parameters."""

    def __init__(self, d, f, experts):
        super().__init__()
        self.experts = nn.ModuleList(
            nn.Sequential(nn.Linear(d, f), nn.ReLU(), nn.Linear(f, d)) for _ in range(experts))
        self.router = nn.Linear(d, experts, bias=False)

    def forward(self, x):
        gates = self.router(x).softmax(-1)
        return sum(gates[..., i, None] * expert(x) for i, expert in enumerate(self.experts))


def encoder(layers=None, **kwargs):
    """nn.TransformerEncoderLayer(512, 8, 2048), or a TransformerEncoder of `layers` of them."""
    layer = nn.TransformerEncoderLayer(512, 8, 2048, batch_first=True, **kwargs)
    if layers is None:
        return layer
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)


class BasicBlock(nn.Module):
    """torchvision's ResNet BasicBlock, with a 1×1 convolution + batch norm shortcut."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.shortcut = nn.Identity() if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return F.relu(self.body(x) + self.shortcut(x))


def resnet18():
    stages = [BasicBlock(64, 64), BasicBlock(64, 64)]
    for cin, cout in ((64, 128), (128, 256), (256, 512)):
        stages += [BasicBlock(cin, cout, stride=2), BasicBlock(cout, cout)]
    return nn.Sequential(
        nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.MaxPool2d(3, 2, 1), *stages, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 1000))


POST_NORM = ("residual(attention({H})) -> layer_norm"
             " -> residual(dense({F}) -> relu -> dense({d})) -> layer_norm")
PRE_NORM = ("residual(layer_norm -> attention({H}))"
            " -> residual(layer_norm -> dense({F}) -> relu -> dense({d}))")
POST, PRE = (block.format(d=512, H=8, F=2048) for block in (POST_NORM, PRE_NORM))
SWIGLU = "parallel(dense(160, bias=false) -> silu, dense(160, bias=false), merge=multiply)"

NETWORKS = [
    # (expression, torch model, torch input, published count or None)
    pytest.param(f"in(10, 512) -> {POST}", encoder, (10, 512), 3_152_384,
                 id="transformer-encoder-layer"),
    pytest.param(f"in(10, 512) -> {PRE}", lambda: encoder(norm_first=True), (10, 512), None,
                 id="transformer-encoder-layer-norm-first"),
    pytest.param(f"in(10, 512) -> ({POST}) * 6", lambda: encoder(6), (10, 512), None,
                 id="transformer-encoder-6-repeated"),
    pytest.param(f"let post(d, H, F) = {POST_NORM.format(d='d', H='H', F='F')};\n"
                 "in(10, 512) -> post(512, 8, 2048) * 6", lambda: encoder(6), (10, 512), None,
                 id="transformer-encoder-6-let"),
    pytest.param(f"let block = {PRE};\nin(10, 512) -> block * 6",  # a definition without sizes
                 lambda: encoder(6, norm_first=True), (10, 512), None,
                 id="transformer-encoder-6-norm-first-let"),
    pytest.param(f"in(10, 64) -> {SWIGLU} -> dense(64, bias=false)", lambda: SwiGLU(64, 160),
                 (10, 64), None, id="swiglu"),
    pytest.param("in(10, 64) -> moe(4, dense(160) -> relu -> dense(64))", lambda: MoE(64, 160, 4),
                 (10, 64), None, id="moe"),
    pytest.param("in(10, 64) -> moe(8, dense(32) -> relu -> dense(64), top_k=2)",
                 lambda: MoE(64, 32, 8), (10, 64), None, id="moe-top-2"),
    pytest.param((EXAMPLES / "resnet18.sp").read_text(), resnet18, (3, 224, 224), 11_689_512,
                 id="resnet18.sp"),
]


@pytest.mark.parametrize("text, make, torch_input, published", NETWORKS)
def test_network(text, make, torch_input, published):
    check(text, make, torch_input, published=published)


# ------------------------------------------------------------------ token models


class PreNormBlock(nn.Module):
    """GPT-2's block: x + attention(ln(x)), then x + mlp(ln(x)) (a causal mask adds nothing)."""

    def __init__(self, d, heads):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attention = nn.MultiheadAttention(d, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x):
        h = self.ln1(x)
        x = x + self.attention(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


class GPT2(nn.Module):
    def __init__(self, V, T, d, L, H):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, d), nn.Embedding(T, d)
        self.blocks = nn.Sequential(*(PreNormBlock(d, H) for _ in range(L)))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, V, bias=False)
        self.head.weight = self.wte.weight  # tied: one parameter, listed once by parameters()

    def forward(self, ids):
        x = self.wte(ids) + self.wpe(torch.arange(ids.shape[1], device=ids.device))
        return self.head(self.ln_f(self.blocks(x)))


class LlamaBlock(nn.Module):
    """RMSNorm, bias-free grouped-query attention (K key/value heads of d/H), SwiGLU."""

    def __init__(self, d, H, K, f):
        super().__init__()
        self.heads, self.kv_heads = H, K
        self.norm1, self.norm2 = nn.RMSNorm(d), nn.RMSNorm(d)
        self.q, self.o = nn.Linear(d, d, bias=False), nn.Linear(d, d, bias=False)
        self.k, self.v = (nn.Linear(d, d * K // H, bias=False) for _ in range(2))
        self.mlp = SwiGLU(d, f)

    def forward(self, x):
        B, T, d = x.shape
        h = self.norm1(x)
        q = self.q(h).view(B, T, self.heads, -1).transpose(1, 2)
        k, v = (p(h).view(B, T, self.kv_heads, -1).transpose(1, 2) for p in (self.k, self.v))
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        x = x + self.o(a.transpose(1, 2).reshape(B, T, d))
        return x + self.mlp(self.norm2(x))


def llama(V, T, d, H, K, f, L):  # T: the context; no parameter depends on it
    blocks = (LlamaBlock(d, H, K, f) for _ in range(L))
    return nn.Sequential(nn.Embedding(V, d), *blocks, nn.RMSNorm(d), nn.Linear(d, V, bias=False))


class Bert(nn.Module):
    """BERT: post-norm GELU encoder layers, three embeddings and a pooler on the first token."""

    def __init__(self, V, P, S, d, L, H, F, T):  # T token ids of the P positions
        super().__init__()
        self.word, self.position = nn.Embedding(V, d), nn.Embedding(P, d)
        self.segment = nn.Embedding(S, d)
        self.norm = nn.LayerNorm(d)
        layer = nn.TransformerEncoderLayer(d, H, F, activation="gelu", batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, L, enable_nested_tensor=False)
        self.pooler = nn.Linear(d, d)

    def forward(self, ids):
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.word(ids) + self.position(positions) + self.segment(torch.zeros_like(ids))
        return self.pooler(self.encoder(self.norm(x))[:, 0]).tanh()


GPT2_SMALL = dict(V=50257, T=1024, d=768, L=12, H=12)
LLAMA_7B = dict(V=32000, T=8, d=4096, H=32, K=32, f=11008, L=32)
BERT_BASE = dict(V=30522, P=512, S=2, d=768, L=12, H=12, F=3072, T=16)


def model(file, make, sizes, published=None):
    """A model file with `--set`-style sizes; T is also the number of token ids fed to torch."""
    return pytest.param(file, make, sizes, published,
                        id=f"{file}:" + ",".join(f"{k}={v}" for k, v in sizes.items()))


TOKEN_MODELS = [
    model("gpt2.sp", GPT2, dict(V=1000, T=64, d=64, L=2, H=4)),
    model("gpt2.sp", GPT2, GPT2_SMALL, 124_439_808),
    model("llama.sp", llama, dict(V=1000, T=16, d=64, H=8, K=2, f=160, L=2)),
    model("llama.sp", llama, dict(V=500, T=12, d=48, H=4, K=4, f=128, L=3)),
    model("llama.sp", llama, LLAMA_7B, 6_738_415_616),
    model("bert.sp", Bert, BERT_BASE, 109_482_240),
]


@pytest.mark.parametrize("file, make, sizes, published", TOKEN_MODELS)
def test_token_model(file, make, sizes, published):
    text = (EXAMPLES / file).read_text()
    check(text, lambda: make(**sizes), (sizes["T"],), tokens=True, published=published, **sizes)


def test_gpt2_small_tied_head_counted_once():
    """Counting the tied head twice gives torchinfo 1.8.0's 163,037,184; torch lists it once."""
    with torch.device("meta"):
        gpt2 = GPT2(**GPT2_SMALL)
    assert gpt2.head.weight is gpt2.wte.weight
    assert sum(p.numel() for _, p in gpt2.named_parameters(remove_duplicate=False)) == 163_037_184
    assert sum(p.numel() for p in gpt2.parameters()) == 124_439_808
