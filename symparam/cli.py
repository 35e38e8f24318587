"""The command line: a thin layer over the API and the renderers."""

from __future__ import annotations

import functools
import os
import sys

import click

from . import values
from .bindings import sizes_from_texts
from .dtypes import BYTES_PER_PARAM
from .errors import SymparamError
from .limits import MAX_INPUT
from .network import CONVENTIONS, Network
from .sizes import Sizes
from .syntax import parse_network

DTYPES = tuple(BYTES_PER_PARAM)


class UserError(click.ClickException):
    """A mistake in what the user wrote: `error: ...` on stderr, exit code 2."""

    exit_code = 2

    def __init__(self, error: SymparamError, origin: str | None = None):
        # A position in a file it uses names that file itself.
        prefix = f"{origin}:" if origin and error.span and error.span.origin is None else ""
        super().__init__(f"{prefix}{error}")

    def show(self, file=None) -> None:
        click.echo(f"error: {self.message}", err=True)


def echo(text: str) -> None:
    """Print a command's text output: ASCII throughout under --ascii."""
    click.echo(values.for_output(text))


class SourceFile(click.File):
    """-f FILE: a file to read the expression from, '-' for standard input."""

    def __init__(self):
        super().__init__("r", encoding="utf-8")

    def convert(self, value, param, ctx):
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as error:
            reason = str(error.message).rsplit(": ", 1)[-1]
            self.fail(f"cannot read {value}: {reason}", param, ctx)


class Checked(click.ParamType):
    """A value read by one of symparam's readers, whose mistakes are SymparamErrors."""

    def __init__(self, name: str, reader):
        self.name = name
        self.reader = reader

    def convert(self, value, param, ctx):
        if not isinstance(value, str):
            return value
        try:
            return self.reader(value)
        except SymparamError as error:
            raise UserError(error) from None


def _setting(text: str) -> Sizes:
    return sizes_from_texts([text])


def _budget(text: str) -> int:
    from .sizes import constant
    from .syntax import parse_binding

    value = constant(parse_binding(f"total={text}").values[0], text)
    if value != int(value):
        raise SymparamError(f"--total {text}: a budget is a whole number")
    return int(value)


def _grid_range(text: str):
    from .sweep import parse_range

    return parse_range(text)


SETTING = Checked("NAME=VALUE", _setting)
BUDGET = Checked("N", _budget)
GRID_RANGE = Checked("NAME=START:STOP[:STEP]", _grid_range)


class NewFile(click.Path):
    """--plot FILE: a file that can be written, in a folder that exists; checked before
    the work, so that a mistyped path does not cost the sweep."""

    def __init__(self):
        super().__init__(dir_okay=False, writable=True)

    def convert(self, value, param, ctx):
        path = super().convert(value, param, ctx)
        suffix = os.path.splitext(path)[1].lower()
        if suffix not in (".png", ".svg", ".pdf"):
            self.fail(f"cannot write {value}: a plot is a .png, .svg or .pdf file", param, ctx)
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            self.fail(f"cannot write {value}: the folder {folder} does not exist", param, ctx)
        if not os.access(folder, os.W_OK):
            self.fail(f"cannot write {value}: the folder {folder} is not writable", param, ctx)
        return path


def _read_expression(expression: str | None, file) -> tuple[str, str | None]:
    """The expression text and where it came from (a file name, for messages)."""
    if expression is not None and file is not None:
        raise click.UsageError("give the expression or -f FILE, not both")
    if file is not None:
        return _read_bounded(file, file.name), file.name
    if expression is None:
        raise click.UsageError("give an expression, -f FILE, or - to read standard input")
    if expression == "-":
        with click.open_file("-", encoding="utf-8") as stdin:
            return _read_bounded(stdin, "standard input"), "<stdin>"
    return expression, None


def _read_bounded(file, name: str) -> str:
    """At most a character more than symparam reads (/dev/zero never ends); the parser
    says when the text is too long."""
    try:
        return file.read(MAX_INPUT + 1)
    except UnicodeDecodeError as error:
        raise click.UsageError(
            f"cannot read {name}: it is not UTF-8 text (byte {error.object[error.start]:#04x} "
            f"at offset {error.start})"
        ) from None


ASCII_HELP = "Write in plain ASCII: formulas as h_{i-1}*h_i, d^2, sum_{i=1}^{l}; x for ×."


WANTS_ORIGIN = {"export_command": ("origin",)}  # commands told the file they read


