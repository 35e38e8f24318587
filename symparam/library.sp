# symparam's library of standard blocks: usable by name in any text, without a file.
# A definition of the same name in a text takes its place. Each is checked against the
# PyTorch module it names (tests/test_library.py). Sizes: d the width, H the heads, F the
# feed-forward width, c the channels (of the block's output), k a kernel size.

# PyTorch's nn.TransformerEncoderLayer(d, H, F): post-norm (the default) or norm first;
# the same parameters either way: 4d² + 4d + 2dF + F + d + 4d.
let transformer_encoder_layer(d, H, F) =
    residual(attention(H)) -> layer_norm
 -> residual(dense(F) -> relu -> dense(d)) -> layer_norm;
let transformer_encoder_layer_norm_first(d, H, F) =
    residual(layer_norm -> attention(H))
 -> residual(layer_norm -> dense(F) -> relu -> dense(d));

# nn.TransformerDecoderLayer(d, H, F): self-attention, cross-attention reading the stage
# named `memory` (name the encoder's output `... as memory`), then the MLP.
let transformer_decoder_layer(d, H, F) =
    residual(attention(H)) -> layer_norm
 -> residual(attention(H, context=memory)) -> layer_norm
 -> residual(dense(F) -> relu -> dense(d)) -> layer_norm;
let transformer_decoder_layer_norm_first(d, H, F) =
    residual(layer_norm -> attention(H))
 -> residual(layer_norm -> attention(H, context=memory))
 -> residual(layer_norm -> dense(F) -> relu -> dense(d));

# GPT-2's block: pre-norm, an MLP 4d wide: 12d² + 13d.
let gpt_block(d, H) =
    residual(layer_norm -> attention(H))
 -> residual(layer_norm -> dense(4 * d) -> gelu -> dense(d));

# LLaMA's block: RMSNorm, grouped-query attention (K key/value heads) without biases, a
# SwiGLU MLP of width f.
let llama_block(d, H, K, f) =
    residual(rms_norm -> attention(H, kv_heads=K, bias=false))
 -> residual(rms_norm
             -> parallel(dense(f, bias=false) -> silu, dense(f, bias=false), merge=multiply)
             -> dense(d, bias=false));

# torchvision's ResNet blocks. resnet_basic keeps the shape; resnet_basic_down(c, s)
# changes it (c channels, stride s) with a 1×1 projection shortcut, as does the first
# block of a stage. The bottleneck narrows to c and widens to 4c.
let resnet_basic(c) =
    residual(conv2d(c, 3, padding=1, bias=false) -> batch_norm -> relu
          -> conv2d(c, 3, padding=1, bias=false) -> batch_norm)
 -> relu;
let resnet_basic_down(c, s) =
    residual(conv2d(c, 3, stride=s, padding=1, bias=false) -> batch_norm -> relu
          -> conv2d(c, 3, padding=1, bias=false) -> batch_norm,
             shortcut=conv2d(c, 1, stride=s, bias=false) -> batch_norm)
 -> relu;
let resnet_bottleneck(c) =
    residual(conv2d(c, 1, bias=false) -> batch_norm -> relu
          -> conv2d(c, 3, padding=1, bias=false) -> batch_norm -> relu
          -> conv2d(4 * c, 1, bias=false) -> batch_norm)
 -> relu;
let resnet_bottleneck_down(c, s) =
    residual(conv2d(c, 1, bias=false) -> batch_norm -> relu
          -> conv2d(c, 3, stride=s, padding=1, bias=false) -> batch_norm -> relu
          -> conv2d(4 * c, 1, bias=false) -> batch_norm,
             shortcut=conv2d(4 * c, 1, stride=s, bias=false) -> batch_norm)
 -> relu;

# MobileNetV2's inverted residual, expanding t× (t > 1: torchvision leaves out the
# expansion when t = 1) over its input's channels: with the skip (c channels in and
# out, stride 1), or inverted_residual_down(c_in, c, t, s) without it.
let inverted_residual(c, t) =
    residual(conv2d(t * c, 1, bias=false) -> batch_norm -> relu6
          -> depthwise_conv2d(3, padding=1, bias=false) -> batch_norm -> relu6
          -> conv2d(c, 1, bias=false) -> batch_norm);
let inverted_residual_down(c_in, c, t, s) =
    conv2d(t * c_in, 1, bias=false) -> batch_norm -> relu6
 -> depthwise_conv2d(3, stride=s, padding=1, bias=false) -> batch_norm -> relu6
 -> conv2d(c, 1, bias=false) -> batch_norm;

# EfficientNet's MBConv: a 6× expansion, a k×k depthwise convolution, a squeeze-and-
# excitation gate squeezing to a quarter of the block's input channels, a projection.
# mbconv(c, k) keeps the shape (with the skip); mbconv_down(c_in, c, k, s) does not.
let squeeze_excite(c, s) =
    parallel(identity,
             global_avg_pool(keepdims=true) -> conv2d(s, 1) -> silu -> conv2d(c, 1) -> sigmoid,
             merge=multiply);
let mbconv(c, k) =
    residual(conv2d(6 * c, 1, bias=false) -> batch_norm -> silu
          -> depthwise_conv2d(k, padding=k // 2, bias=false) -> batch_norm -> silu
          -> squeeze_excite(6 * c, c / 4)
          -> conv2d(c, 1, bias=false) -> batch_norm);
let mbconv_down(c_in, c, k, s) =
    conv2d(6 * c_in, 1, bias=false) -> batch_norm -> silu
 -> depthwise_conv2d(k, stride=s, padding=k // 2, bias=false) -> batch_norm -> silu
 -> squeeze_excite(6 * c_in, c_in / 4)
 -> conv2d(c, 1, bias=false) -> batch_norm;

# ConvNeXt's block: a 7×7 depthwise convolution, a layer norm, an MLP 4c wide, a
# per-channel layer scale.
let convnext_block(c) =
    residual(depthwise_conv2d(7, padding=3) -> layer_norm
             -> dense(4 * c) -> gelu -> dense(c) -> scale);
