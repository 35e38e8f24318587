"""Memory estimates for a counted network: what its parameters take, what training
holds beside them (gradients, optimizer states, fp32 master weights), the key/value
cache of its attention layers at inference, and its activations.

Every figure is exact, in bytes: a Python int when the network is concrete, a SymPy
formula when sizes are left symbolic; bytes per value are whole numbers, so nothing
is ever a float. The per-layer figures (the cache, the activations) are folded over
the result tree as a forward pass runs it (fold.py): a repetition multiplies them, a
Σ sums them over its index.

Sources: training's bytes per parameter are the ZeRO paper's (Rajbhandari et al. 2020,
§3.1: mixed precision with Adam holds 16Ψ bytes for Ψ parameters) and EleutherAI's
"Transformer Math 101"; activations per transformer layer are Korthikanti et al. 2022,
"Reducing Activation Recomputation in Large Transformer Models", eq. 1.
"""

from __future__ import annotations

from collections import namedtuple

from .dtypes import bytes_per_param
from .errors import SymparamError, did_you_mean
from .compute_layers import attention_heads, positions
from .fold import Fold, algebra_for, merged_values, output_values
from .results import Group, Layer, distinct_nodes
from .values import is_concrete, latex, noun, number, sum_sign, written_as

OPTIMIZERS = ("adam", "adamw", "sgd", "sgd_momentum")
ACTIVATIONS = ("outputs", "korthikanti")

# The values an optimizer keeps per trainable parameter: Adam's two moments, SGD's
# momentum. They are kept at the precision of the weights it updates.
STATES = {"adam": 2, "adamw": 2, "sgd": 0, "sgd_momentum": 1}
STATE_WORDS = {"adam": "Adam moments", "adamw": "AdamW moments", "sgd_momentum": "momentum"}

# Trained in mixed precision: 16-bit weights and gradients, and an fp32 master copy of
# the weights that the optimizer updates (its states fp32 too). The other types train
# in their own precision, int8 not at all.
MIXED = ("fp16", "bf16")
MASTER_BYTES = 4
UNTRAINABLE = ("int8",)

# Korthikanti et al.'s eq. 1 counts 16-bit activations (and 1-byte dropout masks):
# s·b·h·(34 + 5·a·s/h) bytes per transformer layer, whatever the weights' type.
KORTHIKANTI_PER_WIDTH = 34
KORTHIKANTI_PER_SCORE = 5

# The records are collections.namedtuple, as in results.py: typing.NamedTuple compiles
# annotations at import, which a concrete count's start-up has no time for.


class PerParameter(namedtuple("PerParameter", "weights gradients master states")):
    """The bytes training holds for one trainable parameter: its weight, its gradient,
    its fp32 master copy (mixed precision, else 0) and its optimizer's states."""

    __slots__ = ()

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.master + self.states


class CacheTerm(namedtuple("CacheTerm", "layers positions kv_heads key_dim value_dim bytes summed")):
    """Attention layers alike in what they cache: how many run (`layers`), the positions
    their keys and values read, their key/value heads and dimensions per head, and the
    bytes all of them cache (× batch). `summed`: the layers of a Σ whose sizes change
    with its index (given at the index), their bytes summed over it."""

    __slots__ = ()


class LayerTerm(namedtuple("LayerTerm", "layers sequence width heads bytes summed")):
    """Transformer layers alike for Korthikanti et al.'s formula: how many, their
    sequence length s, model width h and heads a, and the bytes of all of them (× batch);
    `summed` as a CacheTerm's."""

    __slots__ = ()


class MemoryReport(
    namedtuple(
        "MemoryReport",
        "parameters training kv_cache activations dtype optimizer batch activations_method "
        "per_parameter counts cache_terms activation_terms layout",
    )
):
    """The memory of a network, in bytes. `parameters`: all parameters stored as `dtype`.
    `training`: weights, gradients and optimizer states (None unless training was asked
    for); `per_parameter` says how a trainable parameter's bytes add up (a PerParameter).
    `kv_cache`: the keys and values the attention layers cache at inference for the
    input as written (None without attention); `cache_terms` its working (CacheTerm).
    `activations`: by `activations_method`, "outputs" (the layers' outputs: for that,
    `activation_terms` is the number of values per example) or "korthikanti" (a tuple of
    LayerTerm). `counts`: (total, trainable, non_trainable) parameters. `layout`: how
    its formulas are written (Network.layout)."""

    __slots__ = ()

    def __str__(self) -> str:
        return to_text(self)


