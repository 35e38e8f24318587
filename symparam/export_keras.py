"""`symparam export --to keras`: a model written in symparam's language as a Keras 3
functional model to run and train, from its result tree.

The tree is counted with the sizes left symbolic, so that they become the arguments of
the function that builds the model (the values given with --set as their defaults): a
repetition `block(d, H) * L` becomes a loop calling a function written once,
`for _ in range(L): x = block(x, d, H)`, an ellipsis `dense(h1) -> ... -> dense(hl)` a
loop over i. Each layer is one line, `x = layers.Dense(4 * d)(x)`, under a comment
quoting it; residuals are layers.Add, branches a merge layer, several inputs several
keras.Input, a named stage a variable that later layers read. Tensors are channels
last, as Keras' layers and symparam's shapes both are. The helpers keras.layers lacks
(attention with grouped heads and per-projection biases, tied layers, learnable
tensors, mixtures) are copied from frameworks/keras_runtime.py, so the module needs
nothing but Keras.
"""

from __future__ import annotations

import ast as python_ast
import builtins
import functools
import keyword
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SymparamError
from .export import (
    WIDTH,
    header,
    inferred_line,
    matching_open,
    model_docstring,
    plain_size,
    reads_ids,
    top_level_items,
    tuple_text,
    without_unread,
)
from .export_keras_layers import CELLS, LAYERS, Built, cell_constructor, keras_axis, tied_dense
from .export_layers import Unsupported
from .pycode import Code, python_name
from .results import Group, Layer
from .values import one_line

RUNTIME = Path(__file__).parent / "frameworks" / "keras_runtime.py"

# Names of the module a size, stage or function must not take: a size named `layers`
# would hide the module inside the function, one named `range` its loops, `freeze` a
# helper (their names are added from the runtime's file).
MODULE_NAMES = frozenset({"keras", "layers", "inputs"}) | frozenset(dir(builtins))


@functools.cache
def _module_names() -> frozenset:
    return MODULE_NAMES | frozenset(runtime_definitions())


def keras_name(name: str) -> str:
    """A name as a Python identifier clear of the module's own: `layers` -> layers_."""
    name = python_name(name)
    return f"{name}_" if name in _module_names() else name


class KerasCode(Code):
    """Code whose names keep clear of the module's (keras, layers, range, ...)."""

    def use(self, name: str) -> str:
        return super().use(keras_name(name))

    def bind(self, symbol) -> None:
        self.bound.append(keras_name(str(symbol)))

    def unbind(self, symbol) -> None:
        self.bound.remove(keras_name(str(symbol)))


# Kinds holding a chain that are one Keras layer wrapping another (or cells).
WRAPPERS = ("recurrent", "bidirectional", "spectral_norm")


# ------------------------------------------------------------------ the entry


def to_keras(network, *, name: str | None = None, path=None) -> str:
    """The source of a module whose function builds a Keras functional model for a
    counted Network: the sizes it was given become the function's defaults, sizes not
    given arguments without one. Counted under Keras' convention; `name` the
    function's (else from `path`'s stem)."""
    Network = type(network)  # counted again by its own class: network may import this module
    concrete = network if network.convention == "keras" else Network.count(network.syntax, network.sizes, "keras")
    tree, names, needed, formula, given, inferred = _general(network, concrete)
    defaults = {keras_name(key): plain_size(value) for key, value in given.items()}
    inferred = {keras_name(key): (keras_name(stem), c0, c1) for key, (stem, c0, c1) in inferred.items()}
    names = {keras_name(name) for name in names} | set(defaults) | set(inferred)
    needed = {keras_name(name) for name in needed} | set(defaults)
    model_name = keras_name(name) if name else _function_name(path)
    exporter = KerasExporter(tree, defaults, inferred, names, needed, model_name,
                             concrete if concrete.value is not None else None, network.expression, formula)
    return exporter.write(header(network, model_name, "keras", given, path))


def _general(network, concrete) -> tuple:
    """The tree counted with every size a name, and what the function's arguments need:
    (tree, every size's name, the names the count reads, the formula, the sizes given,
    the lengths of lists given: l = len(h) - 1). When the sizes cannot stay names (given
    one entry at a time), the tree counted with them, and no arguments."""
    from .sizes import Sizes, length_relations

    given = network.sizes
    try:
        if given.entries:  # h_1=16 alone: no argument to give it to
            raise SymparamError("sizes given one entry at a time")
        general = type(network).count(network.syntax, Sizes(), "keras")
        formula = general.formula() if general.value is None else None
        values = {**given.scalars, **{stem: tuple(values) for stem, values in given.sequences.items()}}
        return (general.tree, set(general.symbols), general.free_names(), formula, values,
                length_relations(network.syntax, given))
    except SymparamError:  # counted only with the sizes given: the function takes no arguments
        return concrete.tree, set(concrete.symbols), concrete.free_names(), None, {}, {}


