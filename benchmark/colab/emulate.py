"""Run the Colab copies of the notebooks the way Colab would, on this machine.

Emulated: a Python 3.12 virtual environment pre-populated with Colab's stack (the
versions are pinned in ``requirements/colab-emulated.txt``, the one place they are
written), ``google.colab`` importable and imported at kernel start (the stub in
``benchmark/colab/google-colab-stub``, whose ``colab_kernel_launcher`` is what
Colab's kernelspec starts), and the GitHub repository served from a local clone
(``BENCH_REPO=file://…``) that holds this checkout's ``HEAD`` under the release
tag stamped into the notebooks, so that the setup cell clones, installs and checks
out exactly what it would on Colab. Every notebook then runs through papermill at
the ``ci`` profile, each in a fresh kernel, ``--passes`` times (default 2: the
second pass proves re-running is safe and that the setup cell then installs
nothing). The SAM notebook is expected to stop where it needs weights and say so.

Only committed code is emulated (the clone takes ``HEAD``). Run it with a Python
that has papermill (e.g. the project's venv)::

    python benchmark/colab/emulate.py --venv /work/envs/colab312
    python benchmark/colab/emulate.py --notebooks classical unet   # what CI runs

Writes ``summary.json`` and the executed notebooks under ``--workdir``; exits 1
when a notebook did not end as expected.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PINS = REPO / "requirements" / "colab-emulated.txt"
STUB = REPO / "benchmark" / "colab" / "google-colab-stub"
KERNEL = "colab-emulated"
#: Notebooks that cannot finish here, and the error that shows they got as far as they can.
EXPECTED_STOP = {"sam": r"SAM checkpoint \S+ not found"}
#: Distributions whose versions the setup cell must leave as Colab has them.
WATCHED = ("numpy", "torch", "torchvision", "tensorflow", "keras", "scipy", "pandas", "matplotlib",
           "scikit-image", "scikit-learn", "numba", "opencv-python-headless", "pillow", "ipykernel")


def _pip_env(empty: Path) -> dict:
    """pip's environment for the emulated venv: nothing from this machine's local wheels or caps."""
    env = dict(os.environ, PIP_FIND_LINKS=str(empty), PIP_CONSTRAINT="")
    env.pop("PYTHONPATH", None)
    return env


def _run(cmd, **kw):
    print("+", " ".join(map(str, cmd)), flush=True)
    return subprocess.run(list(map(str, cmd)), check=True, **kw)


def ensure_venv(venv: Path, python: str, empty: Path, torch_index: str | None) -> None:
    """Create `venv` with Colab's stack, unless it already holds these pins."""
    stamp = venv / ".colab-emulated"
    digest = hashlib.sha256(PINS.read_bytes() + (STUB / "pyproject.toml").read_bytes()
                            + (torch_index or "").encode()).hexdigest()
    if stamp.is_file() and stamp.read_text().strip() == digest:
        return
    env = _pip_env(empty)
    if not (venv / "bin" / "python").is_file():
        _run([python, "-m", "venv", venv], env=env)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "-q"]
    if torch_index:  # CI: the CPU build of the pinned torch pair (the CUDA build is 4.8 GB)
        pins = [ln for ln in PINS.read_text().splitlines() if re.match(r"(torch|torchvision)==", ln)]
        _run([*pip, "--index-url", torch_index, *pins], env=env)
    _run([*pip, "-r", PINS], env=env)
    _run([*pip, STUB], env=env)
    stamp.write_text(digest + "\n")


def versions(venv: Path) -> dict[str, str]:
    out = subprocess.run([venv / "bin" / "python", "-m", "pip", "list", "--format=json"],
                         capture_output=True, text=True, check=True, env=_pip_env(Path(os.devnull))).stdout
    return {re.sub(r"[-_.]+", "-", d["name"]).lower(): d["version"] for d in json.loads(out)}


def stamped_ref(notebook: Path) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    m = re.search(r'^BENCH_REF = "([^"]+)"', "\n".join("".join(c["source"]) for c in cells), re.M)
    if not m:
        raise ValueError(f"{notebook}: no generated Colab setup cell (run python -m bench.runner.notebooks)")
    return m.group(1)


def serve_repo(workdir: Path, ref: str) -> tuple[Path, str]:
    """A bare clone of this checkout's HEAD, with `ref` tagged at it (what GitHub serves)."""
    head = subprocess.run(["git", "-C", REPO, "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    if subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                      capture_output=True, text=True, check=True).stdout.strip():
        print(f"note: uncommitted changes in {REPO} are not emulated (the clone takes HEAD {head[:12]})")
    origin = workdir / "origin.git"
    _run(["git", "init", "-q", "--bare", origin])
    _run(["git", "-C", origin, "fetch", "-q", REPO, head])
    _run(["git", "-C", origin, "tag", "-f", ref, head])
    return origin, head


def kernelspec(workdir: Path, venv: Path, env: dict) -> Path:
    folder = workdir / "jupyter" / "kernels" / KERNEL
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"argv": [str(venv / "bin" / "python"), "-m", "colab_kernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (Colab, emulated)", "language": "python", "env": env}
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1))
    return workdir / "jupyter"


