"""symparam count: the total, its leading term and order, its size in bytes."""

from __future__ import annotations

import click

from .. import values
from ..network import Network
from .common import DTYPES, SYMPY_FORMAT, echo, maybe_latex, network_command


@click.command()
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
    fmt = maybe_latex(fmt, as_latex)
    total = network.analysis.total
    extras = _derived(network, leading, order, dtype)
    if fmt == "json" or breakdown:
        from .. import render
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
    from ..derive import big_o, leading_term, weight_bytes

    extras = {}
    if leading:
        extras["leading"] = leading_term(network, leading)
    if order:
        extras["order"] = big_o(network, order)
    if dtype:
        extras["bytes"] = weight_bytes(network.analysis.total, dtype)
    return extras


def _binary_size(size: int) -> str:
    from ..derive import binary_size

    return binary_size(size)
