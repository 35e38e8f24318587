"""What a layer kind is: its parameters, its formula and its output shape.

A layer kind is one decorated function in a module of this package:

    @layer("dense", aliases=("Dense", "Linear"), params=(Size("units"), Flag("bias", True)))
    def dense(call, shape):
        inputs, units = shape[-1], call["units"]
        return Output(shape[:-1] + (units,), Count(weights=inputs * units, ...))

Arguments are matched to parameters here, once, with the same rules and messages for
every kind: positional in order, keywords by name or alias, defaults, did-you-mean.

A layer answers one question: given its input shape and its arguments, what are its
count and its output shape. It never runs other layers: a kind that holds chains
(residual, parallel, moe) receives their output shapes, counted before it is called.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping
from importlib import import_module
from typing import Any

from .. import ast
from ..algebra import NotDivisible, is_integer, is_number
from ..errors import SymparamError, did_you_mean
from ..sizes import Scope, evaluate
from ..values import show

REQUIRED = object()
Shape = tuple


# ------------------------------------------------------------------ results of a layer


# Records are collections.namedtuple: typing.NamedTuple compiles each field's annotation
# at import, and a concrete count's start-up has no time for that.


class Count(
    namedtuple(
        "Count",
        "weights biases non_trainable factors note non_trainable_note matrix tie adapters "
        "adapter_note frozen",
        defaults=(0, 0, 0, (), "", "", (), None, 0, "", None),
    )
):
    """One layer's parameters: `weights`, `biases`, `non_trainable`.

    `factors` multiply to `weights` and show the working: (("inputs", 2), ("outputs",
    3)) reads "2 inputs × 3 outputs = 6 weights"; a factor (label, value, parts) has
    parts that multiply to value, as 64 × 7 × 7 for a conv's outputs. `note` says how
    the weights are made up when no product says it, `non_trainable_note` what the
    non-trainable ones are. `matrix` is the weight matrix's shape (for tie=), and `tie`
    the named layer whose matrix this one shares (tie=NAME), counted there.

    `adapters` are the LoRA weights among `weights` (`adapter_note` says how they arise):
    they stay trainable when the layer is frozen. `frozen` is None, or for a frozen layer
    the (weights, biases) it has but does not train: those count as non-trainable, as
    Keras counts a layer with trainable=False, so `weights` and `biases` are always the
    trained ones."""

    __slots__ = ()

    @property
    def trainable(self):
        return self.weights + self.biases

    @property
    def params(self):
        return self.weights + self.biases + self.non_trainable

    def frozen_count(self) -> "Count":
        """This count with every parameter but the adapters non-trainable."""
        weights = self.weights - self.adapters
        if weights == 0 and self.biases == 0:
            return self
        held_weights, held_biases = self.frozen or (0, 0)
        return self._replace(
            weights=self.adapters, biases=0,
            non_trainable=self.non_trainable + weights + self.biases,
            frozen=(held_weights + weights, held_biases + self.biases),
        )

    def adapted_frozen(self, adapted) -> "Count":
        """Keras' LoRA (lora_rank=r): the adapted kernels, `adapted` weights, are not
        trained; the adapters and the biases are."""
        held_weights, held_biases = self.frozen or (0, 0)
        return self._replace(
            weights=self.weights - adapted, non_trainable=self.non_trainable + adapted,
            frozen=(held_weights + adapted, held_biases),
        )

    def thawed(self) -> "Count":
        """The count as it would be trained: for showing how a frozen one arises."""
        if self.frozen is None:
            return self
        weights, biases = self.frozen
        return self._replace(
            weights=self.weights + weights, biases=self.biases + biases,
            non_trainable=self.non_trainable - weights - biases, frozen=None,
        )


class Output(namedtuple("Output", "shape count times", defaults=(Count(), None))):
    """What a layer gives: its output `shape`, its own `count`, and for a kind holding
    chains, how many `times` they count (moe's experts; None: once)."""

    __slots__ = ()


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
        truth = truth_value(value)
        if truth is None:
            raise call.error_at(f"{self.name} must be true or false", value)
        return truth


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
        word = written_word(value)
        if word not in self.choices:
            word = word or name_as_written(value, call)
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
        word = written_word(value)
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
    """A chain of layers as an argument: residual(dense(4*d) -> relu -> dense(d)).
    The chain is counted before the layer; the layer sees its output shape. `reads`
    gives the shape the chain is fed from the layer's input (the input itself, or for
    time_distributed one step of it)."""

    def __init__(self, name: str, default: Any = REQUIRED, reads=None, **options):
        super().__init__(name, default, **options)
        self.reads = reads or (lambda shape: shape)

    def convert(self, value, call):
        raise AssertionError("stages are counted before their layer, not converted")


class Projections(Param):
    """Which of a layer's projections something applies to: `true` (all), `false`
    (none), one name or a tuple of them, `bias=(q, k, v)`. The names are words, never
    sizes, even where a size of that name exists."""

    def __init__(self, name: str, default: Any = REQUIRED, choices: tuple[str, ...] = (), **options):
        super().__init__(name, default, **options)
        self.choices = choices

    def convert(self, value, call):
        truth = truth_value(value)
        if truth is not None:
            return self.choices if truth else ()
        items = value.items if isinstance(value, ast.Tuple) else (value,)
        names = []
        for item in items:
            name = written_word(item)
            if name not in self.choices:
                name = name or name_as_written(item, call)
                listing = ", ".join(self.choices)
                what = f"'{name}'" if name else "this"  # a tuple, or a value without a span
                raise call.error_at(
                    f"{self.name} names projections among {listing} (or is true or false); "
                    f"{what} is not one" + (did_you_mean(name, self.choices) if name else ""),
                    item,
                )
            if name in names:
                raise call.error_at(f"{self.name} names '{name}' twice", item)
            names.append(name)
        return tuple(names)


class Context(Param):
    """The output of a stage named elsewhere with `as NAME` (an encoder's memory, for
    cross-attention): its value is that stage's output shape, found by the counting."""

    def convert(self, value, call):
        raise AssertionError("a context is looked up by the counting, not converted")


class Word(Param):
    """A name, such as the layer a tie= refers to."""

    def convert(self, value, call):
        if not isinstance(value, ast.Ref):
            raise call.error_at(f"{self.name} must be a name", value)
        return value.span.text(call.scope.source) if value.span.line else value.stem


class ByConvention(namedtuple("ByConvention", "keras torch")):
    """A default that differs between Keras and PyTorch."""

    __slots__ = ()

    def get(self, convention: str):
        return self.keras if convention == "keras" else self.torch


def name_as_written(value, call) -> str | None:
    """What stands where a word should, as written: l2 (read as l indexed 2), 3."""
    span = getattr(value, "span", None)
    return span.text(call.scope.source) if span and span.line else None


# lora=r on a layer with a weight matrix (dense, attention): PEFT's LoRA adapters.
LORA = Size("lora", None, aliases=("lora_rank",), keyword_only=True)


LORA_WORDS = ("lora", "lora_rank", "lora_targets")


def lora_adapters(call, matrices) -> tuple:
    """The rank-r adapters A (inputs × r) and B (r × outputs) of each adapted matrix,
    (inputs, outputs); and the working, 'r=8: 8 × (4096 + 4096) on each of 2'."""
    rank = call["lora"]
    if rank is None or not matrices:
        return 0, ""
    total = sum((rank * (inputs + outputs) for inputs, outputs in matrices), 0)
    parts = " + ".join(f"{show(rank)} × ({show(i)} + {show(o)})" for i, o in matrices)
    return total, f"rank {show(rank)}: {parts}"


def keras_lora(call, count: Count, matrices) -> Count:
    """Keras freezes a kernel it adds LoRA to (Dense(lora_rank=r), EinsumDense); PyTorch
    (PEFT) leaves that to the freezing of the model: frozen(...) or trainable=false."""
    if call.convention != "keras" or count.adapters == 0:
        return count
    return count.adapted_frozen(sum((inputs * outputs for inputs, outputs in matrices), 0))


def written(call, name: str):
    """The argument written for parameter `name`, by position or by keyword (any alias),
    or None when it is left to its default: where an error about it points."""
    kind, node = call.kind, call.node
    for param, value in zip(kind.positional, node.args):
        if param.name == name:
            return value
    names = {name, *kind.by_name[name].aliases}
    return next((keyword.value for keyword in node.keywords if keyword.name in names), None)


def truth_value(value) -> bool | None:
    """true or false as written (True and False too); None for anything else."""
    return {"true": True, "True": True, "false": False, "False": False}.get(written_word(value))


def written_word(value) -> str | None:
    if isinstance(value, ast.Text):
        return value.value
    if isinstance(value, ast.Ref) and value.index is None:
        return value.stem
    return None


# ------------------------------------------------------------------ kinds and registry


class LayerKind(
    namedtuple(
        "LayerKind",
        "name params apply aliases doc varargs positional by_name chains contexts hint",
        defaults=((), "", None, (), None, (), (), ""),
    )
):
    """A layer kind: its `name`, `params`, and `apply(call, shape) -> Output`; its
    `aliases` and `doc`; `varargs`, the parameter that takes any number of positional
    values (in(20, 20, 3)). Worked out once at registration, since matching arguments is
    on every layer's path: `positional` (the parameters that may be given by position),
    `by_name` (every parameter by its name and aliases) and `chains` (the parameters
    that take chains of layers). `hint` follows a message about its arguments: what a
    writer most likely meant (Keras' Attention(8) is multi-head attention(8))."""

    __slots__ = ()


def _kind(name, params, apply, aliases, doc, varargs, hint="") -> LayerKind:
    chains = tuple(p for p in (*params, varargs) if isinstance(p, Stage))
    return LayerKind(
        name, params, apply, aliases, doc, varargs,
        positional=tuple(p for p in params if not p.keyword_only),
        by_name={key: p for p in params for key in (p.name, *p.aliases)},
        chains=chains,
        contexts=tuple(p for p in params if isinstance(p, Context)),
        hint=hint,
    )


class _Registry(Mapping):
    """Every layer kind by its canonical name. A count imports only the modules of the
    kinds it names (index.py says which module holds which name); reading the whole
    registry imports them all, once."""

    def __init__(self):
        self.kinds: dict[str, LayerKind] = {}
        self.complete = False

    def _all(self) -> dict[str, LayerKind]:
        if not self.complete:
            for module in dict.fromkeys(_index().MODULES.values()):
                import_module(f"{__package__}.{module}")
            self.complete = True
        return self.kinds

    def __getitem__(self, name):
        return self._all()[name]

    def __setitem__(self, name, kind):  # for tests that swap a kind out (monkeypatch)
        self._all()[name] = kind

    def __delitem__(self, name):
        del self._all()[name]

    def __iter__(self):
        return iter(self._all())

    def __len__(self):
        return len(self._all())


REGISTRY = _Registry()
_BY_NAME: dict[str, LayerKind] = {}


def layer(name: str, *, params=(), aliases=(), doc: str = "", varargs: Param | None = None, hint: str = ""):
    """Register a layer kind under its canonical name and its aliases."""

    def register(apply):
        text = doc or (apply.__doc__ or "").strip()
        kind = _kind(name, tuple(params), apply, tuple(aliases), text, varargs, hint)
        for key in (name, *aliases):
            if key in _BY_NAME:
                raise ValueError(f"layer name {key!r} registered twice")
            _BY_NAME[key] = kind
        REGISTRY.kinds[name] = kind
        return apply

    return register


def lookup(name: str) -> LayerKind | None:
    kind = _BY_NAME.get(name)
    module = _index().MODULES.get(name) if kind is None else None
    if module is not None:
        import_module(f"{__package__}.{module}")
        kind = _BY_NAME.get(name)
    return kind


def all_names() -> list[str]:
    """Every layer name and alias, without importing the kinds."""
    return list(_index().MODULES)


def _index():
    from . import index

    return index


# ------------------------------------------------------------------ one call of a kind


def label(node: ast.Call, source: str) -> str:
    """The layer as written, to name it in messages: dense(0), conv2d(...)."""
    text = node.span.text(source) if node.span.line else ""
    if not text or len(text) > 40 or "\n" in text:
        text = f"{node.name}(...)" if node.args or node.keywords else node.name
    return text


def layer_error(node: ast.Call, source: str, message: str, span: ast.Span | None = None):
    return SymparamError(f"{label(node, source)}: {message}", span or node.span, source)


def match_arguments(kind: LayerKind, node: ast.Call, source: str) -> dict[str, Any]:
    """The written arguments by parameter name: positional in order, keywords by name
    or alias; a kind with varargs gets every positional value, as a tuple, there."""
    params, varargs = kind.params, kind.varargs
    positional = () if varargs else node.args
    by_position = kind.positional
    if len(positional) > len(by_position):
        extra = node.args[len(by_position)]
        expected = ", ".join(p.name for p in by_position) or "no arguments"
        raise layer_error(
            node, source,
            f"takes at most {len(by_position)} positional argument"
            f"{'s' if len(by_position) != 1 else ''} ({expected}), got {len(node.args)}"
            + (f"; {kind.hint}" if kind.hint else ""),
            getattr(extra, "span", None),
        )
    given: dict[str, Any] = {p.name: value for p, value in zip(by_position, positional)}
    if not node.keywords:
        if varargs is not None:
            given[varargs.name] = node.args
        return given
    by_name = kind.by_name
    for keyword in node.keywords:
        param = by_name.get(keyword.name)
        if param is None and keyword.name in LORA_WORDS:
            raise layer_error(
                node, source,
                f"{keyword.name}= adds LoRA adapters to the weight matrices of dense and "
                f"attention layers; {kind.name} takes none",
                keyword.span,
            )
        if param is None:
            known = [p.name for p in params]
            listing = f" (it takes {', '.join(known)})" if known else " (it takes none)"
            raise layer_error(
                node, source,
                f"unknown argument '{keyword.name}'" + (did_you_mean(keyword.name, by_name) or listing),
                keyword.span,
            )
        if param.name in given:
            raise layer_error(node, source, f"argument '{param.name}' given twice", keyword.span)
        given[param.name] = keyword.value
    if varargs is not None:
        given[varargs.name] = node.args
    return given


class LayerCall:
    """A layer kind applied to written arguments, in one arithmetic and convention.

    `call["units"]` is the parameter's value, checked and converted; a chain argument's
    value is the output shape of that chain (a tuple of them for varargs)."""

    __slots__ = ("kind", "node", "algebra", "scope", "convention", "branches", "chains", "values")

    def __init__(
        self, kind: LayerKind, node: ast.Call, algebra, scope: Scope, convention: str,
        branches: dict[str, Any] | None = None, chains: dict[str, list] | None = None,
    ):
        self.kind = kind
        self.node = node
        self.algebra = algebra
        self.scope = scope
        self.convention = convention
        self.branches = branches or {}
        self.chains = chains or {}  # a chain argument's counted nodes, one list per chain
        self.values = self._bind()

    def __getitem__(self, name: str):
        return self.values[name]

    def same_shape(self, a, b) -> bool:
        return self.algebra.same_shape(a, b)

    def exact_divide(self, value, divisor, message: str):
        """value / divisor, which must be whole where both are known; `message` says why
        it must be (e.g. "groups=3 does not divide the 16 filters")."""
        try:
            return self.algebra.exact_divide(value, divisor)
        except NotDivisible:
            raise self.error(message) from None

    def check_divides(self, divisor, value, message: str) -> None:
        if self.algebra.divides(divisor, value) is False:
            raise self.error(message)

    def _given(self, name: str):
        return next((kw.value for kw in self.node.keywords if kw.name == name), None)

    @property
    def label(self) -> str:
        return label(self.node, self.scope.source)

    # errors that name the layer
    def error(self, message: str, span: ast.Span | None = None) -> SymparamError:
        return layer_error(self.node, self.scope.source, message, span)

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
        kind, branches = self.kind, self.branches
        given = match_arguments(kind, self.node, self.scope.source)
        values = {}
        for param in kind.params:  # in the kind's order, so messages come in that order
            name = param.name
            value = given.get(name, REQUIRED)
            if value is not REQUIRED:
                # A chain was counted before this layer: its value is its output shape.
                values[name] = branches[name] if name in branches else param.convert(value, self)
            elif param.default is REQUIRED:
                raise self.error(f"missing {param.describe or name} (argument '{name}')")
            elif type(param.default) is ByConvention:
                values[name] = param.default.get(self.convention)
            else:
                values[name] = param.default
        varargs = kind.varargs
        if isinstance(varargs, Stage):
            values[varargs.name] = branches.get(varargs.name, ())
        elif varargs is not None:
            values[varargs.name] = tuple(varargs.convert(value, self) for value in given[varargs.name])
        return values


def unknown_layer(node: ast.Call, source: str, other_names=()) -> SymparamError:
    return SymparamError(
        f"unknown layer '{node.name}'" + did_you_mean(node.name, [*all_names(), *other_names]),
        node.name_span,
        source,
    )
