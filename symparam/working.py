"""How one layer's count arises, written out: as text, as LaTeX, and in the seeds' words.

Shared by --breakdown, `summary` and `explain`. SymPy is imported only for symbolic values.
"""

from __future__ import annotations

from .layers.base import Count
from .values import is_concrete, latex, noun, text


def _flat(factors) -> list:
    """The numbers a person multiplies: a factor's parts when it has them (64, 7, 7)."""
    values = []
    for factor in factors:
        values.extend(factor[2] if len(factor) > 2 else (factor[1],))
    return values


def formula(count: Count) -> str:
    """The arithmetic of a count: '784 × 16 + 16', or the SymPy formula when symbolic."""
    return _arithmetic(count, text, " × ")


def formula_latex(count: Count) -> str:
    return _arithmetic(count, latex, r" \cdot ")


def _arithmetic(count: Count, show, times: str) -> str:
    count = count.thawed()  # a frozen layer's parameters arise as they would trained
    if not is_concrete(count.params):
        return show(count.params)
    parts = []
    if count.factors:
        parts.append(times.join(show(value) for value in _flat(count.factors)))
    elif count.weights != count.adapters:
        parts.append(show(count.weights - count.adapters))
    parts += [show(value) for value in (count.adapters, count.biases, count.non_trainable) if value != 0]
    return " + ".join(parts) or "0"


def working(count: Count) -> str:
    """'2 inputs × 3 outputs = 6 weights, + 3 biases = 9 params', as the seeds write it."""
    frozen, held, count = count.frozen is not None, count.frozen, count.thawed()
    parts = []
    weights = count.weights - count.adapters
    if count.factors:
        product = " × ".join(f"{text(f[1])} {_unit(f[0], f[1])}" for f in count.factors)
        parts.append(f"{product} = {text(weights)} weights")
    elif weights != 0:
        note = f" ({count.note})" if count.note else ""
        parts.append(f"{text(weights)} weights{note}")
    elif count.note:
        parts.append(f"weights {count.note}")
    if count.adapters != 0:
        note = f" ({count.adapter_note})" if count.adapter_note else ""
        parts.append(f"+ {text(count.adapters)} LoRA adapter weights{note}")
    if count.biases != 0:
        biases = f"{text(count.biases)} {noun(count.biases, 'bias', 'biases')}"
        parts.append(f"+ {biases}" if parts else biases)
    if count.non_trainable != 0:
        note = f" ({count.non_trainable_note})" if count.non_trainable_note else ""
        plus = "+ " if parts else ""
        parts.append(f"{plus}{text(count.non_trainable)} non-trainable{note}")
    if not parts:
        return "no parameters"
    working = ", ".join(parts) + f" = {text(count.params)} params"
    if frozen and (held[1] != count.biases or held[0] != count.weights - count.adapters):
        working += f"; the {text(held[0])} adapted weights not trained, as Keras' lora_rank has it"
    elif frozen:
        trained = f", all but the {text(count.adapters)} adapter weights" if count.adapters != 0 else ""
        working += f"; frozen: not trained{trained}"
    return working


def _unit(label: str, value) -> str:
    """'1 input', '2 inputs'; 'outputs (...)' stays plural unless its number is 1."""
    if value == 1:
        word, _, rest = label.partition(" ")
        if word.endswith("s"):
            return (word[:-1] + (" " + rest if rest else "")).rstrip()
    return label


def sentence(count: Count, kind: str) -> str:
    """The working in words, for `explain`: '2 inputs × 3 outputs = 6 weights, plus
    3 biases (one per output) = 9 parameters.'"""
    if count.params == 0 and not count.note:
        return "no parameters: it only changes the shape or the values, not what is learned."
    text = working(count)
    text = text.replace(", + ", ", plus ").replace(" params", " parameters")
    if count.thawed().biases != 0 and count.factors:
        word = " " + noun(count.thawed().biases, "bias", "biases")
        text = text.replace(word, word + " (one per output)", 1)
    return text + "."
