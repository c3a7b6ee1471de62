"""The HTML tables of the leaderboard pages: the run's banner, the methods at a glance,
each dataset's leaderboard, per-class scores, the AP sweep and the provenance of every row."""

from __future__ import annotations

import html
import math
from typing import Any, Mapping

import numpy as np

from .markup import (Col, finite, fmt_mem, fmt_num, fmt_seconds, html_table, num_cell, raw, short, slug,
                     status_badge)
from .staging import Context

#: Marker after the method id of a row whose learning curve fires bench.curves.UNDERTRAINED_RULE.
UNDERTRAINED_MARK = "‡"

__all__ = ["run_banner", "glance_table", "main_table", "status_cell", "pivot_classes", "per_class_table",
           "sweep_table", "provenance_table"]


def run_banner(ctx: Context) -> list[str]:
    m = ctx.results.manifest
    cfg = m.get("config") or {}
    git = m.get("git") or {}
    hw = m.get("hardware") or {}
    cells = ctx.results.cells
    counts = cells["status"].value_counts().to_dict() if len(cells) else {}
    sha = str(git.get("sha") or "unknown")
    hw_text = ", ".join(f"{k} {v}" for k, v in hw.items() if v not in (None, "", [])) or "not recorded"
    pk = m.get("packages") or {}
    pk_rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>" for k, v in sorted(pk.items()))
    parts = [
        f"<b>Run</b> <code>{html.escape(ctx.results.run_id)}</code>",
        f"configuration <code>{html.escape(str(cfg.get('name', m.get('config_path', '?'))))}</code>"
        f" (<code>{html.escape(str(m.get('config_path', '')))}</code>, hash <code>{html.escape(str(m.get('config_hash', ''))[:12])}</code>)",
        f"profile <code>{html.escape(str(cfg.get('profile', '?')))}</code>, seeds {html.escape(str(cfg.get('seeds', '?')))},"
        f" split <code>{html.escape(str(cfg.get('split', 'test')))}</code>",
        f"git <code>{html.escape(sha[:12])}</code>{' (with uncommitted changes)' if git.get('dirty') else ''},"
        f" code version <code>{html.escape(str(m.get('code_version', ''))[:12])}</code>",
        f"hardware: {html.escape(hw_text)}",
        f"created {html.escape(str(m.get('created', '?')))}, updated {html.escape(str(m.get('updated', '?')))}",
        "cells: " + ", ".join(f"{v} {html.escape(str(k))}" for k, v in sorted(counts.items())),
    ]
    wall = [float(v) for v in cells["wall_s"] if finite(v)] if "wall_s" in cells.columns else []
    if wall:
        parts.append(f"wall time of the cells: {fmt_seconds(sum(wall))} in all, the longest "
                     f"{fmt_seconds(max(wall))} (summed over {len(wall)} timed cells; cells run in parallel overlap in time)")
    details = (f"<details><summary>Package versions ({len(pk)})</summary><table class=\"bench-table\">"
               f"<tbody>{pk_rows}</tbody></table></details>") if pk else ""
    return raw('<div class="bench-run">' + "<br/>".join(parts) + details + "</div>")


def _rank_intervals(ranks: Mapping[str, Any] | None, method_id: str) -> str:
    """``dataset r [lo–hi]`` for every dataset where the method was ranked."""
    parts = []
    for d, ru in sorted((ranks or {}).items()):
        if ru is None or method_id not in ru.methods:
            continue
        iv = ru.intervals().set_index("method_id").loc[method_id]
        lo, hi = int(iv["rank_low"]), int(iv["rank_high"])
        parts.append(f"{d} {int(iv['rank'])} [{lo}–{hi}]" if lo != hi else f"{d} {lo}")
    return "; ".join(parts)


