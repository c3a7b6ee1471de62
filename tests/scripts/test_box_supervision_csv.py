"""benchmark/experiments/box_supervision.py --update / --datasets: rows replaced by (dataset, method)."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[2] / "benchmark" / "experiments" / "box_supervision.py"


@pytest.fixture
def script():
    spec = importlib.util.spec_from_file_location("box_supervision_script", PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _read(path):
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _row(mod, run, dataset, mid, f1):
    return {**{c: "" for c in mod.COLUMNS}, "run_id": run, "dataset": dataset, "method_id": mid, "f1": f1}


def test_update_replaces_the_same_dataset_and_method_and_keeps_the_rest(script, tmp_path, monkeypatch):
    out = tmp_path / "box.csv"
    runs = {"old": [_row(script, "old", "synth-cells", "unet_mdl", 0.5), _row(script, "old", "cellular-boxes", "stardist", 0.3)],
            "deep": [_row(script, "deep", "cellular-boxes", "stardist", 0.4), _row(script, "deep", "synth-lyso", "unet7x16", 0.9)]}
    monkeypatch.setattr(script, "rows_of", lambda run: runs[run])
    script.main(["old", "--out", str(out)])
    script.main(["deep", "--out", str(out), "--datasets", "cellular-boxes", "--update"])
    rows = _read(out)
    assert [(r["run_id"], r["dataset"], r["method_id"], r["f1"]) for r in rows] == [
        ("old", "synth-cells", "unet_mdl", "0.5"), ("deep", "cellular-boxes", "stardist", "0.4")]
    with pytest.raises(SystemExit):  # a dataset the runs do not have: an error, not an empty table
        script.main(["deep", "--out", str(out), "--datasets", "nosuch", "--update"])
    assert len(_read(out)) == 2
