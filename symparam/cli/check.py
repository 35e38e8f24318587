"""symparam check: each layer built with PyTorch's or Keras' own classes, compared row by row."""

from __future__ import annotations

import click

from ..errors import SymparamError
from ..network import Network
from .common import UserError, echo, network_command


@click.command("check")
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
    from .. import check as checking
    from .. import render

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
