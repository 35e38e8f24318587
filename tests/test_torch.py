"""Every layer kind checked against PyTorch 2.13 itself, under convention="torch".

Each case is a symparam layer and the equivalent torch module, built independently. The
expected count is torch's `sum(p.numel() for p in module.parameters())`, and the expected
shape is that of a meta-device tensor pushed through the module (no memory, no compute),
moved to channels-last and without the batch axis. Nothing expected comes from symparam.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch not installed: pip install torch==2.13.0 to run the checks against it"
)
from torch import nn  # noqa: E402

import symparam  # noqa: E402

# torch's note that padding="same" with an even kernel may copy the input: expected here
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")

CF, CL = "channels_first", "channels_last"  # how the torch module wants its input laid out


def torch_result(make, torch_input):
    """(parameter count, output shape without the batch axis) of a module on the meta device."""
    with torch.device("meta"):
        module = make().eval()  # eval: a batch norm accepts a batch of one
        output = module(torch.empty(1, *torch_input))
    return sum(p.numel() for p in module.parameters()), tuple(output.shape[1:])


def check(text, make, torch_input, layout=CF):
    """symparam's count and output shape for `text` equal torch's for `make()`."""
    expected, shape = torch_result(make, torch_input)
    if layout == CF and len(shape) > 1:
        shape = shape[1:] + shape[:1]  # (C, *spatial) -> (*spatial, C)
    network = symparam.parse(text, convention="torch")
    assert (network.value, network.output_shape) == (expected, shape)
    assert sum(row.params for row in network.layers) == expected
    return network


def check_layer(layer, shape, make, layout=CF):
    """One layer after `in(*shape)`, shape channels-last; torch gets the same input its way."""
    torch_input = shape if layout == CL else (shape[-1], *shape[:-1])
    text = f"in({', '.join(map(str, shape))}) -> {layer}"
    network = check(text, make, torch_input, layout)
    assert network.layers[-1].params == network.value


def cases(*rows):
    """pytest.param(layer, shape, make, layout=CF) rows, each id'd by the layer as written."""
    return [
        pytest.param(*row, *(CF,) * (4 - len(row)), id=f"{row[0]}@{row[1]}".replace(" ", ""))
        for row in rows
    ]


LINEAR = cases(
    ("dense(10)", (32,), lambda: nn.Linear(32, 10), CL),
    ("dense(10, bias=false)", (32,), lambda: nn.Linear(32, 10, bias=False), CL),
    ("Linear(7)", (10, 32), lambda: nn.Linear(32, 7), CL),
    ("dense(7, bias=false)", (10, 32), lambda: nn.Linear(32, 7, bias=False), CL),
)

