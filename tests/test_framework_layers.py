"""Framework layers that hold parameters, added from the list of those symparam lacked:
PReLU, Cropping1D/2D/3D, the recurrent cells (RNNCell, LSTMCell, GRUCell), PyTorch's
EmbeddingBag and Bilinear, and Keras' Normalization.

Each row gives the count under both conventions and the output shape (channels last).
The figures were read off Keras 3.15.1 (`layer.count_params()`) and PyTorch 2.13
(`sum(p.numel() for p in module.parameters())`); the tests below build the same layers
with each framework, when it is installed, and compare again.
"""

from __future__ import annotations

import os

import pytest

import symparam

# text, Keras' count, PyTorch's count, output shape
LAYERS = {
    # Keras: one slope per input value; PyTorch: one slope
    "prelu": ("in(8, 9, 4) -> prelu", 8 * 9 * 4, 1, (8, 9, 4)),
    "prelu-shared": ("in(8, 9, 4) -> prelu(shared_axes=(1, 2))", 4, 4, (8, 9, 4)),
    "prelu-per-channel": ("in(8, 9, 4) -> PReLU(num_parameters=4)", 4, 4, (8, 9, 4)),
    "prelu-one": ("in(10, 6) -> prelu(num_parameters=1)", 1, 1, (10, 6)),
    "cropping1d": ("in(20, 3) -> cropping1d", 0, 0, (18, 3)),
    "cropping2d": ("in(20, 21, 3) -> cropping2d(((1, 2), (3, 4)))", 0, 0, (17, 14, 3)),
    "cropping3d": ("in(5, 6, 7, 2) -> Cropping3D", 0, 0, (3, 4, 5, 2)),
    # 4·16·(32 + 16) weights; biases: Keras 4·16, PyTorch b_ih and b_hh, 2·4·16
    "lstm-cell": ("in(32) -> lstm_cell(16)", 3136, 3200, (16,)),
    # GRU resets after in both by default: two bias vectors per gate
    "gru-cell": ("in(32) -> GRUCell(16)", 2400, 2400, (16,)),
    "rnn-cell": ("in(32) -> RNNCell(16, bias=false)", 768, 768, (16,)),
    "rnn-cell-bias": ("in(32) -> simple_rnn_cell(16)", 784, 800, (16,)),
    # a 100 × 16 table; a bag of 10 ids becomes one vector
    "embedding-bag": ("in(10) -> embedding_bag(100, 16)", 1600, 1600, (16,)),
    # 5 × 20 × 20 weights + 5 biases, the input read twice
    "bilinear": ("in(20) -> bilinear(5)", 2005, 2005, (5,)),
    # x1 (4, 20) and x2 the stage named `second` (4, 30): 5·20·30 + 5, after dense's 630
    "bilinear-other": ("in(4, 20) -> dense(30) as second; in(4, 20) -> bilinear(5, other=second)",
                       3635, 3635, (4, 5)),
    # Keras' preprocessing: mean and variance of 6 features and a count, non-trainable
    "normalization": ("in(8, 6) -> normalization", 13, 13, (8, 6)),
    # Keras' EinsumDense: dense(64) as an equation, 16·64 + 64; attention's query
    # projection, a kernel (16, 4, 8) and a bias (4, 8); no bias
    "einsum-dense": ('in(16) -> einsum_dense("ab,bc->ac", 64, bias_axes="c")', 1088, 1088, (64,)),
    "einsum-heads": ('in(10, 16) -> EinsumDense("abc,cde->abde", (10, 4, 8), bias_axes="de")',
                     544, 544, (10, 4, 8)),
    "einsum-no-bias": ('in(10, 16) -> einsum_dense("abc,cd->abd", (10, 32))', 512, 512, (10, 32)),
    # PyTorch's AdaptiveLogSoftmaxWithLoss(512, 10000, [1000, 5000]): a head of 1,002
    # outputs, clusters of 128 and 32 features: 512·1002 + 512·128 + 128·4000 + 512·32 + 32·5000
    "adaptive-log-softmax": ("in(512) -> adaptive_log_softmax(10000, cutoffs=(1000, 5000))",
                             1_266_944, 1_266_944, (10000,)),
    "adaptive-log-softmax-bias": ("in(64) -> AdaptiveLogSoftmaxWithLoss(500, (100,), div_value=2, head_bias=true)",
                                  21_413, 21_413, (500,)),
    # Keras' RNN(LSTMCell(16)) is LSTM(16); StackedRNNCells: an LSTMCell(16), then a
    # GRUCell(8) reading it, 3·8·(16 + 8) + 2·3·8 (PyTorch's GRUCell: as many)
    "rnn-of-a-cell": ("in(10, 32) -> recurrent(lstm_cell(16))", 3136, 3200, (16,)),
    "stacked-cells": ("in(10, 32) -> recurrent(lstm_cell(16) -> gru_cell(8), return_sequences=true)",
                      3760, 3824, (10, 8)),
    # Keras' Bidirectional: the layer and its backward copy, 2 × 3,136; merge=sum keeps 16
    "bidirectional": ("in(10, 32) -> bidirectional(lstm(16, return_sequences=false))", 6272, 6400, (32,)),
    "bidirectional-sum": ("in(10, 32) -> Bidirectional(lstm(16, return_sequences=true), merge_mode=sum)",
                          6272, 6400, (10, 16)),
    # Keras' STFTSpectrogram: a real and an imaginary kernel of 256 × 129 bins (fft 256);
    # 6 frames of 3 channels × 129 bins. mode=real: one kernel; mode=stft: bins twice
    "stft": ("in(1000, 3) -> stft_spectrogram", 66_048, 66_048, (6, 387)),
    "stft-real": ("in(1000, 3) -> STFTSpectrogram(mode=real, frame_length=100, frame_step=30)",
                  6500, 6500, (31, 195)),
    "stft-same": ("in(1000, 3) -> stft_spectrogram(mode=stft, frame_length=64, fft_length=128, padding=same)",
                  8320, 8320, (32, 390)),
    "stft-image": ("in(1000, 3) -> stft_spectrogram(frame_length=50, expand_dims=true)", 3300, 3300, (39, 33, 3)),
    # Keras' SpectralNormalization keeps a vector u of the kernel's last axis, non-trainable:
    # Dense(8)'s 8, Conv2D's 8 filters, Conv2DTranspose's 3 input channels; PyTorch buffers
    "spectral-dense": ("in(16) -> spectral_norm(dense(8))", 144, 136, (8,)),
    "spectral-conv": ("in(28, 28, 3) -> SpectralNormalization(conv2d(8, 3))", 232, 224, (26, 26, 8)),
    "spectral-transpose": ("in(8, 8, 3) -> spectral_norm(conv2d_transpose(5, 3))", 143, 140, (10, 10, 5)),
    # an EinsumDense kernel (c, d, e) of 4 × 8 × 16: u is its last axis's 16
    "spectral-einsum": ('in(10, 4, 8) -> spectral_norm(einsum_dense("abcd,cde->abe", (10, 16)))', 528, 512,
                        (10, 16)),
    # Keras' TimeDistributed: one Conv2D for the 10 frames, 3·3·3·8 + 8
    "time-distributed": ("in(10, 28, 28, 3) -> time_distributed(conv2d(8, 3))", 224, 224, (10, 26, 26, 8)),
    "time-distributed-chain": ("in(5, 12) -> TimeDistributed(dense(4) -> relu -> dense(2))", 62, 62, (5, 2)),
}