def _function_name(path) -> str:
    """The model function's name: the file's stem in snake case (gpt2, vit_b16)."""
    if not path:
        return "build_model"
    name = "_".join(re.findall(r"[A-Za-z0-9]+", Path(path).stem)).lower()
    if not name:
        return "build_model"
    return keras_name(name if not name[0].isdigit() else f"model_{name}")


# ------------------------------------------------------------------ one function


@dataclass
class FunctionWriter:
    """One Python function being written: a repeated body, an expert, or the model's."""

    name: str
    code: KerasCode
    variables: set[str]  # taken: the sizes' names, and the variables in use
    lines: list[str] = field(default_factory=list)
    depth: int = 0  # loops the next line is inside
    stages: dict[str, str] = field(default_factory=dict)  # `as NAME` -> its variable
    needs: dict[str, str] = field(default_factory=dict)  # stages read from outside -> parameter
    kept: dict[str, int] = field(default_factory=dict)  # `NAME = ...` lines, by variable
    sizes: list[str] = field(default_factory=list)  # its parameters after x and the stages

    def line(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)

    @contextmanager
    def indented(self):
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    def variable(self, base: str) -> str:
        name, n = base, 1
        while name in self.variables:
            n += 1
            name = f"{base}{n}"
        self.variables.add(name)
        return name

    def release(self, *names: str) -> None:
        """Variables no line reads again (a residual's branch once added): free to reuse.
        Never the input a branch gives back as it is (identity): the caller's to keep."""
        for name in names:
            if name not in self.stages.values() and name not in self.needs.values():
                self.variables.discard(name)

    def stage(self, name: str) -> str:
        """The variable of the stage `name`: its own, or a parameter of the function."""
        if name in self.stages:
            return self.stages[name]
        if name not in self.needs:
            self.needs[name] = self.variable(keras_name(name))
        return self.needs[name]


# ------------------------------------------------------------------ the writer


