"""Shards (``bench run --shard K/N``) and their merge (``bench merge``)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from bench.results import load_run
from bench.runner import parse_config, run_config
from bench.runner.merge import MISSING, merge_runs
from bench.runner.shard import Shard, makespan, partition

HERE = Path(__file__).resolve().parent


# ---------------------------------------------------------------- partition
def test_partition_by_hand():
    # a=5 -> 1; b=4 -> 2; c=3 -> 2 (load 4 < 5); d=3 -> 1 (5 < 7); e=1 -> 2 (7 < 8)
    assert partition({"a": 5, "b": 4, "c": 3, "d": 3, "e": 1}, 2) == {"a": 1, "b": 2, "c": 2, "d": 1, "e": 2}


def test_partition_is_deterministic_and_covers_every_item():
    est = {f"cell{i:03d}": float((i * 37) % 11) for i in range(60)}
    a = partition(est, 4)
    b = partition(dict(reversed(list(est.items()))), 4)  # insertion order does not matter
    assert a == b and set(a) == set(est) and set(a.values()) == {1, 2, 3, 4}
    loads = [sum(est[k] for k, s in a.items() if s == j) for j in (1, 2, 3, 4)]
    # LPT bound: no shard exceeds the mean load by more than the longest item
    assert max(loads) - sum(loads) / 4 <= max(est.values())


def test_partition_ties_go_by_key_then_lowest_shard():
    assert partition({"b": 1, "a": 1, "c": 1}, 3) == {"a": 1, "b": 2, "c": 3}
    assert partition({"x": 0, "y": 0}, 2) == {"x": 1, "y": 1}  # nothing to balance: the first shard
    assert partition({}, 3) == {}


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_partition_rejects_bad_counts(bad):
    with pytest.raises(ValueError, match="`count` must be an int >= 1"):
        partition({"a": 1}, bad)


def test_partition_rejects_bad_estimates():
    with pytest.raises(ValueError, match="seconds >= 0"):
        partition({"a": -1.0}, 2)
    with pytest.raises(ValueError, match="seconds >= 0"):
        partition({"a": float("nan")}, 2)


def test_makespan_is_the_longest_first_schedule():
    assert makespan([3, 3, 2, 2, 2], 2) == 7.0
    assert makespan([10, 1, 1], 4) == 10.0
    assert makespan([1, 1, 1, 1], 1) == 4.0
    with pytest.raises(ValueError, match="`jobs`"):
        makespan([1], 0)


@pytest.mark.parametrize("text,shard", [("1/1", Shard(1, 1)), ("2/3", Shard(2, 3)), (" 3 / 3 ", Shard(3, 3))])
def test_shard_parse(text, shard):
    assert Shard.parse(text) == shard


@pytest.mark.parametrize("text", ["0/3", "4/3", "1", "a/b", "1/0", "-1/2", "1/2/3"])
def test_shard_parse_rejects(text):
    with pytest.raises(ValueError, match="K/N"):
        Shard.parse(text)


# ------------------------------------------------- sharded runs, then merged
def _shard_script(cfg_path: Path, root: Path, k: int, n: int) -> str:
    return textwrap.dedent(f"""
        import json, sys
        import importlib.util
        spec = importlib.util.spec_from_file_location("runner_testmethods", {str(HERE / 'runner_testmethods.py')!r})
        mod = importlib.util.module_from_spec(spec); sys.modules["runner_testmethods"] = mod
        spec.loader.exec_module(mod); mod.register()
        import bench.runner.run
        bench.runner.run.code_version = lambda families=None: "test-code-version"  # as the fixture
        from bench.runner import parse_config, run_config
        from bench.runner.shard import Shard
        cfg = parse_config(json.load(open({str(cfg_path)!r})))
        report = run_config(cfg, root={str(root)!r}, jobs=1, progress=False, shard=Shard({k}, {n}))
        print(json.dumps(sorted(report.statuses)))
    """)


def _tables(run) -> dict[str, pd.DataFrame]:
    """Every table of a run, rows sorted, without the columns that measure time."""
    out = {}
    for name, df in run.rows.items():
        df = df.drop(columns=[c for c in df.columns if c.endswith("_s")])
        out[name] = df.sort_values(list(df.columns)).reset_index(drop=True) if len(df) else df
    return out


def test_three_shards_in_three_processes_merge_to_the_unsharded_run(testmethods, make_config, tmp_path):
    cfg = make_config(["test_threshold", "test_slow", "test_skips"], seeds=(0, 1))
    cfg_path = tmp_path / "cfg.json"
    cfg_path.write_text(json.dumps(cfg.to_dict()))
    root = tmp_path / "runs"
    procs = [subprocess.Popen([sys.executable, "-c", _shard_script(cfg_path, root, k, 3)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in (1, 2, 3)]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    ran = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    every = {c for part in ran for c in part}
    assert sum(len(part) for part in ran) == len(every) == 6  # each cell in exactly one shard
    assert all(part for part in ran[:3])  # with 4 cells of 30 s and 2 of 0 s, no shard is empty

    shards = [root / f"{cfg.name}-{cfg.hash[:8]}-shard{k}of3" for k in (1, 2, 3)]
    report = merge_runs(shards, "merged", root=root)
    assert report.merged == [1, 2, 3] and report.missing == [] and report.missing_cells == []

    whole = run_config(cfg, root=root, run_id="whole", jobs=2, progress=False)
    merged, single = load_run(root / "merged"), load_run(whole.run_dir)
    assert merged.manifest["config_hash"] == single.manifest["config_hash"]
    assert merged.manifest["shards"]["merged"] == [1, 2, 3]
    key = ["cell_id", "status", "reason", "method_id", "dataset", "seed"]
    assert (merged.cells[key].sort_values("cell_id").reset_index(drop=True)
            .equals(single.cells[key].sort_values("cell_id").reset_index(drop=True)))
    a, b = _tables(merged), _tables(single)
    assert set(a) == set(b)
    assert sum(len(df) for df in a.values()) > 0
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_dtype=False, obj=f"table {name}")


# ---------------------------------------------- merge checks, without kernels
@pytest.fixture
def absent_config(monkeypatch, tmp_path, testmethods, make_config):
    """Cells that are all skipped at planning (their dataset is absent here): no kernel starts,
    and each keeps its method's estimate, so they spread over the shards."""
    monkeypatch.setenv("BENCH_SHARED_DATA", str(tmp_path / "no-mirror"))
    return make_config(["test_threshold", "test_slow"], seeds=(0, 1, 2), name="absent", datasets=["nih3t3"])


