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