class KerasExporter:
    def __init__(self, tree: Group, sizes: dict, inferred: dict, names: set, needed: set, model_name: str,
                 concrete=None, source: str = "", formula: str | None = None):
        self.tree = tree
        self.source = source
        self.formula = formula  # the count in the sizes, when some are names
        self.sizes = sizes  # name -> default value (int or tuple of ints)
        self.inferred = inferred  # name -> (stem, c0, c1): l = (len(h) - 1 - c0) / c1
        self.names = names  # every size's name: no variable or function may take one
        self.needed = needed  # the sizes the count reads, or given: an input's extents in them are written
        self.model_name = model_name
        self.concrete = concrete  # the Network counted with the sizes given, or None
        self.functions: list[tuple[str, str, str]] = []  # (name, key, text)
        self.helpers: set[str] = set()
        self.tie_names = {node.count.tie for node, _ in tree.walk()
                          if isinstance(node, Layer) and node.count.tie is not None}
        self.tie_stage: list[str] = []  # the named stages being written whose matrix a tie= shares
        self.tied: dict[str, tuple] = {}  # stage -> (its layer's variable, its matrix, frozen, writer)
        self.frozen_parts = 0  # the frozen(...) being written

    def writer(self, name: str, *taken: str) -> FunctionWriter:
        return FunctionWriter(name, KerasCode(), variables={*taken, *self.reserved})

    @property
    def reserved(self) -> set[str]:
        """What no variable may be named: the sizes, the helpers, the functions."""
        if not hasattr(self, "_reserved"):
            calls = {_base_name((node,)) for node, _ in self.tree.walk()
                     if isinstance(node, Group) and node.kind == "call"}
            self._reserved = self.names | set(self.runtime) | calls | {"block", "expert", "frame"}
        return self._reserved

    def ordered(self, names: list[str]) -> list[str]:
        """Sizes in the order --set gave them (the header's), then the others as read."""
        given = [name for name in self.sizes if name in names]
        return given + [name for name in names if name not in given]

    # -------------------------------------------------------------- nodes

    # Each writes the lines that take the variable `source` to `target`, and gives the
    # variable then holding the node's output: `target`, or `source` itself when the
    # node writes nothing (identity) and `assign` is off.

    def nodes(self, writer: FunctionWriter, nodes, source: str, target: str, assign: bool = True) -> str:
        for node in nodes:
            source = self.node(writer, node, source, target)
        if source != target and assign:
            writer.line(f"{target} = {source}")
            return target
        return source

    def node(self, writer: FunctionWriter, node, source: str, target: str) -> str:
        tied = node.name is not None and node.name in self.tie_names
        if tied:
            self.tie_stage.append(node.name)
        try:
            out = self.dispatch(writer, node, source, target)
        finally:
            if tied:
                self.tie_stage.pop()
        if node.name is not None:
            self.named(writer, node, out)
        return out

    def dispatch(self, writer: FunctionWriter, node, source: str, target: str) -> str:
        if isinstance(node, Layer):
            return self.layer(writer, node, source, target)
        if node.summation is not None:
            return self.summed(writer, node, source, target)
        if node.kind in ("branch", "chain"):
            return self.nodes(writer, node.children, source, target, assign=False)
        if node.kind in ("call", "frozen"):  # a frozen part's layers freeze one by one
            writer.line(f"# {one_line(node.source, 80)}")
            self.frozen_parts += node.kind == "frozen"
            try:
                return self.nodes(writer, node.children, source, target, assign=False)
            finally:
                self.frozen_parts -= node.kind == "frozen"
        if node.kind == "repeat":
            return self.repeat(writer, node, source, target)
        if node.kind == "residual":
            return self.residual(writer, node, source, target)
        if node.kind == "parallel":
            return self.parallel(writer, node, source, target)
        if node.kind == "moe":
            return self.moe(writer, node, source, target)
        if node.kind == "time_distributed":
            return self.time_distributed(writer, node, source, target)
        if node.kind in WRAPPERS:
            writer.line(f"# {one_line(node.source, 80)}")
            writer.line(f"{target} = {self.wrapped_layer(writer, node)}({source})")
            return target
        raise self.error(node, f"export to Keras does not write {node.kind} yet")

    def named(self, writer: FunctionWriter, node, var: str) -> None:
        """`... as NAME`: its output kept for a later context=NAME (the line is dropped
        when nothing reads it)."""
        stage = writer.variable(keras_name(node.name))
        writer.line(f"{stage} = {var}")
        writer.stages[node.name] = stage
        writer.kept[stage] = len(writer.lines) - 1

    # -------------------------------------------------------------- one layer

    def layer(self, writer: FunctionWriter, node: Layer, source: str, target: str, comment: bool = True) -> str:
        if node.kind == "input":
            return source
        built = self.built(node, writer)
        if built.code is None and built.call == "{x}":  # identity: no layer at all
            return source
        if comment:
            writer.line(f"# {one_line(node.source, 80)}")
        source = self.before(writer, node, built, source, target)
        self.main_line(writer, node, built, source, target)
        for text in built.after:
            writer.line(f"{target} = {text}({target})")
        return target

    def before(self, writer: FunctionWriter, node: Layer, built: Built, source: str, target: str) -> str:
        """The layers applied before the layer's own: zeros, or the layers stacked
        under the last of a recurrent stack (in a loop when their number is a name)."""
        if not built.before:
            return source
        frozen = built.before_weights and self.frozen(node)
        texts = [_with_keyword(text, "trainable=False") if frozen else text for text in built.before]
        if built.before_times is None:
            for text in texts:
                writer.line(f"{target} = {text}({source})")
                source = target
            return target
        if source != target:
            writer.line(f"{target} = {source}")
        writer.line(f"for _ in range({built.before_times}):")
        with writer.indented():
            for text in texts:
                writer.line(f"{target} = {text}({target})")
        return target

    def main_line(self, writer: FunctionWriter, node: Layer, built: Built, source: str, target: str) -> None:
        """The layer's own line; a layer kept in a variable (the matrix a tie= shares, a
        frozen layer with LoRA adapters) its own line first."""
        frozen = self.frozen(node)
        shared = bool(self.tie_stage) and built.matrix
        if node.count.tie is not None:
            built, layer_variable = self.tie(writer, node, built, frozen)
            if layer_variable is not None:  # the same layer again: an embedding tied to one
                writer.line(f"{target} = {self.applied(writer, node, built, layer_variable, source)}")
                return
        constructor = built.code
        # frozen after it is built: LoRA's adapters stay trainable, and a layer whose
        # sublayers are made when it is built would not pass trainable=False on to them
        frozen_after = frozen and (built.lora or _builds_sublayers(built.code))
        if frozen and not frozen_after:
            constructor = _with_keyword(constructor, "trainable=False")
        if built.code is None or not (shared or frozen_after):
            writer.line(f"{target} = {self.applied(writer, node, built, constructor, source)}")
            return
        layer_variable = writer.variable(keras_name(self.tie_stage[-1]) if shared else node.kind)
        writer.line(f"{layer_variable} = {constructor}")
        writer.line(f"{target} = {self.applied(writer, node, built, layer_variable, source)}")
        if frozen_after:
            writer.line(f"freeze({layer_variable})")
            self.helpers.add("freeze")
        if shared:
            self.tied[self.tie_stage[-1]] = (layer_variable, tuple(node.count.matrix), frozen, writer)

    def applied(self, writer: FunctionWriter, node: Layer, built: Built, layer: str | None, source: str) -> str:
        """The layer applied to its input and the stages it reads: attention's value and
        keys (context=, values=), as Keras' attention layers take them."""
        links = {param: writer.stage(stage) for param, stage in (node.links or {}).items()}
        keys = links.get("context", source)
        key = f", key={keys}" if "values" in links else ""  # else the keys are the values
        return built.call.format(layer=layer, x=source, context=keys, value=links.get("values", keys), key=key)

    def built(self, node: Layer, writer: FunctionWriter) -> Built:
        try:
            if node.kind not in LAYERS:
                raise Unsupported(f"export to Keras does not write {node.kind} yet")
            built = LAYERS[node.kind](node.kind, node.arguments or {}, node.input_shape, writer.code)
        except (Unsupported, ValueError) as error:
            raise self.error(node, str(error)) from None
        self.helpers.update(built.helpers)
        return built

    def error(self, node, message: str) -> SymparamError:
        """An error at the node's place in the text, as the count's errors are."""
        return SymparamError(f"{one_line(node.source)}: {message}", node.span, self.source)

    def tie(self, writer: FunctionWriter, node: Layer, built: Built, frozen: bool) -> tuple[Built, str | None]:
        """tie=NAME: a dense layer reads the named layer's matrix (TiedDense); an
        embedding is that layer again (Keras counts a layer used twice once)."""
        name = node.count.tie
        if name not in self.tied or self.tied[name][3] is not self.top or writer is not self.top:
            raise self.error(node, "export ties a layer to one named in the model's own chains, "
                                   "outside repetitions")
        layer_variable, matrix, source_frozen, _ = self.tied[name]
        if frozen and not source_frozen:
            raise self.error(node, "export to Keras does not freeze a layer tied to one that is trained")
        if node.kind == "embedding":
            if tuple(node.count.matrix) != matrix:
                raise self.error(node, "export to Keras ties an embedding to another embedding only")
            return built, layer_variable
        try:
            built = tied_dense(node.arguments, layer_variable, tuple(node.count.matrix) != matrix)
        except Unsupported as error:
            raise self.error(node, str(error)) from None
        self.helpers.update(built.helpers)
        return built, None

    # -------------------------------------------------------------- structure

    def body(self, nodes, base: str) -> FunctionWriter:
        """A function for a repeated body (or an expert): written once, reused when the
        same. Its parameters: x, the stages it reads from outside, the sizes."""
        writer, text = self.drafted(nodes, base)
        return self.function(writer, text)

    def drafted(self, nodes, base: str) -> tuple[FunctionWriter, str]:
        """A body's function, its name left as {name}: (its writer, its text)."""
        writer = self.writer(base, "x")
        if len(nodes) == 1 and isinstance(nodes[0], Group) and nodes[0].kind == "call" and nodes[0].name is None:
            nodes = nodes[0].children  # the function's name says the call
        var = self.nodes(writer, nodes, "x", "x")
        writer.line(f"return {var}")
        writer.sizes = self.ordered(writer.code.arguments())
        text = self.function_text("{name}", writer, ["x", *writer.needs.values(), *writer.sizes])
        return writer, text

    def function(self, writer: FunctionWriter, text: str) -> FunctionWriter:
        """The drafted function, named: the same text already written is that one."""
        base = writer.name
        for name, key, _ in self.functions:
            if key == text:
                writer.name = name
                return writer
        taken = {name for name, _, _ in self.functions} | self.names | {self.model_name} | set(self.runtime)
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        self.functions.append((name, text, text.replace("{name}", name, 1)))
        writer.name = name
        return writer

    def called(self, writer: FunctionWriter, body: FunctionWriter, source: str) -> str:
        """The body's function called: on source, with the stages and sizes it reads."""
        stages = [writer.stage(stage) for stage in body.needs]
        sizes = [writer.code.use(name) for name in body.sizes]
        return f"{body.name}({', '.join([source, *stages, *sizes])})"

    def repeat(self, writer: FunctionWriter, node: Group, source: str, target: str) -> str:
        """`body * n`: a loop calling the body's function (or the layer, if one). The
        tree counts a first instance apart when it reads another shape (conv3(64) * 2 on
        3 channels); Keras' layers take no input size, so it is then the same code."""
        children, times = node.children, node.times
        if times is None:
            *first, rest = children
            if not (isinstance(rest, Group) and rest.kind == "repeat" and rest.times is not None):
                return self.nodes(writer, children, source, target, assign=False)
            drafts = [self.drafted(part, _base_name(part)) for part in (first, rest.children)]
            if drafts[0][1] != drafts[1][1]:
                return self.nodes(writer, children, source, target, assign=False)
            children, times = rest.children, rest.times + 1
        writer.line(f"# {one_line(node.source, 80)}")
        (child,) = children if len(children) == 1 else (None,)
        if times == 1:  # once: no loop
            if isinstance(child, Layer):
                return self.layer(writer, child, source, target, comment=False)
            return self.nodes(writer, children, source, target)
        if source != target:
            writer.line(f"{target} = {source}")
        writer.line(f"for _ in range({writer.code.expr(times)}):")
        if isinstance(child, Layer):  # one layer: written in the loop
            with writer.indented():
                self.layer(writer, child, target, target, comment=False)
            return target
        body = self.body(children, _base_name(children))
        writer.line(f"    {target} = {self.called(writer, body, target)}")
        return target

    def summed(self, writer: FunctionWriter, node: Group, source: str, target: str) -> str:
        """An ellipsis with symbolic ends: a loop over its index (`for _` when the code
        does not read it: Keras' layers take no input size)."""
        s = node.summation
        (step,) = node.children
        index = keras_name(str(s.index))
        writer.line(f"# {one_line(node.source, 80)}")
        if source != target:
            writer.line(f"{target} = {source}")
        loop = len(writer.lines)
        writer.line("")  # the loop's line, once it is known whether the body reads the index
        writer.code.bind(s.index)
        try:
            if isinstance(step, Layer):
                with writer.indented():
                    self.layer(writer, step, target, target, comment=False)
            else:
                nodes = step.children if step.kind == "call" else (step,)
                body = self.body(nodes, _base_name((step,)))
                writer.line(f"    {target} = {self.called(writer, body, target)}")
        finally:
            writer.code.unbind(s.index)
        reads = any(re.search(rf"(?<![\w.]){index}\b", line) for line in writer.lines[loop + 1 :])
        bounds = f"range({writer.code.expr(s.lower)}, {writer.code.expr(s.upper + 1)})"
        if not reads:
            index, bounds = "_", f"range({writer.code.expr(s.upper - s.lower + 1)})"
        writer.lines[loop] = "    " * writer.depth + f"for {index} in {bounds}:"
        return target

    def residual(self, writer: FunctionWriter, node: Group, source: str, target: str) -> str:
        parts = node.chains()
        writer.line(f"# {one_line(node.source, 80)}")
        body = self.branch(writer, parts["body"][0], source, "y")
        shortcut = self.branch(writer, parts["shortcut"][0], source, "s") if "shortcut" in parts else source
        writer.line(f"{target} = layers.Add()([{shortcut}, {body}])")
        writer.release(*(out for out in (body, shortcut) if out != source))
        return target

    def branch(self, writer: FunctionWriter, nodes, source: str, base: str) -> str:
        """A chain beside the main one, in a variable of its own (or source itself, for
        identity); the caller releases it once merged."""
        variable = writer.variable(base)
        out = self.nodes(writer, nodes, source, variable, assign=False)
        if out != variable:
            writer.release(variable)  # never written: free for the next branch
        return out

    def parallel(self, writer: FunctionWriter, node: Group, source: str, target: str) -> str:
        writer.line(f"# {one_line(node.source, 80)}")
        outs = [self.branch(writer, branch, source, "b") for branch in node.chains()["branches"]]
        merge = node.arguments["merge"]
        if merge == "concat":
            axis = keras_axis(node.arguments["axis"], len(node.output_shape))
            layer = f"layers.Concatenate({'' if axis is None else f'axis={axis}'})"
        else:
            layer = {"add": "layers.Add()", "multiply": "layers.Multiply()", "average": "layers.Average()",
                     "maximum": "layers.Maximum()"}[merge]
        writer.line(f"{target} = {layer}([{', '.join(outs)}])")
        writer.release(*(out for out in outs if out != source))
        return target

    def moe(self, writer: FunctionWriter, node: Group, source: str, target: str) -> str:
        """A Mixture of experts, each a function of its own made a model (submodel)."""
        (expert,) = node.chains()["expert"]
        if tuple(node.input_shape[:-1]) != tuple(node.output_shape[:-1]):
            raise self.error(node, "export writes a mixture whose experts keep the positions "
                                   "(it routes each position)")
        body = self.body(expert, _base_name(expert, "expert"))
        if body.needs:
            raise self.error(node, "export does not write an expert that reads another stage yet")
        code = writer.code
        experts = writer.variable("experts")
        count = code.expr(node.arguments["experts"])
        top_k = code.expr(node.arguments["top_k"] if node.arguments["top_k"] is not None else 2)
        sizes = "".join(f", {code.use(name)}" for name in body.sizes)
        self.helpers.update({"Mixture", "submodel"})
        writer.line(f"# {one_line(node.source, 80)}")
        writer.line(f"{experts} = [submodel({body.name}, {source}.shape[1:]{sizes}) for _ in range({count})]")
        mixture = f"Mixture({experts}, top_k={top_k})"
        if node.own.frozen is not None:  # its router frozen; the experts' layers are, one by one
            moe = writer.variable("moe")
            writer.line(f"{moe} = {mixture}")
            writer.line(f"{moe}.router.trainable = False")
            writer.line(f"{target} = {moe}({source})")
            writer.release(moe)
        else:
            writer.line(f"{target} = {mixture}({source})")
        writer.release(experts)
        return target

    def time_distributed(self, writer: FunctionWriter, node: Group, source: str, target: str) -> str:
        """layers.TimeDistributed: of the layer itself when the chain is one, else of
        the chain's function made a model (submodel) reading one step."""
        (chain,) = node.chains()["layer"]
        writer.line(f"# {one_line(node.source, 80)}")
        layer = self.one_layer(writer, chain[0]) if len(chain) == 1 else None
        if layer is None:
            body = self.body(chain, _base_name(chain, "frame"))
            if body.needs:
                raise self.error(node, "export does not write a time_distributed chain that reads another stage yet")
            sizes = "".join(f", {writer.code.use(name)}" for name in body.sizes)
            layer = f"submodel({body.name}, {source}.shape[2:]{sizes})"
            self.helpers.add("submodel")
        writer.line(f"{target} = layers.TimeDistributed({layer})({source})")
        return target

    def wrapped_layer(self, writer: FunctionWriter, node: Group) -> str:
        """recurrent(cells) as layers.RNN (a list of cells stacks them), bidirectional(
        layer) as layers.Bidirectional of that recurrent layer, spectral_norm(layer) as
        layers.SpectralNormalization of that layer."""
        if node.kind == "spectral_norm":
            (chain,) = node.chains()["layer"]
            layer = self.one_layer(writer, chain[0]) if len(chain) == 1 else None
            if layer is None:
                raise self.error(node, "export to Keras writes spectral_norm(...) of one layer")
            iterations = node.arguments["power_iterations"]
            extra = "" if iterations == 1 else f", power_iterations={writer.code.expr(iterations)}"
            return f"layers.SpectralNormalization({layer}{extra})"
        if node.kind == "recurrent":
            (cells,) = node.chains()["cell"]
            if not all(isinstance(cell, Layer) and cell.kind in CELLS for cell in cells):
                raise self.error(node, "export to Keras writes recurrent(...) of cells (lstm_cell, ...) only")
            texts = [self.frozen_if(cell, cell_constructor(cell.kind, cell.arguments, writer.code)) for cell in cells]
            cell = texts[0] if len(texts) == 1 else f"[{', '.join(texts)}]"  # stacked
            sequences = ", return_sequences=True" if node.arguments["return_sequences"] else ""
            return f"layers.RNN({cell}{sequences})"
        (chain,) = node.chains()["layer"]
        layer = self.one_layer(writer, chain[0]) if len(chain) == 1 else None
        if layer is None or not layer.startswith(("layers.RNN(", "layers.LSTM(", "layers.GRU(", "layers.SimpleRNN(")):
            raise self.error(node, "export to Keras writes bidirectional(...) of one recurrent layer")
        merge = node.arguments["merge"]
        merge_mode = "" if merge == "concat" else f', merge_mode="{merge}"'
        return f"layers.Bidirectional({layer}{merge_mode})"

    def one_layer(self, writer: FunctionWriter, node) -> str | None:
        """The constructor of a node that is one Keras layer, to wrap in another; None
        when it is more (padding before it, an expression, a tie)."""
        if isinstance(node, Group):
            return self.wrapped_layer(writer, node) if node.kind in WRAPPERS else None
        if node.kind == "input" or node.count.tie is not None or node.name is not None:
            return None
        built = self.built(node, writer)
        if built.code is None or built.before or built.after or built.call != "{layer}({x})":
            return None
        if self.frozen(node) and (built.lora or _builds_sublayers(built.code)):
            return None
        return self.frozen_if(node, built.code)

    def frozen_if(self, node: Layer, constructor: str) -> str:
        return _with_keyword(constructor, "trainable=False") if self.frozen(node) else constructor

    def frozen(self, node: Layer) -> bool:
        """Is the layer frozen (in frozen(...), or trainable=false)? Keras' LoRA also holds
        the adapted kernel untrained, but trains the rest: a frozen layer trains its
        adapters alone. When nothing else is left to train (a dense layer with LoRA and
        no bias), it is frozen where the tree says so."""
        count = node.count
        if count.frozen is None:
            return False
        if count.adapters == 0:
            return True
        if count.frozen[1] != 0:  # a bias held too: frozen by the user, not by Keras' LoRA
            return True
        if count.weights == count.adapters and count.biases == 0:
            return self.frozen_parts > 0
        return False

    # -------------------------------------------------------------- the model

    @property
    def runtime(self) -> dict[str, tuple]:
        """The helpers' definitions in keras_runtime.py, by name."""
        return runtime_definitions()

    def write(self, header: str) -> str:
        chains = self.tree.children
        if not (isinstance(chains[0], Group) and chains[0].kind == "chain"):
            chains = [self.tree]
        top = self.top = self.writer(self.model_name)
        top.variables.add(self.model_name)
        inputs, outputs = [], []
        for number_, chain in enumerate(chains, start=1):
            single = len(chains) == 1
            if not single:
                top.line(f"# chain {number_}: {one_line(chain.source, 68)}")
            name = top.variable("inputs" if single else f"inputs{number_}")
            if (_first_layer(chain).arguments or {}).get("data_format") == "channels_first":
                top.line("# channels last, as Keras' layers read them (the text gives them first)")
            inputs.append((name, len(top.lines), chain))
            top.line("")  # the input's line, written once the sizes the layers read are known
            outputs.append(self.nodes(top, chain.children, name, top.variable("x" if single else f"x{number_}")))
        if top.needs:
            raise Unsupported(f"no stage is named {next(iter(top.needs))!r} before it is read")
        self.check_chains_are_read(chains)
        for name, at, chain in inputs:
            top.lines[at] = self.input_line(top, name, chain)
        model_inputs = inputs[0][0] if len(inputs) == 1 else f"[{', '.join(name for name, _, _ in inputs)}]"
        top.line(f'return keras.Model({model_inputs}, {outputs[-1]}, name="{self.model_name}")')
        text = self.model_text(top)
        helpers = runtime_sources(self.helpers, self.runtime)
        body = "\n\n\n".join([*helpers, *(text for _, _, text in self.functions), text])
        main = self.main_block()
        return (header + "\n\nimport keras\nfrom keras import layers\n\n\n" + body
                + ("\n\n\n" + main if main else "") + "\n")

    def check_chains_are_read(self, chains) -> None:
        """A Keras model holds the layers that lead to its output, the last chain's: each
        chain before must end in the stage a later one reads (as memory=)."""
        read = {stage for node, _ in self.tree.walk() if isinstance(node, Layer)
                for stage in (node.links or {}).values()}
        for chain in chains[:-1]:
            last = chain.children[-1]
            if last.name is None or last.name not in read:
                raise self.error(chain, "export to Keras writes several inputs when each chain but the "
                                        "last ends in a stage a later chain reads (as memory)")

    def input_line(self, writer: FunctionWriter, name: str, chain) -> str:
        """keras.Input: an extent in a size that neither the count nor a layer reads, nor
        --set gives, is None (any length, as a sequence's); token ids are int32."""
        extents = []
        for extent in _first_layer(chain).output_shape:
            scratch = KerasCode()  # the names the extent reads
            scratch.expr(extent)
            known = set(writer.code.arguments()) | self.needed
            extents.append(writer.code.expr(extent) if set(scratch.used) <= known else "None")
        shape = f"({', '.join(extents)}{',' if len(extents) == 1 else ''})"
        dtype = ', dtype="int32"' if reads_ids(chain) else ""
        return f"{name} = keras.Input(shape={shape}{dtype})"

    def model_text(self, writer: FunctionWriter) -> str:
        names = self.ordered(writer.code.arguments())
        required = [arg for arg in names if arg not in self.inferred and self.sizes.get(arg) is None]
        signature = list(required)
        for arg in names:
            default = self.sizes.get(arg)
            if arg in self.inferred or default is None:
                continue
            signature.append(f"{arg}={tuple_text(default) if isinstance(default, tuple) else default}")
        inferred = [self.inferred_line(arg) for arg in names if arg in self.inferred]
        return self.function_text(self.model_name, writer, signature, returns=" -> keras.Model",
                                  docstring=self.model_docstring(), first=inferred)

    def function_text(self, name: str, writer: FunctionWriter, parameters: list[str], returns: str = "",
                      docstring: str | None = None, first=()) -> str:
        head = f"def {name}({', '.join(parameters)}){returns}:"
        if len(head) > WIDTH:
            head = "\n".join([f"def {name}(", *(f"    {parameter}," for parameter in parameters), f"){returns}:"])
        lines = [head]
        if docstring:
            lines.append(f'    """{docstring}"""')
        for line in [*first, *_read_stages(writer)]:
            lines += keras_wrapped(f"    {line}") if line else [""]
        return "\n".join(lines)

    def inferred_line(self, name: str) -> str:
        return inferred_line(name, self.inferred[name])

    def model_docstring(self) -> str:
        return model_docstring(self.formula, self.concrete)

    def main_block(self) -> str:
        """Build the model, on PyTorch's backend on the meta device (no memory, no
        weights), and print its count and output shape."""
        if self.concrete is None:
            return ""
        return "\n".join([
            'if __name__ == "__main__":',
            "    # on PyTorch's backend the weights can stay on the meta device: no memory",
            '    device = "meta" if keras.backend.backend() == "torch" else "cpu"',
            "    with keras.device(device):",
            f"        model = {self.model_name}()",
            '    print(f"{model.count_params():,} parameters, output shape {model.output.shape}")',
        ])


