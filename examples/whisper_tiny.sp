# Whisper tiny (Radford et al., 2022) as transformers' WhisperForConditionalGeneration
# builds it: 37,760,640 parameters with
#   symparam count -f examples/whisper_tiny.sp --convention torch
# of which 576,000 are not trained: the encoder's fixed sinusoidal position table,
# kept as a parameter (param(..., trainable=false)). Two inputs of different kinds: an
# 80-channel log-mel spectrogram of 3,000 frames, read by two convolutions (the second
# halves the frames), and the decoder's token ids. Attention has no bias on its key
# projection (bias=(q, v, o)); pre-norm blocks; the output head is tied to the tokens.
let encoder_layer(d, H, F) =
    residual(layer_norm -> attention(H, bias=(q, v, o)))
 -> residual(layer_norm -> dense(F) -> gelu -> dense(d));
let decoder_layer(d, H, F) =
    residual(layer_norm -> attention(H, bias=(q, v, o)))
 -> residual(layer_norm -> attention(H, bias=(q, v, o), context=memory))
 -> residual(layer_norm -> dense(F) -> gelu -> dense(d));

in(3000, 80)                               # the spectrogram: frames × mel bins
  -> conv1d(384, 3, padding=1) -> gelu
  -> conv1d(384, 3, stride=2, padding=1) -> gelu
  -> param(1500, 384, trainable=false)     # sinusoidal positions, not trained
  -> encoder_layer(384, 6, 1536) * 4
  -> layer_norm as memory;
in(448)                                    # the transcript's token ids
  -> embedding(51865, 384) as wte
  -> param(448, 384)                       # learned positions
  -> decoder_layer(384, 6, 1536) * 4
  -> layer_norm
  -> dense(51865, bias=false, tie=wte)
