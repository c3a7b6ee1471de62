"""scripts/torch_choice.py: which torch build the set-up installs, and scripts/run.sh using it."""

from __future__ import annotations

import contextlib
import http.server
import importlib.util
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "torch_choice.py"
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"


def _load():
    spec = importlib.util.spec_from_file_location("torch_choice", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["torch_choice"] = mod  # dataclasses look the module up by name
    spec.loader.exec_module(mod)
    return mod


tc = _load()
TORCH = tc.pinned(str(CONSTRAINTS), "torch")


class _Handler(http.server.BaseHTTPRequestHandler):
    delay = 0.0

    def do_GET(self):  # noqa: N802 - http.server's naming
        time.sleep(self.delay)
        if self.path.rstrip("/").endswith("/whl/cpu/torch"):
            body = b"<html><a href='torch-2.13.0+cpu-cp311-cp311-linux_x86_64.whl'>torch</a></html>"
            self.send_response(200)
        else:
            body = b"not here"
            self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def _server(delay: float = 0.0):
    handler = type("H", (_Handler,), {"delay": delay})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()
        t.join()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _choose(mode, *, gpu=False, reachable=True, installed=None, **kw):
    return tc.choose(mode, python="PY", constraints=str(CONSTRAINTS), empty_dir="/EMPTY",
                     gpu=lambda: gpu, reachable=lambda url: reachable,
                     installed=installed or (lambda dist: None), **kw)


# ------------------------------------------------------------------ the choice
def test_constraints_pin_the_torch_version():
    assert TORCH is not None and TORCH.count(".") == 2
    assert TORCH in tc.TORCHVISION_FOR


@pytest.mark.parametrize("value,mode", [(None, "auto"), ("", "auto"), ("auto", "auto"), ("CPU", "cpu"),
                                        ("cuda", "cuda"), (" keep ", "keep")])
def test_parse_mode(value, mode):
    assert tc.parse_mode(value) == mode


@pytest.mark.parametrize("bad", ["gpu", "cu121", "yes", "cpu,cuda"])
def test_bad_mode_is_a_clear_error(bad):
    with pytest.raises(ValueError, match=rf"BENCH_TORCH must be one of auto, cpu, cuda, keep.*{bad!r}"):
        tc.parse_mode(bad)


def test_no_gpu_and_cpu_index_reachable_installs_from_the_cpu_index():
    c = _choose("auto", gpu=False, reachable=True)
    assert c.mode == "cpu"
    assert c.command == ("PY", "-m", "pip", "install", "-c", str(CONSTRAINTS), "--index-url", tc.CPU_INDEX,
                         f"torch=={TORCH}")
    assert "no NVIDIA GPU" in c.reason


def test_no_gpu_and_cpu_index_unreachable_falls_back_to_the_configured_index():
    c = _choose("auto", gpu=False, reachable=False)
    assert c.mode == "cpu"
    # the configured index with its find-links untouched: a local CPU wheel there is found
    assert c.command == ("PY", "-m", "pip", "install", "-c", str(CONSTRAINTS), f"torch=={TORCH}")
    assert "cannot be reached" in c.reason


def test_gpu_present_installs_the_default_cuda_build_without_local_wheels():
    probed = []
    c = tc.choose("auto", python="PY", constraints=str(CONSTRAINTS), empty_dir="/EMPTY", gpu=lambda: True,
                  reachable=lambda url: probed.append(url) or True, installed=lambda dist: None)
    assert c.mode == "cuda"
    assert probed == []  # the CPU index is not even asked
    assert c.command[:2] == ("env", "PIP_FIND_LINKS=/EMPTY")
    assert "--index-url" not in c.command and c.command[-1] == f"torch=={TORCH}"


@pytest.mark.parametrize("gpu", [True, False])
def test_override_cpu_wins_over_the_gpu(gpu):
    c = _choose("cpu", gpu=gpu, reachable=True)
    assert c.mode == "cpu" and ("--index-url", tc.CPU_INDEX) == c.command[6:8]


@pytest.mark.parametrize("gpu", [True, False])
def test_override_cuda_wins_without_a_gpu(gpu):
    c = _choose("cuda", gpu=gpu, reachable=True)
    assert c.mode == "cuda" and c.command[:2] == ("env", "PIP_FIND_LINKS=/EMPTY")
    assert "--index-url" not in c.command


def test_override_keep_leaves_an_installed_torch_alone():
    c = _choose("keep", gpu=True, installed=lambda dist: {"torch": "2.9.0+cu126"}.get(dist))
    assert c.mode == "keep" and c.command == ()
    assert "2.9.0+cu126" in c.reason


def test_keep_without_torch_chooses_as_auto():
    c = _choose("keep", gpu=False, reachable=True)
    assert c.mode == "cpu" and c.command[-1] == f"torch=={TORCH}"
    assert "has no torch" in c.reason


def test_torchvision_comes_from_the_cpu_index_with_torch():
    c = _choose("auto", gpu=False, reachable=True, with_torchvision=True)
    assert c.command[-3:] == (tc.CPU_INDEX, f"torch=={TORCH}", f"torchvision=={tc.TORCHVISION_FOR[TORCH]}")
    assert c.command[0] == "PY"


def test_torchvision_on_the_fallback_path_never_pairs_with_a_local_cpu_torch():
    c = _choose("auto", gpu=False, reachable=False, with_torchvision=True)
    assert c.command[:2] == ("env", "PIP_FIND_LINKS=/EMPTY")
    assert c.command[-2:] == (f"torch=={TORCH}", f"torchvision=={tc.TORCHVISION_FOR[TORCH]}")


def test_keep_with_torchvision_says_what_is_missing():
    c = _choose("keep", with_torchvision=True, installed=lambda dist: {"torch": "2.9.0"}.get(dist))
    assert c.command == () and "no torchvision is installed" in c.reason


def test_unknown_torchvision_pair_is_an_error(tmp_path):
    cons = tmp_path / "c.txt"
    cons.write_text("numpy==2.0.2\ntorch==1.0.0  # old\n")
    assert tc.pinned(str(cons), "torch") == "1.0.0"
    with pytest.raises(ValueError, match="no torchvision release known for torch 1.0.0"):
        tc.choose("cpu", constraints=str(cons), with_torchvision=True, gpu=lambda: False,
                  reachable=lambda url: True, installed=lambda d: None)


def test_missing_constraints_file_is_named(tmp_path):
    with pytest.raises(ValueError, match="nope.txt does not exist"):
        tc.pinned(str(tmp_path / "nope.txt"), "torch")


def test_non_empty_find_links_folder_is_refused(tmp_path):
    (tmp_path / "torch-2.13.0+cpu.whl").write_text("")
    with pytest.raises(ValueError, match="`--empty-dir`.*is not empty"):
        tc.choose("cuda", empty_dir=str(tmp_path), gpu=lambda: True, reachable=lambda u: True,
                  installed=lambda d: None)


# -------------------------------------------------------------------- probes
def test_index_reachable_against_a_local_server():
    with _server() as base:
        assert tc.index_reachable(f"{base}/whl/cpu", timeout=5)
        assert tc.index_reachable(f"{base}/whl/cpu/", timeout=5)
        assert not tc.index_reachable(f"{base}/elsewhere", timeout=5)  # 404


def test_index_unreachable_when_nothing_listens():
    assert not tc.index_reachable(f"http://127.0.0.1:{_free_port()}/whl/cpu", timeout=2)


def test_index_probe_gives_up_after_the_timeout():
    with _server(delay=3.0) as base:
        t0 = time.monotonic()
        assert not tc.index_reachable(f"{base}/whl/cpu", timeout=0.3)
        assert time.monotonic() - t0 < 2.5


def _fake_smi(tmp_path: Path, out: str, rc: int = 0) -> str:
    p = tmp_path / "nvidia-smi"
    p.write_text(f"#!/bin/sh\nprintf '{out}'\nexit {rc}\n")
    p.chmod(0o755)
    return str(p)


def test_gpu_detection(tmp_path):
    no_proc = tmp_path / "no-proc"
    assert tc.has_nvidia_gpu(smi=_fake_smi(tmp_path, "GPU 0: NVIDIA H200 (UUID: GPU-1)\\n"), proc=no_proc)
    assert not tc.has_nvidia_gpu(smi=_fake_smi(tmp_path, "No devices were found\\n", rc=6), proc=no_proc)
    assert not tc.has_nvidia_gpu(smi=str(tmp_path / "absent-smi"), proc=no_proc)
    proc = tmp_path / "proc-gpus"
    (proc / "0000:01:00.0").mkdir(parents=True)
    assert tc.has_nvidia_gpu(smi=str(tmp_path / "absent-smi"), proc=proc)


# ----------------------------------------------------------- the command line
def _cli(*args, env=None):
    e = {k: v for k, v in os.environ.items() if k != "BENCH_TORCH"}
    e.update(env or {})
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=e, timeout=60)


