"""`symparam export --to torch`: the written module runs, holds the count, and gives
the output shape symparam printed; for every example, for random architectures (the
generator of test_tree.py, with sizes left symbolic as constructor arguments) and for
each structure; the code is formatted as ruff formats it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings

import symparam
from symparam.cli import main
from symparam.export import example_shape, to_torch, wrapped
from symparam.values import notation, shown_extents
from test_tree import architectures

torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0 to run these")

EXAMPLES = sorted(Path(__file__).parent.parent.joinpath("examples").glob("*.sp"))
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


READS_IDS = ("embedding", "embedding_bag")


def example_sizes(text: str) -> dict:
    return dict(setting.split("=", 1) for setting in re.findall(r"--set (\S+)", text))


def run(code: str, network, batch: int = 2, **arguments):
    """Execute the module, build its model on the meta device with `arguments` and run
    forward on zeros of the input shapes: (params, trainable, output shape)."""
    model, inputs = built(code, network, batch, **arguments)
    with torch.device("meta"):
        output = model(*inputs)
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return params, trainable, tuple(output.shape)


def built(code: str, network, batch: int = 2, **arguments):
    """The module executed, its model built on the meta device with `arguments` (in
    eval mode: a norm over one step refuses only to train), and zeros of its input shapes."""
    namespace: dict = {"__name__": "exported"}
    exec(compile(code, "exported", "exec"), namespace)
    name = re.search(r'^class (\w+)\(nn\.Module\):\n    """Generated', code, re.M).group(1)
    tree = network.tree
    chains = tree.children if tree.children[0].kind == "chain" else [tree]
    inputs = []
    with notation(channels_first=True):
        for chain in chains:
            first = next(node for node, _ in chain.walk() if not node.children and node.kind != "input")
            head = next(node for node, _ in chain.walk() if node.kind == "input")
            ids = first.kind in READS_IDS
            shape = example_shape(shown_extents(head.output_shape))
            inputs.append(torch.zeros(batch, *shape, dtype=torch.long if ids else torch.float32,
                                      device="meta"))
    with torch.device("meta"):
        return namespace[name](**arguments).eval(), inputs


def expected(network, batch: int = 2):
    with notation(channels_first=True):
        shape = example_shape(shown_extents(network.output_shape))
    return int(network.total), int(network.trainable), (batch, *shape)


# ------------------------------------------------------------------ every example


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_every_example_runs_and_counts_the_same(path):
    text = path.read_text(encoding="utf-8")
    network = symparam.parse(text, convention="torch", path=path, **example_sizes(text))
    code = to_torch(network, path=path)
    assert run(code, network) == expected(network)


def test_gpt2_reads_as_pytorch_and_shares_the_head():
    path = Path("examples/gpt2.sp")
    text = path.read_text(encoding="utf-8")
    code = to_torch(symparam.parse(text, convention="torch", **example_sizes(text)), path=path)
    assert "class Gpt2(nn.Module):" in code
    assert "        V: int = 50257,\n" in code  # the sizes given: the constructor's defaults
    assert "        self.blocks = nn.ModuleList([Block(d, H) for _ in range(L)])\n" in code
    assert "        # dense(V, bias=false, tie=wte)\n        self.linear = nn.Linear(d, V, bias=False)\n" \
           "        self.linear.weight = self.wte.weight\n" in code
    assert "import symparam" not in code  # self-contained


def test_the_general_mlp_takes_its_list_of_widths():
    text = "in(h0) -> dense(h1) -> ... -> dense(hl)"
    network = symparam.parse(text, convention="torch", h="784,16,16,10")
    code = to_torch(network)
    assert "def __init__(self, h=(784, 16, 16, 10)):" in code
    assert "l = len(h) - 1" in code
    assert "[nn.Linear(h[i - 1], h[i]) for i in range(1, l + 1)]" in code
    # another list of widths: 784·100 + 100 + 100·10 + 10
    smaller = symparam.parse(text, convention="torch", h="784,100,10")
    assert run(code, smaller, h=(784, 100, 10)) == (79_510, 79_510, (2, 10))


def test_densenet_grows_by_its_index():
    """A repetition whose instances widen the input (DenseNet): a class per step taking j."""
    path = Path("examples/densenet121.sp")
    code = to_torch(symparam.parse(path.read_text(), convention="torch", k="32"), path=path)
    assert "class DenseLayer(nn.Module):\n    def __init__(self, j, k):" in code
    assert "self.conv2d = nn.Conv2d(j * k + 64, 4 * k, 1, bias=False)" in code
    assert "[DenseLayer(j, k) for j in range(0, 6)]" in code


