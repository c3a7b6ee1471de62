"""The mirrored real datasets: loading every test split, metadata, split rules."""

import json

import numpy as np
import pytest

from bench.data import get_dataset
from bench.data.files import parse_cellular_name, read_yolo_boxes
from bench.data.io import DataError
from bench.splits import get_split, load_test_images, load_test_truth


@pytest.mark.parametrize(
    "name, channels, shape",
    [("nih3t3", ("hoechst",), (1024, 1344)), ("gowt1", ("gfp",), (1024, 1024))],
)
def test_nuclei_test_split_loads(shared_data, name, channels, shape):
    truth = load_test_truth(name)
    sp = get_split(name)
    assert [s.name for s in truth] == list(sp.test)
    for s in truth:
        assert s.channels == channels and s.shape == shape
        assert s.labels.dtype == np.int32
        assert s.n_objects >= 10, f"{name}/{s.name}: only {s.n_objects} nuclei"
        # labels consecutive from 1
        assert set(np.unique(s.labels)) == set(range(s.labels.max() + 1))
        assert 0 < s.image.max() <= 1


def test_nih3t3_counts_match_the_mirror_readme(shared_data):
    ds = get_dataset("nih3t3")
    counts = [ds.load(i).n_objects for i in ds.sample_ids()[:4]]
    # README: connected components give 32-60 nuclei per image
    assert all(20 <= c <= 70 for c in counts), counts


def test_gowt1_split_is_temporal(shared_data):
    sp = get_split("gowt1")
    frame = lambda s: int(s[1:])  # noqa: E731
    assert max(map(frame, sp.train)) < min(map(frame, sp.val)) <= max(map(frame, sp.val)) < min(
        map(frame, sp.test)
    )


def test_test_images_carry_no_truth(shared_data):
    for s in load_test_images("gowt1"):
        assert s.labels is None and s.classes is None and s.semantic is None and s.boxes is None


def test_cellular_boxes_split_matches_the_paper(shared_data):
    paper = json.loads((shared_data / "cellular-annotated-color" / "paper_split.json").read_text())
    sp = get_split("cellular-boxes")
    assert list(sp.train) == sorted(paper["train"])
    assert list(sp.val) == sorted(paper["validation"])
    assert list(sp.test) == sorted(paper["test"])
    assert all(parse_cellular_name(s)["well"] == "I06" for s in sp.val)
    assert all(parse_cellular_name(s)["well"] == "C03" for s in sp.test)
    # the committed split of the upstream loader is the same paper split
    assert get_split("cellular").ids("test") == sp.test


def test_cellular_boxes_sample(shared_data):
    ds = get_dataset("cellular-boxes")
    s = ds.load(get_split("cellular-boxes").test[0])
    assert s.image.shape == (2048, 2048, 3) and s.channels == ("red", "green", "blue")
    assert s.labels is None and s.boxes.shape[1] == 5
    assert 100 <= len(s.boxes) <= 400  # paper: 140-386 cells per field
    assert set(np.unique(s.boxes[:, 0])) == {0.0}
    assert s.meta["well"] == "C03" and s.meta["timepoint"] >= 1 and s.meta["site"] >= 1


def test_parse_cellular_name_rejects_other_names():
    with pytest.raises(DataError, match="does not follow the CELLULAR name scheme"):
        parse_cellular_name("image_01")


def test_yolo_box_errors(tmp_path):
    p = tmp_path / "b.txt"
    p.write_text("0 0.5 0.5 0.1\n")
    with pytest.raises(DataError, match=r"b\.txt:1: expected 5 values"):
        read_yolo_boxes(p)
    p.write_text("0 0.5 0.5 0.1 1.7\n")
    with pytest.raises(DataError, match=r"b\.txt:1: box coordinates must be in \[0, 1\]"):
        read_yolo_boxes(p)
    p.write_text("0 0.5 x 0.1 0.1\n")
    with pytest.raises(DataError, match=r"non-numeric"):
        read_yolo_boxes(p)
    p.write_text("")
    assert read_yolo_boxes(p).shape == (0, 5)


def test_fingerprint_changes_with_ids(shared_data):
    ds = get_dataset("gowt1")
    ids = ds.sample_ids()
    assert ds.fingerprint(ids[:2]) != ds.fingerprint(ids[:3])
    assert ds.fingerprint(ids[:2]) == ds.fingerprint(ids[:2])


def test_missing_mirror_is_reported_not_raised(monkeypatch, tmp_path):
    monkeypatch.setenv("BENCH_SHARED_DATA", str(tmp_path / "nowhere"))
    ds = get_dataset("nih3t3")
    assert "`bench data fetch nih3t3`" in ds.unavailable_reason()
    assert str(tmp_path) not in ds.unavailable_reason()  # no machine paths (shown in the book)
    assert "no local mirror $BENCH_SHARED_DATA/nih3t3" in ds.unavailable_reason()  # the folder looked at
    monkeypatch.delenv("BENCH_SHARED_DATA")
    monkeypatch.setattr("bench.data.files.shared_data_dir", lambda: tmp_path / "nowhere")
    assert "no local mirror ../shared/data/nih3t3" in get_dataset("nih3t3").unavailable_reason()
    with pytest.raises(DataError, match="dataset 'nih3t3' is not available here"):
        ds.sample_ids()


@pytest.mark.parametrize("name, n", [("nih3t3", 18), ("gowt1", 6), ("cellular-boxes", 53)])
def test_mirror_matches_the_committed_digests(shared_data, name, n):
    ds = get_dataset(name)
    assert ds.source == "mirror"
    assert ds.verify_all() == n


def test_committed_digests_cover_every_split_id():
    from bench.data.manifest import load_manifest

    for name in ("nih3t3", "nih3t3-full", "gowt1", "cellular-boxes"):
        sp = get_split(name)
        m = load_manifest(name)
        ids = sorted({*sp.train, *sp.val, *sp.test})
        for source, entries in m.sources.items():
            assert sorted(entries) == ids, (name, source)


def test_nih3t3_upstream_images_are_the_mirror_images():
    # the digests were computed from the authors' repository at the pinned commit: every
    # mirrored image has the same pixels upstream; masks differ (binary vs label images)
    from bench.data.manifest import load_manifest

    m = load_manifest("nih3t3").sources
    assert all(m["mirror"][i]["image"]["content"] == m["upstream"][i]["image"]["content"] for i in m["mirror"])


def test_full_variants_keep_the_base_split():
    base, full = get_split("nih3t3"), get_split("nih3t3-full")
    for k in ("train", "val", "test"):
        assert set(base.ids(k)) <= set(full.ids(k))
    assert sum(full.sizes().values()) == 49
