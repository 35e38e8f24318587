"""What a layer kind is: its parameters, its formula and its output shape.

A layer kind is one decorated function in a module of this package:

    @layer("dense", aliases=("Dense", "Linear"), params=(Size("units"), Flag("bias", True)))
    def dense(call, shape):
        inputs, units = shape[-1], call["units"]
        return Output(shape[:-1] + (units,), Count(weights=inputs * units, ...))

Arguments are matched to parameters here, once, with the same rules and messages for
every kind: positional in order, keywords by name or alias, defaults, did-you-mean.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

from .. import ast
from ..errors import SymparamError, did_you_mean
from ..sizes import Scope, evaluate, is_integer, is_number, show

REQUIRED = object()
Shape = tuple


# ------------------------------------------------------------------ results of a layer


class Count(NamedTuple):
    """One layer's parameters. `factors` multiply to `weights` and show the working:
    (("inputs", 2), ("outputs", 3)) reads "2 inputs × 3 outputs = 6 weights"."""

    weights: Any = 0
    biases: Any = 0
    non_trainable: Any = 0
    # (label, value[, parts]): parts multiply to value, as 64 × 7 × 7 for a conv's outputs
    factors: tuple[tuple, ...] = ()
    note: str = ""  # how the weights are made up, when no product says it
    non_trainable_note: str = ""  # what the non-trainable ones are
    matrix: tuple = ()  # the weight matrix's shape, for tie= (embedding, dense)

    @property
    def trainable(self):
        return self.weights + self.biases

    @property
    def params(self):
        return self.weights + self.biases + self.non_trainable


class Group(NamedTuple):
    """Something that encloses layers: a repetition (`* count`), a definition's call,
    or a layer holding chains (residual, moe). `count` multiplies what it encloses
    (None: once; moe's experts: their number)."""

    kind: str  # "repeat", "call" or "layer"
    source: str
    span: ast.Span
    count: Any = None


class Output(NamedTuple):
    shape: Shape
    count: Count = Count()


# ------------------------------------------------------------------ parameters


class Param:
    """A parameter of a layer kind: its name, default and keyword aliases. Each kind of
    parameter (below) converts a written value, checking it."""

    def __init__(
        self, name: str, default: Any = REQUIRED, aliases: tuple[str, ...] = (),
        describe: str = "", keyword_only: bool = False,
    ):
        self.name = name
        self.default = default
        self.aliases = aliases
        self.describe = describe  # words for "missing ..." messages
        self.keyword_only = keyword_only  # activation=, tie=: never by position

    def convert(self, value, call: "LayerCall"):
        raise NotImplementedError


class Size(Param):
    """A positive whole number, concrete or symbolic."""

    def convert(self, value, call):
        return call.size(self.name, value)


class Index(Param):
    """A whole number from 0: a position."""

    def convert(self, value, call):
        return call.size(self.name, value, 0)


class Flag(Param):
    """true or false."""

    def convert(self, value, call):
        word = _word(value)
        if word in ("true", "True"):
            return True
        if word in ("false", "False"):
            return False
        raise call.error_at(f"{self.name} must be true or false", value)


class Rate(Param):
    """An exact number from 0 up to (not including) 1, e.g. a dropout rate."""

    def convert(self, value, call):
        number = call.number(self.name, value)
        if is_number(number) and not 0 <= number < 1:
            raise call.error_at(f"{self.name} must be at least 0 and below 1, got {show(number)}", value)
        return number


class Real(Param):
    """Any exact number (a slope, an epsilon): it changes no count."""

    def convert(self, value, call):
        return call.number(self.name, value)


class Choice(Param):
    """One word from a fixed set, written bare or quoted: padding=same, padding="same"."""

    def __init__(self, name: str, default: Any = REQUIRED, choices: tuple[str, ...] = (), **options):
        super().__init__(name, default, **options)
        self.choices = choices

    def convert(self, value, call):
        word = _word(value)
        if word not in self.choices:
            hint = did_you_mean(word, self.choices) if word else ""
            listing = ", ".join(self.choices)
            if len(self.choices) > 8:  # a long list helps less than the closest name
                listing = ", ".join(self.choices[:6]) + ", ... (see the README)"
            raise call.error_at(
                f"{self.name} must be one of {listing}" + (f", not '{word}'" if word else "") + hint,
                value,
            )
        return word


class Sizes(Param):
    """One positive size per spatial axis: `3` means (3, 3) for a 2-d layer, or `(3, 5)`."""

    def __init__(self, name: str, default: Any = REQUIRED, rank: int = 1, minimum: int = 1, **options):
        super().__init__(name, default, **options)
        self.rank, self.minimum = rank, minimum

    def convert(self, value, call):
        items = value.items if isinstance(value, ast.Tuple) else (value,) * self.rank
        if len(items) != self.rank:
            raise call.error_at(
                f"{self.name} needs {self.rank} value{'s' if self.rank != 1 else ''} "
                f"(one per axis), got {len(items)}",
                value,
            )
        return tuple(call.size(self.name, item, self.minimum) for item in items)


class Padding(Param):
    """`valid`, `same` (and `causal` for 1-d), or explicit zeros: one number for every
    axis, one per axis, or a (before, after) pair per axis."""

    def __init__(
        self, name: str, default: Any = REQUIRED, rank: int = 1,
        words: tuple[str, ...] = ("valid", "same"), **options,
    ):
        super().__init__(name, default, **options)
        self.rank, self.words = rank, words

    def convert(self, value, call):
        word = _word(value)
        if word is not None:
            if word not in self.words:
                raise call.error_at(
                    f"{self.name} must be {', '.join(self.words)} or a number of zeros, "
                    f"not '{word}'" + did_you_mean(word, self.words),
                    value,
                )
            return word
        items = value.items if isinstance(value, ast.Tuple) else (value,) * self.rank
        if self.rank == 1 and len(items) == 2 and not any(isinstance(i, ast.Tuple) for i in items):
            items = (value,)  # one axis: (2, 5) is its (before, after) pair
        if len(items) != self.rank:
            raise call.error_at(f"{self.name} needs one value per axis ({self.rank})", value)
        return tuple(self._pair(item, call) for item in items)

    def _pair(self, item, call):
        if isinstance(item, ast.Tuple):
            if len(item.items) != 2:
                raise call.error_at(f"{self.name}: a (before, after) pair has two values", item)
            return tuple(call.size(self.name, part, 0) for part in item.items)
        amount = call.size(self.name, item, 0)
        return (amount, amount)


class Stage(Param):
    """A chain of layers as an argument: residual(dense(4*d) -> relu -> dense(d))."""

    def convert(self, value, call):
        from ..syntax import to_stage  # the same rules as a chain at the top

        if isinstance(value, (ast.Text, ast.Tuple)):
            raise call.error_at(f"{self.name} must be a layer or a chain of layers", value)
        return to_stage(value, call.scope.source)


class Word(Param):
    """A name, such as the layer a tie= refers to."""

    def convert(self, value, call):
        if not isinstance(value, ast.Ref):
            raise call.error_at(f"{self.name} must be a name", value)
        return value.span.text(call.scope.source) if value.span.line else value.stem


class ByConvention(NamedTuple):
    """A default that differs between Keras and PyTorch."""

    keras: Any
    torch: Any

    def get(self, convention: str):
        return self.keras if convention == "keras" else self.torch


def _word(value) -> str | None:
    if isinstance(value, ast.Text):
        return value.value
    if isinstance(value, ast.Ref) and value.index is None:
        return value.stem
    return None


# ------------------------------------------------------------------ kinds and registry


class LayerKind(NamedTuple):
    name: str
    params: tuple[Param, ...]
    apply: Callable[["LayerCall", Shape], Output]
    aliases: tuple[str, ...] = ()
    doc: str = ""
    varargs: Param | None = None  # takes any number of positional values, e.g. in(20, 20, 3)


REGISTRY: dict[str, LayerKind] = {}
_BY_NAME: dict[str, LayerKind] = {}


def layer(name: str, *, params=(), aliases=(), doc: str = "", varargs: Param | None = None):
    """Register a layer kind under its canonical name and its aliases."""

    def register(apply):
        text = doc or (apply.__doc__ or "").strip()
        kind = LayerKind(name, tuple(params), apply, tuple(aliases), text, varargs)
        for key in (name, *aliases):
            if key in _BY_NAME:
                raise ValueError(f"layer name {key!r} registered twice")
            _BY_NAME[key] = kind
        REGISTRY[name] = kind
        return apply

    return register


def lookup(name: str) -> LayerKind | None:
    return _BY_NAME.get(name)


def all_names() -> list[str]:
    return list(_BY_NAME)


# ------------------------------------------------------------------ one call of a kind


class LayerCall:
    """A layer kind applied to written arguments, in one arithmetic and convention.

    `call["units"]` is the parameter's value, checked and converted."""

    def __init__(
        self, kind: LayerKind, node: ast.Call, algebra, scope: Scope, convention: str,
        context=None, groups: tuple = (),
    ):
        self.kind = kind
        self.node = node
        self.algebra = algebra
        self.scope = scope
        self.convention = convention
        self.context = context  # the walk: runs inner chains, knows named layers
        self.groups = groups
        self.inner_totals: list = []  # what inner chains (residual(...), moe(...)) add
        self.values = self._bind()

    def __getitem__(self, name: str):
        return self.values[name]

    # structure: layers holding chains of layers
    def run(self, stage, shape, times=None):
        """Count an inner chain (its rows join the result) and give its output shape.
        With `times`, the chain counts that many times, as moe's experts do."""
        # Inner layers are grouped under this one (so a summary can fold them into it).
        text = self.node.span.text(self.scope.source) or self.label
        groups = self.groups + (Group("layer", text, self.node.span, times),)
        out, totals = self.context.stage(stage, shape, groups)
        total = self.algebra.add_all(totals)
        self.inner_totals.append(total if times is None else times * total)
        return out

    def same_shape(self, a, b) -> bool:
        return len(a) == len(b) and all(self.algebra.equal(x, y) for x, y in zip(a, b))

    def tie(self, name: str, matrix: tuple):
        """Share the weight matrix of the layer named `name` (`... as name`); its shape
        must be `matrix` or its transpose. The shared weights are counted there, once."""
        named = self.context.named_matrix(name, self.values_span("tie"))
        if named is None:
            raise self.error_at(f"the layer '{name}' has no weight matrix to share", self._given("tie"))
        if not (self.same_shape(named, matrix) or self.same_shape(named, matrix[::-1])):
            raise self.error_at(
                f"cannot tie to '{name}': its weights are {_matrix(named)}, "
                f"this layer's would be {_matrix(matrix)}",
                self._given("tie"),
            )

    def _given(self, name: str):
        return next((kw.value for kw in self.node.keywords if kw.name == name), None)

    def values_span(self, name: str) -> ast.Span:
        value = self._given(name)
        return getattr(value, "span", None) or self.node.span

    @property
    def label(self) -> str:
        """The layer as written, to name it in messages: dense(0), conv2d(...)."""
        text = self.node.span.text(self.scope.source) if self.node.span.line else ""
        if not text or len(text) > 40 or "\n" in text:
            text = f"{self.node.name}(...)" if self.node.args or self.node.keywords else self.node.name
        return text

    # errors that name the layer
    def error(self, message: str, span: ast.Span | None = None) -> SymparamError:
        return SymparamError(f"{self.label}: {message}", span or self.node.span, self.scope.source)

    def error_at(self, message: str, value) -> SymparamError:
        return self.error(message, getattr(value, "span", None) or self.node.span)

    # conversions shared by the parameter kinds
    def size(self, name: str, value, minimum: int = 1):
        number = self.number(name, value)
        self.check_size(name, number, value, minimum)
        return number

    def check_size(self, name: str, number, node=None, minimum: int = 1):
        """A concrete size must be a whole number >= minimum (1, or 0 for paddings)."""
        what = "a positive whole number" if minimum == 1 else f"a whole number >= {minimum}"
        if is_number(number):
            if not is_integer(number) or number < minimum:
                raise self.error_at(f"{name} must be {what}, got {show(number)}", node)
        elif minimum == 1 and getattr(number, "is_positive", None) is False:
            raise self.error_at(f"{name} must be positive, got {show(number)}", node)
        elif getattr(number, "is_negative", None) is True:
            raise self.error_at(f"{name} must not be negative, got {show(number)}", node)

    def number(self, name: str, value):
        if isinstance(value, (ast.Text, ast.Tuple)):
            raise self.error_at(f"{name} must be a number", value)
        return evaluate(value, self.algebra, self.scope)

    def _bind(self) -> dict[str, Any]:
        params, varargs = self.kind.params, self.kind.varargs
        node = self.node
        # A kind with varargs takes all positional values there, its others by keyword.
        positional = () if varargs else node.args
        by_position = [p for p in params if not p.keyword_only]
        if len(positional) > len(by_position):
            extra = node.args[len(by_position)]
            expected = ", ".join(p.name for p in by_position) or "no arguments"
            raise self.error_at(
                f"takes at most {len(by_position)} positional argument"
                f"{'s' if len(by_position) != 1 else ''} ({expected}), got {len(node.args)}",
                extra,
            )
        given: dict[str, Any] = {p.name: value for p, value in zip(by_position, positional)}
        by_name = {key: p for p in params for key in (p.name, *p.aliases)}
        for keyword in node.keywords:
            param = by_name.get(keyword.name)
            if param is None:
                known = [p.name for p in params]
                listing = f" (it takes {', '.join(known)})" if known else " (it takes none)"
                raise self.error(
                    f"unknown argument '{keyword.name}'"
                    + (did_you_mean(keyword.name, by_name) or listing),
                    keyword.span,
                )
            if param.name in given:
                raise self.error(f"argument '{param.name}' given twice", keyword.span)
            given[param.name] = keyword.value
        values = {}
        for param in params:
            if param.name in given:
                values[param.name] = param.convert(given[param.name], self)
            elif param.default is REQUIRED:
                what = param.describe or param.name
                raise self.error(f"missing {what} (argument '{param.name}')")
            elif isinstance(param.default, ByConvention):
                values[param.name] = param.default.get(self.convention)
            else:
                values[param.name] = param.default
        if varargs is not None:
            values[varargs.name] = tuple(
                varargs.convert(value, self) for value in node.args
            )
        return values


def _matrix(shape) -> str:
    return " × ".join(str(extent) for extent in shape)


def apply_layer(
    node: ast.Call, shape: Shape, algebra, scope: Scope, convention: str,
    context=None, groups: tuple = (), other_names=(),
):
    """Run one layer: its kind, its checked arguments, its count and output shape."""
    kind = lookup(node.name)
    if kind is None:
        raise SymparamError(
            f"unknown layer '{node.name}'" + did_you_mean(node.name, [*all_names(), *other_names]),
            node.name_span,
            scope.source,
        )
    call = LayerCall(kind, node, algebra, scope, convention, context, groups)
    return kind, call, kind.apply(call, shape)
