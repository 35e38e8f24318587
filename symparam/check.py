"""`symparam check`: every layer built again with a framework's own classes, its
parameters counted by the framework, and compared with symparam's count, row by row.

The network is counted under the framework's convention, with every size given. Each
row of the flat view (a layer, times the repetitions around it) is built once from the
arguments symparam bound and its input shape; its parameters are what the framework
holds, minus a matrix shared with another layer (tie=), and not trained inside a frozen
part (LoRA adapters excepted).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import SymparamError
from .results import Group, Layer, LayerResult
from .values import number, text

FRAMEWORKS = ("torch", "keras")
MAX_INSTANCES = 10_000  # of a Σ built one by one (an ellipsis to h_1000000000 is not)
NAMES = {"torch": "PyTorch", "keras": "Keras"}
EXTRAS = {"torch": "pip install 'symparam[torch]'", "keras": "pip install 'symparam[keras]'"}


@dataclass(frozen=True)
class Counted:
    """Parameters in all, trained, and kept untrained."""

    params: int
    trainable: int
    non_trainable: int


@dataclass(frozen=True)
class CheckRow:
    source: str
    kind: str
    times: int  # the repetitions around the row
    symparam: Counted
    framework: Counted

    @property
    def agrees(self) -> bool:
        return self.symparam == self.framework


@dataclass(frozen=True)
class Check:
    framework: str
    rows: tuple[CheckRow, ...]
    symparam: Counted  # the network's totals
    framework_total: Counted

    @property
    def agrees(self) -> bool:
        return self.symparam == self.framework_total and all(row.agrees for row in self.rows)


def check(network, against: str = "torch") -> Check:
    """Build `network` (a Network with every size given) with the framework and compare."""
    if against not in FRAMEWORKS:
        raise SymparamError(f"symparam checks against {', '.join(FRAMEWORKS)}, not {against!r}")
    if network.value is None:  # sizes the count needs (a sequence length need not be given)
        symbols = network.total.free_symbols
        tables = {getattr(symbol, "base", None) and symbol.base.label for symbol in symbols}
        names = ", ".join(sorted(text(symbol) for symbol in symbols if symbol not in tables))
        raise SymparamError(f"check builds the model with its sizes known: give {names} with --set")
    builder = _framework(against)
    rows = tuple(_check_row(row, builder, network.expression) for row in network.analysis.rows)
    analysis = network.analysis
    totals = Counted(int(analysis.total), int(analysis.trainable), int(analysis.non_trainable))
    built = Counted(*(sum(getattr(row.framework, field) for row in rows)
                      for field in ("params", "trainable", "non_trainable")))
    return Check(against, rows, totals, built)


def _framework(name: str):
    """The framework's builders: a module with build(kind, arguments, shape), counted(built,
    tied, frozen) and the exception Unsupported."""
    try:
        if name == "torch":
            from .frameworks import pytorch as builders
        else:
            from .frameworks import keras3 as builders
    except ImportError:
        raise SymparamError(f"checking against {NAMES[name]} needs it installed: {EXTRAS[name]}") from None
    return builders


def _check_row(row: LayerResult, builder, source: str) -> CheckRow:
    written = " ".join(row.source.split())
    times = int(row.multiplier)
    ours = Counted(int(row.params), int(row.trainable), int(row.non_trainable))
    if row.summation is not None:  # a Σ: its instances one by one
        s = row.summation
        if int(s.upper) - int(s.lower) + 1 > MAX_INSTANCES:
            raise SymparamError(f"{written}: a Σ of {number(int(s.upper) - int(s.lower) + 1)} instances; "
                                f"check builds at most {number(MAX_INSTANCES)}", row.span, source)
        parts = [(node, times * each) for node, each in _instances(row.node, {})]
    else:
        parts = [(row, times)]
    theirs = Counted(0, 0, 0)
    for part, each in parts:
        try:
            module = builder.build(part.kind, part.arguments or {}, part.input_shape)
        except builder.Unsupported as error:
            raise SymparamError(f"{written}: {error}", row.span, source) from None
        built = builder.counted(module, part.count.tie is not None, _frozen(part.count))
        theirs = Counted(*(total + each * value for total, value in zip(
            (theirs.params, theirs.trainable, theirs.non_trainable), built)))
    return CheckRow(written, row.kind, times, ours, theirs)


def _instances(node, values: dict):
    """Every layer (and moe router) inside a tree node, with how many times it counts, at
    the index values given: a Σ's instances one by one."""
    if isinstance(node, Layer):
        if node.kind != "input":
            yield _at(node, values), 1
        return
    if node.summation is not None:
        s = node.summation
        (step,) = node.children
        for value in range(int(_at(s.lower, values)), int(_at(s.upper, values)) + 1):
            yield from _instances(step, {**values, s.index: value})
        return
    if node.own.params != 0:
        yield _at(node, values)._replace(count=node.own), 1
    times = 1 if node.times is None else int(_at(node.times, values))
    for child in node.children:
        for part, each in _instances(child, values):
            yield part, times * each


