"""`symparam export --to torch`: a model written in symparam's language as a PyTorch
module to run and train, from its result tree.

The tree is counted with the sizes left symbolic, so that they become the module's
constructor arguments (the values given with --set as their defaults): a repetition
`block(d, H) * L` becomes `nn.ModuleList([Block(d, H) for _ in range(L)])`, an
ellipsis `dense(h1) -> ... -> dense(hl)` a list built over i. Each layer is one line
of `__init__`, under a comment quoting it; `forward` wires residuals, branches, named
stages and cross-attention. The helpers torch.nn lacks (attention with grouped heads,
LoRA, learnable tensors, ...) are copied from frameworks/torch_runtime.py, so the
module needs nothing but torch.
"""

from __future__ import annotations

import ast as python_ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SymparamError
from .export_layers import KERAS_ONLY, LAYERS, Built, Unsupported, torch_dim, torch_weight_shape, transposed_linear
from .pycode import Code, python_name
from .results import Group, Layer
from .values import number, one_line

RUNTIME = Path(__file__).parent / "frameworks" / "torch_runtime.py"
# The groups of the result tree written by a method of the Exporter of the same name.
STRUCTURES = frozenset({"repeat", "residual", "parallel", "moe", "time_distributed", "bidirectional",
                        "spectral_norm", "recurrent"})


# ------------------------------------------------------------------ the entry


def to_torch(network, *, name: str | None = None, path=None) -> str:
    """The source of a PyTorch module for a counted Network: the sizes it was given
    become its constructor's defaults, sizes not given arguments without one. Counted
    under PyTorch's convention; `name` the class's (else from `path`'s stem)."""
    Network = type(network)  # counted again by its own class: network imports this module
    concrete = network
    if network.convention != "torch":
        concrete = Network.count(network.syntax, network.sizes, "torch")
    general = _general(network)
    if general is None:  # counted only with the sizes given: the model takes no arguments
        tree, defaults, inferred, formula = concrete.tree, {}, {}, None
    else:
        tree, defaults, inferred, formula = general
    model_name = python_name(name) if name else _model_name(path)
    exporter = Exporter(tree, defaults, inferred, model_name,
                        concrete if concrete.value is not None else None, network.expression, formula)
    return exporter.write(header(network, model_name, "torch", defaults, path))


def _general(network):
    """The tree counted with no size given, the sizes given as the defaults, the
    lengths they give (l = len(h) - 1) and the formula; None when it cannot be."""
    from .sizes import Sizes, length_relations

    given = network.sizes
    if given.entries:  # h_1=16 alone: no argument to give it to
        return None
    try:
        general = type(network).count(network.syntax, Sizes(), "torch")
    except SymparamError:  # a repetition whose count decides the shapes, ...
        return None
    defaults = {**given.scalars, **{stem: tuple(values) for stem, values in given.sequences.items()}}
    defaults = {python_name(key): plain_size(value) for key, value in defaults.items()}
    formula = general.formula() if general.value is None else None
    return general.tree, defaults, length_relations(network.syntax, given), formula


FRAMEWORKS = {"torch": ("PyTorch", "PyTorch's"), "keras": ("Keras", "Keras'")}


def header(network, model_name: str, framework: str, defaults: dict, path) -> str:
    """An exported module's docstring: what it is, and the command that writes it again."""
    name, whose = FRAMEWORKS[framework]
    where = f" from {Path(path).name}" if path and path != "<stdin>" else ""
    settings = "".join(f" --set {key}={setting_text(plain_size(value))}" for key, value in defaults.items())
    read = f" -f {Path(path).name}" if where else ""
    written = " ".join(network.expression.split())
    if not read and "\n" not in network.expression.strip() and len(written) <= 50:
        read = f' "{written}"'  # the expression itself, when it is short
    return (f'"""{model_name}: a {name} model written by symparam{where}.\n\n'
            f"    symparam export{read} --to {framework}{settings}\n\n"
            f"Its parameters are symparam's count under {whose} convention; the source of\n"
            'each layer is the comment above it."""')


