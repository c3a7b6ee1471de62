"""torch/torchvision pairing diagnosis: from metadata, never by importing torchvision here."""

import importlib.metadata as md
import os
import stat

import pytest

from bench.cli import main
from bench.methods.sam import deps
from bench.methods.sam.deps import Build, installed_build, pair_reason, probe_import

CPU_TORCH = Build("torch", "2.13.0", "cpu", "cpu")
PYPI_TORCH = Build("torch", "2.13.0", "", "cu130")
PYPI_TV = Build("torchvision", "0.28.0", "", "cu130", "2.13.0")
CPU_TV = Build("torchvision", "0.28.0", "cpu", "cpu", "2.13.0")


def fake_dist(root, name, version, version_py, requires=()):
    """A distribution ``name`` on ``root``: dist-info metadata and ``<name>/version.py`` only."""
    info = root / f"{name}-{version}.dist-info"
    info.mkdir()
    meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", *[f"Requires-Dist: {r}" for r in requires]]
    (info / "METADATA").write_text("\n".join(meta) + "\n")
    (root / name).mkdir()
    (root / name / "version.py").write_text(version_py)


@pytest.mark.parametrize(
    "torch, tv, expected",
    [
        (PYPI_TORCH, PYPI_TV, None),
        (CPU_TORCH, CPU_TV, None),
        (Build("torch", "2.13.0", "cu126", "cu126"), Build("torchvision", "0.28.0", "cu126", "cu126", "2.13.0"), None),
        # the crash seen here: a CPU torch beside PyPI's CUDA torchvision
        (CPU_TORCH, PYPI_TV, "different builds (torch 2.13.0+cpu is the CPU build of "
                             "https://download.pytorch.org/whl/cpu, torchvision 0.28.0 is the cu130 build of PyPI)"),
        (PYPI_TORCH, CPU_TV, "different builds (torch 2.13.0 is the cu130 build of PyPI, "
                             "torchvision 0.28.0+cpu is the CPU build of https://download.pytorch.org/whl/cpu)"),
        (Build("torch", "2.13.0", "cu126", "cu126"), Build("torchvision", "0.28.0", "cu128", "cu128", "2.13.0"),
         "different builds"),
        (PYPI_TORCH, Build("torchvision", "0.29.1", "", "cu130", "2.14.1"),
         "versions do not match: torchvision 0.29.1 is built for torch 2.14.1, torch 2.13.0 is installed"),
        # no torch pin in the metadata: the release rule decides
        (CPU_TORCH, Build("torchvision", "0.27.0", "cpu", "cpu", ""), "not the release paired with torch 2.13.0"),
    ],
)
def test_pair_reason_names_the_mismatch(torch, tv, expected):
    reason = pair_reason(torch, tv)
    if expected is None:
        assert reason is None
    else:
        assert reason is not None and expected in reason, reason
        assert "missing dependency" not in reason


@pytest.mark.parametrize(
    "torch, fix",
    [
        (CPU_TORCH, "Fix: pip install --force-reinstall --no-deps 'torchvision==0.28.0' "
                    "--index-url https://download.pytorch.org/whl/cpu"),
        (PYPI_TORCH, "Fix: pip install --force-reinstall --no-deps 'torchvision==0.28.0'"),
    ],
)
def test_the_fix_installs_torchvision_from_torchs_own_source(torch, fix):
    other = CPU_TV if torch is PYPI_TORCH else PYPI_TV
    reason = pair_reason(torch, other)
    assert reason.endswith(fix), reason


def test_missing_torchvision_says_which_one_and_from_where():
    reason = pair_reason(CPU_TORCH, None)
    assert reason.startswith("missing dependency: torchvision")
    assert "pip install 'torchvision==0.28.0' --index-url https://download.pytorch.org/whl/cpu" in reason
    assert "torchvision from PyPI, a CUDA build on Linux, fails beside this torch" in reason
    reason = pair_reason(PYPI_TORCH, None)
    assert "is the cu130 build of PyPI" in reason and reason.endswith("pip install 'torchvision==0.28.0')")


def test_paired_torchvision_follows_the_release_table():
    # https://github.com/pytorch/vision#installation
    table = {"2.1.2": "0.16.2", "2.4.1": "0.19.1", "2.5.1": "0.20.1", "2.6.0": "0.21.0", "2.13.0": "0.28.0",
             "2.14.1": "0.29.1"}
    assert {t: deps.paired_torchvision(t) for t in table} == table
    assert deps.paired_torchvision("2.0.1") is None and deps.paired_torchvision("1.13.1") is None