@pytest.mark.parametrize("text, keras, torch, shape", LAYERS.values(), ids=LAYERS.keys())
def test_counts_and_shapes(text, keras, torch, shape):
    for convention, expected in (("keras", keras), ("torch", torch)):
        network = symparam.parse(text, convention=convention)
        assert (network.value, network.output_shape) == (expected, shape), convention


def test_a_keras_gru_cell_may_reset_before():
    # Keras' GRUCell(16, reset_after=False): one bias vector per gate, 3·16·48 + 3·16
    assert symparam.count("in(32) -> gru_cell(16, reset_after=false)") == 2352
    with pytest.raises(symparam.SymparamError, match="always resets after"):
        symparam.count("in(32) -> gru_cell(16, reset_after=false)", convention="torch")


def test_symbolic_forms():
    assert str(symparam.parse("in(T, d) -> prelu").total) == "T*d"
    assert symparam.parse("in(i) -> lstm_cell(u)", convention="torch").formula() == "4·i·u + 4·u² + 8·u"
    assert symparam.parse("in(n, c) -> cropping1d((a, b))").output_shape == symparam.parse(
        "in(n, c) -> cropping1d((a, b))").output_shape  # symbolic extents are kept
    shape = symparam.parse("in(n, c) -> cropping1d((2, 3))").output_shape
    assert str(shape[0]) == "n - 5"


