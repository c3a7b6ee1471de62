"""bench.book.notebooks: notebooks staged where their Colab copies live."""

from __future__ import annotations


def test_notebooks_are_staged_where_their_colab_copies_live(no_run_stage):
    import nbformat

    from bench.runner.notebooks import list_notebooks

    for src in list_notebooks():
        staged = no_run_stage / "notebooks" / "colab" / f"{src.stem}.ipynb"
        nb = nbformat.read(staged, as_version=4)
        notes = [c for c in nb.cells if "bench-book-note" in c.metadata.get("tags", [])]
        assert len(notes) == 1 and "without outputs" in notes[0].source
