# The CNN worked by hand in the seed text (deeplizard, "Learnable parameters in a CNN"):
# 20×20 RGB images, two 3×3 convolutions with zero padding ("same"), a dense output of 2.
# conv 1: 3 inputs × (2 filters × 3×3) = 54 weights + 2 biases = 56
# conv 2: 2 inputs × (3 filters × 3×3) = 54 weights + 3 biases = 57
# dense:  20·20·3 = 1200 inputs × 2 = 2400 weights + 2 biases = 2402      total 2515
in(20, 20, 3)
  -> conv2d(2, 3, padding=same)
  -> conv2d(3, 3, padding=same)
  -> flatten
  -> dense(2)
