"""Maintainers only: (re)write the committed digests of a dataset.

``bench data manifest NAME`` hashes every file the committed split of NAME
names, from each source present here: the local mirror, and the upstream
files unpacked under ``$BENCH_CACHE`` by ``bench data fetch``. Where the
upstream files are absent but the mirror holds the same pixels (GOWT1,
CELLULAR boxes), the upstream entry records the mirror's *content* digests
only: the upstream files must then decode to the same pixels (and boxes).
Review the diff before committing: a changed digest changes the benchmark.
"""

from __future__ import annotations

from pathlib import Path

from ..paths import cache_dir
from .io import DataError
from .manifest import write_manifest
from .registry import get_dataset

__all__ = ["write_manifests"]

#: datasets whose upstream files are assumed to hold the mirror's pixels when no
#: upstream copy was available to hash
_MIRROR_CONTENT_IS_UPSTREAM = ("gowt1", "cellular-boxes")


def _roles(ds, pairs: dict, ids: list[str], where: str) -> dict[str, dict[str, Path]]:
    missing = [i for i in ids if i not in pairs]
    if missing:
        raise DataError(f"{ds.name} ({where}): split names sample(s) not found: {missing[:5]}")
    return {i: {"image": pairs[i][0], ds.truth_role: pairs[i][1]} for i in ids}


def write_manifests(name: str, ids: list[str]) -> list[Path]:
    """Write ``benchmark/splits/<name>.sha256.json`` for the sample ``ids`` (those of its
    committed split) from the sources present here."""
    cls = type(get_dataset(name))
    if not hasattr(cls, "truth_role"):
        raise ValueError(f"dataset {name!r} has no committed digests (not a mirrored/upstream dataset)")
    ids = sorted(set(ids))
    sources: dict = {}
    with_bytes: dict = {}
    notes = []
    mirror = cls()
    if mirror.source == "mirror":
        sources["mirror"] = _roles(mirror, mirror._mirror_pairs(), ids, str(mirror.root))
        notes.append(f"mirror: files of ../shared/data/{cls.mirror_name}")
    upstream = cls(cache_dir() / cls.cache_name)
    if upstream.unavailable_reason() is None:
        sources["upstream"] = _roles(upstream, upstream._upstream_pairs(), ids, str(upstream.root))
        notes.append("upstream: files of the upstream archive as unpacked by `bench data fetch`")
    elif "mirror" in sources and name in _MIRROR_CONTENT_IS_UPSTREAM:
        sources["upstream"] = sources["mirror"]
        with_bytes["upstream"] = False
        notes.append(
            "upstream: content digests of the mirror's files (no upstream copy was available; "
            "the upstream files must decode to the same pixels and boxes)"
        )
    if not sources:
        raise DataError(f"{name}: neither the mirror nor the upstream files are here to hash")
    return [write_manifest(name, sources, note="; ".join(notes), with_bytes=with_bytes)]