def test_an_encoder_decoder_passes_its_memory():
    path = Path("examples/t5_small.sp")
    code = to_torch(symparam.parse(path.read_text(), convention="torch"), path=path)
    assert "    def forward(self, x1, x2):" in code
    assert "        memory = x1\n" in code
    assert "            x2 = block(x2, memory)\n" in code
    assert "    def forward(self, x, memory):" in code  # the decoder block reads it


def test_frozen_parts_keep_their_adapters_trainable():
    path = Path("examples/llama2_lora.sp")
    network = symparam.parse(path.read_text(), convention="torch")
    code = to_torch(network, path=path)
    assert "freeze(self." in code and "LoRALinear" in code
    assert run(code, network)[:2] == (6_742_609_920, 4_194_304)


STRUCTURES = [
    ("in(10) -> residual(dense(10) -> relu, shortcut=dense(10))", "x = s + y"),
    ("in(10) -> parallel(dense(4), dense(6), merge=concat)", "x = torch.cat([b, b2], dim=1)"),
    ("in(8, 8, 3) -> parallel(conv2d(4, 1), conv2d(4, 1), merge=maximum)", "torch.stack([b, b2]).amax(dim=0)"),
    ("in(16, 32) -> moe(4, dense(32) -> relu, top_k=2)", "nn.ModuleList([Expert() for _ in range(4)])"),
    ("in(100, 3) -> conv1d(8, 3) -> global_max_pool", "ChannelsFirst(nn.Conv1d(3, 8, 3))"),
    ("in(8, 8, 16) -> layer_norm -> dense(4)", "ChannelsLast(nn.Linear(16, 4))"),
    ("in(12, 16) -> tokens(1) -> attention(4, kv_heads=2, qk_norm=rms) -> select(0)",
     "Attention(16, 4, kv_heads=2, qk_norm=\"rms\")"),
    ("in(20, 8) -> lstm(16, bidirectional=true, return_sequences=false)",
     "nn.LSTM(8, 16, batch_first=True, bidirectional=True),"),
    ("in(9, 9, 2) -> conv2d(4, 3, padding=((1, 2), (0, 1)))",
     "nn.Sequential(nn.ZeroPad2d((0, 1, 1, 2)), nn.Conv2d(2, 4, 3))"),
    ("in(10, 28, 28, 3) -> time_distributed(conv2d(8, 3) -> flatten) -> lstm(16)",
     "t = steps_into_batch(x)"),
    ("in(6, 8) -> identity as keys; in(6, 4) -> identity as vals; in(3, 16) -> "
     "attention(4, context=keys, values=vals)", "x3 = self.attention(x3, context=keys, values=vals)"),
    ("in(10, 32) -> bidirectional(lstm(16, return_sequences=true), merge=sum) -> bidirectional(gru(8))",
     'Bidirectional(Direction(), Direction(), merge="sum")'),
    ("in(28, 28, 3) -> spectral_norm(conv2d(8, 3)) -> flatten -> spectral_norm(dense(4))",
     "nn.utils.parametrizations.spectral_norm(self.linear)"),
    ("in(10, 32) -> recurrent(lstm_cell(16) -> dense(4) -> gru_cell(8), return_sequences=true)",
     "Recurrence("),
]
STRUCTURE_IDS = ["shortcut", "concat", "maximum", "moe", "sequence-conv", "image-dense", "attention", "lstm", "uneven",
        "time-distributed", "keys-and-values", "bidirectional", "spectral-norm", "recurrent-cells"]


@pytest.mark.parametrize("text, expected_line", STRUCTURES, ids=STRUCTURE_IDS)
def test_structures_and_layouts(text, expected_line):
    network = symparam.parse(text, convention="torch")
    code = to_torch(network)
    assert expected_line in code
    assert run(code, network) == expected(network)


# ------------------------------------------------------------------ random architectures