def test_installed_build_reads_metadata_and_version_py_without_importing(tmp_path, monkeypatch):
    fake_dist(tmp_path, "torch", "2.13.0",
              "__version__ = '2.13.0+cu130'\ncuda: Optional[str] = '13.0'\nhip: Optional[str] = None\n")
    fake_dist(tmp_path, "torchvision", "0.28.0",
              "__version__ = '0.28.0+cu130'\nfrom torchvision.extension import _check_cuda_version\n"
              "raise RuntimeError('version.py must not be executed')\n",
              requires=["numpy", "torch (==2.13.0)", "gdown>=4.7.3 ; extra == 'gdown'"])
    monkeypatch.syspath_prepend(str(tmp_path))
    assert installed_build("torch") == PYPI_TORCH
    assert installed_build("torchvision") == PYPI_TV


def test_installed_build_of_cpu_and_rocm_wheels(tmp_path, monkeypatch):
    fake_dist(tmp_path, "torch", "2.13.0+cpu", "__version__ = '2.13.0+cpu'\ncuda = None\nhip = None\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert installed_build("torch") == CPU_TORCH
    rocm = tmp_path / "rocm"
    rocm.mkdir()
    fake_dist(rocm, "torch", "2.13.0", "__version__ = '2.13.0'\ncuda = None\nhip = '6.4.43482'\n")
    monkeypatch.syspath_prepend(str(rocm))
    assert installed_build("torch") == Build("torch", "2.13.0", "", "rocm6.4")


def test_installed_build_rejects_other_packages():
    with pytest.raises(ValueError, match="`package`"):
        installed_build("numpy")


def _fake_python(tmp_path, body):
    exe = tmp_path / "python"
    exe.write_text("#!/bin/sh\n" + body + "\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return str(exe)


@pytest.mark.skipif(os.name != "posix", reason="fake interpreters are shell scripts")
def test_probe_reports_a_crash_by_its_signal_and_an_error_by_its_last_line(tmp_path):
    assert "killed by SIGSEGV" in probe_import(_fake_python(tmp_path, "kill -SEGV $$"))
    reason = probe_import(_fake_python(tmp_path, "echo 'Traceback' >&2; echo 'RuntimeError: operator torchvision::nms "
                                                 "does not exist' >&2; exit 1"))
    assert "exited with status 1 (RuntimeError: operator torchvision::nms does not exist)" in reason
    assert probe_import(_fake_python(tmp_path, "exit 0")) is None


def test_bench_methods_diagnoses_a_mismatched_pair(monkeypatch, capsys):
    builds = {"torch": CPU_TORCH, "torchvision": PYPI_TV}
    monkeypatch.setattr(deps, "installed_build", lambda package: builds[package])
    monkeypatch.setattr(deps, "_importable", lambda module: True)
    probes = []
    monkeypatch.setattr(deps, "probe_import", lambda *a, **k: probes.append(1))
    assert main(["methods"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("| sam "))
    assert "torch and torchvision are different builds" in row and "missing dependency" not in row
    assert "--index-url https://download.pytorch.org/whl/cpu" in row
    assert probes == []  # a pair known to be wrong is never imported, not even in a subprocess


def test_bench_methods_probes_a_pair_that_looks_right_once(monkeypatch, capsys):
    builds = {"torch": PYPI_TORCH, "torchvision": PYPI_TV}
    monkeypatch.setattr(deps, "installed_build", lambda package: builds[package])
    monkeypatch.setattr(deps, "_importable", lambda module: True)
    probes = []

    def crashed(*args, **kwargs):
        probes.append(1)
        return "importing torchvision and running torchvision.ops.nms in a subprocess was killed by SIGSEGV"

    monkeypatch.setattr(deps, "probe_import", crashed)
    assert main(["methods"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| sam")]
    assert len(rows) == 3 and len(probes) == 1  # sam, sam_vit_b, sam_vit_h: one class, one probe
    assert all("killed by SIGSEGV" in r and "pip install --force-reinstall 'torch==2.13.0' 'torchvision==0.28.0'" in r
               for r in rows)


def test_sam_metadata_is_read_from_this_environment():
    # whatever is installed here, the diagnosis agrees with importlib.metadata
    try:
        version = md.version("torch")
    except md.PackageNotFoundError:
        assert installed_build("torch") is None
    else:
        assert installed_build("torch").full_version == version
