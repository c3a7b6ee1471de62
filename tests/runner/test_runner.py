"""The runner: cells, cache and resume, failure isolation, Dask, the CLI."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bench.results import KEY_COLUMNS, STATUSES, load_run
from bench.runner import cell_id, load_config, parse_config, plan_run, run_config

REPO = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ configs
def test_parse_config_rejects_bad_documents():
    good = {"name": "x", "methods": ["a"], "datasets": ["d"]}
    assert parse_config(good).seeds == (0,)
    cases = [
        ({**good, "colour": 1}, "unknown key"),
        ({"name": "x", "methods": ["a"]}, "missing key `datasets`"),
        ({**good, "profile": "huge"}, "`profile` must be one of"),
        ({**good, "seeds": []}, "`seeds` must be a non-empty list"),
        ({**good, "seeds": [1, 1]}, "duplicates"),
        ({**good, "timeout_s": 0}, "`timeout_s` must be a positive number"),
        ({**good, "methods": ["a", "a"]}, "more than once"),
        ({**good, "methods": [{"id": "a", "budget": 3}]}, "unknown key"),
        ({**good, "name": "a b"}, "`name` must be"),
        ({**good, "limit": 0}, "`limit` must be null"),
    ]
    for doc, msg in cases:
        with pytest.raises(ValueError, match=msg):
            parse_config(doc, where="cfg.yaml")


def test_config_hash_depends_on_content_only(tmp_path):
    a = parse_config({"name": "x", "methods": ["a"], "datasets": ["d"], "seeds": [0, 1]})
    b = parse_config({"datasets": ["d"], "seeds": [0, 1], "methods": [{"id": "a"}], "name": "x"}, where="other")
    c = parse_config({"name": "x", "methods": ["a"], "datasets": ["d"], "seeds": [0, 2]})
    assert a.hash == b.hash
    assert a.hash != c.hash


def test_per_method_seeds_override_the_configurations():
    cfg = parse_config({"name": "x", "seeds": [0], "datasets": ["d"],
                        "methods": [{"id": "a", "seeds": [0, 1, 2]}, "b"]})
    assert cfg.seeds_of("a") == (0, 1, 2) and cfg.seeds_of("b") == (0,)
    assert parse_config({"name": "x", "datasets": ["d"], "methods": ["a", "b"]}).hash != cfg.hash
    for bad, msg in (([], "`methods\\[0\\].seeds` must be a non-empty list"), ([2, 2], "duplicates")):
        with pytest.raises(ValueError, match=msg):
            parse_config({"name": "x", "datasets": ["d"], "methods": [{"id": "a", "seeds": bad}]})


def test_deep_config_runs_the_claim_cells_with_three_seeds():
    from bench.book.facts import config_cells

    deep = load_config(REPO / "benchmark" / "configs" / "deep.yaml")
    for mid in ("unet7x16", "unet5x64", "unet_mdl", "unet_cdl"):
        assert deep.seeds_of(mid) == (0, 1, 2), mid
    assert deep.seeds_of("stardist") == (0,)
    assert not deep.excluded("isodata_watershed", "synth-lyso")  # CIP, beside CDL
    for mid in ("stardist[epochs=20]", "stardist[epochs=40]", "cellpose[epochs=200]", "cellpose[epochs=400]"):
        assert not deep.excluded(mid, "nih3t3") and deep.excluded(mid, "gowt1"), mid
    # 4 claim U-Nets x 5 datasets x 3 seeds (on cellular-boxes they record a skip: no masks),
    # CIP, 5 single-seed methods x 5 datasets, the 4 budget cells, the 5 box-supervised cells
    assert config_cells(deep) == 4 * 5 * 3 + 1 + 5 * 5 + 4 + 5
    nightly = load_config(REPO / "benchmark" / "configs" / "nightly.yaml")
    assert all(nightly.seeds_of(m) == (0, 1, 2) for m in ("unet7x16", "unet5x64", "unet_mdl", "unet_cdl"))


@pytest.mark.parametrize("name", ["quick", "deep", "nightly", "full", "cellular_paper"])
def test_shipped_configs_are_valid(name):
    cfg = load_config(REPO / "benchmark" / "configs" / f"{name}.yaml")
    assert cfg.name == name
    assert cfg.methods and cfg.datasets


def test_quick_config_plans_every_registered_method_with_a_notebook():
    """Every method in quick.yaml is registered and claimed by exactly one notebook."""
    cfg = load_config(REPO / "benchmark" / "configs" / "quick.yaml")
    cells, ctx = plan_run(cfg)
    assert {c.cell_id for c in cells} == {
        cell_id(m.id, d, s) for m in cfg.methods for d in cfg.datasets for s in cfg.seeds
        if not cfg.excluded(m.id, d)
    }
    assert set(ctx["data"]) == set(cfg.datasets)


def test_cell_ids_are_safe_and_distinct():
    a = cell_id("unet[depth=7,features=16]", "folder:/x/y", 3)
    b = cell_id("unet[depth=7;features=16]", "folder:/x/y", 3)
    assert "/" not in a and "[" not in a and ":" not in a
    assert a != b


# -------------------------------------------------------------- run + cache
def test_run_records_results_then_second_run_reruns_nothing(testmethods, make_config, tmp_path, capsys):
    from bench.cli import main

    cfg = make_config(["test_threshold", "test_skips"], seeds=(0, 1))
    path = tmp_path / "cfg.yaml"
    import yaml

    doc = cfg.to_dict()
    path.write_text(yaml.safe_dump(doc))
    rc = main(["run", str(path), "--root", str(tmp_path / "runs"), "--jobs", "2", "--no-progress"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "4 cells (2 ok, 2 skipped)" in out
    assert "| rank" in out  # the leaderboard was printed

    run_dir = next((tmp_path / "runs").iterdir())
    run = load_run(run_dir)
    assert sorted(run.cells["status"]) == ["ok", "ok", "skipped", "skipped"]
    ok = run.cells[run.cells["status"] == "ok"]
    for rec in ok.itertuples():
        d = run_dir / "cells" / rec.cell_id
        assert (d / "notebook.ipynb").is_file()
        assert (d / "tables" / "instance.csv").is_file()
        assert any((d / "predictions").glob("*.tif"))
        assert rec.fit_s >= 0 and rec.predict_s_per_image > 0 and rec.peak_mem_mb > 10
        assert rec.code_version and rec.data_hash and rec.cache_key
    skipped = run.cells[run.cells["status"] == "skipped"]
    assert set(skipped["reason"]) == {"test_skips never runs (test method)"}
    inst = run.rows["instance"]
    assert list(inst.columns[: len(KEY_COLUMNS)]) == list(KEY_COLUMNS)
    assert set(inst["seed"]) == {0, 1}
    m = run.manifest
    for key in ("config", "config_hash", "code_version", "git", "packages", "hardware", "data", "cells"):
        assert key in m, key
    assert m["config_hash"] == cfg.hash
    assert m["packages"]["numpy"]

    report = run_config(cfg, root=tmp_path / "runs", jobs=2, progress=False)
    assert report.executed == []
    assert sorted(report.cached) == sorted(run.cells["cell_id"])
    assert len(load_run(run_dir).manifest["invocations"]) == 2

    # what a killed run leaves: a cell never finished, a half-built temporary folder
    lost = ok["cell_id"].iloc[0]
    shutil.rmtree(run_dir / "cells" / lost)
    (run_dir / "cells" / f".tmp-{lost}-deadbeef").mkdir()
    (run_dir / "cells" / f".tmp-{lost}-deadbeef" / "notebook.ipynb").write_text("{")
    report = run_config(cfg, root=tmp_path / "runs", jobs=2, progress=False)
    assert report.executed == [lost]
    assert report.statuses[lost] == "ok"
    assert not list((run_dir / "cells").glob(".tmp-*"))


def test_changed_code_version_invalidates_the_cache(testmethods, make_config, tmp_path, monkeypatch):
    import bench.runner.run as run_mod

    cfg = make_config(["test_threshold"])
    first = run_config(cfg, root=tmp_path, progress=False)
    assert first.executed and first.statuses[first.executed[0]] == "ok"
    monkeypatch.setattr(run_mod, "code_version", lambda families=None: "another-version")
    cells, _ = plan_run(cfg)
    old = json.loads((first.run_dir / "cells" / cells[0].cell_id / "cell.json").read_text())
    assert old["cache_key"] != cells[0].spec.cache_key
    assert not run_mod._reusable(old, cells[0], force=False, retry_failed=False)
    assert run_mod._reusable({**old, "cache_key": cells[0].spec.cache_key}, cells[0], force=False, retry_failed=False)


def test_failure_isolation(testmethods, make_config, tmp_path):
    import psutil

    cfg = make_config(
        ["test_threshold", "test_raises", {"id": "test_hangs", "timeout_s": 12}, "test_skips"],
    )
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    report = run_config(cfg, root=tmp_path, jobs=2, progress=False)
    run = load_run(report.run_dir)
    status = dict(zip(run.cells["method_id"], run.cells["status"]))
    assert status == {"test_threshold": "ok", "test_raises": "failed", "test_hangs": "timeout",
                      "test_skips": "skipped"}
    reasons = dict(zip(run.cells["method_id"], run.cells["reason"]))
    assert "RuntimeError: boom" in reasons["test_raises"]
    assert "exceeded the per-cell limit of 12 s" in reasons["test_hangs"]
    err = run.cells.set_index("method_id").loc["test_raises", "error"]
    assert err["ename"] == "RuntimeError"
    assert "boom" in err["evalue"] and "predict" in err["traceback"]
    # the hung kernel was killed with its papermill process
    after = {p.pid for p in psutil.Process().children(recursive=True)}
    assert after - before == set()
    # failed cells stay cached until asked to retry
    again = run_config(cfg, root=tmp_path, jobs=2, progress=False)
    assert again.executed == []
    assert set(STATUSES) >= set(again.statuses.values())


@pytest.mark.slow
def test_killed_run_resumes_with_only_the_rest(testmethods, make_config, tmp_path):
    cfg = make_config(["test_slow"], seeds=(0, 1, 2, 3))
    cfg_path = tmp_path / "cfg.json"
    cfg_path.write_text(json.dumps(cfg.to_dict()))
    script = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        import importlib.util
        spec = importlib.util.spec_from_file_location("runner_testmethods", {str(testmethods.PATH)!r})
        mod = importlib.util.module_from_spec(spec); sys.modules["runner_testmethods"] = mod
        spec.loader.exec_module(mod); mod.register()
        import bench.runner.run
        bench.runner.run.code_version = lambda families=None: "test-code-version"  # as the fixture
        from bench.runner import parse_config, run_config
        cfg = parse_config(json.load(open({str(cfg_path)!r})))
        run_config(cfg, root={str(tmp_path)!r}, jobs=1, progress=False)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cells_dir = tmp_path / f"{cfg.name}-{cfg.hash[:8]}" / "cells"
    deadline = time.time() + 180
    done: set[str] = set()
    while time.time() < deadline:
        done = {p.parent.name for p in cells_dir.glob("*/cell.json")} if cells_dir.is_dir() else set()
        if done:
            break
        assert proc.poll() is None, "the run ended before it could be killed"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = {p.parent.name for p in cells_dir.glob("*/cell.json")}
    assert 1 <= len(done) < 4, done

    report = run_config(cfg, root=tmp_path, jobs=2, progress=False)
    all_cells = {cell_id("test_slow", cfg.datasets[0], s) for s in range(4)}
    assert set(report.cached) == done
    assert set(report.executed) == all_cells - done
    assert set(report.statuses.values()) == {"ok"}
    assert not list(cells_dir.glob(".tmp-*"))


def test_dask_executor_on_a_local_cluster(testmethods, make_config, tmp_path):
    distributed = pytest.importorskip("distributed")
    cfg = make_config(["test_threshold", "test_raises"])
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        report = run_config(cfg, root=tmp_path, executor="dask", scheduler=cluster.scheduler_address,
                            progress=False)
    run = load_run(report.run_dir)
    status = dict(zip(run.cells["method_id"], run.cells["status"]))
    assert status == {"test_threshold": "ok", "test_raises": "failed"}
    assert len(run.rows["instance"]) > 0
    ok = run.cells[run.cells["status"] == "ok"].iloc[0]
    assert Path(ok["notebook_path"]).is_file()


def test_run_config_validates_arguments(make_config, tmp_path):
    cfg = parse_config({"name": "x", "methods": ["isodata_watershed"], "datasets": ["nih3t3"]})
    with pytest.raises(ValueError, match="`executor` must be one of"):
        run_config(cfg, root=tmp_path, executor="slurm")
    with pytest.raises(ValueError, match="`scheduler`"):
        run_config(cfg, root=tmp_path, executor="dask")
    with pytest.raises(ValueError, match="`jobs` must be"):
        run_config(cfg, root=tmp_path, jobs=0)
    with pytest.raises(KeyError, match="unknown method 'nope'"):
        run_config(parse_config({"name": "x", "methods": ["nope"], "datasets": ["nih3t3"]}), root=tmp_path)


TUTORIAL = '''---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
bench:
  kind: tutorial
---

# A tutorial

```{code-cell} ipython3
:tags: [parameters]

profile = "quick"
limit = None
greeting = "hello"
```

```{code-cell} ipython3
f"{greeting} {profile} {limit}"
```
'''


def test_tutorials_run_once_per_run_and_are_cached(testmethods, make_config, tmp_path, monkeypatch):
    import bench.runner.notebooks as nbmod
    import bench.runner.run as runmod

    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    (nb_dir / "tut.md").write_text(TUTORIAL)
    monkeypatch.setattr(nbmod, "notebooks_dir", lambda: nb_dir)
    monkeypatch.setattr(runmod, "notebooks_dir", lambda: nb_dir)  # run.py imports it by name
    cfg = make_config(["test_skips"], tutorials=[{"name": "tut", "parameters": {"greeting": "hi"}}])
    report = run_config(cfg, root=tmp_path / "runs", progress=False)
    assert report.tutorials == {"tut": "ok"}
    nb = json.loads((report.run_dir / "tutorials" / "tut.ipynb").read_text())
    texts = ["".join(o["data"]["text/plain"]) for c in nb["cells"] for o in c.get("outputs", []) if "data" in o]
    assert texts == ["'hi ci None'"]  # the run's profile, the override, the declared limit
    rec = json.loads((report.run_dir / "tutorials" / "tut.json").read_text())
    assert rec["executed_notebook"] == "tutorials/tut.ipynb"
    assert load_run(report.run_dir).manifest["tutorials"] == {"tut": "ok"}
    again = run_config(cfg, root=tmp_path / "runs", progress=False)
    assert again.tutorials == {"tut": "ok"} and again.executed == []
    with pytest.raises(ValueError, match="has no parameter"):
        run_config(make_config(["test_skips"], tutorials=[{"name": "tut", "parameters": {"nope": 1}}]),
                   root=tmp_path / "runs2", progress=False)


def test_interrupted_run_kills_its_kernels_and_commits_nothing_more(testmethods, make_config, tmp_path):
    import psutil

    cfg = make_config(["test_threshold", {"id": "test_hangs", "timeout_s": 300}], seeds=(0,))
    before = {p.pid for p in psutil.Process().children(recursive=True)}

    def interrupt(record):
        raise KeyboardInterrupt

    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_config(cfg, root=tmp_path, jobs=2, progress=False, on_cell=interrupt)
    assert time.monotonic() - t0 < 120  # did not wait for the hanging cell
    assert {p.pid for p in psutil.Process().children(recursive=True)} - before == set()
    done = [p.parent.name for p in (tmp_path / f"t-{cfg.hash[:8]}" / "cells").glob("*/cell.json")]
    assert [d.split("__")[-2] for d in done] == ["test_threshold"]


def test_code_version_is_scoped_to_the_method_family(tmp_path, monkeypatch):
    import bench.runner.provenance as prov

    files = {"scoring.py": "a", "book/build.py": "b", "methods/base.py": "c", "methods/unet/m.py": "d",
             "methods/classical/k.py": "e", "methods/lonely.py": "f"}
    monkeypatch.setattr(prov, "_source_digests", lambda: dict(files))
    v_all, v_unet, v_cls = prov.code_version(), prov.code_version(["unet"]), prov.code_version(["classical"])
    files["methods/unet/m.py"] = "d2"  # edit the U-Net family
    assert prov.code_version(["classical"]) == v_cls
    assert prov.code_version(["unet"]) != v_unet and prov.code_version() != v_all
    files["book/build.py"] = "b2"  # the book is not cell code
    assert prov.code_version(["classical"]) == v_cls
    files["scoring.py"] = "a2"  # the core is
    assert prov.code_version(["classical"]) != v_cls
    assert prov.method_family("bench.methods.unet.method") == "unet"


def _cmdline(proc) -> str:
    """A process's command line, or "" if it exited meanwhile (children come and go)."""
    import psutil

    try:
        return " ".join(proc.cmdline())
    except psutil.Error:
        return ""


