"""Differential tests: random architectures over every layer kind and structure (the
generator of test_tree.py), built layer by layer with PyTorch and Keras themselves
through `symparam check`, must agree with symparam's count row by row.

The longer run is `python benchmarks/differential.py`.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, assume, given, settings

import symparam
from helpers import break_dense
from symparam.check import check
from test_tree import architectures

pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0 to run these")

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def checked(arch, against: str):
    network = symparam.parse(arch.concrete, convention=against, **arch.concrete_sizes)
    try:
        return check(network, against)
    except symparam.SymparamError as error:
        # a Σ over a growing repetition's instances, or a layer the framework has no class for
        assume("Σ over its instances" not in str(error) and "cannot build" not in str(error))
        assume("Keras'" not in str(error) and "PyTorch's" not in str(error) and "PyTorch has" not in str(error))
        raise


def disagreement(result) -> str:
    rows = [f"{row.source}: symparam {row.symparam}, framework {row.framework}"
            for row in result.rows if not row.agrees]
    return "\n".join(rows or [f"totals: symparam {result.symparam}, framework {result.framework_total}"])


@settings(max_examples=200, **SETTINGS)
@given(architectures())
def test_pytorch_agrees(arch):
    assume(arch.convention == "torch")
    result = checked(arch, "torch")
    assert result.agrees, f"{arch.concrete}\n{disagreement(result)}"


@settings(max_examples=40, **SETTINGS)
@given(architectures())
def test_keras_agrees(arch):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("keras", reason="Keras not installed")
    assume(arch.convention == "keras")
    result = checked(arch, "keras")
    assert result.agrees, f"{arch.concrete}\n{disagreement(result)}"


def test_a_wrong_formula_is_found_and_shrunk_to_one_layer(monkeypatch):
    """A deliberately wrong count for one kind (a bias too many on dense) is caught by the
    differential search, which shrinks it to a network of that one layer."""
    from hypothesis import find

    break_dense(monkeypatch)

    def disagrees(arch) -> bool:
        if arch.convention != "torch":
            return False
        try:
            network = symparam.parse(arch.concrete, convention="torch", **arch.concrete_sizes)
            return not check(network, "torch").agrees
        except symparam.SymparamError:
            return False

    found = find(architectures(), disagrees, settings=settings(max_examples=2000, database=None, **SETTINGS))
    network = symparam.parse(found.concrete, convention="torch", **found.concrete_sizes)
    assert [row.kind for row in network.layers] == ["dense"], found.concrete
