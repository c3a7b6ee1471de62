import numpy as np
import pytest

torch = pytest.importorskip("torch")

from bench.methods.unet._augment import Augmentation, augment_batch  # noqa: E402

NO_INTENSITY = dict(gamma=(1.0, 1.0), contrast=(1.0, 1.0), brightness=(0.0, 0.0))


def _batch(seed=0, b=8, size=32):
    rng = np.random.default_rng(seed)
    # a label map with big regions, and an image that is that label map
    t = np.zeros((b, size, size), np.int64)
    for i in range(b):
        y, x = rng.integers(4, size - 12, 2)
        t[i, y : y + 10, x : x + 8] = 1 + i % 3
        t[i, : size // 4, : size // 3] = 3
    return torch.from_numpy(t.astype(np.float32)[:, None]), torch.from_numpy(t)


@pytest.mark.parametrize("elastic", [0.0, 1.0])
def test_geometry_moves_image_and_target_together(elastic):
    x, t = _batch()
    cfg = Augmentation(elastic=elastic, **NO_INTENSITY)
    xa, ta = augment_batch(x, t, rng=np.random.default_rng(1), config=cfg, image_mode="nearest")
    np.testing.assert_array_equal(xa[:, 0].round().long().numpy(), ta.numpy())
    assert not torch.equal(ta, t), "the augmentation must change something"
    # label values are preserved (no interpolated classes)
    assert set(np.unique(ta.numpy())) <= set(np.unique(t.numpy()))


def test_bilinear_elastic_warp_stays_aligned_away_from_edges():
    x, t = _batch(b=4, size=48)
    cfg = Augmentation(flips=False, rot90=False, elastic=1.0, elastic_sigma=3.0, **NO_INTENSITY)
    xa, ta = augment_batch(x, t, rng=np.random.default_rng(2), config=cfg)
    agree = (xa[:, 0].round().long() == ta).float().mean().item()
    assert agree > 0.97
    assert not torch.equal(ta, t)


def test_flips_and_rotations_are_exact_permutations():
    x, t = _batch()
    cfg = Augmentation(elastic=0.0, **NO_INTENSITY)
    xa, ta = augment_batch(x, t, rng=np.random.default_rng(3), config=cfg)
    for i in range(x.shape[0]):
        candidates = []
        for k in range(4):
            r = torch.rot90(t[i], k)
            candidates += [r, r.flip(0), r.flip(1), r.flip(0).flip(1)]
        assert any(torch.equal(ta[i], c) for c in candidates)
        np.testing.assert_array_equal(xa[i, 0].numpy(), ta[i].numpy().astype(np.float32))


def test_intensity_curves_change_the_image_only_and_are_seeded():
    x, t = _batch()
    x = x / 3.0
    cfg = Augmentation(flips=False, rot90=False, elastic=0.0)
    a1 = augment_batch(x, t, rng=np.random.default_rng(4), config=cfg)
    a2 = augment_batch(x, t, rng=np.random.default_rng(4), config=cfg)
    a3 = augment_batch(x, t, rng=np.random.default_rng(5), config=cfg)
    torch.testing.assert_close(a1[0], a2[0])
    assert not torch.allclose(a1[0], a3[0])
    assert torch.equal(a1[1], t)
    # monotone per sample: brighter stays brighter
    hi, lo = x[:, 0] > 0.5, x[:, 0] < 0.1
    for i in range(x.shape[0]):
        if hi[i].any() and lo[i].any():
            assert a1[0][i, 0][hi[i]].min() > a1[0][i, 0][lo[i]].max()


def test_augment_validates_shapes():
    x, t = _batch()
    with pytest.raises(ValueError, match="`images`"):
        augment_batch(x[:, 0], t, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="square patches"):
        augment_batch(x[:, :, :, :20], t[:, :, :20], rng=np.random.default_rng(0),
                      config=Augmentation(elastic=0.0, **NO_INTENSITY))
