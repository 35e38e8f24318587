"""symparam sweep: counts over a grid of sizes, as CSV, JSON or a plot."""

from __future__ import annotations

import os

import click

from ..network import Network
from .common import Checked, network_command


def _grid_range(text: str):
    from ..sweep import parse_range

    return parse_range(text)


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


@click.command()
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
    from .. import render
    from .. import sweep as grid

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
