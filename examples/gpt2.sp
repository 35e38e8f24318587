# GPT-2 (Radford et al., 2019): a pre-norm transformer decoder whose output head
# shares the token embedding's weights (tie=wte), so they are counted once.
#   V·d + T·d + L·(12·d² + 13·d) + 2·d
# GPT-2 small: --set V=50257 --set T=1024 --set d=768 --set L=12 --set H=12
#   -> 124,439,808 (torchinfo reports 163,037,184 by counting the tied head twice)
let block(d, H) =
    residual(layer_norm -> attention(H))
 -> residual(layer_norm -> dense(4*d) -> gelu -> dense(d));

in(T)                                            # T token ids
  -> parallel(embedding(V, d) as wte,            # token embedding
              embedding(T, d),                   # learned positions
              merge=add)
  -> block(d, H) * L
  -> layer_norm
  -> dense(V, bias=false, tie=wte)               # logits, weights shared with wte