def network_command(function):
    """The options every command shares: EXPR or -f FILE, --set, --convention. The
    command receives the counted Network; a SymparamError becomes exit code 2."""

    @click.argument("expression", required=False)
    @click.option("-f", "--file", "file", type=SourceFile(), metavar="FILE",
                  help="Read the expression from FILE ('-': stdin).")
    @click.option("--set", "settings", type=SETTING, multiple=True, metavar="NAME=VALUE",
                  help="Give a size: d=512, h_1=16, or a sequence h=784,16,10. Repeatable.")
    @click.option("--convention", type=click.Choice(CONVENTIONS), default="keras", show_default=True,
                  help="Whose parameter counting to follow where Keras and PyTorch differ.")
    @click.option("--ascii", "ascii_only", is_flag=True,
                  help=ASCII_HELP)
    @functools.wraps(function)
    def command(expression, file, settings, convention, ascii_only, **options):
        if options.get("all_examples"):  # check's own: the files of examples/, no expression
            if expression is not None or file is not None:
                raise click.UsageError("--all-examples checks the files in examples/: give no EXPRESSION or -f")
            return function(None, **options)
        text, origin = _read_expression(expression, file)
        # check and export count as their framework does
        convention = options.get("against") or options.get("to") or convention
        if "origin" in WANTS_ORIGIN.get(function.__name__, ()):
            options["origin"] = origin
        sizes = Sizes()
        for setting in settings:
            sizes = sizes.merged(setting)
        style = "sympy" if options.get("fmt") == "sympy" else "ascii" if ascii_only else "unicode"
        try:
            with values.notation(style):  # errors quote sizes in it too
                network = Network.count(_syntax(text, origin), sizes, convention)
                with values.notation(**network.layout):
                    function(network, **options)
        except SymparamError as error:
            raise UserError(error, origin) from None

    return command


def _syntax(text: str, origin: str | None):
    """The parsed text, with the definitions of the files it uses (read relative to
    its own file; to the current folder for an expression or standard input)."""
    syntax = parse_network(text)
    if syntax.uses:
        from .files import resolve

        syntax = resolve(syntax, origin if origin and origin != "<stdin>" else None)
    return syntax


def _latex_output(body: str, standalone: bool) -> str:
    if not standalone:
        return body
    return (
        "\\documentclass{article}\n\\usepackage{amsmath}\n"
        "\\allowdisplaybreaks  % a long network's lines may break across pages\n"
        "\\begin{document}\n"
        f"{body}\n\\end{{document}}"
    )


def _maybe_latex(fmt: str, as_latex: bool) -> str:
    return "latex" if as_latex else fmt


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="symparam")
def main():
    """symparam: exact formulas for the number of parameters of a neural network."""
    # Counts are exact at any size; Python limits int -> str to 4300 digits by default.
    # values.py lifts it where a count is written; this covers the rest of a CLI process.
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)


# ------------------------------------------------------------------ count

SYMPY_FORMAT = "sympy: the text with formulas as SymPy writes them, to paste into Python."


@main.command()
@network_command
@click.option("--latex", "as_latex", is_flag=True, help="Same as --format latex.")
@click.option("--format", "fmt", type=click.Choice(("text", "sympy", "latex", "json")), default="text",
              show_default=True, help=SYMPY_FORMAT)
@click.option("--breakdown", is_flag=True, help="Show each layer's working, then the total.")
@click.option("--leading", metavar="NAME", help="The leading term as NAME grows without bound.")
@click.option("--order", metavar="NAME", help="The big-O of the count as NAME grows.")
@click.option("--dtype", type=click.Choice(DTYPES), help="Also give the weights' size in bytes.")
def count(network: Network, as_latex, fmt, breakdown, leading, order, dtype):
    """Count the parameters of EXPRESSION, e.g. "in(784) -> dense(16) -> dense(10)"."""
    fmt = _maybe_latex(fmt, as_latex)
    total = network.analysis.total
    extras = _derived(network, leading, order, dtype)
    if fmt == "json" or breakdown:
        from . import render
    if fmt == "json":
        document = render.json_document(network)
        for key, value in extras.items():
            document[key] = values.json_value(value)
        if dtype:
            document["dtype"] = dtype
            if isinstance(extras["bytes"], int):
                document["bytes_readable"] = _binary_size(extras["bytes"])
        click.echo(render.dumps(document))
        return
    show = values.latex if fmt == "latex" else values.text
    if breakdown:
        echo(render.breakdown(network))
        if fmt == "latex" and not network.is_concrete:
            click.echo(values.latex(total))
    elif not extras:
        echo(show(total))
    else:
        echo(f"total: {show(total)}")
    trainable = network.analysis.trainable
    if network.analysis.non_trainable != 0 and values.is_concrete(trainable) and not breakdown:
        echo(f"trainable: {values.share(trainable, total)}")
    if leading:
        echo(f"leading ({leading} → ∞): {show(extras['leading'])}")
    if order:
        echo(f"order ({order} → ∞): {show(extras['order'])}")
    if dtype:
        size = extras["bytes"]
        readable = f" ({_binary_size(size)})" if isinstance(size, int) else ""
        echo(f"{dtype} weights: {show(size)} bytes{readable}")