CONVOLUTIONS = cases(
    ("conv1d(8, 5)", (50, 3), lambda: nn.Conv1d(3, 8, 5)),
    ("conv1d(8, 4, stride=3, padding=2, dilation=2)", (51, 6),
     lambda: nn.Conv1d(6, 8, 4, stride=3, padding=2, dilation=2)),
    ("conv1d(8, 4, padding=same, groups=2, bias=false)", (51, 6),
     lambda: nn.Conv1d(6, 8, 4, padding="same", groups=2, bias=False)),
    ("conv2d(16, 3)", (20, 21, 3), lambda: nn.Conv2d(3, 16, 3)),
    ("conv2d(16, 3, stride=2)", (20, 21, 3), lambda: nn.Conv2d(3, 16, 3, stride=2)),
    ("conv2d(16, (3, 5), stride=(2, 1))", (20, 21, 3),
     lambda: nn.Conv2d(3, 16, (3, 5), stride=(2, 1))),
    ("conv2d(16, 3, padding=same)", (20, 21, 3), lambda: nn.Conv2d(3, 16, 3, padding="same")),
    ("conv2d(16, 4, padding=same)", (20, 21, 3), lambda: nn.Conv2d(3, 16, 4, padding="same")),
    ("conv2d(16, 3, stride=2, padding=1, dilation=2, bias=false)", (20, 21, 3),
     lambda: nn.Conv2d(3, 16, 3, stride=2, padding=1, dilation=2, bias=False)),
    ("conv2d(16, (3, 5), padding=(1, 2), dilation=(2, 1))", (20, 21, 3),
     lambda: nn.Conv2d(3, 16, (3, 5), padding=(1, 2), dilation=(2, 1))),
    ("conv2d(12, 3, groups=4)", (20, 21, 8), lambda: nn.Conv2d(8, 12, 3, groups=4)),
    ("conv2d(8, 3, padding=1, groups=8)", (20, 21, 8),
     lambda: nn.Conv2d(8, 8, 3, padding=1, groups=8)),
    ("Conv2d(24, 3, stride=2, groups=8, bias=false)", (21, 21, 8),
     lambda: nn.Conv2d(8, 24, 3, stride=2, groups=8, bias=False)),
    ("conv3d(4, 3)", (7, 9, 11, 2), lambda: nn.Conv3d(2, 4, 3)),
    ("conv3d(4, (1, 3, 5), stride=(1, 2, 3), padding=(0, 1, 2))", (7, 9, 11, 2),
     lambda: nn.Conv3d(2, 4, (1, 3, 5), stride=(1, 2, 3), padding=(0, 1, 2))),
    ("conv3d(6, 3, padding=same, dilation=2, groups=2, bias=false)", (7, 9, 11, 4),
     lambda: nn.Conv3d(4, 6, 3, padding="same", dilation=2, groups=2, bias=False)),
)

TRANSPOSED = cases(
    ("conv1d_transpose(8, 4, stride=2, padding=1)", (25, 3),
     lambda: nn.ConvTranspose1d(3, 8, 4, stride=2, padding=1)),
    ("conv1d_transpose(8, 3, stride=3, padding=0, output_padding=2, dilation=2)", (25, 3),
     lambda: nn.ConvTranspose1d(3, 8, 3, stride=3, output_padding=2, dilation=2)),
    ("conv2d_transpose(8, 3, stride=2, padding=1, output_padding=1)", (10, 11, 4),
     lambda: nn.ConvTranspose2d(4, 8, 3, stride=2, padding=1, output_padding=1)),
    ("conv2d_transpose(6, (3, 5), stride=(2, 3), padding=(1, 2), groups=2, bias=false)",
     (10, 11, 4),
     lambda: nn.ConvTranspose2d(4, 6, (3, 5), stride=(2, 3), padding=(1, 2), groups=2,
                                bias=False)),
    ("conv2d_transpose(8, 3, padding=0, dilation=2, groups=4)", (10, 11, 4),
     lambda: nn.ConvTranspose2d(4, 8, 3, dilation=2, groups=4)),
    # torch's default padding is 0; symparam's default is valid, read the same way here
    ("ConvTranspose2d(8, 2, stride=3)", (10, 11, 4),
     lambda: nn.ConvTranspose2d(4, 8, 2, stride=3)),
    ("conv2d_transpose(8, 4, stride=2)", (10, 11, 4),
     lambda: nn.ConvTranspose2d(4, 8, 4, stride=2)),
    ("conv3d_transpose(4, 3, stride=2, padding=1, output_padding=(0, 1, 1))", (5, 6, 7, 2),
     lambda: nn.ConvTranspose3d(2, 4, 3, stride=2, padding=1, output_padding=(0, 1, 1))),
)

