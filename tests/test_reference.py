"""`symparam layers`: the layer reference, generated from the registry."""

from __future__ import annotations

from click.testing import CliRunner

from symparam import reference
from symparam.cli import main
from symparam.layers.base import REGISTRY


def test_every_layer_kind_is_listed_with_its_signature():
    table = CliRunner().invoke(main, ["layers"]).output
    for name in REGISTRY:
        assert f"\n{name}" in "\n" + table, name


def test_the_formulas_are_counted_on_named_sizes():
    by_name = {entry.name: entry for entry in reference.entries()}
    assert (by_name["dense"].example, by_name["dense"].keras) == ("in(d) -> dense(units)", "d·units + units")
    assert by_name["conv2d"].keras == "C·filters·k² + filters"  # k×k kernel on C channels
    # where the conventions differ, both are given
    assert (by_name["batch_norm"].keras, by_name["batch_norm"].torch) == ("4·d", "2·d")
    assert "4·d (Keras); 2·d (PyTorch)" in reference.layer_table()


def test_signatures_show_defaults_as_written():
    by_name = {entry.name: entry for entry in reference.entries()}
    assert by_name["dense"].signature == "dense(units, bias=true, activation=none, tie=none, lora=none)"
    assert by_name["input"].signature == "input(size, ..., data_format=channels_last)"
    assert "bias=true" in by_name["attention"].signature
    assert "return_sequences=false (Keras) / true (PyTorch)" in by_name["lstm"].signature


def test_one_kind_in_full_by_an_alias():
    result = CliRunner().invoke(main, ["layers", "Conv2d"])
    assert result.exit_code == 0
    assert result.output.startswith("conv2d(filters, kernel, stride=(1, 1), padding=valid")
    assert "example: in(H, W, C) -> conv2d(filters, k)" in result.output
    assert "aliases: Conv2D, Conv2d, Convolution2D" in result.output


def test_an_unknown_kind_is_an_error_with_a_suggestion():
    result = CliRunner().invoke(main, ["layers", "dnse"])
    assert result.exit_code == 2
    assert result.stderr == "error: unknown layer 'dnse'; did you mean 'dense'?\n"
