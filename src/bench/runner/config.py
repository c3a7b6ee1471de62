"""Run configurations: which methods on which datasets, with which budget.

A configuration is a YAML file (``benchmark/configs/*.yaml``)::

    name: quick                  # run id prefix
    description: ...
    profile: quick               # ci | quick | full (training budget)
    split: test                  # split scored
    seeds: [0]
    timeout_s: 900               # per-cell wall limit (kernel start included)
    limit: null                  # images per split (null = all)
    methods:                     # ids, or mappings with per-method overrides
      - isodata_watershed
      - id: unet5x64
        timeout_s: 1200          # optional: timeout_s, profile, notebook,
        datasets: [synth-lyso]   #   datasets (a subset of the list below),
        seeds: [0, 1, 2]         #   seeds (instead of the top-level ones)
    datasets: [synth-lyso-easy, nih3t3]
    exclude:                     # optional (method, dataset) glob pairs
      - {method: "sam*", dataset: "*"}
    tutorials:                   # optional: tutorial notebooks executed once per run
      - tutorial_metrics         #   (notebooks/<name>.md), or {name: ..., parameters: {...}}

:func:`load_config` validates it and :attr:`RunConfig.hash` identifies its content.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .experiment import PROFILES, SPLITS_SCORED

__all__ = ["RunConfig", "MethodEntry", "TutorialEntry", "load_config", "parse_config"]

_TOP_KEYS = {"name", "description", "profile", "split", "seeds", "timeout_s", "limit", "methods",
             "datasets", "exclude", "tutorials"}
_METHOD_KEYS = {"id", "timeout_s", "profile", "notebook", "datasets", "seeds"}


@dataclass(frozen=True)
class MethodEntry:
    """A method of a configuration, with optional per-method overrides."""

    id: str
    timeout_s: float | None = None
    profile: str | None = None
    notebook: str | None = None
    #: run only on these datasets (a subset of the configuration's), else on all
    datasets: tuple[str, ...] | None = None
    #: run with these seeds instead of the configuration's (e.g. 3 seeds for the cells
    #: behind a paper's claim in a seed-0 run)
    seeds: tuple[int, ...] | None = None


@dataclass(frozen=True)
class TutorialEntry:
    """A tutorial notebook executed once per run, with parameter overrides."""

    name: str
    parameters: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RunConfig:
    """A validated run configuration (see the module docstring)."""

    name: str
    methods: tuple[MethodEntry, ...]
    datasets: tuple[str, ...]
    description: str = ""
    profile: str = "quick"
    split: str = "test"
    seeds: tuple[int, ...] = (0,)
    timeout_s: float = 900.0
    limit: int | None = None
    exclude: tuple[tuple[str, str], ...] = ()
    tutorials: tuple[TutorialEntry, ...] = ()
    path: str = field(default="", compare=False)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("path")
        d["methods"] = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in m.items() if v is not None}
                        for m in d["methods"]]
        d["seeds"] = list(self.seeds)
        d["datasets"] = list(self.datasets)
        d["exclude"] = [{"method": m, "dataset": ds} for m, ds in self.exclude]
        d["tutorials"] = [{"name": t.name, "parameters": dict(t.parameters)} if t.parameters else t.name
                          for t in self.tutorials]
        if not d["tutorials"]:
            d.pop("tutorials")
        return d

    @property
    def hash(self) -> str:
        """SHA-256 of the canonical JSON of the configuration's content."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()

    def seeds_of(self, method_id: str) -> tuple[int, ...]:
        """The seeds `method_id` runs with: its own ``seeds``, else the configuration's."""
        for m in self.methods:
            if m.id == method_id and m.seeds is not None:
                return m.seeds
        return self.seeds

    def excluded(self, method_id: str, dataset: str) -> bool:
        """Whether the cell (method, dataset) is left out by ``exclude`` or the method's ``datasets``."""
        for m in self.methods:
            if m.id == method_id and m.datasets is not None and dataset not in m.datasets:
                return True
        return any(fnmatch.fnmatchcase(method_id, m) and fnmatch.fnmatchcase(dataset, d) for m, d in self.exclude)


def _err(where: str, msg: str) -> ValueError:
    return ValueError(f"{where}: {msg}")


def _seeds(seeds: Any, where: str, key: str) -> list[int]:
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        seeds = [seeds]
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise _err(where, f"`{key}` must be a non-empty list of ints, got {seeds!r}")
    if len(set(seeds)) != len(seeds):
        raise _err(where, f"`{key}` has duplicates: {seeds}")
    return seeds