DEPTHWISE_SEPARABLE = cases(
    ("depthwise_conv1d(5)", (30, 4), lambda: nn.Conv1d(4, 4, 5, groups=4)),
    ("depthwise_conv1d(5, depth_multiplier=3, stride=2, bias=false)", (30, 4),
     lambda: nn.Conv1d(4, 12, 5, stride=2, groups=4, bias=False)),
    ("depthwise_conv2d(3)", (20, 21, 8), lambda: nn.Conv2d(8, 8, 3, groups=8)),
    ("depthwise_conv2d((3, 5), depth_multiplier=2, stride=2, padding=1)", (20, 21, 8),
     lambda: nn.Conv2d(8, 16, (3, 5), stride=2, padding=1, groups=8)),
    ("separable_conv1d(16, 3, depth_multiplier=2)", (30, 4),
     lambda: nn.Sequential(nn.Conv1d(4, 8, 3, groups=4, bias=False), nn.Conv1d(8, 16, 1))),
    ("separable_conv2d(16, 3, padding=same)", (20, 21, 8),
     lambda: nn.Sequential(nn.Conv2d(8, 8, 3, padding="same", groups=8, bias=False),
                           nn.Conv2d(8, 16, 1))),
    ("separable_conv2d(16, 3, depth_multiplier=3, stride=2, bias=false)", (20, 21, 8),
     lambda: nn.Sequential(nn.Conv2d(8, 24, 3, stride=2, groups=8, bias=False),
                           nn.Conv2d(24, 16, 1, bias=False))),
)

POOLING_RESHAPING = cases(
    ("max_pool1d(3)", (31, 4), lambda: nn.MaxPool1d(3)),
    ("avg_pool1d(4, stride=2, padding=2)", (31, 4), lambda: nn.AvgPool1d(4, stride=2, padding=2)),
    ("max_pool2d(2)", (21, 20, 3), lambda: nn.MaxPool2d(2)),
    ("MaxPool2d(3, stride=2, padding=1)", (21, 20, 3),
     lambda: nn.MaxPool2d(3, stride=2, padding=1)),
    ("avg_pool2d((2, 3), stride=(1, 2))", (21, 20, 3),
     lambda: nn.AvgPool2d((2, 3), stride=(1, 2))),
    ("avg_pool2d(3, stride=2, padding=1)", (21, 20, 3),
     lambda: nn.AvgPool2d(3, stride=2, padding=1)),
    ("max_pool3d(2)", (5, 7, 9, 2), lambda: nn.MaxPool3d(2)),
    ("avg_pool3d(3, stride=2, padding=1)", (5, 7, 9, 2),
     lambda: nn.AvgPool3d(3, stride=2, padding=1)),
    ("adaptive_avg_pool2d((5, 7))", (21, 20, 3), lambda: nn.AdaptiveAvgPool2d((5, 7))),
    ("adaptive_max_pool2d(1)", (21, 20, 3), lambda: nn.AdaptiveMaxPool2d(1)),
    ("adaptive_avg_pool1d(6)", (31, 4), lambda: nn.AdaptiveAvgPool1d(6)),
    ("adaptive_max_pool3d((2, 3, 4))", (5, 7, 9, 2), lambda: nn.AdaptiveMaxPool3d((2, 3, 4))),
    ("global_avg_pool", (21, 20, 3), lambda: nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())),
    ("global_max_pool", (31, 4), lambda: nn.Sequential(nn.AdaptiveMaxPool1d(1), nn.Flatten())),
    ("global_avg_pool(keepdims=true)", (5, 7, 9, 2), lambda: nn.AdaptiveAvgPool3d(1)),
    ("flatten", (21, 20, 3), lambda: nn.Flatten()),
    ("flatten", (31, 4), lambda: nn.Flatten()),
    ("zero_padding2d(1)", (21, 20, 3), lambda: nn.ZeroPad2d(1)),
    # symparam: ((top, bottom), (left, right)); torch: (left, right, top, bottom)
    ("zero_padding2d(((1, 2), (3, 4)))", (21, 20, 3), lambda: nn.ZeroPad2d((3, 4, 1, 2))),
    ("zero_padding1d(2)", (31, 4), lambda: nn.ZeroPad1d(2)),
    ("zero_padding1d((2, 5))", (31, 4), lambda: nn.ZeroPad1d((2, 5))),  # (before, after) as Keras
    ("zero_padding3d(1)", (5, 7, 9, 2), lambda: nn.ZeroPad3d(1)),
    ("upsampling2d", (21, 20, 3), lambda: nn.Upsample(scale_factor=2)),
    ("upsampling2d((2, 3))", (21, 20, 3), lambda: nn.Upsample(scale_factor=(2, 3))),
    ("upsampling1d(3)", (31, 4), lambda: nn.Upsample(scale_factor=3)),
    ("reshape(7, 7, 16)", (784,), lambda: nn.Unflatten(1, (7, 7, 16)), CL),
    ("reshape(-1, 8)", (10, 12), lambda: nn.Sequential(nn.Flatten(), nn.Unflatten(1, (-1, 8))), CL),
)

