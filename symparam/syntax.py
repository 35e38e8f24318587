"""Text -> syntax tree: the Lark parser, the tree builder and syntax errors in words."""

from __future__ import annotations

import re
from contextvars import ContextVar
from functools import lru_cache

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from .exact import fraction
from .building import building
from . import ast, tables
from .errors import SymparamError
from .limits import MAX_DIGITS, MAX_INPUT, MAX_NESTING
from .values import unlimited_digits

# What the parser's terminal names mean to a person.
TERMINAL_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a quoted string",
    "INDEXED": "an indexed name such as h_{i}",
    "ARROW": "'->'",
    "ELLIPSIS": "'...'",
    "LPAR": "'('",
    "RPAR": "')'",
    "RBRACE": "'}'",
    "_COMMA": "','",
    "_EQUAL": "'='",
    "SEMICOLON": "';' (a definition ends with ';')",
    "LET": "'let'",
    "USE": "'use'",
    "_AS": "'as'",
    "$END": "the end of the expression",
}
OPERATORS = {"_PLUS", "MINUS", "_STAR", "_SLASH", "_DSLASH", "_POW"}


@lru_cache(maxsize=1)
def parser() -> Lark:
    # The syntax tree is built as the parser reduces (transformer=): no parse tree is
    # made and walked again, and positions come from the tokens, not from Lark's
    # propagate_positions, which doubles the parse's time. The tables ship in the
    # package (tables.py): nothing is loaded from a shared folder.
    return tables.load(AstBuilder())


@building
def parse_network(text: str) -> ast.Network:
    """Parse an architecture expression into its syntax tree."""
    if not text.strip() or not _has_code(text):
        raise SymparamError(
            "empty expression: write a network such as 'in(784) -> dense(10)'",
            ast.Span(1, 1, 0, 1),
            text,
        )
    (chain, *others), definitions, uses = _parse(text, "start")
    return ast.Network(chain=chain, source=text, definitions=definitions, others=tuple(others),
                       uses=uses)


def parse_library(text: str, origin: ast.Origin) -> tuple[tuple, tuple]:
    """A file brought in by `use`: its own uses and its definitions, every position in
    them marked as the file's."""
    try:
        _, definitions, uses = _parse(text, "library")
    except SymparamError as error:
        span = error.span and error.span._replace(origin=origin)
        raise SymparamError(error.message, span, text) from None
    return ast.located(uses, origin), ast.located(definitions, origin)


def parse_binding(text: str) -> ast.Binding:
    """Parse `NAME=VALUE[,VALUE...]` (a --set value) with the grammar's size rules."""
    target, values = _parse(text, "binding")
    return ast.Binding(target=target, values=values, source=text)


def _has_code(text: str) -> bool:
    # Lines end at "\n" alone, as for the parser: a comment runs on past "\r" or "\f".
    return any(line.split("#", 1)[0].strip() for line in text.split("\n"))


@unlimited_digits()  # names and messages may quote numbers the input bounds (MAX_DIGITS)
def _parse(text: str, start: str):
    if len(text) > MAX_INPUT:
        raise SymparamError(
            f"the expression has more than {MAX_INPUT:,} characters, symparam's limit; "
            "repeat layers with '* count' instead of writing them out"
        )
    source = _Source(text)
    token = _SOURCE.set(source)
    try:
        result = parser().parse(text, start=start)
        if source.errors:
            raise source.errors[0]
        _check_nesting(result)
        return result
    except UnexpectedInput as error:
        raise _syntax_error(error, text, start) from None
    except VisitError as error:  # what a builder raised, wrapped by Lark: unwrapped
        if isinstance(error.orig_exc, RecursionError):
            raise _nested_too_deeply(ast.NOWHERE) from None
        raise error.orig_exc from None
    finally:
        _SOURCE.reset(token)


def _check_nesting(result) -> None:
    """The parse's result, (chains, definitions) or (name, values), at most MAX_NESTING
    deep: every later pass may recurse once per level."""
    first, rest = result[:2]
    for root in (*first, *rest) if type(first) is tuple else (first, *rest):
        deep = ast.too_deep(root, MAX_NESTING)
        if deep is not None:
            raise _nested_too_deeply(_value_span(deep))


