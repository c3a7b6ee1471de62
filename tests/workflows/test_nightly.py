"""nightly.yml: shards that each fit a runner, caches kept after a failure, one merge that publishes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
NIGHTLY = ROOT / ".github" / "workflows" / "nightly.yml"
#: GitHub's limit for a job on a hosted runner is 6 h; the issue asks for an estimate under 5 h
LIMIT_S = 5 * 3600


def _doc() -> dict:
    doc = yaml.safe_load(NIGHTLY.read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads `on` as True
    return doc


def _shard_job(doc):
    return next(j for j in doc["jobs"].values() if "matrix" in j.get("strategy", {}))


def _shard_count(doc) -> int:
    shards = _shard_job(doc)["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, len(shards) + 1)), shards
    return len(shards)


def test_the_shard_jobs_run_every_shard_of_the_nightly_config():
    doc = _doc()
    n = _shard_count(doc)
    job = _shard_job(doc)
    assert job["strategy"].get("fail-fast") is False  # one failing shard does not cancel the others
    runs = [s["run"] for s in job["steps"] if "run" in s]
    bench_run = next(r for r in runs if "bench run benchmark/configs/nightly.yaml" in r)
    assert f'--shard "$SHARD/{n}"' in bench_run and job["env"]["SHARD"] == "${{ matrix.shard }}"
    run_step = next(s for s in job["steps"] if s.get("run") == bench_run)
    assert run_step["timeout-minutes"] < job["timeout-minutes"], "the run must stop before the job is killed"


def test_caches_and_the_artifact_are_saved_even_when_the_shard_fails():
    job = _shard_job(_doc())
    uses = [s.get("uses", "") for s in job["steps"]]
    assert not any(re.match(r"actions/cache@", u) for u in uses), "use actions/cache/restore + save"
    saves = [s for s in job["steps"] if s.get("uses", "").startswith("actions/cache/save@")]
    results = next(s for s in saves if "benchmark/runs" in s["with"]["path"])
    assert results["if"].replace(" ", "") == "${{always()}}"
    assert all("always()" in s["if"] for s in saves)
    restores = {s["with"]["key"] for s in job["steps"] if s.get("uses", "").startswith("actions/cache/restore@")}
    assert results["with"]["key"] in restores
    upload = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert "always()" in upload["if"] and "matrix.shard" in upload["with"]["name"]


def test_one_job_merges_every_shard_builds_the_book_and_deploys():
    doc = _doc()
    n = _shard_count(doc)
    shard_id = next(k for k, j in doc["jobs"].items() if "matrix" in j.get("strategy", {}))
    book_id, book = next((k, j) for k, j in doc["jobs"].items()
                         if any("bench merge" in s.get("run", "") for s in j["steps"]))
    assert book["needs"] == shard_id and "!cancelled()" in book["if"]
    runs = " ".join(s["run"] for s in book["steps"] if "run" in s)
    merge = re.search(r"bench merge (.*?) --into (\S+) --shards (\d+)", runs)
    assert merge and int(merge.group(3)) == n
    assert merge.group(1).split() == [f"nightly-shard{k}of{n}" for k in range(1, n + 1)]
    assert f"bench book --run {merge.group(2)}" in runs
    download = next(s for s in book["steps"] if s.get("uses", "").startswith("actions/download-artifact@"))
    assert download["with"]["path"] == "benchmark/runs"
    deploy = next(j for j in doc["jobs"].values() if any("deploy-pages" in s.get("uses", "") for s in j["steps"]))
    assert deploy["needs"] == book_id


def test_every_shard_is_estimated_under_five_hours_on_a_two_core_runner():
    from bench.runner import load_config
    from bench.runner.run import estimate_shards

    n = _shard_count(_doc())
    rows, assignment = estimate_shards(load_config(ROOT / "benchmark" / "configs" / "nightly.yaml"), n, jobs=2)
    assert [r["shard"] for r in rows] == [f"{k}/{n}" for k in range(1, n + 1)]
    assert all(r["items"] > 0 for r in rows)
    over = [r for r in rows if r["wall_s"] >= LIMIT_S]
    assert not over, f"shards estimated at 5 h or more on 2 cores: {over}; raise the matrix's shard count"
    # the estimate is not vacuous: one runner alone would need more than the limit
    assert sum(r["cell_s"] for r in rows) / 2 > LIMIT_S


@pytest.mark.parametrize("text", ["README.md"])
def test_readme_says_how_the_nightly_publishes(text):
    readme = (ROOT / text).read_text()
    assert "Settings -> Pages" in readme and "GitHub Actions" in readme
    assert "bench merge" in readme and "--shard" in readme


def test_every_real_dataset_of_the_nightly_config_is_fetched_and_its_download_cached():
    """A GitHub runner has no ``../shared`` mirror: each real dataset the nightly scores must
    come from upstream (``bench data fetch``) and its download folder must be cached."""
    from bench.data.upstream import FETCHABLE
    from bench.runner import load_config

    config = load_config(ROOT / "benchmark" / "configs" / "nightly.yaml")
    real = {d for d in config.datasets if d in FETCHABLE}
    assert {"nih3t3", "gowt1", "cellular-boxes"} <= real, real
    job = _shard_job(_doc())
    runs = [s["run"] for s in job["steps"] if "run" in s]
    fetches = [r for r in runs if "bench data fetch" in r]
    assert fetches, "the shard job downloads no data"
    fetched = {name for r in fetches for name in re.findall(r"bench data fetch (\S+)", r)}
    assert "all" in fetched or real <= fetched, f"not fetched: {real - fetched}"
    cache_names = {FETCHABLE[d].cache_name for d in real}
    for uses in ("actions/cache/restore@", "actions/cache/save@"):
        step = next(s for s in job["steps"] if s.get("uses", "").startswith(uses)
                    and "nih3t3" in str(s["with"]["path"]))
        cached = {Path(p).name for p in str(step["with"]["path"]).split()}
        assert cache_names <= cached, f"{uses} misses {cache_names - cached}"
