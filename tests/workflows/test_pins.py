"""Supply chain of the GitHub workflows: every action pinned to a commit, no persisted token.

The convention every workflow follows (zizmor's `unpinned-uses` and `artipacked` audits)::

    uses: actions/checkout@11d5960a326750d5838078e36cf38b85af677262 # v4.4.0
    with:
      persist-credentials: false

The SHA is the commit the release tag points at (``git rev-parse v4.4.0^{commit}`` in a
clone of the action), the comment names that release, and one action has one SHA across
all workflows.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
_PINNED = re.compile(r"^\s*(?:-\s+)?uses:\s+(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})\s+#\s+(?P<tag>v\d+(?:\.\d+)*)\s*$")


def _uses_lines(path: Path) -> list[tuple[int, str]]:
    return [(i, line) for i, line in enumerate(path.read_text().splitlines(), 1)
            if re.match(r"^\s*(?:-\s+)?uses:", line)]


def test_there_are_workflows():
    assert WORKFLOWS, "no workflows under .github/workflows"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_release(path):
    bad = [f"{path.name}:{i}: {line.strip()}" for i, line in _uses_lines(path) if not _PINNED.match(line)]
    assert not bad, "pin actions as `owner/repo@<40-hex commit> # vX.Y.Z`:\n" + "\n".join(bad)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_checkouts_do_not_persist_the_token(path):
    doc = yaml.safe_load(path.read_text())
    for job_id, job in doc["jobs"].items():
        for step in job.get("steps", []):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert (step.get("with") or {}).get("persist-credentials") is False, (
                    f"{path.name}/{job_id}: actions/checkout needs `with: persist-credentials: false`")


def test_one_action_release_one_commit_across_workflows():
    seen: dict[str, set[tuple[str, str]]] = {}
    for path in WORKFLOWS:
        for _, line in _uses_lines(path):
            m = _PINNED.match(line)
            if m:
                repo = "/".join(m["action"].split("/")[:2])  # actions/cache/save is actions/cache
                seen.setdefault(repo, set()).add((m["sha"], m["tag"]))
    mixed = {repo: pins for repo, pins in seen.items() if len(pins) > 1}
    assert not mixed, f"one commit per action across workflows: {mixed}"