def glance_table(board, uncertainty: Mapping[str, Any] | None = None) -> str:
    """One row per method; with `uncertainty` (dataset -> :class:`bench.ranking.RankUncertainty`)
    also each method's 95% bootstrap rank interval on every dataset."""
    rows = []
    for mid, g in board.groupby("method_id", sort=True):
        ok = g[g["status"] == "ok"]
        ranks = [float(r) for r in ok["rank"] if r is not None and not (isinstance(r, float) and math.isnan(r)) and str(r) != "<NA>"]
        wins = sum(1 for r in ranks if r == 1)
        rows.append({
            "method_id": mid,
            "ok": len(ok),
            "skipped": int((g["status"] == "skipped").sum()),
            "failed": int((~g["status"].isin(["ok", "skipped"])).sum()),
            "median_rank": float(np.median(ranks)) if ranks else float("nan"),
            "wins": wins,
            "datasets": ", ".join(sorted(ok["dataset"])),
            "intervals": _rank_intervals(uncertainty, mid),
            "fit_s": float(np.nanmedian(ok["fit_s"].astype(float))) if len(ok) and ok["fit_s"].notna().any() else float("nan"),
            "predict_s": float(np.nanmedian(ok["predict_s_per_image"].astype(float))) if len(ok) and ok["predict_s_per_image"].notna().any() else float("nan"),
        })
    cols = [
        Col("Method", lambda r: (f"<code>{html.escape(r['method_id'])}</code>", r["method_id"]), text=True),
        Col("Datasets ok", num_cell("ok", lambda v: str(int(v))), "datasets with scores"),
        Col("Skipped", num_cell("skipped", lambda v: str(int(v)))),
        Col("Failed", num_cell("failed", lambda v: str(int(v))), "failed or timed out"),
        Col("Median rank", num_cell("median_rank", lambda v: f"{float(v):g}"), "1 = best on a dataset"),
        Col("Wins", num_cell("wins", lambda v: str(int(v))), "datasets where it ranks first"),
        Col("Rank [95% interval] per dataset", lambda r: (html.escape(r["intervals"]) or "–", r["intervals"]),
            "rank on all test images, and the range of ranks in 95% of bootstrap resamples of them",
            text=True, wrap=True),
        Col("Median fit", num_cell("fit_s", fmt_seconds), "median training time over datasets"),
        Col("Median predict / image", num_cell("predict_s", fmt_seconds)),
        Col("Scored on", lambda r: (html.escape(r["datasets"]) or "–", r["datasets"]), text=True, wrap=True),
    ]
    return html_table(cols, rows, table_id="methods-at-a-glance")


def status_cell(r: Mapping[str, Any]) -> tuple[str, str]:
    """The status badge, with the reason under it when the method has no score."""
    reason = str(r.get("reason") or "")
    text = status_badge(r["status"])
    if reason and r["status"] != "ok":
        text += f'<span class="reason" title="{html.escape(reason)}">{html.escape(short(reason, 240))}</span>'
    return text, str(r["status"])


def main_table(rows: list[dict], task: str, dataset: str) -> str:
    def method_cell(r):
        mid = html.escape(str(r["method_id"]))
        link = f' <a class="bench-nb" href="{html.escape(r["_nb"])}" title="executed notebook">notebook</a>' if r.get("_nb") else ""
        flag = r.get("undertrained")
        mark = (f' <span class="bench-undertrained" title="under-trained at this budget: {html.escape(str(flag))}">'
                f'{UNDERTRAINED_MARK}</span>') if isinstance(flag, str) and flag else ""
        return f"<code>{mid}</code>{mark}{link}", str(r["method_id"])

    def score_cell(key: str, low: str | None = None, high: str | None = None):
        def cell(r):
            v = r.get(key)
            if not finite(v):
                return "–", ""
            text = f"{float(v):.3f}"
            if low and finite(r.get(low)) and finite(r.get(high)):
                text += f'<span class="ci">[{float(r[low]):.3f}, {float(r[high]):.3f}]</span>'
            return text, f"{float(v):.6g}"
        return cell

    def has(key):
        return any(finite(r.get(key)) for r in rows)

    cols = [
        Col("#", lambda r: (str(r["rank"]) if finite(r.get("rank")) else "–",
                             f"{float(r['rank']):g}" if finite(r.get("rank")) else ""), "rank by the primary score"),
        Col("Method", method_cell, text=True),
        Col("Status", status_cell, "ok, or why the method has no score", text=True),
    ]
    if task == "semantic":
        cols.append(Col("mIoU", score_cell("miou"), "mean IoU over the foreground pixel classes"))
    else:
        label = "Box F1@0.5" if task == "detection" else "F1@0.5"
        cols += [
            Col(label, score_cell("f1", "f1_low", "f1_high"), "F1 at IoU 0.5, pooled; 95% bootstrap interval"),
            Col("Precision", score_cell("precision")),
            Col("Recall", score_cell("recall")),
            Col("Mean IoU", score_cell("mean_iou"), "mean IoU of the objects matched at IoU 0.5"),
            Col("AP 0.5:0.95", score_cell("ap_dsb"), "TP/(TP+FP+FN) averaged over IoU 0.50:0.05:0.95 (not COCO AP)"),
        ]
    for key, label, title in (("class_accuracy", "Class acc.", "accuracy of the class of matched objects"),
                              ("count_mae", "Count MAE", "mean absolute error of the object count per image"),
                              ("occupancy_mae", "Occup. MAE", "mean absolute error of the occupancy (fraction loaded) per image")):
        if has(key):
            cols.append(Col(label, score_cell(key), title))
    cols += [
        Col("Fit", num_cell("fit_s", fmt_seconds), "training / tuning wall time (median over seeds)"),
        Col("Predict/img", num_cell("predict_s_per_image", fmt_seconds), "median prediction time per image"),
        Col("Memory", num_cell("peak_mem_mb", fmt_mem), "peak resident memory of the notebook process"),
    ]

    def row_class(r):
        kind = str(r["status"]).split()[0]
        best = " best" if finite(r.get("rank")) and float(r["rank"]) == 1 else ""
        return f"status-{kind}{best}"

    return html_table(cols, rows, table_id=f"leaderboard-{slug(dataset)}", row_class=row_class)


