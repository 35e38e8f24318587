# BART-base (Lewis et al., 2019) as transformers' BartForConditionalGeneration builds it:
# 139,420,416 parameters with  symparam count -f examples/bart_base.sp --convention torch
# A post-norm encoder and decoder with biases everywhere; learned position tables of
# 1,024 + 2 rows (param), a layer norm on the embeddings, one token embedding shared by
# both and by the output head. The decoder's cross-attention reads `memory`.
let encoder_layer(d, H, F) =
    residual(attention(H)) -> layer_norm
 -> residual(dense(F) -> gelu -> dense(d)) -> layer_norm;
let decoder_layer(d, H, F) =
    residual(attention(H)) -> layer_norm
 -> residual(attention(H, context=memory)) -> layer_norm
 -> residual(dense(F) -> gelu -> dense(d)) -> layer_norm;

in(1024)                                   # the source's token ids
  -> embedding(50265, 768) as shared
  -> param(1026, 768) -> layer_norm        # positions, then the embeddings' norm
  -> (encoder_layer(768, 12, 3072) * 6) as memory;
in(1024)                                   # the target's token ids
  -> embedding(50265, 768, tie=shared)
  -> param(1026, 768) -> layer_norm
  -> decoder_layer(768, 12, 3072) * 6
  -> dense(50265, bias=false, tie=shared)