def _model_name(path) -> str:
    if not path:
        return "Model"
    words = re.findall(r"[A-Za-z0-9]+", Path(path).stem)
    name = "".join(word[:1].upper() + word[1:] for word in words)
    return name if name and not name[0].isdigit() else f"Model{name}"


def plain_size(value):
    if isinstance(value, (tuple, list)):
        return tuple(plain_size(item) for item in value)
    return int(value)


def setting_text(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)


# ------------------------------------------------------------------ one class


@dataclass
class ClassWriter:
    """One nn.Module class being written: its constructor and forward lines."""

    name: str
    code: Code
    init: list[str] = field(default_factory=list)
    forward: list[str] = field(default_factory=list)
    attributes: set[str] = field(default_factory=set)
    variables: set[str] = field(default_factory=lambda: {"x", "self"})
    stages: dict[str, str] = field(default_factory=dict)  # `as NAME` -> its forward variable
    needs: list[str] = field(default_factory=list)  # stages read from outside: forward's inputs
    last_matrix: tuple | None = None  # the last weight matrix written: (its code, its torch shape)
    kept: dict[str, int] = field(default_factory=dict)  # `NAME = ...` lines of forward
    last_weighted: str | None = None  # the module holding the last layer's weight
    signature: list[str] = field(default_factory=list)  # the constructor's arguments

    def attribute(self, base: str) -> str:
        """A new attribute's name: linear, linear_2, ..."""
        return _fresh(python_name(base), self.attributes, "_")

    def variable(self, base: str) -> str:
        """A new variable of forward: y, y2, ..."""
        return _fresh(base, self.variables, "")

    def stage(self, name: str) -> str:
        """The forward variable of the stage `name`: its own, or an input of forward."""
        if name in self.stages:
            return self.stages[name]
        if name not in self.needs:
            self.needs.append(name)
            self.variables.add(python_name(name))
        return python_name(name)


def _fresh(base: str, taken: set[str], separator: str) -> str:
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}{separator}{n}"
    taken.add(name)
    return name


# ------------------------------------------------------------------ the writer


