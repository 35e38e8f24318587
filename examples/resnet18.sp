# ResNet-18 (He et al., 2015) as torchvision builds it: 11,689,512 parameters with
#   symparam count -f examples/resnet18.sp --convention torch
# (Keras also counts each batch norm's moving mean and variance: 9,600 more.)
let basic(c) =
    residual(conv2d(c, 3, padding=1, bias=false) -> batch_norm -> relu
          -> conv2d(c, 3, padding=1, bias=false) -> batch_norm)
 -> relu;
let down(c) =                                    # halves the size, with a projection
    residual(conv2d(c, 3, stride=2, padding=1, bias=false) -> batch_norm -> relu
          -> conv2d(c, 3, padding=1, bias=false) -> batch_norm,
             shortcut=conv2d(c, 1, stride=2, bias=false) -> batch_norm)
 -> relu;

in(224, 224, 3)
  -> conv2d(64, 7, stride=2, padding=3, bias=false) -> batch_norm -> relu
  -> max_pool2d(3, stride=2, padding=1)
  -> basic(64) * 2
  -> down(128) -> basic(128)
  -> down(256) -> basic(256)
  -> down(512) -> basic(512)
  -> global_avg_pool
  -> dense(1000)