def test_cli_prints_the_command_one_argument_per_line():
    with _server() as base:
        res = _cli("--python", "PY", "-c", str(CONSTRAINTS), "--gpu", "no", "--cpu-index", f"{base}/whl/cpu")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["PY", "-m", "pip", "install", "-c", str(CONSTRAINTS),
                                       "--index-url", f"{base}/whl/cpu", f"torch=={TORCH}"]
    assert "torch (cpu)" in res.stderr


def test_cli_falls_back_when_the_cpu_index_does_not_answer():
    res = _cli("--python", "PY", "--gpu", "no", "--cpu-index", f"http://127.0.0.1:{_free_port()}/whl/cpu",
               "--timeout", "2")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["PY", "-m", "pip", "install", f"torch=={tc.DEFAULT_TORCH}"]
    assert "cannot be reached" in res.stderr


def test_cli_bad_override_exits_2_with_a_message():
    res = _cli("--python", "PY", env={"BENCH_TORCH": "gpu"})
    assert res.returncode == 2 and res.stdout == ""
    assert "BENCH_TORCH must be one of auto, cpu, cuda, keep (or unset), got 'gpu'" in res.stderr


# ------------------------------------------------------------- scripts/run.sh
def _run_sh(tmp_path, command, **env):
    e = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_TORCH")}
    e.update(BENCH_TORCH_DRY_RUN="1", BENCH_VENV=str(tmp_path / "venv"), **env)
    return subprocess.run(["bash", str(ROOT / "scripts" / "run.sh"), command], capture_output=True, text=True,
                          env=e, timeout=120, cwd=tmp_path)


