"""Every kind of mistake a user can make: the message, and where it points.

Each kind is a table {id: (input, message pattern, line, column)}. Errors with a place
in the text must also show that line of source with a caret under the column; errors
about Python keyword bindings have no place in the text (line and column are None).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symparam
from symparam import SymparamError

GENERAL = "in(h0) -> dense(h1) -> ... -> dense(hl)"

# Lark's names for the grammar's terminals: a message must never show them.
TERMINAL_NAMES = re.compile(
    r"\$END|__ANON|\b_?(ARROW|ELLIPSIS|LPAR|RPAR|RBRACE|COMMA|EQUAL|PLUS|MINUS|STAR|DSTAR"
    r"|SLASH|DSLASH|CARET|INDEXED|NAME|NUMBER|STRING)\b"
)


def check_error(call, text: str, match: str, line: int | None, column: int | None):
    """`call()` raises SymparamError matching `match` at line:column, with a caret there."""
    with pytest.raises(SymparamError, match=match) as info:
        call()
    error = info.value
    assert (error.line, error.column) == (line, column)
    if line is not None:
        rendered = str(error).splitlines()
        assert rendered[0].startswith(f"{line}:{column}: ")
        source_line = (text.splitlines() or [""])[line - 1]
        at = rendered.index("  " + source_line)  # the source line, indented by two
        assert rendered[at + 1].index("^") == 2 + column - 1, str(error)
    return error


def table(rows: dict):
    """parametrize arguments for a {id: row} table."""
    return {"argvalues": list(rows.values()), "ids": list(rows)}


# ------------------------------------------------------------------ syntax

SYNTAX = {
    "missing_arrow": ("in(784) dense(16)", r"missing '->' before 'dense'", 1, 9),
    "unclosed_paren_at_end": ("in(784) -> dense(16", r"end of the expression; expected '\)'", 1, 20),
    # Only ')', ',' or an operator can follow `dense(16`: not '}', not the end.
    # A chain is a legal argument (residual(dense(4) -> relu)), so the parser can only
    # notice the missing ')' at the end.
    "unclosed_paren_mid_chain": (
        "in(784) -> dense(16 -> dense(10)",
        r"unexpected end of the expression; expected '\)' or ','",
        1,
        33,
    ),
    "unexpected_character": ("in(784) -> dense(16) $", r"unexpected character '\$'", 1, 22),
    "empty": ("", r"empty expression", 1, 1),
    "only_a_comment": ("# nothing here", r"empty expression", 1, 1),
    "dangling_arrow": ("in(784) -> dense(16) ->", r"end of the expression; expected .*a name", 1, 24),
    "third_line": (
        "in(784)  # input\n-> dense(16)\n-> dense(10) )",
        r"unexpected '\)'; expected the end of the expression",
        3,
        14,
    ),
}


@pytest.mark.parametrize("text, match, line, column", **table(SYNTAX))
def test_syntax_errors(text, match, line, column):
    error = check_error(lambda: symparam.parse(text), text, match, line, column)
    assert not TERMINAL_NAMES.search(error.message), error.message


# ------------------------------------------------------------------ layers and their arguments

CALLS = {
    "unknown_layer": ("in(784) -> dnse(16)", r"unknown layer 'dnse'; did you mean 'dense'\?", 1, 12),
    "unknown_keyword": (
        "in(784) -> dense(16, bais=false)",
        r"dense\(16, bais=false\): unknown argument 'bais'; did you mean 'bias'\?",
        1,
        22,
    ),
    "too_many_positional": (
        "in(784) -> dense(16, true, relu)",
        r"dense\(16, true, relu\): takes at most 2 positional arguments \(units, bias\), got 3",
        1,
        28,
    ),
    "missing_required": ("in(784) -> dense()", r"dense\(\): missing .*'units'", 1, 12),
    "keras_attention_with_heads": (  # Keras' Attention has no heads: MultiHeadAttention was meant
        "in(T, d) -> Attention(8)",
        r"Attention\(8\): takes at most 0 positional arguments \(no arguments\), got 1; for multi-head "
        r"attention, write attention\(heads\), Keras' MultiHeadAttention",
        1,
        23,
    ),
}

# ------------------------------------------------------------------ the shape of the chain

STRUCTURE = {
    "no_input": ("dense(16) -> dense(10)", r"starts with its input shape", 1, 1),
    "input_in_the_middle": (
        "in(784) -> dense(16) -> in(16) -> dense(4)",
        r"in\(\.\.\.\) can only start a network",
        1,
        25,
    ),
    "repeat_changing_shape_zero_times": (
        "in(784) -> (dense(16) -> relu) * 0",
        r"this repeated chain changes the shape \(\(784\) to \(16\)\), so repeating it 0 times leaves no output shape",
        1,
        34,
    ),
    "repeat_changing_shape_irregularly": (
        "in(16, 16, 4) -> max_pool2d(2) * n",
        r"changes the shape differently each time: \(16, 16, 4\) -> \(8, 8, 4\) -> \(4, 4, 4\); give the count a value",
        1,
        18,
    ),
    "repeat_negative_times": ("in(16) -> dense(16) * (1 - 2)", r"repetition count must be a whole number >= 0, got -1", 1, 24),
}

# ------------------------------------------------------------------ concrete sizes

SIZES = {
    "zero": ("in(784) -> dense(0)", r"dense\(0\): .*must be a positive whole number", 1, 18),
    "negative": ("in(784) -> dense(-3)", r"dense\(-3\): .*must be a positive whole", 1, 18),
    "fraction": ("in(784) -> dense(3/2)", r"dense\(3/2\): .*must be a positive whole", 1, 18),
    "decimal": ("in(784) -> dense(1.5)", r"dense\(1\.5\): .*must be a positive whole", 1, 18),
    "zero_input": ("in(0) -> dense(4)", r"in\(0\): .*must be a positive whole number", 1, 4),
    # 2^(4096^4096): the exponent itself has ~14800 digits.
    "exponent_too_large": ("in(1) -> dense(2^4096^4096)", r"this power has more than 10,000 digits", 1, 18),
}

# ------------------------------------------------------------------ ellipses

ELLIPSES = {
    "different_kinds": (
        "in(h0) -> dense(h1) -> ... -> relu(hl)",
        r"ellipsis joins layers of one kind, not 'dense' and 'relu'",
        1,
        11,
    ),
    "keyword_differs": (
        "in(h0) -> dense(h1, bias=true) -> ... -> dense(hl, bias=false)",
        r"differ only in indices.*'true' becomes 'false'",
        1,
        57,
    ),
    "stem_differs": (
        "in(h0) -> dense(h1) -> ... -> dense(gl)",
        r"differ only in indices.*'h1' becomes 'gl'",
        1,
        37,
    ),
    "no_index_differs": ("in(4) -> dense(4) -> ... -> dense(4)", r"must differ in an index", 1, 29),
    "at_the_start": ("... -> dense(h1)", r"unexpected '\.\.\.'", 1, 1),
    # in(4) is the input, not a layer the ellipsis could repeat.
    "right_after_input": ("in(4) -> ... -> dense(hl)", r"ellipsis", 1, 10),
    "at_the_end": ("in(4) -> dense(h1) -> ...", r"unexpected end of the expression", 1, 26),
}


@pytest.mark.parametrize(
    "text, match, line, column", **table({**CALLS, **STRUCTURE, **SIZES, **ELLIPSES})
)
def test_meaning_errors(text, match, line, column):
    check_error(lambda: symparam.parse(text), text, match, line, column)


# ------------------------------------------------------------------ sizes bound from Python

BINDINGS = {
    # l=3 needs h_0 ... h_3; h_3 is written `hl`, at column 37.
    "sequence_too_short": (
        GENERAL,
        lambda: symparam.count(GENERAL, l=3, h=[784, 16, 16]),
        r"h_3 has no value: h has 3 values",
        1,
        37,
    ),
    "sequence_too_long": (
        GENERAL,
        lambda: symparam.count(GENERAL, l=3, h=[784, 16, 16, 10, 5]),
        r"h has 5 values, but the network uses only h_0 \.\.\. h_3",
        None,
        None,
    ),
    "unbound_in_evaluate": (
        "in(d) -> dense(n)",
        lambda: symparam.parse("in(d) -> dense(n)").evaluate(d=4),
        r"no value for n\b",
        None,
        None,
    ),
    "unbound_sequence_in_evaluate": (
        GENERAL,
        lambda: symparam.parse(GENERAL).evaluate(l=3),
        r"no value for h\b",
        None,
        None,
    ),
    "unknown_name_concrete": (
        "in(784) -> dense(units)",
        lambda: symparam.count("in(784) -> dense(units)", units=16, unit=16),
        r"'unit'.*no such name; did you mean 'units'\?",
        None,
        None,
    ),
    # The same typo must not be ignored just because the answer is still symbolic.
    "unknown_name_symbolic": (
        "in(784) -> dense(units)",
        lambda: symparam.count("in(784) -> dense(units)", unit=16),
        r"'unit'.*no such name; did you mean 'units'\?",
        None,
        None,
    ),
    "float_size": (
        "in(d) -> dense(d)",
        lambda: symparam.count("in(d) -> dense(d)", d=1.5),
        r"d: sizes are exact numbers .*float",
        None,
        None,
    ),
    "float_in_sequence": (
        GENERAL,
        lambda: symparam.count(GENERAL, h=[784, 16.0, 10]),
        r"h: sizes are exact numbers .*float",
        None,
        None,
    ),
}


@pytest.mark.parametrize("text, call, match, line, column", **table(BINDINGS))
def test_binding_errors(text, call, match, line, column):
    check_error(call, text, match, line, column)


# ------------------------------------------------------------------ anything at all

TOKENS = [
    "in(", "dense(", "relu", "dropout(", ")", "(", "->", "...", "*", "^", "/", "//", "-",
    ",", "=", "h", "h1", "hl", "h_{", "}", "l", "0", "1", "16", "1.5", "'x'", "bias=",
    "true", "#", "\n", " ", "$", "in(4) -> ",
]  # fmt: skip

garbage = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(TOKENS), max_size=12).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(garbage)
def test_any_text_counts_or_raises_symparam_error(text):
    try:
        symparam.count(text)
    except SymparamError:
        pass
