"""``bench data fetch`` end to end, offline: archives built here from small
fixtures in each upstream layout, served from 127.0.0.1, fetched by the real
code path (only the base URL differs), then read by the loaders."""

import hashlib
import io
import json
import zipfile

import numpy as np
import pytest
import tifffile
from PIL import Image

from bench.cli import main
from bench.data import DataError, get_dataset
from bench.data.manifest import write_manifest
from bench.data.maintain import write_manifests
from bench.data.nuclei import GOWT1_TOP, NIH3T3_TOP
from bench.data.upstream import NIH3T3_COMMIT, fetch
from bench.splits import get_split, split_hash, write_split

SHAPE = (40, 50)


def _write_split(splits_dir, name, split):
    doc = {"dataset": name, "rule": "fixture", **split, "sha256": split_hash(split)}
    (splits_dir / f"{name}.json").write_text(json.dumps(doc))


def _zip_tree(src, dest, *, top):
    with zipfile.ZipFile(dest, "w") as z:
        for p in sorted(src.rglob("*")):
            if p.is_file():
                z.write(p, f"{top}/{p.relative_to(src)}")
    return dest


def _blobs(rng, n=3):
    labels = np.zeros(SHAPE, np.uint8)
    for k in range(1, n + 1):
        y, x = rng.integers(2, SHAPE[0] - 8), rng.integers(2, SHAPE[1] - 8)
        labels[y : y + 6, x : x + 6] = k
    return labels


# ------------------------------------------------------------------- NIH3T3
def _nih3t3_tree(root, ids=(0, 1, 2, 3, 4, 25)):
    rng = np.random.default_rng(1)
    imgs = root / "data" / "images" / "dna-images" / "ic100"
    labs = root / "data" / "preprocessed-data" / "ic100"
    imgs.mkdir(parents=True)
    labs.mkdir(parents=True)
    for n in ids:
        grey = rng.integers(0, 255, SHAPE).astype(np.uint8)
        Image.fromarray(np.stack([grey] * 3, -1)).save(imgs / f"dna-{n}.png")  # grey stored as RGB
        if n != 25:  # as upstream: one field without annotation
            Image.fromarray(_blobs(rng, 2 + n % 3)).save(labs / f"dna-{n}.png")
    return root


@pytest.fixture
def nih3t3_upstream(offline_env, server):
    """The NIH3T3 archive served; committed split and digests of 4 of its fields."""
    tree = _nih3t3_tree(offline_env / "src")
    splits = offline_env / "splits"
    _write_split(splits, "nih3t3", {"train": ["dna-0", "dna-1"], "val": ["dna-2"], "test": ["dna-3"]})
    write_manifest("nih3t3", {"upstream": {
        f"dna-{n}": {
            "image": tree / "data/images/dna-images/ic100" / f"dna-{n}.png",
            "mask": tree / "data/preprocessed-data/ic100" / f"dna-{n}.png",
        } for n in range(4)}})
    _zip_tree(tree, server.root / f"{NIH3T3_COMMIT}.zip",
              top=f"Coelho2009_ISBI_NuclearSegmentation-{NIH3T3_COMMIT}")
    return tree


def test_fetch_nih3t3_success(offline_env, server, nih3t3_upstream):
    assert "bench data fetch nih3t3" in get_dataset("nih3t3").unavailable_reason()
    (root,) = fetch("nih3t3", base_url=server.url, progress=False)
    assert (root / NIH3T3_TOP / "data" / "preprocessed-data" / "ic100").is_dir()
    ds = get_dataset("nih3t3")
    assert ds.source == "upstream" and ds.info.source == "download" and ds.available
    assert ds.sample_ids() == ["dna-0", "dna-1", "dna-2", "dna-3"]  # what the split names
    s = ds.load("dna-3")
    assert s.image.shape == (*SHAPE, 1) and s.channels == ("hoechst",)
    truth = np.asarray(Image.open(nih3t3_upstream / "data/preprocessed-data/ic100/dna-3.png"))
    assert s.n_objects == len(np.unique(truth)) - 1 >= 1
    assert get_split("nih3t3").test == ("dna-3",)
    # the full variant has every annotated field (dna-25 has no labels upstream)
    full = get_dataset("nih3t3-full")
    assert full.sample_ids() == ["dna-0", "dna-1", "dna-2", "dna-3", "dna-4"]
    write_split("nih3t3-full")
    sp = get_split("nih3t3-full")
    assert "dna-3" in sp.test and "dna-2" in sp.val and {"dna-0", "dna-1"} <= set(sp.train)
    # a second fetch downloads nothing again
    n = len(server.requests)
    fetch("nih3t3", base_url=server.url, progress=False)
    assert len(server.requests) == n


