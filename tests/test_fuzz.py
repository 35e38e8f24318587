"""Fuzzing the promise: every input ends in a count or a SymparamError, in bounded time.

Never another exception, never a hang. Inputs come from two sources:

- networks generated from the grammar (grammar/symparam.lark) and the layer registry
  (symparam/layers/base.py's REGISTRY): every layer kind, by its name or an alias,
  with plausible and implausible arguments, positional and keyword; chains,
  repetitions, ellipses, definitions with parameters, residual/parallel/moe,
  `as NAME` and `tie=NAME`, comments and nested brackets. Two in three of them follow
  their shapes (which rank each kind takes and gives is probed from the registry at
  import), so that most count; one in three ignores shapes. A new layer kind, or a
  new parameter of an existing one, is fuzzed without a change here;
- real texts, the examples/*.sp files and the README's code examples (read when the
  tests run), mutated by characters and by tokens, with odd characters inserted
  (\\r, \\x0c, \\u2028, \\x85, letters and digits from other scripts, very long digit
  strings).

Each input goes through the API (symparam.parse with or without sizes, then the
total, the value, the summary, the LaTeX and the JSON document) and, for a sample,
through the command line (click's CliRunner: exit code 0 or 2, no traceback). An
input slower than the per-example deadline fails; one that never ends is stopped by a
hard time limit (SIGALRM, five times the deadline) and fails as a hang.

CI mode is derandomized and database-less: about 400 examples, well under a minute.
The long mode draws at random, as many examples as asked, for each test:

    SYMPARAM_FUZZ_EXAMPLES=5000 python -m pytest tests/test_fuzz.py -q

(about 7 minutes; 20000 takes about half an hour. Each test stops at its first
failures, which Hypothesis shrinks and reports together when they are distinct.) Also
SYMPARAM_FUZZ_SEED=N makes a long run reproducible (same N, same inputs), and
SYMPARAM_FUZZ_DEADLINE=SECONDS changes the per-example deadline (default 3).

The properties checked besides "no other exception": an error's line and column are
where its offset is (lines end at "\\n" alone); a concrete count's weights, biases
and non-trainable parameters are not negative and add up to it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import sys
import threading
import traceback
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

import symparam
from symparam import render
from symparam.cli import main
from symparam.errors import SymparamError
from symparam.layers.base import REGISTRY, REQUIRED, Stage

ROOT = Path(__file__).resolve().parents[1]

# ------------------------------------------------------------------ settings

CI_EXAMPLES = 100  # per API test; the command-line test takes a quarter: ~400 in all
EXAMPLES = int(os.environ.get("SYMPARAM_FUZZ_EXAMPLES", CI_EXAMPLES))
LONG = EXAMPLES > CI_EXAMPLES
SEED = os.environ.get("SYMPARAM_FUZZ_SEED")
DEADLINE = float(os.environ.get("SYMPARAM_FUZZ_DEADLINE", "3"))  # seconds per example
HARD_LIMIT = 5 * DEADLINE  # a hang is stopped here, and fails as one

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=DEADLINE * 1000,
    derandomize=not LONG or bool(SEED),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
CLI_FUZZ = settings(FUZZ, max_examples=max(1, EXAMPLES // 4))


def seeded(test):
    """A fixed seed for a long run when SYMPARAM_FUZZ_SEED is set."""
    return seed(int(SEED))(test) if SEED else test


# ------------------------------------------------------------------ the outcome


class Hang(BaseException):
    """Raised by the alarm: a BaseException, so that no `except Exception` in the code
    under test swallows it."""


@contextlib.contextmanager
def hard_limit(seconds: float):
    """Stop the code inside after `seconds` (Unix, main thread); elsewhere, no limit.
    (Python checks signals between bytecodes: one huge C-level operation, such as a
    power of a big int, is only stopped when it returns.)"""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def ring(signum, frame):
        raise Hang()

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def where(error: BaseException) -> str:
    """The innermost frame in symparam where `error` arose: 'symparam/x.py:12 in f'."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if "symparam" in frame.filename and f"{os.sep}tests{os.sep}" not in frame.filename]
    if not frames:
        return "?"
    frame = frames[-1]
    path = Path(frame.filename)
    shown = path.relative_to(ROOT) if ROOT in path.parents else path
    return f"{shown}:{frame.lineno} in {frame.name}"


