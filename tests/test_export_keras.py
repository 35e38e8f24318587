"""`symparam export --to keras`: the written module builds a Keras functional model that
holds the count (all, and trainable) and gives the output shape symparam printed; for
every example, for random architectures (the generator of test_tree.py, with sizes
left symbolic as the function's arguments) and for each structure; the code is
formatted as ruff formats it.

Models are built on PyTorch's backend inside keras.device("meta"): their weights take
no memory, so LLaMA-7B builds in a moment. Keras traces each layer on meta tensors and,
where an operation refuses them, silently again on real ones (which would take memory
for a large model): `on_meta` turns that fallback into an error.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings

os.environ.setdefault("KERAS_BACKEND", "torch")  # read when Keras is first imported
keras = pytest.importorskip("keras", reason="Keras not installed: pip install keras to run these")
pytest.importorskip("torch", reason="the models are built on Keras' PyTorch backend: pip install torch")
if keras.backend.backend() != "torch":
    pytest.skip("Keras runs on another backend here: these build on PyTorch's (KERAS_BACKEND=torch), "
                "whose meta device takes no memory", allow_module_level=True)

import symparam  # noqa: E402
from symparam.export_keras import keras_wrapped, to_keras  # noqa: E402
from test_tree import architectures  # noqa: E402

EXAMPLE_DIR = Path(__file__).parent.parent / "examples"
EXAMPLES = sorted(EXAMPLE_DIR.glob("*.sp"))
RUNTIME = Path(__file__).parent.parent / "symparam" / "frameworks" / "keras_runtime.py"
SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}


def example_sizes(text: str) -> dict:
    return dict(setting.split("=", 1) for setting in re.findall(r"--set (\S+)", text))


@contextlib.contextmanager
def on_meta():
    """Fail where Keras would trace a layer on real tensors, the meta ones refused."""
    try:
        from keras.src.backend.common import global_state
        from keras.src.backend.torch import core

        scope, default = core.device_scope, core.DEFAULT_DEVICE
    except (ImportError, AttributeError):  # another Keras layout: build without the guard
        yield
        return

    def strict(device_name):
        if device_name == default and global_state.get_global_attribute("torch_device") == "meta":
            raise AssertionError("Keras traced a layer on real tensors: an operation refused meta ones")
        return scope(device_name)

    core.device_scope = strict
    try:
        yield
    finally:
        core.device_scope = scope


def build(code: str, **arguments):
    """Execute the module and build its model on the meta device with `arguments`."""
    namespace: dict = {"__name__": "exported"}
    exec(compile(code, "exported", "exec"), namespace)
    name = re.search(r"^def (\w+)\((?:[^()]|\([^()]*\))*\) -> keras\.Model:", code, re.MULTILINE).group(1)
    with on_meta(), keras.device("meta"):
        return namespace[name](**arguments)


def counted(model) -> tuple:
    """(params, trainable, output shape) as Keras gives them."""
    trainable = sum(int(keras.ops.size(weight)) for weight in model.trainable_weights)
    return model.count_params(), trainable, tuple(model.output.shape)


def run(code: str, **arguments) -> tuple:
    return counted(build(code, **arguments))


def expected(network) -> tuple:
    """symparam's; a length no count needs (a name left free) is Keras' None."""
    shape = tuple(int(extent) if getattr(extent, "is_Integer", isinstance(extent, int)) else None
                  for extent in network.output_shape)
    return int(network.total), int(network.trainable), (None, *shape)


def exported(text: str, **sizes) -> tuple[str, object]:
    network = symparam.parse(text, convention="keras", **sizes)
    return to_keras(network), network


# ------------------------------------------------------------------ every example


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_every_example_builds_and_counts_the_same(path):
    text = path.read_text(encoding="utf-8")
    network = symparam.parse(text, convention="keras", path=path, **example_sizes(text))
    assert run(to_keras(network, path=path)) == expected(network)


def test_gpt2_reads_as_keras_and_shares_the_head():
    path = EXAMPLE_DIR / "gpt2.sp"
    text = path.read_text(encoding="utf-8")
    code = to_keras(symparam.parse(text, convention="keras", **example_sizes(text)), path=path)
    assert "def gpt2(V=50257, T=1024, d=768, L=12, H=12) -> keras.Model:\n" in code  # --set: defaults
    assert '    inputs = keras.Input(shape=(T,), dtype="int32")\n' in code
    assert "    for _ in range(L):\n        x = block(x, d, H)\n" in code
    assert "def block(x, d, H):\n" in code
    assert "    y = layers.MultiHeadAttention(num_heads=H, key_dim=d // H)(y, y)\n" in code
    assert "    y = layers.Dense(4 * d)(y)\n" in code
    assert "    wte = layers.Embedding(V, d)\n    b = wte(inputs)\n" in code
    assert "    # dense(V, bias=false, tie=wte)\n    x = TiedDense(wte, transpose=True, use_bias=False)(x)\n" in code
    assert '    return keras.Model(inputs, x, name="gpt2")\n' in code
    assert "import symparam" not in code and "import torch" not in code  # self-contained


def test_the_general_mlp_takes_its_list_of_widths():
    code, _ = exported("in(h0) -> dense(h1) -> ... -> dense(hl)", h="784,16,16,10")
    assert "def build_model(h=(784, 16, 16, 10)) -> keras.Model:" in code
    assert "    l = len(h) - 1\n" in code
    assert "    for i in range(1, l + 1):\n        x = layers.Dense(h[i])(x)\n" in code
    # another list of widths: 784·100 + 100 + 100·10 + 10
    assert run(code, h=(784, 100, 10)) == (79_510, 79_510, (None, 10))


def test_densenet_loops_without_the_index_keras_infers_the_widths():
    """A repetition whose instances widen the input (DenseNet) is a Σ over j, but Keras'
    layers take no input width: each dense layer's code is the same."""
    path = EXAMPLE_DIR / "densenet121.sp"
    code = to_keras(symparam.parse(path.read_text(), convention="keras", k="32"), path=path)
    assert "def dense_layer(x, k):" in code
    assert "    for _ in range(6):\n        x = dense_layer(x, k)\n" in code
    assert "layers.Conv2D((15 * k + 32) // 2, 1, use_bias=False)" in code
    assert "layers.Concatenate()([x, b])" in code  # the identity branch is x itself


