"""Readers: every kind of bad input gives an error naming the file and the fault."""

import numpy as np
import pytest
import tifffile
from PIL import Image

from bench.data import DataError, read_image, read_mask
from bench.data.io import binary_to_instances, to_float_image


def test_read_image_scales_by_dtype_not_by_content(tmp_path):
    arr = np.array([[0, 128], [255, 64]], np.uint8)
    Image.fromarray(arr).save(tmp_path / "a.png")
    img = read_image(tmp_path / "a.png")
    assert img.dtype == np.float32 and img.shape == (2, 2, 1)
    np.testing.assert_allclose(img[..., 0], arr / 255.0, rtol=1e-6)


def test_read_image_16bit_tiff(tmp_path):
    arr = np.array([[0, 65535], [1000, 30000]], np.uint16)
    tifffile.imwrite(tmp_path / "a.tif", arr)
    img = read_image(tmp_path / "a.tif")
    np.testing.assert_allclose(img[..., 0], arr / 65535.0, rtol=1e-6)


def test_read_image_rgb_jpeg(tmp_path):
    arr = np.zeros((8, 8, 3), np.uint8)
    arr[..., 0] = 200
    Image.fromarray(arr).save(tmp_path / "a.jpg", quality=95)
    img = read_image(tmp_path / "a.jpg")
    assert img.shape == (8, 8, 3)
    assert abs(img[..., 0].mean() - 200 / 255) < 0.02


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nope\.png: file does not exist"):
        read_image(tmp_path / "nope.png")


def test_truncated_png(tmp_path):
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)).save(
        tmp_path / "t.png"
    )
    data = (tmp_path / "t.png").read_bytes()
    (tmp_path / "t.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"t\.png: cannot be read.*truncated"):
        read_image(tmp_path / "t.png")


def test_truncated_tiff(tmp_path):
    tifffile.imwrite(tmp_path / "t.tif", np.ones((64, 64), np.uint16))
    data = (tmp_path / "t.tif").read_bytes()
    (tmp_path / "t.tif").write_bytes(data[:100])
    with pytest.raises(DataError, match=r"t\.tif: cannot be read"):
        read_image(tmp_path / "t.tif")


def test_not_an_image(tmp_path):
    (tmp_path / "x.png").write_text("hello")
    with pytest.raises(DataError, match=r"x\.png: cannot be read"):
        read_image(tmp_path / "x.png")


def test_unsupported_suffix(tmp_path):
    (tmp_path / "x.bmp").write_bytes(b"BM")
    with pytest.raises(DataError, match=r"unsupported file type '\.bmp'"):
        read_image(tmp_path / "x.bmp")


def test_nan_pixels(tmp_path):
    arr = np.ones((4, 4), np.float32)
    arr[1, 2] = np.nan
    tifffile.imwrite(tmp_path / "n.tif", arr)
    with pytest.raises(DataError, match=r"n\.tif: image has 1 NaN or infinite pixel"):
        read_image(tmp_path / "n.tif")


def test_to_float_rejects_4d():
    with pytest.raises(DataError, match=r"shape \(1, 2, 3, 4\)"):
        to_float_image(np.zeros((1, 2, 3, 4)))


def test_binary_mask_becomes_connected_components(tmp_path):
    m = np.zeros((6, 6), np.uint8)
    m[0:2, 0:2] = 255
    m[4:6, 4:6] = 255
    m[2, 2] = 255  # diagonal neighbour of the first square: 8-connected
    Image.fromarray(m).save(tmp_path / "m.png")
    labels = read_mask(tmp_path / "m.png")
    assert labels.dtype == np.int32
    assert set(np.unique(labels)) == {0, 1, 2}
    assert labels[2, 2] == labels[0, 0]


def test_instance_mask_is_renumbered_consecutively(tmp_path):
    m = np.zeros((4, 4), np.uint16)
    m[0, 0], m[1, 1], m[3, 3] = 7, 300, 7
    tifffile.imwrite(tmp_path / "m.tif", m)
    labels = read_mask(tmp_path / "m.tif")
    assert labels[0, 0] == labels[3, 3] == 1 and labels[1, 1] == 2
    assert labels.max() == 2


def test_empty_mask(tmp_path):
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "e.png")
    with pytest.raises(DataError, match=r"e\.png: mask is empty"):
        read_mask(tmp_path / "e.png")
    assert read_mask(tmp_path / "e.png", allow_empty=True).max() == 0


def test_non_integer_mask(tmp_path):
    tifffile.imwrite(tmp_path / "f.tif", np.array([[0, 1.5], [2, 0]], np.float32))
    with pytest.raises(DataError, match=r"f\.tif: mask has non-integer values"):
        read_mask(tmp_path / "f.tif")


def test_integer_valued_float_mask_is_accepted(tmp_path):
    tifffile.imwrite(tmp_path / "f.tif", np.array([[0, 1], [2, 0]], np.float32))
    assert read_mask(tmp_path / "f.tif").max() == 2


def test_negative_mask(tmp_path):
    tifffile.imwrite(tmp_path / "n.tif", np.array([[0, -1], [2, 0]], np.int16))
    with pytest.raises(DataError, match=r"n\.tif: mask has negative values"):
        read_mask(tmp_path / "n.tif")


def test_colour_mask_is_rejected(tmp_path):
    m = np.zeros((4, 4, 3), np.uint8)
    m[0, 0] = (255, 0, 0)
    Image.fromarray(m).save(tmp_path / "c.png")
    with pytest.raises(DataError, match=r"c\.png: a mask must be a single-channel"):
        read_mask(tmp_path / "c.png")


def test_binary_to_instances_counts():
    m = np.zeros((5, 5), bool)
    m[0, 0] = m[4, 4] = m[0, 4] = True
    assert binary_to_instances(m).max() == 3
