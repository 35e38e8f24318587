# A LLaMA-style decoder (Touvron et al., 2023): RMSNorm, attention without biases and
# with K key/value heads (grouped-query when K < H), a SwiGLU MLP of width f, and an
# output head of its own (not tied).
#   2·V·d + d + L·(2·d² + 2·d²·K/H + 3·d·f + 2·d)
# LLaMA-7B: --set V=32000 --set d=4096 --set H=32 --set K=32 --set f=11008 --set L=32
#   -> 6,738,415,616
let block(d, H, K, f) =
    residual(rms_norm -> attention(H, kv_heads=K, bias=false))
 -> residual(rms_norm
             -> parallel(dense(f, bias=false) -> silu, dense(f, bias=false), merge=multiply)
             -> dense(d, bias=false));

in(T)
  -> embedding(V, d)
  -> block(d, H, K, f) * L
  -> rms_norm
  -> dense(V, bias=false)
