"""``bench score`` and ``bench leaderboard`` on folders of predictions."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import tifffile

from bench.cli import main
from bench.leaderboard import leaderboard
from bench.results import load_run, write_json
from bench.runner import read_prediction, score_folder
from bench.splits import load_test_truth


@pytest.fixture
def perfect_predictions(tiny_dataset, tmp_path):
    """The test truth of the tiny dataset written as prediction files, one deliberately emptied."""
    pred = tmp_path / "pred"
    pred.mkdir()
    truth = load_test_truth(tiny_dataset)
    for s in truth:
        tifffile.imwrite(pred / f"{s.name}.tif", s.labels)
    return pred, truth


def test_score_folder_against_a_dataset_split(tiny_dataset, perfect_predictions):
    pred, truth = perfect_predictions
    scores, info = score_folder(pred, dataset=tiny_dataset)
    assert info.name == tiny_dataset
    inst = scores["instance"]
    assert set(inst["image"]) == {s.name for s in truth}
    at = inst[inst["threshold"] == 0.5]
    assert (at["tp"] == at["n_true"]).all() and (at["fp"] == 0).all()
    # empty one prediction: its objects become false negatives
    victim = truth[0]
    tifffile.imwrite(pred / f"{victim.name}.tif", np.zeros(victim.shape, np.int32))
    scores, _ = score_folder(pred, dataset=tiny_dataset)
    row = scores["instance"].query("threshold == 0.5 and image == @victim.name").iloc[0]
    assert (row["tp"], row["fn"]) == (0, victim.n_objects)


def test_score_folder_errors(tiny_dataset, perfect_predictions, tmp_path):
    pred, truth = perfect_predictions
    (pred / f"{truth[0].name}.tif").unlink()
    with pytest.raises(ValueError, match=f"no prediction for 1 of {len(truth)}"):
        score_folder(pred, dataset=tiny_dataset)
    with pytest.raises(ValueError, match="exactly one of"):
        score_folder(pred)
    with pytest.raises(ValueError, match="does not exist"):
        score_folder(tmp_path / "nope", dataset=tiny_dataset)


def test_read_prediction_keeps_ids_and_splits_binary_masks(tmp_path):
    labels = np.zeros((5, 5), np.uint16)
    labels[0, 0], labels[4, 4] = 7, 9
    tifffile.imwrite(tmp_path / "a.tif", labels)
    assert sorted(np.unique(read_prediction(tmp_path / "a.tif"))) == [0, 7, 9]
    binary = (labels > 0).astype(np.uint8) * 255
    tifffile.imwrite(tmp_path / "b.tif", binary)
    assert sorted(np.unique(read_prediction(tmp_path / "b.tif"))) == [0, 1, 2]
    assert sorted(np.unique(read_prediction(tmp_path / "b.tif", semantic=True))) == [0, 255]


def test_cli_score_with_true_folder_and_into_a_run(tiny_dataset, perfect_predictions, tmp_path, capsys):
    pred, truth = perfect_predictions
    root = tiny_dataset.split(":", 1)[1]
    true_dir = tmp_path / "true"
    true_dir.mkdir()
    for s in truth:  # the same images as label files, by name
        shutil.copy(f"{root}/masks/{s.name}.png", true_dir / f"{s.name}.png")
    assert main(["score", "--pred", str(pred), "--true", str(true_dir)]) == 0
    out = capsys.readouterr().out
    assert "| method_id" in out and "external:pred" in out and "1.000" in out

    run_dir = tmp_path / "run"
    write_json(run_dir / "manifest.json", {"run_id": "run", "updated": "2026-01-01", "cells": {}})
    assert main(["score", "--pred", str(pred), "--dataset", tiny_dataset, "--run", str(run_dir),
                 "--name", "my_method"]) == 0
    run = load_run(run_dir)
    assert run.cells["method_id"].tolist() == ["my_method"]
    board = leaderboard(run, n_boot=0)
    assert board.loc[0, "method_id"] == "my_method" and board.loc[0, "score"] == 1.0
    capsys.readouterr()
    assert main(["leaderboard", str(run_dir), "--format", "csv", "--no-ci"]) == 0
    assert "my_method" in capsys.readouterr().out

    assert main(["score", "--pred", str(pred)]) == 2
    assert "exactly one of --true DIR and --dataset NAME" in capsys.readouterr().err
