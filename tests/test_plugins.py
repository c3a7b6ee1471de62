"""Plugins: methods shipped in other distributions, found by entry point.

The end-to-end tests install the example plugin of ``tests/plugins/`` into a
temporary folder (never into the environment) and run ``bench`` in a
subprocess that has the folder on its path, as a lab that ``pip install``-ed
the plugin would.
"""

from __future__ import annotations

import importlib.metadata
import math
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import pytest
import yaml

from bench import __version__, plugins
from bench.leaderboard import leaderboard
from bench.methods import Method, method_names, method_plugin, method_plugins
from bench.results import load_run

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
EXAMPLE = HERE / "plugins" / "bench_example_plugin"


def _bench(args: list[str], site: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH", "")) if p)
    return subprocess.run([sys.executable, "-c", "import sys; from bench.cli import main; sys.exit(main())", *args],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    """A folder holding the installed example plugin (package + .dist-info)."""
    tmp = tmp_path_factory.mktemp("plugin")
    src = shutil.copytree(EXAMPLE, tmp / "src")  # the build writes build/ and *.egg-info next to the sources
    site = tmp / "site"
    res = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                          "--quiet", "--target", str(site), str(src)], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    assert (site / "bench_example_plugin-0.1.0.dist-info" / "entry_points.txt").is_file()
    return site


@pytest.fixture(scope="module")
def broken_site(tmp_path_factory) -> Path:
    """A folder with an installed distribution whose entry point names a missing module."""
    site = tmp_path_factory.mktemp("broken")
    info = site / "broken_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[bench.methods]\nbroken_method = no_such_module_here:Thing\n")
    return site


def _rows(out: str) -> dict[str, list[str]]:
    rows = {}
    for line in out.splitlines():
        if line.startswith("| ") and not line.startswith("|--"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0]] = cells
    return rows


def test_bench_methods_lists_the_plugin_with_its_distribution(plugin_site, tmp_path):
    res = _bench(["methods"], plugin_site, tmp_path)
    assert res.returncode == 0, res.stderr
    rows = _rows(res.stdout)
    header = rows["method"]
    provider = header.index("provided by")
    assert rows["otsu_components"][provider] == "bench-example-plugin 0.1.0"
    assert rows["otsu_components"][header.index("dependencies")] == "ok"
    assert rows["isodata_watershed"][provider] == f"bench {__version__}"
    assert "otsu_components" not in method_names()  # this process never saw the plugin


