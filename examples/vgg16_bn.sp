# VGG-16 with batch normalization after every convolution (torchvision's vgg16_bn).
# PyTorch (--convention torch): 138,365,992 parameters = VGG-16 + 2 × 4224 (γ and β of
# the 13 batch norms over 64+64+128+128+256·3+512·6 = 4224 channels).
# Keras (the default) also counts the moving mean and variance: 8448 more, non-trainable.
in(224, 224, 3)
  -> conv2d(64, 3, padding=same) -> batch_norm -> relu
  -> conv2d(64, 3, padding=same) -> batch_norm -> relu -> max_pool2d(2)
  -> conv2d(128, 3, padding=same) -> batch_norm -> relu
  -> conv2d(128, 3, padding=same) -> batch_norm -> relu -> max_pool2d(2)
  -> conv2d(256, 3, padding=same) -> batch_norm -> relu
  -> (conv2d(256, 3, padding=same) -> batch_norm -> relu) * 2 -> max_pool2d(2)
  -> conv2d(512, 3, padding=same) -> batch_norm -> relu
  -> (conv2d(512, 3, padding=same) -> batch_norm -> relu) * 2 -> max_pool2d(2)
  -> (conv2d(512, 3, padding=same) -> batch_norm -> relu) * 3 -> max_pool2d(2)
  -> flatten
  -> dense(4096) -> relu -> dropout(0.5)
  -> dense(4096) -> relu -> dropout(0.5)
  -> dense(1000)
