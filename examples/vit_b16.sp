# ViT-B/16 (Dosovitskiy et al., 2021) as torchvision's vit_b_16 builds it:
# 86,567,656 parameters with  symparam count -f examples/vit_b16.sp --convention torch
# 16×16 patches become 196 tokens of width 768; a class token goes before them
# (tokens(1)), and a learnable position embedding (param) is added to all 197.
let block(d, H, F) =
    residual(layer_norm -> attention(H))
 -> residual(layer_norm -> dense(F) -> gelu -> dense(d));

in(224, 224, 3)
  -> conv2d(768, 16, stride=16)          # the patch embedding: (14, 14, 768)
  -> reshape(196, 768)
  -> tokens(1)                            # the class token: (197, 768)
  -> param(197, 768)                      # the position embedding
  -> block(768, 12, 3072) * 12
  -> layer_norm
  -> select(0)                            # the class token's output
  -> dense(1000)