# ------------------------------------------------------------------ syntax errors


def _syntax_error(error: UnexpectedInput, text: str, start: str) -> SymparamError:
    if isinstance(error, UnexpectedCharacters):
        char = text[error.pos_in_stream]
        span = ast.Span(error.line, error.column, error.pos_in_stream, error.pos_in_stream + 1)
        allowed = _accepted_at(text, error.pos_in_stream, start) or set(error.allowed)
        return SymparamError(f"unexpected character {char!r}; expected {_expected(allowed)}", span, text)
    assert isinstance(error, UnexpectedToken)
    token = error.token
    if token.type == "$END":
        span = _end_span(text)
        found = "end of the expression"
    else:
        span = ast.Span(token.line, token.column, token.start_pos, token.end_pos)
        found = repr(str(token))
    expected = _acceptable(error)
    if "SEMICOLON" in expected and _in_definition(error.interactive_parser):
        if token.type in ("NAME", "LET"):
            return SymparamError(f"missing ';' at the end of the definition, before {found}", span, text)
    else:
        expected.discard("SEMICOLON")  # another chain may follow; rarely what was meant
    if "ARROW" in expected and token.type in ("NAME", "LPAR"):
        return SymparamError(f"missing '->' before {found}", span, text)
    return SymparamError(f"unexpected {found}; expected {_expected(expected)}", span, text)


def _accepted_at(text: str, offset: int, start: str) -> set[str]:
    """What the parser would take at `offset`. The lexer, one for the whole grammar (a
    lexer per parser state would compile a dozen regular expressions at each start),
    knows only all the terminals: the text before is parsed again to ask the parser."""
    try:
        interactive = parser().parse_interactive(text[:offset], start=start)
        interactive.exhaust_lexer()
        accepts = set(interactive.accepts())
        if not _in_definition(interactive):
            accepts.discard("SEMICOLON")  # another chain may follow; rarely what was meant
        return accepts
    except Exception:  # the exact list is a nicety: the lexer's own list will do
        return set()


def _in_definition(interactive) -> bool:
    """Whether the parser stands inside a `let` definition (its LET is on the stack)."""
    try:
        stack = interactive.parser_state.value_stack
    except AttributeError:
        return True  # as before there were several chains: ';' ends a definition
    return any(isinstance(value, Token) and value.type == "LET" for value in stack)


def _acceptable(error: UnexpectedToken) -> set[str]:
    """What could really come next: LALR's own list can hold tokens of merged states."""
    try:
        return set(error.interactive_parser.accepts()) or set(error.expected)
    except Exception:  # the exact list is a nicety; the parser's own list is good enough
        return set(error.expected)


def _expected(terminals) -> str:
    terminals = set(terminals)
    words = sorted(TERMINAL_WORDS.get(name, repr(name)) for name in terminals - OPERATORS)
    if terminals & OPERATORS:
        words.append("an operator (+ - * / // ^)")
    if not words:
        return "something else"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _end_span(text: str) -> ast.Span:
    stripped = text.rstrip()
    line = stripped.count("\n") + 1
    column = len(stripped) - (stripped.rfind("\n") + 1) + 1
    return ast.Span(line, column, len(stripped), len(stripped) + 1)


# ------------------------------------------------------------------ names


# Compiled (and cached by re) when first used: plain names such as d and relu do not need
# them, and compiling them would cost a start-up half a millisecond.
_TRAILING_DIGITS = r"^([A-Za-z][A-Za-z0-9_]*?)_?([0-9]+)$"
_LETTER_INDEX = r"^([A-Za-z][A-Za-z0-9]*)_([A-Za-z])$"


def name_ref(text: str, span: ast.Span) -> ast.Ref:
    """The lexical rules for names: h12 and h_12 are h indexed 12, h_i is h indexed i,
    d_model (more than one letter after the underscore) is a plain name."""
    if text.isalpha():  # no digit, no underscore: the usual d or relu, without the patterns
        return ast.Ref(text, None, span)
    match = re.match(_TRAILING_DIGITS, text)
    if match and not match.group(1).endswith("_"):
        return ast.Ref(match.group(1), ast.Num(int(match.group(2)), span), span)
    match = re.match(_LETTER_INDEX, text)
    if match:
        return ast.Ref(match.group(1), ast.Ref(match.group(2), None, span), span)
    return ast.Ref(text, None, span)