class Exporter:
    def __init__(self, tree: Group, sizes: dict, inferred: dict, model_name: str, concrete=None,
                 source: str = "", formula: str | None = None):
        self.tree = tree
        self.source = source
        self.formula = formula  # the count in the sizes, when some are names
        self.sizes = sizes  # name -> default value (int or tuple of ints)
        self.inferred = inferred  # name -> (stem, c0, c1): l = (len(h) - 1 - c0) / c1
        self.model_name = model_name
        self.concrete = concrete  # the Network counted with the sizes given, or None
        self.classes: list[tuple[str, str, str]] = []  # (name, key, text)
        self.helpers: set[str] = set()
        self.top: ClassWriter | None = None  # the model's class, once write() begins it
        self.tied: dict[str, tuple] = {}  # `as NAME` -> its matrix (code, torch shape), for tie=

    # -------------------------------------------------------------- nodes

    # Each writes forward's lines that take `source` to `target`, the variable then
    # holding the node's output (they may be the same variable: x = self.relu(x)).

    def nodes(self, writer: ClassWriter, nodes, source: str, target: str) -> str:
        for node in nodes:
            source = self.node(writer, node, source, target)
        if source != target:
            writer.forward.append(f"{target} = {source}")
        return target

    def node(self, writer: ClassWriter, node, source: str, target: str) -> str:
        if isinstance(node, Layer):
            out = self.layer(writer, node, source, target)
        elif node.summation is not None:
            out = self.summed(writer, node, source, target)
        elif node.kind in ("branch", "chain"):
            out = self.nodes(writer, node.children, source, target)
        elif node.kind in ("call", "frozen"):  # a frozen part's layers freeze one by one
            writer.init.append(f"# {one_line(node.source, 80)}")
            out = self.nodes(writer, node.children, source, target)
        elif node.kind in STRUCTURES:  # a method of that name writes it
            out = getattr(self, node.kind)(writer, node, source, target)
        else:
            raise self.error(node, f"export does not write {node.kind} yet")
        if node.name is not None:
            self.named(writer, node, out)
        return out

    def named(self, writer: ClassWriter, node, var: str) -> None:
        """`... as NAME`: its output kept for a later context=NAME (the line is dropped
        when nothing reads it), its last weight matrix for a later tie=NAME."""
        name = python_name(node.name)
        writer.variables.add(name)
        writer.forward.append(f"{name} = {var}")
        writer.stages[node.name] = name
        writer.kept[name] = len(writer.forward) - 1
        if writer is self.top:
            self.tied[node.name] = writer.last_matrix

    def layer(self, writer: ClassWriter, node: Layer, source: str, target: str) -> str:
        if node.kind == "input":
            return source
        built = self.built(node, writer)
        if node.count.tie is not None and self.transposed_tie(writer, node):
            built = transposed_linear(node.arguments, node.input_shape, writer.code)
        attribute = writer.attribute(node.name or built.attribute or node.kind)
        writer.init.append(f"# {one_line(node.source, 80)}")
        writer.init.append(f"self.{attribute} = {built.code}")
        self.helpers.update(built.helpers)
        if node.count.frozen is not None:  # before a tie: the shared matrix keeps its own trainability
            writer.init.append(f"freeze(self.{attribute})")
            self.helpers.add("freeze")
        if node.count.tie is not None:
            self.tie(writer, node, f"{attribute}{built.weight}")
        if built.matrix:
            writer.last_matrix = (f"self.{attribute}{built.weight}", torch_weight_shape(node))
        writer.last_weighted = f"self.{attribute}{built.weight.removesuffix('.weight')}"
        extra = self.links(writer, node)
        if node.kind == "bilinear" and not extra:  # x1 = x2 = the input
            extra = f", {source}"
        writer.forward.append(f"{target} = self.{attribute}({source}{extra})")
        return target

    def links(self, writer: ClassWriter, node: Layer) -> str:
        """The stages a layer reads besides its input: attention's by keyword
        (context=memory, values=...), bilinear's second input by position."""
        links = node.links or {}
        if node.kind == "attention":
            return "".join(f", {param}={writer.stage(stage)}" for param, stage in links.items())
        return "".join(f", {writer.stage(stage)}" for stage in links.values())

    def built(self, node: Layer, writer: ClassWriter) -> Built:
        try:
            if node.kind in KERAS_ONLY:
                raise Unsupported(f"PyTorch has no layer for {node.kind} (a Keras layer)")
            if node.kind not in LAYERS:
                raise Unsupported(f"export to PyTorch does not write {node.kind} yet")
            return LAYERS[node.kind](node.kind, node.arguments or {}, node.input_shape, writer.code)
        except (Unsupported, ValueError) as error:
            raise self.error(node, str(error)) from None

    def error(self, node, message: str) -> SymparamError:
        """An error at the node's place in the text, as the count's errors are."""
        return SymparamError(f"{one_line(node.source)}: {message}", node.span, self.source)

    def tied_matrix(self, writer: ClassWriter, node: Layer) -> tuple:
        source = self.tied.get(node.count.tie) if writer is self.top else None
        if source is None:
            raise self.error(node, "export ties a layer to one named in the model's own chains, "
                                   "outside repetitions")
        return source

    def transposed_tie(self, writer: ClassWriter, node: Layer) -> bool:
        """Does the tie share the named matrix transposed (a dense of the other shape)?"""
        _, shape = self.tied_matrix(writer, node)
        if tuple(shape) == tuple(torch_weight_shape(node)):
            return False
        if node.kind != "dense":
            raise self.error(node, "export ties an embedding to a matrix of its own shape only")
        return True

    def tie(self, writer: ClassWriter, node: Layer, attribute: str) -> None:  # attribute: its weight
        """tie=NAME: the same Parameter, so PyTorch holds and counts it once."""
        source, _ = self.tied_matrix(writer, node)
        writer.init.append(f"self.{attribute} = {source}")

    # -------------------------------------------------------------- structure

    def body_class(self, nodes, base: str) -> ClassWriter:
        """A class for a repeated body (or an expert): written once, reused when the same."""
        writer = ClassWriter(base, Code())
        var = self.nodes(writer, nodes, "x", "x")
        writer.forward.append(f"return {var}")
        writer.signature = writer.code.arguments()
        text = self.class_text("{name}", writer, writer.signature, docstring=None)
        for name, key, _ in self.classes:
            if key == text:
                writer.name = name
                return writer
        name, n = base, 1
        while any(name == existing for existing, _, _ in self.classes) or name == self.model_name:
            n += 1
            name = f"{base}{n}"
        self.classes.append((name, text, text.replace("{name}", name, 1)))
        writer.name = name
        return writer

    def instance(self, writer: ClassWriter, body: ClassWriter) -> str:
        return f"{body.name}({', '.join(writer.code.use(name) for name in body.signature)})"

    def loop(self, writer: ClassWriter, attribute: str, base: str, needs, source: str, target: str) -> str:
        """forward's loop over a ModuleList: each item takes the output of the one before."""
        if source != target:
            writer.forward.append(f"{target} = {source}")
        item = _loop_name(base)
        extra = "".join(f", {writer.stage(stage)}" for stage in needs)
        writer.forward.append(f"for {item} in self.{attribute}:")
        writer.forward.append(f"    {target} = {item}({target}{extra})")
        return target

    def repeat(self, writer: ClassWriter, node: Group, source: str, target: str) -> str:
        if node.times is None:
            return self.nodes(writer, node.children, source, target)
        base = _class_name(node.children)
        body = self.body_class(node.children, base)
        attribute = writer.attribute(_attribute_name(base) + "s")
        times = writer.code.expr(node.times)
        writer.init.append(f"# {one_line(node.source, 80)}")
        writer.init.append(_module_list(attribute, self.instance(writer, body), "_", f"range({times})"))
        return self.loop(writer, attribute, base, body.needs, source, target)

    def summed(self, writer: ClassWriter, node: Group, source: str, target: str) -> str:
        s = node.summation
        (step,) = node.children
        index = python_name(str(s.index))
        bounds = f"range({writer.code.expr(s.lower)}, {writer.code.expr(s.upper + 1)})"
        writer.code.bind(s.index)
        try:
            if isinstance(step, Layer):
                built = self.built(step, writer)
                self.helpers.update(built.helpers)
                item, base = built.code, built.attribute or step.kind
                needs = list((step.links or {}).values())
            else:
                nodes = step.children if step.kind == "call" else (step,)
                base = _class_name(nodes if step.kind != "call" else (step,))
                body = self.body_class(nodes, base)
                item, needs = self.instance(writer, body), body.needs
        finally:
            writer.code.unbind(s.index)
        attribute = writer.attribute(_attribute_name(base) + "s")
        writer.init.append(f"# {one_line(node.source, 80)}")
        writer.init.append(_module_list(attribute, item, index, bounds))
        if isinstance(step, Layer) and step.count.frozen is not None:  # in a frozen part
            writer.init.append(f"freeze(self.{attribute})")
            self.helpers.add("freeze")
        return self.loop(writer, attribute, base, needs, source, target)

    def residual(self, writer: ClassWriter, node: Group, source: str, target: str) -> str:
        parts = node.chains()
        writer.forward.append(f"# {one_line(node.source, 80)}")
        body = self.nodes(writer, parts["body"][0], source, writer.variable("y"))
        shortcut = source
        if "shortcut" in parts:
            shortcut = self.nodes(writer, parts["shortcut"][0], source, writer.variable("s"))
        writer.forward.append(f"{target} = {shortcut} + {body}")
        return target

    def parallel(self, writer: ClassWriter, node: Group, source: str, target: str) -> str:
        writer.forward.append(f"# {one_line(node.source, 80)}")
        outs = [self.nodes(writer, branch, source, writer.variable("b"))
                for branch in node.chains()["branches"]]
        merge = node.arguments["merge"]
        if merge == "concat":
            dim = torch_dim(node.arguments["axis"], len(node.output_shape))
            merged = f"torch.cat([{', '.join(outs)}], dim={dim})"
        elif merge == "average":
            merged = f"({' + '.join(outs)}) / {len(outs)}"
        elif merge == "maximum":
            merged = f"torch.stack([{', '.join(outs)}]).amax(dim=0)"
        else:
            merged = (" + " if merge == "add" else " * ").join(outs)
        writer.forward.append(f"{target} = {merged}")
        return target

    def time_distributed(self, writer: ClassWriter, node: Group, source: str, target: str) -> str:
        """The chain on every step at once: the steps folded into the batch, and back."""
        writer.forward.append(f"# {one_line(node.source, 80)}")
        batch, steps = writer.variable("batch"), writer.variable("t")
        writer.forward.append(f"{batch} = {source}.shape[0]")
        writer.forward.append(f"{steps} = steps_into_batch({source})")
        self.helpers.update({"steps_into_batch", "steps_out_of_batch"})
        steps = self.nodes(writer, node.chains()["layer"][0], steps, steps)
        writer.forward.append(f"{target} = steps_out_of_batch({steps}, {batch})")
        return target

    def spectral_norm(self, writer: ClassWriter, node: Group, source: str, target: str) -> str:
        """Its layer, its weight then reparametrized by PyTorch's spectral_norm."""
        out = self.nodes(writer, node.children, source, target)
        writer.init.append(f"nn.utils.parametrizations.spectral_norm({writer.last_weighted})")
        return out

    def recurrent(self, writer: ClassWriter, node: Group, source: str, target: str) -> str:
        """Keras' RNN of cells: its chain of layers run step by step, cells from their state."""
        (chain,) = node.chains()["cell"]
        if not all(isinstance(step, Layer) for step in chain):
            raise self.error(node, "export writes recurrent(...) of a chain of layers, not of groups")
        built = [self.built(step, writer) for step in chain]
        for piece in built:
            self.helpers.update(piece.helpers)
        self.helpers.add("Recurrence")
        attribute = writer.attribute("recurrent")
        sequences = ", return_sequences=True" if node.arguments["return_sequences"] else ""
        writer.init.append(f"# {one_line(node.source, 80)}")
        writer.init.append(f"self.{attribute} = Recurrence(nn.ModuleList([{', '.join(p.code for p in built)}]){sequences})")
        for index, step in enumerate(chain):
            if step.count.frozen is not None:  # a cell in a frozen part
                writer.init.append(f"freeze(self.{attribute}.chain[{index}])")
                self.helpers.add("freeze")
        writer.forward.append(f"{target} = self.{attribute}({source})")
        return target

    def bidirectional(self, writer: ClassWriter, node: Group, source: str, target: str) -> str:
        """The recurrent layer as a class, built twice: forward and backward."""
        (layer,) = node.chains()["layer"]
        body = self.body_class(layer, "Direction")
        if body.needs:
            raise self.error(node, "export does not write a bidirectional layer that reads another stage yet")
        attribute = writer.attribute("bidirectional")
        merge = node.arguments["merge"]
        instance = self.instance(writer, body)
        writer.init.append(f"# {one_line(node.source, 80)}")
        writer.init.append(f"self.{attribute} = Bidirectional({instance}, {instance}"
                           + ("" if merge == "concat" else f', merge="{merge}"') + ")")
        self.helpers.add("Bidirectional")
        writer.forward.append(f"{target} = self.{attribute}({source})")
        return target

    def moe(self, writer: ClassWriter, node: Group, source: str, target: str) -> str:
        arguments = node.arguments
        (expert,) = node.chains()["expert"]
        if tuple(node.input_shape[:-1]) != tuple(node.output_shape[:-1]):
            raise self.error(node, "export writes a mixture whose experts keep the positions "
                                   "(it routes each position)")
        body = self.body_class(expert, "Expert")
        if body.needs:
            raise self.error(node, "export does not write an expert that reads another stage yet")
        code = writer.code
        inputs, experts = code.expr(node.input_shape[-1]), code.expr(arguments["experts"])
        top_k = code.expr(arguments["top_k"] if arguments["top_k"] is not None else 2)
        attribute = writer.attribute("moe")
        self.helpers.add("Mixture")
        writer.init.append(f"# {one_line(node.source, 80)}")
        writer.init.append(
            f"self.{attribute} = Mixture(nn.Linear({inputs}, {experts}, bias=False), "
            f"nn.ModuleList([{self.instance(writer, body)} for _ in range({experts})]), top_k={top_k})"
        )
        if node.own.frozen is not None:
            writer.init.append(f"freeze(self.{attribute}.router)")
            self.helpers.add("freeze")
        writer.forward.append(f"{target} = self.{attribute}({source})")
        return target

    # -------------------------------------------------------------- the model

    def write(self, source_comment: str) -> str:
        chains = self.tree.children
        if not (isinstance(chains[0], Group) and chains[0].kind == "chain"):
            chains = [self.tree]
        top = ClassWriter(self.model_name, Code())
        self.top = top
        inputs = []
        for number_, chain in enumerate(chains, start=1):
            var = "x" if len(chains) == 1 else top.variable(f"x{number_}")
            inputs.append(var)
            if len(chains) > 1:
                top.init.append(f"# chain {number_}: {one_line(chain.source, 68)}")
            self.chain_nodes(top, chain.children, var, last=number_ == len(chains))
        names = top.code.arguments()
        missing = [name for name in top.needs]
        if missing:
            raise Unsupported(f"no stage is named {missing[0]!r} before it is read")
        text = self.class_text(self.model_name, top, names, docstring=self.model_docstring(chains),
                               inputs=inputs, defaults=True)
        parts = [source_comment, "import math" if "Attention" in self.helpers else "",
                 "import torch\nfrom torch import nn"]
        parts = [part for part in parts if part]
        helpers = runtime_sources(self.helpers)
        body = "\n\n\n".join([*helpers, *(text for _, _, text in self.classes), text])
        main = self.main_block(chains)
        return "\n\n".join(parts) + "\n\n\n" + body + ("\n\n\n" + main if main else "") + "\n"

    def chain_nodes(self, writer: ClassWriter, nodes, var: str, last: bool) -> None:
        var = self.nodes(writer, nodes, var, var)
        if last:
            writer.forward.append(f"return {var}")

    def class_text(self, name: str, writer: ClassWriter, names: list[str], docstring, inputs=("x",),
                   defaults: bool = False) -> str:
        signature = ["self"]
        for arg in names:
            if defaults and arg in self.inferred:
                continue
            default = self.sizes.get(arg) if defaults else None
            if default is None:
                signature.append(arg)
            elif isinstance(default, tuple):
                signature.append(f"{arg}={tuple_text(default)}")
            else:
                signature.append(f"{arg}: int = {default}")
        lines = [f"class {name}(nn.Module):"]
        if docstring:
            lines.append(f'    """{docstring}"""')
            lines.append("")
        lines += _function("__init__", signature, [
            "super().__init__()",
            *(self.inferred_line(arg) for arg in names if defaults and arg in self.inferred),
            *writer.init,
        ])
        lines.append("")
        forward_inputs = ["self", *(inputs if name == self.model_name else ("x",)),
                          *(python_name(stage) for stage in writer.needs)]
        lines += _function("forward", forward_inputs, _read_stages(writer))
        return "\n".join(lines)

    def inferred_line(self, name: str) -> str:
        return inferred_line(name, self.inferred[name])

    def model_docstring(self, chains) -> str:
        return model_docstring(self.formula, self.concrete)

    def main_block(self, chains) -> str:
        """Build the model on the meta device and run it once (no memory, no weights)."""
        if self.concrete is None:
            return ""
        from .values import notation, shown_extents

        concrete = self.concrete.tree.children
        if not (isinstance(concrete[0], Group) and concrete[0].kind == "chain"):
            concrete = [self.concrete.tree]
        lines = ['if __name__ == "__main__":', '    with torch.device("meta"):',
                 f"        model = {self.model_name}()"]
        names = []
        with notation(channels_first=True):
            for index, chain in enumerate(concrete, start=1):
                shape = example_shape(shown_extents(_input_shape(chain)))
                free = sorted({str(symbol) for extent in _input_shape(chain)
                               for symbol in getattr(extent, "free_symbols", ())})
                if free:  # a length no count needs: any will do
                    lines.append(f"        # {', '.join(free)}: any length; {EXAMPLE_LENGTH} here")
                name = "x" if len(concrete) == 1 else f"x{index}"
                names.append(name)
                dtype = ", dtype=torch.long" if reads_ids(chain) else ""
                lines.append(f"        {name} = torch.zeros(1, {', '.join(map(str, shape))}{dtype})")
        lines.append(f"        y = model({', '.join(names)})")
        lines.append("    params = sum(p.numel() for p in model.parameters())")
        lines.append('    print(f"{params:,} parameters, output shape {tuple(y.shape)}")')
        return "\n".join(lines)


