"""symparam solve: the largest size that keeps the count within a budget."""

from __future__ import annotations

import click

from .. import values
from ..errors import SymparamError
from ..network import Network
from ..sizes import Sizes
from .common import Checked, echo, network_command, syntax


def _budget(text: str) -> int:
    from ..sizes import constant
    from ..syntax import parse_binding

    value = constant(parse_binding(f"total={text}").values[0], text)
    if value != int(value):
        raise SymparamError(f"--total {text}: a budget is a whole number")
    return int(value)


BUDGET = Checked("N", _budget)


@click.command()
@network_command
@click.option("--for", "name", required=True, metavar="NAME", help="The size to solve for.")
@click.option("--total", "budget", type=BUDGET, metavar="N",
              help="The parameter budget (a size expression: 10^6).")
@click.option("--like", "other", metavar="EXPR", help="Use the count of another network as the budget.")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
def solve(network: Network, name, budget, other, fmt):
    """The largest whole value of a size that keeps the count within a budget."""
    from .. import render
    from ..derive import solve as solve_for

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
    like = Network.count(syntax(other, None), Sizes(), convention)
    if like.value is None:
        raise SymparamError(
            f"--like: the other network's count is not a number: {values.text(like.total)}"
        )
    return like.value
