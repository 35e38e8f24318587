"""Rich display in Jupyter: the objects render as mathematics and tables by themselves."""

from __future__ import annotations

import re

import symparam

SEED_CNN = "in(20, 20, 3) -> conv2d(2, 3, padding=same) -> conv2d(3, 3, padding=same) -> flatten -> dense(2)"


def test_network_shows_its_total_as_latex():
    network = symparam.parse("in(h0) -> dense(h1) -> ... -> dense(hl)")
    assert network._repr_latex_() == (
        r"$\displaystyle \sum_{i=1}^{l} h_{i - 1} h_{i} + \sum_{i=1}^{l} h_{i}$"
    )


def test_network_shows_its_summary_as_an_html_table():
    html = symparam.parse(SEED_CNN)._repr_html_()
    assert "<table>" in html and "$$ \\text{params} = 2{,}515 $$" in html
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", html)
    for value in ("56", "57", "2,402"):
        assert value in cells
    assert "conv2d(2, 3, padding=same)" in cells


def test_summary_explanation_and_solution_display():
    network = symparam.parse("in(784) -> dense(h) -> dense(10)")
    assert "<table>" in network.summary()._repr_html_()
    assert "\\begin{align*}" in network.summary()._repr_latex_()
    markdown = symparam.parse("in(2) -> dense(3) -> dense(2)").explain()._repr_markdown_()
    assert "2 inputs × 3 outputs = 6 weights" in markdown and "17 parameters" in markdown
    html = network.solve("h", 100_000)._repr_html_()
    assert "<strong>h = 125</strong>" in html and "h = \\frac{6666}{53}" in html


def test_html_escapes_the_source():
    html = symparam.parse("in(4) -> dense(4) # <b>not bold</b>\n")._repr_html_()
    assert "<b>" not in html