def _first_layer(chain) -> Layer:
    """A chain's first layer: its input."""
    node = chain
    while isinstance(node, Group):
        node = node.children[0]
    return node


# Keras layers that make their sublayers when they are built: trainable=False given to
# their constructor stops at them (Keras passes it on only to the sublayers it has then).
SUBLAYERS_AT_BUILD = ("layers.MultiHeadAttention(", "layers.GroupQueryAttention(", "Attention(")


def _builds_sublayers(constructor: str | None) -> bool:
    return constructor is not None and constructor.startswith(SUBLAYERS_AT_BUILD)


def _with_keyword(constructor: str, keyword_text: str) -> str:
    """layers.Dense(4) -> layers.Dense(4, trainable=False)."""
    if constructor.endswith("()"):
        return f"{constructor[:-1]}{keyword_text})"
    return f"{constructor[:-1]}, {keyword_text})"


def _base_name(nodes, default: str = "block") -> str:
    """A body's function name: its definition's (block(d, H) -> block), else the default."""
    if len(nodes) == 1 and isinstance(nodes[0], Group) and nodes[0].kind == "call":
        stem = re.match(r"\s*(\w+)", nodes[0].source)
        if stem and not keyword.iskeyword(stem.group(1)):
            return keras_name(stem.group(1))
    return default