EXAMPLE_LENGTH = 16  # for an input's size that no count needs (a sequence length)


def example_shape(shape) -> tuple[int, ...]:
    """An input's shape with a size no count needs given EXAMPLE_LENGTH."""
    values = []
    for extent in shape:
        symbols = getattr(extent, "free_symbols", ())
        values.append(int(extent.xreplace({s: EXAMPLE_LENGTH for s in symbols}) if symbols else extent))
    return tuple(values)


def inferred_line(name: str, relation: tuple) -> str:
    """A length the sizes give: l = len(h) - 1 (relation: (stem, c0, c1), as sizes.py's)."""
    stem, c0, c1 = relation
    value = f"len({stem}) - 1" if c0 == 0 else f"len({stem}) - {1 + c0}"
    return f"{name} = {value}" if c1 == 1 else f"{name} = ({value}) // {c1}"


def model_docstring(formula: str | None, concrete) -> str:
    """What the parameters add up to: the formula, and its value at the defaults."""
    lines = ["Generated by symparam."]
    if formula is not None and len(formula) <= 70:
        lines.append(f"Parameters: {formula}")
    if concrete is not None:
        lines.append(f"{number(concrete.value)} with the default sizes.")
    if len(lines) == 1:
        return lines[0]
    return "\n\n    ".join([lines[0], "\n    ".join(lines[1:])]) + "\n    "


