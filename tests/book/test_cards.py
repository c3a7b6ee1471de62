"""bench.book.cards: the dataset cards."""

from __future__ import annotations

import re

import pytest

import bench.book.cards as cards
from bench.book.staging import Context, Stage
from bench.book import dataset_stats
from bench.data import DataError, get_dataset
from bench.data.stats import split_stats
from bench.splits import get_split

DATASET = "synth-lyso-easy"  # the dataset of the `no_run_stage` fixture (conftest.py)


def test_dataset_card_counts_match_the_data(no_run_stage):
    from bench.splits import get_split, load_test_truth

    card = (no_run_stage / f"book/datasets/cards/{DATASET}.md").read_text()
    n_test = sum(s.n_objects for s in load_test_truth(DATASET))
    sizes = get_split(DATASET).sizes()
    assert re.search(rf"^\| test \| {sizes['test']} \| {n_test} \|", card, re.M), card
    for img in re.findall(r"```\{image\} /(\S+)", card):
        assert (no_run_stage / img).is_file(), img
    assert "bench.splits import load_fit_data" in card


def test_a_dataset_without_a_split_says_why_on_its_card(tmp_path, monkeypatch):
    def no_split(name):
        raise DataError(f"benchmark/splits/{name}.json: no split file (test)")

    monkeypatch.setattr(cards, "get_split", no_split)
    ctx = Context(stage=Stage(tmp_path), root=tmp_path, results=None, datasets=[DATASET])
    assert cards.stats_cached(ctx, DATASET) is None
    card = cards.dataset_card(ctx, get_dataset(DATASET), None)
    assert "no split file (test)" in card and "no counts are shown" in card


def test_the_book_counts_a_dataset_by_name_through_its_committed_split(monkeypatch, tmp_path):
    assert dataset_stats(DATASET) == split_stats(get_split(DATASET))
    monkeypatch.setattr("bench.splits.splits_dir", lambda: tmp_path)
    with pytest.raises(DataError, match="no split file"):
        dataset_stats(DATASET)


def test_counts_made_in_another_process_are_the_counts_made_here(tmp_path, monkeypatch):
    """start_counting counts uncached datasets in a second process while the book renders;
    the cards get the same numbers, cached, and a second build starts no process."""
    monkeypatch.setattr(cards.os, "cpu_count", lambda: 2)
    names = ["synth-lyso-easy", "synth-rosella-easy"]
    ctx = Context(stage=Stage(tmp_path / "stage"), root=tmp_path, results=None, datasets=names)
    cards.start_counting(ctx)
    assert sorted(ctx.counting) == names
    for name in names:
        assert cards.stats_cached(ctx, name) == dataset_stats(name)
    assert ctx.counting == {}
    assert len(list((tmp_path / "book-cache" / "datasets").glob("*.json"))) == 2
    again = Context(stage=Stage(tmp_path / "stage"), root=tmp_path, results=None, datasets=names)
    cards.start_counting(again)
    assert again.counting == {}  # cached: nothing to count
    single = Context(stage=Stage(tmp_path / "fresh" / "stage"), root=tmp_path, results=None, datasets=names[:1])
    cards.start_counting(single)
    assert single.counting == {}  # one dataset: counted in line, no process
