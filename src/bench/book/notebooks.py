"""Notebooks in the book: every source notebook staged where its Colab copy lives
(the run's executed copy when there is one), and the executed notebook of every cell
of a leaderboard, for download."""

from __future__ import annotations

import json
import posixpath
from pathlib import Path
from typing import Any, Mapping

import nbformat

from ..runner.notebooks import colab_path, list_notebooks, notebook_meta, to_notebook
from .markup import rel_url, short, slug
from .staging import Context, path_or_none

__all__ = ["stage_notebooks", "stage_cell_notebooks", "executed_copy", "provenance_note", "STATUS_ORDER",
           "tidy_executed", "local_paths"]


#: Preference among the cells of a notebook when choosing the executed copy to show.
STATUS_ORDER = {"ok": 0, "failed": 1, "timeout": 2, "skipped": 3}


def stage_notebooks(ctx: Context) -> None:
    """Stage one notebook per source: the executed copy of the run when there is one,
    else the committed Colab copy (without outputs), at ``notebooks/colab/<name>.ipynb``."""
    nb_dir = ctx.root / "notebooks"
    if not nb_dir.is_dir():
        return
    cells = ctx.results.cells if ctx.results is not None else None
    for src in list_notebooks(root=nb_dir):
        meta = notebook_meta(src) or {}
        rel_src = src.relative_to(ctx.root).as_posix()
        dst_rel = colab_path(Path(rel_src)).as_posix()
        executed, cell = executed_copy(ctx, cells, rel_src, meta)
        if executed is not None:
            nb = nbformat.read(executed, as_version=4)
            tidy_executed(nb, local_paths(ctx))
            note = provenance_note(ctx, cell)
        else:
            committed = ctx.root / dst_rel
            if committed.is_file():
                nb = nbformat.read(committed, as_version=4)
            else:
                nb = to_notebook(src)
            note = ("```{note}\nThis page shows the notebook **without outputs**: "
                    + ("no run has been made yet" if ctx.results is None else
                       f"run `{ctx.results.run_id}` has no executed copy of it")
                    + ". Open it in Colab (button above) or run the benchmark to see its results.\n```")
        insert_note(nb, note)
        local_badges(nb, dst_rel)
        ctx.stage.write_text(dst_rel, nbformat.writes(nb))


def local_paths(ctx: Context) -> dict[str, str]:
    """Absolute paths of the machine that built the book (and ran the run), longest first,
    with what a page shows instead: the repository, the run, the environment, the home folder."""
    import sys

    cands = {str(ctx.root.resolve()): "<repo>", str(Path(sys.prefix).resolve()): "<venv>",
             str(Path(sys.prefix)): "<venv>", str(Path.home()): "~"}
    if ctx.results is not None:
        cands[str(Path(ctx.results.path).resolve())] = f"<run {ctx.results.run_id}>"
        cands[str(Path(ctx.results.path))] = f"<run {ctx.results.run_id}>"
    return dict(sorted(((k, v) for k, v in cands.items() if len(k) > 1), key=lambda kv: -len(kv[0])))


#: Lines of stored stream outputs that only say that ipywidgets is missing (tqdm's
#: notebook bar without it); dropped from pages.
_NOISE = ("TqdmWarning: IProgress not found", "from .autonotebook import tqdm as notebook_tqdm")


def tidy_executed(nb, paths: Mapping[str, str]) -> None:
    """Make an executed notebook fit for a page, in place.

    * papermill's injected parameters are the values that ran: the notebook's own
      default ``parameters`` cell is removed from the page (tag ``remove-cell``),
      the injected cell keeps its input, so the parameters show once;
    * widget outputs (progress bars) and the lines of tqdm's missing-ipywidgets
      warning are dropped;
    * absolute paths of the machine (`paths`, from :func:`local_paths`) in outputs
      are replaced by short placeholders.
    """
    injected = any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    for c in nb.cells:
        tags = list(c.metadata.get("tags", []))
        if injected and c.cell_type == "code" and "parameters" in tags and "remove-cell" not in tags:
            c.metadata["tags"] = [*tags, "remove-cell"]
        if c.cell_type != "code":
            continue
        kept = []
        for o in c.get("outputs", []):
            if o.get("output_type") == "stream":
                lines = [ln for ln in o.get("text", "").splitlines(keepends=True) if not any(n in ln for n in _NOISE)]
                o["text"] = _unpath("".join(lines), paths)
                if not o["text"].strip():
                    continue
            elif o.get("output_type") in ("display_data", "execute_result"):
                data = o.get("data", {})
                if "application/vnd.jupyter.widget-view+json" in data:
                    continue
                for key in ("text/plain", "text/html", "text/markdown"):
                    if key in data:
                        data[key] = _unpath(data[key] if isinstance(data[key], str) else "".join(data[key]), paths)
            elif o.get("output_type") == "error":
                o["traceback"] = [_unpath(t, paths) for t in o.get("traceback", [])]
                o["evalue"] = _unpath(o.get("evalue", ""), paths)
            kept.append(o)
        c["outputs"] = kept


def _unpath(text: str, paths: Mapping[str, str]) -> str:
    for p, short_name in paths.items():
        text = text.replace(p, short_name)
    return text


