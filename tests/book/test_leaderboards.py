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


def test_budget_verdicts_say_when_the_quick_budget_undersells_a_method():
    import pandas as pd

    from bench.book.leaderboards import budget_verdicts

    rows = pd.DataFrame([
        # stardist: 4x clearly above 1x (intervals apart); cellpose: 4x inside 1x's interval
        {"method": "stardist", "method_id": "stardist", "score": 0.598, "f1_low": 0.49, "f1_high": 0.678, "fit_s": 289},
        {"method": "stardist", "method_id": "stardist[epochs=40]", "score": 0.802, "f1_low": 0.772, "f1_high": 0.837,
         "fit_s": 889},
        {"method": "cellpose", "method_id": "cellpose", "score": 0.80, "f1_low": 0.70, "f1_high": 0.90, "fit_s": 185},
        {"method": "cellpose", "method_id": "cellpose[epochs=400]", "score": 0.84, "f1_low": 0.81, "f1_high": 0.87,
         "fit_s": 523},
    ])
    text = "\n".join(budget_verdicts(rows))
    sd = next(line for line in text.splitlines() if "`stardist`" in line)
    assert "undersells" in sd and "0.598 [0.490, 0.678]" in sd and "0.802 [0.772, 0.837]" in sd
    cp = next(line for line in text.splitlines() if "`cellpose`" in line)
    assert "no longer budget here scores clearly higher" in cp
    assert "The quick budget is kept all the same" in text
    assert "kept all the same" not in "\n".join(budget_verdicts(rows[rows["method"] == "cellpose"]))