# ------------------------------------------------------------------ tokens -> AST


class _Source:
    """What the tree builder needs of one parse: the text, and the extent of each
    bracketed node (its span without the brackets, its extent with them)."""

    def __init__(self, text: str):
        self.text = text
        self.bracketed: dict[int, tuple] = {}  # id -> (node, extent); the node kept alive
        self.errors: list[SymparamError] = []  # kept until the whole text has parsed


_SOURCE: ContextVar[_Source] = ContextVar("symparam_source")


def _span(token: Token) -> ast.Span:
    return ast.Span(token.line, token.column, token.start_pos, token.end_pos)


def _cover(first: ast.Span, last: ast.Span) -> ast.Span:
    return ast.Span(first.line, first.column, first.start, last.end)


def _extent(node) -> ast.Span:
    """The text a node takes, brackets around it included: (a + b) in (a + b) * c."""
    if isinstance(node, Token):
        return _span(node)
    entry = _SOURCE.get().bracketed.get(id(node))
    return entry[1] if entry is not None and entry[0] is node else node.span


def _deferred(build):
    """A mistake found while building (a size where a layer must be) waits until the
    text has parsed: a syntax error further on, such as a missing ')', explains it.
    Every builder method that can raise SymparamError is wrapped in this."""

    def deferring(*args):
        try:
            return build(*args)
        except SymparamError as error:
            _SOURCE.get().errors.append(error)
        except RecursionError:  # sorting stages recurses over the operators: too deep
            _SOURCE.get().errors.append(_nested_too_deeply(_span_of(args[-1])))
        return ast.Num(0, ast.NOWHERE)  # a stand-in: only the first error is told

    return deferring


def _span_of(children) -> ast.Span:
    """Where a builder's children start: the first node or token among them."""
    for child in children if isinstance(children, list) else [children]:
        if isinstance(child, _Stages):
            child = child.stages[0]
        if isinstance(child, Token) or hasattr(child, "span"):
            return _extent(child)
    return ast.NOWHERE


def _nested_too_deeply(span: ast.Span) -> SymparamError:
    return SymparamError(
        f"nested too deeply: more than {MAX_NESTING} levels of brackets, operators or "
        "layers inside layers, symparam's limit",
        span,
        _SOURCE.get().text,
    )


def _binary(op: str):
    def build(self, children):
        left, right = children[0], children[-1]  # `sub` keeps its MINUS between them
        return ast.BinOp(op, left, right, _cover(_extent(left), _extent(right)))

    return build


class _Stages:
    """A chain of two or more stages while it is read: the stages and, before each stage
    after the first, the span of the "..." that joins it, or None for a plain arrow."""

    __slots__ = ("stages", "links")

    def __init__(self, first):
        self.stages = [first]
        self.links = []