def _at(value, values: dict):
    """A node, a shape, the arguments or a size with the indices given their values."""
    if not values:
        return value
    if isinstance(value, (Layer, Group)):
        return value._replace(input_shape=_at(value.input_shape, values),
                              arguments=_at(value.arguments, values))
    if isinstance(value, dict):
        return {key: _at(item, values) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(_at(item, values) for item in value)
    return value.xreplace(values) if hasattr(value, "xreplace") else value


def _frozen(count) -> bool:
    """Is the layer frozen (trainable=false, or inside frozen(...)): nothing trained but
    its adapters? (Keras' own LoRA also holds an adapted kernel untrained, and the
    framework says which: that alone is no freezing.)"""
    return count.frozen is not None and count.weights == count.adapters and count.biases == 0


# ------------------------------------------------------------------ every example


def check_examples(folder, against: str = "torch") -> list[tuple[str, Check | SymparamError]]:
    """Each model file of `folder` (examples/), with the sizes its comments give
    (`--set NAME=VALUE`), checked: its Check, or the error that stopped it."""
    import re
    from pathlib import Path

    from .network import parse

    files = sorted(Path(folder).glob("*.sp"))
    if not files:
        raise SymparamError(f"no model files (*.sp) in {folder}: --all-examples checks a checkout's examples/")
    results = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        sizes = dict(setting.split("=", 1) for setting in re.findall(r"--set (\S+)", text))
        try:
            results.append((path.name, check(parse(text, convention=against, path=path, **sizes), against)))
        except SymparamError as error:
            results.append((path.name, error))
    return results


def examples_text(results, against: str) -> str:
    width = max(len(name) for name, _ in results)
    lines = []
    for name, result in results:
        if isinstance(result, SymparamError):
            verdict = "not checked: " + str(result).splitlines()[0]
        else:
            verdict = (f"{'agrees' if result.agrees else 'DIFFERS'}: {number(result.symparam.params)} "
                       f"params, {len(result.rows)} rows")
        lines.append(f"{name:<{width}}  {verdict}")
    agree = sum(1 for _, r in results if isinstance(r, Check) and r.agrees)
    differ = sum(1 for _, r in results if isinstance(r, Check) and not r.agrees)
    other = len(results) - agree - differ
    lines.append(f"{len(results)} files against {NAMES[against]}: {agree} agree, {differ} differ"
                 + (f", {other} not checked" if other else ""))
    return "\n".join(lines)


# ------------------------------------------------------------------ rendering


def to_text(result: Check) -> str:
    from .values import number

    framework = NAMES[result.framework]
    cells = [("Layer", "symparam", framework, "")]
    for row in result.rows:
        label = row.source if len(row.source) <= 48 else row.source[:45] + "..."
        if row.times != 1:
            label = f"{label}  ×{row.times}"
        cells.append((label, number(row.symparam.params), number(row.framework.params),
                      "✓" if row.agrees else "✗ differs"))
    for name in ("params", "trainable", "non_trainable"):
        ours, theirs = getattr(result.symparam, name), getattr(result.framework_total, name)
        label = {"params": "Total params", "trainable": "Trainable params",
                 "non_trainable": "Non-trainable params"}[name]
        cells.append((label, number(ours), number(theirs), "✓" if ours == theirs else "✗ differs"))
    widths = [max(len(line[i]) for line in cells) for i in range(4)]
    rule = "─" * (sum(widths) + 6)
    lines = []
    for index, line in enumerate(cells):
        if index in (1, len(result.rows) + 1):
            lines.append(rule)
        lines.append(f"{line[0]:<{widths[0]}}  {line[1]:>{widths[1]}}  {line[2]:>{widths[2]}}  {line[3]}".rstrip())
    verdict = (f"symparam and {framework} agree" if result.agrees
               else f"symparam and {framework} differ on {sum(not r.agrees for r in result.rows)} rows")
    return "\n".join(lines + [rule, verdict])


def to_json_dict(result: Check) -> dict:
    def counted(value: Counted) -> dict:
        return {"params": value.params, "trainable": value.trainable, "non_trainable": value.non_trainable}

    return {
        "against": result.framework,
        "agrees": result.agrees,
        "totals": {"symparam": counted(result.symparam), result.framework: counted(result.framework_total)},
        "rows": [
            {"source": row.source, "kind": row.kind, "times": row.times, "agrees": row.agrees,
             "symparam": counted(row.symparam), result.framework: counted(row.framework)}
            for row in result.rows
        ],
    }
