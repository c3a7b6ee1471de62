"""Markdown and HTML pieces of the generated pages: number formats, status badges,
colour swatches and the sortable HTML table (``bench-table``) the leaderboards use."""

from __future__ import annotations

import html
import math
import posixpath
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

__all__ = ["WIDE", "Col", "finite", "fmt_mem", "fmt_num", "fmt_seconds", "html_table", "num_cell", "raw", "rel_url",
           "score_name", "short", "slug", "status_badge", "swatch"]


#: Front matter of the wide pages: no right-hand sidebar, so the tables get the room.
WIDE = ["---", "html_theme.sidebar_secondary.remove: true", "---", ""]


def slug(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")
    return s or "dataset"


def finite(v) -> bool:
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def score_name(task: str) -> str:
    return {"semantic": "mIoU", "instance": "F1@0.5", "detection": "box F1@0.5"}.get(str(task), "score")


def fmt_num(v, digits: int = 3) -> str:
    return f"{float(v):.{digits}f}" if finite(v) else "–"


def fmt_seconds(v) -> str:
    if not finite(v):
        return "–"
    s = float(v)
    if s < 1e-3:
        return "< 1 ms"
    if s < 1:
        return f"{1000 * s:.0f} ms"
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(round(s % 60))} s"
    return f"{s / 3600:.1f} h"


def fmt_mem(v) -> str:
    return f"{float(v):,.0f} MiB" if finite(v) else "–"


def short(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def status_badge(status: str) -> str:
    kind = str(status).split()[0] if status else "unknown"
    cls = {"ok": "ok", "skipped": "skipped"}.get(kind, "failed")
    return f'<span class="bench-status {cls}">{html.escape(str(status))}</span>'


def swatch(col) -> str:
    r, g, b = (int(255 * c + 0.5) for c in col)
    return f'<span class="bench-swatch" style="background: rgb({r}, {g}, {b})"></span>'


@dataclass(frozen=True)
class Col:
    """A column of an HTML table: header, tooltip, value -> (html, sort key)."""

    header: str
    cell: Callable[[Mapping[str, Any]], tuple[str, str]]
    title: str = ""
    text: bool = False
    sort: bool = True
    wrap: bool = False


def num_cell(key: str, fmt: Callable[[Any], str] = fmt_num) -> Callable[[Mapping[str, Any]], tuple[str, str]]:
    def cell(r):
        v = r.get(key)
        return (fmt(v), f"{float(v):.6g}") if finite(v) else ("–", "")
    return cell


def html_table(cols: Sequence[Col], rows: Sequence[Mapping[str, Any]], *, table_id: str,
                row_class: Callable[[Mapping[str, Any]], str] | None = None, sortable: bool = True) -> str:
    head = []
    for c in cols:
        cls = " ".join(x for x in ("text" if c.text else "", "" if c.sort else "no-sort") if x)
        attrs = (f' class="{cls}"' if cls else "") + (f' title="{html.escape(c.title)}"' if c.title else "")
        head.append(f"<th{attrs}>{c.header}</th>")
    body = []
    for r in rows:
        tds = []
        for c in cols:
            text, key = c.cell(r)
            names = " ".join(n for n, on in (("text", c.text), ("wrap", c.wrap)) if on)
            cls = f' class="{names}"' if names else ""
            tds.append(f'<td{cls} data-sort="{html.escape(key)}">{text}</td>')
        rc = row_class(r) if row_class else ""
        body.append(f'<tr{f" class={chr(34)}{rc}{chr(34)}" if rc else ""}>' + "".join(tds) + "</tr>")
    classes = "bench-table sortable" if sortable else "bench-table"
    return (f'<div class="bench-table-wrap bench-wide"><table class="{classes}" id="{table_id}">'
            f"<thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")


def raw(htm: str) -> list[str]:
    return ["```{raw} html", htm, "```", ""]


def rel_url(from_doc_dir: str, target: str) -> str:
    """Relative URL from the HTML page of a document in `from_doc_dir` to `target` (both staging-relative)."""
    return posixpath.relpath(target, from_doc_dir)
