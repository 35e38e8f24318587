# T5-small (Raffel et al., 2020) as transformers' T5ForConditionalGeneration builds it:
# 60,506,624 parameters with  symparam count -f examples/t5_small.sp --convention torch
# An encoder and a decoder, two chains from their own inputs. The encoder's output is
# named `memory`; each decoder block's cross-attention reads it (context=memory). One
# token embedding serves both and the output head (tie=shared). No biases; the norms
# scale only (rms_norm). The first block of each stack holds the relative position
# bias table, 32 buckets × 8 heads (param).
let encoder_block(d, H, F) =
    residual(rms_norm -> attention(H, bias=false))
 -> residual(rms_norm -> dense(F, bias=false) -> relu -> dense(d, bias=false));
let decoder_block(d, H, F) =
    residual(rms_norm -> attention(H, bias=false))
 -> residual(rms_norm -> attention(H, bias=false, context=memory))
 -> residual(rms_norm -> dense(F, bias=false) -> relu -> dense(d, bias=false));

in(512)                                        # the source's token ids
  -> embedding(32128, 512) as shared
  -> param(32, 8)                              # relative attention bias
  -> encoder_block(512, 8, 2048) * 6
  -> rms_norm as memory;
in(512)                                        # the target's token ids
  -> embedding(32128, 512, tie=shared)
  -> param(32, 8)
  -> decoder_block(512, 8, 2048) * 6
  -> rms_norm
  -> dense(32128, bias=false, tie=shared)
