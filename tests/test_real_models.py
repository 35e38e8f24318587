"""Model files against PyTorch 2.13: ViT-B/16, ConvNeXt-T, EfficientNet-B0, a frozen
ResNet-50 backbone, DenseNet-121, VGG-16 and a U-Net, each built by hand as torchvision
(or the reference implementation) builds it (torchvision itself does not import beside
the CPU torch), on the meta device; and Mamba-130m from transformers. The expected
counts come from torch and from the published figures; the trainable split from
requires_grad.
"""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch not installed: pip install torch==2.13.0 to run the checks against it"
)
from torch import nn  # noqa: E402

import symparam  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def split(model: nn.Module) -> tuple[int, int]:
    """(trainable, non-trainable) parameters, as torch keeps them."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    return trainable, frozen


def output_shape(model: nn.Module, channels_first_input: tuple) -> tuple:
    with torch.device("meta"):
        out = model.eval()(torch.empty(1, *channels_first_input))
    shape = tuple(out.shape[1:])
    return shape[1:] + shape[:1] if len(shape) == 3 else shape  # channels last


# ------------------------------------------------------------------ ViT-B/16


class EncoderBlock(nn.Module):
    def __init__(self, d, heads, mlp):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(d, eps=1e-6), nn.LayerNorm(d, eps=1e-6)
        self.self_attention = nn.MultiheadAttention(d, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(d, mlp), nn.GELU(), nn.Linear(mlp, d))

    def forward(self, x):
        h = self.ln_1(x)
        x = x + self.self_attention(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class ViT(nn.Module):
    """torchvision's VisionTransformer(image_size=224, patch_size=16, 12 layers, 12 heads,
    hidden 768, mlp 3072): a class token and a learnable position embedding."""

    def __init__(self, d=768, layers=12, heads=12, mlp=3072, classes=1000):
        super().__init__()
        self.conv_proj = nn.Conv2d(3, d, 16, 16)
        self.class_token = nn.Parameter(torch.zeros(1, 1, d))
        self.pos_embedding = nn.Parameter(torch.empty(1, 197, d))
        self.layers = nn.Sequential(*(EncoderBlock(d, heads, mlp) for _ in range(layers)))
        self.ln = nn.LayerNorm(d, eps=1e-6)
        self.head = nn.Linear(d, classes)

    def forward(self, x):
        x = self.conv_proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = self.ln(self.layers(x + self.pos_embedding))
        return self.head(x[:, 0])


# ------------------------------------------------------------------ ConvNeXt-T


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class CNBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * 1e-6)

    def forward(self, x):
        h = self.mlp(self.norm(self.dwconv(x).permute(0, 2, 3, 1))).permute(0, 3, 1, 2)
        return x + self.layer_scale * h


def convnext_tiny():
    dims, depths = (96, 192, 384, 768), (3, 3, 9, 3)
    layers = [nn.Conv2d(3, 96, 4, 4), LayerNorm2d(96, eps=1e-6)]
    for stage, (dim, depth) in enumerate(zip(dims, depths)):
        if stage:
            layers += [LayerNorm2d(dims[stage - 1], eps=1e-6), nn.Conv2d(dims[stage - 1], dim, 2, 2)]
        layers += [CNBlock(dim) for _ in range(depth)]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.LayerNorm(768, eps=1e-6), nn.Linear(768, 1000))


# ------------------------------------------------------------------ EfficientNet-B0


class SqueezeExcitation(nn.Module):
    def __init__(self, channels, squeeze):
        super().__init__()
        self.fc1, self.fc2 = nn.Conv2d(channels, squeeze, 1), nn.Conv2d(squeeze, channels, 1)

    def forward(self, x):
        gate = self.fc2(nn.functional.silu(self.fc1(x.mean((2, 3), keepdim=True))))
        return x * gate.sigmoid()


def conv_bn(cin, cout, kernel, stride=1, groups=1, act=True):
    layers = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
              nn.BatchNorm2d(cout)]
    return layers + [nn.SiLU()] if act else layers


class MBConv(nn.Module):
    def __init__(self, expand, kernel, stride, cin, cout):
        super().__init__()
        wide = cin * expand
        layers = conv_bn(cin, wide, 1) if expand != 1 else []
        layers += conv_bn(wide, wide, kernel, stride, groups=wide)
        layers += [SqueezeExcitation(wide, max(1, cin // 4))]
        layers += conv_bn(wide, cout, 1, act=False)
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.block(x) if self.residual else self.block(x)


def efficientnet_b0():
    settings = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2),
                (6, 3, 2, 40, 80, 3), (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4),
                (6, 3, 1, 192, 320, 1)]
    layers = conv_bn(3, 32, 3, 2)
    for expand, kernel, stride, cin, cout, n in settings:
        layers += [MBConv(expand, kernel, stride, cin, cout)]
        layers += [MBConv(expand, kernel, 1, cout, cout) for _ in range(n - 1)]
    layers += conv_bn(320, 1280, 1)
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2),
                         nn.Linear(1280, 1000))


# ------------------------------------------------------------------ ResNet-50, frozen


class Bottleneck(nn.Module):
    def __init__(self, cin, width, stride=1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, 4 * width, 1, bias=False), nn.BatchNorm2d(4 * width))
        self.shortcut = nn.Identity() if stride == 1 and cin == 4 * width else nn.Sequential(
            nn.Conv2d(cin, 4 * width, 1, stride, bias=False), nn.BatchNorm2d(4 * width))

    def forward(self, x):
        return nn.functional.relu(self.body(x) + self.shortcut(x))


def resnet50_frozen(classes=10):
    """torchvision's resnet50 with requires_grad off everywhere, then fc replaced."""
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
              nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for block in range(blocks):
            layers.append(Bottleneck(cin, width, stride if block == 0 else 1))
            cin = 4 * width
    backbone = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
    for parameter in backbone.parameters():
        parameter.requires_grad = False
    return nn.Sequential(backbone, nn.Linear(2048, classes))


