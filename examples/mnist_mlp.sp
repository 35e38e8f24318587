# The usual MNIST example: 784 inputs, two hidden layers of 16, 10 outputs.
# Weights 784·16 + 16·16 + 16·10 = 12960, biases 16 + 16 + 10 = 42: 13002 in all.
in(784)             # a flattened 28×28 image
  -> dense(16) -> relu
  -> dense(16) -> relu
  -> dense(10) -> softmax   # activations have no parameters