def _shards(cfg, root, ks=(1, 2, 3), n=3):
    return [run_config(cfg, root=root, progress=False, shard=Shard(k, n)).run_dir for k in ks]


def test_a_missing_shard_is_recorded_never_dropped(absent_config, tmp_path):
    root = tmp_path / "runs"
    dirs = _shards(absent_config, root, ks=(1, 3))
    lost = root / dirs[0].name.replace("shard1of3", "shard2of3")
    report = merge_runs([dirs[0], lost, dirs[1]], "merged", root=root)
    assert report.merged == [1, 3] and report.missing == [2]
    plan = json.loads((dirs[0] / "manifest.json").read_text())["shard"]["plan"]
    lost_cells = sorted(k for k, v in plan.items() if v["shard"] == 2)
    assert lost_cells and report.missing_cells == lost_cells
    run = load_run(root / "merged")
    assert len(run.cells) == 6
    missing = run.cells[run.cells["status"] == MISSING]
    assert sorted(missing["cell_id"]) == lost_cells
    assert all("shard 2/3 delivered no results" in r for r in missing["reason"])
    assert set(missing["method_id"]) <= {"test_threshold", "test_slow"}
    assert run.manifest["shards"]["missing"] == [2]


def test_merge_refuses_runs_of_different_configurations(absent_config, tmp_path, monkeypatch):
    root = tmp_path / "runs"
    a = _shards(absent_config, root, ks=(1,))
    other = parse_config({**absent_config.to_dict(), "seeds": [0, 1]})
    b = _shards(other, root, ks=(2,))
    with pytest.raises(ValueError, match=r"different configurations \(config_hash\)"):
        merge_runs([*a, *b], "merged", root=root)


def test_merge_refuses_runs_of_different_code_versions(absent_config, tmp_path, monkeypatch):
    root = tmp_path / "runs"
    a = _shards(absent_config, root, ks=(1,))
    monkeypatch.setattr("bench.runner.run.code_version", lambda families=None: "other-code-version")
    b = _shards(absent_config, root / "elsewhere", ks=(2,))
    with pytest.raises(ValueError, match=r"different code versions \(code_version\)"):
        merge_runs([*a, *b], "merged", root=root)


