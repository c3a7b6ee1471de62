"""The operation count of ``benchmark/perf/field2048.py`` (forward hooks on the convolutions)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmark" / "perf"))
from _forward import as_conv, count_flops, matmul_rates  # noqa: E402

from bench.methods.unet._model import UNet, fused_for_inference, train_flops  # noqa: E402


def test_one_convolution_counted_by_hand():
    conv = torch.nn.Conv2d(3, 5, 3, padding=1, bias=False)
    with count_flops(conv) as c, torch.inference_mode():
        conv(torch.zeros(2, 3, 7, 11))
    assert c["calls"] == 1
    assert c["flops"] == 2 * 3 * 5 * 9 * (2 * 7 * 11)


def test_transposed_convolution_counts_input_pixels():
    up = torch.nn.ConvTranspose2d(4, 2, 2, stride=2)
    with count_flops(up) as c, torch.inference_mode():
        up(torch.zeros(1, 4, 3, 5))
    assert c["flops"] == 2 * 4 * 2 * 4 * (3 * 5)


@pytest.mark.parametrize(("depth", "features"), [(2, 1), (3, 4)])
def test_unet_forward_equals_the_analytic_count(depth, features):
    """The hooks over a whole U-Net (batch norm folded or not) give a third of the
    analytic training count of bench.methods.unet._model.train_flops."""
    model = UNet(2, 3, depth=depth, features=features).eval()
    side = 2 ** (depth - 1) * 4
    want = train_flops(2, 3, depth=depth, features=features, pixels=side * side) / 3
    for m in (model, fused_for_inference(model)):
        with count_flops(m) as c, torch.inference_mode():
            m(torch.zeros(1, 2, side, side))
        assert c["flops"] == pytest.approx(want, rel=1e-12)
    # the hooks are gone afterwards
    with torch.inference_mode():
        model(torch.zeros(1, 2, side, side))
    assert c["flops"] == pytest.approx(want, rel=1e-12)


def test_matmul_rates_of_both_libraries():
    rates = matmul_rates(64, seconds=0.02)
    assert set(rates) == {"blas", "onednn"} and min(rates.values()) > 1e6


def test_the_onednn_product_is_the_matrix_product():
    import torch
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(48, 40, generator=g), torch.randn(40, 56, generator=g)
    x, w = as_conv(a, b)
    assert torch.allclose(F.conv2d(x, w)[0, :, :, 0], a @ b, rtol=1e-5, atol=1e-5)
