"""bench.runner.Experiment: what the method notebooks call, run in-process."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import tifffile

from bench.results import KEY_COLUMNS
from bench.runner import CellSkipped, Experiment, make_method


def test_experiment_fit_predict_score_save(testmethods, tiny_dataset, tmp_path):
    exp = Experiment(method_id="test_threshold[offset=0.05]", dataset=tiny_dataset, profile="ci", seed=3,
                     output_dir=tmp_path)
    with pytest.raises(RuntimeError, match="call `fit\\(\\)` before"):
        exp.predict()
    exp.fit()
    preds = exp.predict()
    assert len(preds) == len(exp.truth) == len(exp.predict_s)
    assert all(p.labels.dtype == np.int32 for p in preds)
    assert all(s.labels is None for s in exp.images)  # the method never saw the test truth
    scores = exp.score()
    assert set(scores["instance"]["image"]) == {s.name for s in exp.truth}
    out = exp.save()
    inst = pd.read_csv(out / "tables" / "instance.csv")
    assert list(inst.columns[: len(KEY_COLUMNS)]) == list(KEY_COLUMNS)
    assert set(inst["method_id"]) == {"test_threshold[offset=0.05]"} and set(inst["seed"]) == {3}
    assert "predict_s" in pd.read_csv(out / "tables" / "images.csv").columns
    result = json.loads((out / "result.json").read_text())
    assert result["status"] == "ok" and result["params"]["offset"] == 0.05 and result["params"]["profile"] == "ci"
    assert result["n_images"] == len(preds) and result["fit_cpu_s"] >= 0 and result["cpu_s"] > 0
    name = exp.truth[0].name
    assert np.array_equal(tifffile.imread(out / "predictions" / f"{name}.tif"), preds[0].labels)
    assert json.loads((out / "predictions" / "classes.json").read_text())[name]
    ranked = exp.ranked_images()
    per = exp.per_image().set_index("image")
    assert per.loc[ranked[0], "f1"] <= per.loc[ranked[-1], "f1"]
    sample, pred = exp.sample(ranked[0])
    assert sample.labels is not None and pred is preds[[s.name for s in exp.truth].index(ranked[0])]
    assert exp.figure_path("x").parent.is_dir()


def test_experiment_skips_and_validates(testmethods, tiny_dataset):
    with pytest.raises(CellSkipped, match="never runs"):
        Experiment(method_id="test_skips", dataset=tiny_dataset)
    with pytest.raises(ValueError, match="`split` must be one of"):
        Experiment(method_id="test_threshold", dataset=tiny_dataset, split="train")
    with pytest.raises(ValueError, match="`limit` must be None or an int >= 1"):
        Experiment(method_id="test_threshold", dataset=tiny_dataset, limit=0)
    with pytest.raises(TypeError, match="`seed` must be an int"):
        Experiment(method_id="test_threshold", dataset=tiny_dataset, seed=1.5)
    with pytest.raises(ValueError, match="`profile` must be one of"):
        make_method("test_threshold", profile="huge")


def test_profile_goes_to_methods_that_declare_it(testmethods):
    assert make_method("test_threshold", profile="ci").params.profile == "ci"
    assert make_method("test_threshold[profile=full]", profile="ci").params.profile == "full"
    # a method without a `profile` parameter (SAM trains nothing) is built unchanged
    assert make_method("sam", profile="ci").id == "sam"
    assert make_method("isodata_watershed", profile="ci").id == "isodata_watershed[profile=ci]"


def test_validation_split_is_scored_against_validation_truth(testmethods, tiny_dataset, tmp_path):
    exp = Experiment(method_id="test_threshold", dataset=tiny_dataset, split="val", output_dir=tmp_path)
    exp.fit()
    exp.predict()
    from bench.splits import get_split

    assert [s.name for s in exp.truth] == list(get_split(tiny_dataset).val)


def _cell(run: Path, exp: Experiment) -> None:
    """Copy an experiment's outputs into a run folder as a finished cell."""
    import shutil

    from bench.runner.run import cell_id

    cid = cell_id(exp.method_id, exp.dataset_name, exp.seed)
    shutil.copytree(exp.output_dir, run / "cells" / cid)
    rec = json.loads((run / "cells" / cid / "result.json").read_text())
    (run / "cells" / cid / "cell.json").write_text(json.dumps({**rec, "cell_id": cid}))


def test_learning_curve_is_saved_judged_and_flagged_on_the_leaderboard(testmethods, tiny_dataset, tmp_path):
    from bench.book.tables import UNDERTRAINED_MARK, main_table
    from bench.curves import CURVE_COLUMNS
    from bench.leaderboard import format_leaderboard, leaderboard
    from bench.results import KEY_COLUMNS, load_run

    run = tmp_path / "run"
    (run / "cells").mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps({"run_id": "curves-test"}))
    results = {}
    for mid in ("test_learner", "test_learner[steep=false]", "test_threshold"):
        exp = Experiment(method_id=mid, dataset=tiny_dataset, profile="ci", output_dir=tmp_path / "out" / mid)
        exp.fit()
        exp.predict()
        exp.score()
        out = exp.save()
        results[mid] = json.loads((out / "result.json").read_text())
        _cell(run, exp)
    # the curve: key columns then the curve columns, six checkpoints
    curve = pd.read_csv(tmp_path / "out" / "test_learner" / "curve.csv")
    assert list(curve.columns) == [*KEY_COLUMNS, *CURVE_COLUMNS] and len(curve) == 6
    assert not (tmp_path / "out" / "test_threshold" / "curve.csv").exists()
    # the verdicts: steep -> a reason, flat -> "", untrained method -> None
    assert "val loss fell" in results["test_learner"]["undertrained"]
    assert results["test_learner[steep=false]"]["undertrained"] == ""
    assert results["test_threshold"]["undertrained"] is None
    assert results["test_learner"]["curve_overhead_s"] == pytest.approx(0.01)

    loaded = load_run(run)
    assert len(loaded.curves) == 12 and set(loaded.curves["method_id"]) == {"test_learner", "test_learner[steep=false]"}
    board = leaderboard(loaded, n_boot=0).set_index("method_id")
    assert "val loss fell" in board.loc["test_learner", "undertrained"]
    assert board.loc["test_learner[steep=false]", "undertrained"] == ""
    assert board.loc["test_threshold", "undertrained"] == ""
    assert "val loss fell" in format_leaderboard(board.reset_index())
    rows = [dict(r, method_id=i, _nb="") for i, r in board.iterrows()]
    html = main_table(rows, "instance", tiny_dataset)
    assert html.count(UNDERTRAINED_MARK) == 1 and "under-trained at this budget: val loss fell" in html