NORMALIZATION = cases(
    ("batch_norm", (32,), lambda: nn.BatchNorm1d(32)),
    ("batch_norm", (50, 32), lambda: nn.BatchNorm1d(32)),
    ("BatchNorm2d", (20, 21, 16), lambda: nn.BatchNorm2d(16)),
    ("batch_norm(affine=false)", (20, 21, 16), lambda: nn.BatchNorm2d(16, affine=False)),
    ("batch_norm", (5, 6, 7, 8), lambda: nn.BatchNorm3d(8)),
    ("layer_norm", (10, 32), lambda: nn.LayerNorm(32), CL),
    ("layer_norm(axes=3)", (4, 5, 6), lambda: nn.LayerNorm([4, 5, 6]), CL),
    ("layer_norm(axes=2)", (4, 5, 6), lambda: nn.LayerNorm([5, 6]), CL),
    ("layer_norm(bias=false)", (10, 32), lambda: nn.LayerNorm(32, bias=False), CL),
    ("LayerNorm(elementwise_affine=false)", (10, 32),
     lambda: nn.LayerNorm(32, elementwise_affine=False), CL),
    ("group_norm(4)", (20, 21, 16), lambda: nn.GroupNorm(4, 16)),
    ("group_norm(16, affine=false)", (20, 21, 16), lambda: nn.GroupNorm(16, 16, affine=False)),
    ("instance_norm", (20, 21, 16), lambda: nn.InstanceNorm2d(16)),
    ("instance_norm(affine=true)", (20, 21, 16), lambda: nn.InstanceNorm2d(16, affine=True)),
    ("InstanceNorm1d(affine=true)", (50, 32), lambda: nn.InstanceNorm1d(32, affine=True)),
    ("rms_norm", (10, 32), lambda: nn.RMSNorm(32), CL),
    ("RMSNorm(elementwise_affine=false)", (10, 32),
     lambda: nn.RMSNorm(32, elementwise_affine=False), CL),
)

ACTIVATIONS = cases(*[
    (layer, (8, 9, 4), make) for layer, make in (
        ("relu", nn.ReLU), ("gelu", nn.GELU), ("silu", nn.SiLU), ("tanh", nn.Tanh),
        ("leaky_relu(0.1)", lambda: nn.LeakyReLU(0.1)), ("relu6", nn.ReLU6), ("elu", nn.ELU),
        ("hard_swish", nn.Hardswish), ("mish", nn.Mish), ("softmax", lambda: nn.Softmax(dim=1)),
        ("log_softmax", lambda: nn.LogSoftmax(dim=1)), ("sigmoid", nn.Sigmoid), ("selu", nn.SELU),
        ("celu", nn.CELU), ("hard_sigmoid", nn.Hardsigmoid), ("hard_tanh", nn.Hardtanh),
        ("softplus", nn.Softplus), ("softsign", nn.Softsign), ("identity", nn.Identity),
        ("GELU", nn.GELU), ("dropout(0.5)", lambda: nn.Dropout(0.5)),
    )
])


@pytest.mark.parametrize(
    "layer, shape, make, layout",
    LINEAR + CONVOLUTIONS + TRANSPOSED + DEPTHWISE_SEPARABLE + POOLING_RESHAPING
    + NORMALIZATION + ACTIVATIONS,
)
def test_layer(layer, shape, make, layout):
    check_layer(layer, shape, make, layout)


# ------------------------------------------------------------------ whole networks
# LazyLinear lets torch itself work out the features a flatten hands to the first dense.


def seed_cnn():
    return nn.Sequential(
        nn.Conv2d(3, 2, 3, padding="same"), nn.Conv2d(2, 3, 3, padding="same"),
        nn.Flatten(), nn.LazyLinear(2),
    )


