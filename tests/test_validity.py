"""Arguments that Keras or PyTorch refuse are refused under their convention, and their
neighbours that the framework accepts still count.

Each rule was found by a differential run against PyTorch 2.13 and Keras 3.15 (torch
backend). An error row is (expression, message, where, evidence): `where` is the text the
caret stands on (its last occurrence), `evidence` the framework's own layer and the
error it gives: (make, channels-first or channels-last input, message). The evidence is
checked live when the framework is installed (tests below, skipped otherwise).
"""

from __future__ import annotations

import os
import re

import pytest
from click.testing import CliRunner

import symparam
from symparam import SymparamError
from symparam.cli import main


def table(rows: dict):
    return {"argvalues": list(rows.values()), "ids": list(rows)}


def position(text: str, at: str) -> tuple[int, int]:
    """(line, column) of the last occurrence of `at` in `text`."""
    where = text.rindex(at)
    return text.count("\n", 0, where) + 1, where - (text.rfind("\n", 0, where) + 1) + 1


def check_error(text: str, convention: str, message: str, at: str) -> None:
    """Counting `text` under `convention` fails with `message`, naming the layer, with
    the caret at `at`."""
    line, column = position(text, at)
    with pytest.raises(SymparamError, match=message) as info:
        symparam.parse(text, convention=convention)
    error = info.value
    assert (error.line, error.column) == (line, column), str(error)
    rendered = str(error).splitlines()
    assert re.match(rf"{line}:{column}: \w+\(.*\): ", rendered[0]), rendered[0]  # names the layer
    assert rendered[-1].index("^") == 2 + column - 1, str(error)


# ------------------------------------------------------------------ PyTorch

SAME_STRIDE = "PyTorch does not support padding=same with a stride other than 1"
POOL_SAME = "PyTorch's pooling takes a number of zeros, not padding=same"
POOL_HALF = "PyTorch allows a padding of at most half the pool size"
TORCH_OUTPUT_PADDING = "PyTorch needs output_padding smaller than the stride or the dilation"
CAUSAL = "PyTorch does not support padding=causal"
AFFINE = "PyTorch has one affine switch for γ and β"

T_STRIDED = "padding='same' is not supported for strided convolutions"
T_POOL_STR = "must be tuple of ints"
T_HALF = "should be at most half of"
T_OUTPUT = "output padding must be smaller than either stride or dilation"

