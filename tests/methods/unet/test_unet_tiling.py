import numpy as np
import pytest

torch = pytest.importorskip("torch")

from bench.methods.unet._model import UNet  # noqa: E402
from bench.methods.unet._tiling import blend_window, predict_tiled, tile_starts  # noqa: E402


@pytest.mark.parametrize("size,tile,overlap,align", [(2048, 1024, 64, 64), (1088, 512, 64, 64), (300, 128, 16, 1),
                                                     (129, 128, 0, 1), (640, 192, 64, 32)])
def test_tile_starts_cover_with_overlap(size, tile, overlap, align):
    s = tile_starts(size, tile, overlap, align)
    assert s[0] == 0 and s[-1] == size - tile
    assert all(v % align == 0 for v in s)
    gaps = np.diff(s)
    assert (gaps > 0).all() and (tile - gaps >= overlap).all()


def test_blend_window_is_positive_and_flat_inside():
    w = blend_window((64, 48), 8)
    assert w.min() > 0 and w[8:-8, 8:-8].min() == 1.0 and w[0, 0] < w[1, 1]


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    m = UNet(2, 4, depth=3, features=4)
    # non-trivial batch-norm statistics
    m.train()
    with torch.no_grad():
        for _ in range(3):
            m(torch.rand(2, 2, 64, 64))
    return m.eval()


def _untiled(net, x):
    # the same memory format as predict_tiled uses on the CPU, so results are bit-identical
    with torch.inference_mode():
        t = torch.from_numpy(x[None]).contiguous(memory_format=torch.channels_last)
        return torch.softmax(net(t), 1)[0].numpy()


def test_one_tile_equals_untiled_forward(net):
    x = np.random.default_rng(0).random((2, 96, 128), dtype=np.float32)
    p = predict_tiled(net, x, n_classes=4, multiple=4, tile=128, overlap=16, device=torch.device("cpu"))
    np.testing.assert_array_equal(p, _untiled(net, x))


def test_overlapping_tiles_match_untiled_within_tolerance(net):
    rng = np.random.default_rng(1)
    x = rng.random((2, 160, 200), dtype=np.float32)
    full = _untiled(net, x)
    p = predict_tiled(net, x, n_classes=4, multiple=4, tile=64, overlap=24, device=torch.device("cpu"))
    assert p.shape == full.shape
    np.testing.assert_allclose(p.sum(0), 1.0, atol=1e-5)
    assert np.abs(p - full).mean() < 0.01
    assert (p.argmax(0) == full.argmax(0)).mean() > 0.98


@pytest.mark.parametrize("shape", [(37, 53), (5, 7), (130, 67)])
def test_odd_sizes(net, shape):
    x = np.random.default_rng(2).random((2, *shape), dtype=np.float32)
    p = predict_tiled(net, x, n_classes=4, multiple=4, tile=32, overlap=8, device=torch.device("cpu"))
    assert p.shape == (4, *shape) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(0), 1.0, atol=1e-5)


def test_tiling_validates():
    with pytest.raises(ValueError, match="`image` must be"):
        predict_tiled(None, np.zeros((4, 4), np.float32), n_classes=2, multiple=1, tile=4, overlap=0,
                      device=torch.device("cpu"))
    with pytest.raises(ValueError, match="overlap"):
        predict_tiled(None, np.zeros((1, 4, 4), np.float32), n_classes=2, multiple=1, tile=4, overlap=4,
                      device=torch.device("cpu"))


@pytest.mark.parametrize("features", [4, 16])
def test_channels_last_weights_give_the_same_bytes(features):
    from bench.methods.unet._model import fused_for_inference

    torch.manual_seed(1)
    m = UNet(2, 3, depth=3, features=features).eval()
    plain, cl = fused_for_inference(m), fused_for_inference(m, channels_last=True)
    w = cl.down[1][0][0].weight  # a fused convolution's weight (ConvReLU2d: conv, relu)
    assert w.is_contiguous(memory_format=torch.channels_last) and not w.is_contiguous()
    assert plain.down[1][0][0].weight.is_contiguous()
    x = np.random.default_rng(3).random((2, 200, 232), dtype=np.float32)
    kw = dict(n_classes=3, multiple=4, tile=128, overlap=16, device=torch.device("cpu"))
    a, b = predict_tiled(plain, x, **kw), predict_tiled(cl, x, **kw)
    assert a.tobytes() == b.tobytes()
