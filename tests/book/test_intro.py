"""bench.book.intro: the table of registered methods on the front matter."""

from __future__ import annotations

from bench.book.intro import render_methods_table
from bench.book.staging import Context, Stage
from bench.methods import method_class, method_names


def test_methods_table_says_why_a_method_does_not_run_here_in_the_runners_words(tmp_path, monkeypatch):
    sam = method_class("sam")
    monkeypatch.setattr(sam, "dependency_reason", classmethod(lambda cls, probe=False: "missing dependency: x|y"))
    ctx = Context(stage=Stage(tmp_path), root=tmp_path, results=None, datasets=[])
    render_methods_table(ctx)
    table = (tmp_path / "book/_generated/methods_table.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert len(rows) == len(method_names())
    sam_rows = [r for r in rows if r.startswith("| `sam`")]
    assert sam_rows and "| no: missing dependency: x/y |" in sam_rows[0]  # a "|" would break the table
    for r in rows:
        cls = method_class(r.split("`")[1])
        if cls.dependency_reason() is None:
            assert "| yes |" in r, r
