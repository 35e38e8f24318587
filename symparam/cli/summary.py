"""symparam summary: the table of layers, like Keras' model.summary()."""

from __future__ import annotations

import click

from .. import values
from ..network import Network
from .common import (
    DTYPES,
    Checked,
    SYMPY_FORMAT,
    echo,
    latex_output,
    maybe_latex,
    network_command,
)


def _columns(text: str) -> tuple:
    from ..summary import checked_columns

    return checked_columns(part.strip() for part in text.split(","))


COLUMNS = Checked("LIST", _columns)


@click.command()
@network_command
@click.option("--depth", type=click.IntRange(min=0), default=0, show_default=True,
              help="Open repeated blocks and definitions this many levels deep.")
@click.option("--latex", "as_latex", is_flag=True, help="Same as --format latex: an align* block.")
@click.option("--format", "fmt", type=click.Choice(("text", "sympy", "latex", "json")), default="text",
              show_default=True, help=SYMPY_FORMAT)
@click.option("--standalone", is_flag=True, help="With LaTeX: a whole document for pdflatex.")
@click.option("--dtype", type=click.Choice(DTYPES),
              help="The parameters' type, for their memory in the totals (fp32 unless given).")
@click.option("--columns", type=COLUMNS, default="params", show_default=True, metavar="LIST",
              help="The figures beside the formula, comma separated: params, macs (the forward "
                   "pass's multiply–accumulates), activations (the values of each layer's output).")
def summary(network: Network, depth, as_latex, fmt, standalone, dtype, columns):
    """A table of the layers, like Keras' model.summary(), with each one's formula."""
    from .. import render
    from .. import summary as table
    from ..derive import weight_bytes

    result = table.summarize(network, depth, dtype or "fp32", columns)
    fmt = maybe_latex(fmt, as_latex)
    size = weight_bytes(network.analysis.total, dtype) if dtype else None
    if fmt == "json":
        document = {**render.json_document(network), **table.to_json_dict(result)}
        if dtype:
            document.update(dtype=dtype, bytes=values.json_value(size))
        click.echo(render.dumps(document))
    elif fmt == "latex":
        click.echo(latex_output(table.to_latex(result), standalone))
    else:
        echo(table.to_text(result))
