# LLaMA-2-7B (Touvron et al., 2023) frozen, with LoRA adapters of rank 8 on the query
# and value projections, as PEFT's LoraConfig(r=8, target_modules=["q_proj", "v_proj"])
# adds them. PEFT's print_trainable_parameters():
#   trainable params: 4,194,304 || all params: 6,742,609,920 || trainable%: 0.0622
# The adapters stay trainable inside frozen(...): L·r·(2·d + d + d·K/H) of them.
let block(d, H, f, r) =
    residual(rms_norm -> attention(H, bias=false, lora=r, lora_targets=(q, v)))
 -> residual(rms_norm
             -> parallel(dense(f, bias=false) -> silu, dense(f, bias=false), merge=multiply)
             -> dense(d, bias=false));

in(4096)                                   # token ids: a sequence of 4,096
  -> frozen(embedding(32000, 4096)
            -> block(4096, 32, 11008, 8) * 32
            -> rms_norm
            -> dense(32000, bias=false))
