"""``bench run``: every (method, dataset, seed) cell of a configuration, cached and resumable.

Planning (:func:`plan_run`) turns a :class:`~bench.runner.config.RunConfig` into
cells. A cell whose dataset is unavailable here, or whose method declines the
dataset (``Method.skip``), is recorded as ``skipped`` without starting a kernel.
Every other cell gets a *cache key*: the hash of its spec (method id, dataset,
split, seed, profile, limit, notebook and its content), the code version of what
the cell runs (:func:`~bench.runner.provenance.code_version` of the core package
and the method's family -- plus the family of any method its parameters name,
such as CDL's weak-label method) and the data hash (``Dataset.fingerprint`` of
the split's ids). A cell folder whose ``cell.json``
carries the same key is not run again -- whatever its status, unless
``retry_failed`` (failed / timeout cells) or ``force`` (all) -- so a second
invocation re-runs nothing and a killed run resumes with the cells it had not
finished.

Cells are executed locally (``jobs`` at a time) or on a Dask cluster
(``executor="dask"``), each as one papermill run (:mod:`bench.runner.execute`).
A cell folder is built under a temporary name and renamed when complete; the
manifest is rewritten atomically after each cell. A lock file keeps two runners
out of the same run folder.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import fnmatch
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

from ..results import STATUSES, read_cell, runs_root, write_json
from .config import RunConfig
from .execute import CellSpec, execute_cell, execute_cell_packed
from .provenance import code_version, git_state, hardware, method_family, now, package_versions
from .shard import Shard, TUTORIAL_PREFIX, estimate_seconds, partition, shard_summary
from ..data import get_dataset
from ..methods import get_method, method_names, method_plugin
from ..paths import repo_root
from ..splits import get_split
from .experiment import make_method
from .notebooks import method_notebook, notebook_json, notebook_meta, notebooks_dir

__all__ = ["PlannedCell", "RunReport", "plan_run", "select_cells", "plan_tutorials", "plan_estimates", "estimate_shards",
           "run_config", "cell_id", "default_run_id", "EXECUTORS"]

logger = logging.getLogger(__name__)

EXECUTORS = ("local", "dask")


def _safe(s: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._=+-]", "_", s)
    if safe != s:
        safe = f"{safe.strip('_')}-{hashlib.sha1(s.encode()).hexdigest()[:6]}"
    return safe


def cell_id(method_id: str, dataset: str, seed: int) -> str:
    """Folder name of a cell: ``<dataset>__<method id>__seed<seed>`` made file-system safe.

    >>> cell_id("isodata_watershed", "nih3t3", 0)
    'nih3t3__isodata_watershed__seed0'
    """
    return f"{_safe(dataset)}__{_safe(method_id)}__seed{int(seed)}"


def default_run_id(config: RunConfig) -> str:
    """``<config name>-<first 8 hex of the config hash>``: re-running a config resumes its run."""
    return f"{config.name}-{config.hash[:8]}"


@dataclass
class PlannedCell:
    """A cell of a run: its spec, or a record decided at planning (skipped)."""

    cell_id: str
    spec: CellSpec | None = None
    record: dict | None = None


@dataclass
class RunReport:
    """What one invocation of :func:`run_config` did."""

    run_dir: Path
    run_id: str
    executed: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)
    wall_s: float = 0.0
    cell_wall_s: dict[str, float] = field(default_factory=dict)
    tutorials: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in STATUSES}
        for s in self.statuses.values():
            out[s] = out.get(s, 0) + 1
        return out


def _relative(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(repo_root()))
    except ValueError:
        return str(path)


def _split_ids(dataset: str, limit: int | None) -> list[str]:
    sp = get_split(dataset)
    ids: list[str] = []
    for k in ("train", "val", "test"):
        part = list(sp.ids(k))
        ids += part if limit is None else part[:limit]
    return ids


def plan_run(config: RunConfig, *, threads: int | None = None) -> tuple[list[PlannedCell], dict]:
    """The cells of `config` and the provenance shared by them.

    Returns
    -------
    cells : list of PlannedCell
        In (dataset, method, seed) order.
    context : dict
        ``code_version``, ``git``, ``data`` (dataset -> fingerprint or the reason
        it is unavailable).

    Raises
    ------
    ValueError
        For an unknown method or dataset, or a method no notebook claims.
    """
    version = code_version()
    git = git_state()
    datasets = {}
    data = {}
    for name in config.datasets:
        ds = get_dataset(name)
        reason = ds.unavailable_reason()
        if reason is None:
            fp = ds.fingerprint(_split_ids(name, config.limit))
            data[name] = fp
        else:
            data[name] = f"unavailable: {reason}"
        datasets[name] = (ds, reason)

    def families(method) -> tuple[str, ...]:
        """The method's own family, and those of methods its parameters name (CDL's weak labels)."""
        fams = {method_family(type(method).__module__)}
        texts = [str(v) for v in method.param_dict().values() if isinstance(v, (str, tuple))]
        for other in method_names(presets=False):
            if any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(other)}(?![A-Za-z0-9_])", t) for t in texts):
                fams.add(method_family(type(get_method(other)).__module__))
        return tuple(sorted(f for f in fams if f))

    methods = []
    plugins: dict[str, dict | None] = {}
    nb_cache: dict[str, str] = {}
    nb_sha: dict[str, str] = {}
    for entry in config.methods:
        get_method(entry.id)  # raises UnknownMethodError / ValueError early, naming the id
        profile = entry.profile or config.profile
        method = make_method(entry.id, profile=profile)
        nb_path = Path(entry.notebook) if entry.notebook else method_notebook(entry.id)
        if str(nb_path) not in nb_cache:
            nb_cache[str(nb_path)] = notebook_json(nb_path)
            nb_sha[str(nb_path)] = hashlib.sha256(nb_cache[str(nb_path)].encode()).hexdigest()[:16]
        # a plugin's code is not hashed with the package's: its distribution and version are
        # recorded with each cell and enter the cache key
        plugin = method_plugin(entry.id)
        plugins[entry.id] = plugin.provenance() if plugin is not None else None
        methods.append((entry, method, profile, nb_path, code_version(families(method))))

    cells = []
    for name in config.datasets:
        ds, reason = datasets[name]
        for entry, method, profile, nb_path, method_version in methods:
            if config.excluded(entry.id, name):
                continue
            skip = reason or method.skip(ds.info)
            params = {k: (list(v) if isinstance(v, tuple) else v) for k, v in method.param_dict().items()}
            for seed in config.seeds_of(entry.id):
                cid = cell_id(entry.id, name, seed)
                key_src = json.dumps(
                    {"method_id": entry.id, "dataset": name, "split": config.split, "seed": seed,
                     "profile": profile, "limit": config.limit, "notebook": nb_path.name,
                     "notebook_sha": nb_sha[str(nb_path)]},
                    sort_keys=True,
                )
                if plugins[entry.id] is not None:
                    key_src += "|" + json.dumps(plugins[entry.id], sort_keys=True)
                cache_key = hashlib.sha256(f"{key_src}|{method_version}|{data[name]}".encode()).hexdigest()[:20]
                spec = CellSpec(
                    cell_id=cid, method_id=entry.id, method=method.name, dataset=name, split=config.split,
                    seed=seed, profile=profile, limit=config.limit,
                    timeout_s=float(entry.timeout_s or config.timeout_s), notebook=_relative(nb_path),
                    notebook_json=nb_cache[str(nb_path)], cache_key=cache_key, code_version=method_version,
                    data_hash=data[name], git_sha=git["sha"], threads=threads, params=params,
                    plugin=plugins[entry.id],
                )
                if skip:
                    rec = spec.base_record()
                    rec.update(status="skipped", reason=skip, started=now(), finished=now(), wall_s=0.0,
                               fit_s=None, predict_s_per_image=None, predict_s_total=None, peak_mem_mb=None,
                               n_images=None)
                    cells.append(PlannedCell(cid, record=rec))
                else:
                    cells.append(PlannedCell(cid, spec=spec))
    return cells, {"code_version": version, "git": git, "data": data,
                   "plugins": {k: v for k, v in plugins.items() if v is not None}}


def _declared_parameters(nb) -> set[str]:
    import ast

    cell = next(c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", []))
    names = set()
    for node in ast.walk(ast.parse(cell.source)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def _expected_seconds(spec: CellSpec, folder) -> float:
    """A cell's expected wall time: its last recorded run in this folder, else a prior by kind.

    Only orders the work within a run (longest first); nothing depends on it being right.
    (Shards are balanced on the priors alone, :func:`plan_estimates`, which are the same
    on every machine.)
    """
    if spec.kind == "tutorial":
        return estimate_seconds(None, kind="tutorial")
    old = folder.existing(spec.cell_id)
    if old and old.get("status") in ("ok", "timeout") and old.get("wall_s"):
        return float(old["wall_s"])
    try:
        return estimate_seconds(spec.method_id)
    except Exception:  # an unknown method fails later, with its own message
        return 0.0


def plan_estimates(cells: list[PlannedCell], tutorials: list[CellSpec], context: dict) -> dict[str, float]:
    """Prior seconds of every item of a plan (cell ids; tutorials as ``tutorial:<name>``).

    The same on every machine: a cell skipped only because its dataset is unavailable
    here keeps the estimate of its method; one its method declines counts 0 s.
    """
    out = {}
    for c in cells:
        if c.spec is not None:
            out[c.cell_id] = estimate_seconds(c.spec.method_id)
        else:
            absent = str(context["data"].get(c.record["dataset"], "")).startswith("unavailable")
            out[c.cell_id] = estimate_seconds(c.record["method_id"], declined=not absent)
    for t in tutorials:
        out[TUTORIAL_PREFIX + t.cell_id] = estimate_seconds(None, kind="tutorial")
    return out


def estimate_shards(config: RunConfig, count: int = 1, *, jobs: int = 1) -> tuple[list[dict], dict[str, int]]:
    """The estimated load of each of `count` shards of `config`, run `jobs` cells at a time.

    Returns
    -------
    rows : list of dict
        Per shard: ``shard`` ("K/N"), ``items`` (cells and tutorials), ``cell_s`` (their
        summed prior seconds) and ``wall_s`` (the estimated wall time with `jobs` workers).
    assignment : dict
        Item key -> shard number (what ``bench run --shard K/N`` runs).
    """
    cells, context = plan_run(config)
    tutorials = plan_tutorials(config, context)
    estimates = plan_estimates(cells, tutorials, context)
    assignment = partition(estimates, count)
    return shard_summary(estimates, assignment, count, jobs), assignment


def select_cells(cells: Sequence[PlannedCell], patterns: Sequence[str]) -> list[PlannedCell]:
    """The `cells` whose id matches one of the shell `patterns` (:func:`fnmatch.fnmatchcase`).

    Raises
    ------
    ValueError
        If `patterns` is a bare string, or a pattern matches no cell (a typo would
        otherwise run nothing and say nothing); the message lists a few cell ids.

    >>> from types import SimpleNamespace as C
    >>> cells = [C(cell_id="synth-lyso__unet7x16__seed0"), C(cell_id="nih3t3__stardist__seed0")]
    >>> [c.cell_id for c in select_cells(cells, ["synth-lyso__*"])]
    ['synth-lyso__unet7x16__seed0']
    """
    if isinstance(patterns, str):
        raise ValueError(f"`only` must be a list of patterns, got the string {patterns!r}")
    ids = [c.cell_id for c in cells]
    for p in patterns:
        if not any(fnmatch.fnmatchcase(i, p) for i in ids):
            raise ValueError(f"--only {p!r} matches no cell of this configuration; cell ids look like "
                             + ", ".join(ids[:3]) + " (bench run CONFIG --dry-run lists them all)")
    return [c for c in cells if any(fnmatch.fnmatchcase(c.cell_id, p) for p in patterns)]


def _describe(c: PlannedCell) -> dict:
    src = c.spec.base_record() if c.spec is not None else c.record
    return {k: src.get(k) for k in ("method_id", "method", "dataset", "seed", "split", "profile", "limit")}


def plan_tutorials(config: RunConfig, context: dict, *, threads: int | None = None) -> list[CellSpec]:
    """Specs of the tutorial notebooks of `config` (run once per run, see ``tutorials:``).

    A tutorial gets the run's ``profile``, first seed, ``split`` and ``limit`` for the
    parameters its ``parameters`` cell declares, then the configuration's overrides.
    """
    import nbformat

    specs = []
    for entry in config.tutorials:
        path = notebooks_dir() / f"{entry.name}.md"
        if not path.is_file():
            raise ValueError(f"{config.path}: tutorial {entry.name!r}: {path} does not exist")
        meta = notebook_meta(path) or {}
        if meta.get("kind") != "tutorial":
            raise ValueError(f"{config.path}: {path} is not a tutorial notebook (front matter bench.kind)")
        text = notebook_json(path)
        declared = _declared_parameters(nbformat.reads(text, as_version=4))
        defaults = {"profile": config.profile, "seed": config.seeds[0], "split": config.split,
                    "limit": config.limit, "output_dir": "."}
        params = {k: v for k, v in defaults.items() if k in declared}
        unknown = sorted(set(entry.parameters) - declared)
        if unknown:
            raise ValueError(f"{config.path}: tutorial {entry.name!r} has no parameter(s) {unknown}; "
                             f"it declares {sorted(declared)}")
        params.update(entry.parameters)
        sha = hashlib.sha256(text.encode()).hexdigest()[:16]
        key_src = json.dumps({"tutorial": entry.name, "parameters": params, "notebook_sha": sha,
                              "data": context["data"]}, sort_keys=True, default=str)
        specs.append(CellSpec(
            cell_id=entry.name, method_id="", method="", dataset="", split=config.split, seed=config.seeds[0],
            profile=config.profile, limit=config.limit, timeout_s=float(config.timeout_s), notebook=_relative(path),
            notebook_json=text, cache_key=hashlib.sha256(f"{key_src}|{context['code_version']}".encode()).hexdigest()[:20],
            code_version=context["code_version"], data_hash="", git_sha=context["git"]["sha"], threads=threads,
            params=params, kind="tutorial",
        ))
    return specs


# ----------------------------------------------------------------- the folder
class _RunFolder:
    """A run folder held under an exclusive lock."""

    def __init__(self, path: Path):
        self.path = path
        self.cells = path / "cells"
        self.cells.mkdir(parents=True, exist_ok=True)
        self.tutorials = path / "tutorials"
        self._lock = open(path / ".lock", "w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise RuntimeError(f"{path}: another `bench run` is using this run folder") from None
        for p in self.cells.iterdir():  # leftovers of a killed run
            if p.name.startswith((".tmp-", ".old-")):
                shutil.rmtree(p, ignore_errors=True)
        for p in path.glob(".samples-*"):  # the sample cache of a killed invocation
            shutil.rmtree(p, ignore_errors=True)
        if self.tutorials.is_dir():
            for p in self.tutorials.glob(".*"):
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)

    def sample_cache(self) -> Path:
        """A new, empty folder for this invocation's sample cache (:mod:`bench.data.sample_cache`)."""
        p = self.path / f".samples-{uuid.uuid4().hex[:8]}"
        p.mkdir()
        return p

    def close(self):
        fcntl.flock(self._lock, fcntl.LOCK_UN)
        self._lock.close()

    def existing_tutorial(self, name: str) -> dict | None:
        p = self.tutorials / f"{name}.json"
        try:
            return json.loads(p.read_text())
        except (OSError, json.JSONDecodeError):
            return None

    def commit_tutorial(self, tmp: Path, name: str, record: dict) -> None:
        """``tutorials/<name>.ipynb`` (the executed notebook) and ``tutorials/<name>.json``."""
        self.tutorials.mkdir(exist_ok=True)
        nb = tmp / "notebook.ipynb"
        if nb.is_file():
            os.replace(nb, self.tutorials / f"{name}.ipynb")
            record["executed_notebook"] = f"tutorials/{name}.ipynb"
        else:
            (self.tutorials / f"{name}.ipynb").unlink(missing_ok=True)
            record["executed_notebook"] = ""
        write_json(self.tutorials / f"{name}.json", record)
        shutil.rmtree(tmp, ignore_errors=True)

    def existing(self, cid: str) -> dict | None:
        d = self.cells / cid
        if not (d / "cell.json").is_file():
            return None
        try:
            return read_cell(d)
        except ValueError:
            return None

    def new_tmp(self, cid: str, kind: str = "method") -> Path:
        base = self.cells
        if kind == "tutorial":
            base = self.tutorials
            base.mkdir(exist_ok=True)
        p = base / f".tmp-{cid}-{uuid.uuid4().hex[:8]}"
        p.mkdir()
        return p

    def commit(self, tmp: Path, cid: str, record: dict) -> None:
        """Write ``cell.json`` into `tmp`, then move `tmp` to ``cells/<cid>``."""
        write_json(tmp / "cell.json", record)
        final = self.cells / cid
        old = None
        if final.exists():
            old = self.cells / f".old-{cid}-{uuid.uuid4().hex[:8]}"
            os.replace(final, old)
        os.replace(tmp, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def write_files(self, tmp: Path, files: dict[str, bytes]) -> None:
        for rel, data in files.items():
            p = (tmp / rel).resolve()
            if tmp.resolve() not in p.parents:
                raise ValueError(f"worker returned a file outside the cell folder: {rel!r}")
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)