ERRORS = {
    "prelu-both": ("in(8, 9, 4) -> prelu(num_parameters=4, shared_axes=1)", "not both", 16),
    "prelu-count": ("in(8, 9, 4) -> prelu(num_parameters=3)", "must be 1 or the 4 channels, got 3", 16),
    "prelu-axis": ("in(8, 9, 4) -> prelu(shared_axes=(1, 4))", "axis 4 is not one of the input's axes 1 ... 3", 16),
    "prelu-named-axis": ("in(8, 9, 4) -> prelu(shared_axes=a)", "must be axis numbers", 34),
    "cropping-all": ("in(4, 21, 3) -> cropping2d(2)", r"crops 2 \+ 2 of the 4 positions along the height", 17),
    "cropping-rank": ("in(20, 3) -> cropping2d", r"needs an input \(height, width, channels\)", 14),
    "cell-sequence": ("in(10, 32) -> lstm_cell(16)", r"needs one vector of features per step, got \(10, 32\)", 15),
}


ERRORS.update({
    "einsum-not-quoted": ("in(16) -> einsum_dense(ab, 4)", "equation is written in quotes", 24),
    "einsum-equation": ('in(16) -> einsum_dense("ab->b", 4)', 'equation must be "input,kernel->output"', 11),
    "einsum-input-axes": ('in(3, 16) -> einsum_dense("ab,bc->ac", 4)', r'"ab" names a batch and 1 axis; the input \(3, 16\) has 2', 14),
    "einsum-unknown-axis": ('in(16) -> einsum_dense("ab,bz->ac", 4)', "axis 'z' is in neither", 11),
    "einsum-output-extent": ('in(10, 16) -> einsum_dense("abc,cd->abd", (9, 32))', "output_shape gives axis 'b' 9; the input has 10", 15),
    "cutoffs-increase": ("in(8) -> adaptive_log_softmax(100, cutoffs=(50, 20))", r"cutoffs must increase, got \(50, 20\)", 44),
    "div-value": ("in(8) -> adaptive_log_softmax(100, cutoffs=(10,), div_value=0)", "div_value must be positive, got 0", 10),
    "cutoffs-below-classes": ("in(8) -> adaptive_log_softmax(100, cutoffs=(20, 100))", "the cutoffs must be below the 100 classes", 10),
    "recurrent-image": ("in(8, 8, 3) -> recurrent(lstm_cell(4))", r"over \(steps, features\), got \(8, 8, 3\)", 16),
    "recurrent-of-a-sequence": ("in(8, 3) -> recurrent(dense(4) -> reshape(2, 2))", "one vector per step, got", 13),
    "stft-frame-too-long": ("in(100, 1) -> stft_spectrogram", "frame_length=256 is longer than the 100 steps", 15),
    "stft-no-step": ("in(10, 1) -> stft_spectrogram(frame_length=1)", "gives a frame_step of 0", 14),
    "stft-step-too-long": ("in(100, 1) -> stft_spectrogram(frame_length=8, frame_step=9)",
                           "frame_step=9 is longer than frame_length=8", 15),
    "stft-fft-too-short": ("in(100, 1) -> stft_spectrogram(frame_length=64, fft_length=32)",
                           "fft_length=32 is shorter than frame_length=64", 15),
    "spectral-chain": ("in(8) -> spectral_norm(dense(4) -> relu)", "wraps one layer with a kernel .* got a chain of 2 layers", 10),
    "spectral-no-kernel": ("in(8) -> spectral_norm(relu)", "wraps one layer with a kernel .* got relu", 10),
    "time-distributed-vector": ("in(12) -> time_distributed(dense(4))", r"each step of \(steps, ...\), got \(12\)", 11),
    "einsum-bias-axis": ('in(16) -> einsum_dense("ab,bc->ac", 4, bias_axes="b")', "bias_axes: 'b' is not an output axis", 11),
})


