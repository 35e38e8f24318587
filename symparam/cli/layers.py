"""symparam layers: the layer reference."""

from __future__ import annotations

import click

from .. import values
from ..errors import SymparamError
from .common import ASCII_HELP, UserError, echo


@click.command()
@click.argument("name", required=False)
@click.option("--ascii", "ascii_only", is_flag=True, help=ASCII_HELP)
def layers(name, ascii_only):
    """List every layer kind, or show one (NAME, or an alias) in full: its signature,
    what it is, and its parameters under each convention."""
    from .. import reference

    try:
        with values.notation("ascii" if ascii_only else "unicode"):
            echo(reference.layer_page(name) if name else reference.layer_table())
    except SymparamError as error:
        raise UserError(error) from None
