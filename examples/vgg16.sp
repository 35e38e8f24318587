# VGG-16 (Simonyan & Zisserman, 2014), configuration D, on 224×224 RGB images:
# 138,357,544 parameters (Keras' VGG16(include_top=True) and torchvision's vgg16 agree).
# Written as the paper's Table 1: conv3-64 ×2, conv3-128 ×2, conv3-256 ×3, conv3-512 ×3
# twice, each block closed by a 2×2 max-pool. The first convolution of a block widens
# the channels; `* 2` counts it on its own and the others on its output.
let conv3(c) = conv2d(c, 3, padding=same) -> relu;

in(224, 224, 3)
  -> conv3(64) * 2 -> max_pool2d(2)
  -> conv3(128) * 2 -> max_pool2d(2)
  -> conv3(256) * 3 -> max_pool2d(2)
  -> conv3(512) * 3 -> max_pool2d(2)
  -> conv3(512) * 3 -> max_pool2d(2)
  -> flatten
  -> dense(4096) -> relu -> dropout(0.5)
  -> dense(4096) -> relu -> dropout(0.5)
  -> dense(1000) -> softmax
