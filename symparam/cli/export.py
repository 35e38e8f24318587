"""symparam export: the model as a PyTorch module or a Keras 3 functional model."""

from __future__ import annotations

import click

from ..network import Network
from .common import network_command


@click.command("export")
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
