# Qwen2 (Qwen team, 2024): a LLaMA-style decoder whose query, key and value projections
# carry biases and whose output projection does not (bias=(q, k, v)); grouped-query
# attention with K key/value heads, a SwiGLU MLP of width f, an untied output head.
#   2·V·d + d + L·(2·d² + 2·d²·K/H + 3·d·f + 3·d + 2·d·K/H)
# Qwen2-7B: --set V=152064 --set d=3584 --set H=28 --set K=4 --set f=18944 --set L=28
#   -> 7,615,616,512
let block(d, H, K, f) =
    residual(rms_norm -> attention(H, kv_heads=K, bias=(q, k, v)))
 -> residual(rms_norm
             -> parallel(dense(f, bias=false) -> silu, dense(f, bias=false), merge=multiply)
             -> dense(d, bias=false));

in(T)
  -> embedding(V, d)
  -> block(d, H, K, f) * L
  -> rms_norm
  -> dense(V, bias=false)