class AstBuilder(Transformer):
    """One method per grammar construct, called by the parser at each reduction (see
    parser()) with the children its rule lists, picked by place: the rules are short.
    A method that can raise SymparamError is @_deferred."""

    @staticmethod
    def _error(message: str, span: ast.Span) -> SymparamError:
        return SymparamError(message, span, _SOURCE.get().text)

    # sizes
    @_deferred
    def number(self, children):
        (token,) = children
        try:
            return ast.Num(_number(token), _span(token))
        except ValueError as error:
            raise self._error(str(error), _span(token)) from None

    def name(self, children):
        (token,) = children
        return name_ref(str(token), _span(token))

    def indexed(self, children):
        stem, index, close = children
        return ast.Ref(str(stem)[:-2], index, _cover(_span(stem), _span(close)))

    add = _binary("+")
    sub = _binary("-")
    mul = _binary("*")
    div = _binary("/")
    floordiv = _binary("//")
    pow = _binary("^")

    def neg(self, children):
        minus, operand = children
        return ast.Neg(operand, _cover(_span(minus), _extent(operand)))

    def string(self, children):
        (token,) = children
        return ast.Text(str(token)[1:-1], _span(token))

    def tuple(self, children):
        open_, *items, close = children
        return ast.Tuple(tuple(items), _cover(_span(open_), _span(close)))

    def paren(self, children):
        """(chain): the chain itself, whose extent now takes in the brackets."""
        open_, inner, close = children
        _SOURCE.get().bracketed[id(inner)] = (inner, _cover(_span(open_), _span(close)))
        return inner

    # calls
    def keyword(self, children):
        name, value = children
        return ast.Keyword(str(name), value, _cover(_span(name), _extent(value)))

    def call(self, children):
        """NAME ( ) or NAME ( chain ) or NAME ( arguments ), the arguments as a list."""
        name, close = children[0], children[-1]
        arguments = children[2] if len(children) == 4 else []
        if type(arguments) is not list:  # f(x), the usual call: nothing to sort
            name_span = _span(name)
            span = ast.Span(name.line, name.column, name.start_pos, close.end_pos)
            return ast.Call(str(name), (arguments,), (), span, name_span)
        return self._call(name, arguments, close)

    def arguments(self, children):
        (arguments,) = children  # an argument_list, or a chain before a trailing comma
        return arguments if type(arguments) is list else [arguments]

    def argument_list(self, children):
        """The arguments as a list (never a node: nodes are tuples), one more a step."""
        if len(children) == 1:
            return children
        arguments, argument = children
        if type(arguments) is not list:
            return [arguments, argument]
        arguments.append(argument)
        return arguments

    @_deferred
    def _call(self, name: Token, arguments: list, close: Token) -> ast.Call:
        args, keywords, seen = [], [], set()
        for argument in arguments:
            if isinstance(argument, ast.Keyword):
                if argument.name in seen:
                    raise self._error(f"argument '{argument.name}' given twice", argument.span)
                seen.add(argument.name)
                keywords.append(argument)
            elif keywords:
                raise self._error(
                    "a positional argument cannot follow a keyword argument", _value_span(argument)
                )
            else:
                args.append(argument)
        span = _cover(_span(name), _span(close))
        return ast.Call(str(name), tuple(args), tuple(keywords), span, _span(name))

    def named(self, children):
        inner, name = children
        return ast.Named(inner, str(name), _cover(_extent(inner), _span(name)), _span(name))

    # chains
    def stages(self, children):
        """One stage more, or the first two: `stages -> expr`, `expr ... -> expr`."""
        stages, link, stage = children  # link: the ARROW, or the ELLIPSIS of `ellipsis`
        if not isinstance(stages, _Stages):
            stages = _Stages(stages)
        stages.links.append(_span(link) if link.type == "ELLIPSIS" else None)
        stages.stages.append(stage)
        return stages

    def ellipsis(self, children):
        """`-> ... ->` or `... ->`: the "..." stands for the link."""
        return children[-2]

    @_deferred
    def chain(self, children):
        """The stages read, as a Chain, once the last one is."""
        (read,) = children
        source = _SOURCE.get().text
        # A layer, the usual stage, is one already: to_stage for the others only.
        stages = [s if type(s) is ast.Call else _as_stage(s, source) for s in read.stages]
        if any(link is not None for link in read.links):
            stages = self._pair_ellipses(stages, read.links)
        span = _cover(_extent(read.stages[0]), _extent(read.stages[-1]))
        return ast.Chain(tuple(stages), span)

    def names(self, children):
        return [str(name) for name in children]

    @_deferred
    def definition(self, children):
        # parameters: [] without brackets, [LPAR, RPAR] or [LPAR, names, RPAR]
        let, name, *parameters, body, end = children
        params = parameters[1] if len(parameters) == 3 else []
        span = _cover(_span(let), _span(end))
        if len(set(params)) != len(params):
            raise self._error(f"a parameter of '{name}' is named twice", span)
        stage = _as_stage(body, _SOURCE.get().text)
        return ast.Definition(str(name), tuple(params), stage, span, _span(name))

    @_deferred
    def start(self, children):
        if _SOURCE.get().errors:  # a part failed to build: its error is told, not this
            return (), (), ()
        definitions = tuple(child for child in children if isinstance(child, ast.Definition))
        uses = tuple(child for child in children if isinstance(child, ast.Use))
        bodies = [child for child in children
                  if child is not None and not isinstance(child, (ast.Definition, ast.Use, Token))]
        source = _SOURCE.get().text
        chains = []
        for body in bodies:
            stage = _as_stage(body, source)
            chains.append(stage if isinstance(stage, ast.Chain) else ast.Chain((stage,), stage.span))
        return tuple(chains), definitions, uses

    def library(self, children):
        definitions = tuple(child for child in children if isinstance(child, ast.Definition))
        return (), definitions, tuple(child for child in children if isinstance(child, ast.Use))

    def use(self, children):
        keyword, path, end = children
        return ast.Use(str(path)[1:-1], _cover(_span(keyword), _span(end)))

    def binding(self, children):
        target, *values = children
        return target, tuple(values)

    def _pair_ellipses(self, stages, links):
        result = [stages[0]]
        for link, stage in zip(links, stages[1:]):
            if link is None:
                result.append(stage)
                continue
            first = result.pop()
            if isinstance(first, ast.Ellipsis):
                raise self._error("a layer cannot end one ellipsis and start another", link)
            for endpoint in (first, stage):
                if not isinstance(endpoint, ast.Call):
                    raise self._error(
                        "an ellipsis must stand between two layers such as "
                        "'dense(h1) -> ... -> dense(hl)'",
                        _stage_span(endpoint),
                    )
            try:
                first, last = link_endpoint_names(first, stage)
            except RecursionError:
                raise _nested_too_deeply(link) from None
            result.append(ast.Ellipsis(first, last, _cover(first.span, last.span), link))
        return result


