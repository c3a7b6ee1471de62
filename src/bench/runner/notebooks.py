"""The notebooks: where they are, which methods they run, and their .ipynb form.

Notebooks are jupytext MyST markdown files, ``notebooks/*.md``, committed
without outputs. Their front matter declares what they are::

    bench:
      kind: method                # or: tutorial
      methods: ["unet*"]          # method names / ids (globs) this notebook runs

Papermill and Colab need ``.ipynb``: :func:`to_notebook` converts with jupytext
(kernel ``python3``) and checks that the ``parameters`` cell tag survives;
:func:`sync_colab` writes ``notebooks/colab/<name>.ipynb`` (committed, without
outputs) for the "Open in Colab" badges. ``python -m bench.runner.notebooks``
re-writes them; a test fails when they are out of date.
"""

from __future__ import annotations

import fnmatch
import logging
from pathlib import Path

__all__ = [
    "notebooks_dir",
    "list_notebooks",
    "notebook_meta",
    "method_notebook",
    "to_notebook",
    "notebook_json",
    "colab_path",
    "sync_colab",
    "check_parameters_cell",
    "COLAB_URL",
]

logger = logging.getLogger(__name__)

#: Template of the "Open in Colab" link of a notebook (``{path}`` relative to the repo).
COLAB_URL = "https://colab.research.google.com/github/autophagy-bench/bench/blob/main/{path}"

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def notebooks_dir() -> Path:
    """``<repo>/notebooks``."""
    from ..paths import repo_root

    return repo_root() / "notebooks"


def list_notebooks(kind: str | None = None, *, root: Path | None = None) -> list[Path]:
    """The notebook sources (``*.md``), optionally only one ``kind`` (method / tutorial)."""
    root = notebooks_dir() if root is None else Path(root)
    out = []
    for p in sorted(root.glob("*.md")):
        meta = notebook_meta(p)
        if meta is None:
            continue
        if kind is None or meta.get("kind") == kind:
            out.append(p)
    return out


def notebook_meta(path: str | Path) -> dict | None:
    """The ``bench`` metadata of a notebook source, or None if it has none."""
    import jupytext

    nb = jupytext.read(Path(path))
    meta = nb.metadata.get("bench")
    if meta is None:
        return None
    if not isinstance(meta, dict) or meta.get("kind") not in ("method", "tutorial"):
        raise ValueError(f"{path}: front matter `bench.kind` must be 'method' or 'tutorial', got {meta!r}")
    return meta


def method_notebook(method_id: str, *, root: Path | None = None) -> Path:
    """The method notebook that runs `method_id`.

    It is the notebook whose ``bench.methods`` globs match the method's registry
    name (or its preset / id name).

    Raises
    ------
    ValueError
        If no notebook, or more than one, claims the method.
    """
    from ..methods import get_method, parse_method_id

    spec_name, _ = parse_method_id(method_id)
    name = get_method(method_id).name
    hits = []
    for p in list_notebooks("method", root=root):
        pats = notebook_meta(p).get("methods", [])
        if any(fnmatch.fnmatchcase(n, pat) for pat in pats for n in (name, spec_name)):
            hits.append(p)
    if len(hits) != 1:
        where = notebooks_dir() if root is None else root
        raise ValueError(
            f"method {method_id!r} (registry name {name!r}) is claimed by "
            f"{'no notebook' if not hits else [h.name for h in hits]} in {where}; add its name to one "
            "notebook's front matter `bench.methods`, or set `notebook:` for it in the run configuration"
        )
    return hits[0]


def check_parameters_cell(nb, *, source: str) -> None:
    """Raise ``ValueError`` unless exactly one code cell is tagged ``parameters``."""
    tagged = [c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    if len(tagged) != 1:
        raise ValueError(f"{source}: needs exactly one code cell tagged `parameters`, found {len(tagged)}")


def to_notebook(path: str | Path):
    """Read a notebook source (``.md`` via jupytext, or ``.ipynb``) as an nbformat v4 notebook.

    The kernelspec is set to ``python3`` and the ``parameters`` tag is checked.
    Outputs are never carried over.
    """
    import jupytext
    import nbformat

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: notebook does not exist")
    nb = jupytext.read(path) if path.suffix != ".ipynb" else nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata.setdefault("language_info", {"name": "python"})
    nb.metadata.pop("jupytext", None)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"  # deterministic (nbformat draws random ids): stable cache keys
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    check_parameters_cell(nb, source=str(path))
    return nb


def notebook_json(path: str | Path) -> str:
    """:func:`to_notebook` serialised (what a worker receives)."""
    import nbformat

    return nbformat.writes(to_notebook(path))


def colab_path(source: str | Path) -> Path:
    """Where the committed Colab copy of a notebook source lives."""
    source = Path(source)
    return source.parent / "colab" / f"{source.stem}.ipynb"


def _canonical(nb) -> str:
    import nbformat

    return nbformat.writes(nb)


def sync_colab(*, root: Path | None = None, check: bool = False) -> list[Path]:
    """Write (or, with `check`, compare) the Colab ``.ipynb`` copy of every notebook.

    Returns
    -------
    list of Path
        The copies written (or, with `check`, the ones that are out of date).
    """
    import nbformat

    changed = []
    for src in list_notebooks(root=root):
        nb = to_notebook(src)
        dst = colab_path(src)
        new = _canonical(nb)
        old = _canonical(nbformat.read(dst, as_version=4)) if dst.is_file() else None
        if new != old:
            changed.append(dst)
            if not check:
                dst.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, dst)
                logger.info("wrote %s", dst)
    return changed


def _main(argv: list[str] | None = None) -> int:  # pragma: no cover - thin CLI
    import argparse

    p = argparse.ArgumentParser(description="Write notebooks/colab/*.ipynb from notebooks/*.md")
    p.add_argument("--check", action="store_true", help="only report copies that are out of date")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    changed = sync_colab(check=args.check)
    if args.check and changed:
        logger.error("out of date: %s (run python -m bench.runner.notebooks)", ", ".join(map(str, changed)))
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(_main())
