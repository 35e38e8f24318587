# Mamba (Gu and Dao, 2023) as transformers' MambaForCausalLM builds it. Mamba-130m:
#   symparam count -f examples/mamba.sp --convention torch
#   -> 129,135,360 (d = 768, 24 layers, a 50,280-token vocabulary, state N = 16,
#      expansion E = 2·d, dt_rank R = 48, a 4-wide convolution; the head is tied)
# A mixer widens to 2E and splits: one half goes through a causal depthwise convolution
# and the selective state space model, the other gates it. The SSM's learnable tensors
# off the data path are A_log (E × N) and D (E); x_proj makes dt (the first R of its
# outputs, read by dt_proj through a slice) and the inputs B and C (N each).
let ssm(E, N, R) =
    parallel(identity,
             dense(R + 2*N, bias=false) -> slice(0, R) -> dense(E),   # x_proj, then dt_proj
             merge=multiply)
 -> param(E, N)                                                       # A_log
 -> param(E);                                                         # D
let mixer(d, E, N, R) =
    dense(2 * E, bias=false)                                          # in_proj: x and the gate z
 -> parallel(slice(0, E) -> zero_padding1d((3, 0)) -> depthwise_conv1d(4) -> silu -> ssm(E, N, R),
             slice(E, 2 * E) -> silu,
             merge=multiply)
 -> dense(d, bias=false);                                             # out_proj

in(1024)
  -> embedding(50280, 768) as wte
  -> residual(rms_norm -> mixer(768, 1536, 16, 48)) * 24
  -> rms_norm
  -> dense(50280, bias=false, tie=wte)
