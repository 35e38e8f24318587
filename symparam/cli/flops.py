"""symparam flops: the forward and training compute, as MACs and FLOPs, with formulas."""

from __future__ import annotations

import click

from .. import values
from ..errors import SymparamError
from ..network import Network
from .common import Checked, maybe_latex, network_command, write_figures


def _tokens(text: str):
    from ..sizes import constant
    from ..syntax import parse_binding

    value = constant(parse_binding(f"tokens={text}").values[0], text)
    if value != int(value) or value < 1:
        raise SymparamError(f"--tokens {text}: a number of tokens is a whole number >= 1")
    return int(value)


TOKENS = Checked("D", _tokens)


@click.command()
@network_command
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True, metavar="B",
              help="Examples per forward pass: the per-example figures times B.")
@click.option("--training", is_flag=True,
              help="Forward + backward: 3 × the forward FLOPs (6 per parameter per token).")
@click.option("--tokens", type=TOKENS, metavar="D",
              help="FLOPs for D tokens of a sequence model (a training run's D: 300e9).")
@click.option("--leading", metavar="NAME", help="Each formula's leading term as NAME grows without bound.")
@click.option("--latex", "as_latex", is_flag=True, help="Same as --format latex: an align* block.")
@click.option("--format", "fmt", type=click.Choice(("text", "latex", "json")), default="text",
              show_default=True)
@click.option("--standalone", is_flag=True, help="With LaTeX: a whole document for pdflatex.")
def flops(network: Network, batch, training, tokens, leading, as_latex, fmt, standalone):
    """Forward compute of EXPRESSION: multiply–accumulates (MACs) of the matrix products
    and convolutions, FLOPs (2 per MAC) and, apart, the elementwise operations; per
    token for a sequence model; --training for forward + backward."""
    figures = _figures(network, batch, training, tokens, leading)
    document = {"expression": network.expression, "batch": batch, "training": training}
    if leading:
        document["leading"] = leading
    heading = f"leading terms as {leading} → ∞" if leading else ""
    write_figures(figures, maybe_latex(fmt, as_latex), document, heading, standalone)


def _figures(network: Network, batch, training, tokens, leading) -> dict:
    """key: (label, value), in the order printed."""
    compute = network.compute(batch, training)
    per = "one example" if batch == 1 else f"a batch of {batch}"
    figures = {
        "macs": (f"MACs, forward, {per}", batch * compute.macs),
        "flops": (f"FLOPs, {'training (3 × forward)' if training else 'forward'}, {per}", compute.flops),
        "elementwise": (f"elementwise operations, {'training' if training else 'forward'}, {per} "
                        "(not in the FLOPs)", compute.elementwise_total),
    }
    if compute.per_token is not None:
        passes = 3 if training else 1
        figures["tokens"] = ("tokens per example", compute.tokens)
        figures["macs_per_token"] = ("MACs per token, forward", compute.per_token)
        figures["flops_per_token"] = (f"FLOPs per token, {'training' if training else 'forward'}",
                                      passes * 2 * compute.per_token)
    if tokens is not None:
        figures["flops_for_tokens"] = (
            f"FLOPs for {values.number(tokens)} tokens{', training' if training else ''}",
            compute.flops_for_tokens(tokens),
        )
        if training:  # the figure papers quote: Kaplan et al. (2020), the GPT-3 paper
            figures["six_n_d"] = (f"6·N·D, N = {values.number(network.total) if network.is_concrete else 'the count'}"
                                  " (6 FLOPs per parameter per token)", 6 * network.total * tokens)
    if leading:
        from ..derive import leading_terms

        figures = leading_terms(network, leading, lambda general: _figures(general, batch, training, tokens, None))
    return figures
