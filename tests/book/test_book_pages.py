"""Staging of the book without building it: the generated pages, the table of
contents, the papers' numbers, the staging folder's bookkeeping and the CLI."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from bench.book import build_book, dataset_stats, stage_book

ROOT = Path(__file__).resolve().parents[2]
DATASET = "synth-lyso-easy"
GENERATED = ("book/datasets/cards/", "book/leaderboards/", "book/_generated/", "notebooks/colab/")


@pytest.fixture(scope="module")
def no_run_stage(tmp_path_factory):
    """The book staged by ``bench book --no-run --stage-only`` for one dataset."""
    from bench.cli import main

    out = tmp_path_factory.mktemp("stage")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BENCH_CACHE", str(out / "cache"))
        code = main(["book", "--no-run", "--stage-only", "--datasets", DATASET, "--output", str(out)])
    assert code == 0
    return out / "_build" / "book-src"


def test_without_a_run_the_leaderboards_say_so_and_show_no_numbers(no_run_stage):
    index = (no_run_stage / "book/leaderboards/index.md").read_text()
    assert "No benchmark run has been made yet" in index
    assert "bench run benchmark/configs/quick.yaml" in index
    assert "<table" not in index
    page = (no_run_stage / f"book/leaderboards/datasets/{DATASET}.md").read_text()
    assert "No benchmark run has been made yet" in page and "<table" not in page
    headline = (no_run_stage / "book/_generated/headline.md").read_text()
    assert "No benchmark run has been made yet" in headline
    # the experiments show the papers' numbers, and nothing as measured
    lyso = (no_run_stage / "book/_generated/experiments/lysoquant.md").read_text()
    assert "0.641" in lyso
    rows = [ln for ln in lyso.splitlines() if ln.startswith("| IsoData")]
    assert rows and "not run" in rows[0]
    for name in ("cdl_mdl.md", "classical_vs_deep.md"):
        assert "No benchmark run has been made yet" in (no_run_stage / "book/_generated/experiments" / name).read_text()


def test_dataset_card_counts_match_the_data(no_run_stage):
    from bench.splits import get_split, load_test_truth

    card = (no_run_stage / f"book/datasets/cards/{DATASET}.md").read_text()
    n_test = sum(s.n_objects for s in load_test_truth(DATASET))
    sizes = get_split(DATASET).sizes()
    assert re.search(rf"^\| test \| {sizes['test']} \| {n_test} \|", card, re.M), card
    for img in re.findall(r"```\{image\} /(\S+)", card):
        assert (no_run_stage / img).is_file(), img
    assert "bench.splits import load_fit_data" in card
    stats = dataset_stats(DATASET)
    assert stats["splits"]["test"]["objects"] == n_test
    assert sum(stats["splits"]["test"]["classes"].values()) == n_test


def test_notebooks_are_staged_where_their_colab_copies_live(no_run_stage):
    import nbformat

    from bench.runner.notebooks import list_notebooks

    for src in list_notebooks():
        staged = no_run_stage / "notebooks" / "colab" / f"{src.stem}.ipynb"
        nb = nbformat.read(staged, as_version=4)
        notes = [c for c in nb.cells if "bench-book-note" in c.metadata.get("tags", [])]
        assert len(notes) == 1 and "without outputs" in notes[0].source


def test_staging_rewrites_only_changed_files_and_removes_stale_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "cache"))
    stage = tmp_path / "stage"
    stage_book(stage, root=ROOT, datasets=[DATASET])
    intro = stage / "book" / "intro.md"
    card = stage / "book" / "datasets" / "cards" / f"{DATASET}.md"
    os.utime(intro, (1, 1))
    os.utime(card, (1, 1))
    stale = stage / "book" / "leaderboards" / "datasets" / "gone.md"
    stale.write_text("# a page of a dataset that no longer exists\n")
    stage_book(stage, root=ROOT, datasets=[DATASET])
    assert intro.stat().st_mtime == 1 and card.stat().st_mtime == 1, "unchanged files must keep their mtime"
    assert not stale.exists()


def test_toc_lists_every_notebook_and_hand_written_page():
    from bench.runner.notebooks import list_notebooks

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files, globs = [toc["root"]], []

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            if "glob" in node:
                globs.append(node["glob"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(toc)
    assert len(files) == len(set(files)), "a page is listed twice"
    for src in list_notebooks():
        assert f"notebooks/colab/{src.stem}" in files, f"{src} is not in _toc.yml"
    for f in files:
        if not f.startswith(GENERATED):
            assert (ROOT / f"{f}.md").is_file(), f"_toc.yml names {f}, which does not exist"
    written = {p.relative_to(ROOT).with_suffix("").as_posix() for p in (ROOT / "book").rglob("*.md")}
    assert written <= set(files), f"pages missing from _toc.yml: {sorted(written - set(files))}"
    for g in globs:
        assert g.startswith(GENERATED), g


def test_papers_numbers_are_consistent_and_cited():
    doc = yaml.safe_load((ROOT / "book/experiments/papers.yaml").read_text())
    bib = (ROOT / "book/references.bib").read_text()
    for section in doc.values():
        assert re.search(r"@\w+\{" + re.escape(section["cite"]) + ",", bib), section["cite"]
    for row in doc["lysoquant_tools"]["rows"]:
        # the paper's F1 is the pixel Dice of its IoU: F1 = 2 IoU / (1 + IoU) (see the chapter)
        assert row["f1"] == pytest.approx(2 * row["iou"] / (1 + row["iou"]), abs=1.5e-3), row


def test_every_citation_in_the_book_is_in_the_bibliography():
    bib = (ROOT / "book/references.bib").read_text()
    keys = set(re.findall(r"@\w+\{([^,]+),", bib))
    for entry in re.split(r"\n@", bib)[1:]:
        assert re.search(r"\bdoi\s*=\s*\{10\.\d{4,9}/\S+\}", entry), f"no DOI in @{entry[:60]}"
    cited = set()
    for p in list((ROOT / "book").rglob("*.md")) + [ROOT / "src/bench/book.py"]:
        for group in re.findall(r"\{cite(?::[pt])?\}`([^`]+)`", p.read_text()):
            cited.update(k.strip() for k in group.split(","))
    assert cited and cited <= keys, f"unknown citation keys: {sorted(cited - keys)}"


def test_an_explicit_run_that_does_not_exist_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        build_book(root=ROOT, run=tmp_path / "no-such-run", datasets=[DATASET], output=tmp_path, build=False)