def _as_stage(value, source: str):
    """to_stage, which recurses over the operators, in a builder: too deep is an error."""
    try:
        return to_stage(value, source)
    except RecursionError:
        raise _nested_too_deeply(_extent(value)) from None


def to_stage(value, source: str = ""):
    """A parsed expression as a stage of a chain: a layer, a (chain), `stage * count`,
    `stage as name`. A bare name such as `relu` is a layer without arguments."""
    if isinstance(value, (ast.Call, ast.Chain, ast.Ellipsis, ast.Repeat)):
        return value
    if isinstance(value, ast.Named):
        return ast.Named(to_stage(value.inner, source), value.name, value.span, value.name_span)
    if isinstance(value, ast.Ref) and value.span.line:
        name = value.span.text(source) if source else value.stem  # relu6 as written
        return ast.Call(name, (), (), value.span, value.span)
    if isinstance(value, ast.Ref) and value.index is None:
        return ast.Call(value.stem, (), (), value.span, value.span)
    if isinstance(value, ast.BinOp) and value.op == "*":
        left, right = is_stage(value.left), is_stage(value.right)
        if not (left or right):
            # A bare name may be a layer: relu * 2, 2 * relu, (relu * 2) * 3. When both
            # sides may be, the left is taken, and the expansion swaps `L * relu` back.
            left, right = _may_be_layer(value.left), _may_be_layer(value.right)
            right = right and not left
        if left and not right:
            return ast.Repeat(to_stage(value.left, source), value.right, value.span)
        if right and not left:
            return ast.Repeat(to_stage(value.right, source), value.left, value.span)
    if isinstance(value, ast.BinOp) and value.op == "*" and isinstance(value.right, ast.Named):
        raise SymparamError(
            "'as' names what stands just before it, here the count; to name a repetition, "
            "write (stage * count) as name",
            _value_span(value.right),
            source,
        )
    if is_stage(value):
        raise SymparamError(
            "layers combine with '->' and repeat with '* count'; this mixes them otherwise",
            _value_span(value),
            source,
        )
    raise SymparamError(
        f"expected a layer here, such as dense(16), not the size '{ast.unparse(value)}'",
        _value_span(value),
        source,
    )


def is_stage(value) -> bool:
    """Does this expression hold a layer (and so is no size)?"""
    if isinstance(value, (ast.Call, ast.Chain, ast.Named, ast.Ellipsis, ast.Repeat)):
        return True
    if isinstance(value, ast.BinOp):
        return is_stage(value.left) or is_stage(value.right)
    if isinstance(value, ast.Neg):
        return is_stage(value.operand)
    return False


def _may_be_layer(value) -> bool:
    """A bare name, or a product with one, read as a layer where a layer must stand."""
    if isinstance(value, ast.Ref):
        return True
    if isinstance(value, ast.BinOp) and value.op == "*":
        return _may_be_layer(value.left) or _may_be_layer(value.right)
    return False


