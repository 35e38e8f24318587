"""What the commands share: reading the expression, --set and the other option types,
errors as `error: ...` with exit code 2, and the decorator that counts the network."""

from __future__ import annotations

import functools

import click

from .. import values
from ..bindings import sizes_from_texts
from ..dtypes import BYTES_PER_PARAM
from ..errors import SymparamError
from ..limits import MAX_INPUT
from ..network import CONVENTIONS, Network
from ..sizes import Sizes
from ..syntax import parse_network

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


SETTING = Checked("NAME=VALUE", _setting)


def read_expression(expression: str | None, file) -> tuple[str, str | None]:
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


# Commands that count as a framework does (check --against, export --to): --convention
# would be ignored, so they do not offer it.
FRAMEWORK_COMMANDS = ("check_command", "export_command")


def network_command(function):
    """The options every command shares: EXPR or -f FILE, --set, --convention. The
    command receives the counted Network; a SymparamError becomes exit code 2."""
    takes_convention = function.__name__ not in FRAMEWORK_COMMANDS

    @click.argument("expression", required=False)
    @click.option("-f", "--file", "file", type=SourceFile(), metavar="FILE",
                  help="Read the expression from FILE ('-': stdin).")
    @click.option("--set", "settings", type=SETTING, multiple=True, metavar="NAME=VALUE",
                  help="Give a size: d=512, h_1=16, or a sequence h=784,16,10. Repeatable.")
    @_convention_option(takes_convention)
    @click.option("--ascii", "ascii_only", is_flag=True,
                  help=ASCII_HELP)
    @functools.wraps(function)
    def command(expression, file, settings, ascii_only, convention="keras", **options):
        if options.get("all_examples"):  # check's own: the files of examples/, no expression
            if expression is not None or file is not None:
                raise click.UsageError("--all-examples checks the files in examples/: give no EXPRESSION or -f")
            return function(None, **options)
        text, origin = read_expression(expression, file)
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
                network = Network.count(syntax(text, origin), sizes, convention)
                with values.notation(**network.layout):
                    function(network, **options)
        except SymparamError as error:
            raise UserError(error, origin) from None

    return command


def _convention_option(offered: bool):
    if not offered:
        return lambda function: function
    return click.option("--convention", type=click.Choice(CONVENTIONS), default="keras", show_default=True,
                        help="Whose parameter counting to follow where Keras and PyTorch differ.")


def syntax(text: str, origin: str | None):
    """The parsed text, with the definitions of the files it uses (read relative to
    its own file; to the current folder for an expression or standard input)."""
    syntax = parse_network(text)
    if syntax.uses:
        from ..files import resolve

        syntax = resolve(syntax, origin if origin and origin != "<stdin>" else None)
    return syntax


def latex_output(body: str, standalone: bool) -> str:
    if not standalone:
        return body
    return (
        "\\documentclass{article}\n\\usepackage{amsmath}\n"
        "\\allowdisplaybreaks  % a long network's lines may break across pages\n"
        "\\begin{document}\n"
        f"{body}\n\\end{{document}}"
    )


def maybe_latex(fmt: str, as_latex: bool) -> str:
    return "latex" if as_latex else fmt


SYMPY_FORMAT = "sympy: the text with formulas as SymPy writes them, to paste into Python."


def write_figures(figures: dict, fmt: str, document: dict, heading: str = "", standalone: bool = False) -> None:
    """Figures {key: (label, value)} as JSON (beside `document`'s keys), an align* block,
    or one `label: value` line each (under `heading`), with 3.14 × 10^23 beside a large one."""
    if fmt == "json":
        from .. import render

        document.update({key: values.json_value(value) for key, (_, value) in figures.items()})
        click.echo(render.dumps(document))
    elif fmt == "latex":
        lines = [rf"\text{{{label}}} &= {values.latex(value)}" for label, value in figures.values()]
        click.echo(latex_output("\\begin{align*}\n" + " \\\\\n".join(lines) + "\n\\end{align*}", standalone))
    else:
        if heading:
            echo(heading)
        for label, value in figures.values():
            # whole numbers grouped (12,960); a fraction of a MAC per token as written (1/3)
            shown = values.number(value) if values.is_concrete(value) else values.show(value)
            approximately = values.scientific(value)
            echo(f"{label}: {shown}" + (f" (≈ {approximately})" if approximately else ""))