def mnist_convnet():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5), nn.LazyLinear(10), nn.Softmax(dim=1),
    )


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.Tanh(),
        nn.AvgPool2d(2), nn.Conv2d(16, 120, 5), nn.Tanh(), nn.Flatten(),
        nn.LazyLinear(84), nn.Tanh(), nn.Linear(84, 10),
    )


def vgg16(batch_norm=False):
    layers, channels = [], 3
    for width in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M",
                  512, 512, 512, "M", 512, 512, 512, "M"):
        if width == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            norm = [nn.BatchNorm2d(width)] if batch_norm else []
            layers += [nn.Conv2d(channels, width, 3, padding=1), *norm, nn.ReLU()]
            channels = width
    return nn.Sequential(
        *layers, nn.Flatten(), nn.LazyLinear(4096), nn.ReLU(), nn.Dropout(),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 1000),
    )


VGG16_LAYERS = """
  -> conv2d(64, 3, padding=same) -> relu -> conv2d(64, 3, padding=same) -> relu -> max_pool2d(2)
  -> conv2d(128, 3, padding=same) -> relu -> conv2d(128, 3, padding=same) -> relu -> max_pool2d(2)
  -> conv2d(256, 3, padding=same) -> relu -> (conv2d(256, 3, padding=same) -> relu) * 2
  -> max_pool2d(2)
  -> conv2d(512, 3, padding=same) -> relu -> (conv2d(512, 3, padding=same) -> relu) * 2
  -> max_pool2d(2)
  -> (conv2d(512, 3, padding=same) -> relu) * 3 -> max_pool2d(2)
  -> flatten -> dense(4096) -> relu -> dropout(0.5) -> dense(4096) -> relu -> dropout(0.5)
  -> dense(1000)
"""

NETWORKS = [
    # (expression, torch model, torch input, published count or None)
    pytest.param(
        "in(20, 20, 3) -> conv2d(2, 3, padding=same) -> conv2d(3, 3, padding=same)"
        " -> flatten -> dense(2)", seed_cnn, (3, 20, 20), 2515, id="seed-cnn"),
    pytest.param(
        "in(28, 28, 1) -> conv2d(32, 3) -> relu -> max_pool2d(2) -> conv2d(64, 3) -> relu"
        " -> max_pool2d(2) -> flatten -> dropout(0.5) -> dense(10) -> softmax",
        mnist_convnet, (1, 28, 28), 34_826, id="keras-mnist-convnet"),
    pytest.param(
        "in(32, 32, 1) -> conv2d(6, 5) -> tanh -> avg_pool2d(2) -> conv2d(16, 5) -> tanh"
        " -> avg_pool2d(2) -> conv2d(120, 5) -> tanh -> flatten -> dense(84) -> tanh -> dense(10)",
        lenet5, (1, 32, 32), 61_706, id="lenet-5"),
    pytest.param("in(224, 224, 3)" + VGG16_LAYERS, vgg16, (3, 224, 224), 138_357_544, id="vgg-16"),
    pytest.param("in(3, 224, 224, data_format=channels_first)" + VGG16_LAYERS, vgg16, (3, 224, 224),
                 138_357_544, id="vgg-16-channels-first"),
    pytest.param(
        "in(224, 224, 3)" + VGG16_LAYERS.replace("padding=same)", "padding=same) -> batch_norm"),
        lambda: vgg16(batch_norm=True), (3, 224, 224), 138_365_992, id="vgg-16-bn"),
    pytest.param(
        "in(3, 20, 21, data_format=channels_first) -> conv2d(16, 3, stride=2) -> batch_norm"
        " -> global_avg_pool -> dense(5)",
        lambda: nn.Sequential(nn.Conv2d(3, 16, 3, stride=2), nn.BatchNorm2d(16),
                              nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 5)),
        (3, 20, 21), None, id="small-cnn-channels-first"),
]


@pytest.mark.parametrize("text, make, torch_input, published", NETWORKS)
def test_network(text, make, torch_input, published):
    expected, _ = torch_result(make, torch_input)
    if published is not None:
        assert expected == published  # torch agrees with the published figure
    check(text, make, torch_input)
