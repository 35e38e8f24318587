"""Every layer class of PyTorch 2.13 (`torch.nn`) and Keras 3.15 (`keras.layers`), sorted
by what symparam makes of it: the kind (or library block) that counts one that holds
parameters or state, "" for one symparam does not count yet; the classes that hold nothing; and the bases,
containers and wrappers of other code. A test enumerates both frameworks' classes and
fails on any that is in none of them; docs/frameworks.md is written from here.
"""

from __future__ import annotations

_RANKS = (1, 2, 3)

# PyTorch classes holding parameters (or state): the symparam kind, "" when none yet.
TORCH_HOLDING = {
    "Linear": "dense", "LazyLinear": "dense", "Bilinear": "bilinear",
    **{f"Conv{r}d": f"conv{r}d" for r in _RANKS}, **{f"LazyConv{r}d": f"conv{r}d" for r in _RANKS},
    **{f"ConvTranspose{r}d": f"conv{r}d_transpose" for r in _RANKS},
    **{f"LazyConvTranspose{r}d": f"conv{r}d_transpose" for r in _RANKS},
    **{f"BatchNorm{r}d": "batch_norm" for r in _RANKS}, **{f"LazyBatchNorm{r}d": "batch_norm" for r in _RANKS},
    "SyncBatchNorm": "batch_norm",
    **{f"InstanceNorm{r}d": "instance_norm" for r in _RANKS},
    **{f"LazyInstanceNorm{r}d": "instance_norm" for r in _RANKS},
    "GroupNorm": "group_norm", "LayerNorm": "layer_norm", "RMSNorm": "rms_norm",
    "Embedding": "embedding", "EmbeddingBag": "embedding_bag",
    "RNN": "simple_rnn", "LSTM": "lstm", "GRU": "gru",
    "RNNCell": "simple_rnn_cell", "LSTMCell": "lstm_cell", "GRUCell": "gru_cell",
    "MultiheadAttention": "attention", "PReLU": "prelu", "AdaptiveLogSoftmaxWithLoss": "adaptive_log_softmax",
    "Transformer": "transformer_encoder_layer", "TransformerEncoder": "transformer_encoder_layer",
    "TransformerDecoder": "transformer_decoder_layer",
    "TransformerEncoderLayer": "transformer_encoder_layer",
    "TransformerDecoderLayer": "transformer_decoder_layer",
}

# PyTorch classes holding nothing: activations, pooling, padding, reshaping, dropout, losses.
TORCH_NOTHING = frozenset({
    "CELU", "ELU", "GELU", "GLU", "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh", "LeakyReLU",
    "LogSigmoid", "LogSoftmax", "Mish", "RReLU", "ReLU", "ReLU6", "SELU", "SiLU", "Sigmoid", "Softmax",
    "Softmax2d", "Softmin", "Softplus", "Softshrink", "Softsign", "Tanh", "Tanhshrink", "Threshold",
    "Identity", "Flatten", "Unflatten", "Fold", "Unfold", "ChannelShuffle", "PixelShuffle",
    "PixelUnshuffle", "Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d",
    "CosineSimilarity", "PairwiseDistance", "LocalResponseNorm", "CrossMapLRN2d",
    "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout",
    *(f"{name}{r}d" for r in _RANKS for name in (
        "AdaptiveAvgPool", "AdaptiveMaxPool", "AvgPool", "MaxPool", "LPPool", "MaxUnpool",
        "CircularPad", "ConstantPad", "ReflectionPad", "ReplicationPad", "ZeroPad")),
    "FractionalMaxPool2d", "FractionalMaxPool3d",
    "BCELoss", "BCEWithLogitsLoss", "CTCLoss", "CosineEmbeddingLoss", "CrossEntropyLoss",
    "GaussianNLLLoss", "HingeEmbeddingLoss", "HuberLoss", "KLDivLoss", "L1Loss", "LinearCrossEntropyLoss",
    "MSELoss", "MarginRankingLoss", "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss",
    "MultiMarginLoss", "NLLLoss", "NLLLoss2d", "PoissonNLLLoss", "SmoothL1Loss", "SoftMarginLoss",
    "TripletMarginLoss", "TripletMarginWithDistanceLoss",
})