def _input_shape(chain) -> tuple:
    node = chain
    while isinstance(node, Group):
        node = node.children[0]
    return node.output_shape


def reads_ids(chain) -> bool:
    """Does the chain's first layer after its input read token ids (an embedding)?"""
    for node, _ in chain.walk():
        if isinstance(node, Layer) and node.kind != "input":
            return node.kind in ("embedding", "embedding_bag")
    return False


def _read_stages(writer: ClassWriter) -> list[str]:
    """forward's lines without the `NAME = ...` that nothing reads."""
    return without_unread(writer.forward, writer.kept)


def without_unread(lines: list[str], kept: dict[str, int]) -> list[str]:
    """The lines without those of `kept` ({NAME: the line of `NAME = ...`}) whose name no
    other line reads (a comment is no reading)."""
    unread = {
        index for name, index in kept.items()
        if not any(re.search(rf"(?<![\w.]){name}\b", line) for at, line in enumerate(lines)
                   if at != index and not line.lstrip().startswith("#"))
    }
    return [line for at, line in enumerate(lines) if at not in unread]


def _module_list(attribute: str, item: str, index: str, bounds: str) -> str:
    """self.blocks = nn.ModuleList([Block(d, H) for _ in range(L)]) (wrapped later if long)."""
    return f"self.{attribute} = nn.ModuleList([{item} for {index} in {bounds}])"


