"""symparam explain: the count derived in words, layer by layer."""

from __future__ import annotations

import click

from ..network import Network
from .common import SYMPY_FORMAT, echo, latex_output, maybe_latex, network_command


@click.command()
@network_command
@click.option("--latex", "as_latex", is_flag=True, help="Same as --format latex: an align* block.")
@click.option("--format", "fmt", type=click.Choice(("text", "sympy", "markdown", "latex", "json")),
              default="text", show_default=True, help=SYMPY_FORMAT)
@click.option("--standalone", is_flag=True, help="With LaTeX: a whole document for pdflatex.")
@click.option("--compute", is_flag=True,
              help="Each layer's forward compute too: multiply–accumulates and elementwise operations.")
def explain(network: Network, as_latex, fmt, standalone, compute):
    """The count derived in words, layer by layer."""
    from .. import explain as words
    from .. import render

    result = words.explain(network, compute)
    fmt = maybe_latex(fmt, as_latex)
    if fmt == "json":
        click.echo(render.dumps({**render.json_document(network), **words.to_json_dict(result)}))
    elif fmt == "latex":
        click.echo(latex_output(words.to_latex(result), standalone))
    elif fmt == "markdown":
        echo(words.to_markdown(result))
    else:
        echo(words.to_text(result))
