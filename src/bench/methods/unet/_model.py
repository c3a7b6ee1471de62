"""The U-Net network (PyTorch; imported only when a U-Net is built)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["UNet", "level_widths", "train_flops", "fused_for_inference"]


def level_widths(depth: int, features: int) -> list[int]:
    """Feature channels of each resolution level: ``features * 2**level``.

    >>> level_widths(5, 64)
    [64, 128, 256, 512, 1024]
    >>> level_widths(7, 16)
    [16, 32, 64, 128, 256, 512, 1024]
    """
    return [features * 2**level for level in range(depth)]


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """U-Net (Ronneberger et al., 2015) with 'same' padding and batch normalisation.

    ``depth`` resolution levels; level ``l`` has ``features * 2**l`` channels
    and two 3x3 convolutions (each followed by batch normalisation and ReLU);
    2x2 max pooling down, 2x2 transposed convolution up, skip connections by
    concatenation, a 1x1 convolution to ``n_classes`` logits. Inputs must have
    sides divisible by ``2**(depth - 1)``.
    """

    def __init__(self, in_channels: int, n_classes: int, *, depth: int, features: int):
        super().__init__()
        widths = level_widths(depth, features)
        self.depth = depth
        self.down = nn.ModuleList(
            [_block(in_channels if i == 0 else widths[i - 1], widths[i]) for i in range(depth)]
        )
        self.up = nn.ModuleList(
            [nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2) for i in range(depth - 1)]
        )
        self.merge = nn.ModuleList([_block(2 * widths[i], widths[i]) for i in range(depth - 1)])
        self.head = nn.Conv2d(widths[0], n_classes, 1)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, block in enumerate(self.down):
            x = block(x)
            if i < self.depth - 1:
                skips.append(x)
                x = self.pool(x)
        for i in reversed(range(self.depth - 1)):
            x = self.merge[i](torch.cat([skips[i], self.up[i](x)], dim=1))
        return self.head(x)


def fused_for_inference(model: UNet, *, channels_last: bool = False) -> nn.Module:
    """An inference copy of `model` with each convolution, batch norm and ReLU fused into one
    layer (the batch-norm statistics folded into the convolution weights): the same
    outputs up to rounding, about 20 % faster on the CPU. `model` is left untouched.

    With ``channels_last=True`` the weights are stored channels-last, the layout of
    the CPU's channels-last inputs (:func:`~bench.methods.unet._tiling.predict_tiled`):
    the convolutions then use them as they are instead of converting every weight at
    every call. The outputs are the same bytes (tested); a 2048² field is 5-7 % faster.
    """
    import copy

    from torch.ao.quantization import fuse_modules

    fused = copy.deepcopy(model).eval()
    groups = []
    for name, module in fused.named_modules():
        if isinstance(module, nn.Sequential) and len(module) == 6:
            groups += [[f"{name}.0", f"{name}.1", f"{name}.2"], [f"{name}.3", f"{name}.4", f"{name}.5"]]
    fused = fuse_modules(fused, groups)
    return fused.to(memory_format=torch.channels_last) if channels_last else fused


def train_flops(in_channels: int, n_classes: int, *, depth: int, features: int, pixels: int) -> float:
    """Approximate floating-point operations of one training step on ``pixels`` input pixels.

    Counts the multiply-adds of the convolutions (x2 for FLOPs) in the forward
    pass and triples them for forward + backward.

    >>> round(train_flops(1, 3, depth=2, features=1, pixels=4))
    1524
    """
    widths = level_widths(depth, features)
    total = 0.0
    for i, w in enumerate(widths):
        px = pixels / 4**i
        c_in = in_channels if i == 0 else widths[i - 1]
        total += px * 9 * (c_in * w + w * w)  # encoder block
        if i < depth - 1:
            total += px * 9 * (2 * w * w + w * w)  # decoder block
            total += px * 4 * widths[i + 1] * w / 4  # transposed conv (from the coarser grid)
    total += pixels * widths[0] * n_classes
    return 3 * 2 * total