def _number(text: str):  # an int, or a Fraction for 0.5
    """A NUMBER token's exact value: 64, 0.5 (1/2), 1e-5 (1/100000); never a float."""
    digits = text.replace("_", "")
    if digits.isdigit() and len(digits) <= _PLAIN_DIGITS:  # the usual case, ten times faster
        return int(digits)
    mantissa, _, exponent = digits.lower().partition("e")
    whole, _, decimals = mantissa.partition(".")
    written = (whole + decimals).lstrip("0")
    shift = int(exponent or 0) - len(decimals) if len(exponent) <= 12 else None
    if len(written) > MAX_DIGITS or shift is None or len(written) + shift > MAX_DIGITS or shift < -MAX_DIGITS:
        raise ValueError(f"a number of more than {MAX_DIGITS:,} digits, symparam's limit")
    with unlimited_digits():  # Python's own limit, 4,300 digits, is below symparam's
        value = fraction(int(written or "0")) * fraction(10) ** shift
    return int(value) if value.denominator == 1 else value


_PLAIN_DIGITS = 4000  # converted by int() as they are, below Python's digit limit


def _value_span(value) -> ast.Span:
    return getattr(value, "span", ast.NOWHERE)


def _stage_span(stage) -> ast.Span:
    return getattr(stage, "span", ast.NOWHERE)


# ------------------------------------------------------------------ ellipsis endpoints


def link_endpoint_names(first: ast.Call, last: ast.Call) -> tuple[ast.Call, ast.Call]:
    """In `dense(h1) -> ... -> dense(hl)`, `hl` is h indexed l, because the other
    endpoint has the stem h, indexed, in the same place. Rewrites such names."""
    if len(first.args) != len(last.args):
        return first, last
    args = [_pair_names(a, b) for a, b in zip(first.args, last.args)]
    last_keywords = {kw.name: kw for kw in last.keywords}
    first_kw = []
    for kw in first.keywords:
        other = last_keywords.get(kw.name)
        a, b = _pair_names(kw.value, other.value) if other else (kw.value, None)
        first_kw.append(ast.Keyword(kw.name, a, kw.span))
        if other:
            last_keywords[kw.name] = ast.Keyword(kw.name, b, other.span)
    return (
        _with_arguments(first, [a for a, _ in args], first_kw),
        _with_arguments(last, [b for _, b in args], list(last_keywords.values())),
    )


def _with_arguments(call: ast.Call, args, keywords) -> ast.Call:
    return ast.Call(call.name, tuple(args), tuple(keywords), call.span, call.name_span)


def _pair_names(a, b):
    if isinstance(a, ast.Ref) and isinstance(b, ast.Ref):
        return _split_on_stem(a, b), _split_on_stem(b, a)
    if isinstance(a, ast.BinOp) and isinstance(b, ast.BinOp) and a.op == b.op:
        left = _pair_names(a.left, b.left)
        right = _pair_names(a.right, b.right)
        return (
            ast.BinOp(a.op, left[0], right[0], a.span),
            ast.BinOp(b.op, left[1], right[1], b.span),
        )
    if isinstance(a, ast.Neg) and isinstance(b, ast.Neg):
        x, y = _pair_names(a.operand, b.operand)
        return ast.Neg(x, a.span), ast.Neg(y, b.span)
    if isinstance(a, ast.Tuple) and isinstance(b, ast.Tuple) and len(a.items) == len(b.items):
        pairs = [_pair_names(x, y) for x, y in zip(a.items, b.items)]
        return (
            ast.Tuple(tuple(x for x, _ in pairs), a.span),
            ast.Tuple(tuple(y for _, y in pairs), b.span),
        )
    return a, b


def _split_on_stem(ref: ast.Ref, other: ast.Ref) -> ast.Ref:
    """`hl` against `h1`: the plain name is the other's stem followed by an index."""
    if ref.index is not None or other.index is None:
        return ref
    rest = ref.stem[len(other.stem) :]
    if ref.stem.startswith(other.stem) and rest[:1].isalpha():
        return ast.Ref(other.stem, name_ref(rest, ref.span), ref.span)
    return ref
