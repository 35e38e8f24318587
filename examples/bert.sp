# BERT (Devlin et al., 2018): a post-norm transformer encoder with token, position and
# segment embeddings, and a pooler on the first token ([CLS]).
# BERT-base: --set V=30522 --set P=512 --set S=2 --set d=768 --set L=12 --set H=12 --set F=3072
#   -> 109,482,240 (108,891,648 without the pooler's last two stages)
let encoder(d, H, F) =
    residual(attention(H)) -> layer_norm
 -> residual(dense(F) -> gelu -> dense(d)) -> layer_norm;

in(T)
  -> parallel(embedding(V, d), embedding(P, d), embedding(S, d), merge=add)
  -> layer_norm -> dropout(0.1)
  -> encoder(d, H, F) * L
  -> select(0) -> dense(d) -> tanh                # the pooler