def test_sigterm_stops_the_run_and_its_kernels_and_keeps_finished_cells(make_config, tmp_path):
    """`kill <runner>` (a cancelled CI job, a closed terminal) must not leave kernels running."""
    import signal
    import subprocess
    import sys

    import psutil

    PLUGIN = Path(__file__).parent / "runner_testmethods.py"
    cfg = make_config(["test_threshold", {"id": "test_hangs", "timeout_s": 300}], seeds=(0,))
    cfg_path = tmp_path / "cfg.json"
    cfg_path.write_text(json.dumps(cfg.to_dict()))
    script = f"""
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("runner_testmethods", {str(PLUGIN)!r})
mod = importlib.util.module_from_spec(spec); sys.modules["runner_testmethods"] = mod
spec.loader.exec_module(mod); mod.register()
import bench.runner.run as run
run.code_version = lambda families=None: "test-code-version"
from bench.runner import parse_config
cfg = parse_config(json.loads(open({str(cfg_path)!r}).read()), where="test-config")
try:
    run.run_config(cfg, root={str(tmp_path)!r}, jobs=2, progress=False)
except KeyboardInterrupt as exc:
    print("interrupted:", exc)
    sys.exit(130)
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    runner = psutil.Process(proc.pid)
    done = tmp_path / f"t-{cfg.hash[:8]}" / "cells"
    deadline = time.monotonic() + 120
    # wait until the quick cell is committed and the hanging cell's kernel runs
    while time.monotonic() < deadline:
        kernels = [p for p in runner.children(recursive=True) if "ipykernel" in _cmdline(p)]
        if kernels and list(done.glob("*test_threshold*/cell.json")):
            break
        time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"the run never reached the hanging cell: {proc.communicate()[0][-2000:]}")
    descendants = runner.children(recursive=True)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out[-2000:]
    assert "interrupted: received SIGTERM" in out
    gone, alive = psutil.wait_procs(descendants, timeout=10)
    assert alive == [], f"left running: {[_cmdline(p) for p in alive]}"
    finished = [p.parent.name.split("__")[-2] for p in done.glob("*/cell.json")]
    assert finished == ["test_threshold"]


def test_code_version_covers_the_method_modules_a_family_imports(monkeypatch):
    """A family's cells are invalidated by edits to the shared modules it imports (every deep family
    uses ``_shared``: normalisation, resizing, the object classifier), not by other families."""
    import bench.runner.provenance as prov

    imports = prov._family_imports()  # read from the real package
    for fam in ("stardist", "cellpose", "unet", "classical"):
        assert "_shared" in imports[fam], fam
    for fam in ("stardist", "cellpose", "sam"):
        assert "classical" not in imports[fam] and "unet" not in imports[fam], fam

    files = {"methods/base.py": "a", "methods/_shared/normalize.py": "b", "methods/classical/method.py": "c",
             "methods/stardist/method.py": "d", "methods/unet/method.py": "e"}
    monkeypatch.setattr(prov, "_source_digests", lambda: dict(files))
    v_sd, v_unet = prov.code_version(["stardist"]), prov.code_version(["unet"])
    files["methods/classical/method.py"] = "c2"
    assert prov.code_version(["stardist"]) == v_sd and prov.code_version(["unet"]) == v_unet
    assert prov.code_version(["classical"]) != prov.code_version(["stardist"])
    files["methods/_shared/normalize.py"] = "b2"
    assert prov.code_version(["stardist"]) != v_sd and prov.code_version(["unet"]) != v_unet
    v_sd, v_unet = prov.code_version(["stardist"]), prov.code_version(["unet"])
    files["methods/stardist/method.py"] = "d2"
    assert prov.code_version(["stardist"]) != v_sd and prov.code_version(["unet"]) == v_unet


def test_only_runs_the_matching_cells_into_the_whole_configurations_run(testmethods, make_config, tmp_path):
    """`bench run CONFIG --only PATTERN`: a configuration run in parts that add up to the whole."""
    cfg = make_config(["test_threshold", "test_skips"], seeds=(0, 1))
    first = run_config(cfg, root=tmp_path, progress=False, only=["*__test_threshold__seed1"])
    assert first.executed == [cell_id("test_threshold", cfg.datasets[0], 1)]
    manifest = json.loads((first.run_dir / "manifest.json").read_text())
    assert list(manifest["cells"]) == first.executed
    assert manifest["invocations"][-1]["only"] == ["*__test_threshold__seed1"]

    second = run_config(cfg, root=tmp_path, progress=False, only=["*__seed0"])
    assert second.run_dir == first.run_dir  # the configuration's own folder, not a new one
    assert sorted(second.executed) == sorted(cell_id(m, cfg.datasets[0], 0) for m in ("test_threshold", "test_skips"))
    manifest = json.loads((first.run_dir / "manifest.json").read_text())
    assert len(manifest["cells"]) == 3  # the first part's cell is kept
    # the whole configuration afterwards runs only what no part ran
    rest = run_config(cfg, root=tmp_path, progress=False)
    assert rest.executed == [cell_id("test_skips", cfg.datasets[0], 1)]
    assert len(rest.cached) == 3

    with pytest.raises(ValueError, match=r"--only 'nosuch\*' matches no cell"):
        run_config(cfg, root=tmp_path, progress=False, only=["nosuch*"])
    with pytest.raises(ValueError, match="a list of patterns"):
        run_config(cfg, root=tmp_path, progress=False, only="*")


def test_the_local_executor_gives_every_cell_one_sample_cache_and_removes_it(tmp_path, monkeypatch):
    import bench.runner.run as run_mod
    from bench.data.sample_cache import SAMPLE_CACHE_ENV
    from bench.runner.execute import _thread_env

    seen = []

    def fake_execute(spec, tmp, *, cancel=None, sample_cache=None):
        seen.append(sample_cache)
        (Path(sample_cache) / f"{spec.cell_id}.pkl").write_bytes(b"x")  # what a cell leaves there
        return {"status": "ok"}

    monkeypatch.setattr(run_mod, "execute_cell", fake_execute)
    folder = run_mod._RunFolder(tmp_path)
    try:
        specs = [type("S", (), {"cell_id": f"c{i}", "kind": "method"})() for i in range(3)]
        done = list(run_mod._local_executor(specs, folder, jobs=2))
    finally:
        folder.close()
    assert len(done) == 3 and len(set(seen)) == 1 and seen[0].parent == tmp_path
    assert not seen[0].exists() and not list(tmp_path.glob(".samples-*"))
    # the variable reaches the kernels only from the runner, never inherited from the shell
    monkeypatch.setenv(SAMPLE_CACHE_ENV, "/somewhere/shared")
    assert SAMPLE_CACHE_ENV not in _thread_env(1)
    assert _thread_env(1, tmp_path)[SAMPLE_CACHE_ENV] == str(tmp_path)
    # a killed invocation's cache is removed when the folder is next opened
    (tmp_path / ".samples-dead").mkdir()
    run_mod._RunFolder(tmp_path).close()
    assert not (tmp_path / ".samples-dead").exists()
