"""bench.book.build: staging (only changed files rewritten, stale ones removed), the table
of contents, the bibliography and the ``bench book`` command's errors."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from bench.book import build_book, stage_book

ROOT = Path(__file__).resolve().parents[2]
DATASET = "synth-lyso-easy"
GENERATED = ("book/datasets/cards/", "book/leaderboards/", "book/_generated/", "notebooks/colab/")


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


def test_every_citation_in_the_book_is_in_the_bibliography():
    bib = (ROOT / "book/references.bib").read_text()
    keys = set(re.findall(r"@\w+\{([^,]+),", bib))
    for entry in re.split(r"\n@", bib)[1:]:
        assert re.search(r"\bdoi\s*=\s*\{10\.\d{4,9}/\S+\}", entry), f"no DOI in @{entry[:60]}"
    cited = set()
    for p in list((ROOT / "book").rglob("*.md")) + list((ROOT / "src/bench/book").glob("*.py")):
        for group in re.findall(r"\{cite(?::[pt])?\}`([^`]+)`", p.read_text()):
            cited.update(k.strip() for k in group.split(","))
    assert cited and cited <= keys, f"unknown citation keys: {sorted(cited - keys)}"


def test_an_explicit_run_that_does_not_exist_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        build_book(root=ROOT, run=tmp_path / "no-such-run", datasets=[DATASET], output=tmp_path, build=False)
