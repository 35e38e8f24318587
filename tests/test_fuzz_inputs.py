"""Fuzzing: every input ends in a count or a SymparamError, never another exception.

Two sources of inputs: networks generated from the grammar and the layer registry (so a
new layer kind is fuzzed without a change here), and the example files' texts mutated
character by character. CI runs a few hundred, derandomized; a longer run:

    SYMPARAM_FUZZ_EXAMPLES=5000 python -m pytest tests/test_fuzz_inputs.py
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symparam
from symparam.errors import SymparamError
from symparam.layers.base import REGISTRY, Choice, Flag, Stage, Word

EXAMPLES = int(os.environ.get("SYMPARAM_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # a hang shows as a slow suite; the limits keep each input short
    derandomize=EXAMPLES <= 150,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TEXTS = [path.read_text(encoding="utf-8") for path in sorted(Path(__file__).parents[1].glob("examples/*.sp"))]


def outcome(text: str, **sizes) -> None:
    """Count, then print: anything but a SymparamError is a failure."""
    try:
        network = symparam.parse(text, **sizes)
        network.total
        str(network.summary(depth=2))
        network.latex()
    except SymparamError:
        pass


# ------------------------------------------------------------------ from the grammar

names = st.sampled_from(["d", "h", "L", "k", "h1", "hl", "h_{i-1}", "x"])
numbers = st.one_of(st.integers(-2, 70).map(str), st.sampled_from(["0.5", "1e-5", "2^10", "10^30"]))
atoms = st.one_of(numbers, names)
sizes = st.recursive(
    atoms,
    lambda inner: st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "//", "^"]), inner).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})"
    ),
    max_leaves=4,
)


def argument(param, stage):
    if isinstance(param, Stage):
        return stage
    if isinstance(param, Flag):
        return st.sampled_from(["true", "false", "1"])
    if isinstance(param, (Choice, Word)):
        return st.sampled_from(["same", "valid", "causal", "full", "relu", "x", "'same'"])
    return st.one_of(sizes, st.tuples(sizes, sizes).map(lambda t: f"({t[0]}, {t[1]})"))


@st.composite
def layer_call(draw, stage):
    kind = draw(st.sampled_from(sorted(REGISTRY.values(), key=lambda k: k.name)))
    name = draw(st.sampled_from([kind.name, *kind.aliases]))
    parts = []
    positional = [p for p in kind.params if not p.keyword_only]
    for param in positional[: draw(st.integers(0, len(positional)))]:
        parts.append(draw(argument(param, stage)))
    for param in draw(st.lists(st.sampled_from(kind.params), max_size=2, unique=True)) if kind.params else []:
        parts.append(f"{param.name}={draw(argument(param, stage))}")
    if kind.varargs is not None:
        parts.extend(draw(st.lists(argument(kind.varargs, stage), max_size=3)))
    return f"{name}({', '.join(parts)})" if parts or draw(st.booleans()) else name


def chains(inner):
    return st.one_of(
        st.lists(inner, min_size=1, max_size=4).map(" -> ".join),
        st.tuples(inner, sizes).map(lambda t: f"({t[0]}) * {t[1]}"),
        st.tuples(inner, inner).map(lambda t: f"{t[0]} -> ... -> {t[1]}"),
        st.tuples(inner, names).map(lambda t: f"{t[0]} as {t[1]}"),
    )


stages = st.recursive(
    st.sampled_from(["dense(4)", "relu", "dense(h1)", "dense(hl)", "flatten"]),
    lambda inner: st.one_of(layer_call(inner), chains(inner)),
    max_leaves=6,
)


@st.composite
def networks(draw):
    shape = draw(st.lists(sizes, min_size=1, max_size=3))
    body = draw(stages)
    text = f"in({', '.join(shape)}) -> {body}"
    if draw(st.booleans()):
        definition = draw(stages)
        text = f"let b(x) = {definition}; {text} -> b({draw(sizes)})"
    return text


@FUZZ
@given(networks(), st.sampled_from(["keras", "torch"]))
def test_generated_networks_end_in_a_count_or_an_error(text, convention):
    try:
        symparam.parse(text, convention=convention).total
    except SymparamError:
        pass


# ------------------------------------------------------------------ mutated examples

ODD = ["\r", "\x0c", "\u2028", "\x85", "é", "ß", "9" * 60, "(", ")", "->", "...", ",", "=", "*", "^",
       "#", ";", "let ", " as ", "_{", "}", "'", '"', "\t", "\n"]


@st.composite
def mutated(draw):
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(text)))
        match draw(st.sampled_from(["delete", "insert", "duplicate", "swap"])):
            case "delete":
                text = text[:where] + text[where + draw(st.integers(1, 8)):]
            case "insert":
                text = text[:where] + draw(st.sampled_from(ODD)) + text[where:]
            case "duplicate":
                text = text[:where] + text[where:where + draw(st.integers(1, 20))] + text[where:]
            case "swap":
                other = draw(st.integers(0, len(text)))
                a, b = sorted((where, other))
                text = text[:a] + text[b:b + 5] + text[a + 5:b] + text[a:a + 5] + text[b + 5:]
    return text


@FUZZ
@given(mutated())
def test_mutated_examples_end_in_a_count_or_an_error(text):
    outcome(text)


def test_the_examples_themselves_count():
    assert TEXTS
    for text in TEXTS:
        symparam.parse(text).total
