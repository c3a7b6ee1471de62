"""Plain-text tables for the terminal (what the ``bench`` commands print)."""

from __future__ import annotations

__all__ = ["format_table"]


def format_table(rows: list[dict], columns: list[str]) -> str:
    """A plain-text table (markdown pipe syntax) of ``rows``.

    >>> print(format_table([{"a": 1, "b": "xy"}], ["a", "b"]))
    | a | b  |
    |---|----|
    | 1 | xy |
    """
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) if rows else len(c) for c in columns}
    line = "| " + " | ".join(c.ljust(widths[c]) for c in columns) + " |"
    sep = "|" + "|".join("-" * (widths[c] + 2) for c in columns) + "|"
    body = ["| " + " | ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns) + " |" for r in rows]
    return "\n".join([line, sep, *body])