def unexpected(text: str, error: BaseException, step: str) -> AssertionError:
    kind = f"no answer within {HARD_LIMIT:g}s" if isinstance(error, Hang) else type(error).__name__
    return AssertionError(f"{kind} ({error!s:.200}) at {where(error)}, in {step}\ninput: {text!r:.3000}")


def assert_place(text: str, error: SymparamError) -> None:
    """An error's line and column (lines end at "\\n" alone) are where its offset is."""
    span = error.span
    lines = text.split("\n")
    line, column = text.count("\n", 0, span.start) + 1, span.start - (text.rfind("\n", 0, span.start) + 1) + 1
    assert (span.line, span.column) == (line, column), (
        f"error at {span.line}:{span.column}, but its offset {span.start} is at {line}:{column}"
    )
    assert 1 <= span.line <= len(lines), f"error on line {span.line} of {len(lines)}"


def outcome(text: str, convention: str = "keras", sizes: dict | None = None) -> str:
    """'count' or 'error' (a SymparamError, shown); anything else fails the test."""
    step = "parse"
    try:
        with hard_limit(HARD_LIMIT):
            try:
                network = symparam.parse(text, convention=convention, **(sizes or {}))
                step = "total"
                network.total
                if network.value is not None:  # concrete: the parts add up, and none is negative
                    step = "parts"
                    parts = (network.weights, network.biases, network.non_trainable)
                    assert min(parts) >= 0 and network.value == sum(parts), f"{network.value} != sum of {parts}"
                    assert network.trainable == network.weights + network.biases
                step = "summary"
                str(network.summary(depth=1))
                step = "latex"
                network.latex()
                step = "json"
                render.dumps(render.json_document(network))
            except SymparamError as error:
                str(error)  # the message, with its caret
                if error.span is not None and error.source == text:
                    step = "error place"
                    assert_place(text, error)
                return "error"
    except (Exception, Hang) as error:  # an AssertionError too: from assert_place
        raise unexpected(text, error, step) from error
    return "count"


@contextlib.contextmanager
def int_digits_kept():
    """The CLI lifts Python's int/str digit limit for its process; under CliRunner that
    process is this one: put the limit back for the API tests that follow."""
    before = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else None
    try:
        yield
    finally:
        if before is not None:
            sys.set_int_max_str_digits(before)


COMMANDS = [
    ["count"],
    ["count", "--format", "json"],
    ["count", "--breakdown", "--latex"],
    ["summary", "--depth", "2"],
    ["explain"],
]


