"""The table of framework layers (docs/frameworks.md) is complete: every layer class of
torch.nn and keras.layers is sorted into it, and what it says holds nothing holds nothing."""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import pytest

from symparam.frameworks import classes
from symparam.layers.base import REGISTRY

PAGE = Path(__file__).resolve().parent.parent / "docs" / "frameworks.md"


def _sorted_into(name, holding, nothing, containers) -> int:
    return (name in holding) + (name in nothing) + (name in containers)


def test_every_pytorch_class_is_in_the_table():
    nn = pytest.importorskip("torch.nn", reason="PyTorch not installed")
    names = {n for n, c in vars(nn).items() if inspect.isclass(c) and issubclass(c, nn.Module)}
    missing = [n for n in sorted(names) if _sorted_into(
        n, classes.TORCH_HOLDING, classes.TORCH_NOTHING, classes.TORCH_CONTAINERS) != 1]
    assert not missing, f"torch.nn classes not sorted into symparam/frameworks/classes.py: {missing}"


def test_every_keras_class_is_in_the_table():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras", reason="Keras not installed")
    names = {n for n, c in vars(keras.layers).items()
             if inspect.isclass(c) and issubclass(c, keras.layers.Layer)}
    missing = [n for n in sorted(names) if _sorted_into(
        n, classes.KERAS_HOLDING, classes.KERAS_NOTHING, classes.KERAS_CONTAINERS) != 1]
    assert not missing, f"keras.layers classes not sorted into symparam/frameworks/classes.py: {missing}"


def test_the_kinds_named_exist():
    from symparam import library

    blocks = library.definitions()
    for holding in (classes.TORCH_HOLDING, classes.KERAS_HOLDING):
        for name, kind in holding.items():
            assert kind == "" or kind in REGISTRY or kind in blocks, (name, kind)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
def test_pytorchs_transformer_is_written_as_the_table_says():
    torch = pytest.importorskip("torch", reason="PyTorch not installed")
    import symparam

    text = classes.NOTES[("torch", "Transformer")].strip("`")
    text = text.replace("d, H, F", "512, 8, 2048").replace(", d)", ", 512)")
    model = torch.nn.Transformer()  # d=512, 8 heads, 2048 wide, 6 + 6 layers, both normed
    assert symparam.count(text, convention="torch") == sum(p.numel() for p in model.parameters())


@pytest.mark.filterwarnings("ignore:`NLLLoss2d` has been deprecated")
def test_what_holds_nothing_holds_nothing():
    """Every class said to hold nothing that can be made without arguments has no
    parameters and no buffers (PyTorch), no weights once built (Keras)."""
    nn = pytest.importorskip("torch.nn", reason="PyTorch not installed")
    for name in classes.TORCH_NOTHING:
        try:
            module = getattr(nn, name)()
        except TypeError:  # needs arguments (a pool its window): nothing to make here
            continue
        assert not list(module.parameters()) and not list(module.buffers()), name


def test_the_page_is_what_the_table_gives():
    assert PAGE.read_text(encoding="utf-8") == classes.markdown_page(), (
        "docs/frameworks.md differs from symparam/frameworks/classes.py: run python tests/update_examples.py")
