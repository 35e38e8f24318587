"""The command line: a thin layer over the API and the renderers."""

from __future__ import annotations

import sys

import click

from . import render
from .bindings import sizes_from_texts
from .errors import SymparamError
from .network import CONVENTIONS, Network, parse
from .syntax import parse_network
from .analysis import analyze

FORMATS = ("text", "latex", "json")


def _read_expression(expression: str | None, file: str | None) -> tuple[str, str | None]:
    """The expression text and where it came from (a file name, for messages)."""
    if expression is not None and file is not None:
        raise click.UsageError("give the expression or -f FILE, not both")
    if file is not None:
        if file == "-":
            return sys.stdin.read(), "<stdin>"
        try:
            with open(file, encoding="utf-8") as handle:
                return handle.read(), file
        except OSError as error:
            raise click.BadParameter(f"cannot read {file}: {error.strerror}", param_hint="-f")
    if expression is None:
        raise click.UsageError("give an expression, -f FILE, or - to read standard input")
    if expression == "-":
        return sys.stdin.read(), "<stdin>"
    return expression, None


def _fail(error: SymparamError, origin: str | None) -> None:
    prefix = f"{origin}:" if origin and error.span else ""
    click.echo(f"error: {prefix}{error}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="symparam")
def main():
    """symparam: exact formulas for the number of parameters of a neural network."""
    # Counts are exact at any size; Python limits int -> str to 4300 digits by default.
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)


@main.command()
@click.argument("expression", required=False)
@click.option("-f", "--file", "file", metavar="FILE", help="Read the expression from FILE ('-': stdin).")
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE",
              help="Give a size: d=512, h_1=16, or a sequence h=784,16,10. Repeatable.")
@click.option("--latex", "as_latex", is_flag=True, help="Same as --format latex.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--breakdown", is_flag=True, help="Show each layer's working, then the total.")
@click.option("--convention", type=click.Choice(CONVENTIONS), default="keras", show_default=True,
              help="Whose parameter counting to follow where Keras and PyTorch differ.")
def count(expression, file, settings, as_latex, fmt, breakdown, convention):
    """Count the parameters of EXPRESSION, e.g. "in(784) -> dense(16) -> dense(10)"."""
    text, origin = _read_expression(expression, file)
    try:
        tree = parse_network(text)
        sizes = sizes_from_texts(settings)
        network = Network(tree, analyze(tree, sizes, convention), convention, sizes)
    except SymparamError as error:
        _fail(error, origin)
    fmt = "latex" if as_latex else fmt
    if fmt == "json":
        click.echo(render.to_json(network))
    elif breakdown:
        click.echo(render.breakdown(network))
        if fmt == "latex" and not network.is_concrete:
            click.echo(render.latex(network.analysis.total))
    elif fmt == "latex":
        click.echo(render.latex(network.analysis.total))
    else:
        click.echo(render.text(network.analysis.total))


if __name__ == "__main__":
    main()
