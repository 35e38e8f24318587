# LeNet-5 (LeCun et al., 1998) on 32×32 grey images, as it is usually built today:
# conv 6@5×5, average pool 2, conv 16@5×5, average pool 2, conv 120@5×5, dense 84, dense 10.
# 61,706 parameters.
in(32, 32, 1)
  -> conv2d(6, 5) -> tanh -> avg_pool2d(2)
  -> conv2d(16, 5) -> tanh -> avg_pool2d(2)
  -> conv2d(120, 5) -> tanh
  -> flatten
  -> dense(84) -> tanh
  -> dense(10) -> softmax