WIDTH = 88  # black's and ruff's line length


def wrapped(line: str) -> list[str]:
    """A line as black would write it when too long: the last call's arguments one per
    line, with a trailing comma (which black then keeps), each wrapped again if need be."""
    comma = "," if line.endswith(",") else ""  # an argument of a call wrapped before
    body = line[:-1] if comma else line
    if len(line) <= WIDTH or not body.endswith((")", "]")) or line.lstrip().startswith("#"):
        return [line]
    indent = line[: len(line) - len(line.lstrip())]
    opening = matching_open(body)
    if opening is None or opening == 0 or not body[:opening].strip():
        return [line]
    items = top_level_items(body[opening + 1 : -1])
    if not items:
        return [line]
    lines = [body[: opening + 1]]
    for item in items:
        lines += wrapped(f"{indent}    {item},")
    lines.append(f"{indent}{body[-1]}{comma}")
    return lines


def matching_open(line: str) -> int | None:
    depth = 0
    for at in range(len(line) - 1, -1, -1):
        if line[at] in ")]}":
            depth += 1
        elif line[at] in "([{":
            depth -= 1
            if depth == 0:
                return at
    return None


def top_level_items(text: str) -> list[str]:
    items, depth, start, quote = [], 0, 0, None
    for at, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(text[start:at].strip())
            start = at + 1
    last = text[start:].strip()
    return [item for item in [*items, last] if item]


