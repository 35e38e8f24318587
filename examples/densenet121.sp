# DenseNet-121 (Huang et al., 2017) as torchvision's densenet121 builds it, with the
# growth rate k left as a size: each dense layer adds k channels to its input, so
# `dense_layer(k) * n` is a sum over the layers, counted in closed form.
#   symparam count -f examples/densenet121.sp --convention torch --set k=32
#   -> 7,978,856 (torchvision's densenet121)
# A transition halves the channels: after a block of n layers on c channels there are
# c + n·k, and the transition takes them to (c + n·k)/2.
let dense_layer(k) =
    parallel(identity,
             batch_norm -> relu -> conv2d(4 * k, 1, bias=false)      # the bottleneck, 4k wide
          -> batch_norm -> relu -> conv2d(k, 3, padding=1, bias=false),
             merge=concat);
let transition(c) = batch_norm -> relu -> conv2d(c / 2, 1, bias=false) -> avg_pool2d(2);

in(224, 224, 3)
  -> conv2d(64, 7, stride=2, padding=3, bias=false) -> batch_norm -> relu
  -> max_pool2d(3, stride=2, padding=1)
  -> dense_layer(k) * 6  -> transition(64 + 6*k)
  -> dense_layer(k) * 12 -> transition(32 + 15*k)
  -> dense_layer(k) * 24 -> transition(16 + 63*k/2)
  -> dense_layer(k) * 16
  -> batch_norm -> relu -> global_avg_pool
  -> dense(1000)
