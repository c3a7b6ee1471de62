"""`folder:<path>` datasets: pairing, formats, splits and every bad-input case."""

import json

import numpy as np
import pytest
import tifffile
from PIL import Image

from bench.data import DataError, get_dataset
from bench.data.files import hash_split
from bench.splits import get_split, load_fit_data, load_test_images, load_test_truth


def _blobs(seed, shape=(32, 40)):
    rng = np.random.default_rng(seed)
    labels = np.zeros(shape, np.uint16)
    for i in range(1, 4):
        y, x = rng.integers(4, shape[0] - 4), rng.integers(4, shape[1] - 4)
        labels[y - 2 : y + 2, x - 2 : x + 2] = i
    image = (labels > 0) * 150 + rng.integers(0, 50, shape)
    return image.astype(np.uint8), labels


def make_folder(root, n=6, *, mask_suffix="", fmt="tif"):
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(n):
        img, lab = _blobs(i)
        Image.fromarray(img).save(root / "images" / f"img{i:02d}.png")
        if fmt == "tif":
            tifffile.imwrite(root / "masks" / f"img{i:02d}{mask_suffix}.tif", lab)
        else:
            Image.fromarray(((lab > 0) * 255).astype(np.uint8)).save(
                root / "masks" / f"img{i:02d}{mask_suffix}.png"
            )
    return root


@pytest.mark.parametrize("suffix, fmt", [("", "tif"), ("_mask", "png"), ("_labels", "tif")])
def test_folder_pairs_and_loads(tmp_path, suffix, fmt):
    root = make_folder(tmp_path / "d", mask_suffix=suffix, fmt=fmt)
    name = f"folder:{root}"
    ds = get_dataset(name)
    assert ds.info.channels == ("ch0",) and ds.info.source == "folder"
    train, val = load_fit_data(name)
    test = load_test_truth(name)
    assert len(train) + len(val) + len(test) == 6
    for s in [*train, *val, *test]:
        assert s.labels.max() == 3 and s.image.shape == (32, 40, 1)
    assert all(s.labels is None for s in load_test_images(name))


def test_folder_split_json(tmp_path):
    root = make_folder(tmp_path / "d")
    (root / "split.json").write_text(
        json.dumps({"train": ["img00", "img01", "img02"], "val": ["img03"], "test": ["img04", "img05"]})
    )
    sp = get_split(f"folder:{root}")
    assert sp.test == ("img04", "img05")


def test_hash_split_is_stable_when_files_are_added():
    ids = [f"f{i}" for i in range(40)]
    a = hash_split(ids)
    b = hash_split(ids + ["extra"])
    moved = [i for k in a for i in a[k] if i not in b[k]]
    assert len(moved) <= 3  # only boundary items can shift
    assert sorted(sum(a.values(), [])) == sorted(ids)


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match=r"not available here: folder .*nowhere/images does not exist|nowhere does not exist"):
        load_fit_data(f"folder:{tmp_path / 'nowhere'}")


def test_empty_folder_path():
    with pytest.raises(DataError, match="needs a path"):
        get_dataset("folder:")


def test_image_without_mask(tmp_path):
    root = make_folder(tmp_path / "d")
    (root / "masks" / "img03.tif").unlink()
    with pytest.raises(DataError, match=r"img03\.png: no mask for this image"):
        get_dataset(f"folder:{root}").sample_ids()


def test_mask_without_image(tmp_path):
    root = make_folder(tmp_path / "d")
    (root / "images" / "img03.png").unlink()
    with pytest.raises(DataError, match=r"mask\(s\) without an image: img03\.tif"):
        get_dataset(f"folder:{root}").sample_ids()


def test_mismatched_shapes(tmp_path):
    root = make_folder(tmp_path / "d")
    tifffile.imwrite(root / "masks" / "img02.tif", np.ones((10, 10), np.uint16))
    with pytest.raises(DataError, match=r"img02\.tif: mask shape \(10, 10\) does not match image img02\.png shape \(32, 40\)"):
        get_dataset(f"folder:{root}").load("img02")


def test_truncated_image_in_folder(tmp_path):
    root = make_folder(tmp_path / "d")
    p = root / "images" / "img01.png"
    p.write_bytes(p.read_bytes()[:40])
    with pytest.raises(DataError, match=r"img01\.png: cannot be read"):
        get_dataset(f"folder:{root}").load("img01")


def test_empty_mask_in_folder(tmp_path):
    root = make_folder(tmp_path / "d")
    tifffile.imwrite(root / "masks" / "img01.tif", np.zeros((32, 40), np.uint16))
    with pytest.raises(DataError, match=r"img01\.tif: mask is empty"):
        get_dataset(f"folder:{root}").load("img01")


def test_nan_image_in_folder(tmp_path):
    root = make_folder(tmp_path / "d")
    (root / "images" / "img01.png").unlink()
    bad = np.ones((32, 40), np.float32)
    bad[0, 0] = np.nan
    tifffile.imwrite(root / "images" / "img01.tif", bad)
    with pytest.raises(DataError, match=r"img01\.tif: image has 1 NaN"):
        get_dataset(f"folder:{root}").load("img01")


def test_non_integer_mask_in_folder(tmp_path):
    root = make_folder(tmp_path / "d")
    tifffile.imwrite(root / "masks" / "img01.tif", np.full((32, 40), 0.5, np.float32))
    with pytest.raises(DataError, match=r"img01\.tif: mask has non-integer values"):
        get_dataset(f"folder:{root}").load("img01")


def test_bad_split_json(tmp_path):
    root = make_folder(tmp_path / "d")
    (root / "split.json").write_text("{not json")
    with pytest.raises(DataError, match=r"split\.json: invalid JSON"):
        get_split(f"folder:{root}")
    (root / "split.json").write_text('{"train": []}')
    with pytest.raises(DataError, match=r"missing key\(s\) \['test', 'val'\]"):
        get_split(f"folder:{root}")