def test_changed_upstream_file_fails_loudly(offline_env, server, nih3t3_upstream):
    p = nih3t3_upstream / "data/preprocessed-data/ic100/dna-1.png"
    arr = np.asarray(Image.open(p)).copy()
    arr[0, 0] = 9  # one pixel of one mask
    Image.fromarray(arr).save(p)
    _zip_tree(nih3t3_upstream, server.root / f"{NIH3T3_COMMIT}.zip",
              top=f"Coelho2009_ISBI_NuclearSegmentation-{NIH3T3_COMMIT}")
    with pytest.raises(DataError, match=r"dna-1\.png: mask of sample 'dna-1' \(nih3t3, upstream\) "
                                        r"differs from the digest committed"):
        fetch("nih3t3", base_url=server.url, progress=False)


def test_lossless_reencoding_still_verifies(offline_env, server, nih3t3_upstream):
    # the same pixels stored as a grey PNG instead of RGB: other bytes, same content
    p = nih3t3_upstream / "data/images/dna-images/ic100/dna-0.png"
    grey = np.asarray(Image.open(p))[..., 0]
    Image.fromarray(grey).save(p)
    _zip_tree(nih3t3_upstream, server.root / f"{NIH3T3_COMMIT}.zip",
              top=f"Coelho2009_ISBI_NuclearSegmentation-{NIH3T3_COMMIT}")
    fetch("nih3t3", base_url=server.url, progress=False)
    assert get_dataset("nih3t3").load("dna-0").image.shape == (*SHAPE, 1)


def test_interrupted_fetch_resumes(offline_env, server, nih3t3_upstream):
    name = f"{NIH3T3_COMMIT}.zip"
    # an archive of a few hundred kB (the downloader writes 64 kB chunks)
    (nih3t3_upstream / "data" / "noise.bin").write_bytes(np.random.default_rng(0).bytes(300_000))
    _zip_tree(nih3t3_upstream, server.root / name,
              top=f"Coelho2009_ISBI_NuclearSegmentation-{NIH3T3_COMMIT}")
    server.fail_after[f"/{name}"] = 150_000
    with pytest.raises(DataError, match="rerun to resume"):
        fetch("nih3t3", base_url=server.url, progress=False)
    assert get_dataset("nih3t3").unavailable_reason() is not None  # nothing taken as complete
    cache = offline_env / "cache" / "nih3t3" / "downloads"
    assert not (cache / name).exists() and (cache / f"{name}.part").stat().st_size > 0
    fetch("nih3t3", base_url=server.url, progress=False)
    assert server.requests[-1][1] is not None and server.requests[-1][1].startswith("bytes=")
    assert get_dataset("nih3t3").available


def test_fetch_404(offline_env, server, nih3t3_upstream):
    (server.root / f"{NIH3T3_COMMIT}.zip").unlink()
    with pytest.raises(DataError, match=r"HTTP 404"):
        fetch("nih3t3", base_url=server.url, progress=False)
    assert "bench data fetch nih3t3" in get_dataset("nih3t3").unavailable_reason()


def test_cli_fetch(offline_env, server, nih3t3_upstream, capsys):
    assert main(["data", "fetch", "nih3t3", "--base-url", server.url, "--no-progress"]) == 0
    assert "downloaded and verified" in capsys.readouterr().out
    assert main(["data", "fetch", "nosuch"]) == 2
    assert "must be one of nih3t3, nih3t3-full" in capsys.readouterr().err


# -------------------------------------------------------------------- GOWT1
def _ctc_tree(root, seg):
    rng = np.random.default_rng(2)
    for seq, frames in seg.items():
        (root / seq).mkdir(parents=True)
        (root / f"{seq}_GT" / "SEG").mkdir(parents=True)
        (root / f"{seq}_GT" / "TRA").mkdir(parents=True)
        for t in range(6):
            tifffile.imwrite(root / seq / f"t{t:03d}.tif", rng.integers(0, 255, SHAPE).astype(np.uint8))
            tifffile.imwrite(root / f"{seq}_GT" / "TRA" / f"man_track{t:03d}.tif", np.zeros(SHAPE, np.uint16))
        for t in frames:
            tifffile.imwrite(root / f"{seq}_GT" / "SEG" / f"man_seg{t:03d}.tif",
                             _blobs(rng, 3).astype(np.uint16))
    return root