def executed_copy(ctx: Context, cells, rel_src: str, meta: dict) -> tuple[Path | None, dict | None]:
    """The executed copy of a source notebook in the run, and its record.

    A method notebook: the first cell that ran it, preferring ``ok`` cells, then the
    configuration's order (methods, datasets, seed). A tutorial: the run's
    ``tutorials/<name>.ipynb`` with its ``tutorials/<name>.json`` record.
    """
    if ctx.results is None:
        return None, None
    if meta.get("kind") == "tutorial":
        stem = Path(rel_src).stem
        base = Path(ctx.results.path) / "tutorials"
        record = None
        if (base / f"{stem}.json").is_file():
            record = {"kind": "tutorial", **json.loads((base / f"{stem}.json").read_text())}
        nb = base / f"{stem}.ipynb"
        return (nb if nb.is_file() else None), record
    if cells is None or not len(cells):
        return None, None
    sel = cells[(cells["notebook"] == rel_src) & cells["notebook_path"].map(lambda v: path_or_none(v) is not None)]
    if not len(sel):
        return None, None
    cfg = ctx.results.manifest.get("config") or {}
    m_order = {(m if isinstance(m, str) else m.get("id")): i for i, m in enumerate(cfg.get("methods", []))}
    d_order = {d: i for i, d in enumerate(cfg.get("datasets", []))}
    best = min(
        (dict(r) for _, r in sel.iterrows()),
        key=lambda r: (STATUS_ORDER.get(str(r["status"]), 9), m_order.get(r["method_id"], 999),
                       d_order.get(r["dataset"], 999), r["seed"]),
    )
    return path_or_none(best["notebook_path"]), best


def provenance_note(ctx: Context, cell: Mapping[str, Any] | None) -> str:
    status = str((cell or {}).get("status") or "")
    problem = ""
    if status and status != "ok":
        problem = (f" It did **not** finish: status **{status}**"
                   + (f" ({short(str(cell.get('reason') or ''), 200)})" if cell.get("reason") else "")
                   + "; the outputs stop where it stopped.")
    if cell is None or cell.get("kind") == "tutorial":
        what = ""
        if cell is not None:
            params = cell.get("params") or cell.get("parameters") or {}
            if isinstance(params, dict) and params:
                what = " with parameters " + ", ".join(f"`{k}={v!r}`" for k, v in sorted(params.items())
                                                       if k != "output_dir")
        return (f"```{{note}}\nExecuted top to bottom by the benchmark runner in run `{ctx.results.run_id}`{what}; "
                f"the outputs below are that execution's.{problem}\n```")
    return (
        "```{note}\n"
        f"Executed top to bottom by the benchmark runner: method `{cell['method_id']}` on dataset "
        f"{ctx.card_link(str(cell['dataset']))}, seed {cell['seed']}, profile "
        f"`{cell['profile']}`, run `{ctx.results.run_id}`, commit "
        f"`{str(cell.get('git_sha') or '')[:10]}`.{problem} The other methods and datasets this notebook ran on are "
        f"on the leaderboards ({ctx.board_link(str(cell['dataset']))}).\n```"
    )


#: The "Open in Colab" badge image of the notebooks, served by Google.
REMOTE_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"


def local_badges(nb, rel: str) -> None:
    """Point the notebook's Colab badge images at the book's own copy, so that pages load
    nothing from third parties (the links themselves still go to Colab)."""
    local = posixpath.relpath("book/_static/colab-badge.svg", posixpath.dirname(rel))
    for cell in nb.cells:
        if cell.cell_type == "markdown" and REMOTE_BADGE in cell.source:
            cell.source = cell.source.replace(REMOTE_BADGE, local)


def insert_note(nb, text: str) -> None:
    """Insert a markdown cell after the notebook's title cell (or first)."""
    cell = nbformat.v4.new_markdown_cell(text)
    cell["metadata"]["tags"] = ["bench-book-note"]
    pos = 0
    for i, c in enumerate(nb.cells):
        if c.cell_type == "markdown" and c.source.lstrip().startswith("# "):
            pos = i + 1
            break
    nb.cells.insert(pos, cell)


def stage_cell_notebooks(ctx: Context, name: str, doc_dir: str) -> dict[str, str]:
    """Copy the executed notebook of every ok cell of a dataset into ``_static`` (for
    download) and return method_id -> relative link (first seed)."""
    cells = ctx.results.cells
    links: dict[str, str] = {}
    sel = cells[(cells["dataset"] == name)].sort_values(["method_id", "seed"])
    for _, c in sel.iterrows():
        nb = path_or_none(c.get("notebook_path"))
        if nb is None or not nb.is_file():
            continue
        rel = f"book/_static/runs/{slug(ctx.results.run_id)}/{slug(str(c['cell_id']))}.ipynb"
        ctx.stage.write_bytes(rel, Path(nb).read_bytes())
        links.setdefault(str(c["method_id"]), rel_url(doc_dir, "_static/" + rel.removeprefix("book/_static/")))
        links[f"cell:{c['cell_id']}"] = rel_url(doc_dir, "_static/" + rel.removeprefix("book/_static/"))
    return links