def _derived(network: Network, leading, order, dtype) -> dict:
    """What count was asked for beside the total; derive.py (and SymPy) only then."""
    if not (leading or order or dtype):
        return {}
    from .derive import big_o, leading_term, weight_bytes

    extras = {}
    if leading:
        extras["leading"] = leading_term(network, leading)
    if order:
        extras["order"] = big_o(network, order)
    if dtype:
        extras["bytes"] = weight_bytes(network.analysis.total, dtype)
    return extras


def _binary_size(size: int) -> str:
    from .derive import binary_size

    return binary_size(size)


# ------------------------------------------------------------------ check


@main.command("check")
@network_command
@click.option("--against", type=click.Choice(("torch", "keras")), default="torch", show_default=True,
              help="The framework to build each layer with (on the meta device: no memory).")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--all-examples", is_flag=True,
              help="Check every model file in ./examples, each with the sizes its comments give.")
def check_command(network: Network | None, against, fmt, all_examples):
    """Build every layer with the framework's own classes and compare its parameters
    with symparam's count, row by row; exit 1 when any differs. Counts under the
    framework's convention; every size needs a value (--set)."""
    from . import check as checking
    from . import render

    if all_examples:
        try:
            results = checking.check_examples("examples", against)
        except SymparamError as error:
            raise UserError(error) from None
        if fmt == "json":
            click.echo(render.dumps({"against": against, "files": [
                {"file": name, **(checking.to_json_dict(result) if isinstance(result, checking.Check)
                                  else {"error": str(result).splitlines()[0]})}
                for name, result in results
            ]}))
        else:
            echo(checking.examples_text(results, against))
        verdicts = [r for _, r in results]
        if any(isinstance(r, checking.Check) and not r.agrees for r in verdicts):
            click.get_current_context().exit(1)
        if any(isinstance(r, SymparamError) for r in verdicts):
            click.get_current_context().exit(2)
        return
    result = checking.check(network, against)
    if fmt == "json":
        click.echo(render.dumps({"expression": network.expression, **checking.to_json_dict(result)}))
    else:
        echo(checking.to_text(result))
    if not result.agrees:
        click.get_current_context().exit(1)


# ------------------------------------------------------------------ export


@main.command("export")
@network_command
@click.option("--to", "to", type=click.Choice(("torch", "keras")), default="torch", show_default=True,
              help="The framework to write the model for: a PyTorch nn.Module, or a Keras 3 functional model.")
@click.option("--name", metavar="NAME",
              help="The model class's (PyTorch) or function's (Keras) name [default: from the file's name].")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8", lazy=True), default="-", metavar="FILE",
              help="Write the module to FILE ('-': standard output).")
def export_command(network: Network, to, name, output, origin=None):
    """Write the model as a PyTorch module (an nn.Module class whose constructor takes
    the sizes left symbolic, the --set values as defaults) or, --to keras, as a Keras 3
    functional model (a function taking them). Its parameters are symparam's count under
    that framework's convention. One line per layer, its source in a comment above it;
    run the file to build it on the meta device and print its count."""
    output.write(network.export(to, name=name, path=origin))


# ------------------------------------------------------------------ the layer reference


@main.command()
@click.argument("name", required=False)
@click.option("--ascii", "ascii_only", is_flag=True, help=ASCII_HELP)
def layers(name, ascii_only):
    """List every layer kind, or show one (NAME, or an alias) in full: its signature,
    what it is, and its parameters under each convention."""
    from . import reference

    try:
        with values.notation("ascii" if ascii_only else "unicode"):
            echo(reference.layer_page(name) if name else reference.layer_table())
    except SymparamError as error:
        raise UserError(error) from None


# ------------------------------------------------------------------ summary and explain


@main.command()
@network_command
@click.option("--depth", type=click.IntRange(min=0), default=0, show_default=True,
              help="Open repeated blocks and definitions this many levels deep.")
@click.option("--latex", "as_latex", is_flag=True, help="Same as --format latex: an align* block.")
@click.option("--format", "fmt", type=click.Choice(("text", "sympy", "latex", "json")), default="text",
              show_default=True, help=SYMPY_FORMAT)
@click.option("--standalone", is_flag=True, help="With LaTeX: a whole document for pdflatex.")
@click.option("--dtype", type=click.Choice(DTYPES),
              help="The parameters' type, for their memory in the totals (fp32 unless given).")