@pytest.mark.parametrize("text, message, column", ERRORS.values(), ids=ERRORS.keys())
def test_errors_name_the_layer(text, message, column):
    with pytest.raises(symparam.SymparamError, match=message) as caught:
        symparam.parse(text)
    assert (caught.value.line, caught.value.column) == (1, column)


# ------------------------------------------------------------------ the frameworks themselves


def _torch_modules(nn):
    class EmbeddingBagOfOne(nn.Module):  # a batch of bags of ids: (batch, T) -> (batch, dim)
        def __init__(self, bag):
            super().__init__()
            self.bag = bag

        def forward(self, ids):
            return self.bag(ids.long())

    class Twice(nn.Module):  # x1 = x2 = the input
        def __init__(self, bilinear):
            super().__init__()
            self.bilinear = bilinear

        def forward(self, x):
            return self.bilinear(x, x)

    class First(nn.Module):  # LSTMCell returns (h, c): its output is h
        def __init__(self, cell):
            super().__init__()
            self.cell = cell

        def forward(self, x):
            out = self.cell(x)
            return out[0] if isinstance(out, tuple) else out

    class LogProb(nn.Module):  # every class's log-probability
        def __init__(self, adaptive):
            super().__init__()
            self.adaptive = adaptive

        def forward(self, x):
            return self.adaptive.log_prob(x)

    return {  # the module, and its input (channels first, no batch axis)
        "prelu": (nn.PReLU(), (4, 8, 9)),
        "prelu-shared": (nn.PReLU(4), (4, 8, 9)),
        "prelu-per-channel": (nn.PReLU(4), (4, 8, 9)),
        "prelu-one": (nn.PReLU(1), (6, 10)),
        "lstm-cell": (First(nn.LSTMCell(32, 16)), (32,)),
        "gru-cell": (nn.GRUCell(32, 16), (32,)),
        "rnn-cell": (nn.RNNCell(32, 16, bias=False), (32,)),
        "rnn-cell-bias": (nn.RNNCell(32, 16), (32,)),
        "embedding-bag": (EmbeddingBagOfOne(nn.EmbeddingBag(100, 16)), (10,)),
        "bilinear": (Twice(nn.Bilinear(20, 20, 5)), (20,)),
        "adaptive-log-softmax": (LogProb(nn.AdaptiveLogSoftmaxWithLoss(512, 10000, [1000, 5000])), (512,)),
        "adaptive-log-softmax-bias": (LogProb(nn.AdaptiveLogSoftmaxWithLoss(64, 500, [100], div_value=2.0,
                                                                            head_bias=True)), (64,)),
    }


def test_pytorch_counts_as_the_table_says():
    torch = pytest.importorskip("torch", reason="PyTorch not installed")
    for key, (module, torch_input) in _torch_modules(torch.nn).items():
        text, _, expected, shape = LAYERS[key]
        assert sum(p.numel() for p in module.parameters()) == expected, key
        output = tuple(module(torch.zeros(1, *torch_input)).shape[1:])
        assert output[1:] + output[:1] == shape, key  # channels last, as symparam writes it


