"""The upstream CELLULAR loader, on a small fixture written with the Zenodo
layout and file-name scheme, and its resumable, checksum-verified download
against a local HTTP server (no internet)."""

import hashlib
import http.server
import io
import json
import threading
import zipfile
from functools import partial

import numpy as np
import pytest
import tifffile
from PIL import Image

from bench.data import DataError, get_dataset
from bench.data.cellular import Cellular, ResumableDownloader, class_from_folder, fetch_cellular
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
class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files with HTTP Range support, and a fake Zenodo record API."""

    api_doc: bytes = b""
    fail_after: dict = {}

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802 - http.server API
        if self.path.startswith("/api/records/"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(self.api_doc)))
            self.end_headers()
            self.wfile.write(self.api_doc)
            return
        path = self.translate_path(self.path.split("?")[0])
        from pathlib import Path

        data = Path(path).read_bytes()
        start = 0
        rng = self.headers.get("Range")
        if rng:
            start = int(rng.split("=")[1].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        limit = self.fail_after.pop(self.path, None)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if limit is not None:  # simulate a dropped connection mid-file
            self.wfile.write(body[:limit])
            self.wfile.flush()
            self.connection.close()
            return
        self.wfile.write(body)


@pytest.fixture
def zenodo(tmp_path):
    """A local 'Zenodo' serving the fixture as the four upstream archives."""
    src = write_fixture(tmp_path / "src", FIELDS[:2])
    served = tmp_path / "served"
    served.mkdir()
    for name in ("images", "masks", "bounding-boxes"):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for p in sorted((src / name).rglob("*")):
                if p.is_file():
                    z.write(p, p.relative_to(src))  # archive holds the top folder
        (served / f"{name}.zip").write_bytes(buf.getvalue())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("metadata/readme.txt", "microscope metadata")
    (served / "metadata.zip").write_bytes(buf.getvalue())

    handler = partial(_RangeHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    port = server.server_address[1]
    files = []
    for p in sorted(served.iterdir()):
        files.append(
            {
                "key": p.name,
                "size": p.stat().st_size,
                "checksum": "md5:" + hashlib.md5(p.read_bytes()).hexdigest(),
                "links": {"self": f"http://127.0.0.1:{port}/{p.name}?download=1"},
            }
        )
    _RangeHandler.api_doc = json.dumps({"files": files}).encode()
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{port}/api/records/{{record}}", served
    server.shutdown()
    server.server_close()


def test_fetch_downloads_verifies_and_extracts(tmp_path, zenodo):
    api, _ = zenodo
    root = fetch_cellular(tmp_path / "dl", api=api, progressbar=False)
    ds = Cellular(root)
    assert ds.sample_ids() == sorted(FIELDS[:2])
    assert ds.load(FIELDS[0]).labels.max() == 3
    recorded = json.loads((root / "zenodo_files.json").read_text())
    assert recorded["masks.zip"]["checksum"].startswith("md5:")
    # a second fetch re-downloads nothing (pooch finds verified files)
    before = {p.name: p.stat().st_mtime_ns for p in (root / "downloads").iterdir()}
    fetch_cellular(root, api=api, progressbar=False)
    after = {p.name: p.stat().st_mtime_ns for p in (root / "downloads").iterdir()}
    assert before == after


def test_corrupted_download_fails_the_checksum(tmp_path, zenodo):
    api, served = zenodo
    (served / "masks.zip").write_bytes(b"corrupt" + (served / "masks.zip").read_bytes()[7:])
    with pytest.raises(ValueError, match=r"(?i)hash"):
        fetch_cellular(tmp_path / "dl", api=api, progressbar=False)


def test_resumable_downloader_appends_after_a_dropped_connection(tmp_path, zenodo):
    api, served = zenodo
    url = api.split("/api/")[0] + "/images.zip"
    payload = (served / "images.zip").read_bytes()
    _RangeHandler.fail_after["/images.zip"] = 1000
    out = tmp_path / "images.zip"
    dl = ResumableDownloader(progressbar=False, chunk_size=100)
    with pytest.raises(Exception):
        dl(url, out)
    part = next(tmp_path.glob("*.part"))
    assert 0 < part.stat().st_size <= 1000 < len(payload) and not out.exists()
    dl(url, out)  # resumes with a Range request
    assert out.read_bytes() == payload


def test_offline_gives_a_clear_message(tmp_path):
    with pytest.raises(DataError, match=r"cannot reach .*Are you offline\?"):
        fetch_cellular(tmp_path / "dl", api="http://127.0.0.1:9/api/records/{record}", progressbar=False)
