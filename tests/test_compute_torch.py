"""symparam's forward MACs against PyTorch's own count.

`torch.utils.flop_counter.FlopCounterMode` counts the FLOPs of matrix products and
convolutions (mm, addmm, bmm, convolution, scaled_dot_product_attention: 2 per
multiply–accumulate) and ignores elementwise work, which is exactly what `net.macs`
holds. Each model here is symparam's own export (`net.export("torch")`), built and run
on the meta device with a batch of one, so that 2 · net.macs must equal the counter's
total:

1. a table of single layers and small models, kind by kind;
2. whole models from examples/ (and ResNet-50), and the figures torchvision publishes
   (its "GFLOPS" are multiply–accumulates), and, when transformers is installed,
   Hugging Face's own GPT-2, LLaMA and ViT, which symparam's export did not write;
3. random architectures (test_tree.py's generator).

Where the two differ the case is an xfail(strict=True) whose reason says who is right.
Recurrent layers need no hand computation: on the CPU and meta devices aten::lstm, gru
and rnn_tanh are composite, run as an addmm (mm without biases) per gate matrix and step,
and the counter sees those.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings

torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0 to run these")

from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

import symparam  # noqa: E402
from test_export import built  # noqa: E402
from test_tree import architectures  # noqa: E402

pytestmark = [  # PyTorch's notes on a padding copy and on meta tensors of no elements
    pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning"),
    pytest.mark.filterwarnings("ignore:Initializing zero-element tensors:UserWarning"),
]

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
READS_IDS = ("embedding", "embedding_bag")


def counted(run) -> int:
    """FLOPs of matrix products and convolutions that `run()` does, as PyTorch counts them."""
    with FlopCounterMode(display=False) as counter:
        run()
    return counter.get_total_flops()


def exported_flops(network, batch: int = 1) -> int:
    """symparam's PyTorch export of `network`, built on the meta device and run forward
    (eval) on zeros of its input shapes under the counter (as test_export.run does)."""
    model, inputs = built(network.export("torch"), network, batch)
    with torch.device("meta"):
        return counted(lambda: model(*inputs))


def parse(text: str, **sizes):
    return symparam.parse(text, convention="torch", **sizes)


def example(name: str, **sizes):
    path = EXAMPLES / f"{name}.sp"
    return symparam.parse(path.read_text(encoding="utf-8"), convention="torch", path=path, **sizes)


def example_sizes(name: str) -> dict:
    text = (EXAMPLES / f"{name}.sp").read_text(encoding="utf-8")
    return dict(setting.split("=", 1) for setting in re.findall(r"--set (\S+)", text))


# ====================================================================== 1. layer by layer

BILINEAR_COUNTER = ("FlopCounterMode has no formula for aten::_trilinear (nn.Bilinear), and counts 0; "
                    "see test_bilinear_by_hand for what PyTorch's kernel does")
LAYERS = [
    # dense
    ("dense", "in(784) -> dense(16) -> dense(10)"),
    ("dense-sequence", "in(10, 16) -> dense(8)"),
    ("dense-image-no-bias", "in(4, 5, 16) -> dense(8, bias=false)"),
    ("dense-repeated", "in(10, 16) -> dense(8) * 3"),
    ("dense-tied", "in(12) -> embedding(50, 16) as wte -> dense(50, bias=false, tie=wte)"),
    ("dense-lora", "in(10, 16) -> dense(8, lora=2)"),
    ("dense-lora-frozen", "in(10, 16) -> frozen(dense(8, lora=4))"),
    ("time-distributed", "in(10, 16) -> time_distributed(dense(8))"),
    ("spectral-norm", "in(10, 16) -> spectral_norm(dense(8))"),
    # convolutions
    ("conv1d-stride-padding-groups", "in(50, 6) -> conv1d(4, 5, stride=3, padding=2, groups=2)"),
    ("conv2d-stride-padding", "in(32, 32, 3) -> conv2d(8, 3, stride=2, padding=1)"),
    ("conv2d-dilation-groups", "in(32, 32, 4) -> conv2d(8, 3, dilation=2, groups=2)"),
    ("conv2d-same-even-kernel", "in(10, 10, 4) -> conv2d(8, 4, padding=same)"),
    ("conv3d", "in(8, 9, 10, 2) -> conv3d(4, (3, 2, 1), stride=(2, 1, 1), padding=1)"),
    ("conv1d-transpose", "in(20, 4) -> conv1d_transpose(6, 4, stride=2)"),
    ("conv1d-transpose-groups", "in(20, 4) -> conv1d_transpose(6, 4, stride=3, padding=1, groups=2)"),
    ("conv2d-transpose", "in(10, 10, 4) -> conv2d_transpose(6, 3, stride=2, padding=1, output_padding=1, "
                         "groups=2)"),
    ("conv2d-transpose-dilation", "in(10, 10, 4) -> conv2d_transpose(6, 3, stride=2, dilation=2)"),
    ("conv3d-transpose", "in(5, 6, 7, 2) -> conv3d_transpose(3, 2, stride=2)"),
    ("depthwise1d", "in(30, 4) -> depthwise_conv1d(3, padding=same)"),
    ("depthwise2d", "in(16, 16, 4) -> depthwise_conv2d(3, depth_multiplier=2, stride=2)"),
    ("separable1d", "in(30, 4) -> separable_conv1d(8, 3, stride=2)"),
    ("separable2d", "in(16, 16, 4) -> separable_conv2d(8, 3, depth_multiplier=2)"),
    ("time-distributed-conv", "in(10, 28, 28, 3) -> time_distributed(conv2d(8, 3) -> flatten) -> lstm(16)"),
    # attention
    ("attention", "in(12, 16) -> attention(4)"),
    ("attention-gqa", "in(12, 16) -> attention(4, kv_heads=2)"),
    ("attention-mqa-biases", "in(12, 16) -> attention(4, kv_heads=1, key_dim=8, value_dim=2, bias=(q, k))"),
    ("attention-key-value-out", "in(12, 16) -> attention(4, key_dim=3, value_dim=5, out=7)"),
    ("attention-gate", "in(12, 16) -> attention(4, gate=true)"),
    ("attention-gate-gqa-key-dim", "in(12, 16) -> attention(4, kv_heads=2, key_dim=3, gate=true)"),
    ("attention-qk-norm", "in(12, 16) -> attention(4, qk_norm=layer, qk_norm_scope=projection)"),
    ("attention-lora", "in(12, 16) -> attention(4, lora=2)"),
    ("attention-class-token", "in(10, 8) -> tokens(1) -> attention(4, kv_heads=2, qk_norm=rms) -> select(0)"),
    ("cross-attention", "in(6, 8) -> identity as mem; in(3, 16) -> attention(4, context=mem)"),
    ("cross-attention-values", "in(6, 8) -> identity as keys; in(6, 4) -> identity as vals; "
                               "in(3, 16) -> attention(4, context=keys, values=vals)"),
    ("cross-attention-everything", "in(6, 8) -> identity as mem; in(3, 16) -> attention(4, kv_heads=2, "
                                   "key_dim=5, context=mem, gate=true, lora=2, lora_targets=(q, k, v, o))"),
    ("attention-bias-kv", "in(10, 8) -> attention(4, bias_kv=true)"),
    ("attention-rank-3", "in(4, 6, 16) -> attention(4)"),
    # recurrent
    ("lstm", "in(20, 8) -> lstm(16)"),
    ("lstm-no-bias", "in(20, 8) -> lstm(16, bias=false)"),
    ("lstm-proj-bidirectional-layers", "in(20, 8) -> lstm(16, bidirectional=true, layers=2, proj=4)"),
    ("lstm-3-layers-last", "in(20, 8) -> lstm(16, layers=3, bidirectional=true, return_sequences=false)"),
    ("gru", "in(20, 8) -> gru(16)"),
    ("gru-bidirectional-layers", "in(20, 8) -> gru(16, bidirectional=true, layers=2)"),
    ("simple-rnn", "in(20, 8) -> simple_rnn(16, return_sequences=false)"),
    ("bidirectional-wrapper", "in(20, 8) -> bidirectional(lstm(16, return_sequences=true), merge=sum)"),
    ("lstm-cell", "in(8) -> lstm_cell(16)"),
    ("gru-cell-no-bias", "in(8) -> gru_cell(16, bias=false)"),
    ("simple-rnn-cell", "in(8) -> simple_rnn_cell(16)"),
    ("recurrent-cells", "in(10, 32) -> recurrent(lstm_cell(16) -> dense(4) -> gru_cell(8), return_sequences=true)"),
    # lookups, heads, mixtures
    ("embedding", "in(12) -> embedding(100, 8)"),
    ("embedding-bag", "in(12) -> embedding_bag(100, 8)"),
    ("adaptive-log-softmax", "in(10, 8) -> adaptive_log_softmax(40, cutoffs=(4, 12), div_value=2)"),
    ("adaptive-log-softmax-head-bias", "in(10, 8) -> adaptive_log_softmax(40, cutoffs=(4, 12), div_value=4, "
                                       "head_bias=true)"),
    ("moe-every-expert", "in(16, 32) -> moe(4, dense(32) -> relu)"),  # without top_k every expert runs
    pytest.param("bilinear", "in(10, 5) -> bilinear(3)",
                 marks=pytest.mark.xfail(strict=True, reason=BILINEAR_COUNTER)),
    pytest.param("bilinear-vector", "in(7) -> bilinear(3, bias=false)",
                 marks=pytest.mark.xfail(strict=True, reason=BILINEAR_COUNTER)),
    # structures
    ("residual-projection", "in(10) -> residual(dense(10) -> relu, shortcut=dense(10))"),
    ("parallel-maximum", "in(8, 8, 3) -> parallel(conv2d(4, 1), conv2d(4, 1), merge=maximum)"),
]


def _ids(rows):
    return [row.values[0] if hasattr(row, "values") else row[0] for row in rows]


@pytest.mark.parametrize("name, text", LAYERS, ids=_ids(LAYERS))
def test_each_layer_kind_as_pytorch_counts_it(name, text):
    network = parse(text)
    assert isinstance(network.macs, int)
    assert exported_flops(network) == 2 * network.macs


def test_the_counter_sees_the_exported_recurrent_layers():
    """nn.LSTM and the like run as an addmm per step and gate matrix, not as one
    uncounted kernel: a nonzero count, 2 · T · 4u · (in + u) for an LSTM."""
    network = parse("in(20, 8) -> lstm(16)")
    assert network.macs == 20 * 4 * 16 * (8 + 16)
    assert exported_flops(network) == 2 * network.macs


# ------------------------------------------------------------------ PyTorch's own modules


def _module_flops(build, *shapes) -> int:
    with torch.device("meta"):
        module = build().eval()
        inputs = [torch.zeros(1, *shape) for shape in shapes]
        return counted(lambda: module(*inputs))


MODULES = [
    ("multihead-attention", "in(10, 8) -> attention(4)",
     lambda: torch.nn.MultiheadAttention(8, 4, batch_first=True), [(10, 8)] * 3),
    ("multihead-cross-attention-kdim-vdim",
     "in(6, 5) -> identity as keys; in(6, 3) -> identity as vals; in(4, 8) -> attention(4, context=keys, values=vals)",
     lambda: torch.nn.MultiheadAttention(8, 4, kdim=5, vdim=3, batch_first=True), [(4, 8), (6, 5), (6, 3)]),
    ("multihead-attention-add-bias-kv", "in(10, 8) -> attention(4, bias_kv=true)",
     lambda: torch.nn.MultiheadAttention(8, 4, add_bias_kv=True, batch_first=True), [(10, 8)] * 3),
    ("lstm-proj-size", "in(20, 8) -> lstm(16, proj=4, layers=2)",
     lambda: torch.nn.LSTM(8, 16, num_layers=2, proj_size=4, batch_first=True), [(20, 8)]),
    ("conv2d-groups", "in(32, 32, 6) -> conv2d(9, 3, stride=2, groups=3)",
     lambda: torch.nn.Conv2d(6, 9, 3, stride=2, groups=3), [(6, 32, 32)]),
    ("conv-transpose2d", "in(9, 9, 4) -> conv2d_transpose(6, 3, stride=2, padding=1, output_padding=1)",
     lambda: torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1), [(4, 9, 9)]),
]


@pytest.mark.parametrize("name, text, build, shapes", MODULES, ids=_ids(MODULES))
def test_pytorchs_own_modules(name, text, build, shapes):
    """torch.nn's classes themselves, not symparam's export of them."""
    assert _module_flops(build, *shapes) == 2 * parse(text).macs


def test_bilinear_by_hand():
    """nn.Bilinear computes x1ᵀ·A_k·x2 with aten::_trilinear, which the counter has no
    formula for (0, above). Its kernel contracts x1 with the weight first, a
    (in1) × (in1, u·in2) product, then each unit's row with x2: u·in2·(in1 + 1) MACs per
    position; the same einsum under the counter agrees, and so does symparam."""
    units, in1, positions = 3, 5, 10
    network = parse(f"in({positions}, {in1}) -> bilinear({units})")
    pytorch = positions * units * in1 * (in1 + 1)  # in2 = in1: the input read twice
    with torch.device("meta"):
        x = torch.zeros(positions, in1)
        weight = torch.zeros(units, in1, in1)
        assert counted(lambda: torch.einsum("bi,kij,bj->bk", x, weight, x)) == 2 * pytorch
        assert counted(lambda: torch.nn.functional.bilinear(x, x, weight)) == 0
    assert network.macs == pytorch


EINSUMS = [
    ("dense", 'in(10, 5) -> einsum_dense("abc,cd->abd", (10, 7), bias_axes="d")', "abc,cd->abd", (10, 5), (5, 7)),
    ("vector", 'in(16) -> einsum_dense("ab,bc->ac", 7)', "ab,bc->ac", (16,), (16, 7)),
    ("heads-in", 'in(10, 16) -> einsum_dense("abc,cde->abde", (10, 4, 8))', "abc,cde->abde", (10, 16), (16, 4, 8)),
    ("heads-out", 'in(10, 4, 8) -> einsum_dense("abcd,cde->abe", (10, 16))', "abcd,cde->abe", (10, 4, 8),
     (4, 8, 16)),
    ("outer", 'in(6, 16) -> einsum_dense("abc,cd->abcd", (6, 16, 3))', "abc,cd->abcd", (6, 16), (16, 3)),
    ("input-only-axis", 'in(6, 16) -> einsum_dense("abc,bd->ad", 3)', "abc,bd->ad", (6, 16), (6, 3)),
]


@pytest.mark.parametrize("name, text, equation, shape, kernel", EINSUMS, ids=_ids(EINSUMS))
def test_einsum_dense_as_torch_einsum_runs_it(name, text, equation, shape, kernel):
    """einsum_dense is Keras' alone (the export refuses it): checked against the same
    equation run by torch.einsum on a kernel of its shape."""
    network = symparam.parse(text, convention="keras")
    with torch.device("meta"):
        x, weights = torch.zeros(1, *shape), torch.zeros(*kernel)
        assert counted(lambda: torch.einsum(equation, x, weights)) == 2 * network.macs


# ====================================================================== 2. whole models

LLAMA_SMALL = dict(V="1000", d="64", H="8", K="2", f="172", L="2", T="16")

MODELS = [
    ("resnet18", {}, 1_814_073_344),
    ("vgg16", {}, 15_470_264_320),
    ("gpt2", example_sizes("gpt2"), 145_824_153_600),  # GPT-2 small, T = 1024
    ("llama", LLAMA_SMALL, 2_473_984),
    ("vit_b16", {}, 17_563_828_224),
    ("resnet50_frozen", {}, 4_087_156_736),
]


@pytest.mark.parametrize("name, sizes, macs", MODELS, ids=[row[0] for row in MODELS])
def test_whole_models(name, sizes, macs):
    network = example(name, **sizes)
    assert network.macs == macs
    assert exported_flops(network) == 2 * macs


# ResNet-50 as torchvision builds it: examples/resnet50_frozen.sp without the freezing,
# with its 1000-class head.
RESNET50 = """
let bottleneck(c, stride) =
    conv2d(c, 1, bias=false) -> batch_norm -> relu
 -> conv2d(c, 3, stride=stride, padding=1, bias=false) -> batch_norm -> relu
 -> conv2d(4 * c, 1, bias=false) -> batch_norm;