def parameters(notebook: Path, out: Path) -> dict:
    nb = json.loads(notebook.read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    names = set(re.findall(r"^(\w+)\s*=", "".join(cell["source"]), re.M))
    params = {"profile": "ci", "limit": 1, "output_dir": str(out)}
    return {k: v for k, v in params.items() if k in names}


def setup_output(executed: Path) -> str:
    if not executed.is_file():
        return ""
    nb = json.loads(executed.read_text())
    cell = next((c for c in nb["cells"] if c.get("id") == "colab-setup"), None)
    if cell is None:
        return ""
    parts = []
    for o in cell.get("outputs", []):
        parts.append("".join(o.get("text", "")) or "".join(o.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def run_notebook(notebook: Path, executed: Path, params: dict, cwd: Path, timeout: int, pass_no: int) -> dict:
    import papermill

    name = notebook.stem
    t0 = time.perf_counter()
    error = None
    try:
        papermill.execute_notebook(str(notebook), str(executed), kernel_name=KERNEL, parameters=params,
                                   cwd=str(cwd), progress_bar=False, execution_timeout=timeout)
    except papermill.PapermillExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue}"
    except Exception as exc:  # noqa: BLE001 - a dead kernel or timeout is this notebook's result
        error = f"{type(exc).__name__}: {exc}"
    wall = time.perf_counter() - t0
    setup = setup_output(executed)
    expected = EXPECTED_STOP.get(name)
    if expected:
        ok = error is not None and re.search(expected, error) is not None
        status = "ok (stops as expected)" if ok else "FAIL (expected to stop at: %s)" % expected
    else:
        ok = error is None
        status = "ok" if ok else "FAIL"
    if ok and pass_no > 1 and "already set up" not in setup:
        ok, status = False, "FAIL (setup cell installed again on re-run)"
    return {"notebook": name, "pass": pass_no, "status": status, "ok": ok, "wall_s": round(wall, 1),
            "error": error, "setup": setup.strip()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--venv", type=Path, default=REPO / ".colab-venv", help="the emulated runtime's venv")
    p.add_argument("--python", default="python3.12", help="interpreter that creates the venv")
    p.add_argument("--workdir", type=Path, default=None, help="default: a new temporary folder")
    p.add_argument("--notebooks", nargs="*", default=None, help="names (default: every Colab copy)")
    p.add_argument("--passes", type=int, default=2)
    p.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    p.add_argument("--torch-index", default=None,
                   help="install the pinned torch pair from this index first (CI: the CPU index)")
    p.add_argument("--shared-data", type=Path, default=None,
                   help="a data mirror to stand for already-fetched data (default: none, data is fetched)")
    args = p.parse_args(argv)

    t_start = time.perf_counter()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="colab-emulate-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    empty = workdir / "empty-find-links"
    empty.mkdir(exist_ok=True)
    ensure_venv(args.venv.resolve(), args.python, empty, args.torch_index)
    venv = args.venv.resolve()
    t_venv = time.perf_counter() - t_start

    colab_dir = REPO / "notebooks" / "colab"
    names = args.notebooks or sorted(p.stem for p in colab_dir.glob("*.ipynb"))
    notebooks = [colab_dir / f"{n}.ipynb" for n in names]
    missing = [str(n) for n in notebooks if not n.is_file()]
    if missing:
        p.error(f"no such Colab notebook: {missing}")
    ref = stamped_ref(notebooks[0])
    origin, head = serve_repo(workdir, ref)
    content = workdir / "content"
    for sub in ("bench", "cache"):  # a fresh runtime: nothing cloned, nothing cached
        shutil.rmtree(content / sub, ignore_errors=True)
    content.mkdir(exist_ok=True)
    env = {
        "BENCH_REPO": origin.as_uri(), "BENCH_ROOT": str(content / "bench"),
        "BENCH_CACHE": str(content / "cache"),
        "BENCH_SHARED_DATA": str(args.shared_data.resolve() if args.shared_data else workdir / "no-mirror"),
        "PIP_FIND_LINKS": str(empty), "PIP_CONSTRAINT": "", "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }
    os.environ["JUPYTER_PATH"] = str(kernelspec(workdir, venv, env))
    os.environ.pop("PYTHONPATH", None)  # the kernel sees only what the setup cell installs

    before = versions(venv)
    results = []
    for pass_no in range(1, args.passes + 1):
        for nb in notebooks:
            executed = workdir / "executed" / f"pass{pass_no}" / nb.name
            executed.parent.mkdir(parents=True, exist_ok=True)
            params = parameters(nb, workdir / "outputs" / f"pass{pass_no}" / nb.stem)
            rec = run_notebook(nb, executed, params, content, args.timeout, pass_no)
            results.append(rec)
            print(f"pass {pass_no} {rec['notebook']:<24} {rec['status']:<28} {rec['wall_s']:>7.1f} s"
                  + (f"  {rec['error'][:300]}" if rec["error"] else ""), flush=True)
    after = versions(venv)
    changed = {n: [before.get(n), after.get(n)] for n in WATCHED if before.get(n) != after.get(n)}
    summary = {
        "commit": head, "ref": ref, "python": subprocess.run([venv / "bin" / "python", "-V"], capture_output=True,
                                                              text=True).stdout.strip(),
        "emulated": {n: before.get(n) for n in WATCHED}, "changed_by_setup": changed,
        "venv_s": round(t_venv, 1), "total_s": round(time.perf_counter() - t_start, 1), "results": results,
    }
    (workdir / "summary.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: summary[k] for k in ("commit", "ref", "python", "emulated", "changed_by_setup",
                                               "venv_s", "total_s")}, indent=1))
    print(f"executed notebooks and summary.json in {workdir}")
    bad = [r for r in results if not r["ok"]]
    if changed:
        print(f"FAIL: the setup cell changed Colab's versions: {changed}")
    return 1 if bad or changed else 0


if __name__ == "__main__":
    raise SystemExit(main())
