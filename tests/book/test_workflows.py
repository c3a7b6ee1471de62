"""The GitHub Actions workflows: syntax, structure, and what they run."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
_USES = re.compile(r"^(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+)@(?P<ref>[A-Za-z0-9_.-]+)$")
_CRON_FIELDS = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {m: i + 1 for i, m in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"])}),
    ("day of week", 0, 6, {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}),
)


def cron_errors(expr: str) -> list[str]:
    """Problems of a POSIX cron expression as GitHub Actions accepts it (empty: valid)."""
    fields = expr.split()
    if len(fields) != 5:
        return [f"{expr!r}: expected 5 fields, got {len(fields)}"]
    errors = []
    for text, (name, lo, hi, names) in zip(fields, _CRON_FIELDS):
        for item in text.split(","):
            base, _, step = item.partition("/")
            if step and (not step.isdigit() or int(step) == 0):
                errors.append(f"{name}: bad step {step!r} in {item!r}")
            if base == "*":
                continue
            ends = base.split("-")
            if len(ends) > 2 or not all(ends):
                errors.append(f"{name}: bad range {base!r}")
                continue
            values = []
            for e in ends:
                v = names.get(e.upper()) if not e.isdigit() else int(e)
                if v is None or not lo <= v <= hi:
                    errors.append(f"{name}: {e!r} is outside {lo}-{hi}")
                else:
                    values.append(v)
            if len(values) == 2 and values[0] > values[1]:
                errors.append(f"{name}: range {base!r} runs backwards")
    return errors


@pytest.mark.parametrize("expr", ["17 2 * * *", "*/15 0-6 1,15 * MON-FRI", "0 0 1 JAN *", "5 4 * * 0"])
def test_cron_validator_accepts(expr):
    assert cron_errors(expr) == []


@pytest.mark.parametrize("expr", ["60 * * * *", "* * * *", "*/0 * * * *", "0 24 * * *", "0 0 0 * *",
                                  "0 0 * 13 *", "0 0 * * 7", "0 0 * * FUNDAY", "5-2 * * * *", "1- * * * *"])
def test_cron_validator_rejects(expr):
    assert cron_errors(expr)


def _load(name: str) -> dict:
    path = WORKFLOWS / name
    assert path.is_file(), f"{path} is missing"
    doc = yaml.safe_load(path.read_text())
    assert isinstance(doc, dict), f"{path}: not a mapping"
    # YAML 1.1 reads the key `on` as the boolean True
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


def _upstream_repo() -> str:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    url = meta["project"]["urls"]["Homepage"]
    m = re.match(r"https://github\.com/([^/]+/[^/]+?)/?$", url)
    assert m, f"pyproject Homepage {url!r} is not a GitHub repository URL"
    return m.group(1)


def _expressions_balanced(text: str) -> bool:
    return text.count("${{") == text.count("}}") and all(
        "}}" in tail for tail in text.split("${{")[1:]
    )


def _runs(doc: dict) -> list[str]:
    return [s["run"] for job in doc["jobs"].values() for s in job.get("steps", []) if "run" in s]


def _uses(doc: dict) -> list[str]:
    return [s["uses"] for job in doc["jobs"].values() for s in job.get("steps", []) if "uses" in s]


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.y*ml")) or ["ci.yml"])
def test_workflow_is_well_formed(name):
    text = (WORKFLOWS / name).read_text()
    doc = _load(name)
    assert isinstance(doc.get("name"), str) and doc["name"]
    assert doc.get("on"), f"{name}: no triggers (`on:`)"
    assert _expressions_balanced(text), f"{name}: unbalanced ${{{{ }}}} expression"
    jobs = doc.get("jobs")
    assert isinstance(jobs, dict) and jobs, f"{name}: no jobs"
    for job_id, job in jobs.items():
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", job_id), f"{name}: bad job id {job_id!r}"
        assert isinstance(job, dict)
        assert isinstance(job.get("runs-on"), (str, list)), f"{name}/{job_id}: no runs-on"
        for need in [job["needs"]] if isinstance(job.get("needs"), str) else job.get("needs", []):
            assert need in jobs, f"{name}/{job_id}: needs unknown job {need!r}"
        if "timeout-minutes" in job:
            assert isinstance(job["timeout-minutes"], int) and 0 < job["timeout-minutes"] <= 360
        steps = job.get("steps")
        assert isinstance(steps, list) and steps, f"{name}/{job_id}: no steps"
        for i, step in enumerate(steps):
            assert isinstance(step, dict), f"{name}/{job_id} step {i}: not a mapping"
            assert ("uses" in step) != ("run" in step), f"{name}/{job_id} step {i}: needs exactly one of uses/run"
            assert isinstance(step.get("name", ""), str)
            if "uses" in step:
                m = _USES.match(step["uses"])
                assert m, f"{name}/{job_id} step {i}: bad `uses` {step['uses']!r}"
                assert m["ref"] not in ("main", "master", "HEAD"), f"{step['uses']}: pin a release, not a branch"
                assert isinstance(step.get("with", {}), dict)
            else:
                assert isinstance(step["run"], str) and step["run"].strip()


def test_ci_runs_the_readme_test_command():
    doc = _load("ci.yml")
    assert {"push", "pull_request"} <= set(doc["on"])
    assert "bash scripts/run.sh test" in [r.strip() for r in _runs(doc)]
    run_sh = (ROOT / "scripts" / "run.sh").read_text()
    assert re.search(r"^\s*test\)", run_sh, re.M), "scripts/run.sh has no `test` command"
    assert "bash scripts/run.sh test" in (ROOT / "README.md").read_text()


def test_nightly_is_scheduled_upstream_only_and_deploys_the_book():
    doc = _load("nightly.yml")
    schedule = doc["on"].get("schedule")
    assert isinstance(schedule, list) and schedule
    for entry in schedule:
        assert cron_errors(entry["cron"]) == [], entry
    upstream = _upstream_repo()
    for job_id, job in doc["jobs"].items():
        cond = str(job.get("if", ""))
        assert re.search(r"github\.repository\s*==\s*'" + re.escape(upstream) + "'", cond), (
            f"nightly.yml/{job_id}: must run only in {upstream} (`if: github.repository == '{upstream}'`)"
        )
    runs = " \n".join(_runs(doc))
    assert re.search(r"\bbench run benchmark/configs/nightly\.yaml\b", runs)
    assert re.search(r"\bbench data fetch (all|cellular)\b", runs)
    assert re.search(r"\bbench book\b", runs)
    assert (ROOT / "benchmark" / "configs" / "nightly.yaml").is_file(), "benchmark/configs/nightly.yaml is missing"
    uses = [u.split("@")[0] for u in _uses(doc)]
    assert "actions/upload-pages-artifact" in uses and "actions/deploy-pages" in uses
    deploy = next(j for j in doc["jobs"].values() if any("deploy-pages" in s.get("uses", "") for s in j["steps"]))
    assert deploy.get("permissions", {}).get("pages") == "write"
    assert deploy.get("permissions", {}).get("id-token") == "write"
    assert deploy.get("environment", {}).get("name") == "github-pages"
    upload = [s for j in doc["jobs"].values() for s in j["steps"] if "upload-pages-artifact" in s.get("uses", "")]
    assert upload[0]["with"]["path"] == "_build/html"