def summary(network: Network, depth, as_latex, fmt, standalone, dtype):
    """A table of the layers, like Keras' model.summary(), with each one's formula."""
    from . import render
    from . import summary as table
    from .derive import weight_bytes

    result = table.summarize(network, depth, dtype or "fp32")
    fmt = _maybe_latex(fmt, as_latex)
    size = weight_bytes(network.analysis.total, dtype) if dtype else None
    if fmt == "json":
        document = {**render.json_document(network), **table.to_json_dict(result)}
        if dtype:
            document.update(dtype=dtype, bytes=values.json_value(size))
        click.echo(render.dumps(document))
    elif fmt == "latex":
        click.echo(_latex_output(table.to_latex(result), standalone))
    else:
        echo(table.to_text(result))


@main.command()
@network_command
@click.option("--latex", "as_latex", is_flag=True, help="Same as --format latex: an align* block.")
@click.option("--format", "fmt", type=click.Choice(("text", "sympy", "markdown", "latex", "json")),
              default="text", show_default=True, help=SYMPY_FORMAT)
@click.option("--standalone", is_flag=True, help="With LaTeX: a whole document for pdflatex.")
def explain(network: Network, as_latex, fmt, standalone):
    """The count derived in words, layer by layer."""
    from . import explain as words
    from . import render

    result = words.explain(network)
    fmt = _maybe_latex(fmt, as_latex)
    if fmt == "json":
        click.echo(render.dumps({**render.json_document(network), **words.to_json_dict(result)}))
    elif fmt == "latex":
        click.echo(_latex_output(words.to_latex(result), standalone))
    elif fmt == "markdown":
        echo(words.to_markdown(result))
    else:
        echo(words.to_text(result))


# ------------------------------------------------------------------ solve and sweep


@main.command()
@network_command
@click.option("--for", "name", required=True, metavar="NAME", help="The size to solve for.")
@click.option("--total", "budget", type=BUDGET, metavar="N",
              help="The parameter budget (a size expression: 10^6).")
@click.option("--like", "other", metavar="EXPR", help="Use the count of another network as the budget.")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
def solve(network: Network, name, budget, other, fmt):
    """The largest whole value of a size that keeps the count within a budget."""
    from . import render
    from .derive import solve as solve_for

    limit = _limit(budget, other, network.convention)
    result = solve_for(network, name, limit)
    if fmt == "json":
        click.echo(render.dumps({
            "expression": network.expression,
            "for": name,
            "total": limit,
            "value": result.value,
            "count": result.count_at_value,
            "root": None if result.root is None else str(result.root),
            "root_latex": None if result.root is None else values.latex(result.root),
        }))
        return
    if result.value is None:
        echo(f"no whole {name} >= 1 keeps the count within {values.number(limit)}")
    else:
        echo(
            f"{name} = {result.value}: {values.number(result.count_at_value)} params, "
            f"within {values.number(limit)}"
        )
    if result.root is not None:
        # SymPy's own 6 digits: a float would print inf past 1.8e308
        approx = f" ≈ {result.root.evalf(6)}" if not result.root.is_Integer else ""
        echo(f"exact root: {name} = {values.text(result.root)}{approx}")


def _limit(budget: int | None, other: str | None, convention: str) -> int:
    if (budget is None) == (other is None):
        raise click.UsageError("give the budget with --total N or --like EXPR (one of them)")
    if budget is not None:
        return budget
    like = Network.count(_syntax(other, None), Sizes(), convention)
    if like.value is None:
        raise SymparamError(
            f"--like: the other network's count is not a number: {values.text(like.total)}"
        )
    return like.value


@main.command()
@network_command
@click.option("--vary", "ranges", type=GRID_RANGE, multiple=True, required=True,
              metavar="NAME=START:STOP[:STEP]",
              help="A size to vary, e.g. d=64:4096:64 (stop included). Repeatable.")
@click.option("--csv", "csv_file", type=click.File("w", encoding="utf-8", lazy=False), metavar="FILE",
              help="Write the counts as CSV to FILE ('-': standard output).")
@click.option("--plot", "plot_path", type=NewFile(), metavar="FILE",
              help="Plot the counts to FILE: .png, .svg or .pdf (a heatmap past 8 lines).")
@click.option("--logy", is_flag=True, help="A logarithmic count axis.")
@click.option("--format", "fmt", type=click.Choice(("csv", "json")), default="csv", show_default=True)
def sweep(network: Network, ranges, csv_file, plot_path, logy, fmt):
    """Counts over a grid of sizes: CSV, JSON and a plot."""
    from . import render
    from . import sweep as grid

    result = grid.sweep(network, list(ranges))
    if csv_file is not None:
        grid.write_csv(result, csv_file)
    if plot_path:
        grid.plot(result, plot_path, logy)
    if fmt == "json":
        click.echo(render.dumps(grid.to_json_dict(result)))
    elif csv_file is None:
        with click.open_file("-", "w", encoding="utf-8") as stdout:
            grid.write_csv(result, stdout)


if __name__ == "__main__":
    main()