def parse_config(doc: Any, *, where: str = "config") -> RunConfig:
    """Validate a configuration mapping (as read from YAML)."""
    if not isinstance(doc, dict):
        raise _err(where, f"a configuration must be a mapping, got {type(doc).__name__}")
    unknown = sorted(set(doc) - _TOP_KEYS)
    if unknown:
        raise _err(where, f"unknown key(s) {unknown}; known keys: {sorted(_TOP_KEYS)}")
    for key in ("name", "methods", "datasets"):
        if key not in doc:
            raise _err(where, f"missing key `{key}`")
    name = doc["name"]
    if not isinstance(name, str) or not name or any(c in name for c in "/\\ "):
        raise _err(where, f"`name` must be a non-empty string without '/', '\\\\' or spaces, got {name!r}")
    profile = doc.get("profile", "quick")
    if profile not in PROFILES:
        raise _err(where, f"`profile` must be one of {PROFILES}, got {profile!r}")
    split = doc.get("split", "test")
    if split not in SPLITS_SCORED:
        raise _err(where, f"`split` must be one of {SPLITS_SCORED}, got {split!r}")
    seeds = _seeds(doc.get("seeds", [0]), where, "seeds")
    timeout = doc.get("timeout_s", 900)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise _err(where, f"`timeout_s` must be a positive number, got {timeout!r}")
    limit = doc.get("limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise _err(where, f"`limit` must be null or an int >= 1, got {limit!r}")

    methods = doc["methods"]
    if not isinstance(methods, list) or not methods:
        raise _err(where, f"`methods` must be a non-empty list, got {methods!r}")
    entries = []
    for i, m in enumerate(methods):
        if isinstance(m, str):
            m = {"id": m}
        if not isinstance(m, dict) or "id" not in m:
            raise _err(where, f"`methods[{i}]` must be an id or a mapping with `id`, got {m!r}")
        bad = sorted(set(m) - _METHOD_KEYS)
        if bad:
            raise _err(where, f"`methods[{i}]` has unknown key(s) {bad}; known: {sorted(_METHOD_KEYS)}")
        if not isinstance(m["id"], str) or not m["id"]:
            raise _err(where, f"`methods[{i}].id` must be a non-empty string, got {m['id']!r}")
        t = m.get("timeout_s")
        if t is not None and (isinstance(t, bool) or not isinstance(t, (int, float)) or t <= 0):
            raise _err(where, f"`methods[{i}].timeout_s` must be a positive number, got {t!r}")
        p = m.get("profile")
        if p is not None and p not in PROFILES:
            raise _err(where, f"`methods[{i}].profile` must be one of {PROFILES}, got {p!r}")
        nb = m.get("notebook")
        if nb is not None and not isinstance(nb, str):
            raise _err(where, f"`methods[{i}].notebook` must be a path, got {nb!r}")
        ds = m.get("datasets")
        if ds is not None and (not isinstance(ds, list) or not ds or not all(isinstance(d, str) for d in ds)):
            raise _err(where, f"`methods[{i}].datasets` must be a non-empty list of names, got {ds!r}")
        sd = None if m.get("seeds") is None else tuple(_seeds(m["seeds"], where, f"methods[{i}].seeds"))
        entries.append(MethodEntry(id=m["id"], timeout_s=None if t is None else float(t), profile=p, notebook=nb,
                                   datasets=None if ds is None else tuple(ds), seeds=sd))
    ids = [e.id for e in entries]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise _err(where, f"`methods` lists {dup} more than once")

    datasets = doc["datasets"]
    if not isinstance(datasets, list) or not datasets or not all(isinstance(d, str) and d for d in datasets):
        raise _err(where, f"`datasets` must be a non-empty list of names, got {datasets!r}")
    if len(set(datasets)) != len(datasets):
        raise _err(where, f"`datasets` has duplicates: {datasets}")

    for i, e in enumerate(entries):
        extra = sorted(set(e.datasets or ()) - set(datasets))
        if extra:
            raise _err(where, f"`methods[{i}].datasets` names {extra}, which are not in `datasets`")

    exclude = []
    for i, e in enumerate(doc.get("exclude") or []):
        if not isinstance(e, dict) or set(e) - {"method", "dataset"} or not e:
            raise _err(where, f"`exclude[{i}]` must be a mapping with `method` and/or `dataset`, got {e!r}")
        exclude.append((str(e.get("method", "*")), str(e.get("dataset", "*"))))

    tutorials = []
    for i, t in enumerate(doc.get("tutorials") or []):
        if isinstance(t, str):
            t = {"name": t}
        if not isinstance(t, dict) or "name" not in t or set(t) - {"name", "parameters"}:
            raise _err(where, f"`tutorials[{i}]` must be a name or a mapping with `name` and `parameters`, got {t!r}")
        params = t.get("parameters") or {}
        if not isinstance(params, dict):
            raise _err(where, f"`tutorials[{i}].parameters` must be a mapping, got {params!r}")
        tutorials.append(TutorialEntry(name=str(t["name"]), parameters=dict(params)))
    if len({t.name for t in tutorials}) != len(tutorials):
        raise _err(where, "`tutorials` lists a notebook more than once")

    description = doc.get("description", "")
    if not isinstance(description, str):
        raise _err(where, f"`description` must be a string, got {description!r}")
    return RunConfig(
        name=name,
        description=description.strip(),
        profile=profile,
        split=split,
        seeds=tuple(seeds),
        timeout_s=float(timeout),
        limit=limit,
        methods=tuple(entries),
        datasets=tuple(datasets),
        exclude=tuple(exclude),
        tutorials=tuple(tutorials),
        path=where,
    )


def load_config(path: str | Path) -> RunConfig:
    """Read and validate a YAML configuration file.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        If the YAML is invalid or a key is missing, unknown or of the wrong type
        (the message names the file and the key).
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: configuration file does not exist")
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: invalid YAML ({exc})") from exc
    return parse_config(doc, where=str(path))