def pivot_classes(s, key: str) -> list[dict]:
    rows = []
    for mid, g in s.groupby("method_id", sort=True):
        r = {"method_id": mid, "_classes": {}}
        for _, x in g.iterrows():
            r["_classes"][str(x["class_name"])] = float(x[key])
        rows.append(r)
    return rows


def per_class_table(rows: list[dict], table_id: str) -> str:
    classes = list(dict.fromkeys(c for r in rows for c in r["_classes"]))
    cols = [Col("Method", lambda r: (f"<code>{html.escape(r['method_id'])}</code>", r["method_id"]), text=True)]
    for c in classes:
        cols.append(Col(html.escape(c), (lambda c_: lambda r: (fmt_num(r["_classes"].get(c_)),
                                                                  f"{r['_classes'][c_]:.6g}" if finite(r["_classes"].get(c_)) else ""))(c)))
    return html_table(cols, rows, table_id=table_id)


def sweep_table(sweep) -> str:
    thresholds = sorted(set(float(t) for t in sweep["threshold"]))
    rows = []
    for mid, g in sweep.groupby("method_id", sort=True):
        vals = {float(t): float(v) for t, v in zip(g["threshold"], g["ap_dsb"])}
        rows.append({"method_id": mid, "_v": vals, "mean": float(np.mean(list(vals.values())))})
    rows.sort(key=lambda r: -r["mean"] if finite(r["mean"]) else 1)
    cols = [Col("Method", lambda r: (f"<code>{html.escape(r['method_id'])}</code>", r["method_id"]), text=True)]
    for t in thresholds:
        cols.append(Col(f"{t:.2f}", (lambda t_: lambda r: (fmt_num(r["_v"].get(t_)),
                                                            f"{r['_v'][t_]:.6g}" if finite(r["_v"].get(t_)) else ""))(t)))
    cols.append(Col("Mean", num_cell("mean"), "mean over the thresholds"))
    return html_table(cols, rows, table_id="ap-sweep")


def provenance_table(ctx: Context, name: str, links: Mapping[str, str]) -> str:
    cells = ctx.results.cells
    sel = cells[cells["dataset"] == name].sort_values(["method_id", "seed"])
    rows = [dict(r) for _, r in sel.iterrows()]

    def nb_cell(r):
        link = links.get(f"cell:{r['cell_id']}")
        return (f'<a href="{html.escape(link)}">executed notebook</a>' if link else "–"), ("1" if link else "")

    def txt(key, n=None):
        def cell(r):
            v = r.get(key)
            s = "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
            return (f"<code>{html.escape(s[:n] if n else s)}</code>" if s else "–"), s
        return cell

    cols = [
        Col("Method", lambda r: (f"<code>{html.escape(str(r['method_id']))}</code>", str(r["method_id"])), text=True),
        Col("Seed", num_cell("seed", lambda v: str(int(v)))),
        Col("Status", lambda r: (status_badge(r["status"]), str(r["status"])), text=True),
        Col("Profile", txt("profile"), text=True),
        Col("Git SHA", txt("git_sha", 10), "commit of the checkout that ran the cell", text=True),
        Col("Code version", txt("code_version", 10), "hash of the package source and notebooks", text=True),
        Col("Data hash", txt("data_hash", 10), "fingerprint of the split's data", text=True),
        Col("Host", txt("host"), text=True),
        Col("Finished", txt("finished"), text=True),
        Col("Wall time", num_cell("wall_s", fmt_seconds), "whole cell, kernel start included"),
        Col("Notebook", nb_cell, text=True, sort=False),
    ]
    return html_table(cols, rows, table_id=f"provenance-{slug(name)}")
