"""bench.book.leaderboards (and the headline of bench.book.intro) without a run."""

from __future__ import annotations

DATASET = "synth-lyso-easy"  # the dataset of the `no_run_stage` fixture (conftest.py)


def test_without_a_run_the_leaderboards_say_so_and_show_no_numbers(no_run_stage):
    index = (no_run_stage / "book/leaderboards/index.md").read_text()
    assert "No benchmark run has been made yet" in index
    assert "bench run benchmark/configs/quick.yaml" in index
    assert "<table" not in index
    page = (no_run_stage / f"book/leaderboards/datasets/{DATASET}.md").read_text()
    assert "No benchmark run has been made yet" in page and "<table" not in page
    headline = (no_run_stage / "book/_generated/headline.md").read_text()
    assert "No benchmark run has been made yet" in headline


def test_budget_series_keeps_methods_that_differ_only_in_their_budget():
    import pandas as pd

    from bench.book.figures import budget_series

    g = pd.DataFrame({
        "method": ["stardist", "stardist", "stardist", "cellpose", "unet", "unet", "unet"],
        "method_id": ["stardist", "stardist[epochs=40]", "stardist[n_rays=16]", "cellpose", "unet7x16",
                      "unet_mdl", "unet7x16[iterations=256]"],
        "status": "ok", "score": [0.5, 0.7, 0.6, 0.6, 0.8, 0.9, 0.85], "fit_s": [100, 400, 120, 90, 50, 40, 200],
    })
    kept = budget_series(g)
    # stardist: plain + epochs; n_rays changes the model, not the budget; cellpose has one budget only;
    # two U-Net presets are two methods, not two budgets of one: only unet7x16's own budgets form a curve
    assert sorted(kept["method_id"]) == ["stardist", "stardist[epochs=40]", "unet7x16", "unet7x16[iterations=256]"]
    assert dict(zip(kept["method_id"], kept["method"]))["unet7x16[iterations=256]"] == "unet7x16"
