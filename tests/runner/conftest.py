"""Fixtures of the runner tests: test-only methods, a tiny folder dataset, a test notebook."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
PLUGIN = HERE / "runner_testmethods.py"


def _load_plugin():
    if "runner_testmethods" in sys.modules:
        return sys.modules["runner_testmethods"]
    spec = importlib.util.spec_from_file_location("runner_testmethods", PLUGIN)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["runner_testmethods"] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def testmethods():
    """Registers the test-only methods for one test, then removes them."""
    mod = _load_plugin()
    mod.register()
    yield mod
    mod.unregister()


def make_folder_dataset(root: Path, n: int = 8, size: int = 48, seed: int = 0) -> Path:
    """``root/images/*.png`` (grey discs on noise) and ``root/masks/*.png`` (instance ids)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    yy, xx = np.mgrid[:size, :size]
    for i in range(n):
        labels = np.zeros((size, size), np.uint16)
        for k in range(1, 4):
            cy, cx = rng.integers(8, size - 8, 2)
            r = rng.integers(3, 6)
            disc = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
            labels[disc & (labels == 0)] = k
        img = (20 + 180 * (labels > 0) + rng.normal(0, 5, labels.shape)).clip(0, 255).astype(np.uint8)
        Image.fromarray(img).save(root / "images" / f"img{i:02d}.png")
        Image.fromarray(labels.astype(np.uint8) * 60).save(root / "masks" / f"img{i:02d}.png")
    return root


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> str:
    """Name (``folder:<path>``) of a tiny 8-image folder dataset."""
    root = make_folder_dataset(tmp_path_factory.mktemp("tiny") / "data")
    return f"folder:{root}"


NOTEBOOK = '''---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
bench:
  kind: method
  methods: ["test_*"]
---

# Test notebook

```{code-cell} ipython3
:tags: [parameters]

method_id = "test_threshold"
dataset = ""
split = "test"
profile = "ci"
seed = 0
limit = None
output_dir = "."
```

```{code-cell} ipython3
import importlib.util, sys
_spec = importlib.util.spec_from_file_location("runner_testmethods", PLUGIN_PATH)
_mod = importlib.util.module_from_spec(_spec)
sys.modules["runner_testmethods"] = _mod
_spec.loader.exec_module(_mod)
_mod.register()
```

```{code-cell} ipython3
from bench.runner import Experiment

exp = Experiment(method_id=method_id, dataset=dataset, split=split, profile=profile,
                 seed=seed, limit=limit, output_dir=output_dir)
exp.fit()
exp.predict()
exp.score()
exp.save()
```
'''


@pytest.fixture(scope="session")
def test_notebook(tmp_path_factory) -> Path:
    """A method notebook that loads the test methods in its kernel."""
    p = tmp_path_factory.mktemp("nb") / "testmethods.md"
    p.write_text(NOTEBOOK.replace("PLUGIN_PATH", repr(str(PLUGIN))))
    return p


@pytest.fixture
def make_config(test_notebook, tiny_dataset):
    """Build a RunConfig of test methods on the tiny dataset."""
    from bench.runner import parse_config

    def make(methods, *, seeds=(0,), timeout_s=120, name="t", datasets=None, **extra):
        doc = {
            "name": name,
            "profile": "ci",
            "seeds": list(seeds),
            "timeout_s": timeout_s,
            "methods": [m if isinstance(m, dict) else {"id": m} for m in methods],
            "datasets": datasets or [tiny_dataset],
            **extra,
        }
        for m in doc["methods"]:
            m.setdefault("notebook", str(test_notebook))
        return parse_config(doc, where="test-config")

    return make


@pytest.fixture(autouse=True)
def _stable_code_version(monkeypatch):
    """Other people edit the source tree while tests run; pin the code version so the
    cache tests test the cache, not the stillness of the working tree."""
    monkeypatch.setattr("bench.runner.run.code_version", lambda families=None: "test-code-version")