def test_fetch_gowt1_against_mirror_content_digests(offline_env, server, monkeypatch):
    tree = _ctc_tree(offline_env / "src", {"01": [1, 2, 3], "02": [2, 4]})
    # a mirror in the course layout: 2-digit names, re-encoded (compressed) TIFFs
    mirror = offline_env / "mirror" / "gowt1"
    (mirror / "images").mkdir(parents=True)
    (mirror / "masks").mkdir()
    # its frames come from sequence 01, except t02, which is frame 2 of sequence 02
    for t, seq in ((1, "01"), (2, "02"), (3, "01")):
        tifffile.imwrite(mirror / "images" / f"t{t:02d}.tif", tifffile.imread(tree / seq / f"t{t:03d}.tif"),
                         compression="zlib")
        tifffile.imwrite(mirror / "masks" / f"man_seg{t:02d}.tif",
                         tifffile.imread(tree / f"{seq}_GT" / "SEG" / f"man_seg{t:03d}.tif"), compression="zlib")
    monkeypatch.setenv("BENCH_SHARED_DATA", str(offline_env / "mirror"))
    _write_split(offline_env / "splits", "gowt1", {"train": ["t01"], "val": ["t02"], "test": ["t03"]})
    write_manifests("gowt1", ["t01", "t02", "t03"])  # mirror + upstream content digests copied
    doc = json.loads((offline_env / "splits" / "gowt1.sha256.json").read_text())
    assert "bytes" in doc["sources"]["mirror"]["t01"]["image"]
    assert set(doc["sources"]["upstream"]["t01"]["image"]) == {"content"}

    monkeypatch.setenv("BENCH_SHARED_DATA", str(offline_env / "nonexistent"))
    assert "bench data fetch gowt1-full" in get_dataset("gowt1-full").unavailable_reason()
    _zip_tree(tree, server.root / "Fluo-N2DH-GOWT1.zip", top=GOWT1_TOP)
    fetch("gowt1", base_url=server.url, progress=False)
    ds = get_dataset("gowt1")
    assert ds.source == "upstream" and ds.sample_ids() == ["t01", "t02", "t03"]
    assert ds.pairs["t02"][0].parent.name == "02" and ds.pairs["t03"][0].parent.name == "01"
    assert ds.load("t02").n_objects == 3
    full = get_dataset("gowt1-full")
    assert full.sample_ids() == ["01_t001", "01_t002", "01_t003", "02_t002", "02_t004"]
    write_split("gowt1-full")
    sp = get_split("gowt1-full")
    assert sp.train == ("01_t001",) and sp.val == ("01_t002", "02_t002")
    assert sp.test == ("01_t003", "02_t004")


def test_gowt1_pixels_differing_from_the_mirror_fail(offline_env, server, monkeypatch):
    tree = _ctc_tree(offline_env / "src", {"01": [1], "02": []})
    _write_split(offline_env / "splits", "gowt1", {"train": ["t01"], "val": [], "test": []})
    other = offline_env / "other.tif"
    tifffile.imwrite(other, np.ones(SHAPE, np.uint8))
    write_manifest("gowt1", {"upstream": {"t01": {"image": other, "mask": tree / "01_GT/SEG/man_seg001.tif"}}},
                   with_bytes={"upstream": False})
    _zip_tree(tree, server.root / "Fluo-N2DH-GOWT1.zip", top=GOWT1_TOP)
    with pytest.raises(DataError, match=r"t001\.tif: image of sample 't01' \(gowt1, upstream\) differs"):
        fetch("gowt1", base_url=server.url, progress=False)


# ---------------------------------------------------------- CELLULAR boxes
FIELDS = ["Timepoint_001_220518-ST_C03_s1", "Timepoint_001_220518-ST_I06_s2", "Timepoint_001_220518-ST_C05_s1"]