@settings(max_examples=120, **SETTINGS)
@given(architectures())
def test_random_architectures_export_and_agree(arch):
    """Sizes written as names stay constructor arguments, with the values as defaults."""
    assume(arch.convention == "torch")
    network = symparam.parse(arch.symbolic, convention="torch", **arch.symbolic_sizes)
    kinds = [node.kind for node, _ in network.tree.walk() if not node.children]
    assume(not any(kind in READS_IDS for kind in kinds[2:]))  # ids fed by another layer's output
    try:
        code = to_torch(network)
    except symparam.SymparamError as error:  # a layer PyTorch has no class for
        assume("PyTorch" not in str(error) and "export" not in str(error))
        raise
    try:
        result = run(code, network)
    except (ValueError, RuntimeError) as error:
        # an instance norm over one step, or token ids read by a layer other than an
        # embedding (a router): models PyTorch refuses to run
        assume("spatial element" not in str(error) and "Long" not in str(error))
        raise
    assert result == expected(network), f"{arch.symbolic}\n{code}"


def test_every_layer_kind_is_written_or_refused_as_keras_only():
    """A new kind needs a writer in export_layers.py, as it needs a builder for check."""
    from symparam.export_layers import KERAS_ONLY, LAYERS
    from symparam.frameworks import pytorch
    from symparam.layers.base import REGISTRY

    by_its_group = {"input", "residual", "parallel", "moe", "frozen", "time_distributed", "bidirectional",
                    "recurrent", "spectral_norm"}  # written by the tree walk
    assert set(REGISTRY) - set(LAYERS) == KERAS_ONLY | by_its_group
    refused = {kind for kind, builder in pytorch.BUILDERS.items() if builder is pytorch.keras_only}
    assert refused == KERAS_ONLY


# ------------------------------------------------------------------ the text


def test_long_lines_wrap_as_black_does():
    line = "        self.depthwise_conv2d = nn.Conv2d(1152, 1152, 5, padding=2, groups=1152, bias=False)"
    assert wrapped(line) == [
        "        self.depthwise_conv2d = nn.Conv2d(",
        "            1152,", "            1152,", "            5,", "            padding=2,",
        "            groups=1152,", "            bias=False,",
        "        )",
    ]


@pytest.mark.skipif(shutil.which("ruff") is None and not Path(sys.executable).with_name("ruff").exists(),
                    reason="ruff not installed")
def test_every_example_is_formatted_as_ruff_formats_it(tmp_path):
    for path in EXAMPLES:
        text = path.read_text(encoding="utf-8")
        network = symparam.parse(text, convention="torch", path=path, **example_sizes(text))
        (tmp_path / f"{path.stem}.py").write_text(to_torch(network, path=path), encoding="utf-8")
    for name, (text, _) in zip(STRUCTURE_IDS, STRUCTURES):  # and each structure's
        code = to_torch(symparam.parse(text, convention="torch"))
        (tmp_path / f"structure_{name.replace('-', '_')}.py").write_text(code, encoding="utf-8")
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    result = subprocess.run([ruff, "format", "--check", "--diff", "--isolated", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    result = subprocess.run([ruff, "check", "--isolated", "--select", "F,E9", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


# ------------------------------------------------------------------ the command


def test_the_command_writes_a_module_that_runs(tmp_path):
    out = tmp_path / "mlp.py"
    result = CliRunner().invoke(main, ["export", "-f", "examples/mnist_mlp.sp", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "class MnistMlp(nn.Module):" in out.read_text()
    ran = subprocess.run([sys.executable, str(out)], capture_output=True, text=True)
    assert ran.stdout == "13,002 parameters, output shape (1, 10)\n", ran.stderr


def test_the_command_names_the_class_and_writes_to_standard_output():
    result = CliRunner().invoke(main, ["export", "in(4) -> dense(2)", "--name", "Tiny"])
    assert result.exit_code == 0 and "class Tiny(nn.Module):" in result.output


@pytest.mark.parametrize("args, message", [
    (["in(8, 8, 3) -> conv_lstm2d(4, 3)"], r"^error: 1:16: conv_lstm2d\(4, 3\): PyTorch has no ConvLSTM"),
    (["in(8) -> dense(4)", "--to", "jax"], "Invalid value for '--to'"),
    (["in(8) -> dnse(4)"], "did you mean 'dense'"),
    (["in(8) -> normalization"], r"^error: 1:10: normalization: PyTorch has no layer for normalization"),
], ids=["keras-only-layer", "framework", "misspelled", "keras-only-kind"])
def test_the_command_refuses_with_a_message(args, message):
    result = CliRunner().invoke(main, ["export", *args])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert re.search(message, result.stderr, re.M), result.stderr