TORCH_ERRORS = {
    # padding=same with a stride: the rule conv1d/conv2d have, on the whole layer as theirs.
    "depthwise2d-same-stride": (
        "in(9, 9, 4) -> depthwise_conv2d(3, stride=2, padding=same)",
        SAME_STRIDE, "depthwise_conv2d(",
        (lambda nn: nn.Conv2d(4, 4, 3, stride=2, padding="same", groups=4), (4, 9, 9), T_STRIDED),
    ),
    "depthwise1d-same-stride-one-axis": (
        "in(9, 4) -> DepthwiseConv1D(3, 2, strides=3, padding=same)",
        SAME_STRIDE, "DepthwiseConv1D(",
        (lambda nn: nn.Conv1d(4, 8, 3, stride=3, padding="same", groups=4), (4, 9), T_STRIDED),
    ),
    "separable2d-same-stride": (
        "in(9, 9, 4) -> separable_conv2d(8, 3, stride=(1, 2), padding=same)",
        SAME_STRIDE, "separable_conv2d(",
        (lambda nn: nn.Conv2d(4, 4, 3, stride=(1, 2), padding="same", groups=4), (4, 9, 9), T_STRIDED),
    ),
    "separable1d-same-stride": (
        "in(9, 4) -> separable_conv1d(8, 3, stride=2, padding=same)",
        SAME_STRIDE, "separable_conv1d(",
        (lambda nn: nn.Conv1d(4, 4, 3, stride=2, padding="same", groups=4), (4, 9), T_STRIDED),
    ),
    # Pooling: zeros only, at most half the window.
    "max-pool2d-same": (
        "in(8, 8, 2) -> max_pool2d(2, padding=same)",
        POOL_SAME, "same",
        (lambda nn: nn.MaxPool2d(2, padding="same"), (2, 8, 8), T_POOL_STR),
    ),
    "avg-pool1d-same-positional": (
        "in(8, 2) -> AveragePooling1D(3, 1, 'same')",
        POOL_SAME, "'same'",
        (lambda nn: nn.AvgPool1d(3, 1, padding="same"), (2, 8), T_POOL_STR),
    ),
    "max-pool3d-same": (
        "in(8, 8, 8, 2) -> MaxPool3d(kernel_size=2, padding=same)",
        POOL_SAME, "same",
        (lambda nn: nn.MaxPool3d(2, padding="same"), (2, 8, 8, 8), T_POOL_STR),
    ),
    "avg-pool2d-pad-2-pool-3": (
        "in(8, 8, 2) -> avg_pool2d(3, 1, 2)",
        POOL_HALF + r", got 2 with pool size 3 along the height", "2)",
        (lambda nn: nn.AvgPool2d(3, 1, padding=2), (2, 8, 8), T_HALF),
    ),
    "max-pool1d-pad-1-pool-1": (
        "in(8, 2) -> max_pool1d(1, padding=1)",
        POOL_HALF + r", got 1 with pool size 1\n", "1)",
        (lambda nn: nn.MaxPool1d(1, padding=1), (2, 8), T_HALF),
    ),
    "max-pool2d-width-only": (
        "in(8, 8, 2) -> max_pool2d((3, 2), padding=(1, 2))",
        POOL_HALF + r", got 2 with pool size 2 along the width", "(1, 2)",
        (lambda nn: nn.MaxPool2d((3, 2), padding=(1, 2)), (2, 8, 8), T_HALF),
    ),
    "avg-pool3d-pad-2-pool-2": (
        "in(8, 8, 8, 2) -> avg_pool3d(2, padding=2)",
        POOL_HALF + r", got 2 with pool size 2 along the depth", "2)",
        (lambda nn: nn.AvgPool3d(2, padding=2), (2, 8, 8, 8), T_HALF),
    ),
    # Transposed convolutions: output_padding < stride or < dilation, on every axis.
    "transpose2d-output-padding-eq-stride": (
        "in(5, 5, 2) -> conv2d_transpose(3, 3, stride=2, output_padding=2)",
        TORCH_OUTPUT_PADDING + r", got 2 with stride 2 and dilation 1", "2)",
        (lambda nn: nn.ConvTranspose2d(2, 3, 3, stride=2, output_padding=2), (2, 5, 5), T_OUTPUT),
    ),
    "transpose1d-output-padding-stride-1": (
        "in(5, 2) -> ConvTranspose1d(3, 3, output_padding=1)",
        TORCH_OUTPUT_PADDING + r", got 1 with stride 1 and dilation 1\n", "1)",
        (lambda nn: nn.ConvTranspose1d(2, 3, 3, output_padding=1), (2, 5), T_OUTPUT),
    ),
    "transpose2d-output-padding-one-axis": (
        "in(5, 5, 2) -> conv2d_transpose(3, 3, stride=(2, 1), output_padding=(0, 1))",
        TORCH_OUTPUT_PADDING + r", got 1 with stride 1 and dilation 1 along the width", "(0, 1)",
        (lambda nn: nn.ConvTranspose2d(2, 3, 3, stride=(2, 1), output_padding=(0, 1)), (2, 5, 5),
         T_OUTPUT),
    ),
    "transpose3d-output-padding-not-below-either": (
        "in(5, 5, 5, 2) -> conv3d_transpose(3, 3, stride=2, dilation=3, output_padding=3)",
        TORCH_OUTPUT_PADDING + r", got 3 with stride 2 and dilation 3", "3)",
        (lambda nn: nn.ConvTranspose3d(2, 3, 3, stride=2, dilation=3, output_padding=3), (2, 5, 5, 5),
         T_OUTPUT),
    ),
    # No causal padding.
    "conv1d-causal": (
        "in(8, 2) -> conv1d(3, 3, padding=causal, dilation=2)",
        CAUSAL + r"; put zero_padding1d\(\(4, 0\)\) before", "causal",
        (lambda nn: nn.Conv1d(2, 3, 3, padding="causal", dilation=2), (2, 8), "Invalid padding string 'causal'"),
    ),
    "conv1d-causal-positional": (
        "in(8, 2) -> Conv1D(3, 2, 1, causal)",
        CAUSAL, "causal",
        (lambda nn: nn.Conv1d(2, 3, 2, padding="causal"), (2, 8), "Invalid padding string 'causal'"),
    ),
    # One affine switch for γ and β.
    "batch-norm-no-center": (
        "in(8, 8, 4) -> batch_norm(center=false)",
        AFFINE, "false",
        (lambda nn: nn.BatchNorm2d(4, center=False), (4, 8, 8), "unexpected keyword argument 'center'"),
    ),
    "batch-norm-no-scale-next-line": (
        "in(8, 8, 4)\n-> BatchNormalization(\n     scale=false)",
        AFFINE, "false",
        (lambda nn: nn.BatchNorm2d(4, scale=False), (4, 8, 8), "unexpected keyword argument 'scale'"),
    ),
    "group-norm-positional-scale": (
        "in(8, 8, 4) -> group_norm(2, true, true, false)",
        AFFINE, "false",
        (lambda nn: nn.GroupNorm(2, 4, scale=False), (4, 8, 8), "unexpected keyword argument 'scale'"),
    ),
    "instance-norm-affine-no-scale": (
        "in(8, 8, 4) -> instance_norm(affine=true, scale=false)",
        AFFINE, "false",
        (lambda nn: nn.InstanceNorm2d(4, affine=True, scale=False), (4, 8, 8),
         "unexpected keyword argument 'scale'"),
    ),
}