def _reusable(old: dict | None, cell: PlannedCell, *, force: bool, retry_failed: bool) -> bool:
    if old is None or force:
        return False
    if cell.record is not None:  # skipped at planning: reuse only an identical record
        return old.get("status") == "skipped" and old.get("reason") == cell.record["reason"] and \
            old.get("cache_key") == cell.record["cache_key"]
    if old.get("cache_key") != cell.spec.cache_key:
        return False
    if old.get("status") in ("failed", "timeout") and retry_failed:
        return False
    return old.get("status") in STATUSES


# ------------------------------------------------------------------ executors
@contextlib.contextmanager
def _terminate_as_interrupt():
    """Within: SIGTERM and SIGHUP stop the run as Ctrl-C does (raise KeyboardInterrupt).

    A run killed by ``kill``, a closed terminal or a cancelled CI job then stops its
    running kernels and keeps every finished cell, instead of leaving kernels behind.
    Signal handlers can only be set from the main thread; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt(f"received {signal.Signals(signum).name}")

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


def _local_executor(specs: list[CellSpec], folder: _RunFolder, jobs: int) -> Iterator[tuple[CellSpec, Path, dict]]:
    """Run `specs` on this machine, `jobs` at a time, sharing one sample cache (removed at the end)."""
    cancel = threading.Event()
    samples = folder.sample_cache() if specs else None
    try:
        with cf.ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="bench-cell") as pool:
            futures = {}
            for spec in specs:
                tmp = folder.new_tmp(spec.cell_id, spec.kind)
                futures[pool.submit(execute_cell, spec, tmp, cancel=cancel, sample_cache=samples)] = (spec, tmp)
            try:
                for fut in cf.as_completed(futures):
                    spec, tmp = futures[fut]
                    yield spec, tmp, fut.result()
            except BaseException:  # Ctrl-C or an error here: stop the running cells, start no other
                cancel.set()
                for f in futures:
                    f.cancel()
                raise
    finally:
        if samples is not None:
            shutil.rmtree(samples, ignore_errors=True)


def _dask_executor(specs: list[CellSpec], folder: _RunFolder, scheduler: str) -> Iterator[tuple[CellSpec, Path, dict]]:
    try:
        from distributed import Client, as_completed
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("the dask executor needs `distributed`: pip install 'bench[dask]'") from exc
    with Client(scheduler, set_as_default=False) as client:
        futures = {
            client.submit(execute_cell_packed, spec, key=f"bench-{spec.cell_id}-{uuid.uuid4().hex[:6]}", pure=False): spec
            for spec in specs
        }
        try:
            for fut in as_completed(list(futures), loop=client.loop):
                spec = futures[fut]
                record, files = fut.result()
                tmp = folder.new_tmp(spec.cell_id, spec.kind)
                folder.write_files(tmp, files)
                yield spec, tmp, record
        except BaseException:
            client.cancel(list(futures))
            raise


# ------------------------------------------------------------------------ run
def run_config(
    config: RunConfig,
    *,
    root: str | Path | None = None,
    run_id: str | None = None,
    jobs: int = 1,
    executor: str = "local",
    scheduler: str | None = None,
    force: bool = False,
    retry_failed: bool = False,
    progress: bool = True,
    on_cell: Callable[[dict], None] | None = None,
    shard: Shard | None = None,
    only: Sequence[str] | None = None,
) -> RunReport:
    """Run every cell of `config` that is not already done, and update the manifest.

    Parameters
    ----------
    config : RunConfig
        From :func:`bench.runner.load_config`.
    root : str or Path, optional
        Folder holding runs (default :func:`bench.results.runs_root`).
    run_id : str, optional
        Run folder name (default :func:`default_run_id`: the same config resumes
        the same run).
    jobs : int, optional
        Cells run at once by the local executor; each cell's numerical libraries
        get ``cores // jobs`` threads.
    executor : {"local", "dask"}, optional
        Where cells run.
    scheduler : str, optional
        Address of the Dask scheduler (required for ``executor="dask"``).
    force : bool, optional
        Re-run every cell, ignoring the cache.
    retry_failed : bool, optional
        Re-run cells that failed or timed out (others stay cached).
    progress : bool, optional
        Show a tqdm bar over cells.
    on_cell : callable, optional
        Called with each new cell record (after it is written).
    shard : Shard, optional
        Run only this part of the configuration (:mod:`bench.runner.shard`); the run
        folder is then ``<default run id>-shard<K>of<N>`` and its manifest records the
        whole partition (``shard``), which ``bench merge`` checks.
    only : sequence of str, optional
        Shell patterns (:func:`select_cells`): run only the cells whose id matches one
        of them, and no tutorial. The run folder stays the configuration's, and the
        manifest keeps the cells of earlier invocations, so a configuration too long
        for one sitting can be run in parts that add up to the whole.

    Returns
    -------
    RunReport
    """
    from tqdm.auto import tqdm

    if executor not in EXECUTORS:
        raise ValueError(f"`executor` must be one of {EXECUTORS}, got {executor!r}")
    if executor == "dask" and not scheduler:
        raise ValueError("`scheduler` (a Dask scheduler address) is required with executor='dask'")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"`jobs` must be an int >= 1, got {jobs!r}")
    if shard is not None and not isinstance(shard, Shard):
        raise TypeError(f"`shard` must be a bench.runner.shard.Shard, got {type(shard).__name__}")
    t_start = time.perf_counter()
    root = runs_root() if root is None else Path(root)
    run_id = run_id or default_run_id(config) + (shard.suffix if shard is not None else "")
    if not re.fullmatch(r"[A-Za-z0-9._+=-]+", run_id):
        raise ValueError(f"`run_id` may only hold letters, digits and ._+=-, got {run_id!r}")
    run_dir = root / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    folder = _RunFolder(run_dir)
    try:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        threads = max(1, cores // jobs) if executor == "local" else None
        cells, context = plan_run(config, threads=threads)
        tutorials = plan_tutorials(config, context, threads=threads)
        shard_info = None
        if shard is not None:
            assignment = partition(plan_estimates(cells, tutorials, context), shard.count)
            plan = {c.cell_id: {"shard": assignment[c.cell_id], **_describe(c)} for c in cells}
            plan.update({TUTORIAL_PREFIX + t.cell_id: {"shard": assignment[TUTORIAL_PREFIX + t.cell_id]}
                         for t in tutorials})
            shard_info = {"index": shard.index, "count": shard.count, "plan": plan}
            cells = [c for c in cells if assignment[c.cell_id] == shard.index]
            tutorials = [t for t in tutorials if assignment[TUTORIAL_PREFIX + t.cell_id] == shard.index]
        planned = {c.cell_id for c in cells}  # the manifest keeps these, whatever `only` runs now
        if only:
            cells, tutorials = select_cells(cells, only), []
        manifest_path = run_dir / "manifest.json"
        manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
        invocation = {"started": now(), "finished": None, "executor": executor, "jobs": jobs,
                      "scheduler": scheduler, "executed": 0, "cached": 0}
        if only:
            invocation["only"] = list(only)
        manifest.update(
            run_id=run_id,
            config=config.to_dict(),
            config_path=_relative(Path(config.path)) if config.path else "",
            config_hash=config.hash,
            code_version=context["code_version"],
            git=context["git"],
            packages=package_versions(),
            hardware=hardware(),
            data=context["data"],
            plugins=context["plugins"],
            created=manifest.get("created", now()),
            updated=now(),
        )
        if shard_info is not None:
            manifest["shard"] = shard_info
        else:
            manifest.pop("shard", None)
        manifest.setdefault("invocations", []).append(invocation)
        external = {k for k, v in manifest.get("cells", {}).items()
                    if (folder.existing(k) or {}).get("method") == "external"}  # added by `bench score --run`
        manifest["cells"] = {k: v for k, v in manifest.get("cells", {}).items() if k in planned | external}
        write_json(manifest_path, manifest)

        report = RunReport(run_dir=run_dir, run_id=run_id)
        pending: list[CellSpec] = []
        for c in cells:
            old = folder.existing(c.cell_id)
            if _reusable(old, c, force=force, retry_failed=retry_failed):
                report.cached.append(c.cell_id)
                report.statuses[c.cell_id] = old["status"]
            elif c.record is not None:
                tmp = folder.new_tmp(c.cell_id)
                folder.commit(tmp, c.cell_id, c.record)
                report.executed.append(c.cell_id)
                report.statuses[c.cell_id] = "skipped"
                if on_cell is not None:
                    on_cell(c.record)
            else:
                pending.append(c.spec)
        manifest["cells"].update(report.statuses)
        if not only:
            manifest["tutorials"] = {t.cell_id: (manifest.get("tutorials") or {}).get(t.cell_id) for t in tutorials}
        for t in tutorials:
            old = folder.existing_tutorial(t.cell_id)
            if not force and old is not None and old.get("cache_key") == t.cache_key and (
                    old.get("status") == "ok" or not retry_failed):
                report.tutorials[t.cell_id] = old["status"]
            else:
                pending.append(t)
        # longest first, so that a long cell does not start last and leave the other workers idle
        pending.sort(key=lambda spec: -_expected_seconds(spec, folder))
        logger.info("run %s: %d cells, %d cached, %d skipped at planning, %d to run (%s, jobs=%d)",
                    run_id, len(cells), len(report.cached), len(report.executed), len(pending), executor, jobs)

        total = len(cells) + len(tutorials)
        bar = tqdm(total=total, initial=total - len(pending), desc=f"bench run {config.name}",
                   unit="cell", disable=not progress)
        stream = (_local_executor(pending, folder, jobs) if executor == "local"
                  else _dask_executor(pending, folder, scheduler))
        try:
            with _terminate_as_interrupt():
                for spec, tmp, record in stream:
                    if spec.kind == "tutorial":
                        folder.commit_tutorial(tmp, spec.cell_id, record)
                        report.tutorials[spec.cell_id] = record["status"]
                        manifest["tutorials"][spec.cell_id] = record["status"]
                        write_json(manifest_path, manifest)
                        logger.info("tutorial %s: %s in %.1f s %s", spec.cell_id, record["status"],
                                    record.get("wall_s") or 0.0, record.get("reason", ""))
                        bar.update(1)
                        continue
                    folder.commit(tmp, spec.cell_id, record)
                    report.executed.append(spec.cell_id)
                    report.statuses[spec.cell_id] = record["status"]
                    report.cell_wall_s[spec.cell_id] = float(record.get("wall_s") or 0.0)
                    manifest["cells"][spec.cell_id] = record["status"]
                    manifest["updated"] = now()
                    write_json(manifest_path, manifest)
                    msg = f"{spec.cell_id}: {record['status']} in {record.get('wall_s', 0):.1f} s"
                    if record["status"] != "ok":
                        msg += f" ({record.get('reason', '')})"
                    logger.info(msg)
                    bar.set_postfix_str(f"{spec.cell_id} {record['status']}", refresh=False)
                    bar.update(1)
                    if on_cell is not None:
                        on_cell(record)
        finally:
            stream.close()  # on an interruption: stops the running cells (kills their kernels)
            bar.close()
        invocation.update(finished=now(), executed=len(report.executed), cached=len(report.cached))
        manifest["updated"] = now()
        write_json(manifest_path, manifest)
        report.wall_s = time.perf_counter() - t_start
        return report
    finally:
        folder.close()

