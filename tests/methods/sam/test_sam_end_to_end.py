"""Segment Anything end to end with a randomly initialised ViT-B: the plumbing, not the model.

Needs the SAM environment (torch and torchvision as a matching pair, and
segment_anything; see ``notebooks/sam.md``) and runs for minutes on a CPU, so it
is ``slow`` and skips, with the reason, wherever ``bench methods`` would not
list SAM's dependencies as ok. By hand::

    python -m pytest -m slow -p no:cacheprovider tests/methods/sam/test_sam_end_to_end.py

The random checkpoint is written once under ``<bench cache>/test/sam-random-vit_b/``
(375 MB). It is not in the checkpoint registry, so the method refuses it unless
``allow_unregistered_sha256`` names its hash, which only these tests do; the
hash then shows in the method id, and the run goes to a temporary folder, so
nothing of it can reach a leaderboard.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bench.data import get_dataset
from bench.methods import get_method
from bench.methods.sam.deps import sam_dependency_reason
from bench.methods.sam.weights import CHECKPOINTS, checkpoint_path
from bench.paths import cache_dir

pytestmark = pytest.mark.slow

DATASET = "synth-lyso-easy"  # 256 x 256 px, two channels, objects classed empty / loaded


@pytest.fixture(scope="module")
def sam_ready():
    reason = sam_dependency_reason(probe=True)  # never imports torchvision in this process first
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def random_checkpoint(sam_ready) -> tuple[Path, str]:
    """A randomly initialised ViT-B checkpoint (seed 0), made once, and its SHA-256."""
    folder = cache_dir() / "test" / "sam-random-vit_b"
    path = checkpoint_path("vit_b", folder)
    if not path.is_file():
        import torch
        from segment_anything import sam_model_registry

        torch.manual_seed(0)
        model = sam_model_registry["vit_b"]()
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        torch.save(model.state_dict(), partial)
        os.replace(partial, path)
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    digest = h.hexdigest()
    assert digest != CHECKPOINTS["vit_b"].sha256
    return path, digest


def _method(checkpoint, **params):
    path, digest = checkpoint
    return get_method("sam", weights_dir=str(path.parent), allow_unregistered_sha256=digest,
                      points_per_side=4, **params)


def _samples():
    ds = get_dataset(DATASET)
    ids = ds.sample_ids()
    return ds.load(ids[0]), ds.load(ids[-1])  # a training image, a test image


def test_the_random_checkpoint_is_refused_without_the_flag(random_checkpoint):
    path, _ = random_checkpoint
    m = get_method("sam", weights_dir=str(path.parent), points_per_side=4)
    train, test = _samples()
    m.fit([train], [], rng=0)
    with pytest.raises(ValueError, match="bench uses only registered checkpoints"):
        m.predict_full(test.image)


def test_sam_predicts_labels_scores_and_classes_with_random_weights(random_checkpoint):
    train, test = _samples()
    assert train.classes, "the dataset must carry classes for the classifier to be fitted"
    m = _method(random_checkpoint).fit([train], [], rng=0)
    assert m.classifier is not None
    t0 = time.perf_counter()
    with pytest.warns(UserWarning, match="unregistered SAM vit_b checkpoint"):
        pred = m.predict_full(test.image)
    print(f"model load + one 256 x 256 image: {time.perf_counter() - t0:.1f} s, {pred.labels.max()} objects")
    assert pred.labels.dtype == np.int32 and pred.labels.shape == test.image.shape[:2]
    ids = sorted(np.unique(pred.labels[pred.labels > 0]).tolist())
    assert ids == list(range(1, len(ids) + 1))
    assert sorted(pred.scores) == ids and sorted(pred.classes) == ids  # empty when SAM found nothing
    assert set(pred.classes.values()) <= {0, 1}


def test_sam_records_from_the_model_become_labels(random_checkpoint):
    """With every SAM threshold at 0 the random model does return masks: their records
    (SAM's own format) go through the method's mask-to-labels stage."""
    train, test = _samples()
    m = _method(random_checkpoint, pred_iou_thresh=0.0, stability_score_thresh=0.0, size_filter="none",
                max_area_fraction=1.0, min_visible_fraction=0.0).fit([train], [], rng=0)
    from bench.methods.sam.method import to_rgb_uint8

    with pytest.warns(UserWarning, match="unregistered"):
        records = m._mask_generator().generate(to_rgb_uint8(test.image))
    print(f"{len(records)} records with all thresholds at 0")
    if not records:
        pytest.skip("the random model returned no mask even with every threshold at 0")
    labels, scores = m.labels_from_records(records, test.image.shape[:2])
    union = np.logical_or.reduce([r["segmentation"] for r in records])
    # min_visible_fraction=0: the labelled pixels are exactly the union of the masks
    np.testing.assert_array_equal(labels > 0, union)
    assert labels.dtype == np.int32 and sorted(scores) == sorted(np.unique(labels[labels > 0]).tolist())


def test_one_cell_of_sam_through_bench_run_ends_ok(random_checkpoint, tmp_path):
    path, digest = random_checkpoint
    method_id = f"sam[allow_unregistered_sha256={digest},points_per_side=4,weights_dir={path.parent}]"
    config = tmp_path / "sam-random.yaml"
    config.write_text(
        "name: sam-random\n"
        "description: SAM with a randomly initialised ViT-B, one synthetic image (plumbing test)\n"
        "profile: ci\nsplit: test\nseeds: [0]\ntimeout_s: 1200\nlimit: 1\n"
        f"methods:\n  - '{method_id}'\n"
        f"datasets: [{DATASET}]\n"
    )
    root = tmp_path / "runs"
    # what the `bench` script runs (bench.cli.main)
    cmd = [sys.executable, "-c", "import sys; from bench.cli import main; sys.exit(main())", "run", str(config), "--root", str(root), "--jobs", "1",
           "--no-progress", "--no-leaderboard"]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1500, check=False)
    print(f"bench run: {time.perf_counter() - t0:.0f} s\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    assert done.returncode == 0
    (run_dir,) = root.iterdir()
    (cell_dir,) = (run_dir / "cells").iterdir()
    cell = json.loads((cell_dir / "cell.json").read_text())
    assert cell["status"] == "ok", cell
    assert cell["method_id"] == method_id
    import tifffile

    (tif,) = (cell_dir / "predictions").glob("*.tif")
    labels = tifffile.imread(tif)
    assert labels.dtype == np.int32 and labels.shape == (256, 256) and labels.min() >= 0
    classes = json.loads((cell_dir / "predictions" / "classes.json").read_text())
    assert set(classes) == {tif.stem}
    assert sorted(int(k) for k in classes[tif.stem]) == sorted(np.unique(labels[labels > 0]).tolist())
