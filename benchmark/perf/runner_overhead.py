"""What one runner cell costs before any method runs: papermill + kernel start + imports.

    python benchmark/perf/runner_overhead.py [--repeat 3]

Runs a two-cell notebook (parameters + ``import bench.runner, bench.viz``) through the
runner's own cell executor and prints the wall time of each repetition; multiply by
the number of cells of a configuration (``bench run CONFIG --dry-run``) and divide by
``--jobs`` to budget a run.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

NOTEBOOK = """---
kernelspec: {display_name: Python 3, language: python, name: python3}
jupytext: {text_representation: {extension: .md, format_name: myst}}
---

```{code-cell} ipython3
:tags: [parameters]
method_id = ""
dataset = ""
split = "test"
profile = "ci"
seed = 0
limit = None
output_dir = "."
```

```{code-cell} ipython3
import bench.runner, bench.viz, bench.scoring
from bench.methods import method_names
len(method_names())
```
"""


def main() -> None:
    from bench.runner.execute import CellSpec, execute_cell
    from bench.runner.notebooks import notebook_json

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-overhead-"))
    src = tmp / "overhead.md"
    src.write_text(NOTEBOOK)
    spec = CellSpec(cell_id="overhead", method_id="", method="", dataset="", split="test", seed=0, profile="ci",
                    limit=None, timeout_s=300, notebook=str(src), notebook_json=notebook_json(src),
                    cache_key="", code_version="", data_hash="")
    times = []
    for i in range(args.repeat):
        t0 = time.perf_counter()
        rec = execute_cell(spec, tmp / f"cell{i}")
        times.append(time.perf_counter() - t0)
        # the notebook saves no result.json, so the record says "failed": only the time matters here
        print(f"run {i}: {times[-1]:.2f} s (papermill exit: {rec['status']})")
    print(f"median overhead per cell: {statistics.median(times):.2f} s")


if __name__ == "__main__":
    main()