# Bases, containers and wrappers: what they hold is the layers or tensors put in them
# (ParameterList and ParameterDict: `param`).
TORCH_CONTAINERS = frozenset({
    "Module", "Container", "Sequential", "ModuleList", "ModuleDict", "ParameterList",
    "ParameterDict", "DataParallel", "RNNBase", "RNNCellBase",
})

KERAS_HOLDING = {
    "Dense": "dense", "EinsumDense": "einsum_dense",
    **{f"{name}{r}D": f"conv{r}d" for r in _RANKS for name in ("Conv", "Convolution")},
    **{f"{name}{r}DTranspose": f"conv{r}d_transpose" for r in _RANKS for name in ("Conv", "Convolution")},
    "DepthwiseConv1D": "depthwise_conv1d", "DepthwiseConv2D": "depthwise_conv2d",
    **{f"{name}{r}D": f"separable_conv{r}d" for r in (1, 2) for name in ("SeparableConv", "SeparableConvolution")},
    **{f"ConvLSTM{r}D": f"conv_lstm{r}d" for r in _RANKS},
    "BatchNormalization": "batch_norm", "LayerNormalization": "layer_norm",
    "GroupNormalization": "group_norm", "RMSNormalization": "rms_norm",
    "Normalization": "normalization", "SpectralNormalization": "spectral_norm",
    "Embedding": "embedding", "ReversibleEmbedding": "embedding",
    "SimpleRNN": "simple_rnn", "LSTM": "lstm", "GRU": "gru",
    "SimpleRNNCell": "simple_rnn_cell", "LSTMCell": "lstm_cell", "GRUCell": "gru_cell",
    "RNN": "recurrent", "StackedRNNCells": "recurrent", "Bidirectional": "bidirectional",
    "TimeDistributed": "time_distributed",
    "MultiHeadAttention": "attention", "GroupQueryAttention": "attention",
    "Attention": "dot_attention", "AdditiveAttention": "additive_attention",
    "PReLU": "prelu", "STFTSpectrogram": "stft_spectrogram",
}

# Where symparam writes a holding class another way than as a kind of its own.
NOTES = {
    ("torch", "TransformerEncoderLayer"): "a library block (`_norm_first` for norm_first=True)",
    ("torch", "TransformerDecoderLayer"): "a library block; cross-attention reads the stage named `memory`",
    ("torch", "TransformerEncoder"): "`transformer_encoder_layer(d, H, F) * N`, then `layer_norm` when it has a norm",
    ("torch", "TransformerDecoder"): "`transformer_decoder_layer(d, H, F) * N`, then `layer_norm` when it has a norm",
    ("torch", "Transformer"): "`in(S, d) -> transformer_encoder_layer(d, H, F) * 6 -> layer_norm as memory; "
                              "in(T, d) -> transformer_decoder_layer(d, H, F) * 6 -> layer_norm`",
    ("torch", "MultiheadAttention"): "`context=` the stage keys (kdim) read, `values=` the values' (vdim); "
                                     "`bias_kv=true` for add_bias_kv",
    ("keras", "MultiHeadAttention"): "`context=` the stage its key reads, `values=` its value's; `gate=true` for use_gate",
    ("keras", "ReversibleEmbedding"): "its reverse projection shares the table: `tie=`",
    ("keras", "Bidirectional"): "`bidirectional(lstm(u))`, or `bidirectional=true` on `simple_rnn`, `lstm` "
                                "or `gru`; `merge=` its merge_mode",
    ("keras", "RNN"): "`recurrent(lstm_cell(u))`: the cell over the steps",
    ("keras", "StackedRNNCells"): "a chain of cells in `recurrent(...)`: `recurrent(lstm_cell(u) -> gru_cell(v))`",
}

