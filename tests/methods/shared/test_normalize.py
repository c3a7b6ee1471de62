"""The one normalisation every family uses, and the deep methods' invariance to re-encoding."""

import numpy as np
import pytest

from bench.methods._shared import NORM_PERCENTILES, normalize, percentile_range


def _image(rng, shape=(64, 48, 2)):
    return rng.integers(0, 256, size=shape).astype(np.uint8)


@pytest.mark.parametrize("scale, offset", [(1.0, 33000.0), (257.0, 0.0), (4.0, 33000.0), (0.5, -10.0)])
def test_normalize_is_invariant_to_a_scale_and_offset_reencoding(scale, offset):
    img = _image(np.random.default_rng(0))
    re = scale * img.astype(np.float64) + offset
    if offset >= 0 and scale * 255 + offset < 65536:
        re = re.astype(np.uint16)
    np.testing.assert_allclose(normalize(re), normalize(img), atol=1e-5)


def test_normalize_maps_each_channels_percentiles_to_0_and_1():
    rng = np.random.default_rng(1)
    img = np.stack([rng.normal(10, 2, (50, 60)), rng.normal(1000, 300, (50, 60))], axis=-1)
    out = normalize(img)
    assert out.dtype == np.float32 and out.shape == img.shape
    for c in range(2):
        lo, hi = np.percentile(out[..., c], NORM_PERCENTILES)
        assert abs(lo) < 1e-5 and abs(hi - 1) < 1e-5


def test_normalize_of_a_constant_channel_is_zero_and_a_plane_stays_a_plane():
    assert not normalize(np.full((4, 4, 1), 7.0)).any()
    assert normalize(np.arange(12.0).reshape(3, 4)).shape == (3, 4)


def test_percentile_range_rejects_a_2d_image():
    with pytest.raises(ValueError, match="`image` must be"):
        percentile_range(np.zeros((4, 4)))


def test_unet_normalisation_is_invariant_to_reencoding_and_dataset_mode_warns():
    """The U-Net's default per-image normalisation gives the network the same input for an
    image re-encoded as 16-bit with an offset; the training-range one warns."""
    from bench.methods import get_method

    img = _image(np.random.default_rng(2), (40, 40, 1))
    re = (4 * img.astype(np.uint16) + 33000).astype(np.uint16)
    m = get_method("unet_mdl")
    assert m.params.normalize == "image"
    np.testing.assert_allclose(m._normalise(re), m._normalise(img), atol=1e-5)

    d = get_method("unet_mdl[normalize=dataset]")
    d.config = {"norm": {"lo": [2.0], "hi": [250.0]}}
    d._normalise(img)  # the training range: no warning
    with pytest.warns(UserWarning, match="do not match the training images' range"):
        d._normalise(re)


@pytest.mark.parametrize("family", ["stardist", "cellpose"])
def test_stardist_and_cellpose_inputs_are_invariant_to_reencoding(family):
    img = _image(np.random.default_rng(3), (40, 40, 2))
    re = (4 * img.astype(np.uint16) + 33000).astype(np.uint16)
    if family == "stardist":  # StarDist normalises with the shared function, before and after training
        from bench.methods.stardist import method as sd

        assert sd.normalize is normalize
        np.testing.assert_allclose(sd.normalize(re), sd.normalize(img), atol=1e-5)
    else:
        from bench.methods.cellpose import to_cellpose_planes

        np.testing.assert_allclose(to_cellpose_planes(re, (0, 1)), to_cellpose_planes(img, (0, 1)), atol=1e-5)