def cli_outcome(text: str, command: list[str], stdin: bool, extra: tuple) -> int:
    """Run the command line on `text` (as EXPR, or on standard input): exit code 0 or 2,
    an `error:` line when 2, and never a traceback."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no file holds it, but an argument may
        stdin = False
    args = [*command, *extra, "-" if stdin else "--", *([] if stdin else [text])]
    with int_digits_kept():
        try:
            with hard_limit(HARD_LIMIT):
                result = CliRunner().invoke(main, args, input=text if stdin else None)
        except Hang as error:
            raise unexpected(text, error, "symparam " + " ".join(command)) from error
    step = "symparam " + " ".join(args[:-1] if not stdin else args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise unexpected(text, result.exception, step) from result.exception
    output = result.output
    assert result.exit_code in (0, 2), f"{step}: exit code {result.exit_code}: {output[:500]}\ninput: {text!r}"
    assert "Traceback" not in output, f"{step}: a traceback: {output[:2000]}\ninput: {text!r}"
    if result.exit_code == 2:
        assert "error:" in result.stderr or "Usage:" in result.stderr, f"{step}: {result.stderr[:500]}"
    return result.exit_code


# ------------------------------------------------------------------ sizes


def weighted(*pairs):
    """One of the strategies, drawn with the given (integer) weights."""
    return st.one_of(*[strategy for weight, strategy in pairs for _ in range(weight)])


NAMES = ["d", "h", "L", "k", "n", "H", "V", "T", "x", "h0", "h1", "h2", "hl", "hk", "l", "B"]
INDEXED = ["h_{i}", "h_{i-1}", "h_{l}", "h_{0}", "h_{k+1}", "w_{2*i}", "h_{h_{1}}"]
ODD_NAMES = ["let", "as", "in", "dense", "relu", "true", "same", "i", "x" * 60, "A_b_C9"]

small = st.integers(1, 8).map(str)
plausible = st.sampled_from(["16", "32", "64", "128", "256", "512", "784", "1024", "10", "3", "2"])
implausible = st.sampled_from([
    "0", "-1", "-3", "0.5", "1.5", "2.0", "1e-5", "1E3", "3e2", "1_000", "1__0", "0007",
    "10^30", "2^64", "2**100", "10^400", "2^4097", "9" * 40, "9" * 400, "1" + "0" * 5000,
    "1/3", "7//2", "4/2", "(2)", "--2", "-(-2)",
])
names = st.sampled_from(NAMES)
atoms = weighted((4, small), (4, plausible), (2, implausible), (4, names),
                 (1, st.sampled_from(INDEXED)), (1, st.sampled_from(ODD_NAMES)))


def _binary(parts):
    left, op, right, paren = parts
    text = f"{left} {op} {right}"
    return f"({text})" if paren else text


sizes = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "*", "/", "//", "^", "**"]), inner, st.booleans())
        .map(_binary),
        inner.map(lambda t: f"-{t}"),
        inner.map(lambda t: f"({t})"),
        # the usual arithmetic of real models
        names.map(lambda n: f"4*{n}"),
        names.map(lambda n: f"{n}//2"),
        names.map(lambda n: f"2^{n}"),
        names.map(lambda n: f"{n} * {n}"),
    ),
    max_leaves=4,
)


def tuples_of(item, rank):
    """(a, b) for `rank` axes, sometimes one axis too many or too few, sometimes (a,)."""
    count = st.sampled_from([rank, rank, rank, max(rank - 1, 1), rank + 1])
    return count.flatmap(lambda n: st.lists(item, min_size=n, max_size=n)).map(
        lambda items: f"({', '.join(items)}{',' if len(items) == 1 else ''})"
    )


# ------------------------------------------------------------------ arguments by parameter kind

WORDS = ["same", "valid", "causal", "full", "none", "relu", "'same'", '"valid"', "''", "x", "tru"]
FLAGS = ["true", "false", "True", "False", "'true'", "1", "0", "yes", "d"]
REALS = ["0.5", "0", "0.1", "1", "-1", "1e-5", "1e-3", "0.99", "2", "d", "1/3"]


def argument(param, chain, known_names):
    """A value for `param`: mostly plausible for its kind of parameter, sometimes not.
    The kind is told by the parameter's class and attributes, so that a new kind of
    parameter is fuzzed too (with any value)."""
    kind = type(param).__name__
    rank = getattr(param, "rank", 1) or 1
    if isinstance(param, Stage):
        return weighted((8, chain), (1, sizes))
    if kind == "Flag":
        return weighted((6, st.sampled_from(FLAGS[:2])), (1, st.sampled_from(FLAGS)), (1, sizes))
    if kind == "Choice":
        choices = list(getattr(param, "choices", ())) or WORDS
        quoted = [f'"{c}"' for c in choices[:3]]
        return weighted((6, st.sampled_from(choices)), (1, st.sampled_from(quoted + WORDS)), (1, sizes))
    if kind == "Padding":
        words = list(getattr(param, "words", ())) or ["same"]
        pair = tuples_of(st.sampled_from(["0", "1", "2", "3", "p", "-1"]), 2)
        return weighted((4, st.sampled_from(words)), (3, sizes), (2, tuples_of(sizes, rank)),
                        (1, tuples_of(pair, rank)), (1, st.sampled_from(WORDS)))
    if kind == "Sizes":
        return weighted((5, sizes), (3, tuples_of(sizes, rank)), (1, st.sampled_from(WORDS)))
    if kind in ("Size", "Index", "Extent"):
        return weighted((8, sizes), (1, tuples_of(sizes, 2)), (1, st.sampled_from(WORDS + ["-1"])))
    if kind in ("Rate", "Real"):
        return weighted((6, st.sampled_from(REALS)), (2, sizes), (1, st.sampled_from(WORDS)))
    if kind == "Word":
        return weighted((6, st.sampled_from(list(known_names) or ["wte"])), (1, sizes), (1, st.sampled_from(WORDS)))
    if kind == "Projections":
        names = list(getattr(param, "choices", ())) or ["q"]
        picked = st.lists(st.sampled_from(names + ["x", "q1"]), min_size=1, max_size=4)
        return weighted((4, picked.map(lambda items: f"({', '.join(items)})")), (2, st.sampled_from(FLAGS[:2] + names)),
                        (1, sizes))
    return st.one_of(sizes, st.sampled_from(WORDS + FLAGS), tuples_of(sizes, 2), chain)


KINDS = sorted(REGISTRY.values(), key=lambda kind: kind.name)
SHAPED = [kind for kind in KINDS if kind.name != "input"]  # a later in(...) is drawn, but rarely
MISSPELLED = ["dnse", "Dense2", "conv", "lstm_", "Residual2", "moE", "é", "DENSE"]


@st.composite
def layer_call(draw, chain, known_names=(), callables=()):
    """One call of a registered kind (or of a definition, or a misspelling), with
    arguments: a prefix of the positional ones, a few keywords by name or alias,
    varargs; now and then an argument too many, twice, or a trailing comma."""
    source = draw(st.sampled_from(["kind"] * 12 + ["definition"] * (3 if callables else 0) + ["input", "unknown"]))
    if source == "definition":
        name, arity = draw(st.sampled_from(list(callables)))
        count = draw(st.sampled_from([arity] * 6 + [max(arity - 1, 0), arity + 1]))
        args = [draw(sizes) for _ in range(count)]
        return f"{name}({', '.join(args)})" if args or draw(st.booleans()) else name
    if source == "unknown":
        return draw(st.sampled_from(MISSPELLED)) + draw(st.sampled_from(["", "(4)"]))
    kind = REGISTRY["input"] if source == "input" else draw(st.sampled_from(SHAPED))
    name = draw(weighted((4, st.just(kind.name)), (1, st.sampled_from([kind.name, *kind.aliases]))))
    parts, given = [], set()
    positional = [p for p in kind.params if not p.keyword_only]
    for param in positional[: draw(st.integers(0, len(positional)))]:
        parts.append(draw(argument(param, chain, known_names)))
        given.add(param.name)
    if kind.varargs is not None:
        parts.extend(draw(st.lists(argument(kind.varargs, chain, known_names), max_size=3)))
    if kind.params:
        for param in draw(st.lists(st.sampled_from(kind.params), max_size=2, unique_by=lambda p: p.name)):
            if param.name in given and draw(st.integers(0, 9)):
                continue  # given twice: now and then only
            keyword = draw(st.sampled_from([param.name] * 3 + list(param.aliases)))
            parts.append(f"{keyword}={draw(argument(param, chain, known_names))}")
    if not draw(st.integers(0, 14)):
        parts.append(draw(st.sampled_from(["4", "bogus=1", "(1, 2)", "'s'", "dense(2)", "x=y=2"])))
    if not draw(st.integers(0, 9)):  # every layer and call takes it
        parts.append(draw(st.sampled_from(["trainable=false", "trainable=true", "trainable=4"])))
    if parts:
        return f"{name}({', '.join(parts)}{',' if not draw(st.integers(0, 9)) else ''})"
    return draw(st.sampled_from([name, name, f"{name}()"]))


ARROWS = [" -> ", " -> ", " -> ", "->", "\n  -> ", " ->\n  # a comment\n  ", " -> # c -> x\n "]


@st.composite
def joined(draw, items):
    """Stages joined by arrows, with line breaks and comments now and then."""
    text = items[0]
    for item in items[1:]:
        text += draw(st.sampled_from(ARROWS)) + item
    return text


ELLIPSES = [
    "dense(h1) -> ... -> dense(hl)", "dense(h_{1}) -> ... -> dense(h_{l})", "dense(h2) ... -> dense(hk)",
    "dense(h1) -> … -> dense(hl)", "dense(h_{2*1}) -> ... -> dense(h_{l})", "dense(w1) -> ... -> dense(w3)",
    "conv2d(c1, 3) -> ... -> conv2d(cl, 3)", "dense(1) -> ... -> dense(5)", "dense(h1) -> ... -> dense(h0)",
    "dense(h1) -> ... -> dense(h100000)", "dense(h1, bias=false) -> ... -> dense(hl, bias=false)",
    "(dense(h1) -> relu) -> ... -> (dense(hl) -> relu)", "dense(h_{i}) -> ... -> dense(h_{i+3})",
]


def ellipsis(inner):
    """The ellipsis: `A -> ... -> B`, `A ... -> B`, `…`; indexed names or numbers."""
    mixed = st.tuples(inner, st.sampled_from([" -> ... -> ", " ... -> ", " -> … -> "]), inner).map("".join)
    return weighted((3, st.sampled_from(ELLIPSES)), (1, mixed))


def structures(known_names, callables):
    """The recursive stage strategy: calls, chains, repetitions, ellipses, brackets,
    names. The kinds holding chains (residual, parallel, moe) come from the registry:
    their Stage parameters take this strategy."""

    def extend(inner):
        return st.one_of(
            layer_call(inner, known_names, callables),
            layer_call(inner, known_names, callables),
            st.lists(inner, min_size=2, max_size=4).flatmap(joined),
            st.tuples(inner, sizes).map(lambda t: f"({t[0]}) * {t[1]}"),
            st.tuples(inner, sizes).map(lambda t: f"{t[0]} * {t[1]}"),
            st.tuples(sizes, inner).map(lambda t: f"{t[0]} * ({t[1]})"),
            ellipsis(inner),
            inner.map(lambda t: f"({t})"),
            st.tuples(inner, st.sampled_from(list(known_names) or ["wte"])).map(lambda t: f"{t[0]} as {t[1]}"),
        )

    base = weighted((4, layer_call(st.just("dense(4)"), known_names, callables)),
                    (2, st.sampled_from(["dense(d)", "relu", "dense(4*d) -> gelu -> dense(d)",
                                         "flatten", "layer_norm", "dropout(0.1)"])))
    return st.recursive(base, extend, max_leaves=6)


@st.composite
def definitions(draw):
    """`let NAME(PARAMS) = CHAIN;` definitions, each able to call the ones before it
    (twice over: a doubling); returns their text and the (name, arity) of each."""
    callables, texts = [], []
    for number in range(draw(st.integers(0, 3))):
        odd = not draw(st.integers(0, 7))
        name = draw(st.sampled_from([f"b{number}", "dense", "relu", "let", "in"] if odd else [f"block{number}"]))
        params = draw(st.lists(st.sampled_from(["w", "d", "k", "n", "h"]), max_size=3, unique=True))
        body = draw(structures(("tok",), tuple(callables)))
        if callables and draw(st.booleans()):
            called, arity = draw(st.sampled_from(callables))
            args = ", ".join(draw(st.sampled_from(params or ["2"])) for _ in range(arity))
            call = f"{called}({args})" if arity else called
            body = f"{call} -> {body}" if draw(st.booleans()) else f"{call} -> {call} -> {body}"
        header = f"{name}({', '.join(params)})" if params or draw(st.booleans()) else name
        end = draw(st.sampled_from([";\n", "; ", ";\n# comment\n", ";;", "\n"]))
        texts.append(f"let {header} = {body}{end}")
        callables.append((name, len(params)))
    return "".join(texts), tuple(callables)


@st.composite
def wild_networks(draw):
    """A whole network, shapes ignored: definitions, an input, a chain of any kinds with
    any arguments; sometimes an embedding named for a tie=."""
    prelude, callables = draw(definitions())
    known = tuple(draw(st.lists(st.sampled_from(["wte", "emb", "head", "d"]), min_size=1, max_size=2, unique=True)))
    shape = draw(st.lists(weighted((6, plausible), (4, sizes)), min_size=1, max_size=4))
    head = f"in({', '.join(shape)})"
    if not draw(st.integers(0, 9)):
        layout = draw(st.sampled_from(["channels_first", "channels_last", "x"]))
        head = f"in({', '.join(shape)}, data_format={layout})"
    body = draw(structures(known, callables))
    if not draw(st.integers(0, 3)):
        body = f"embedding(V, d) as {known[0]} -> {body} -> dense(V, tie={known[0]})"
    form = draw(st.sampled_from(["plain"] * 8 + ["no input", "comment", "parens"]))
    if form == "no input":
        text = body
    elif form == "comment":
        text = f"# generated\n{head} -> {body}  # trailing comment"
    elif form == "parens":
        text = f"({head} -> {body})"
    else:
        text = f"{head} -> {body}"
    return prelude + text


# ------------------------------------------------------------------ networks that follow their shapes
# Random kinds on random shapes are mostly refused. Which input ranks each kind takes,
# and the rank it gives, is probed once at import with plausible arguments.

WIDTH_KEEPING = ["relu", "gelu", "layer_norm", "dropout(0.1)", "identity", "tanh"]


def _probe_argument(param) -> str:
    if isinstance(param, Stage):
        return "identity"
    kind = type(param).__name__
    if kind == "Choice":
        return param.choices[0]
    return {"Index": "0", "Sizes": "2", "Padding": "same", "Rate": "0.5", "Real": "0.5",
            "Flag": "true", "Word": "wte", "Extent": "-1", "Letters": '"ab,bc->ac"',
            "Cutoffs": "(2,)"}.get(kind, "4")


# Kinds whose defaults do not fit an input of 16s (a 256-long frame over 16 steps), or
# whose chain must be one layer with a kernel.
PROBE_KEYWORDS = {"stft_spectrogram": ["frame_length=4"]}
PROBE_CALLS = {"spectral_norm": "spectral_norm(dense(4))"}


def _probe(kind) -> dict[int, int]:
    """{input rank: output rank} for a plausible call of `kind` on 16s."""
    args = [_probe_argument(p) for p in kind.params if p.default is REQUIRED and not p.keyword_only]
    args += PROBE_KEYWORDS.get(kind.name, [])
    if isinstance(kind.varargs, Stage):
        args += ["identity", "identity"]
    elif kind.varargs is not None:
        args.append(_probe_argument(kind.varargs))
    call = f"{kind.name}({', '.join(args)})" if args else kind.name
    call = PROBE_CALLS.get(kind.name, call)
    ranks = {}
    for rank in range(1, 6):  # up to a sequence of volumes: (T, D, H, W, C) for conv_lstm3d
        try:
            ranks[rank] = len(symparam.parse(f"in({', '.join(['16'] * rank)}) -> {call}").output_shape)
        except Exception:  # noqa: BLE001 - only a probe: the tests find what is wrong
            pass
    return ranks


RANKS = {kind.name: _probe(kind) for kind in SHAPED}


def plausible_value(param, width, inner):
    """A value a model would give `param`, in a network `width` wide."""
    if isinstance(param, Stage):
        return inner
    kind = type(param).__name__
    if kind == "Choice":
        return st.sampled_from(list(param.choices[:6]))
    if kind == "Flag":
        return st.sampled_from(["true", "false"])
    if kind == "Padding":
        return st.sampled_from(list(getattr(param, "words", ())) + ["1", "0"])
    if kind == "Sizes":
        return st.sampled_from(["1", "2", "3", "3", "k"])
    if kind in ("Rate", "Real"):
        return st.sampled_from(["0.1", "0.5", "0", "1e-5"])
    if kind == "Index":
        return st.sampled_from(["0", "1"])
    if kind == "Word":
        return st.just("wte")
    if kind == "Projections":
        return st.sampled_from(["true", "false", "(q, k, v)", "(q, v)", "o"])
    if kind == "Extent":
        return st.sampled_from(["-1", width])
    if kind == "Cutoffs":
        return st.sampled_from(["(2,)", "(2, 3)", "(10, 100)"])
    if kind == "Letters":  # an einsum equation, or bias axes
        return st.sampled_from(['"ab,bc->ac"', '"abc,cd->abd"', '"c"', '"d"'])
    return st.sampled_from([width, width, width, "2", "4", "H", "8"])


@st.composite
def plausible_call(draw, kind, width, inner):
    """A call a model would have: every required argument, some optional ones by
    keyword; in one call of six, one value replaced by any size expression."""
    positional, keywords = [], []
    for param in kind.params:
        if param.default is REQUIRED and not param.keyword_only:
            positional.append(draw(plausible_value(param, width, inner)))
        elif not draw(st.integers(0, 4)) and type(param).__name__ != "Word":
            keywords.append(f"{param.name}={draw(plausible_value(param, width, inner))}")
    if isinstance(kind.varargs, Stage):
        positional += draw(st.lists(inner, min_size=2, max_size=3))
    elif kind.varargs is not None:
        positional += ["-1", width]
    arguments = positional + keywords
    if arguments and not draw(st.integers(0, 5)):
        arguments[draw(st.integers(0, len(arguments) - 1))] = draw(sizes)
    return f"{kind.name}({', '.join(arguments)})" if arguments else kind.name


@st.composite
def realistic(draw):
    """A network that follows its shapes: an input of rank 1-4, then layers each taking
    the rank the last one gave, one width throughout; repetitions and residuals around
    stretches that keep the width, an ellipsis, a definition or a tied embedding."""
    width = draw(st.sampled_from(["16", "32", "64", "d", "d", "512"]))
    rank = draw(st.integers(1, 4))
    spatial = draw(st.sampled_from(["32", "28", "16", "n"]))
    head = f"in({', '.join([spatial] * (rank - 1) + [width])})"
    keep = st.lists(st.sampled_from([f"dense({width})", *WIDTH_KEEPING]), min_size=1, max_size=3).map(" -> ".join)
    stages = []
    for _ in range(draw(st.integers(1, 6))):
        options = [kind for kind in SHAPED if rank in RANKS[kind.name]]
        if not options:  # rank 5, after an embedding of a rank-4 input
            break
        kind = draw(st.sampled_from(options))
        call = draw(plausible_call(kind, width, keep))
        after = RANKS[kind.name][rank]
        form = draw(st.sampled_from(["plain"] * 6 + ["repeat", "residual", "named"]))
        if form == "repeat" and after == rank:
            call = f"({call} -> {draw(keep)}) * {draw(st.sampled_from(['L', '2', 'N', '12']))}"
        elif form == "residual" and after == rank:
            call = f"residual({call} -> dense({width}))"
        elif form == "named":
            call = f"{call} as x{len(stages)}"
        stages.append(call)
        rank = after
    prelude = ""
    extra = draw(st.sampled_from(["none"] * 4 + ["ellipsis", "definition", "tied", "decoder"]))
    if extra == "ellipsis":
        stages.append(f"dense(h1) -> ... -> dense(hl) -> dense({width})")
    elif extra == "definition":
        prelude = "let block(w) = dense(4*w) -> gelu -> dense(w);\n"
        stages.append(f"block({width}) * L")
    elif extra == "tied":
        head = "in(T)"
        stages = [f"embedding(V, {width}) as wte", *stages, "dense(V, tie=wte)"]
    elif extra == "decoder":  # a second chain whose attention reads the first's output
        stages.append(f"layer_norm as memory;\nin(T, {width}) -> attention(H, context=memory)")
    return prelude + head + " -> " + draw(joined(stages)) if stages else head


def networks():
    """Networks from the grammar: two in three follow their shapes (most of them
    count), one in three does not (most are refused, by many different messages)."""
    return weighted((2, realistic()), (1, wild_networks()))


# Sizes through the API (d=512, h=[...], h="784,16,10", h_1=16), plausible or not.
api_sizes = st.dictionaries(
    st.sampled_from(["d", "L", "h", "h1", "h_1", "V", "T", "k", "l", "n"]),
    st.one_of(st.integers(-2, 1024), st.sampled_from([10**30, 2**64]),
              st.lists(st.integers(0, 64), max_size=4), st.sampled_from(["784,16,10", "2^10", "k", "", "0"])),
    max_size=3,
)


# ------------------------------------------------------------------ real texts, mutated


def readme_texts() -> list[str]:
    """The networks the documentation (README.md, docs/) shows: the quoted arguments of
    `$ symparam ...` lines in its console blocks, the strings in its Python blocks, its
    bare blocks whole."""
    readme = "\n".join(path.read_text(encoding="utf-8")
                       for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))])
    texts = []
    for language, block in re.findall(r"```(\w*)\n(.*?)```", readme, flags=re.S):
        if language == "console":
            for line in block.splitlines():
                if line.startswith("$ symparam"):
                    with contextlib.suppress(ValueError):
                        words = shlex.split(line[2:].split(" | ")[0])
                        texts += [word for word in words[2:] if "(" in word or "->" in word]
        elif language == "python":
            texts += [text for text in re.findall(r'"([^"\n]*)"', block) if "(" in text]
        elif language == "":
            texts.append(block)
    return [text for text in dict.fromkeys(texts) if text.strip()]


EXAMPLE_FILES = sorted((ROOT / "examples").glob("*.sp"))
TEXTS = [path.read_text(encoding="utf-8") for path in EXAMPLE_FILES] + readme_texts()

ODD = ["\r", "\r\n", "\x0c", "\x0b", "\u2028", "\u2029", "\x85", "\x00", "\ufeff", "\t", "\n",
       "é", "ß", "ℌ", "Ω", "٣", "①", "²", "−", "×", "…", "\u200b", "😀", "\udc80",
       "9" * 50, "9" * 5000, "1e999", "1e-5", "10^4097", "2^4096", "_{", "}", "{", "'", '"',
       "(", ")", "((", "->", "...", ",", "=", "*", "* 0", "^", "**", "//", "#", ";", "let ",
       " as x", "tie=", " -> dense(2)", "in(3) -> ", "(" * 120, "-"]
TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_]*_\{|[A-Za-z][A-Za-z0-9_]*|[0-9][0-9_.eE]*|->|\.\.\.|//|\*\*|\s+|.", re.S)
REPLACEMENTS = ["0", "1", "-1", "2", "d", "L", "h_{i}", "dense", "relu", "residual", "moe", "parallel",
                "as", "let", "tie", "same", "true", "(", ")", ",", "->", "...", "*", "^", "=", ";",
                "#", "9" * 30, "1e-5", "0.5", ""]


@st.composite
def mutated(draw):
    """A real text, mutated 1-4 times: characters or tokens deleted, inserted,
    duplicated, swapped or replaced; odd characters and long numbers inserted."""
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(text)))
        how = draw(st.sampled_from(["delete", "insert", "insert", "duplicate", "swap",
                                    "token delete", "token duplicate", "token swap", "token replace"]))
        if how == "delete":
            text = text[:where] + text[where + draw(st.integers(1, 8)):]
        elif how == "insert":
            text = text[:where] + draw(st.sampled_from(ODD)) + text[where:]
        elif how == "duplicate":
            text = text[:where] + text[where:where + draw(st.integers(1, 40))] + text[where:]
        elif how == "swap":
            other, size = draw(st.integers(0, len(text))), draw(st.integers(1, 6))
            a, b = sorted((where, other))
            if b - a >= size:
                text = text[:a] + text[b:b + size] + text[a + size:b] + text[a:a + size] + text[b + size:]
        else:
            tokens = TOKEN.findall(text)
            if not tokens:
                continue
            i = draw(st.integers(0, len(tokens) - 1))
            if how == "token delete":
                del tokens[i]
            elif how == "token duplicate":
                tokens.insert(i, tokens[i])
            elif how == "token swap":
                j = draw(st.integers(0, len(tokens) - 1))
                tokens[i], tokens[j] = tokens[j], tokens[i]
            else:
                tokens[i] = draw(st.sampled_from(REPLACEMENTS + ODD[:12]))
            text = "".join(tokens)
    return text


# ------------------------------------------------------------------ the tests
#
# Known, and being fixed in the core: when one of these fails a test here, the core is
# to be fixed, not this file (which steers around none of them): deep nesting ->
# RecursionError; counts past 1e308 -> OverflowError in the summary; `* 0` ->
# ZeroDivisionError in the summary; `1e-5` not parsed; `2 * batch_norm` refused; huge
# ellipsis ranges, doubling definitions and huge powers hanging; the 4,300-digit
# int/str limit through the API; the caret on the wrong line after \r, \x0c, \u2028.


@FUZZ
@seeded
@given(networks(), st.sampled_from(["keras", "torch"]))
def test_generated_networks_end_in_a_count_or_an_error(text, convention):
    outcome(text, convention)


@FUZZ
@seeded
@given(networks(), api_sizes)
def test_generated_networks_with_sizes_end_in_a_count_or_an_error(text, sizes):
    outcome(text, "keras", sizes)


@FUZZ
@seeded
@given(mutated(), st.sampled_from(["keras", "torch"]))
def test_mutated_texts_end_in_a_count_or_an_error(text, convention):
    outcome(text, convention)


@CLI_FUZZ
@seeded
@given(st.one_of(networks(), mutated()), st.sampled_from(COMMANDS), st.booleans(),
       st.sampled_from([(), ("--convention", "torch"), ("--set", "d=512"), ("--set", "h=784,16,10")]))
def test_the_command_line_exits_0_or_2_without_a_traceback(text, command, stdin, extra):
    cli_outcome(text, command, stdin, extra)


def test_the_real_texts_themselves_end_in_a_count_or_an_error():
    """The seeds of the mutations, unmutated (the documentation's bare blocks include
    command synopses: errors, not crashes)."""
    assert len(TEXTS) > len(EXAMPLE_FILES) + 10, "the documentation's examples were not found"
    for text in TEXTS:
        outcome(text)


def test_every_layer_kind_is_probed():
    """Each registered kind takes some input rank with plausible arguments, so the
    shape-following generator uses it (a kind missing here has a broken probe or a
    parameter this file does not know how to fill)."""
    unused = [name for name, ranks in RANKS.items() if not ranks]
    assert not unused, f"no input rank found for {unused}"