def test_keras_counts_as_the_table_says():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras", reason="Keras not installed")
    np = pytest.importorskip("numpy")
    L = keras.layers
    layers = {
        "prelu": (L.PReLU(), (8, 9, 4)),
        "prelu-shared": (L.PReLU(shared_axes=[1, 2]), (8, 9, 4)),
        "cropping1d": (L.Cropping1D(), (20, 3)),
        "cropping2d": (L.Cropping2D(((1, 2), (3, 4))), (20, 21, 3)),
        "cropping3d": (L.Cropping3D(), (5, 6, 7, 2)),
        "normalization": (L.Normalization(), (8, 6)),
        "einsum-dense": (L.EinsumDense("ab,bc->ac", 64, bias_axes="c"), (16,)),
        "einsum-heads": (L.EinsumDense("abc,cde->abde", (None, 4, 8), bias_axes="de"), (10, 16)),
        "einsum-no-bias": (L.EinsumDense("abc,cd->abd", (None, 32)), (10, 16)),
        "time-distributed": (L.TimeDistributed(L.Conv2D(8, 3)), (10, 28, 28, 3)),
        "rnn-of-a-cell": (L.RNN(L.LSTMCell(16)), (10, 32)),
        "stacked-cells": (L.RNN(L.StackedRNNCells([L.LSTMCell(16), L.GRUCell(8)]), return_sequences=True),
                          (10, 32)),
        "bidirectional": (L.Bidirectional(L.LSTM(16)), (10, 32)),
        "spectral-dense": (L.SpectralNormalization(L.Dense(8)), (16,)),
        "spectral-conv": (L.SpectralNormalization(L.Conv2D(8, 3)), (28, 28, 3)),
        "spectral-transpose": (L.SpectralNormalization(L.Conv2DTranspose(5, 3)), (8, 8, 3)),
        "stft": (L.STFTSpectrogram(window=None), (1000, 3)),  # window=None: no SciPy needed
        "stft-real": (L.STFTSpectrogram(mode="real", frame_length=100, frame_step=30, window=None), (1000, 3)),
        "stft-same": (L.STFTSpectrogram(mode="stft", frame_length=64, fft_length=128, padding="same",
                                        window=None), (1000, 3)),
        "stft-image": (L.STFTSpectrogram(frame_length=50, expand_dims=True, window=None), (1000, 3)),
        "bidirectional-sum": (L.Bidirectional(L.LSTM(16, return_sequences=True), merge_mode="sum"), (10, 32)),
    }
    for key, (layer, shape) in layers.items():
        output = layer(np.zeros((1, *shape), "float32"))
        _, expected, _, out_shape = LAYERS[key]
        assert (layer.count_params(), tuple(output.shape[1:])) == (expected, out_shape), key
    cells = {"lstm-cell": (L.LSTMCell(16), 2), "gru-cell": (L.GRUCell(16), 1),
             "rnn-cell": (L.SimpleRNNCell(16, use_bias=False), 1), "rnn-cell-bias": (L.SimpleRNNCell(16), 1)}
    for key, (cell, states) in cells.items():
        output, _ = cell(np.zeros((1, 32), "float32"), [np.zeros((1, 16), "float32")] * states)
        assert (cell.count_params(), tuple(output.shape[1:])) == LAYERS[key][1:4:2], key


def test_a_stage_name_with_digits_is_a_context():
    # `as enc2` names "enc2", not the size enc_2: context=enc2 finds it
    text = "in(S, 16) -> dense(16) as enc2; in(T, 8) -> attention(2, context=enc2)"
    # q, o: 8·8 + 8 each; k, v read the 16 features: 16·8 + 8 each; dense 16·16 + 16
    assert symparam.count(text) == 272 + 2 * 72 + 2 * 136


# ------------------------------------------------------------------ options of one framework


def test_max_pool_dilation_as_pytorch_spreads_its_window():
    # nn.MaxPool2d(3, dilation=2) on 20 × 21: a window reaching 5 positions, 6 × 6 out;
    # nn.MaxPool2d(3, stride=1, dilation=(2, 3), padding=1): 18 × 17
    network = symparam.parse("in(20, 21, 3) -> max_pool2d(3, dilation=2) -> flatten -> dense(1)",
                             convention="torch")
    assert network.layers[0].output_shape == (6, 6, 3) and network.value == 6 * 6 * 3 + 1
    network = symparam.parse("in(20, 21, 3) -> max_pool2d(3, stride=1, dilation=(2, 3), padding=1)",
                             convention="torch")
    assert network.output_shape == (18, 17, 3)
    with pytest.raises(symparam.SymparamError, match="Keras' pooling has no dilation"):
        symparam.parse("in(20, 21, 3) -> max_pool2d(3, dilation=2)")
    with pytest.raises(symparam.SymparamError, match="unknown argument .dilation. \\(it takes pool, stride, padding, ceil_mode\\)"):
        symparam.parse("in(20, 21, 3) -> avg_pool2d(3, dilation=2)", convention="torch")


