# A CNN with its sizes as symbols: an H×W image with c0 channels, l convolutions of
# k×k kernels keeping the size ("same"), c1 ... cl filters, then a dense classifier
# of n classes. symparam gives the closed form:
#   Σ_{i=1}^{l} k²·c_{i-1}·c_i + Σ_{i=1}^{l} c_i + H·W·c_l·n + n
# Try: symparam count -f examples/cnn_symbolic.sp --set H=20 --set W=20 --set k=3 \
#        --set c=3,2,3 --set n=2          (the seed CNN: 2515)
in(H, W, c0)
  -> conv2d(c1, k, padding=same) -> ... -> conv2d(cl, k, padding=same)
  -> flatten
  -> dense(n)