def test_vgg_repeats_its_first_block_too():
    """conv3(64) * 2 counts its first instance apart (3 input channels): in Keras the
    code is the same, so one loop of 2."""
    path = EXAMPLE_DIR / "vgg16.sp"
    code = to_keras(symparam.parse(path.read_text(), convention="keras"), path=path)
    assert "    for _ in range(2):\n        x = conv3(x)\n" in code
    assert '    x = layers.Conv2D(64, 3, padding="same")(x)\n' in code


def test_an_encoder_decoder_passes_its_memory():
    path = EXAMPLE_DIR / "t5_small.sp"
    code = to_keras(symparam.parse(path.read_text(), convention="keras"), path=path)
    assert '    inputs1 = keras.Input(shape=(512,), dtype="int32")\n' in code
    assert "    memory = x1\n" in code
    assert "        x2 = decoder_block(x2, memory)\n" in code
    assert "def decoder_block(x, memory):" in code
    assert "    x2 = shared(inputs2)\n" in code  # the tied embedding: the same layer again
    assert 'return keras.Model([inputs1, inputs2], x2, name="t5_small")' in code


def test_frozen_parts_keep_their_adapters_trainable():
    """Keras' LoRA (lora_rank) inside a frozen part: the adapters alone are trained."""
    path = EXAMPLE_DIR / "llama2_lora.sp"
    network = symparam.parse(path.read_text(), convention="keras")
    code = to_keras(network, path=path)
    assert "    attention = Attention(32, 128, bias=(), lora_rank=8)\n" in code
    assert "    freeze(attention)\n" in code
    assert "layers.Dense(11008, use_bias=False, trainable=False)" in code
    assert run(code)[:2] == (int(network.total), int(network.trainable))