def test_bidirectional_merge_modes_as_keras_joins_the_directions():
    # Bidirectional(LSTM(16), merge_mode="sum"): 2 × 4·16·(32 + 16 + 1) = 6,272, output 16
    network = symparam.parse("in(10, 32) -> lstm(16, bidirectional=true, merge=sum)")
    assert (network.value, network.output_shape) == (6272, (16,))
    # stacked with merge_mode="ave": the second layer reads 16 features, not 32
    assert symparam.count("in(10, 32) -> lstm(16, bidirectional=true, merge_mode=ave, layers=2)") == 10_496
    with pytest.raises(symparam.SymparamError, match="PyTorch concatenates the two directions"):
        symparam.parse("in(10, 32) -> lstm(16, bidirectional=true, merge=sum)", convention="torch")
    with pytest.raises(symparam.SymparamError, match="it needs bidirectional=true"):
        symparam.parse("in(10, 32) -> gru(16, merge=sum)")


def test_attention_bias_kv_as_pytorchs_add_bias_kv():
    # nn.MultiheadAttention(64, 8, add_bias_kv=True): 16,640 + bias_k and bias_v of 64 each
    assert symparam.count("in(10, 64) -> attention(8, bias_kv=true)", convention="torch") == 16_768
    assert symparam.count("in(10, 64) -> attention(8, add_bias_kv=true, bias=false)", convention="torch") == 16_512
    with pytest.raises(symparam.SymparamError, match="Keras' attention has no bias_kv"):
        symparam.parse("in(10, 64) -> attention(8, bias_kv=true)")


KEYS_AND_VALUES = "in(6, 8) -> identity as keys; in(6, 4) -> identity as vals; in(3, 16) -> "


def test_attention_keys_and_values_from_two_stages():
    """PyTorch's kdim and vdim, Keras' key and value: 16·16 + 8·16 + 4·16 + 16·16 + 4·16."""
    text = KEYS_AND_VALUES + "attention(4, context=keys, values=vals)"
    for convention in ("torch", "keras"):
        assert symparam.count(text, convention=convention) == 768
    # keys read the queries' own input: 16·16 three times, 4·16 for the values
    assert symparam.count("in(6, 4) -> identity as vals; in(6, 16) -> attention(4, values=vals, bias=false)") == 832
    with pytest.raises(symparam.SymparamError, match=r"the values \(6, 4\) must have the keys' positions \(3, 16\)"):
        symparam.parse(KEYS_AND_VALUES + "attention(4, values=vals)")


def test_the_frameworks_agree_on_those_options():
    torch = pytest.importorskip("torch", reason="PyTorch not installed")
    nn = torch.nn
    assert tuple(nn.MaxPool2d(3, dilation=2)(torch.zeros(1, 3, 20, 21)).shape) == (1, 3, 6, 6)
    assert tuple(nn.MaxPool2d(3, stride=1, dilation=(2, 3), padding=1)(torch.zeros(1, 3, 20, 21)).shape) == (1, 3, 18, 17)
    assert sum(p.numel() for p in nn.MultiheadAttention(64, 8, add_bias_kv=True).parameters()) == 16_768
    assert sum(p.numel() for p in nn.MultiheadAttention(64, 8, add_bias_kv=True, bias=False).parameters()) == 16_512
    assert sum(p.numel() for p in nn.MultiheadAttention(16, 4, kdim=8, vdim=4).parameters()) == 768
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras", reason="Keras not installed")
    L = keras.layers
    one = L.Bidirectional(L.LSTM(16), merge_mode="sum")
    one.build((None, 10, 32))
    first = L.Bidirectional(L.LSTM(16, return_sequences=True), merge_mode="ave")
    first.build((None, 10, 32))
    second = L.Bidirectional(L.LSTM(16), merge_mode="ave")
    second.build((None, 10, 16))
    assert (one.count_params(), first.count_params() + second.count_params()) == (6272, 10_496)
    attention = L.MultiHeadAttention(4, 4)
    attention.build((None, 3, 16), (None, 6, 4), (None, 6, 8))  # query, value, key
    assert attention.count_params() == 768


