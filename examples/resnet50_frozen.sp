# Fine-tuning: torchvision's ResNet-50 as a frozen backbone under a new 10-class head.
#   symparam count -f examples/resnet50_frozen.sp --convention torch
#   -> 23,528,522: 20,490 trainable (the head), 23,508,032 non-trainable (the backbone)
# (Keras also counts each batch norm's moving mean and variance: 53,120 more, non-trainable.)
let bottleneck(c, stride) =               # 1×1 narrows, 3×3 (with the stride), 1×1 widens 4×
    conv2d(c, 1, bias=false) -> batch_norm -> relu
 -> conv2d(c, 3, stride=stride, padding=1, bias=false) -> batch_norm -> relu
 -> conv2d(4 * c, 1, bias=false) -> batch_norm;
let first(c, stride) =                    # a stage's first block: a projection shortcut
    residual(bottleneck(c, stride),
             shortcut=conv2d(4 * c, 1, stride=stride, bias=false) -> batch_norm)
 -> relu;
let block(c) = residual(bottleneck(c, 1)) -> relu;

in(224, 224, 3)
  -> frozen(conv2d(64, 7, stride=2, padding=3, bias=false) -> batch_norm -> relu
            -> max_pool2d(3, stride=2, padding=1)
            -> first(64, 1) -> block(64) * 2
            -> first(128, 2) -> block(128) * 3
            -> first(256, 2) -> block(256) * 5
            -> first(512, 2) -> block(512) * 2
            -> global_avg_pool)
  -> dense(10)