@pytest.mark.parametrize("text, message, at, evidence", **table(TORCH_ERRORS))
def test_torch_refuses(text, message, at, evidence):
    check_error(text, "torch", message, at)


# Accepted by PyTorch: (expression, count, output shape), counted by hand and checked
# against torch below.
TORCH_VALID = {
    "depthwise2d-same-stride-1": ("in(9, 9, 4) -> depthwise_conv2d(3, padding=same)", 3 * 3 * 4 + 4, (9, 9, 4)),
    "depthwise2d-zeros-stride-2": ("in(9, 9, 4) -> depthwise_conv2d(3, stride=2, padding=1)", 40, (5, 5, 4)),
    "separable1d-valid-stride-2": (
        "in(9, 4) -> separable_conv1d(8, 3, stride=2, padding=valid)", 3 * 4 + 4 * 8 + 8, (4, 8)),
    "separable2d-same-dilated": (
        "in(9, 9, 4) -> separable_conv2d(8, 3, dilation=2, padding=same)", 36 + 32 + 8, (9, 9, 8)),
    "conv2d-stride-and-dilation": ("in(16, 16, 2) -> conv2d(3, 3, stride=2, dilation=2)", 57, (6, 6, 3)),
    "max-pool2d-half-odd": ("in(8, 8, 2) -> max_pool2d(3, 1, 1)", 0, (8, 8, 2)),
    "avg-pool2d-half-even": ("in(8, 8, 2) -> avg_pool2d(2, padding=1)", 0, (5, 5, 2)),
    "max-pool1d-half": ("in(8, 2) -> max_pool1d(5, padding=2)", 0, (2, 2)),
    "max-pool2d-valid": ("in(8, 8, 2) -> max_pool2d(2, padding=valid)", 0, (4, 4, 2)),
    "max-pool2d-per-axis": ("in(8, 8, 2) -> max_pool2d((3, 2), padding=(1, 1))", 0, (3, 5, 2)),
    "transpose2d-output-padding-below-stride": (
        "in(5, 5, 2) -> conv2d_transpose(3, 3, stride=2, output_padding=1)", 2 * 3 * 9 + 3, (12, 12, 3)),
    "transpose1d-output-padding-below-dilation": (
        "in(5, 2) -> conv1d_transpose(3, 3, dilation=2, output_padding=1)", 2 * 3 * 3 + 3, (10, 3)),
    "transpose2d-output-padding-per-axis": (
        "in(5, 5, 2) -> conv2d_transpose(3, 3, stride=(2, 1), output_padding=(1, 0))", 57, (12, 7, 3)),
    "transpose3d-output-padding-zero": (
        "in(5, 5, 5, 2) -> conv3d_transpose(3, 3, output_padding=0)", 2 * 3 * 27 + 3, (7, 7, 7, 3)),
    "batch-norm-neither": ("in(8, 8, 4) -> batch_norm(center=false, scale=false)", 0, (8, 8, 4)),
    "batch-norm-affine-off": ("in(8, 8, 4) -> batch_norm(affine=false, center=false)", 0, (8, 8, 4)),
    "instance-norm-affine-default-off": ("in(8, 8, 4) -> instance_norm(center=false)", 0, (8, 8, 4)),
    "group-norm-both": ("in(8, 8, 4) -> group_norm(2)", 8, (8, 8, 4)),
}

