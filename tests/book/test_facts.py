"""bench.book.facts: what the hand-written pages state about runs, data and speed comes
from the configurations, the committed splits and measurements, never from typing."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from bench.book.facts import METRICS_SPEED, book_facts, metrics_speed_page, substitute

ROOT = Path(__file__).resolve().parents[2]

#: A number (digits or words) followed by a unit of time, a count of images or cores, or a size.
_NUMBER = (r"(\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty"
           r"|forty|forty-five|fifty|sixty|a hundred|a thousand)")
HAND_TYPED = [
    re.compile(rf"\b{_NUMBER}[ -](seconds?|minutes?|mins?|hours?|ms|cores?|CPUs?|GPUs?|(test |training )?images"
               r"|cells|MB|GB|MiB|GiB)\b", re.I),
    re.compile(r"\bnightly\b[^.]*(`(quick|full|ci)`|on an? [CG]PU)", re.I),  # the nightly profile or machine
    re.compile(r"^\|.*\b\d[\d.]*\s*(s|ms|MB|x)\s*\|", re.M),  # a table row of times, sizes or speed-ups
]


def _prose(path: Path) -> str:
    """A page without its code blocks and math, paragraphs on one line each."""
    text = re.sub(r"^(```|~~~)(?!\{include\}).*?^\1", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
    text = re.sub(r"\$\$.*?\$\$|\$[^$\n]+\$", "", text, flags=re.S)
    return re.sub(r"(?<=\S)\n(?=[^\n|#\-*>\d])", " ", text)


def test_the_book_types_no_number_about_runs_data_or_speed():
    found = []
    for page in sorted((ROOT / "book").rglob("*.md")):
        for pattern in HAND_TYPED:
            found += [f"{page.relative_to(ROOT)}: {m.group(0)!r}" for m in pattern.finditer(_prose(page))]
    assert not found, "hand-typed facts (write a {{ placeholder }} of bench.book.facts instead):\n" + "\n".join(found)


def test_the_check_catches_the_statements_it_was_written_for(tmp_path):
    page = tmp_path / "page.md"
    for stale in ("The `full` profile restores the budgets and runs nightly on a GPU.",
                  "The nightly `full` run uses the paper's schedule.",
                  "With ten test images, a difference of a few points is noise.",
                  "The README's command runs in under twenty\nminutes.",
                  "| 500 | 0.25 s | 0.010 s | 26x / 18x |"):
        page.write_text(f"# Page\n\n{stale}\n")
        assert any(p.search(_prose(page)) for p in HAND_TYPED), stale
    page.write_text("# Page\n\n```bash\nsleep 20 minutes\n```\n\nThe {{ nightly_profile }} profile.\n")
    assert not any(p.search(_prose(page)) for p in HAND_TYPED)


def test_facts_follow_the_configurations_workflow_and_splits():
    facts = book_facts(ROOT)
    nightly = yaml.safe_load((ROOT / "benchmark/configs/nightly.yaml").read_text())
    assert facts["nightly_profile"] == f"`{nightly['profile']}`"
    assert facts["nightly_seeds"].startswith(f"{len(nightly['seeds'])} seed")
    assert facts["nightly_datasets"].startswith(f"{len(nightly['datasets'])} dataset")
    workflow = yaml.safe_load((ROOT / ".github/workflows/nightly.yml").read_text())
    for job in workflow["jobs"].values():
        assert f"`{job['runs-on']}`" in facts["nightly_machine"]
    splits = [p for p in (ROOT / "benchmark/splits").glob("*.json") if not p.name.endswith(".sha256.json")]
    sizes = {p.stem: len(json.loads(p.read_text())["test"]) for p in splits}
    assert facts["test_images"].startswith(f"{min(sizes.values())} to {max(sizes.values())} test images")


def test_facts_change_with_the_configuration(tmp_path):
    for part in ("benchmark/configs", "benchmark/splits", ".github/workflows"):
        shutil.copytree(ROOT / part, tmp_path / part)
    cfg = tmp_path / "benchmark/configs/nightly.yaml"
    doc = yaml.safe_load(cfg.read_text())
    doc.update(profile="full", seeds=[0])
    cfg.write_text(yaml.safe_dump(doc))
    facts = book_facts(tmp_path)
    assert facts["nightly_profile"] == "`full`" and facts["nightly_seeds"] == "1 seed"
    assert "nightly.yaml" in facts["full_configs"]


def test_every_placeholder_of_the_staged_book_is_filled(no_run_stage):
    facts = book_facts(ROOT)
    for page in (ROOT / "book").rglob("*.md"):
        staged = (no_run_stage / page.relative_to(ROOT)).read_text(encoding="utf-8")
        assert "{{" not in staged, page
    lyso = " ".join((no_run_stage / "book/experiments/lysoquant.md").read_text().split())
    assert f"The nightly run uses the {facts['nightly_profile']} profile" in lyso
    assert (no_run_stage / "book/_generated/metrics_speed.md").read_text() == metrics_speed_page(ROOT)


def test_an_unknown_placeholder_is_an_error_naming_the_page():
    with pytest.raises(ValueError, match=r"book/x\.md: unknown placeholder.*nightly_gpu"):
        substitute("runs on {{ nightly_gpu }}", {"nightly_profile": "`quick`"}, where="book/x.md")


def test_the_speed_table_is_the_committed_measurement():
    doc = json.loads((ROOT / METRICS_SPEED).read_text())
    table = metrics_speed_page(ROOT)
    rows = [ln for ln in table.splitlines() if re.match(r"^\| [\d,]+ \|", ln)]
    assert len(rows) == len(doc["rows"])
    for line, r in zip(rows, doc["rows"]):
        assert line.startswith(f"| {r['objects']:,} |")
        assert f"{r['stardist_s'] / r['bench_s']:.0f}x" in line and ("| yes |" in line) == r["same_counts"]
        assert f"| {r['interleaved_speedup']:.0f}x |" in line
    assert doc["command"] in table


def test_without_a_committed_measurement_the_page_says_how_to_make_one(tmp_path):
    assert "metrics_speed.py --json" in metrics_speed_page(tmp_path)