@pytest.mark.parametrize("command,extras", [("setup", "all"), ("setup-sam", "all,sam")])
def test_run_sh_dry_run_cuda(tmp_path, command, extras):
    res = _run_sh(tmp_path, command, BENCH_TORCH="cuda")
    assert res.returncode == 0, res.stderr
    venv = tmp_path / "venv"
    lines = res.stdout.splitlines()
    torch_line = next(line for line in lines if "torch==" in line)
    assert torch_line.startswith(f"env PIP_FIND_LINKS={venv}/.empty-find-links {venv}/bin/python -m pip install")
    assert ("torchvision==" in torch_line) == (command == "setup-sam")
    assert any(line.startswith(f"{venv}/bin/python -m pip install -q -c") and f"-e .\\[{extras.replace(',', chr(92) + ',')}\\]"
               in line for line in lines), lines
    assert not venv.exists(), "a dry run must create nothing"


def test_run_sh_dry_run_keep_without_torch_chooses_and_bad_value_fails(tmp_path):
    dead = f"http://127.0.0.1:{_free_port()}/whl/cpu"  # no network in tests
    res = _run_sh(tmp_path, "setup", BENCH_TORCH="keep", BENCH_TORCH_CPU_INDEX=dead)
    assert res.returncode == 0, res.stderr
    assert "has no torch" in res.stderr and any("torch==" in line for line in res.stdout.splitlines())
    bad = _run_sh(tmp_path, "setup", BENCH_TORCH="rocm")
    assert bad.returncode != 0 and "BENCH_TORCH must be one of" in bad.stderr
    assert "pip install" not in bad.stdout


def test_environment_yml_makes_the_same_cpu_choice():
    import yaml

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert f"--extra-index-url {tc.CPU_INDEX}" in pip
    assert f"torch=={TORCH}" in pip and "-c requirements/constraints.txt" in pip