def memory(network, *, dtype="fp32", optimizer="adam", training=False, batch=1,
           activations="outputs") -> MemoryReport:
    """The memory `network` takes, in exact bytes: its parameters stored as `dtype`;
    with training=True, what training with `optimizer` holds besides (mixed precision
    for fp16 and bf16); the key/value cache of its attention layers for `batch`
    sequences; its activations for `batch` examples, by `activations` ("outputs", the
    layers' outputs; "korthikanti", Korthikanti et al.'s per transformer layer)."""
    size = bytes_per_param(dtype)
    _check(optimizer, OPTIMIZERS, "optimizer")
    _check(activations, ACTIVATIONS, "activations")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise SymparamError(f"batch must be a whole number from 1, not {batch!r}")
    if training and dtype in UNTRAINABLE:
        raise SymparamError(f"training with {dtype} weights is not estimated: give fp32, or bf16 or fp16 "
                            "for mixed precision")
    exact = _exactly(network)
    analysis = network.analysis
    counts = tuple(exact(value) for value in (analysis.total, analysis.trainable, analysis.non_trainable))
    per_parameter = _per_parameter(dtype, optimizer)
    training_bytes = None
    if training:
        training_bytes = exact(counts[1] * per_parameter.total + counts[2] * size)
    algebra = algebra_for(network)
    cache_terms = tuple(_terms(network, lambda layer: _cache_of(layer, algebra), exact, CacheTerm,
                               size * batch))
    if activations == "korthikanti":
        activation_terms = tuple(_terms(network, _transformer_of, exact, LayerTerm, batch))
        if not activation_terms:
            raise SymparamError("korthikanti activations are Korthikanti et al.'s bytes per transformer "
                                "layer, and this network has no attention layer; use outputs")
        activation_bytes = exact(sum(term.bytes for term in activation_terms))
    else:
        activation_terms = exact(Fold(network, output_values, merged_values).total[0])
        activation_bytes = exact(activation_terms * batch * size)
    return MemoryReport(
        parameters=exact(counts[0] * size),
        training=training_bytes,
        kv_cache=exact(sum(term.bytes for term in cache_terms)) if cache_terms else None,
        activations=activation_bytes,
        dtype=dtype,
        optimizer=optimizer,
        batch=batch,
        activations_method=activations,
        per_parameter=per_parameter if training else None,
        counts=counts,
        cache_terms=cache_terms,
        activation_terms=activation_terms,
        layout=network.layout,
    )


def _check(value, choices: tuple, what: str) -> None:
    if value not in choices:
        raise SymparamError(f"unknown {what} {value!r}: one of {', '.join(choices)}"
                            f"{did_you_mean(str(value), choices)}")


def _exactly(network):
    """Values as the network's own: Python ints when it is concrete, SymPy when not."""
    if not network.analysis.symbolic:
        return lambda value: value
    from .algebra import Symbolic

    return Symbolic().as_expr


# ------------------------------------------------------------------ training


def _per_parameter(dtype: str, optimizer: str) -> PerParameter:
    """16 bytes for Adam: 4 + 4 + 8 in fp32; 2 + 2 + 4 + 8 in mixed precision (ZeRO §3.1)."""
    size = bytes_per_param(dtype)
    mixed = dtype in MIXED
    state = MASTER_BYTES if mixed else size  # the optimizer updates the fp32 copy
    return PerParameter(size, size, MASTER_BYTES if mixed else 0, STATES[optimizer] * state)


# ------------------------------------------------------------------ per-layer terms


def _terms(network, describe, exact, record, scale) -> list:
    """The terms of a per-layer figure, one per set of alike layers: `describe(layer)`
    gives a layer's sizes (a tuple, or None when the figure skips it) and their value;
    each set's count and value are folded over the tree (a repetition multiplies, a Σ
    sums), its value then × `scale`."""
    slots: dict = {}  # a layer's sizes -> its set's place in the folded tuple

    def measure(layer: Layer) -> tuple:
        described = describe(layer)
        if described is None:
            return ()
        sizes, value = described
        at = slots.setdefault(sizes, len(slots))
        return (0, 0) * at + (1, value)

    total = Fold(network, measure).total
    indices = _indices(network) if slots else set()
    return [record(exact(total[2 * at]), *sizes, exact(total[2 * at + 1] * scale), _varies(sizes, indices))
            for sizes, at in slots.items()]


