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