def _function(name: str, arguments: list[str], body: list[str]) -> list[str]:
    head = f"    def {name}({', '.join(arguments)}):"
    if len(head) > 88:
        head = "\n".join([f"    def {name}(", *(f"        {arg}," for arg in arguments), "    ):"])
    lines = [head]
    for line in body:
        lines += wrapped(f"        {line}") if line else [""]
    return lines


def _class_name(nodes) -> str:
    """A body's class name: its definition's (block(d, H) -> Block), else Block."""
    if len(nodes) == 1 and isinstance(nodes[0], Group) and nodes[0].kind == "call":
        stem = re.match(r"\s*(\w+)", nodes[0].source)
        if stem:
            return "".join(part.capitalize() or "_" for part in stem.group(1).split("_"))
    return "Block"


def _attribute_name(class_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", class_name).lower()


def _loop_name(class_name: str) -> str:
    return _attribute_name(class_name).rsplit("_", 1)[-1]


def tuple_text(values: tuple) -> str:
    return f"({', '.join(str(v) for v in values)}{',' if len(values) == 1 else ''})"


# ------------------------------------------------------------------ the helpers' source


def runtime_sources(names: set[str]) -> list[str]:
    """The source of the helpers used, and of the helpers they use, in the file's order."""
    text = RUNTIME.read_text(encoding="utf-8")
    module = python_ast.parse(text)
    definitions = {node.name: node for node in module.body
                   if isinstance(node, (python_ast.FunctionDef, python_ast.ClassDef))}
    wanted = set(names)
    changed = True
    while changed:  # the helpers a wanted one names
        changed = False
        for name in list(wanted):
            for inner in python_ast.walk(definitions[name]):
                if isinstance(inner, python_ast.Name) and inner.id in definitions and inner.id not in wanted:
                    wanted.add(inner.id)
                    changed = True
    return [python_ast.get_source_segment(text, node) for name, node in definitions.items() if name in wanted]
