"""The runner starts the cells expected to take longest first."""

from __future__ import annotations

from bench.runner.execute import CellSpec
from bench.runner.run import _expected_seconds


class _Folder:
    def __init__(self, records):
        self.records = records

    def existing(self, cid):
        return self.records.get(cid)


def _spec(method_id, kind="method"):
    return CellSpec(cell_id=f"d__{method_id}__seed0", method_id=method_id, method=method_id.split("[")[0],
                    dataset="d", split="test", seed=0, profile="quick", limit=None, timeout_s=60.0,
                    notebook="n.md", notebook_json="{}", cache_key="k", code_version="c", data_hash="h",
                    kind=kind)


def test_deep_methods_first_then_classical_then_tutorials():
    specs = [_spec("hough"), _spec("tutorial_metrics", kind="tutorial"), _spec("unet7x16"), _spec("stardist")]
    folder = _Folder({})
    order = sorted(specs, key=lambda s: -_expected_seconds(s, folder))
    assert [s.method_id for s in order[:2]] == ["unet7x16", "stardist"]
    assert [s.method_id for s in order[2:]] == ["hough", "tutorial_metrics"]


def test_a_recorded_wall_time_beats_the_prior():
    folder = _Folder({"d__hough__seed0": {"status": "ok", "wall_s": 900.0},
                      "d__unet7x16__seed0": {"status": "failed", "wall_s": 1.0}})
    assert _expected_seconds(_spec("hough"), folder) == 900.0
    # a failed cell's time says nothing about a successful one: the prior is used
    assert _expected_seconds(_spec("unet7x16"), folder) > _expected_seconds(_spec("svm"), folder)