# The same layers built in PyTorch: (make, channels-first input).
TORCH_MODULES = {
    "depthwise2d-same-stride-1": (lambda nn: nn.Conv2d(4, 4, 3, padding="same", groups=4), (4, 9, 9)),
    "depthwise2d-zeros-stride-2": (lambda nn: nn.Conv2d(4, 4, 3, stride=2, padding=1, groups=4), (4, 9, 9)),
    "separable1d-valid-stride-2": (
        lambda nn: nn.Sequential(nn.Conv1d(4, 4, 3, stride=2, groups=4, bias=False), nn.Conv1d(4, 8, 1)),
        (4, 9)),
    "separable2d-same-dilated": (
        lambda nn: nn.Sequential(nn.Conv2d(4, 4, 3, dilation=2, padding="same", groups=4, bias=False),
                                 nn.Conv2d(4, 8, 1)),
        (4, 9, 9)),
    "conv2d-stride-and-dilation": (lambda nn: nn.Conv2d(2, 3, 3, stride=2, dilation=2), (2, 16, 16)),
    "max-pool2d-half-odd": (lambda nn: nn.MaxPool2d(3, 1, 1), (2, 8, 8)),
    "avg-pool2d-half-even": (lambda nn: nn.AvgPool2d(2, padding=1), (2, 8, 8)),
    "max-pool1d-half": (lambda nn: nn.MaxPool1d(5, padding=2), (2, 8)),
    "max-pool2d-valid": (lambda nn: nn.MaxPool2d(2), (2, 8, 8)),
    "max-pool2d-per-axis": (lambda nn: nn.MaxPool2d((3, 2), padding=(1, 1)), (2, 8, 8)),
    "transpose2d-output-padding-below-stride": (
        lambda nn: nn.ConvTranspose2d(2, 3, 3, stride=2, output_padding=1), (2, 5, 5)),
    "transpose1d-output-padding-below-dilation": (
        lambda nn: nn.ConvTranspose1d(2, 3, 3, dilation=2, output_padding=1), (2, 5)),
    "transpose2d-output-padding-per-axis": (
        lambda nn: nn.ConvTranspose2d(2, 3, 3, stride=(2, 1), output_padding=(1, 0)), (2, 5, 5)),
    "transpose3d-output-padding-zero": (lambda nn: nn.ConvTranspose3d(2, 3, 3, output_padding=0), (2, 5, 5, 5)),
    "batch-norm-neither": (lambda nn: nn.BatchNorm2d(4, affine=False), (4, 8, 8)),
    "batch-norm-affine-off": (lambda nn: nn.BatchNorm2d(4, affine=False), (4, 8, 8)),
    "instance-norm-affine-default-off": (lambda nn: nn.InstanceNorm2d(4), (4, 8, 8)),
    "group-norm-both": (lambda nn: nn.GroupNorm(2, 4), (4, 8, 8)),
}
assert TORCH_MODULES.keys() == TORCH_VALID.keys()


