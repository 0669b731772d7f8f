"""The four example architectures. Every forward takes the preprocessed image, x = uint8 / 255, as
float32 [N,1,28,28] (the MLP: [N,784]) and returns logits [N,10]."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

CLASSES = 10


# --------------------------------------------------------------------------------------------------
# fmnist_cnn: residual CNN with BatchNorm (exported with the BN nodes kept)
# --------------------------------------------------------------------------------------------------

class ResidualBlock(nn.Module):
    """Conv+BN+ReLU, Conv+BN, Add with the shortcut, ReLU; a 1x1 Conv+BN shortcut when the shape changes."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(h)) + self.shortcut(x))


class ResidualCnn(nn.Module):
    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        self.pool = nn.MaxPool2d(2)  # 28 -> 14
        self.block1 = ResidualBlock(width, width, 1)
        self.block2 = ResidualBlock(width, 2 * width, 2)  # 14 -> 7
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2 * width, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.block2(self.block1(self.pool(self.stem(x))))
        return self.fc(torch.flatten(self.gap(h), 1))


# --------------------------------------------------------------------------------------------------
# fmnist_mlp
# --------------------------------------------------------------------------------------------------

class Mlp(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


# --------------------------------------------------------------------------------------------------
# fmnist_transformer: tiny pre-LayerNorm ViT
# --------------------------------------------------------------------------------------------------

PATCH, GRID = 7, 4  # 28x28 image = 4x4 grid of 7x7 patches
TOKENS = GRID * GRID
D_MODEL, HEADS, D_MLP, DEPTH = 64, 4, 128, 2


def patchify(x: torch.Tensor) -> torch.Tensor:
    """[N,1,28,28] -> [N,16,49], row-major patches. Python-int sizes with -1 for the batch export as
    Reshape/Transpose with constant shapes and keep the batch dimension dynamic."""
    x = x.reshape(-1, GRID, PATCH, GRID, PATCH)  # [N, gy, py, gx, px]
    return x.permute(0, 1, 3, 2, 4).reshape(-1, TOKENS, PATCH * PATCH)


class Attention(nn.Module):
    """Written out as MatMul/Softmax rather than nn.MultiheadAttention, which torch 1.13 exports as a
    tangle of shape arithmetic."""

    def __init__(self) -> None:
        super().__init__()
        # Separate projections (not one fused qkv Linear, whose slicing exports as Gathers): each is a
        # plain MatMul+Add against its own weight.
        self.q = nn.Linear(D_MODEL, D_MODEL)
        self.k = nn.Linear(D_MODEL, D_MODEL)
        self.v = nn.Linear(D_MODEL, D_MODEL)
        self.proj = nn.Linear(D_MODEL, D_MODEL)
        self.head_dim = D_MODEL // HEADS

    def heads(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(-1, TOKENS, HEADS, self.head_dim).transpose(1, 2)  # [N, H, T, Dh]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.heads(self.q(x)), self.heads(self.k(x)), self.heads(self.v(x))
        attn = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * self.head_dim ** -0.5, dim=-1)
        ctx = torch.matmul(attn, v).transpose(1, 2).reshape(-1, TOKENS, D_MODEL)
        return self.proj(ctx)


class EncoderBlock(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(D_MODEL)
        self.attn = Attention()
        self.ln2 = nn.LayerNorm(D_MODEL)
        self.fc1 = nn.Linear(D_MODEL, D_MLP)
        self.fc2 = nn.Linear(D_MLP, D_MODEL)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        # approximate='none': exported as the erf formulation (Div, Erf, Add, Mul, Mul)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class TinyVit(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(PATCH * PATCH, D_MODEL)
        self.pos = nn.Parameter(torch.randn(TOKENS, D_MODEL) * 0.02)
        self.blocks = nn.ModuleList([EncoderBlock() for _ in range(DEPTH)])
        self.ln = nn.LayerNorm(D_MODEL)
        self.head = nn.Linear(D_MODEL, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(patchify(x)) + self.pos
        for block in self.blocks:
            h = block(h)
        # Mean pooling rather than a class token: concatenating a token needs batch-size Shape/Expand ops.
        return self.head(self.ln(h).mean(dim=1))


# --------------------------------------------------------------------------------------------------
# fmnist_mobilenet: MobileNetV2-style inverted residuals
# --------------------------------------------------------------------------------------------------

def conv_bn_relu6(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU6(),
    )


class InvertedResidual(nn.Module):
    """1x1 expand (+ReLU6), 3x3 depthwise (+ReLU6), 1x1 linear project; Add when in/out shapes match."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(conv_bn_relu6(cin, hidden, 1))
        layers += [
            conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden),
            nn.Conv2d(hidden, cout, 1, bias=False),
            nn.BatchNorm2d(cout),
        ]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x) if self.residual else self.body(x)


# (expansion, output channels, repeats, stride of the first repeat), as in the MobileNetV2 paper's table.
# Spatial size 14 -> 7 after the stride-2 stem: depthwise convs and BatchNorm on larger maps are
# memory-bound and made training several times slower on two cores.
MOBILENET_STAGES = [(1, 16, 1, 1), (4, 24, 2, 2), (4, 32, 3, 1), (4, 48, 2, 1)]


class MobileNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = [conv_bn_relu6(1, 16, 3, stride=2)]  # 28 -> 14
        cin = 16
        for expand, cout, repeats, stride in MOBILENET_STAGES:
            for i in range(repeats):
                layers.append(InvertedResidual(cin, cout, stride if i == 0 else 1, expand))
                cin = cout
        layers.append(conv_bn_relu6(cin, 128, 1))
        self.features = nn.Sequential(*layers)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(128, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.gap(self.features(x)), 1))