def test_plugin_method_runs_to_a_leaderboard_row(plugin_site, tmp_path):
    config = {
        "name": "plugin-one-cell",
        "profile": "ci",
        "seeds": [0],
        "limit": 3,
        "timeout_s": 300,
        "methods": [{"id": "otsu_components", "notebook": str(REPO / "notebooks" / "classical.md")}],
        "datasets": ["synth-lyso-easy"],
    }
    path = tmp_path / "plugin.yaml"
    path.write_text(yaml.safe_dump(config))
    root = tmp_path / "runs"
    res = _bench(["run", str(path), "--root", str(root), "--jobs", "1", "--no-progress"], plugin_site, tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "1 cells (1 ok)" in res.stdout

    run_dir = next(root.iterdir())
    run = load_run(run_dir)
    cell = run.cells.iloc[0]
    assert cell["status"] == "ok" and cell["method_id"] == "otsu_components"
    expected = {"entry_point": "bench.methods:otsu_components", "value": "bench_example_plugin:OtsuComponents",
                "distribution": "bench-example-plugin", "version": "0.1.0"}
    assert cell["plugin"] == expected
    assert run.manifest["plugins"] == {"otsu_components": expected}

    board = leaderboard(run, n_boot=0)
    row = board[board["method_id"] == "otsu_components"]
    assert len(row) == 1
    f1 = float(row["f1"].iloc[0])
    # Otsu finds the bright puncta of the easy synthetic set: a real, non-trivial score
    assert math.isfinite(f1) and 0.1 < f1 <= 1.0
    assert len(run.rows["instance"]) > 0 and set(run.rows["instance"]["method_id"]) == {"otsu_components"}


def test_broken_plugin_is_reported_by_name_and_builtins_still_load(broken_site, tmp_path):
    res = _bench(["methods"], broken_site, tmp_path)
    assert res.returncode == 0, res.stderr
    rows = _rows(res.stdout)
    header = rows["method"]
    broken = rows["broken_method"]
    assert broken[header.index("provided by")] == "broken-plugin 1.0"
    assert "broken plugin: ModuleNotFoundError" in broken[header.index("dependencies")]
    assert "no_such_module_here" in broken[header.index("dependencies")]
    assert {"isodata_watershed", "unet", "cellpose"} <= set(rows)
    assert "bench plugin 'broken_method'" in res.stderr  # the warning names it too


# ------------------------------------------------------------- in this process
@dataclass(frozen=True)
class _StubParams:
    profile: str = "quick"


class Stub(Method):
    """A method that finds nothing (what a plugin's entry point would name)."""

    name = "stub_method"
    Params = _StubParams

    def predict(self, image):
        return np.zeros(image.shape[:2], np.int32)


class _EntryPoint:
    def __init__(self, name, value, obj):
        self.name, self.value, self.dist, self._obj = name, value, None, obj

    def load(self):
        if isinstance(self._obj, Exception):
            raise self._obj
        return self._obj


@pytest.fixture
def fake_entry_points(monkeypatch):
    found: dict[str, list] = {}
    monkeypatch.setattr(plugins, "_entry_points", lambda group: found.get(group, []))
    plugins.clear_cache()
    yield found
    plugins.clear_cache()


def test_discovery_skips_a_broken_plugin_with_a_warning(fake_entry_points):
    fake_entry_points["bench.methods"] = [_EntryPoint("stub_method", "x:Stub", Stub),
                                          _EntryPoint("bad", "y:Bad", ImportError("no y"))]
    with pytest.warns(UserWarning, match="bench plugin 'bad' .* ImportError: no y"):
        found = method_plugins()
    assert sorted((p.name, p.ok) for p in found) == [("bad", False), ("stub_method", True)]
    assert "stub_method" in method_names() and "bad" not in method_names()
    assert method_plugin("stub_method").value == "x:Stub"
    assert method_plugin("isodata_watershed") is None


def test_a_plugin_cannot_take_a_builtin_name(fake_entry_points):
    class Shadow(Stub):
        name = "isodata_watershed"

    fake_entry_points["bench.methods"] = [_EntryPoint("isodata_watershed", "x:Shadow", Shadow)]
    with pytest.warns(UserWarning, match="already the name of a built-in method"):
        assert not method_plugins()[0].ok
    assert method_plugin("isodata_watershed") is None


def test_discover_rejects_an_unknown_group():
    with pytest.raises(ValueError, match="`group` must be one of"):
        plugins.discover("bench.nothing", lambda name, obj: obj)


def test_installed_distributions_are_read_with_importlib_metadata(plugin_site):
    dists = list(importlib.metadata.distributions(path=[str(plugin_site)]))
    assert [(d.metadata["Name"], d.version) for d in dists] == [("bench-example-plugin", "0.1.0")]


def test_bench_datasets_names_providers_and_reports_a_broken_plugin(fake_entry_points, capsys):
    from bench.cli import main

    fake_entry_points["bench.datasets"] = [_EntryPoint("my-cells", "z:MyCells", ModuleNotFoundError("no z"))]
    with pytest.warns(UserWarning, match="bench plugin 'my-cells'"):
        assert main(["datasets"]) == 0
    rows = _rows(capsys.readouterr().out)
    header = rows["dataset"]
    assert rows["synth-lyso"][header.index("provided by")] == f"bench {__version__}"
    assert rows["my-cells"][header.index("available")] == "no: broken plugin: ModuleNotFoundError: no z"


def test_a_plugin_class_that_fails_to_instantiate_is_one_row(fake_entry_points, capsys):
    from bench.cli import main

    class Fails(Stub):
        name = "fails_method"

        def __init__(self, *a, **k):
            raise RuntimeError("needs a licence server")

    fake_entry_points["bench.methods"] = [_EntryPoint("fails_method", "x:Fails", Fails)]
    assert main(["methods"]) == 0
    rows = _rows(capsys.readouterr().out)
    header = rows["method"]
    assert rows["fails_method"][header.index("dependencies")] == "broken plugin: RuntimeError: needs a licence server"
    assert rows["isodata_watershed"][header.index("dependencies")] == "ok"