def _read_stages(writer: FunctionWriter) -> list[str]:
    """The function's lines without the `NAME = ...` that nothing reads."""
    return without_unread(writer.lines, writer.kept)


def keras_wrapped(line: str) -> list[str]:
    """A line as ruff formats it when too long: the last bracket's items one per line,
    with a trailing comma (which ruff then keeps), each wrapped again if need be. A
    layer made and applied at once, `x = layers.Conv2D(...)(x)`, is split in the
    constructor's arguments, the call after its closing parenthesis."""
    comma = "," if line.endswith(",") else ""
    body = line[: len(line) - len(comma)]
    if len(line) <= WIDTH or not body.endswith((")", "]")) or line.lstrip().startswith("#"):
        return [line]
    opening, tail = matching_open(body), body[-1] + comma
    if opening and len(body[: opening + 1]) > WIDTH and body[:opening].endswith(")"):
        tail = ")" + body[opening:] + comma  # the constructor's arguments, then the call
        body = body[:opening]
        opening = matching_open(body)
    items = top_level_items(body[opening + 1 : -1]) if opening else []
    if not items:
        return [line]
    indent = line[: len(line) - len(line.lstrip())]
    if len(items) == 1 and " for " in items[0] and not items[0].startswith(("(", "[")):
        return [body[: opening + 1], *_comprehension(items[0], f"{indent}    "), f"{indent}{tail}"]
    lines = [body[: opening + 1]]
    for item in items:
        lines += keras_wrapped(f"{indent}    {item},")
    return [*lines, f"{indent}{tail}"]