CONV_LSTM = {  # text, Keras 3.15's count_params() and output shape
    "2d": ("in(10, 20, 21, 3) -> conv_lstm2d(8, 3)", 3200, (18, 19, 8)),  # 4·8·9·(3 + 8) + 32
    "2d-sequences": ("in(10, 20, 21, 3) -> ConvLSTM2D(8, 3, padding=same, return_sequences=true)",
                     3200, (10, 20, 21, 8)),
    "1d": ("in(10, 30, 4) -> conv_lstm1d(6, 5, stride=2, bias=false)", 1200, (13, 6)),
    "3d": ("in(4, 5, 6, 7, 2) -> conv_lstm3d(3, 2)", 492, (4, 5, 6, 3)),
}


@pytest.mark.parametrize("text, total, shape", CONV_LSTM.values(), ids=CONV_LSTM.keys())
def test_conv_lstm_as_keras_counts_it(text, total, shape):
    network = symparam.parse(text)
    assert (network.value, network.output_shape) == (total, shape)
    with pytest.raises(symparam.SymparamError, match="PyTorch has no ConvLSTM layer"):
        symparam.parse(text, convention="torch")


def test_conv_lstm_in_keras_itself():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras", reason="Keras not installed")
    L = keras.layers
    layers = {"2d": (L.ConvLSTM2D(8, 3), (10, 20, 21, 3)),
              "2d-sequences": (L.ConvLSTM2D(8, 3, padding="same", return_sequences=True), (10, 20, 21, 3)),
              "1d": (L.ConvLSTM1D(6, 5, strides=2, use_bias=False), (10, 30, 4)),
              "3d": (L.ConvLSTM3D(3, 2), (4, 5, 6, 7, 2))}
    for key, (layer, shape) in layers.items():
        layer.build((None, *shape))
        assert (layer.count_params(), layer.compute_output_shape((None, *shape))[1:]) == CONV_LSTM[key][1:], key


def test_concatenation_along_another_axis_as_keras_concatenate():
    # Concatenate(axis=1) of two (8, 8, 4) maps: (16, 8, 4); a dense after them reads
    # 512 values (Keras 3.15: the functional model has 737 parameters, 2·112 + 513)
    text = ("in(8, 8, 3) -> parallel(conv2d(4, 3, padding=same), conv2d(4, 3, padding=same), "
            "merge=concat, axis=1) -> flatten -> dense(1)")
    network = symparam.parse(text)
    assert network.layers[2].input_shape == (16, 8, 4) and network.value == 737
    assert symparam.parse("in(8, 8, 3) -> parallel(identity, identity, axis=-2)").output_shape == (8, 16, 3)
    for bad, message in (
        ("parallel(conv2d(4, 3, padding=same), conv2d(5, 3, padding=same), axis=1)",
         r"differ only along the axis joined \(1\), got \(8, 8, 4\) and \(8, 8, 5\)"),
        ("parallel(identity, identity, merge=add, axis=1)", "axis is where merge=concat joins"),
        ("parallel(identity, identity, axis=4)", r"axes 1 \.\.\. 3 \(or -1 \.\.\. -3\)"),
        ("parallel(identity, identity, axis=0)", "a whole number other than 0"),
    ):
        with pytest.raises(symparam.SymparamError, match=message):
            symparam.parse(f"in(8, 8, 3) -> {bad}")