def test_a_length_no_count_needs_is_none():
    code, network = exported("in(T) -> embedding(V, d) -> attention(H) -> dense(V)", V="100", d="8", H="2")
    assert 'inputs = keras.Input(shape=(None,), dtype="int32")' in code
    assert "def build_model(V=100, d=8, H=2)" in code
    assert run(code) == expected(network) == (2 * 100 * 8 + 100 + 4 * 8 * 8 + 4 * 8, 1988, (None, None, 100))


STRUCTURES = [
    ("in(10) -> residual(dense(10) -> relu, shortcut=dense(10))", "x = layers.Add()([s, y])"),
    ("in(10) -> parallel(dense(4), dense(6), merge=concat)", "x = layers.Concatenate()([b, b2])"),
    ("in(8, 8, 3) -> parallel(conv2d(4, 1), conv2d(4, 1), merge=maximum)", "layers.Maximum()([b, b2])"),
    ("in(8, 8, 3) -> parallel(identity, conv2d(3, 1), merge=concat, axis=1)",
     "layers.Concatenate(axis=1)([inputs, b])"),
    ("in(16, 32) -> moe(4, dense(32) -> relu, top_k=2)",
     "experts = [submodel(expert, inputs.shape[1:]) for _ in range(4)]"),
    ("in(16, 32) -> frozen(moe(4, dense(32), top_k=1))", "moe.router.trainable = False"),
    ("in(12, 16) -> tokens(1) -> attention(4, kv_heads=2, qk_norm=rms) -> select(0)",
     'Attention(4, 4, kv_heads=2, qk_norm="rms")'),
    ("in(12, 16) -> attention(4, kv_heads=2, bias=false)", "layers.GroupQueryAttention("),
    ("in(12, 16) -> attention(4, gate=true, out=8)",
     "        output_shape=8,\n        use_gate=True,\n    )(inputs, inputs)"),
    ("in(7, 6) -> dense(6) as keys; in(7, 6) -> dense(5) as vals; in(3, 8) -> attention(2, context=keys, values=vals)",
     "layers.MultiHeadAttention(num_heads=2, key_dim=4)(inputs3, vals, key=keys)"),
    ("in(5, 6) -> layer_norm as memory; in(3, 6) -> dot_attention(context=memory)",
     "layers.Attention()([inputs2, memory])"),
    ("in(20, 8) -> lstm(16, bidirectional=true, layers=2, merge=sum)",
     'x = layers.Bidirectional(layers.LSTM(16), merge_mode="sum")(x)'),
    ("in(6, 8) -> frozen(gru(5, layers=n, return_sequences=true, reset_after=false))",
     "for _ in range(n - 1):\n        x = layers.GRU(5, return_sequences=True, reset_after=False, trainable=False)(x)"),
    ("in(8) -> gru_cell(4, reset_after=false)", "Step(layers.GRUCell(4, reset_after=False))"),
    ("in(9, 9, 2) -> conv2d(4, 3, padding=((1, 2), (0, 1)))", "layers.ZeroPadding2D(((1, 2), (0, 1)))(inputs)"),
    ("in(9, 9, 2) -> conv2d_transpose(4, 3, stride=2, padding=1)",
     "x = layers.Cropping2D(1)(x)"),
    ("in(9, 9, 2) -> max_pool2d(3, stride=2, padding=same) -> global_avg_pool(keepdims=true)",
     "layers.GlobalAveragePooling2D(keepdims=True)"),
    ("in(6, 5, 5, 2) -> conv_lstm2d(3, 3, return_sequences=true)",
     "layers.ConvLSTM2D(3, 3, return_sequences=True)"),
    ("in(12, 16) -> slice(2, 10) -> scale -> param(3, 4, trainable=false)",
     "x = Tensor(3, 4, trainable=False)(x)"),
    ("in(8) -> dense(8) as proj -> relu -> dense(8, tie=proj, activation=tanh)",
     'TiedDense(proj, activation="tanh")'),
    ("in(4) -> leaky_relu(0.2) -> dropout(0.1) -> dense(3, lora=2) -> softmax",
     "layers.LeakyReLU(negative_slope=0.2)"),
    ("in(5, 8, 8, 3) -> time_distributed(conv2d(4, 3) -> relu -> flatten) -> time_distributed(dense(6))",
     "x = layers.TimeDistributed(layers.Dense(6))(x)"),
    (("in(5, 8) -> recurrent(lstm_cell(8) -> gru_cell(4), return_sequences=true) "
      "-> bidirectional(recurrent(simple_rnn_cell(2)), merge=sum)"),
     'layers.Bidirectional(layers.RNN(layers.SimpleRNNCell(2)), merge_mode="sum")'),
    ("in(6) -> spectral_norm(dense(4), power_iterations=2)",
     "layers.SpectralNormalization(layers.Dense(4), power_iterations=2)"),
    (("in(100, 2) -> stft_spectrogram(frame_length=16) "
      '-> einsum_dense("abc,cd->abd", output_shape=(11, 8), bias_axes="d")'),
     'layers.EinsumDense("abc,cd->abd", output_shape=(11, 8), bias_axes="d")'),
]
STRUCTURE_IDS = ["shortcut", "concat", "maximum", "concat-axis", "moe", "frozen-router", "attention-helper", "gqa",
        "mha", "keys-and-values", "dot-attention", "stacked-lstm", "stacked-by-a-name", "cell", "uneven", "transposed-crop",
        "pools", "conv-lstm", "tensors", "tie-dense", "reals-and-lora", "time-distributed", "cells",
        "spectral-norm", "keras-only"]


