"""Convolutional networks: counts, shapes, conventions and errors, against worked numbers.

Expected values come from the seed text (2515), Keras' MNIST example (34,826), published
figures (LeNet-5 61,706; VGG-16 138,357,544; torchvision vgg16_bn 138,365,992) and hand
arithmetic written next to each case. tests/test_torch.py checks each kind against PyTorch.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

import symparam
from symparam import SymparamError
from helpers import assert_error

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SEED_CNN = "in(20, 20, 3) -> conv2d(2, 3, padding=same) -> conv2d(3, 3, padding=same) -> flatten -> dense(2)"


def params(text, **options):
    return [layer.params for layer in symparam.parse(text, **options).layers]


def test_seed_cnn_layer_by_layer():
    network = symparam.parse(SEED_CNN)
    # 3·(2·3·3) + 2 = 56; 2·(3·3·3) + 3 = 57; flatten 0; 20·20·3·2 + 2 = 2402
    assert [layer.params for layer in network.layers] == [56, 57, 0, 2402]
    assert network.value == 2515
    assert [layer.output_shape for layer in network.layers] == [
        (20, 20, 2), (20, 20, 3), (1200,), (2,)
    ]


def test_seed_cnn_without_padding():
    # 20 -> 18 -> 16: 56 + 57 + (16·16·3·2 + 2 = 1538) = 1651
    assert symparam.count(SEED_CNN.replace("same", "valid")) == 1651


@pytest.mark.parametrize(
    "text, total",
    [
        (
            "in(28, 28, 1) -> conv2d(32, 3) -> max_pool2d(2) -> conv2d(64, 3) -> max_pool2d(2)"
            " -> flatten -> dense(10)",
            34_826,  # Keras' "Simple MNIST convnet": 320 + 18,496 + 16,010
        ),
        (
            "in(32, 32, 1) -> conv2d(6, 5) -> avg_pool2d(2) -> conv2d(16, 5) -> avg_pool2d(2)"
            " -> conv2d(120, 5) -> flatten -> dense(84) -> dense(10)",
            61_706,  # LeNet-5: 156 + 2,416 + 48,120 + 10,164 + 850
        ),
    ],
    ids=["keras-mnist-convnet", "lenet-5"],
)
def test_published_networks(text, total):
    assert symparam.count(text) == total


@pytest.mark.parametrize(
    "name, keras, torch",
    [
        ("seed_cnn", 2515, 2515),
        ("mnist_convnet", 34_826, 34_826),
        ("lenet5", 61_706, 61_706),
        ("vgg16", 138_357_544, 138_357_544),
        # torchvision vgg16_bn: 138,365,992; Keras adds 2·4224 moving statistics.
        ("vgg16_bn", 138_365_992 + 8448, 138_365_992),
        ("mnist_mlp", 13_002, 13_002),
    ],
)
def test_example_files(name, keras, torch):
    text = (EXAMPLES / f"{name}.sp").read_text()
    assert symparam.count(text) == keras
    assert symparam.count(text, convention="torch") == torch


def test_symbolic_example_gives_the_seed():
    text = (EXAMPLES / "cnn_symbolic.sp").read_text()
    assert symparam.count(text, H=20, W=20, k=3, c=[3, 2, 3], n=2) == 2515


# ------------------------------------------------------------------ conventions


def test_batch_norm_keras_and_torch():
    text = "in(20, 20, 3) -> conv2d(16, 3, padding=same, bias=false) -> batch_norm"
    keras = symparam.parse(text)
    # conv 3·16·9 = 432; batch norm γ, β = 32 trainable, moving mean and variance 32 not
    assert (keras.value, keras.trainable, keras.non_trainable) == (496, 464, 32)
    bn = keras.layers[-1]
    assert (bn.trainable, bn.non_trainable) == (32, 32)
    torch = symparam.parse(text, convention="torch")
    assert (torch.value, torch.trainable, torch.non_trainable) == (464, 464, 0)


@pytest.mark.parametrize(
    "layer, keras, torch",
    [
        ("batch_norm", (32, 32), (32, 0)),
        ("batch_norm(affine=false)", (0, 32), (0, 0)),
        ("batch_norm(center=false, scale=false)", (0, 32), (0, 0)),  # center alone: Keras only
        ("instance_norm", (32, 0), (0, 0)),  # affine by default in Keras, not in PyTorch
        ("instance_norm(affine=true)", (32, 0), (32, 0)),
        ("group_norm(4)", (32, 0), (32, 0)),
        ("layer_norm", (32, 0), (32, 0)),
        ("layer_norm(bias=false)", (16, 0), (16, 0)),
        ("layer_norm(axes=3)", (2 * 8 * 8 * 16, 0), (2 * 8 * 8 * 16, 0)),
        ("rms_norm", (16, 0), (16, 0)),
    ],
)
def test_normalization(layer, keras, torch):
    for convention, (trainable, non_trainable) in (("keras", keras), ("torch", torch)):
        network = symparam.parse(f"in(8, 8, 16) -> {layer}", convention=convention)
        assert (network.trainable, network.non_trainable) == (trainable, non_trainable), convention


# ------------------------------------------------------------------ each kind, by hand


@pytest.mark.parametrize(
    "text, total, shape",
    [
        ("in(20, 21, 3) -> conv2d(8, (3, 5), stride=2)", 3 * 8 * 15 + 8, (9, 9, 8)),
        ("in(20, 20, 4) -> conv2d(8, 3, groups=2, bias=false)", 3 * 3 * 2 * 8, (18, 18, 8)),
        ("in(20, 20, 4) -> conv2d(8, 3, padding=1, dilation=2)", 9 * 4 * 8 + 8, (18, 18, 8)),
        ("in(20, 20, 4) -> Conv2D(filters=8, kernel_size=3, strides=2, padding=same)", 296, (10, 10, 8)),
        ("in(100, 4) -> conv1d(8, 5, padding=causal)", 5 * 4 * 8 + 8, (100, 8)),
        ("in(9, 9, 9, 2) -> conv3d(4, 3)", 27 * 2 * 4 + 4, (7, 7, 7, 4)),
        ("in(7, 7, 8) -> conv2d_transpose(4, 3, stride=2)", 8 * 4 * 9 + 4, (15, 15, 4)),
        ("in(7, 7, 8) -> conv2d_transpose(4, 3, stride=2, padding=same)", 292, (14, 14, 4)),
        ("in(7, 7, 8) -> conv2d_transpose(4, 3, stride=2, padding=1, output_padding=1)", 292, (14, 14, 4)),
        ("in(10, 10, 8) -> depthwise_conv2d(3, depth_multiplier=2)", 9 * 8 * 2 + 16, (8, 8, 16)),
        ("in(10, 10, 8) -> separable_conv2d(16, 3)", 9 * 8 + 8 * 16 + 16, (8, 8, 16)),
        ("in(10, 10, 8) -> max_pool2d(3, stride=2)", 0, (4, 4, 8)),
        ("in(10, 10, 8) -> avg_pool2d(2, padding=same)", 0, (5, 5, 8)),
        ("in(11, 11, 8) -> max_pool2d(2, padding=same)", 0, (6, 6, 8)),
        ("in(10, 10, 8) -> global_avg_pool", 0, (8,)),
        ("in(10, 10, 8) -> adaptive_avg_pool2d(1)", 0, (1, 1, 8)),
        ("in(10, 10, 8) -> zero_padding2d(((1, 2), (3, 4)))", 0, (13, 17, 8)),
        ("in(10, 10, 8) -> upsampling2d(2)", 0, (20, 20, 8)),
        ("in(10, 10, 8) -> reshape(100, -1)", 0, (100, 8)),
        ("in(800) -> reshape((10, 10, 8))", 0, (10, 10, 8)),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_layer_kinds(text, total, shape):
    network = symparam.parse(text)
    assert network.value == total
    assert network.output_shape == shape


def test_channels_first_input():
    first = symparam.parse("in(3, 224, 224, data_format=channels_first) -> conv2d(64, 3)")
    assert first.input_shape == (224, 224, 3)
    assert first.value == 3 * 64 * 9 + 64


# ------------------------------------------------------------------ symbolic


def test_convolution_ellipsis_is_the_closed_form():
    network = symparam.parse(
        "in(H, W, c0) -> conv2d(c1, k, padding=same) -> ... -> conv2d(cl, k, padding=same)"
    )
    c, k, l = network.symbols["c"], network.symbols["k"], network.symbols["l"]
    i = sp.Symbol("i", integer=True)
    assert network.total == sp.Sum(k**2 * c[i - 1] * c[i], (i, 1, l)) + sp.Sum(c[i], (i, 1, l))
    assert network.evaluate(H=20, W=20, k=3, c=[3, 2, 3]) == 56 + 57


def test_symbolic_shapes_stay_symbolic():
    network = symparam.parse("in(H, W, 3) -> conv2d(16, 3, stride=2) -> flatten -> dense(10)")
    H, W = network.symbols["H"], network.symbols["W"]
    height = sp.floor((H - 3) / 2) + 1
    assert sp.simplify(network.layers[0].output_shape[0] - height) == 0
    flat = 16 * height * (sp.floor((W - 3) / 2) + 1)
    assert sp.simplify(network.total - (432 + 16 + flat * 10 + 10)) == 0
    # 20×21 input: heights 9 and 10, 16·9·10 = 1440 inputs to the dense layer
    assert network.evaluate(H=20, W=21) == 448 + 14_410


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "text, message, at",
    [
        ("in(20, 20, 3) -> conv2d(2, 23)", r"conv2d\(2, 23\): height 20 → -2 with kernel 23, padding valid", "conv2d"),
        ("in(20, 20, 3) -> conv2d(4, 3, groups=2)", r"groups=2 does not divide the 3 input channels", "conv2d"),
        ("in(20, 20, 4) -> conv2d(6, 3, groups=4)", r"groups=4 does not divide the 6 filters", "conv2d"),
        ("in(20, 20, 3) -> conv2d(4, 3, stride=0)", r"stride must be a positive whole number, got 0", "0"),
        ("in(20, 20, 3) -> depthwise_conv2d(3, depth_multiplier=0)", r"depth_multiplier must be a positive whole number, got 0", "0)"),
        ("in(4, 4, 3) -> max_pool2d(5)", r"max_pool2d\(5\): height 4 → 0 with kernel 5, stride 5, padding valid", "max_pool2d"),
        ("in(784) -> conv2d(2, 3)", r"needs an input \(height, width, channels\), got \(784\)", "conv2d"),
        ("in(20, 20, 3) -> conv2d(2, (3, 3, 3))", r"kernel needs 2 values \(one per axis\), got 3", "(3, 3, 3)"),
        ("in(20, 20, 3) -> conv2d(2, 3, padding=sme)", r"padding must be valid, same .*did you mean 'same'", "sme"),
        ("in(8, 8, 6) -> group_norm(4)", r"groups=4 does not divide the 6 channels", "group_norm"),
        ("in(8, 8, 6) -> reshape(5, 5)", r"cannot reshape \(8, 8, 6\) \(384 values\) to \(5, 5\)", "reshape"),
    ],
    ids=["kernel-too-large", "groups-channels", "groups-filters", "stride-0", "depth-multiplier-0",
         "pool-too-large", "rank", "kernel-tuple", "padding-word", "group-norm", "reshape"],
)
def test_vision_errors(text, message, at):
    """`at`: the text the caret must stand on (its last occurrence)."""
    assert_error(text, message, 1, text.rindex(at) + 1)


def test_torch_refuses_strided_same_padding():
    text = "in(20, 20, 3) -> conv2d(4, 3, stride=2, padding=same)"
    assert symparam.count(text) == 112  # Keras allows it
    with pytest.raises(SymparamError, match="PyTorch does not support padding=same"):
        symparam.parse(text, convention="torch")
