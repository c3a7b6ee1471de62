"""Registry entries for the synthetic datasets (generators in :mod:`bench.data.synthetic`)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Callable

from .base import Dataset
from .io import DataError
from .sample import DatasetInfo, Sample
from . import synthetic
from .synthetic import GENERATOR_VERSION

__all__ = ["SyntheticDataset", "SYNTHETIC_SPECS"]


@dataclass(frozen=True)
class _Spec:
    prefix: str
    generator: str  # function name in bench.data.synthetic
    shape: tuple[int, int]
    n_train: int
    n_val: int
    n_test: int
    target: str | None
    info_kwargs: dict


_CITE_LYSO = (
    "Modelled on LysoQuant: Morone D. et al., Mol Biol Cell 31(14):1512-1524 (2020), "
    "doi:10.1091/mbc.E20-04-0269"
)
_CITE_CELLS = (
    "Modelled on CELLULAR: Al Outa A. et al., Sci Data 10 (2023), "
    "doi:10.1038/s41597-023-02687-x"
)
_CITE_ROSELLA = (
    "Modelled on the Rosella reporter: Rosado C.J. et al., Autophagy 4(2):205-213 (2008)"
)

SYNTHETIC_SPECS: dict[str, _Spec] = {
    "synth-lyso": _Spec(
        "lyso", "make_lyso", (256, 256), 24, 6, 10, None,
        dict(
            tasks=("instance", "classification"),
            channels=("lamp1", "cargo"),
            target="lysosomes",
            class_names=("empty", "loaded"),
            description=(
                "LysoQuant-like endolysosomes: LAMP1-positive ring membranes (channel "
                "`lamp1`) of varied size, some loaded with cargo in their lumen (channel "
                "`cargo`). Instances are the organelles (membrane + lumen); each is "
                "`empty` or `loaded`. Exact ground truth from the generator."
            ),
            citation=_CITE_LYSO,
        ),
    ),
    "synth-cells": _Spec(
        "cells", "make_cells", (512, 512), 12, 4, 6, "cells",
        dict(
            tasks=("instance", "classification"),
            channels=("gfp", "rfp", "transmitted"),
            target="cells",
            class_names=("basal", "activated", "unknown"),
            description=(
                "CELLULAR-like fields of Drosophila S2 cells expressing the tandem "
                "mRFP-EGFP-Atg8a reporter, with a transmitted-light channel. Instances "
                "are cells, classed `basal`, `activated` (more, larger red-only puncta) or "
                "`unknown` (no reporter signal)."
            ),
            citation=_CITE_CELLS,
        ),
    ),
    "synth-cells-puncta": _Spec(
        "cells", "make_cells", (512, 512), 12, 4, 6, "puncta",
        dict(
            tasks=("instance", "classification"),
            channels=("gfp", "rfp", "transmitted"),
            target="puncta",
            class_names=("autophagosome", "autolysosome"),
            description=(
                "The same fields as `synth-cells`, with the Atg8a puncta as targets: "
                "yellow (GFP+RFP) puncta are `autophagosome`, red-only puncta "
                "(GFP quenched by acidic pH) are `autolysosome`."
            ),
            citation=_CITE_CELLS,
        ),
    ),
    "synth-rosella": _Spec(
        "rosella", "make_rosella", (256, 256), 24, 6, 10, None,
        dict(
            tasks=("semantic",),
            channels=("gfp", "rfp"),
            target="pixels",
            semantic_names=("background", "phagophore", "autolysosome"),
            description=(
                "Rosella-like two-colour reporter (pH-sensitive GFP + pH-stable DsRed): "
                "pixel classes background/cytosol, phagophore/autophagosome (GFP+RFP) and "
                "autolysosome (RFP only)."
            ),
            citation=_CITE_ROSELLA,
        ),
    ),
}

_ID_RE = re.compile(r"^(?P<prefix>[a-z]+)-(?P<seed>\d{5})$")


class SyntheticDataset(Dataset):
    """A dataset generated on the fly from per-sample seeds.

    Sample ids are ``<prefix>-<seed>``; the seed fully determines the image
    and its ground truth (see the generator's docstring for the model).
    Seeds 0..n_train-1 are train, then validation, then test, so the split
    is fixed by construction and never depends on the generator's output.
    """

    def __init__(self, name: str, difficulty: str):
        base = name.removesuffix("-easy")
        self._spec = SYNTHETIC_SPECS[base]
        self._difficulty = difficulty
        kw = dict(self._spec.info_kwargs)
        desc = kw.pop("description")
        level = "Easy level: well separated, bright, little blur and noise. " if difficulty == "easy" else (
            "Realistic level: optical blur, Poisson-Gaussian camera noise, uneven "
            "illumination, touching and out-of-focus objects. "
        )
        self.info = DatasetInfo(
            name=name,
            source="synthetic",
            description=f"{desc} {level}",
            license="CC0 (generated)",
            **kw,
        )

    def _generator(self) -> Callable[..., Sample]:
        return getattr(synthetic, self._spec.generator)

    def sample_ids(self) -> list[str]:
        n = self._spec.n_train + self._spec.n_val + self._spec.n_test
        return [f"{self._spec.prefix}-{s:05d}" for s in range(n)]

    def split_rule(self):
        ids = self.sample_ids()
        a, b = self._spec.n_train, self._spec.n_train + self._spec.n_val
        split = {"train": ids[:a], "val": ids[a:b], "test": ids[b:]}
        rule = (
            f"seeds 0-{a - 1} train, {a}-{b - 1} validation, {b}-{len(ids) - 1} test "
            f"({self._spec.shape[0]}x{self._spec.shape[1]} px each)"
        )
        return split, rule

    def load(self, sample_id: str) -> Sample:
        m = _ID_RE.match(sample_id)
        if m is None or m["prefix"] != self._spec.prefix:
            raise DataError(
                f"dataset {self.name!r}: invalid sample id {sample_id!r}; expected "
                f"'{self._spec.prefix}-NNNNN'"
            )
        kwargs = dict(difficulty=self._difficulty, shape=self._spec.shape)
        if self._spec.target is not None:
            kwargs["target"] = self._spec.target
        return self._generator()(int(m["seed"]), **kwargs)

    def fingerprint(self, ids) -> str:
        h = hashlib.sha256(f"{self.name}|{self._difficulty}|{GENERATOR_VERSION}".encode())
        for i in ids:
            h.update(i.encode() + b"\0")
        return h.hexdigest()[:16]