SIZES = {"stacked-by-a-name": {"n": "3"}}  # the sizes a structure's text leaves as names


@pytest.mark.parametrize("text, expected_line", STRUCTURES, ids=STRUCTURE_IDS)
def test_structures(text, expected_line, request):
    code, network = exported(text, **SIZES.get(request.node.callspec.id, {}))
    assert expected_line in code, code
    assert run(code) == expected(network)


def test_the_helpers_run_on_real_tensors():
    """Built on the CPU and run: attention with grouped heads and per-projection biases,
    a mixture, learnable tokens and tensors, a cell's step, a tied head."""
    text = ("in(6) -> embedding(20, 8) as wte -> tokens(2) -> param(8, 8) -> scale "
            "-> residual(attention(4, kv_heads=2, bias=(q, v), qk_norm=rms, gate=true)) "
            "-> moe(3, dense(8) -> relu, top_k=2) -> dense(20, tie=wte) -> select(0) -> lstm_cell(5)")
    code, network = exported(text)
    namespace: dict = {"__name__": "exported"}
    exec(compile(code, "exported", "exec"), namespace)
    with keras.device("cpu"):
        model = namespace["build_model"]()
        output = model(keras.ops.ones((2, 6), dtype="int32"))
    assert model.count_params() == int(network.total)
    assert tuple(output.shape) == (2, 5) and not bool(keras.ops.any(keras.ops.isnan(output)))


@pytest.mark.parametrize("text, message", [
    ("in(8) -> embedding_bag(100, 4)", "Keras has no layer for embedding_bag"),
    ("in(8) -> bilinear(4)", "Keras has no layer for bilinear"),
    ("in(8) -> adaptive_log_softmax(100, (20, 50))", "Keras has no layer for adaptive_log_softmax"),
    ("in(8, 3) -> conv1d_transpose(6, 3, groups=3)", "Keras' transposed convolutions have no groups"),
    ("in(4) -> dense(4) as a; in(4) -> dense(3)", "each chain but the last ends in a stage"),
], ids=["embedding-bag", "bilinear", "adaptive-log-softmax", "transposed-groups", "unread-chain"])
def test_what_keras_has_no_layer_for_is_refused(text, message):
    with pytest.raises(symparam.SymparamError, match=message):
        exported(text)


