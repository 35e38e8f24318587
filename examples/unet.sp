# U-Net (Ronneberger et al., 2015) with same padding and batch norm, as the widely used
# PyTorch implementation (milesial/Pytorch-UNet, bilinear=False) builds it: 31,037,698
# parameters for 3 input channels and 2 classes, with --convention torch.
# A level takes the level inside it as an argument (a layer-valued parameter): two
# convolutions, then the inner levels on a pooled copy, upsampled and concatenated with
# the skip connection, then two convolutions again.
let double(c) =
    conv2d(c, 3, padding=1, bias=false) -> batch_norm -> relu
 -> conv2d(c, 3, padding=1, bias=false) -> batch_norm -> relu;
let level(c, inner) =
    double(c)
 -> parallel(identity, max_pool2d(2) -> inner -> conv2d_transpose(c, 2, stride=2), merge=concat)
 -> double(c);

in(256, 256, 3)
  -> level(64, level(128, level(256, level(512, double(1024)))))
  -> conv2d(2, 1)