def _indices(network) -> set:
    """The indices of the network's Σs (none when it is concrete: ellipses unroll)."""
    if not network.analysis.symbolic:
        return set()
    return {node.summation.index for node in distinct_nodes(network.tree)
            if isinstance(node, Group) and node.summation is not None}


def _varies(sizes: tuple, indices: set) -> bool:
    """Whether the sizes hold a Σ's index: its layers differ, one per value of it."""
    return any(not indices.isdisjoint(getattr(size, "free_symbols", ())) for size in sizes)


def _cache_of(layer: Layer, algebra):
    """An attention layer's cached keys and values per sequence, in values: the positions
    they read × kv heads × (key + value dimensions per head)."""
    if layer.kind != "attention":
        return None
    _, kv_heads, key_dim, value_dim = attention_heads(layer, algebra)
    read = layer.arguments["context"] if layer.arguments["context"] is not None else layer.input_shape
    count = positions(read)
    return (count, kv_heads, key_dim, value_dim), count * kv_heads * (key_dim + value_dim)


def _transformer_of(layer: Layer):
    """Korthikanti et al.'s eq. 1 for the transformer layer around an attention layer,
    for one sequence: s·(34·h + 5·a·s) bytes, exact where s·h·(34 + 5·a·s/h) may not be."""
    if layer.kind != "attention":
        return None
    s, h, a = positions(layer.input_shape), layer.input_shape[-1], layer.arguments["heads"]
    return (s, h, a), s * (KORTHIKANTI_PER_WIDTH * h + KORTHIKANTI_PER_SCORE * a * s)


# ------------------------------------------------------------------ rendering


def _part(value) -> str:
    """A value among words and × signs: a formula with spaces in brackets."""
    shown = number(value)
    return f"({shown})" if " " in shown else shown


def _size(value) -> str:
    """'2,147,483,648 bytes (2.0 GiB)'; a formula's bytes without the readable size."""
    if not is_concrete(value):
        return f"{_part(value)} bytes"
    from .derive import binary_size

    readable = binary_size(int(value))
    return f"{number(value)} bytes" + (f" ({readable})" if not readable.endswith(" B") else "")


def _precision(report: MemoryReport) -> str:
    if report.dtype in MIXED:
        return f"{report.dtype} with fp32 master weights"
    return report.dtype


def _per_parameter_words(report: MemoryReport) -> str:
    per = report.per_parameter
    parts = [f"{per.weights} weights", f"{per.gradients} gradients"]
    if per.master:
        parts.append(f"{per.master} master weights")
    if per.states:
        parts.append(f"{per.states} {STATE_WORDS[report.optimizer]}")
    return f"{per.total} bytes per trainable parameter = {' + '.join(parts)}"


def _batch(report: MemoryReport) -> str:
    return f" × batch {report.batch}" if report.batch != 1 else ""


@written_as(lambda report: report.layout)
def to_text(report: MemoryReport) -> str:
    """The figures with their working, one line each and the arithmetic under it."""
    size = bytes_per_param(report.dtype)
    total, trainable, non_trainable = report.counts
    lines = [f"parameters: {_part(total)} × {size} bytes ({report.dtype}) = {_size(report.parameters)}"]
    if report.training is not None:
        lines.append(f"training ({_precision(report)}, {report.optimizer}): {_per_parameter_words(report)}")
        working = f"{_part(trainable)} trainable × {report.per_parameter.total}"
        if non_trainable != 0:
            working += f" + {_part(non_trainable)} non-trainable × {size}"
        lines.append(f"  {working} = {_size(report.training)}")
    if report.kv_cache is not None:
        lines.append(f"kv cache ({report.dtype}, batch {report.batch}): layers × positions × kv heads × "
                     f"(key + value dims per head) × {size} bytes{_batch(report)}")
        lines += _term_lines(report, report.cache_terms, report.kv_cache, lambda term: (
            term.positions, term.kv_heads, f"({number(term.key_dim)} + {number(term.value_dim)})", size,
        ))
    lines += _activation_lines(report, size)
    return "\n".join(lines)


