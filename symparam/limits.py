"""The limits symparam keeps to, so that every input ends in a count or a clear error
in bounded time and memory. Each is checked once, early, and named in its message;
the README lists them (Language reference: Limits)."""

# Brackets, operators, indices and layers inside layers, and definitions inside
# definitions: at most this many levels, one inside the other. Real networks use a few;
# the passes over the tree recurse once per level.
MAX_NESTING = 100

# An expression (or a model file) of at most this many characters, checked before it
# is parsed: about 40,000 layers written one by one, counted in about two seconds. (Time
# and memory grow linearly with the text; a repetition `* L` costs nothing per layer.)
MAX_INPUT = 512 * 1024

# A number written or computed (a size, a power) of at most this many decimal digits.
MAX_DIGITS = 10_000

# An exponent of at most this much: `d^4096` is a formula SymPy still handles quickly.
MAX_EXPONENT = 4096

# An ellipsis with concrete ends is written out layer by layer up to this many layers;
# beyond, it is counted in closed form, as a sum over its index.
MAX_UNROLLED = 10_000

# ... and up to this many when its layers' own sizes (h_i) have no values: each layer
# then brings symbols of its own, and a formula of thousands of them prints slowly and
# reads worse than its sum over the index.
MAX_UNROLLED_SYMBOLIC = 100

# Layers after expansion (repetitions counted once, definitions expanded): at most this
# many, so that time and memory stay linear in what was written.
MAX_LAYERS = 1_000_000
