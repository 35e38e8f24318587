# EfficientNet-B0 (Tan and Le, 2019) as torchvision's efficientnet_b0 builds it:
# 5,288,548 parameters with  symparam count -f examples/efficientnet_b0.sp --convention torch
# MBConv blocks: a 1×1 expansion (6×), a k×k depthwise convolution, a squeeze-and-
# excitation gate of shape (1, 1, C) that multiplies the (H, W, C) map, a 1×1 projection.
let se(c, s) =                            # squeeze to s channels, excite back to c
    parallel(identity,
             global_avg_pool(keepdims=true) -> conv2d(s, 1) -> silu -> conv2d(c, 1) -> sigmoid,
             merge=multiply);
let mb(cin, cout, k, stride) =
    conv2d(6 * cin, 1, bias=false) -> batch_norm -> silu
 -> depthwise_conv2d(k, stride=stride, padding=k // 2, bias=false) -> batch_norm -> silu
 -> se(6 * cin, cin / 4)
 -> conv2d(cout, 1, bias=false) -> batch_norm;
let stage(cin, cout, k, stride, n) =      # n blocks; all but the first keep the shape
    mb(cin, cout, k, stride) -> residual(mb(cout, cout, k, 1)) * (n - 1);

in(224, 224, 3)
  -> conv2d(32, 3, stride=2, padding=1, bias=false) -> batch_norm -> silu
  -> depthwise_conv2d(3, padding=1, bias=false) -> batch_norm -> silu     # stage 1: no expansion
  -> se(32, 8) -> conv2d(16, 1, bias=false) -> batch_norm
  -> stage(16, 24, 3, 2, 2)
  -> stage(24, 40, 5, 2, 2)
  -> stage(40, 80, 3, 2, 3)
  -> stage(80, 112, 5, 1, 3)
  -> stage(112, 192, 5, 2, 4)
  -> stage(192, 320, 3, 1, 1)
  -> conv2d(1280, 1, bias=false) -> batch_norm -> silu
  -> global_avg_pool -> dropout(0.2)
  -> dense(1000)