def _activation_lines(report: MemoryReport, size: int) -> list[str]:
    if report.activations_method == "outputs":
        values = report.activation_terms
        header = (f"activations (layer outputs, {report.dtype}, batch {report.batch}): the outputs of the "
                  "layers, the input not counted")
        per_example = f"{_part(values)} {noun(values, 'value', 'values')} per example"
        return [header, f"  {per_example}{_batch(report)} × {size} bytes = {_size(report.activations)}"]
    header = (f"activations (Korthikanti et al. 2022, 16-bit, batch {report.batch}): per transformer layer, "
              "s·b·(34·h + 5·a·s) bytes for s positions, width h, a heads")
    return [header] + _term_lines(report, report.activation_terms, report.activations, lambda term: (
        term.sequence, report.batch,
        f"(34 × {_part(term.width)} + 5 × {_part(term.heads)} × {_part(term.sequence)})",
    ), batch=False)


def _term_lines(report, terms, total, factors, batch: bool = True) -> list[str]:
    """One line per set of alike layers, 'layers × factors = bytes'; then the total
    when there are several. A Σ's layers, whose sizes change with its index, show
    their sum only."""
    lines = []
    for term in terms:
        if not term.summed:
            shown = [_part(term.layers)] + [value if isinstance(value, str) else _part(value)
                                            for value in factors(term)]
            if batch and report.batch != 1:
                shown.append(str(report.batch))
            arithmetic = " × ".join(shown)
        else:
            arithmetic = f"{_part(term.layers)} layers, their sizes changing with the index of their {sum_sign()}"
        lines.append(f"  {arithmetic} = {_size(term.bytes)}")
    if len(terms) > 1:
        lines.append(f"  in all: {_size(total)}")
    return lines


@written_as(lambda report: report.layout)
def to_latex(report: MemoryReport) -> str:
    """An align* block: each figure's bytes."""
    lines = [rf"\text{{parameters ({report.dtype})}} &= {latex(report.parameters)}"]
    if report.training is not None:
        lines.append(rf"\text{{training ({_precision(report)}, {_latex_word(report.optimizer)})}} &= "
                     rf"{report.per_parameter.total} \cdot {_latex_part(report.counts[1])}"
                     + (rf" + {bytes_per_param(report.dtype)} \cdot {_latex_part(report.counts[2])}"
                        if report.counts[2] != 0 else "")
                     + f" = {latex(report.training)}")
    if report.kv_cache is not None:
        lines.append(rf"\text{{kv cache (batch {report.batch})}} &= {latex(report.kv_cache)}")
    method = "layer outputs" if report.activations_method == "outputs" else "Korthikanti et al. 2022"
    lines.append(rf"\text{{activations ({method}, batch {report.batch})}} &= {latex(report.activations)}")
    return "\\begin{align*}\n" + " \\\\\n".join(lines) + "\n\\end{align*}"


def _latex_part(value) -> str:
    shown = latex(value)
    return shown if is_concrete(value) or " " not in shown else rf"\left({shown}\right)"


def _latex_word(word: str) -> str:
    return word.replace("_", r"\_")


@written_as(lambda report: report.layout)
def to_json_dict(report: MemoryReport) -> dict:
    """The figures as JSON: integers, or formulas as SymPy writes them; beside each
    concrete one its readable size."""
    from .values import json_value

    def figure(value, **more) -> dict:
        entry = {"bytes": json_value(value)}
        if is_concrete(value):
            from .derive import binary_size

            entry["readable"] = binary_size(int(value))
        entry.update({key: json_value(item) if not isinstance(item, (list, dict, str)) else item
                      for key, item in more.items()})
        return entry

    total, trainable, non_trainable = report.counts
    document = {
        "dtype": report.dtype,
        "batch": report.batch,
        "parameters": figure(report.parameters, count=total, bytes_per_parameter=bytes_per_param(report.dtype)),
        "training": None,
        "kv_cache": None,
    }
    if report.training is not None:
        per = report.per_parameter
        document["training"] = figure(
            report.training, optimizer=report.optimizer, trainable=trainable, non_trainable=non_trainable,
            bytes_per_trainable={"weights": per.weights, "gradients": per.gradients,
                                 "master_weights": per.master, "optimizer_states": per.states,
                                 "total": per.total},
        )
    if report.kv_cache is not None:
        document["kv_cache"] = figure(report.kv_cache, layers=[_term_json(term) for term in report.cache_terms])
    if report.activations_method == "outputs":
        document["activations"] = figure(report.activations, method="outputs",
                                         values_per_example=report.activation_terms)
    else:
        document["activations"] = figure(report.activations, method="korthikanti",
                                         layers=[_term_json(term) for term in report.activation_terms])
    return document


def _term_json(term) -> dict:
    from .values import json_value

    return {key: value if isinstance(value, bool) else json_value(value) for key, value in term._asdict().items()}
