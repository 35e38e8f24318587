# ConvNeXt-T (Liu et al., 2022) as torchvision's convnext_tiny builds it:
# 28,589,128 parameters with  symparam count -f examples/convnext_tiny.sp --convention torch
# Each block: a 7×7 depthwise convolution, a layer norm over the channels, an inverted
# MLP (4× wider), and a learnable per-channel layer scale (scale) before the residual add.
let block(c) =
    residual(depthwise_conv2d(7, padding=3) -> layer_norm
             -> dense(4 * c) -> gelu -> dense(c) -> scale);
let down(c) = layer_norm -> conv2d(c, 2, stride=2);   # halves the size, widens

in(224, 224, 3)
  -> conv2d(96, 4, stride=4) -> layer_norm              # the stem: 4×4 patches
  -> block(96) * 3
  -> down(192) -> block(192) * 3
  -> down(384) -> block(384) * 9
  -> down(768) -> block(768) * 3
  -> global_avg_pool -> layer_norm
  -> dense(1000)
