"""bench.colab: the logic of the notebooks' Colab setup cell (no pip, no network: pip is faked)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench import colab

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "advice.detachedHead=false"]


def _git(*args, cwd):
    subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def clone(tmp_path):
    """An origin with tags v1 and v2 and a clone of it at v1 (what the setup cell makes)."""
    origin = tmp_path / "origin"
    origin.mkdir()
    _git("init", "-q", cwd=origin)
    (origin / "pyproject.toml").write_text("[project]\nname = 'bench'\n")
    _git("add", ".", cwd=origin)
    _git("commit", "-qm", "one", cwd=origin)
    _git("tag", "v1", cwd=origin)
    (origin / "README.md").write_text("two\n")
    _git("add", ".", cwd=origin)
    _git("commit", "-qm", "two", cwd=origin)
    _git("tag", "v2", cwd=origin)
    root = tmp_path / "root"
    _git("clone", "-q", "--depth", "1", "--branch", "v1", origin.as_uri(), str(root), cwd=tmp_path)
    return root


class FakeRun:
    """subprocess.run that passes git through and fakes pip and the dataset commands."""

    def __init__(self, *, pip_ok=(True,), unavailable=()):
        self.pip_ok = list(pip_ok)
        self.unavailable = list(unavailable)  # successive reasons of the dataset check
        self.pip_calls: list[list[str]] = []
        self.constraints: list[str] = []
        self.fetches: list[list[str]] = []

    def __call__(self, cmd, **kw):
        if cmd[0] == "git":
            return subprocess.run(cmd, **kw)
        if cmd[1:3] == ["-m", "pip"]:
            self.pip_calls.append(cmd)
            self.constraints.append(Path(cmd[cmd.index("--constraint") + 1]).read_text())
            ok = self.pip_ok.pop(0)
            return subprocess.CompletedProcess(cmd, 0 if ok else 1, "", "" if ok else "ResolutionImpossible")
        if "get_dataset" in cmd[2]:
            return subprocess.CompletedProcess(cmd, 0, (self.unavailable.pop(0) if self.unavailable else "") + "\n", "")
        if cmd[3:5] == ["data", "fetch"]:
            self.fetches.append(cmd[3:])
            return subprocess.CompletedProcess(cmd, 0)
        raise AssertionError(f"unexpected command {cmd}")


@pytest.fixture
def installed(monkeypatch):
    """Installed versions (a dict the test may change) and an install state that follows pip."""
    state = {"versions": {"numpy": "2.0.2", "torch": "2.8.0", "tensorflow": "2.19.0", "pandas": "2.2.2"},
             "installed": False}
    monkeypatch.setattr(colab, "installed_versions", lambda: dict(state["versions"]))
    monkeypatch.setattr(colab, "_editable_at", lambda root: state["installed"])
    monkeypatch.setattr(colab, "missing_requirements",
                        lambda extra="colab": [] if state["installed"] else ["cellpose==3.1.1.3"])
    return state


def _setup(clone, run, state, *, ref="v1", namespace=None, after=None):
    restarts = []

    def pip_then_state(cmd, **kw):
        res = run(cmd, **kw)
        if cmd[1:3] == ["-m", "pip"] and res.returncode == 0:
            state["installed"] = True
            state["versions"].update(after or {})
        return res

    report = colab.setup(ref, root=clone, namespace=namespace, run=pip_then_state,
                         restart=lambda: restarts.append(1))
    return report, restarts


def test_setup_installs_once_then_is_a_no_op(clone, installed):
    run = FakeRun()
    first, restarts = _setup(clone, run, installed, namespace={"dataset": "synth-lyso"})
    assert first.installed and not first.changed and not restarts
    assert run.pip_calls[0][-2:] == ["-e", f"{clone}[colab]"]
    assert "numpy==2.0.2" in run.constraints[0] and "torch==2.8.0" in run.constraints[0]
    assert "tensorflow==2.19.0" in run.constraints[0]
    assert (clone / ".git" / colab.MARKER).read_text().strip() == first.commit
    second, restarts = _setup(clone, run, installed, namespace={"dataset": "synth-lyso"})
    assert not second.installed and len(run.pip_calls) == 1 and not restarts
    assert "already set up" in str(second) and second.commit == first.commit


def test_setup_restarts_only_when_a_pin_forced_a_change(clone, installed):
    run = FakeRun(pip_ok=(False, True))
    report, restarts = _setup(clone, run, installed, namespace={"dataset": "nih3t3"}, after={"numpy": "2.1.0"})
    assert restarts == [1] and report.restart
    assert report.changed == (("numpy", "2.0.2", "2.1.0"),) and "CHANGED numpy: 2.0.2 -> 2.1.0" in str(report)
    assert report.held == ("numpy", "torch", "tensorflow")  # CORE, after HELD did not resolve
    assert "pandas==2.2.2" in run.constraints[0] and "pandas" not in run.constraints[1]
    assert run.fetches == []  # the data comes after the restart


def test_setup_fails_loudly_when_pip_cannot_install_at_all(clone, installed):
    with pytest.raises(RuntimeError, match="ResolutionImpossible"):
        _setup(clone, FakeRun(pip_ok=(False, False, False)), installed)


def test_setup_moves_the_clone_to_a_new_ref_and_reinstalls(clone, installed):
    run = FakeRun(pip_ok=(True, True))
    first, _ = _setup(clone, run, installed)
    second, _ = _setup(clone, run, installed, ref="v2")
    assert second.commit != first.commit and second.installed and len(run.pip_calls) == 2
    assert (clone / "README.md").read_text() == "two\n"


def test_checkout_refuses_local_changes_and_unknown_refs(clone):
    with pytest.raises(ValueError, match="does not exist"):
        colab.checkout(clone, "v404")
    (clone / "pyproject.toml").write_text("edited\n")
    with pytest.raises(ValueError, match="local changes"):
        colab.checkout(clone, "v2")


def test_setup_fetches_a_missing_dataset_with_the_cli(clone, installed):
    run = FakeRun(unavailable=["no: run `bench data fetch nih3t3`", ""])
    report, _ = _setup(clone, run, installed, namespace={"dataset": "nih3t3"})
    assert run.fetches == [["data", "fetch", "nih3t3"]] and report.fetched == ("nih3t3",)


def test_fetch_data_raises_when_still_unavailable():
    run = FakeRun(unavailable=["missing", "still missing"])
    with pytest.raises(RuntimeError, match="still unavailable.*still missing"):
        colab.fetch_data(["nih3t3"], run=run)


def test_setup_validates_its_arguments(tmp_path):
    with pytest.raises(TypeError, match="`ref`"):
        colab.setup("", root=tmp_path)
    with pytest.raises(ValueError, match="`root`"):
        colab.setup("v1", root=tmp_path)


def test_constraints_hold_only_what_is_installed():
    lines = colab.constraint_lines({"numpy": "2.0.2", "torch": "2.8.0+cu126", "scikit-image": "0.25.2"},
                                   colab.HELD)
    assert lines == ["numpy==2.0.2", "scikit-image==0.25.2", "torch==2.8.0+cu126"]
    assert set(colab.CORE) <= set(colab.HELD)


def test_missing_requirements_reads_extras_and_versions():
    requires = ['numpy<2.1,>=1.26', 'cellpose==3.1.1.3; extra == "colab"', 'tensorflow-cpu; extra == "stardist"']
    assert colab.missing_requirements("colab", installed={"numpy": "2.0.2", "cellpose": "3.1.1.3"},
                                      requires=requires) == []
    assert colab.missing_requirements("colab", installed={"numpy": "2.2.0"}, requires=requires) == [
        "numpy<2.1,>=1.26", "cellpose==3.1.1.3"]


def test_installed_versions_sees_this_environment():
    versions = colab.installed_versions()
    assert versions["numpy"] == __import__("numpy").__version__
    assert all(k == colab.canonical_name(k) for k in versions)


def test_the_colab_extra_adds_the_deep_packages_without_tensorflow_cpu():
    import tomllib

    extra = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())[
        "project"]["optional-dependencies"]["colab"]
    names = {colab.canonical_name(r.split("=")[0].split(">")[0].split(";")[0]) for r in extra}
    assert {"cellpose", "stardist", "segment-anything"} <= names
    assert not names & {"tensorflow", "tensorflow-cpu", "torch", "numpy"}


def test_module_imports_with_the_standard_library_only():
    code = ("import sys, importlib.util, runpy; sys.modules['numpy'] = None; "
            f"runpy.run_path({str(Path(colab.__file__))!r})")
    subprocess.run([sys.executable, "-c", code], check=True)
