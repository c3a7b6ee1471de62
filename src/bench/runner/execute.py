"""Execute one cell: one papermill run of a method notebook, isolated and time-limited.

The notebook runs in a child process (``python -m papermill``), which starts the
kernel, so a crash, a hang or a memory blow-up of the method cannot take the
runner down. The whole process tree is killed when the cell exceeds its wall
limit. The outcome is a *record* (the fields of :data:`bench.results.CELL_FIELDS`):

* ``ok`` -- the notebook ran to the end and saved ``result.json``;
* ``skipped`` -- the notebook raised :class:`~bench.runner.experiment.CellSkipped`;
* ``failed`` -- any other exception (``reason`` = ``"<Exception>: <message>"``,
  ``error`` = name, message and the end of the traceback);
* ``timeout`` -- killed after ``timeout_s`` seconds.

:func:`execute_cell` writes into a given folder (local runs build the cell folder
in place); :func:`execute_cell_packed` runs in a private temporary folder and
returns the files as bytes, for Dask workers that share no disk with the runner.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..data.sample_cache import SAMPLE_CACHE_ENV
from ..progress import PROGRESS_ENV
from .provenance import now

__all__ = ["CellSpec", "execute_cell", "execute_cell_packed", "kill_tree", "NOTEBOOK_NAME"]

logger = logging.getLogger(__name__)

#: File name of the executed notebook inside a cell folder.
NOTEBOOK_NAME = "notebook.ipynb"
_LOG_NAME = "papermill.log"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class CellSpec:
    """Everything a worker needs to run one cell (picklable, no paths to the runner's disk).

    ``notebook_json`` is the notebook itself (nbformat JSON), so a worker only
    needs ``bench`` installed at the same code version.
    """

    cell_id: str
    method_id: str
    method: str
    dataset: str
    split: str
    seed: int
    profile: str
    limit: int | None
    timeout_s: float
    notebook: str
    notebook_json: str = field(repr=False)
    cache_key: str
    code_version: str
    data_hash: str
    git_sha: str | None = None
    threads: int | None = None
    params: dict = field(default_factory=dict)
    #: for a method from a plugin: :meth:`bench.plugins.Plugin.provenance` (``None``: built-in)
    plugin: dict | None = None
    #: ``"method"`` (a method notebook: must save ``result.json``) or ``"tutorial"``
    #: (must run top to bottom; its parameters are ``params``)
    kind: str = "method"

    def parameters(self) -> dict:
        """The notebook parameters (papermill injects them after the ``parameters`` cell)."""
        if self.kind == "tutorial":
            return dict(self.params)
        return {
            "method_id": self.method_id,
            "dataset": self.dataset,
            "split": self.split,
            "profile": self.profile,
            "seed": self.seed,
            "limit": self.limit,
            "output_dir": ".",
        }

    def base_record(self) -> dict:
        return {
            "cell_id": self.cell_id,
            "status": None,
            "reason": "",
            "dataset": self.dataset,
            "split": self.split,
            "method_id": self.method_id,
            "method": self.method,
            "params": self.params,
            "seed": self.seed,
            "profile": self.profile,
            "limit": self.limit,
            "notebook": self.notebook,
            "executed_notebook": "",
            "cache_key": self.cache_key,
            "code_version": self.code_version,
            "data_hash": self.data_hash,
            "git_sha": self.git_sha,
            "plugin": self.plugin,
            "timeout_s": self.timeout_s,
        }


def kill_tree(pid: int) -> None:
    """Kill process `pid` and all its descendants (the kernel included)."""
    import psutil

    try:
        parent = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    procs = parent.children(recursive=True) + [parent]
    for p in procs:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=10)


def _thread_env(threads: int | None, sample_cache: str | Path | None = None) -> dict:
    env = dict(os.environ)
    env.pop(SAMPLE_CACHE_ENV, None)  # only the runner's own folder, never an inherited one
    if sample_cache is not None:
        env[SAMPLE_CACHE_ENV] = str(sample_cache)
    env["TQDM_DISABLE"] = "1"  # third-party bars (defaults only: an explicit disable= wins)
    env[PROGRESS_ENV] = "0"  # bench's own bars, whatever a call site asks (bench.progress)
    env["PYTHONUNBUFFERED"] = "1"
    if threads is not None:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                    "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
            env[var] = str(threads)
    return env


def _notebook_error(path: Path) -> dict | None:
    """The first error output of an executed notebook: ename, evalue, traceback."""
    import nbformat

    if not path.is_file():
        return None
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 - a truncated notebook from a killed run
        return None
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                tb = [_ANSI.sub("", line) for line in out.get("traceback", [])]
                return {"ename": out.get("ename", ""), "evalue": out.get("evalue", ""),
                        "traceback": "\n".join(tb)[-4000:]}
    return None


def _tail(path: Path, n: int = 2000) -> str:
    try:
        return _ANSI.sub("", path.read_text(errors="replace"))[-n:]
    except OSError:
        return ""


def execute_cell(spec: CellSpec, workdir: str | Path, *, cancel: threading.Event | None = None,
                 sample_cache: str | Path | None = None) -> dict:
    """Run the cell's notebook with papermill in `workdir` and return its record.

    `workdir` receives the executed notebook (:data:`NOTEBOOK_NAME`), the log,
    and whatever the notebook saves (``tables/``, ``predictions/``, ``figures/``,
    ``result.json``). Nothing here raises for a failing notebook: the record says
    what happened.

    Parameters
    ----------
    cancel : threading.Event, optional
        When set (the runner was interrupted), the papermill process and its
        kernel are killed and :class:`KeyboardInterrupt` is raised.
    sample_cache : str or Path, optional
        The run's sample cache folder (:mod:`bench.data.sample_cache`), a folder on
        this machine that only the runner writes; None: the cell loads its data itself.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    record = spec.base_record()
    record.update(host=socket.gethostname(), started=now())
    fd, input_path = tempfile.mkstemp(prefix="bench-input-", suffix=".ipynb")
    with os.fdopen(fd, "w") as f:
        f.write(spec.notebook_json)
    output = workdir / NOTEBOOK_NAME
    log_path = workdir / _LOG_NAME
    cmd = [
        sys.executable, "-m", "papermill", input_path, str(output),
        "-y", json.dumps(spec.parameters()),
        "--cwd", str(workdir),
        "-k", "python3",
        "--no-progress-bar",
        "--execution-timeout", str(int(max(1, spec.timeout_s))),
        "--start-timeout", "120",
    ]
    t0 = time.perf_counter()
    timed_out = False
    try:
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=_thread_env(spec.threads, sample_cache),
                                    cwd=workdir)
            deadline = time.monotonic() + spec.timeout_s
            try:
                while True:
                    try:
                        rc = proc.wait(timeout=max(0.01, min(0.5, deadline - time.monotonic())))
                        break
                    except subprocess.TimeoutExpired:
                        if cancel is not None and cancel.is_set():
                            raise KeyboardInterrupt(f"cell {spec.cell_id} cancelled") from None
                        if time.monotonic() >= deadline:
                            timed_out = True
                            kill_tree(proc.pid)
                            rc = proc.wait()
                            break
            except BaseException:  # interrupted: never leave a kernel behind
                kill_tree(proc.pid)
                proc.wait()
                raise
    finally:
        Path(input_path).unlink(missing_ok=True)
    record["wall_s"] = time.perf_counter() - t0
    record["finished"] = now()
    if output.is_file():
        folder = "tutorials" if spec.kind == "tutorial" else "cells"
        record["executed_notebook"] = f"{folder}/{spec.cell_id}/{NOTEBOOK_NAME}"  # relative to the run folder
    result_path = workdir / "result.json"
    if timed_out:
        record.update(status="timeout", reason=f"exceeded the per-cell limit of {spec.timeout_s:g} s")
    elif rc == 0 and spec.kind == "tutorial":
        record["status"] = "ok"
    elif rc == 0 and result_path.is_file():
        result = json.loads(result_path.read_text())
        record.update({k: v for k, v in result.items() if k not in ("cell_id",)})
        record["status"] = "ok"
    else:
        err = _notebook_error(output)
        if err is not None and err["ename"] == "CellSkipped":
            record.update(status="skipped", reason=err["evalue"])
        elif err is not None:
            record.update(status="failed", reason=f"{err['ename']}: {err['evalue']}"[:500], error=err)
        elif rc == 0:
            record.update(status="failed", reason="the notebook ran but saved no result.json (missing exp.save()?)")
        else:
            tail = _tail(log_path)
            record.update(status="failed", reason=f"papermill exited with code {rc}: {tail[-300:]}",
                          error={"ename": "PapermillError", "evalue": f"exit code {rc}", "traceback": tail})
    if record["status"] != "ok":
        for key in ("fit_s", "predict_s_per_image", "predict_s_total", "peak_mem_mb", "n_images", "fit_cpu_s",
                    "predict_cpu_s", "cpu_s"):
            record.setdefault(key, None)
    result_path.unlink(missing_ok=True)
    return record


def execute_cell_packed(spec: CellSpec) -> tuple[dict, dict[str, bytes]]:
    """:func:`execute_cell` in a temporary folder; returns the record and the files.

    This is the function submitted to Dask workers: it needs no disk shared with
    the runner, and returns every file the cell produced as ``{relative path: bytes}``.
    """
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-cell-{spec.cell_id[:40]}-"))
    try:
        record = execute_cell(spec, tmp)
        files = {}
        for p in sorted(tmp.rglob("*")):
            if p.is_file():
                files[str(p.relative_to(tmp))] = p.read_bytes()
        return record, files
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