def test_every_layer_kind_is_written_or_refused():
    """A new kind needs a writer in export_keras_layers.py, as it needs a builder for check."""
    from symparam.export_keras_layers import LAYERS
    from symparam.layers.base import REGISTRY

    by_its_group = {"input", "residual", "parallel", "moe", "frozen", "time_distributed", "recurrent",
                    "bidirectional", "spectral_norm"}  # written by the tree walk
    assert set(REGISTRY) - set(LAYERS) == by_its_group


# ------------------------------------------------------------------ random architectures


@settings(max_examples=40, **SETTINGS)
@given(architectures())
def test_random_architectures_export_and_agree(arch):
    """Sizes written as names stay the function's arguments, with the values as defaults."""
    assume(arch.convention == "keras")
    network = symparam.parse(arch.symbolic, convention="keras", **arch.symbolic_sizes)
    try:
        code = to_keras(network)
    except symparam.SymparamError as error:  # a layer Keras has no class for
        assume("Keras" not in str(error) and "export" not in str(error))
        raise
    assert run(code) == expected(network), f"{arch.symbolic}\n{code}"


# ------------------------------------------------------------------ the text


def test_a_layer_made_and_applied_at_once_wraps_at_its_constructor():
    line = ("        y = layers.MultiHeadAttention(num_heads=12, key_dim=64, value_dim=32, "
            "use_bias=False)(y, memory)")
    assert keras_wrapped(line) == [
        "        y = layers.MultiHeadAttention(",
        "            num_heads=12,", "            key_dim=64,", "            value_dim=32,",
        "            use_bias=False,",
        "        )(y, memory)",
    ]
    line = ("    x = keras.Sequential([layers.Bidirectional(layers.LSTM(16, return_sequences=True)), "
            "layers.Bidirectional(layers.LSTM(16))])(inputs)")
    assert keras_wrapped(line) == [
        "    x = keras.Sequential(",
        "        [",
        "            layers.Bidirectional(layers.LSTM(16, return_sequences=True)),",
        "            layers.Bidirectional(layers.LSTM(16)),",
        "        ],",
        "    )(inputs)",
    ]


RUFF = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))


@pytest.mark.skipif(not Path(RUFF).exists(), reason="ruff not installed")
def test_every_example_and_the_runtime_are_formatted_as_ruff_formats_them(tmp_path):
    for path in EXAMPLES:
        text = path.read_text(encoding="utf-8")
        network = symparam.parse(text, convention="keras", path=path, **example_sizes(text))
        (tmp_path / f"{path.stem}.py").write_text(to_keras(network, path=path), encoding="utf-8")
    for (text, _), name in zip(STRUCTURES, STRUCTURE_IDS):
        code = exported(text, **SIZES.get(name, {}))[0]
        (tmp_path / f"{name.replace('-', '_')}.py").write_text(code, encoding="utf-8")
    shutil.copy(RUNTIME, tmp_path / "keras_runtime.py")
    result = subprocess.run([RUFF, "format", "--check", "--diff", "--isolated", str(tmp_path)],
                            check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    result = subprocess.run([RUFF, "check", "--isolated", "--select", "F,E9", str(tmp_path)],
                            check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_the_module_runs_and_prints_its_count(tmp_path):
    path = EXAMPLE_DIR / "mnist_mlp.sp"
    out = tmp_path / "mnist_mlp.py"
    out.write_text(to_keras(symparam.parse(path.read_text(), convention="keras"), path=path))
    ran = subprocess.run([sys.executable, str(out)], check=False, capture_output=True, text=True,
                         env={**os.environ, "KERAS_BACKEND": "torch"})
    assert ran.stdout.endswith("13,002 parameters, output shape (None, 10)\n"), ran.stderr
