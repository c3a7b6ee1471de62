"""The notebooks: thin, parameterised, Colab-ready, and they run (papermill smoke tests)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from bench.runner.notebooks import (
    COLAB_GPU,
    COLAB_REF,
    check_parameters_cell,
    colab_path,
    colab_setup_cell,
    colab_url,
    list_notebooks,
    notebook_json,
    notebook_meta,
    sync_colab,
    to_notebook,
)

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = list_notebooks(root=REPO / "notebooks")
METHOD_NOTEBOOKS = [p for p in NOTEBOOKS if notebook_meta(p)["kind"] == "method"]
TUTORIALS = [p for p in NOTEBOOKS if notebook_meta(p)["kind"] == "tutorial"]
METHOD_PARAMETERS = {"method_id", "dataset", "split", "profile", "seed", "limit", "output_dir"}
FAMILIES = {"classical", "pixel_classifiers", "spots", "unet", "stardist", "cellpose", "sam"}


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def _parameters(nb) -> dict:
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    ns: dict = {}
    exec(cell.source, ns)  # noqa: S102 - our own committed parameter cell
    return {k: v for k, v in ns.items() if not k.startswith("__")}


def test_every_family_and_tutorial_has_a_notebook():
    assert {p.stem for p in METHOD_NOTEBOOKS} == FAMILIES
    assert {p.stem for p in TUTORIALS} == {"tutorial_datasets", "tutorial_metrics", "tutorial_error_analysis"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_thin_parameterised_and_colab_ready(path):
    nb = to_notebook(path)
    check_parameters_cell(nb, source=str(path))
    params = _parameters(nb)
    if notebook_meta(path)["kind"] == "method":
        assert METHOD_PARAMETERS <= set(params), METHOD_PARAMETERS - set(params)
    else:
        assert {"limit", "output_dir"} <= set(params)
    assert colab_url(path) in path.read_text()
    cells = _code_cells(nb)
    assert not [c for c in cells if "google.colab" in c.source], "the Colab setup cell is generated, not written"
    for cell in cells:
        tree = ast.parse(cell.source)
        kinds = {type(n).__name__ for n in ast.walk(tree)}
        assert not kinds & {"FunctionDef", "AsyncFunctionDef", "ClassDef", "Lambda", "While"}, cell.source
        loops = [n for n in ast.walk(tree) if isinstance(n, ast.For)]
        assert not loops, f"loop in a notebook cell (move it into bench.*):\n{cell.source}"
        assert not re.search(r"\bglob\(|os\.walk|\.fit\(.*for ", cell.source), cell.source


def test_generated_ipynb_keeps_the_parameters_tag_and_kernel():
    for path in NOTEBOOKS:
        nb = json.loads(notebook_json(path))
        assert nb["metadata"]["kernelspec"]["name"] == "python3"
        assert nb["metadata"]["kernelspec"]["language"] == "python"
        tags = [c["metadata"].get("tags", []) for c in nb["cells"]]
        assert sum("parameters" in t for t in tags) == 1
        assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")


def test_colab_copies_are_committed_and_in_sync():
    stale = sync_colab(root=REPO / "notebooks", check=True)
    assert stale == [], f"run `python -m bench.runner.notebooks` to refresh {stale}"
    for path in NOTEBOOKS:
        nb = json.loads(colab_path(path).read_text())
        assert any("parameters" in c["metadata"].get("tags", []) for c in nb["cells"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_colab_copy_has_the_setup_cell_after_parameters_and_gpu_where_deep(path):
    nb = json.loads(colab_path(path).read_text())
    ids = [c.get("id") for c in nb["cells"]]
    params = next(i for i, c in enumerate(nb["cells"]) if "parameters" in c["metadata"].get("tags", []))
    assert ids.index("colab-setup") == params + 1
    setup = nb["cells"][params + 1]
    assert "".join(setup["source"]) == colab_setup_cell()
    assert f'BENCH_REF = "{COLAB_REF}"' in "".join(setup["source"])
    assert f"/blob/{COLAB_REF}/notebooks/colab/{path.stem}.ipynb" in colab_url(path)
    deep = path.stem in {"unet", "stardist", "cellpose", "sam"}
    assert (nb["metadata"].get("accelerator") == "GPU") is deep
    if deep:
        assert nb["metadata"]["colab"]["gpuType"] == COLAB_GPU["colab"]["gpuType"]


def test_setup_cell_is_stamped_and_rejects_odd_refs():
    assert 'BENCH_REF = "v9.9.9"' in colab_setup_cell("v9.9.9")
    kinds = {type(n).__name__ for n in ast.walk(ast.parse(colab_setup_cell()))}
    assert not kinds & {"FunctionDef", "ClassDef", "Lambda", "While", "For"}  # thin: the logic is in bench.colab
    with pytest.raises(ValueError, match="`ref`"):
        colab_setup_cell('v1"; import os')


def test_colab_copy_regenerates_stale_badges(tmp_path):
    src = tmp_path / "x.md"
    text = (REPO / "notebooks" / "classical.md").read_text().replace(f"/blob/{COLAB_REF}/", "/blob/main/")
    src.write_text(text)
    assert sync_colab(root=tmp_path, check=True) == [src, tmp_path / "colab" / "x.ipynb"]
    assert sync_colab(root=tmp_path)
    assert colab_url(src) in src.read_text() and sync_colab(root=tmp_path, check=True) == []


def test_notebook_json_is_deterministic():
    p = METHOD_NOTEBOOKS[0]
    assert notebook_json(p) == notebook_json(p)


# ------------------------------------------------------------------ smoke runs
def _run_method_notebook(path: Path, tmp_path: Path, *, method_id: str | None = None, dataset: str | None = None):
    from bench.data import get_dataset
    from bench.methods import UnknownMethodError
    from bench.runner import make_method
    from bench.runner.execute import CellSpec, execute_cell

    params = _parameters(to_notebook(path))
    method_id = method_id or params["method_id"]
    dataset = dataset or params["dataset"]
    try:
        method = make_method(method_id, profile="ci")
    except UnknownMethodError:
        pytest.skip(f"method {method_id!r} of {path.name} is not registered in this checkout")
    ds = get_dataset(dataset)
    expected_skip = ds.unavailable_reason() or method.skip(ds.info)
    spec = CellSpec(cell_id=path.stem, method_id=method_id, method=method.name, dataset=dataset, split="test",
                    seed=0, profile="ci", limit=1, timeout_s=600, notebook=str(path),
                    notebook_json=notebook_json(path), cache_key="", code_version="", data_hash="")
    rec = execute_cell(spec, tmp_path / "cell")
    if expected_skip:
        assert rec["status"] == "skipped", rec
        assert rec["reason"] == expected_skip
        return rec
    assert rec["status"] == "ok", f"{rec['reason']}\n{(rec.get('error') or {}).get('traceback', '')}"
    assert rec["n_images"] == 1 and rec["fit_s"] is not None
    out = tmp_path / "cell"
    assert (out / "notebook.ipynb").is_file() and any((out / "tables").glob("*.csv"))
    assert any((out / "figures").glob("*.png"))
    return rec


def test_classical_notebook_smoke(tmp_path):
    """The fast papermill smoke run: the classical notebook on one image of a synthetic dataset."""
    _run_method_notebook(REPO / "notebooks" / "classical.md", tmp_path, dataset="synth-lyso-easy")


def test_papermill_executes_the_colab_copy_directly(tmp_path):
    """Papermill on the committed .ipynb, the way a user (or Colab) would run it."""
    papermill = pytest.importorskip("papermill")
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(colab_path(REPO / "notebooks" / "tutorial_metrics.md")), str(out), kernel_name="python3",
        parameters={"dataset": "synth-lyso-easy", "limit": 1, "profile": "ci", "output_dir": str(tmp_path)},
        progress_bar=False, cwd=str(tmp_path),
    )
    nb = json.loads(out.read_text())
    tags = [c["metadata"].get("tags", []) for c in nb["cells"]]
    assert any("injected-parameters" in t for t in tags)
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in METHOD_NOTEBOOKS if p.stem != "classical"], ids=lambda p: p.stem)
def test_method_notebook_smoke(path, tmp_path):
    _run_method_notebook(path, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in TUTORIALS if p.stem != "tutorial_metrics"], ids=lambda p: p.stem)
def test_tutorial_notebook_smoke(path, tmp_path):
    papermill = pytest.importorskip("papermill")
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(str(colab_path(path)), str(out), kernel_name="python3",
                               parameters={"limit": 1, "profile": "ci", "output_dir": str(tmp_path)},
                               progress_bar=False, cwd=str(tmp_path))
    nb = json.loads(out.read_text())
    assert [o for c in nb["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"] == []
    images = [o for c in nb["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert images, "the tutorial shows no figure"