@pytest.mark.parametrize("text, total, shape", **table(TORCH_VALID))
def test_torch_accepts(text, total, shape):
    network = symparam.parse(text, convention="torch")
    assert (network.value, network.output_shape) == (total, shape)


# ------------------------------------------------------------------ Keras

DILATED_STRIDE = "Keras does not support a stride other than 1 together with a dilation other than 1"
KERAS_OUTPUT_PADDING = "Keras needs output_padding smaller than the stride"

K_DILATED = "`strides > 1` not supported in conjunction with `dilation_rate > 1`"
K_OUTPUT = "`output_padding` must be strictly less than `strides`"

KERAS_ERRORS = {
    # (make, channels-last input, Keras' message)
    "conv2d-stride-dilation": (
        "in(16, 16, 2) -> conv2d(3, 3, stride=2, dilation=2)",
        DILATED_STRIDE, "2)",
        (lambda L: L.Conv2D(3, 3, strides=2, dilation_rate=2), (16, 16, 2), K_DILATED),
    ),
    "conv2d-different-axes": (
        "in(16, 16, 2) -> Conv2D(3, 3, strides=(2, 1), dilation_rate=(1, 2))",
        DILATED_STRIDE, "(1, 2)",
        (lambda L: L.Conv2D(3, 3, strides=(2, 1), dilation_rate=(1, 2)), (16, 16, 2), K_DILATED),
    ),
    "conv1d-causal-positional": (
        "in(16, 2) -> conv1d(3, 3, 2, causal, 2)",
        DILATED_STRIDE, "2)",
        (lambda L: L.Conv1D(3, 3, strides=2, padding="causal", dilation_rate=2), (16, 2), K_DILATED),
    ),
    "conv3d-stride-dilation": (
        "in(12, 12, 12, 2) -> conv3d(3, 3, stride=(1, 1, 2), dilation=2)",
        DILATED_STRIDE, "2)",
        (lambda L: L.Conv3D(3, 3, strides=(1, 1, 2), dilation_rate=2), (12, 12, 12, 2), K_DILATED),
    ),
    "transpose1d-stride-dilation": (
        "in(8, 2) -> conv1d_transpose(3, 3, 2, dilation=2)",
        DILATED_STRIDE, "2)",
        (lambda L: L.Conv1DTranspose(3, 3, strides=2, dilation_rate=2), (8, 2), K_DILATED),
    ),
    "transpose2d-output-padding-eq-stride": (
        "in(5, 5, 2) -> conv2d_transpose(3, 3, stride=2, output_padding=2)",
        KERAS_OUTPUT_PADDING + r", got 2 with stride 2 along the height", "2)",
        (lambda L: L.Conv2DTranspose(3, 3, strides=2, output_padding=2), (5, 5, 2), K_OUTPUT),
    ),
    "transpose2d-output-padding-one-axis": (
        "in(5, 5, 2) -> Conv2DTranspose(3, 3, strides=(2, 1), output_padding=(0, 1), padding=same)",
        KERAS_OUTPUT_PADDING + r", got 1 with stride 1 along the width", "(0, 1)",
        (lambda L: L.Conv2DTranspose(3, 3, strides=(2, 1), output_padding=(0, 1), padding="same"),
         (5, 5, 2), K_OUTPUT),
    ),
    # Unlike PyTorch, Keras does not let a dilation make up for it.
    "transpose1d-output-padding-below-dilation": (
        "in(5, 2) -> conv1d_transpose(3, 3, dilation=2, output_padding=1)",
        KERAS_OUTPUT_PADDING + r", got 1 with stride 1\n", "1)",
        (lambda L: L.Conv1DTranspose(3, 3, dilation_rate=2, output_padding=1), (5, 2), K_OUTPUT),
    ),
    "transpose3d-output-padding-above-stride": (
        "in(5, 5, 5, 2) -> conv3d_transpose(3, 3, stride=2, output_padding=(1, 1, 3))",
        KERAS_OUTPUT_PADDING + r", got 3 with stride 2 along the width", "(1, 1, 3)",
        (lambda L: L.Conv3DTranspose(3, 3, strides=2, output_padding=(1, 1, 3)), (5, 5, 5, 2), K_OUTPUT),
    ),
}