def test_merge_refuses_duplicates_non_shards_and_a_used_target(absent_config, tmp_path):
    root = tmp_path / "runs"
    (one,) = _shards(absent_config, root, ks=(1,))
    copy = tmp_path / "copy"
    import shutil

    shutil.copytree(one, copy)
    with pytest.raises(ValueError, match="shard 1/3 given twice"):
        merge_runs([one, copy], "merged", root=root)
    whole = run_config(absent_config, root=root, run_id="whole", progress=False).run_dir
    with pytest.raises(ValueError, match="not a shard of a run"):
        merge_runs([one, whole], "merged", root=root)
    with pytest.raises(ValueError, match="already exists and is not empty"):
        merge_runs([one], whole, root=root)
    with pytest.raises(ValueError, match="none of the shard runs exists"):
        merge_runs([root / "nope"], "merged", root=root)
    with pytest.raises(ValueError, match="expected 4"):
        merge_runs([one], "merged", root=root, shard_count=4)


def test_every_shard_records_the_same_partition(absent_config, tmp_path):
    dirs = _shards(absent_config, tmp_path / "runs")
    plans = [json.loads((d / "manifest.json").read_text())["shard"] for d in dirs]
    assert [p["index"] for p in plans] == [1, 2, 3] and {p["count"] for p in plans} == {3}
    assert plans[0]["plan"] == plans[1]["plan"] == plans[2]["plan"]
    for d, p in zip(dirs, plans):
        mine = {k for k, v in p["plan"].items() if v["shard"] == p["index"]}
        assert set(json.loads((d / "manifest.json").read_text())["cells"]) == mine
    assert {v["shard"] for v in plans[0]["plan"].values()} == {1, 2, 3}  # 6 cells of 30 s over 3 shards


# ------------------------------------------------------------- command line
def _write_config(cfg, tmp_path) -> Path:
    import yaml

    path = tmp_path / f"{cfg.name}.yaml"
    path.write_text(yaml.safe_dump(cfg.to_dict()))
    return path


def test_cli_dry_run_prints_the_estimate_of_every_shard(absent_config, tmp_path, capsys):
    from bench.cli import main

    path = _write_config(absent_config, tmp_path)
    assert main(["run", str(path), "--dry-run", "--shard", "2/3", "--jobs", "1", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "estimated wall time per shard (1 cell at a time" in out
    rows = re.findall(r"^\| (\d)/3( \(this one\))? +\| (\d+) +\| (\d+ h \d+ min) +\| (\d+ h \d+ min) +\|$", out, re.M)
    assert [(r[0], bool(r[1])) for r in rows] == [("1", False), ("2", True), ("3", False)]
    assert all(int(r[2]) == 2 for r in rows)  # 6 cells of 30 s: two per shard, 1 min each
    assert all(r[4] == "0 h 01 min" for r in rows)
    assert "-shard2of3" in out.splitlines()[0]
    listed = re.findall(r"^\| (nih3t3__\S+)", out, re.M)
    assert len(listed) == 2  # only this shard's cells


def test_cli_rejects_a_bad_shard(absent_config, tmp_path, capsys):
    from bench.cli import main

    path = _write_config(absent_config, tmp_path)
    assert main(["run", str(path), "--dry-run", "--shard", "4/3"]) == 2
    assert "1 <= K <= N, got 4/3" in capsys.readouterr().err


def test_cli_merge_reports_a_missing_shard(absent_config, tmp_path, capsys):
    from bench.cli import main

    root = tmp_path / "runs"
    dirs = _shards(absent_config, root, ks=(1, 2))
    assert main(["merge", *map(str, dirs), "--into", "all", "--root", str(root), "--shards", "3"]) == 0
    captured = capsys.readouterr()
    assert f"merged shards [1, 2] of 3 into {root / 'all'} (6 cells)" in captured.out
    assert "missing shards [3]; 2 cells recorded as missing" in captured.err
    assert main(["merge", str(dirs[0]), "--into", "all", "--root", str(root)]) == 2  # `all` is taken
    assert "already exists and is not empty" in capsys.readouterr().err
