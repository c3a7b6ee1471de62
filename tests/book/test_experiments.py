"""bench.book.experiments: the papers' numbers, and the measured ones beside them."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from bench.book.experiments import classical_vs_deep_page
from bench.book.staging import Context

ROOT = Path(__file__).resolve().parents[2]


def test_without_a_run_the_experiments_show_only_the_papers_numbers(no_run_stage):
    lyso = (no_run_stage / "book/_generated/experiments/lysoquant.md").read_text()
    assert "0.641" in lyso
    rows = [ln for ln in lyso.splitlines() if ln.startswith("| IsoData")]
    assert rows and "not run" in rows[0]
    for name in ("cdl_mdl.md", "classical_vs_deep.md"):
        assert "No benchmark run has been made yet" in (no_run_stage / "book/_generated/experiments" / name).read_text()


def test_a_method_that_is_no_longer_registered_is_named_not_counted():
    def row(method, score, low, high):
        return {"dataset": "synth-lyso", "method": method, "method_id": method, "status": "ok", "score": score,
                "task": "instance", "f1_low": low, "f1_high": high, "fit_s": 1.0, "predict_s_per_image": 0.1}

    board = pd.DataFrame([row("gone_method", 0.99, 0.98, 1.0), row("isodata_watershed", 0.5, 0.4, 0.6),
                          row("unet", 0.7, 0.65, 0.75)])
    ctx = Context(stage=None, root=ROOT, results=None, datasets=["synth-lyso"])
    page = classical_vs_deep_page(ctx, board)
    line = next(ln for ln in page.splitlines() if ln.startswith("| [`synth-lyso`]"))
    assert "`isodata_watershed`" in line and "`unet`" in line and "gone_method" not in line
    assert line.rstrip().endswith("| deep |")
    assert "no longer registered" in page and "`gone_method`" in page


def test_papers_numbers_are_consistent_and_cited():
    doc = yaml.safe_load((ROOT / "book/experiments/papers.yaml").read_text())
    bib = (ROOT / "book/references.bib").read_text()
    for section in doc.values():
        assert re.search(r"@\w+\{" + re.escape(section["cite"]) + ",", bib), section["cite"]
    for row in doc["lysoquant_tools"]["rows"]:
        # the paper's F1 is the pixel Dice of its IoU: F1 = 2 IoU / (1 + IoU) (see the chapter)
        assert row["f1"] == pytest.approx(2 * row["iou"] / (1 + row["iou"]), abs=1.5e-3), row


class _Results:
    """The one thing claim_rows reads from a run: its instance rows."""

    def __init__(self, rows):
        self._rows = rows

    def table(self, name):
        assert name == "instance"
        return self._rows


def _instance_rows(means: dict, seeds=(0, 1, 2), n_images=6):
    rows = []
    for m, mu in means.items():
        for s in seeds:
            for i in range(n_images):
                tp = int(round(100 * (mu + 0.01 * s)))
                rows.append({"dataset": "synth-lyso", "split": "test", "method_id": m, "method": "unet", "seed": s,
                             "profile": "ci", "image": f"i{i}", "threshold": 0.5, "criterion": "iou",
                             "n_true": 100, "n_pred": 100, "tp": tp, "fp": 100 - tp, "fn": 100 - tp,
                             "sum_matched_iou": 0.8 * tp})
    return pd.DataFrame(rows)


def test_claim_rows_show_the_seed_spread_and_the_verdict_by_the_stated_rule():
    from bench.book.experiments import claim_rows
    from bench.claims import VERDICT_RULE

    ctx = Context(stage=None, root=ROOT, results=_Results(_instance_rows({"unet7x16": 0.9, "unet5x64": 0.5})),
                  datasets=["synth-lyso"])
    lines = claim_rows(ctx, "synth-lyso", [("7x16 > 5x64", "unet7x16", "unet5x64"),
                                           ("5x64 > 7x16", "unet5x64", "unet7x16"),
                                           ("7x16 > sam", "unet7x16", "sam")])
    text = "\n".join(lines)
    row = next(ln for ln in lines if ln.startswith("| 7x16 > 5x64"))
    assert "| 3 / 3 |" in row and "0.900, 0.910, 0.920" in row and "**reproduces**" in row
    assert "**does not reproduce**" in next(ln for ln in lines if ln.startswith("| 5x64 > 7x16"))
    assert "not measured in this run" in next(ln for ln in lines if ln.startswith("| 7x16 > sam"))
    assert VERDICT_RULE in text


def test_claim_rows_on_equal_methods_say_not_distinguishable():
    from bench.book.experiments import claim_rows

    rows = _instance_rows({"unet7x16": 0.7, "unet5x64": 0.7})
    ctx = Context(stage=None, root=ROOT, results=_Results(rows), datasets=["synth-lyso"])
    row = next(ln for ln in claim_rows(ctx, "synth-lyso", [("c", "unet7x16", "unet5x64")]) if ln.startswith("| c |"))
    assert "**not distinguishable at this budget**" in row and "+0.000" in row


# ------------------------------------------------------------------ box supervision page
def _write_csv(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False)


def _sup_row(method, method_id, labels, f1, dataset="synth-cells", status="ok", reason=""):
    return {"run_id": "boxes-x", "dataset": dataset, "task": "instance", "method_id": method_id, "method": method,
            "labels": labels, "status": status, "reason": reason, "f1": f1, "f1_low": f1 - 0.1, "f1_high": f1 + 0.1,
            "precision": 0.8, "recall": 0.7, "mean_iou": 0.75, "count_mae": 3.0, "fit_s": 12.0,
            "predict_s_per_image": 0.5, "n_images": 6, "profile": "quick"}


def test_box_page_reads_its_numbers_from_the_result_files(tmp_path):
    from bench.book.experiments_boxes import MAKER_IOU, SUPERVISION, box_labels_page

    _write_csv(tmp_path / MAKER_IOU, [{"dataset": "synth-cells", "split": "train", "maker": "ellipse", "n_images": 2,
                                       "n_objects": 40, "mean_iou": 0.8535, "median_iou": 0.86,
                                       "frac_iou_ge_0.5": 0.99, "n_hidden": 0, "n_fallback": 0}])
    _write_csv(tmp_path / SUPERVISION, [
        _sup_row("unet", "unet_mdl", "truth", 0.2),
        _sup_row("unet", "unet_mdl[classes=false]", "truth", 0.6),
        _sup_row("unet", "unet_mdl[labels=boxes:ellipse]", "boxes:ellipse", 0.45),
        _sup_row("unet", "unet_mdl[labels=boxes:box]", "boxes:box", 0.0, status="failed", reason="boom"),
        _sup_row("stardist", "stardist[labels=boxes:ellipse]", "boxes:ellipse", 0.31, dataset="cellular-boxes"),
        _sup_row("stardist", "stardist", "truth", 0.0, dataset="cellular-boxes", status="skipped",
                 reason="stardist solves ['instance']; dataset 'cellular-boxes' has tasks ['detection']"),
        _sup_row("unet", "unet_mdl[labels=boxes:box]", "boxes:box", 0.0, dataset="cellular-boxes", status="skipped",
                 reason="missing dependency: torch"),
    ])
    ctx = Context(stage=None, root=tmp_path, results=None, datasets=["synth-cells"])
    page = box_labels_page(ctx, None)
    assert "| `synth-cells` | train | `ellipse` |" in page and "0.854" in page
    ell = next(ln for ln in page.splitlines() if "`unet_mdl[labels=boxes:ellipse]`" in ln)
    assert "-0.150" in ell and "0.450 [0.350, 0.550]" in ell  # against the like-for-like baseline
    assert "no classes (baseline)" in next(ln for ln in page.splitlines() if "`unet_mdl[classes=false]`" in ln)
    failed = next(ln for ln in page.splitlines() if "`unet_mdl[labels=boxes:box]`" in ln)
    assert "failed: boom" in failed and "-0.600" not in failed
    real = next(ln for ln in page.splitlines() if "`stardist[labels=boxes:ellipse]`" in ln)
    assert "0.310" in real and "`boxes:ellipse` masks" in real
    # a method that declines the boxes-only dataset is named, not given an empty row; a box-trained
    # cell that could not run keeps its row and reason
    real_part = page.split("on the real fields")[1]
    assert "| `stardist` |" not in real_part and "mask" in real_part and "`stardist`." in real_part
    assert "skipped: missing dependency: torch" in next(ln for ln in real_part.splitlines()
                                                         if ln.startswith("| `unet_mdl[labels=boxes:box]`"))


def test_box_page_without_result_files_says_how_to_make_them(tmp_path):
    from bench.book.experiments_boxes import box_labels_page

    page = box_labels_page(Context(stage=None, root=tmp_path, results=None, datasets=[]), None)
    assert "box_labels_iou.csv` is not in this checkout" in page
    assert "benchmark/configs/boxes.yaml" in page and "boxes_cellular.yaml" in page


def test_box_page_is_in_the_table_of_contents_and_includes_its_generated_part():
    toc = (ROOT / "_toc.yml").read_text()
    assert "book/experiments/box_labels" in toc
    assert "../_generated/experiments/box_labels.md" in (ROOT / "book/experiments/box_labels.md").read_text()


def _det_row(dataset, method_id, f1, status="ok", reason=""):
    return {"dataset": dataset, "task": "detection", "method_id": method_id, "status": status, "reason": reason,
            "f1": f1, "f1_low": f1 - 0.05, "f1_high": f1 + 0.05, "precision": 0.5, "recall": 0.5,
            "count_mae": 10.0, "fit_s": 100.0}


def test_box_page_sets_mask_trained_beside_box_trained_on_the_same_fields():
    """With `cellular` (masks, downloaded) in the run, each family trained on the masks is set
    beside the same family trained on boxes; without it, the page says where the rows come from."""
    from bench.book.experiments_boxes import masks_vs_boxes

    class _Run:
        run_id = "nightly-x"

    board = pd.DataFrame([
        _det_row("cellular", "cellpose", 0.70),
        _det_row("cellular", "unet_mdl", 0.55),
        _det_row("cellular", "svm", 0.40),
        _det_row("cellular", "stardist", 0.0, status="failed", reason="boom"),
        _det_row("cellular", "log_spots", 0.30),  # no partner on cellular-boxes: not in the table
        {**_det_row("cellular", "unet_mdl", 0.9), "task": "instance"},  # mask scores are not box scores
        _det_row("cellular-boxes", "cellpose[labels=boxes:ellipse]", 0.672),
        _det_row("cellular-boxes", "unet_mdl[labels=boxes:ellipse]", 0.471),
        _det_row("cellular-boxes", "unet_mdl[labels=boxes:box]", 0.335),
        _det_row("cellular-boxes", "svm", 0.386),
        _det_row("cellular-boxes", "stardist[labels=boxes:ellipse]", 0.302),
    ])
    ctx = Context(stage=None, root=ROOT, results=_Run(), datasets=["cellular", "cellular-boxes"])
    lines = masks_vs_boxes(ctx, board)
    text = "\n".join(lines)
    rows = [ln for ln in lines if ln.startswith("| `")]
    assert [ln.split("|")[1].strip() for ln in rows] == ["`cellpose`", "`stardist`", "`svm`", "`unet_mdl`",
                                                         "`unet_mdl`"]
    cp = rows[0]
    assert "0.700 [0.650, 0.750]" in cp and "`boxes:ellipse` masks" in cp and "0.672" in cp and "-0.028" in cp
    assert "failed: boom" in rows[1] and rows[1].rstrip().endswith("| – |")
    assert "its own fit on `cellular-boxes`" in rows[2] and "-0.014" in rows[2]
    assert rows[3].rstrip().endswith("| -0.215 |") and rows[4].rstrip().endswith("| -0.079 |")
    assert {r.split("|")[3].strip() for r in rows[3:]} == {"`boxes:box` masks (`unet_mdl[labels=boxes:box]`)",
                                                          "`boxes:ellipse` masks (`unet_mdl[labels=boxes:ellipse]`)"}
    assert "the same 10 fields" in text and "log_spots" not in "\n".join(rows)
    # the quick run has no `cellular`: the section says where its rows come from
    quick = masks_vs_boxes(ctx, board[board["dataset"] == "cellular-boxes"])
    assert "no `cellular` rows" in "\n".join(quick) and "bench data fetch cellular" in "\n".join(quick)
    assert "no `cellular` rows" in "\n".join(masks_vs_boxes(Context(stage=None, root=ROOT, results=None,
                                                                      datasets=[]), None))