@pytest.mark.parametrize("text, message, at, evidence", **table(KERAS_ERRORS))
def test_keras_refuses(text, message, at, evidence):
    check_error(text, "keras", message, at)


# Accepted by Keras: (expression, count, output shape), by hand and checked against Keras.
KERAS_VALID = {
    # Keras' depthwise and separable convolutions take a stride and a dilation together.
    "depthwise2d-stride-dilation": (
        "in(16, 16, 2) -> depthwise_conv2d(3, stride=2, dilation=2)", 9 * 2 + 2, (6, 6, 2)),
    "depthwise1d-stride-dilation": ("in(16, 2) -> depthwise_conv1d(3, stride=2, dilation=2)", 8, (6, 2)),
    "separable2d-stride-dilation": (
        "in(16, 16, 2) -> separable_conv2d(3, 3, stride=2, dilation=2)", 18 + 6 + 3, (6, 6, 3)),
    "separable1d-stride-dilation": ("in(16, 2) -> separable_conv1d(3, 3, stride=2, dilation=2)", 15, (6, 3)),
    "conv2d-dilation-only": ("in(16, 16, 2) -> conv2d(3, 3, dilation=2)", 57, (12, 12, 3)),
    "conv2d-stride-same": ("in(16, 16, 2) -> conv2d(3, 3, stride=2, padding=same)", 57, (8, 8, 3)),
    "conv1d-causal-stride": ("in(16, 2) -> conv1d(3, 3, stride=2, padding=causal)", 21, (8, 3)),
    "transpose2d-output-padding-below-stride": (
        "in(5, 5, 2) -> conv2d_transpose(3, 3, stride=3, output_padding=2)", 57, (17, 17, 3)),
    "transpose2d-output-padding-same": (
        "in(5, 5, 2) -> conv2d_transpose(3, 3, stride=3, padding=same, output_padding=2)", 57, (15, 15, 3)),
    "transpose2d-output-padding-per-axis": (
        "in(5, 5, 2) -> conv2d_transpose(3, 3, stride=(2, 1), output_padding=(1, 0))", 57, (12, 7, 3)),
    "transpose1d-output-padding-zero": (
        "in(5, 2) -> conv1d_transpose(3, 3, output_padding=0)", 21, (7, 3)),
    "max-pool2d-same": ("in(7, 7, 2) -> max_pool2d(2, padding=same)", 0, (4, 4, 2)),
    "batch-norm-no-center": ("in(4, 4, 3) -> batch_norm(center=false)", 3 + 6, (4, 4, 3)),
    "batch-norm-no-scale": ("in(4, 4, 3) -> batch_norm(scale=false)", 3 + 6, (4, 4, 3)),
    "group-norm-no-center": ("in(4, 4, 3) -> group_norm(3, center=false)", 3, (4, 4, 3)),
}

KERAS_LAYERS = {
    "depthwise2d-stride-dilation": (lambda L: L.DepthwiseConv2D(3, strides=2, dilation_rate=2), (16, 16, 2)),
    "depthwise1d-stride-dilation": (lambda L: L.DepthwiseConv1D(3, strides=2, dilation_rate=2), (16, 2)),
    "separable2d-stride-dilation": (
        lambda L: L.SeparableConv2D(3, 3, strides=2, dilation_rate=2), (16, 16, 2)),
    "separable1d-stride-dilation": (lambda L: L.SeparableConv1D(3, 3, strides=2, dilation_rate=2), (16, 2)),
    "conv2d-dilation-only": (lambda L: L.Conv2D(3, 3, dilation_rate=2), (16, 16, 2)),
    "conv2d-stride-same": (lambda L: L.Conv2D(3, 3, strides=2, padding="same"), (16, 16, 2)),
    "conv1d-causal-stride": (lambda L: L.Conv1D(3, 3, strides=2, padding="causal"), (16, 2)),
    "transpose2d-output-padding-below-stride": (
        lambda L: L.Conv2DTranspose(3, 3, strides=3, output_padding=2), (5, 5, 2)),
    "transpose2d-output-padding-same": (
        lambda L: L.Conv2DTranspose(3, 3, strides=3, padding="same", output_padding=2), (5, 5, 2)),
    "transpose2d-output-padding-per-axis": (
        lambda L: L.Conv2DTranspose(3, 3, strides=(2, 1), output_padding=(1, 0)), (5, 5, 2)),
    "transpose1d-output-padding-zero": (lambda L: L.Conv1DTranspose(3, 3, output_padding=0), (5, 2)),
    "max-pool2d-same": (lambda L: L.MaxPooling2D(2, padding="same"), (7, 7, 2)),
    "batch-norm-no-center": (lambda L: L.BatchNormalization(center=False), (4, 4, 3)),
    "batch-norm-no-scale": (lambda L: L.BatchNormalization(scale=False), (4, 4, 3)),
    "group-norm-no-center": (lambda L: L.GroupNormalization(3, center=False), (4, 4, 3)),
}
assert KERAS_LAYERS.keys() == KERAS_VALID.keys()


