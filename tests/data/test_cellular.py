"""The upstream CELLULAR loader, on a small fixture written with the Zenodo
layout and file-name scheme, and its resumable, checksum-verified download
against a local HTTP server (no internet)."""

import hashlib
import io
import json
import zipfile

import numpy as np
import pytest
import tifffile
from PIL import Image

from bench.data import DataError, get_dataset
from bench.data.cellular import Cellular, class_from_folder, fetch_cellular
from bench.data.files import cellular_paper_split

FIELDS = [
    "Timepoint_001_220518-ST_C03_s1",
    "Timepoint_002_220518-ST_C03_s1",
    "Timepoint_001_220518-ST_I06_s2",
    "Timepoint_001_220518-ST_C05_s1",
    "Timepoint_003_220518-ST_K07_s3",
]
SHAPE = (48, 64)
CLASS_FOLDERS = {"Fed": 0, "Unfed": 1, "Unidentified": 2}


def write_fixture(root, fields=FIELDS, *, raw_suffix="_{w}{guid}.TIF"):
    """Three cells per field, one in each class folder; raw triplets; YOLO boxes."""
    rng = np.random.default_rng(0)
    for k, stem in enumerate(fields):
        for w in (1, 2, 3):
            d = root / "images" / "220518"
            d.mkdir(parents=True, exist_ok=True)
            plane = rng.integers(100, 4000, SHAPE).astype(np.uint16) + 1000 * w
            name = stem + raw_suffix.format(w=f"w{w}", guid=f"{k:04X}ABCD")
            tifffile.imwrite(d / name, plane)
        boxes = []
        for j, (folder, _) in enumerate(CLASS_FOLDERS.items()):
            m = np.zeros(SHAPE, np.uint8)
            y0, x0 = 5 + 12 * j, 5 + 15 * j
            m[y0 : y0 + 10, x0 : x0 + 12] = 255
            d = root / "masks" / stem / folder
            d.mkdir(parents=True, exist_ok=True)
            Image.fromarray(m).save(d / f"cell_{j}.png")
            boxes.append(f"0 {(x0 + 6) / SHAPE[1]} {(y0 + 5) / SHAPE[0]} {12 / SHAPE[1]} {10 / SHAPE[0]}")
        (root / "bounding-boxes").mkdir(exist_ok=True)
        (root / "bounding-boxes" / f"{stem}.txt").write_text("\n".join(boxes) + "\n")
    return root


def test_loader_on_fixture(tmp_path):
    root = write_fixture(tmp_path / "cellular")
    ds = Cellular(root)
    assert ds.available
    assert ds.sample_ids() == sorted(FIELDS)
    s = ds.load("Timepoint_001_220518-ST_C03_s1")
    assert s.image.shape == (*SHAPE, 3) and s.channels == ("gfp", "rfp", "transmitted")
    # w1 = EGFP, w2 = mRFP, w3 = transmitted: the fixture offsets each plane by 1000*w
    means = s.image.reshape(-1, 3).mean(0) * 65535
    assert means[0] < means[1] < means[2]
    assert s.labels.max() == 3 and s.labels.dtype == np.int32
    assert sorted(s.classes.values()) == [0, 1, 2]
    for cid, cls in s.classes.items():
        ys, xs = np.nonzero(s.labels == cid)
        assert ys.size == 120
    assert s.boxes.shape == (3, 5)
    assert s.meta["well"] == "C03" and s.meta["timepoint"] == 1 and s.meta["site"] == 1


def test_fixture_split_follows_the_paper_rule(tmp_path):
    root = write_fixture(tmp_path / "cellular")
    split, rule = Cellular(root).split_rule()
    assert split["test"] == ["Timepoint_001_220518-ST_C03_s1", "Timepoint_002_220518-ST_C03_s1"]
    assert split["val"] == ["Timepoint_001_220518-ST_I06_s2"]
    assert "ST_I06" in rule
    # every timepoint of a site in the same split
    assert cellular_paper_split(FIELDS) == split


@pytest.mark.parametrize(
    "folder, expected",
    [("basal", 0), ("FED", 0), ("Activated", 1), ("unfed", 1), ("Starved", 1), ("Unknown", 2), ("Unidentified", 2)],
)
def test_class_folder_mapping(folder, expected):
    assert class_from_folder(folder) == expected


