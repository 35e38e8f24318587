"""The library of standard blocks (symparam/library.sp), each checked against the
PyTorch module it names: torch's own (nn.TransformerEncoderLayer, ...) or the modules
built by hand, as torchvision builds them, in the other test files."""

from __future__ import annotations

import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch not installed: pip install torch==2.13.0 to run the checks against it"
)
from test_real_models import Bottleneck, CNBlock, MBConv  # noqa: E402
from test_torch_sequence import BasicBlock, LlamaBlock, PreNormBlock, check  # noqa: E402
from torch import nn  # noqa: E402

import symparam  # noqa: E402
from symparam import library  # noqa: E402


class InvertedResidual(nn.Module):
    """torchvision's MobileNetV2 InvertedResidual (expand_ratio > 1)."""

    def __init__(self, cin, cout, stride, t):
        super().__init__()
        wide = cin * t
        self.body = nn.Sequential(
            nn.Conv2d(cin, wide, 1, bias=False), nn.BatchNorm2d(wide), nn.ReLU6(),
            nn.Conv2d(wide, wide, 3, stride, 1, groups=wide, bias=False), nn.BatchNorm2d(wide), nn.ReLU6(),
            nn.Conv2d(wide, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.skip = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.body(x) if self.skip else self.body(x)


def encoder_layer(norm_first):
    return lambda: nn.TransformerEncoderLayer(64, 4, 256, batch_first=True, norm_first=norm_first)


BLOCKS = [
    # (expression, torch module, torch input)
    ("in(10, 64) -> transformer_encoder_layer(64, 4, 256)", encoder_layer(False), (10, 64)),
    ("in(10, 64) -> transformer_encoder_layer_norm_first(64, 4, 256)", encoder_layer(True), (10, 64)),
    ("in(10, 64) -> gpt_block(64, 4)", lambda: PreNormBlock(64, 4), (10, 64)),
    ("in(10, 64) -> llama_block(64, 8, 2, 160)", lambda: LlamaBlock(64, 8, 2, 160), (10, 64)),
    ("in(16, 16, 32) -> resnet_basic(32)", lambda: BasicBlock(32, 32), (32, 16, 16)),
    ("in(16, 16, 32) -> resnet_basic_down(64, 2)", lambda: BasicBlock(32, 64, 2), (32, 16, 16)),
    ("in(16, 16, 64) -> resnet_bottleneck(16)", lambda: Bottleneck(64, 16), (64, 16, 16)),
    ("in(16, 16, 32) -> resnet_bottleneck_down(16, 2)", lambda: Bottleneck(32, 16, 2), (32, 16, 16)),
    ("in(16, 16, 24) -> inverted_residual(24, 6)", lambda: InvertedResidual(24, 24, 1, 6), (24, 16, 16)),
    ("in(16, 16, 16) -> inverted_residual_down(16, 24, 6, 2)", lambda: InvertedResidual(16, 24, 2, 6),
     (16, 16, 16)),
    ("in(16, 16, 40) -> mbconv(40, 5)", lambda: MBConv(6, 5, 1, 40, 40), (40, 16, 16)),
    ("in(16, 16, 24) -> mbconv_down(24, 40, 5, 2)", lambda: MBConv(6, 5, 2, 24, 40), (24, 16, 16)),
    ("in(14, 14, 96) -> convnext_block(96)", lambda: CNBlock(96), (96, 14, 14)),
]


@pytest.mark.parametrize("text, make, torch_input", BLOCKS, ids=[b[0].split("-> ")[1] for b in BLOCKS])
def test_each_block_matches_its_pytorch_module(text, make, torch_input):
    channels_first = len(torch_input) == 3
    network = check(text, make, torch_input) if not channels_first else None
    if channels_first:  # vision blocks: torch is channels first, symparam channels last
        with torch.device("meta"):
            module = make().eval()
            out = module(torch.empty(2, *torch_input))
        network = symparam.parse(text, convention="torch")
        assert network.value == sum(p.numel() for p in module.parameters())
        shape = tuple(out.shape[1:])
        assert network.output_shape == shape[1:] + shape[:1]


def test_the_decoder_layer_matches_pytorch():
    with torch.device("meta"):
        module = nn.TransformerDecoderLayer(64, 4, 256, batch_first=True)
    expected = sum(p.numel() for p in module.parameters())
    for name in ("transformer_decoder_layer", "transformer_decoder_layer_norm_first"):
        network = symparam.parse(f"in(S, 64) -> layer_norm as memory; in(T, 64) -> {name}(64, 4, 256)",
                                 convention="torch")
        assert network.value - 128 == expected  # the memory's own layer norm: 2 × 64


def test_a_definition_of_the_same_name_takes_the_blocks_place():
    assert symparam.count("let gpt_block(d, H) = dense(d);\nin(4) -> gpt_block(4, 1)") == 20


def test_the_library_loads_only_when_a_block_is_called():
    library.definitions.cache_clear()
    symparam.parse("in(4) -> dense(2)")
    assert library.definitions.cache_info().currsize == 0
    symparam.parse("in(T, d) -> gpt_block(d, H)")
    assert library.definitions.cache_info().currsize == 1


def test_a_misspelled_block_is_suggested():
    with pytest.raises(symparam.SymparamError, match=r"unknown layer 'gpt_blok'; did you mean 'gpt_block'\?"):
        symparam.parse("in(T, d) -> gpt_blok(d, H)")


def test_every_block_is_in_the_documentation():
    from pathlib import Path

    blocks = (Path(__file__).resolve().parents[1] / "docs" / "blocks.md").read_text(encoding="utf-8")
    for name in library.definitions():
        assert f"`{name}(" in blocks, name


def test_a_text_redefining_a_helper_does_not_change_the_blocks_that_use_it():
    """The library's mbconv calls its own squeeze_excite, whatever the text calls so."""
    with torch.device("meta"):
        expected = sum(p.numel() for p in MBConv(6, 5, 1, 40, 40).parameters())
    text = "let squeeze_excite(c, s) = relu;\nin(16, 16, 40) -> mbconv(40, 5) -> squeeze_excite(40, 10)"
    assert symparam.parse(text, convention="torch").value == expected
