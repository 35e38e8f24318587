"""symparam memory: the bytes of the parameters, of training, of the key/value cache
and of the activations."""

from __future__ import annotations

import click

from ..memory import ACTIVATIONS, OPTIMIZERS
from ..network import Network
from .common import DTYPES, echo, latex_output, network_command, write_figures


@click.command()
@network_command
@click.option("--dtype", type=click.Choice(DTYPES), default="fp32", show_default=True,
              help="The type the weights (and activations) are stored as; bf16 and fp16 train in "
                   "mixed precision, with fp32 master weights.")
@click.option("--optimizer", type=click.Choice(OPTIMIZERS), default="adam", show_default=True,
              help="The optimizer whose states --training counts.")
@click.option("--training", is_flag=True,
              help="Also the bytes of training: weights, gradients and optimizer states.")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True, metavar="B",
              help="Sequences in the key/value cache, examples in the activations.")
@click.option("--activations", type=click.Choice(ACTIVATIONS), default="outputs", show_default=True,
              help="outputs: the layers' outputs; korthikanti: Korthikanti et al. 2022's bytes per "
                   "transformer layer (needs attention).")
@click.option("--format", "fmt", type=click.Choice(("text", "latex", "json")), default="text",
              show_default=True, help="How to write the estimates.")
@click.option("--leading", metavar="NAME", help="Each figure's leading term as NAME grows without bound.")
@click.option("--standalone", is_flag=True, help="With LaTeX: a whole document for pdflatex.")
def memory(network: Network, dtype, optimizer, training, batch, activations, fmt, standalone, leading):
    """Estimate the memory of EXPRESSION in bytes: its parameters, with --training what
    training holds beside them, the key/value cache of its attention layers, and its
    activations."""
    from .. import memory as estimates

    options = dict(dtype=dtype, optimizer=optimizer, training=training, batch=batch, activations=activations)
    if leading:
        return _leading(network, leading, options, fmt, standalone)
    report = estimates.memory(network, **options)
    if fmt == "json":
        from .. import render

        click.echo(render.dumps({**render.json_document(network), **estimates.to_json_dict(report)}))
    elif fmt == "latex":
        click.echo(latex_output(estimates.to_latex(report), standalone))
    else:
        echo(estimates.to_text(report))


def _leading(network: Network, name: str, options: dict, fmt: str, standalone: bool) -> None:
    """The figures' leading terms as `name` grows, without their working."""
    from .. import memory as estimates
    from ..derive import leading_terms

    def figures(general) -> dict:
        report = estimates.memory(general, **options)
        method = "layer outputs" if report.activations_method == "outputs" else "Korthikanti et al. 2022"
        shown = {
            "parameters": (f"parameters ({report.dtype})", report.parameters),
            "training": (f"training ({report.dtype}, {report.optimizer})", report.training),
            "kv_cache": (f"kv cache (batch {report.batch})", report.kv_cache),
            "activations": (f"activations ({method}, batch {report.batch})", report.activations),
        }
        return {key: figure for key, figure in shown.items() if figure[1] is not None}

    document = {"expression": network.expression, "leading": name, **options}
    write_figures(leading_terms(network, name, figures), fmt, document, f"leading terms as {name} → ∞, in bytes",
                  standalone)