let first(c, stride) =
    residual(bottleneck(c, stride),
             shortcut=conv2d(4 * c, 1, stride=stride, bias=false) -> batch_norm)
 -> relu;
let block(c) = residual(bottleneck(c, 1)) -> relu;

in(224, 224, 3)
  -> conv2d(64, 7, stride=2, padding=3, bias=false) -> batch_norm -> relu
  -> max_pool2d(3, stride=2, padding=1)
  -> first(64, 1) -> block(64) * 2
  -> first(128, 2) -> block(128) * 3
  -> first(256, 2) -> block(256) * 5
  -> first(512, 2) -> block(512) * 2
  -> global_avg_pool
  -> dense(1000)
"""


# torchvision's model tables: "GFLOPS" there are multiply–accumulates at 224 × 224.
PUBLISHED = [
    ("resnet50", lambda: parse(RESNET50), 25_557_032, 4_089_184_256, "4.09"),
    ("vit_b_16", lambda: example("vit_b16"), 86_567_656, 17_563_828_224, "17.56"),
    ("resnet18", lambda: example("resnet18"), 11_689_512, 1_814_073_344, "1.81"),
    ("vgg16", lambda: example("vgg16"), 138_357_544, 15_470_264_320, "15.47"),
]


@pytest.mark.parametrize("name, build, params, macs, published", PUBLISHED, ids=[row[0] for row in PUBLISHED])
def test_torchvisions_published_figures(name, build, params, macs, published):
    network = build()
    assert network.total == params  # the model torchvision builds
    assert network.macs == macs
    assert f"{network.macs / 1e9:.2f}" == published
    assert exported_flops(network) == 2 * macs


def test_hugging_face_models():
    """transformers' own GPT-2 small, a small LLaMA and ViT-B/16, which symparam's export
    did not write: the same counts as the examples."""
    transformers = pytest.importorskip("transformers")
    gpt2 = transformers.GPT2Config()  # V 50257, T 1024, d 768, 12 layers, 12 heads
    llama = transformers.LlamaConfig(vocab_size=1000, hidden_size=64, num_attention_heads=8,
                                     num_key_value_heads=2, intermediate_size=172, num_hidden_layers=2)
    vit = transformers.ViTConfig(num_labels=1000)  # B/16 at 224 × 224
    cases = [
        (transformers.GPT2LMHeadModel, gpt2, torch.zeros(1, 1024, dtype=torch.long),
         example("gpt2", **example_sizes("gpt2"))),
        (transformers.LlamaForCausalLM, llama, torch.zeros(1, 16, dtype=torch.long), example("llama", **LLAMA_SMALL)),
        (transformers.ViTForImageClassification, vit, torch.zeros(1, 3, 224, 224), example("vit_b16")),
    ]
    for model_class, config, inputs, network in cases:
        with torch.device("meta"):
            model = model_class(config).eval()
            flops = counted(lambda: model(inputs.to("meta")))
        assert flops == 2 * network.macs, model_class.__name__


def test_the_symbolic_formula_gives_the_same_count():
    """GPT-2's MACs as a formula in V, T, d, L, H, at GPT-2 small's sizes."""
    network = example("gpt2")
    sizes = {name: int(value) for name, value in example_sizes("gpt2").items()}
    value = network.macs.subs({network.symbols[name]: v for name, v in sizes.items()})
    assert value == 145_824_153_600


# ====================================================================== 3. random architectures


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                  HealthCheck.filter_too_much])
@given(architectures())
def test_random_architectures_count_as_pytorch_does(arch):
    agrees_with_pytorch(arch)


def agrees_with_pytorch(arch, tally: dict | None = None) -> None:
    """The architecture's exported model under FlopCounterMode does 2 × net.macs FLOPs
    (benchmarks/differential.py --compute runs this over many more)."""
    assume(arch.convention == "torch")
    network = symparam.parse(arch.concrete, convention="torch", **arch.concrete_sizes)
    nodes = [node for node, _ in network.tree.walk()]
    leaves = [node.kind for node in nodes if not node.children]
    assume(not any(kind in READS_IDS for kind in leaves[2:]))  # ids fed by another layer's output
    # the exported Mixture runs every expert: only a mixture without top_k (or choosing
    # them all) runs what symparam counts
    assume(not any(node.kind == "moe" and node.arguments.get("top_k") not in (None, node.arguments["experts"])
                   for node in nodes))
    assume("bilinear" not in leaves)  # uncounted by FlopCounterMode (test_bilinear_by_hand)
    try:
        flops = exported_flops(network)
    except symparam.SymparamError as error:  # a layer PyTorch has no class for
        assume("PyTorch" not in str(error) and "export" not in str(error))
        raise
    except (ValueError, RuntimeError) as error:
        # a norm over one value per group or one spatial element, which PyTorch refuses at batch 1
        assume("value per channel" not in str(error) and "spatial element" not in str(error))
        raise
    if tally is not None:
        tally["checked"] += 1
    assert flops == 2 * network.macs, arch.concrete
