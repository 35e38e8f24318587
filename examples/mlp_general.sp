# The general fully connected network: h0 inputs, layers of h1, h2, ..., hl units.
# Parameters: Σ_{i=1}^{l} h_{i-1}·h_i (weights) + Σ_{i=1}^{l} h_i (biases).
# `hl` is h indexed l, because the other end of the ellipsis uses the stem h.
# Give sizes with e.g. --set h=784,16,16,10 (then l = 3 is inferred).
in(h0) -> dense(h1) -> ... -> dense(hl)