@pytest.fixture
def zenodo_boxes(offline_env, server):
    rng = np.random.default_rng(3)
    src = offline_env / "src"
    (src / "images-color").mkdir(parents=True)
    (src / "bounding-boxes").mkdir(parents=True)
    for k, stem in enumerate(FIELDS + ["Timepoint_002_220518-ST_C05_s1"]):
        Image.fromarray(rng.integers(0, 255, (*SHAPE, 3)).astype(np.uint8)).save(
            src / "images-color" / f"{stem}.jpg")
        if k < len(FIELDS):
            (src / "bounding-boxes" / f"{stem}.txt").write_text(f"{k % 3} 0.5 0.5 0.25 0.25\n2 0.1 0.2 0.1 0.1\n")
    files = []
    for name in ("images-color", "bounding-boxes"):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for p in sorted((src / name).iterdir()):
                z.write(p, f"{name}/{p.name}")
        (server.root / f"{name}.zip").write_bytes(buf.getvalue())
        files.append({
            "key": f"{name}.zip", "size": len(buf.getvalue()),
            "checksum": "md5:" + hashlib.md5(buf.getvalue()).hexdigest(),
            "links": {"self": f"https://zenodo.org/api/records/8315423/files/{name}.zip/content"},
        })
    server.api_doc = json.dumps({"files": files}).encode()
    split = {"train": [FIELDS[2]], "val": [FIELDS[1]], "test": [FIELDS[0]]}
    _write_split(offline_env / "splits", "cellular-boxes", split)
    write_manifest("cellular-boxes", {"upstream": {
        s: {"image": src / "images-color" / f"{s}.jpg", "boxes": src / "bounding-boxes" / f"{s}.txt"}
        for s in FIELDS}})
    return server


def test_fetch_cellular_boxes(offline_env, zenodo_boxes):
    assert "bench data fetch cellular-boxes" in get_dataset("cellular-boxes").unavailable_reason()
    fetch("cellular-boxes", base_url=zenodo_boxes.url, progress=False)
    ds = get_dataset("cellular-boxes")
    assert ds.sample_ids() == sorted(FIELDS)
    s = ds.load(FIELDS[1])
    assert s.image.shape == (*SHAPE, 3) and s.boxes.shape == (2, 5)
    assert np.all(s.boxes[:, 0] == 0)  # classes collapsed to 'cell', as in the mirror
    assert get_split("cellular-boxes").test == (FIELDS[0],)


def test_zenodo_archive_checksum_mismatch(offline_env, zenodo_boxes):
    doc = json.loads(zenodo_boxes.api_doc)
    doc["files"][1]["checksum"] = "md5:" + "0" * 32
    zenodo_boxes.api_doc = json.dumps(doc).encode()
    with pytest.raises(DataError, match=r"bounding-boxes\.zip: checksum mismatch: expected md5:0000"):
        fetch("cellular-boxes", base_url=zenodo_boxes.url, progress=False)
    downloads = offline_env / "cache" / "cellular-boxes" / "downloads"
    assert not (downloads / "bounding-boxes.zip").exists()
    assert not (downloads / "bounding-boxes.zip.part").exists()
    assert get_dataset("cellular-boxes").unavailable_reason() is not None


# ------------------------------------------------------------------ reasons
REAL = ["nih3t3", "nih3t3-full", "gowt1", "gowt1-full", "cellular", "cellular-boxes"]


@pytest.mark.parametrize("name", REAL)
def test_missing_dataset_names_its_fetch_command(offline_env, name):
    reason = get_dataset(name).unavailable_reason()
    assert reason is not None and f"`bench data fetch {name}`" in reason


def test_bench_datasets_lists_the_fetch_commands(offline_env, monkeypatch, capsys):
    from bench.paths import repo_root

    monkeypatch.setenv("BENCH_SPLITS", str(repo_root() / "benchmark" / "splits"))
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name in REAL:
        assert f"`bench data fetch {name}`" in out


def test_every_real_dataset_is_fetchable():
    from bench.data import dataset_names
    from bench.data.upstream import FETCHABLE

    real = [n for n in dataset_names() if get_dataset(n).info.source in ("mirror", "download")]
    assert sorted(real) == sorted(REAL)
    assert set(REAL) <= set(FETCHABLE)


def test_fetch_all_fills_one_folder_per_archive_set(offline_env, server, nih3t3_upstream):
    # only the NIH3T3 archive is served: 'all' fetches it, then stops loudly at the next one
    with pytest.raises(DataError, match=r"Fluo-N2DH-GOWT1\.zip: HTTP 404"):
        fetch("all", root=offline_env / "all", base_url=server.url, progress=False)
    assert (offline_env / "all" / "nih3t3" / NIH3T3_TOP).is_dir()