@pytest.mark.parametrize("text, total, shape", **table(KERAS_VALID))
def test_keras_accepts(text, total, shape):
    network = symparam.parse(text, convention="keras")
    assert (network.value, network.output_shape) == (total, shape)


# ------------------------------------------------------------------ the command line

CLI = {
    "torch-pool-half": (TORCH_ERRORS["avg-pool2d-pad-2-pool-3"][:3], "torch"),
    "torch-causal": (TORCH_ERRORS["conv1d-causal"][:3], "torch"),
    "torch-pool-same": (TORCH_ERRORS["max-pool2d-same"][:3], "torch"),
    "torch-norm": (TORCH_ERRORS["batch-norm-no-center"][:3], "torch"),
    "keras-dilated-stride": (KERAS_ERRORS["conv2d-different-axes"][:3], "keras"),
}


@pytest.mark.parametrize("row, convention", **table(CLI))
def test_cli_exit_code(row, convention):
    text, message, at = row
    line, column = position(text, at)
    result = CliRunner().invoke(main, ["count", "--convention", convention, text])
    assert result.exit_code == 2, (result.output, result.exception)
    assert "Traceback" not in result.output
    assert re.search(f"^error: {line}:{column}: .*{message}", result.stderr), result.stderr


# ------------------------------------------------------------------ the frameworks themselves


def _torch():
    torch = pytest.importorskip("torch", reason="PyTorch not installed")
    return torch, torch.nn


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("text, message, at, evidence", **table(TORCH_ERRORS))
def test_torch_itself_refuses(text, message, at, evidence):
    torch, nn = _torch()
    make, shape, refusal = evidence
    with pytest.raises((ValueError, TypeError, RuntimeError), match=re.escape(refusal)):
        make(nn)(torch.zeros(1, *shape))


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("key", list(TORCH_VALID))
def test_torch_itself_agrees(key):
    torch, nn = _torch()
    make, shape = TORCH_MODULES[key]
    module = make(nn).eval()
    output = module(torch.zeros(1, *shape))
    _, total, expected = TORCH_VALID[key]
    assert sum(p.numel() for p in module.parameters()) == total
    assert (*output.shape[2:], output.shape[1]) == expected  # channels last


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras", reason="Keras not installed")
    np = pytest.importorskip("numpy")
    return keras.layers, np


@pytest.mark.parametrize("text, message, at, evidence", **table(KERAS_ERRORS))
def test_keras_itself_refuses(text, message, at, evidence):
    L, np = _keras()
    make, shape, refusal = evidence
    with pytest.raises(ValueError, match=re.escape(refusal)):
        make(L)(np.zeros((1, *shape), "float32"))


@pytest.mark.parametrize("key", list(KERAS_VALID))
def test_keras_itself_agrees(key):
    L, np = _keras()
    make, shape = KERAS_LAYERS[key]
    layer = make(L)
    output = layer(np.zeros((1, *shape), "float32"))
    _, total, expected = KERAS_VALID[key]
    assert (layer.count_params(), tuple(output.shape[1:])) == (total, expected)
