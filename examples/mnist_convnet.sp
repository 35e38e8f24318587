# Keras' "Simple MNIST convnet" example: 34,826 parameters.
in(28, 28, 1)
  -> conv2d(32, 3, activation=relu) -> max_pool2d(2)
  -> conv2d(64, 3, activation=relu) -> max_pool2d(2)
  -> flatten -> dropout(0.5)
  -> dense(10, activation=softmax)