def test_unrecognised_class_folder_fails_loudly(tmp_path):
    root = write_fixture(tmp_path / "cellular", FIELDS[:1])
    (root / "masks" / FIELDS[0] / "Fed").rename(root / "masks" / FIELDS[0] / "Mitotic")
    with pytest.raises(DataError, match=r"unrecognised CELLULAR class folder 'Mitotic'"):
        Cellular(root).load(FIELDS[0])


def test_missing_raw_channel(tmp_path):
    root = write_fixture(tmp_path / "cellular", FIELDS[:1])
    next((root / "images").rglob("*_w2*")).unlink()
    with pytest.raises(DataError, match=r"lacks raw TIFF\(s\) Timepoint_001_220518-ST_C03_s1_w2\*\.tif"):
        Cellular(root).load(FIELDS[0])


def test_cell_mask_of_wrong_shape(tmp_path):
    root = write_fixture(tmp_path / "cellular", FIELDS[:1])
    p = root / "masks" / FIELDS[0] / "Fed" / "cell_0.png"
    Image.fromarray(np.full((10, 10), 255, np.uint8)).save(p)
    with pytest.raises(DataError, match=r"cell_0\.png: mask shape \(10, 10\) does not match"):
        Cellular(root).load(FIELDS[0])


def test_not_downloaded_is_a_reason(tmp_path):
    ds = Cellular(tmp_path / "empty")
    assert "bench data fetch cellular" in ds.unavailable_reason()
    assert "not downloaded" in get_dataset("cellular").unavailable_reason()


# ----------------------------------------------------------------- download
@pytest.fixture
def zenodo(tmp_path, server):
    """A local 'Zenodo' (see conftest.server) serving the fixture as the four archives."""
    src = write_fixture(tmp_path / "src", FIELDS[:2])
    for name in ("images", "masks", "bounding-boxes"):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for p in sorted((src / name).rglob("*")):
                if p.is_file():
                    z.write(p, p.relative_to(src))  # archive holds the top folder
        (server.root / f"{name}.zip").write_bytes(buf.getvalue())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("metadata/readme.txt", "microscope metadata")
    (server.root / "metadata.zip").write_bytes(buf.getvalue())
    files = []
    for p in sorted(server.root.iterdir()):
        files.append(
            {
                "key": p.name,
                "size": p.stat().st_size,
                "checksum": "md5:" + hashlib.md5(p.read_bytes()).hexdigest(),
                "links": {"self": f"https://zenodo.org/api/records/8315423/files/{p.name}/content"},
            }
        )
    server.api_doc = json.dumps({"files": files}).encode()
    return server


def test_fetch_downloads_verifies_and_extracts(tmp_path, zenodo):
    root = fetch_cellular(tmp_path / "dl", base_url=zenodo.url, progress=False)
    ds = Cellular(root)
    assert ds.sample_ids() == sorted(FIELDS[:2])
    assert ds.load(FIELDS[0]).labels.max() == 3
    recorded = json.loads((root / "zenodo_files.json").read_text())
    assert recorded["masks.zip"]["checksum"].startswith("md5:")
    # a second fetch downloads nothing: only the record's API is read again
    n = len(zenodo.requests)
    fetch_cellular(root, base_url=zenodo.url, progress=False)
    assert [p for p, _ in zenodo.requests[n:]] == ["/api/records/8315423"]


def test_corrupted_download_fails_the_checksum(tmp_path, zenodo):
    p = zenodo.root / "masks.zip"
    p.write_bytes(b"corrupt" + p.read_bytes()[7:])
    with pytest.raises(DataError, match=r"masks\.zip: checksum mismatch"):
        fetch_cellular(tmp_path / "dl", base_url=zenodo.url, progress=False)
    assert not (tmp_path / "dl" / "masks").exists()


def test_offline_gives_a_clear_message(tmp_path):
    with pytest.raises(DataError, match=r"cannot reach .*Are you offline\?"):
        fetch_cellular(tmp_path / "dl", base_url="http://127.0.0.1:9", progress=False)