KERAS_NOTHING = frozenset({
    "Activation", "ActivityRegularization", "ELU", "LeakyReLU", "ReLU", "Softmax", "Identity",
    "Add", "Average", "Concatenate", "Dot", "Maximum", "Minimum", "Multiply", "Subtract",
    "AlphaDropout", "Dropout", "GaussianDropout", "GaussianNoise",
    *(f"SpatialDropout{r}D" for r in _RANKS),
    *(f"{name}{r}D" for r in _RANKS for name in (
        "AdaptiveAveragePooling", "AdaptiveMaxPooling", "AveragePooling", "AvgPool", "MaxPool",
        "MaxPooling", "GlobalAveragePooling", "GlobalAvgPool", "GlobalMaxPool", "GlobalMaxPooling",
        "Cropping", "UpSampling", "ZeroPadding")),
    "Flatten", "Permute", "RepeatVector", "Reshape", "Masking", "UnitNormalization", "InputLayer",
    "CategoryEncoding", "Discretization", "HashedCrossing", "Hashing", "IntegerLookup",
    "StringLookup", "TextVectorization", "MelSpectrogram", "Rescaling", "Resizing", "CenterCrop",
    "AugMix", "AutoContrast", "ContrastLimitedAdaptiveHistogramEqualization", "CutMix",
    "Equalization", "MaxNumBoundingBoxes", "MixUp", "RandAugment", "RandomBrightness",
    "RandomColorDegeneration", "RandomColorJitter", "RandomContrast", "RandomCrop",
    "RandomElasticTransform", "RandomErasing", "RandomFlip", "RandomGaussianBlur",
    "RandomGrayscale", "RandomHue", "RandomInvert", "RandomPerspective", "RandomPosterization",
    "RandomRotation", "RandomSaturation", "RandomSharpness", "RandomShear", "RandomTranslation",
    "RandomZoom", "Solarization",
})

KERAS_CONTAINERS = frozenset({
    "Layer", "Wrapper", "Lambda", "Pipeline", "FlaxLayer", "JaxLayer", "TorchModuleWrapper", "TFSMLayer",
})


def markdown_page() -> str:
    """docs/frameworks.md: the two frameworks' parameter-holding classes and their kinds."""
    lines = [
        "# Framework layers",
        "<!-- Generated from symparam/frameworks/classes.py: do not edit.\n"
        "     `python tests/update_examples.py` writes it again. -->",
        "",
        "Every layer class of PyTorch 2.13 (`torch.nn`) and Keras 3.15 (`keras.layers`) that "
        "holds parameters or state, with the symparam kind that counts it. A test enumerates "
        "both frameworks' classes and fails on one missing here. The classes that hold nothing "
        "(activations, pooling, padding, reshaping, dropout, losses, preprocessing) are listed "
        "after the tables.",
    ]
    for framework, holding, nothing, containers in (
        ("PyTorch", TORCH_HOLDING, TORCH_NOTHING, TORCH_CONTAINERS),
        ("Keras", KERAS_HOLDING, KERAS_NOTHING, KERAS_CONTAINERS),
    ):
        key = "torch" if framework == "PyTorch" else "keras"
        counted = sum(1 for kind in holding.values() if kind)
        lines += ["", f"## {framework}", "",
                  f"{counted} of the {len(holding)} classes that hold parameters are counted.", "",
                  "| Class | symparam | Note |", "|---|---|---|"]
        for name in sorted(holding):
            kind = f"`{holding[name]}`" if holding[name] else "not yet"
            lines.append(f"| `{name}` | {kind} | {NOTES.get((key, name), '')} |")
        lines += ["", f"Holding nothing: {', '.join(f'`{n}`' for n in sorted(nothing))}.", "",
                  f"Bases, containers and wrappers of other code (they hold what is put in them): "
                  f"{', '.join(f'`{n}`' for n in sorted(containers))}."]
    return "\n".join(lines) + "\n"