# ------------------------------------------------------------------ DenseNet-121


class DenseLayer(nn.Module):
    def __init__(self, cin, growth):
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm2d(cin), nn.ReLU(), nn.Conv2d(cin, 4 * growth, 1, bias=False),
            nn.BatchNorm2d(4 * growth), nn.ReLU(), nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False))

    def forward(self, x):
        return torch.cat([x, self.body(x)], 1)


def densenet121(growth=32):
    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    channels = 64
    for block, n in enumerate((6, 12, 24, 16)):
        for _ in range(n):
            layers.append(DenseLayer(channels, growth))
            channels += growth
        if block < 3:
            layers += [nn.BatchNorm2d(channels), nn.ReLU(), nn.Conv2d(channels, channels // 2, 1, bias=False),
                       nn.AvgPool2d(2, 2)]
            channels //= 2
    return nn.Sequential(*layers, nn.BatchNorm2d(channels), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(channels, 1000))


# ------------------------------------------------------------------ VGG-16 and a U-Net


def vgg16():
    layers, channels = [], 3
    for width, convs in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        for _ in range(convs):
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
            channels = width
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Dropout(),
                         nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 1000))


class DoubleConv(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                         nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class UNet(nn.Module):
    """milesial/Pytorch-UNet's UNet(n_channels=3, n_classes=2, bilinear=False)."""

    def __init__(self, channels=3, classes=2):
        super().__init__()
        widths = (64, 128, 256, 512, 1024)
        self.inc = DoubleConv(channels, 64)
        self.downs = nn.ModuleList(nn.Sequential(nn.MaxPool2d(2), DoubleConv(a, b))
                                   for a, b in zip(widths, widths[1:]))
        self.ups = nn.ModuleList(nn.ConvTranspose2d(w, w // 2, 2, stride=2) for w in widths[:0:-1])
        self.convs = nn.ModuleList(DoubleConv(w, w // 2) for w in widths[:0:-1])
        self.outc = nn.Conv2d(64, classes, 1)

    def forward(self, x):
        skips = [self.inc(x)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        x = skips.pop()
        for up, conv in zip(self.ups, self.convs):
            x = conv(torch.cat([skips.pop(), up(x)], 1))
        return self.outc(x)


# ------------------------------------------------------------------ the checks

MODELS = [
    # (model file, torch model, published count, published trainable or None)
    pytest.param("vit_b16", ViT, 86_567_656, None, id="vit_b16"),
    pytest.param("convnext_tiny", convnext_tiny, 28_589_128, None, id="convnext_tiny"),
    pytest.param("efficientnet_b0", efficientnet_b0, 5_288_548, None, id="efficientnet_b0"),
    pytest.param("resnet50_frozen", resnet50_frozen, 23_528_522, 20_490, id="resnet50_frozen"),
    pytest.param("vgg16", vgg16, 138_357_544, None, id="vgg16"),
    pytest.param("unet", UNet, 31_037_698, None, id="unet"),
]


@pytest.mark.parametrize("name, make, published, published_trainable", MODELS)
def test_model_file_matches_pytorch(name, make, published, published_trainable):
    with torch.device("meta"):
        model = make()
    trainable, frozen = split(model)
    assert trainable + frozen == published  # the hand-built model is torchvision's
    if published_trainable is not None:
        assert trainable == published_trainable
    network = symparam.parse((EXAMPLES / f"{name}.sp").read_text(), convention="torch")
    assert network.value == published
    assert (network.trainable, network.non_trainable) == (trainable, frozen)
    assert network.output_shape == output_shape(model, network.input_shape[-1:] + network.input_shape[:-1])
    assert sum(row.params for row in network.layers) == published


def test_frozen_resnet50_summary_shows_the_split_and_share():
    network = symparam.parse((EXAMPLES / "resnet50_frozen.sp").read_text(), convention="torch")
    text = str(network.summary())
    assert "Trainable params: 20,490 (80.04 KB, 0.0871%)" in text
    assert "Non-trainable params: 23,508,032 (89.68 MB)" in text


def test_densenet121_with_a_symbolic_growth_rate():
    with torch.device("meta"):
        model = densenet121()
    assert sum(p.numel() for p in model.parameters()) == 7_978_856  # torchvision's densenet121
    network = symparam.parse((EXAMPLES / "densenet121.sp").read_text(), convention="torch")
    assert "Sum" not in str(network.total)  # each block of dense layers in closed form
    for growth in (12, 24, 32):
        with torch.device("meta"):
            expected = sum(p.numel() for p in densenet121(growth).parameters())
        assert network.evaluate(k=growth) == expected
    concrete = network.subs(k=32)
    assert concrete.output_shape == output_shape(model, (3, 224, 224))
    # Keras' DenseNet121 also counts the batch norms' moving statistics: 8,062,504
    keras = symparam.parse((EXAMPLES / "densenet121.sp").read_text(), k=32)
    assert keras.value == 8_062_504


def test_mamba_130m_matches_transformers():
    transformers = pytest.importorskip("transformers", reason="pip install transformers to check Mamba")
    config = transformers.MambaConfig(vocab_size=50280, hidden_size=768, num_hidden_layers=24,
                                      state_size=16, expand=2, conv_kernel=4)
    with torch.device("meta"):
        model = transformers.MambaForCausalLM(config)
    expected = sum(p.numel() for p in model.parameters())
    assert expected == 129_135_360
    network = symparam.parse((EXAMPLES / "mamba.sp").read_text(), convention="torch")
    assert network.value == expected