def _comprehension(text: str, indent: str) -> list[str]:
    """A comprehension's inside as ruff writes it: on one line, else its element and
    its `for` on two (no trailing comma: a comprehension is not a list of items)."""
    if len(indent + text) <= WIDTH:
        return [indent + text]
    element, loop = text.rsplit(" for ", 1)
    return [indent + element, f"{indent}for {loop}"]


# ------------------------------------------------------------------ the helpers' source


@functools.cache
def runtime_definitions() -> dict:
    """{name: (its definition's syntax tree, its source)} of keras_runtime.py's helpers."""
    text = RUNTIME.read_text(encoding="utf-8")
    module = python_ast.parse(text)
    return {node.name: (node, python_ast.get_source_segment(text, node)) for node in module.body
            if isinstance(node, (python_ast.FunctionDef, python_ast.ClassDef))}


def runtime_sources(names: set[str], definitions: dict) -> list[str]:
    """The source of the helpers used, and of the helpers they use, in the file's order
    (export.runtime_sources reads torch_runtime.py alone)."""
    wanted = set(names)
    changed = True
    while changed:  # the helpers a wanted one names
        changed = False
        for name in list(wanted):
            for inner in python_ast.walk(definitions[name][0]):
                if isinstance(inner, python_ast.Name) and inner.id in definitions and inner.id not in wanted:
                    wanted.add(inner.id)
                    changed = True
    return [source for name, (_, source) in definitions.items() if name in wanted]