def test_upsampling_by_a_factor_not_whole_or_to_a_target_size_as_pytorch():
    # nn.Upsample(scale_factor=1.5) on 10 × 11: ⌊15⌋ × ⌊16.5⌋; (2, 2.5): 20 × 27;
    # nn.Upsample(size=(32, 33)): 32 × 33 (PyTorch 2.13)
    for layer, shape in (("upsampling2d(1.5)", (15, 16, 3)), ("upsampling2d((2, 2.5))", (20, 27, 3)),
                         ("upsampling2d(target=(32, 33))", (32, 33, 3))):
        assert symparam.parse(f"in(10, 11, 3) -> {layer}", convention="torch").output_shape == shape
    with pytest.raises(symparam.SymparamError, match="Keras' UpSampling takes whole factors"):
        symparam.parse("in(10, 11, 3) -> upsampling2d(1.5)")
    with pytest.raises(symparam.SymparamError, match="a target size is PyTorch's Upsample"):
        symparam.parse("in(10, 11, 3) -> upsampling2d(target=(32, 33))")
    with pytest.raises(symparam.SymparamError, match="size must be positive, got 0"):
        symparam.parse("in(10, 11, 3) -> upsampling2d(0)")


def test_pytorch_upsamples_so():
    torch = pytest.importorskip("torch", reason="PyTorch not installed")
    x = torch.zeros(1, 3, 10, 11)
    assert tuple(torch.nn.Upsample(scale_factor=1.5)(x).shape[2:]) == (15, 16)
    assert tuple(torch.nn.Upsample(scale_factor=(2, 2.5))(x).shape[2:]) == (20, 27)
    assert tuple(torch.nn.Upsample(size=(32, 33))(x).shape[2:]) == (32, 33)


def test_gated_attention_as_keras_use_gate():
    # Keras 3.15 GroupQueryAttention(head_dim=8, 8 heads, 2 kv heads, use_gate=True) on
    # 64 features: 10,400 and a gate kernel (64, 8, 8) with its bias (8, 8): 14,560
    assert symparam.count("in(10, 64) -> attention(8, kv_heads=2, gate=true)") == 14_560
    assert symparam.count("in(10, 64) -> attention(8, kv_heads=2, use_gate=true, bias=false)") == 14_336
    # the gate's bias follows the queries': none with bias=false
    assert (symparam.count("in(10, 64) -> attention(8, kv_heads=2, gate=true, bias=false)")
            == symparam.count("in(10, 64) -> attention(8, kv_heads=2, bias=false)") + 64 * 64)


def test_keras_gates_so():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras", reason="Keras not installed")
    layer = keras.layers.GroupQueryAttention(head_dim=8, num_query_heads=8, num_key_value_heads=2, use_gate=True)
    layer.build((None, 10, 64), (None, 10, 64))
    assert layer.count_params() == 14_560


KERAS_ATTENTION = {  # symparam's call, Keras' layer, and its count_params() in Keras 3.15
    "dot": ("dot_attention(context=enc)", "Attention", {}, 0),
    "dot-scaled-concat": ("Attention(use_scale=true, score_mode=concat, context=enc)", "Attention",
                          {"use_scale": True, "score_mode": "concat"}, 2),  # scale, concat_score_weight
    "additive": ("additive_attention(context=enc)", "AdditiveAttention", {}, 16),  # a scale per feature
    "additive-unscaled": ("AdditiveAttention(use_scale=false, context=enc)", "AdditiveAttention",
                          {"use_scale": False}, 0),
}


@pytest.mark.parametrize("layer, keras_class, options, total", KERAS_ATTENTION.values(), ids=KERAS_ATTENTION.keys())
def test_keras_attention_without_projections(layer, keras_class, options, total):
    # queries (10, 16) over the values of `enc` (12, 16); the dense before has 16·16 + 16
    network = symparam.parse(f"in(12, 16) -> dense(16) as enc; in(10, 16) -> {layer}")
    assert (network.value - (16 * 16 + 16), network.output_shape) == (total, (10, 16))
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras", reason="Keras not installed")
    built = getattr(keras.layers, keras_class)(**options)
    built.build([(None, 10, 16), (None, 12, 16)])
    assert built.count_params() == total


def test_keras_attention_needs_values_as_wide_as_its_queries():
    with pytest.raises(symparam.SymparamError, match=r"its values must be as wide as its queries: \(12, 8\)"):
        symparam.parse("in(12, 8) -> dense(8) as enc; in(10, 16) -> dot_attention(context=enc)")
