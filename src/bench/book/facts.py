"""Facts the hand-written pages state, computed when the book is built.

A page of ``book/`` never types a number about the runs, the data or the speed of the
code: it writes a placeholder, ``{{ name }}``, and :func:`stage_book
<bench.book.build.stage_book>` replaces it with the value computed here from the
files that decide it: the run configurations (``benchmark/configs/*.yaml``), the
nightly workflow (``.github/workflows/nightly.yml``), the committed splits
(``benchmark/splits/*.json``) and committed measurements
(``benchmark/perf/results/*.json``, each written by the script it names). A
placeholder without a fact is an error that names the page, so a page cannot keep a
stale statement once its fact is renamed or removed.

Facts (each a markdown fragment), for each configuration ``C`` of :data:`CONFIGS`:

* ``C_profile`` -- its training profile, as inline code;
* ``C_cells`` -- its number of (method, dataset, seed) cells;
* ``C_seeds``, ``C_methods``, ``C_datasets`` -- counts with their noun ("3 seeds");

``undertrained_rule`` and ``verdict_rule`` (:data:`bench.curves.UNDERTRAINED_RULE`,
:data:`bench.claims.VERDICT_RULE`, quoted), and ``full_configs`` (the configurations that use the ``full`` profile),
``nightly_machine`` (where the nightly workflow runs, from its ``runs-on``) and
``test_images`` (the range of test-set sizes over the committed splits of the registered
datasets).

The speed table of the metrics chapter is a generated include
(``book/_generated/metrics_speed.md``, :func:`metrics_speed_page`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Callable, Mapping

import yaml

from ..data import dataset_names
from ..runner.config import RunConfig, load_config
from ..splits import read_split_file
from .markup import fmt_seconds
from ..claims import VERDICT_RULE
from ..curves import UNDERTRAINED_RULE

__all__ = ["PLACEHOLDER", "CONFIGS", "METRICS_SPEED", "load_configs", "configs_listing", "config_cells", "book_facts", "substitute",
           "metrics_speed_page"]

#: The run configurations the pages speak of (``benchmark/configs/<name>.yaml``).
CONFIGS = ("quick", "deep", "nightly", "full")

#: A placeholder in a hand-written page: ``{{ name }}`` (spaces optional).
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
#: The committed measurement of ``benchmark/perf/metrics_speed.py --json``.
METRICS_SPEED = Path("benchmark") / "perf" / "results" / "metrics_speed.json"
#: GitHub-hosted runner labels: standard images without a GPU.
_HOSTED = re.compile(r"^(ubuntu|windows|macos)-[\w.]+$")


def load_configs(root: str | Path) -> dict[str, RunConfig]:
    """The configurations of :data:`CONFIGS` of the repository at `root`, by name."""
    return {name: load_config(Path(root) / "benchmark" / "configs" / f"{name}.yaml") for name in CONFIGS}


def configs_listing(configs: Mapping[str, RunConfig], keep: Callable[[RunConfig], bool]) -> str:
    """The configurations for which `keep` holds, as words for a page.

    >>> from bench.runner import parse_config
    >>> cfgs = {"quick": parse_config({"name": "quick", "methods": ["hough"], "datasets": ["synth-lyso"]})}
    >>> configs_listing(cfgs, lambda c: "synth-lyso" in c.datasets)
    'configurations that include it: `benchmark/configs/quick.yaml`'
    >>> configs_listing(cfgs, lambda c: False)
    'none of `benchmark/configs/quick.yaml` includes it'
    """
    names = [f"`benchmark/configs/{n}.yaml`" for n, c in configs.items() if keep(c)]
    if names:
        return "configurations that include it: " + ", ".join(names)
    return "none of " + ", ".join(f"`benchmark/configs/{n}.yaml`" for n in configs) + " includes it"


def config_cells(cfg: RunConfig) -> int:
    """The number of (method, dataset, seed) cells of a configuration."""
    return sum(len(cfg.seeds_of(m.id)) for m in cfg.methods for d in cfg.datasets if not cfg.excluded(m.id, d))


def _runs_on(workflow: Path) -> list[str]:
    """The ``runs-on`` labels of the jobs of a workflow file, in order, without repeats."""
    doc = yaml.safe_load(workflow.read_text())
    if not isinstance(doc, dict) or not isinstance(doc.get("jobs"), dict):
        raise ValueError(f"{workflow}: no `jobs` mapping")
    labels: list[str] = []
    for job in doc["jobs"].values():
        value = job.get("runs-on") if isinstance(job, dict) else None
        for label in value if isinstance(value, list) else [value]:
            if isinstance(label, str) and label not in labels:
                labels.append(label)
    return labels


def _machine(labels: list[str]) -> str:
    """Words for the runners of a workflow."""
    names = ", ".join(f"`{x}`" for x in labels)
    if labels and all(_HOSTED.match(x) for x in labels):
        return f"a CPU (GitHub-hosted {names} runners, which have no GPU)"
    return f"the runners labelled {names}" if labels else "runners the workflow does not name"


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def book_facts(root: str | Path, configs: Mapping[str, RunConfig] | None = None) -> dict[str, str]:
    """Every fact of :mod:`bench.book.facts` for the repository at `root`
    (`configs`: :func:`load_configs`, when already loaded).

    Raises
    ------
    FileNotFoundError, ValueError
        If a configuration, the nightly workflow or a split file is missing or invalid.
    """
    root = Path(root)
    facts: dict[str, str] = {}
    for name, cfg in (configs if configs is not None else load_configs(root)).items():
        facts[f"{name}_profile"] = f"`{cfg.profile}`"
        facts[f"{name}_cells"] = str(config_cells(cfg))
        n_seeds = sorted({len(cfg.seeds_of(m.id)) for m in cfg.methods})
        facts[f"{name}_seeds"] = (_count(n_seeds[0], "seed") if len(n_seeds) == 1
                                  else f"{n_seeds[0]} to {n_seeds[-1]} seeds, depending on the method")
        facts[f"{name}_methods"] = _count(len(cfg.methods), "method")
        facts[f"{name}_datasets"] = _count(len(cfg.datasets), "dataset")
    full = sorted(p.name for p in (root / "benchmark" / "configs").glob("*.yaml") if load_config(p).profile == "full")
    facts["full_configs"] = ", ".join(f"`benchmark/configs/{n}`" for n in full) or "no configuration"
    facts["nightly_machine"] = _machine(_runs_on(root / ".github" / "workflows" / "nightly.yml"))
    # the two rules the book states, quoted from the code that applies them
    facts["undertrained_rule"] = UNDERTRAINED_RULE
    facts["verdict_rule"] = VERDICT_RULE

    sizes = {}
    for name in dataset_names():  # the committed split file of every registered dataset that has one
        path = root / "benchmark" / "splits" / f"{name}.json"
        if path.is_file():
            sizes[name] = len(read_split_file(path).test)
    if not sizes:
        raise FileNotFoundError(f"{root / 'benchmark' / 'splits'}: no split file of a registered dataset")
    lo, hi = min(sizes.values()), max(sizes.values())
    fewest = ", ".join(f"`{d}`" for d, n in sorted(sizes.items()) if n == lo)
    facts["test_images"] = (f"{lo} test images" if lo == hi else
                            f"{lo} to {hi} test images, depending on the dataset ({lo} on {fewest})")
    return facts


def substitute(text: str, facts: Mapping[str, str], *, where: str) -> str:
    """Replace every ``{{ name }}`` of `text` by its fact.

    >>> substitute("the {{ nightly_profile }} profile", {"nightly_profile": "`quick`"}, where="page.md")
    'the `quick` profile'

    Raises
    ------
    ValueError
        If `text` names a fact that does not exist (the message names `where`).
    """
    unknown = sorted({m.group(1) for m in PLACEHOLDER.finditer(text)} - set(facts))
    if unknown:
        raise ValueError(f"{where}: unknown placeholder(s) {', '.join('{{ ' + u + ' }}' for u in unknown)}; "
                         f"the facts are {', '.join(sorted(facts))} (bench.book.facts)")
    return PLACEHOLDER.sub(lambda m: facts[m.group(1)], text)


def metrics_speed_page(root: str | Path) -> str:
    """The speed table of the metrics chapter, from the committed
    ``benchmark/perf/results/metrics_speed.json`` (or a note saying it is missing)."""
    path = Path(root) / METRICS_SPEED
    if not path.is_file():
        return ("```{note}\nNo measurement is committed (`" + METRICS_SPEED.as_posix() + "` is missing): run "
                "`python benchmark/perf/metrics_speed.py --json " + METRICS_SPEED.as_posix() + "`.\n```\n")
    try:
        doc = json.loads(path.read_text())
        rows, machine, packages = doc["rows"], doc["machine"], doc["packages"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a measurement written by benchmark/perf/metrics_speed.py --json ({exc})") from exc
    out = ["| objects | StarDist | `bench.metrics` | speed-up (wall / CPU time) | speed-up, calls interleaved | "
           "StarDist peak memory | `bench.metrics` peak memory | same counts |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        inter = f"{r['interleaved_speedup']:.0f}x" if r.get("interleaved_speedup") else "–"
        out.append(
            f"| {r['objects']:,} | {fmt_seconds(r['stardist_s'])} | {fmt_seconds(r['bench_s'])} | "
            f"{r['stardist_s'] / r['bench_s']:.0f}x / {r['stardist_cpu_s'] / r['bench_cpu_s']:.0f}x | {inter} | "
            f"{r['stardist_peak_mb']:,.0f} MB | {r['bench_peak_mb']:,.1f} MB | {'yes' if r['same_counts'] else '**no**'} |"
        )
    load = machine.get("load_average_1min") or {}
    busy = (f", 1-minute load average {load['before']:g} before and {load['after']:g} after"
            if "before" in load and "after" in load else "")
    versions = ", ".join(f"{k} {v}" for k, v in packages.items() if v)
    thresholds = ", ".join(f"{t:g}" for t in doc.get("thresholds", []))
    shape = " x ".join(str(v) for v in doc.get("shape", []))
    out += ["", f"Measured on {doc.get('measured', '?')} by `{doc.get('command', '?')}` on a machine with "
            f"{machine.get('cpus', '?')} CPU cores ({machine.get('processor', '?')}, {machine.get('platform', '?')}"
            f"{busy}); {versions}; {shape} images, IoU threshold {thresholds}. Times are the best of several "
            "calls, peak memory the growth of the resident set during the call, each in a fresh process; the "
            "interleaved speed-up is the ratio of median times with the two functions called in turns in one "
            "process, which a busy machine slows alike, so it varies least between measurements. "
            f"The table is generated from `{METRICS_SPEED.as_posix()}`; rerun the command to measure your machine.", ""]
    return "\n".join(out)
