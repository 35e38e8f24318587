# VGG-16 (Simonyan & Zisserman, 2014), configuration D, on 224×224 RGB images:
# 138,357,544 parameters (Keras' VGG16(include_top=True) and torchvision's vgg16 agree).
# A repeated chain must keep its shape, so each block writes its first convolution out.
in(224, 224, 3)
  -> conv2d(64, 3, padding=same) -> relu
  -> conv2d(64, 3, padding=same) -> relu -> max_pool2d(2)
  -> conv2d(128, 3, padding=same) -> relu
  -> conv2d(128, 3, padding=same) -> relu -> max_pool2d(2)
  -> conv2d(256, 3, padding=same) -> relu
  -> (conv2d(256, 3, padding=same) -> relu) * 2 -> max_pool2d(2)
  -> conv2d(512, 3, padding=same) -> relu
  -> (conv2d(512, 3, padding=same) -> relu) * 2 -> max_pool2d(2)
  -> (conv2d(512, 3, padding=same) -> relu) * 3 -> max_pool2d(2)
  -> flatten
  -> dense(4096) -> relu -> dropout(0.5)
  -> dense(4096) -> relu -> dropout(0.5)
  -> dense(1000) -> softmax
