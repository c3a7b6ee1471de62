"""The measured numbers of the experiments chapters (``book/_generated/experiments/``),
beside the numbers the papers report (``book/experiments/papers.yaml``)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import yaml

from ..claims import VERDICT_RULE, claim_verdict, per_image_scores
from ..methods import UnknownMethodError, get_method, method_class
from .experiments_boxes import box_labels_page
from .facts import configs_listing
from .intro import method_kind
from .markup import finite, fmt_num, fmt_seconds, score_name, short
from .staging import Context, no_run_text, ok_points, pixel_row, run_board, run_profile

__all__ = ["render_experiments"]


def load_paper_numbers(root: Path) -> dict:
    path = root / "book" / "experiments" / "papers.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing (the papers' reported numbers for the experiments chapters)")
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: invalid YAML ({exc})") from exc
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: expected a mapping at the top level, got {type(doc).__name__}")
    return doc


def render_experiments(ctx: Context) -> None:
    papers = load_paper_numbers(ctx.root)
    board = run_board(ctx)
    ctx.stage.write_text("book/_generated/experiments/lysoquant.md", lysoquant_page(ctx, board, papers))
    ctx.stage.write_text("book/_generated/experiments/cdl_mdl.md", cdl_mdl_page(ctx, board, papers))
    ctx.stage.write_text("book/_generated/experiments/classical_vs_deep.md", classical_vs_deep_page(ctx, board))
    ctx.stage.write_text("book/_generated/experiments/box_labels.md", box_labels_page(ctx, board))


def measured(board, dataset: str, method_ids: Sequence[str]):
    if board is None:
        return None
    g = board[(board["dataset"] == dataset) & (board["method_id"].isin(method_ids))]
    return g.iloc[0] if len(g) else None


def measured_cells(r) -> tuple[str, str, str]:
    """(F1 with interval, mean IoU, status) of a leaderboard row, as markdown."""
    if r is None:
        return "not run", "–", "not in this run"
    if r["status"] != "ok":
        return "–", "–", f"{r['status']}: {short(r['reason'] or '', 80)}"
    f1 = fmt_num(r["f1"])
    if finite(r.get("f1_low")):
        f1 += f" [{r['f1_low']:.3f}, {r['f1_high']:.3f}]"
    return f1, fmt_num(r["mean_iou"]), "ok"


def datasets_in_run(board, datasets: Sequence[str]) -> list[str]:
    """The `datasets` of an experiment that the run covered (all of them when it covered none,
    so that the table still says what would be measured).

    >>> import pandas as pd
    >>> datasets_in_run(pd.DataFrame({"dataset": ["synth-lyso"]}), ["synth-lyso", "synth-lyso-easy"])
    ['synth-lyso']
    >>> datasets_in_run(None, ["synth-lyso", "synth-lyso-easy"])
    ['synth-lyso', 'synth-lyso-easy']
    """
    datasets = list(datasets)
    if board is None:
        return datasets
    present = set(board["dataset"])
    return [d for d in datasets if d in present] or datasets


def lysoquant_page(ctx: Context, board, papers: dict) -> str:
    spec = papers.get("lysoquant_tools") or {}
    out = []
    if board is None:
        out += no_run_text()
    datasets = datasets_in_run(board, spec.get("datasets", []))
    out += ["### Conventional tools", "",
            f"Paper: {spec.get('where', '')} {{cite:p}}`{spec.get('cite', 'morone2020')}`. Measured: test split of "
            + ", ".join(ctx.board_link(d) for d in datasets)
            + (f", run `{ctx.results.run_id}` ({run_profile(ctx)})." if board is not None else "."), ""]
    out += ["The paper's IoU and F1 are **pixel** scores of the foreground (its F1 is the pixel Dice, "
            "2·IoU/(1+IoU)); the columns *pixel IoU here* and *pixel Dice here* are the same quantities measured "
            "on this benchmark's test images (foreground pixels pooled over the images). The last two columns "
            "per dataset are the benchmark's own **object** scores, a different quantity: F1 of objects matched "
            "at IoU ≥ 0.5, and the mean IoU of the matched objects.", ""]
    head = ["Paper's method", "Paper IoU (pixel)", "Paper F1 (pixel)", "2·IoU/(1+IoU)", "Method here"]
    for d in datasets:
        head += [f"pixel IoU here ({d})", f"pixel Dice here ({d})", f"object F1@0.5 ({d}) [95% CI]",
                 f"matched-object IoU ({d})"]
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in spec.get("rows", []):
        iou, f1 = row.get("iou"), row.get("f1")
        check = f"{2 * iou / (1 + iou):.3f}" if finite(iou) else "–"
        mids = [row["method"]] if row.get("method") else []
        cells = [row["paper"], fmt_num(iou), fmt_num(f1), check, f"`{row['method']}`" if mids else "no counterpart"]
        for d in datasets:
            if not mids:
                cells += ["–", "–", "–", "–"]
                continue
            r = measured(board, d, mids)
            f1m, iou_m, status = measured_cells(r)
            px = pixel_row(ctx, d, r["method_id"]) if r is not None and status == "ok" else None
            cells += [fmt_num(px["pixel_iou"]) if px is not None else "–",
                      fmt_num(px["pixel_dice"]) if px is not None else "–",
                      f1m if status == "ok" else f"{f1m} ({status})", iou_m]
        out.append("| " + " | ".join(cells) + " |")
    out += [""]

    arch = papers.get("lysoquant_architectures") or {}
    out += ["### U-Net architectures", "", f"Paper: {arch.get('claim', '')} {{cite:p}}`{arch.get('cite', 'morone2020')}`.", ""]
    head = ["Architecture", "Method here"]
    arch_datasets = datasets_in_run(board, arch.get("datasets", []))
    for d in arch_datasets:
        head += [f"pixel IoU ({d})", f"object F1@0.5 ({d}) [95% CI]", f"matched-object IoU ({d})",
                 f"fit time ({d})"]
    out += ["The paper's claim is about pixel IoU; *pixel IoU* is that quantity measured here, the object "
            "columns are the benchmark's own.", ""]
    out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in arch.get("rows", []):
        cells = [row["label"], f"`{row['method']}`"]
        for d in arch_datasets:
            r = measured(board, d, [row["method"]])
            f1m, iou_m, status = measured_cells(r)
            px = pixel_row(ctx, d, row["method"]) if status == "ok" else None
            cells += [fmt_num(px["pixel_iou"]) if px is not None else "–",
                      f1m if status == "ok" else f"{f1m} ({status})", iou_m,
                      fmt_seconds(r["fit_s"]) if r is not None and status == "ok" else "–"]
        out.append("| " + " | ".join(cells) + " |")
    out += [""]
    pair = [r["method"] for r in arch.get("rows", [])][:2]
    if board is not None and len(pair) == 2:
        for d in arch_datasets:
            out += claim_rows(ctx, d, [(f"`{pair[0]}` > `{pair[1]}`", pair[0], pair[1])])
    return "\n".join(out)


def claim_rows(ctx: Context, dataset: str, claims: Sequence[tuple[str, str, str]]) -> list[str]:
    """A table of verdicts on "better scores higher than worse" (:func:`bench.claims.claim_verdict`)
    on `dataset`: one row per ``(label, better, worse)``, with each method's per-seed scores."""
    if ctx.results is None:
        return []
    rows = ctx.results.table("instance")
    rows = rows[rows["dataset"] == dataset] if len(rows) else rows
    scores = per_image_scores(rows)
    out = [f"Verdict on `{dataset}` (rule below the table):", "",
           "| Claim | Seeds | Per-seed mean F1 (better) | Per-seed mean F1 (worse) | Difference [95% CI] | Verdict |",
           "|---|---|---|---|---|---|"]
    for label, better, worse in claims:
        try:
            v = claim_verdict(scores, better=better, worse=worse)
        except ValueError:
            out.append(f"| {label} | – | – | – | – | not measured in this run (no per-image F1 of both methods) |")
            continue
        spread = {m: ", ".join(f"{x:.3f}" for x in v.seed_means[m]) for m in (better, worse)}
        out.append(f"| {label} | {v.n_seeds[0]} / {v.n_seeds[1]} | {spread[better]} | {spread[worse]} | "
                   f"{v.diff:+.3f} [{v.low:+.3f}, {v.high:+.3f}] | **{v.verdict}** |")
    out += ["", f"Rule (`bench.claims`): {VERDICT_RULE}. The per-seed columns show the spread across seeds "
            "(each seed's F1 at IoU 0.5 averaged over the test images).", ""]
    return out


def params_of(ctx: Context, dataset: str, method_id: str) -> dict:
    c = ctx.results.cells
    sel = c[(c["dataset"] == dataset) & (c["method_id"] == method_id)]
    p = sel["params"].iloc[0] if len(sel) else None
    return p if isinstance(p, dict) else {}


def cdl_mdl_page(ctx: Context, board, papers: dict) -> str:
    """CIP / CDL / MDL triples: every network trained on weak labels (``labels="weak:X"``),
    the conventional method ``X`` that made them, and the same network with the same
    settings trained on the ground truth."""
    spec = papers.get("cdl_mdl") or {}
    if board is None:
        return "\n".join(no_run_text())
    param = spec.get("label_param", "labels")
    network = spec.get("network", "unet")
    out: list[str] = []
    for d in spec.get("datasets", []):
        g = board[(board["dataset"] == d) & (board["method"] == network)]
        params = {mid: dict(params_of(ctx, d, mid)) for mid in g["method_id"]}
        for _, cdl in g.iterrows():
            labels = str(params[cdl["method_id"]].get(param, "truth"))
            if not labels.startswith("weak:"):
                continue
            rest = {k: v for k, v in params[cdl["method_id"]].items() if k != param}
            mdl = next((r for _, r in g.iterrows() if str(params[r["method_id"]].get(param, "truth")) == "truth"
                        and {k: v for k, v in params[r["method_id"]].items() if k != param} == rest), None)
            rows = [("CIP", "the conventional pipeline that made the weak labels", measured(board, d, [labels[5:]])),
                    ("CDL", f"{network} trained on the labels `{labels[5:]}` made on the training images", cdl),
                    ("MDL", f"the same {network}, trained on the ground truth", mdl)]
            task = next((t for t in g["task"] if t), "")
            score = "miou" if task == "semantic" else "f1"
            out += [f"### {ctx.board_link(d)}: `{cdl['method_id']}`", "",
                    "| Approach | What it is | Method | Global IoU | Mean IoU | Weighted IoU | Mean BF score | "
                    f"{score_name(task)} (benchmark) | Fit time | Status |",
                    "|---|---|---|---|---|---|---|---|---|---|"]
            for kind, what, r in rows:
                if r is None:
                    out.append(f"| {kind} | {what} | – | – | – | – | – | not run | – | not in this run |")
                    continue
                val = fmt_num(r[score])
                if score == "f1" and finite(r.get("f1_low")):
                    val += f" [{r['f1_low']:.3f}, {r['f1_high']:.3f}]"
                status = r["status"] if r["status"] == "ok" else f"{r['status']}: {short(r['reason'] or '', 80)}"
                px = pixel_row(ctx, d, r["method_id"]) if r["status"] == "ok" else None
                pix = [fmt_num(px[k]) if px is not None else "–"
                       for k in ("global_iou", "mean_iou", "weighted_iou", "mean_bfscore")]
                out.append(f"| {kind} | {what} | `{r['method_id']}` | " + " | ".join(pix)
                           + f" | {val} | {fmt_seconds(r['fit_s'])} | {status} |")
            out += [""]
            if task != "semantic":
                ids = {k: r["method_id"] for k, _, r in rows if r is not None}
                claims = [(f"{a} > {b}", ids[a], ids[b]) for a, b in (("MDL", "CDL"), ("CDL", "CIP"), ("MDL", "CIP"))
                          if a in ids and b in ids]
                out += claim_rows(ctx, d, claims)
    if not out:
        out += ["```{note}", f"Run `{ctx.results.run_id}` has no {network} trained on weak labels "
                f"(`{param}=\"weak:<method>\"`) on " + ", ".join(f"`{d}`" for d in spec.get("datasets", []))
                + ", so this comparison was not measured here ("
                + configs_listing(ctx.configs, lambda c: _trains_on_weak_labels(c, spec.get("datasets", []), param))
                + ").", "```", ""]
    if any(line.startswith("### ") for line in out):
        out = ["The paper's quantities, measured here: pixel IoU over every class (background included) "
               "aggregated three ways, *global* (all pixels pooled), *mean* (average over classes) and "
               "*weighted* (classes weighted by their true pixels), and the *mean BF score* (boundary F1 within "
               "MATLAB `bfscore`'s default tolerance of 0.75% of the image diagonal, averaged over classes and "
               "then images), as MATLAB's `evaluateSemanticSegmentation` reports them; on instance datasets the "
               "classes are foreground and background. The column marked *benchmark* is this benchmark's own "
               "leaderboard score.", ""] + out
    out += [f"Paper: {spec.get('claim', '')} {{cite:p}}`{spec.get('cite', 'garciasantacruz2022')}`.", ""]
    return "\n".join(out)


def cellular_protocol(ctx: Context, board, dataset: str = "cellular") -> list[str]:
    """The CELLULAR paper's own scores (per-image pixel F1 and Jaccard of the cell masks,
    averaged over images: :func:`bench.metrics.cellular_scores`) of every method run on `dataset`."""
    out = ["", f"### The CELLULAR protocol's scores on `{dataset}`", ""]
    g = board[(board["dataset"] == dataset) & (board["status"] == "ok")] if board is not None else None
    if g is None or not len(g):
        run_id = ctx.results.run_id if ctx.results is not None else "?"
        return out + [f"`{dataset}` has no scored method in run `{run_id}` (the full data set is "
                      "fetched by the nightly run), so the CELLULAR protocol's F1 and Jaccard were not measured "
                      "here.", ""]
    out += ["F1 and Jaccard as read from the CELLULAR protocol: per test image, the pixel Dice and IoU of all "
            "cells against background, averaged over images (the paper's exact definition was not available "
            "where this was written; see {doc}`/book/metrics`). Object F1@0.5 is the benchmark's own score.", "",
            "| Method | F1 (CELLULAR) | Jaccard (CELLULAR) | object F1@0.5 (benchmark) |", "|---|---|---|---|"]
    for _, r in g.iterrows():
        px = pixel_row(ctx, dataset, r["method_id"])
        out.append(f"| `{r['method_id']}` | {fmt_num(px['cellular_f1']) if px is not None else '–'} | "
                   f"{fmt_num(px['cellular_jaccard']) if px is not None else '–'} | {fmt_num(r['f1'])} |")
    return out + [""]


def _trains_on_weak_labels(cfg, datasets: Sequence[str], param: str) -> bool:
    """Whether a configuration has a method trained on weak labels (``param="weak:..."``) on one of `datasets`."""
    for m in cfg.methods:
        if str(get_method(m.id).param_dict().get(param, "")).startswith("weak:"):
            if any(d in cfg.datasets and not cfg.excluded(m.id, d) for d in datasets):
                return True
    return False


def classical_vs_deep_page(ctx: Context, board) -> str:
    """The best classical against the best deep method on each dataset of the run."""
    if board is None:
        return "\n".join(no_run_text())

    gone: dict[str, str] = {}  # methods of the run that are no longer registered: named under the table

    def family(method: str) -> str:
        try:
            return method_kind(method_class(method))
        except UnknownMethodError as exc:
            gone[method] = str(exc)
            return "unknown"

    out = ["| Dataset | Best classical | Score [95% CI] | Fit / predict | Best deep | Score [95% CI] | "
           "Fit / predict | Clear difference? |", "|---|---|---|---|---|---|---|---|"]
    for d, g in board.groupby("dataset", sort=True):
        ok = ok_points(g)
        if not len(ok):
            continue
        fam = ok["method"].map(family)
        best = {}
        for f in ("classical", "deep"):
            sub = ok[fam == f]
            best[f] = sub.iloc[0] if len(sub) else None
        cells = [ctx.board_link(d)]
        for f in ("classical", "deep"):
            r = best[f]
            if r is None:
                cells += ["none ran", "–", "–"]
                continue
            val = f"{score_name(r['task'])} {r['score']:.3f}"
            if r["task"] != "semantic" and finite(r.get("f1_low")):
                val += f" [{r['f1_low']:.3f}, {r['f1_high']:.3f}]"
            cells += [f"`{r['method_id']}`", val, f"{fmt_seconds(r['fit_s'])} / {fmt_seconds(r['predict_s_per_image'])}"]
        c, dp = best["classical"], best["deep"]
        if c is None or dp is None:
            verdict = "–"
        elif all(finite(x.get(k)) for x in (c, dp) for k in ("f1_low", "f1_high")) and c["task"] != "semantic":
            if c["f1_low"] > dp["f1_high"]:
                verdict = "classical"
            elif dp["f1_low"] > c["f1_high"]:
                verdict = "deep"
            else:
                verdict = "no (intervals overlap)"
        else:
            verdict = "no interval"
        cells.append(verdict)
        out.append("| " + " | ".join(cells) + " |")
    if len(out) == 2:
        out.append("| (no dataset with scores in this run) | | | | | | | |")
    out += cellular_protocol(ctx, board)
    if gone:
        out += ["", "```{note}", "Left out of this comparison, because they are no longer registered methods (so "
                "neither classical nor deep is known): " + ", ".join(f"`{m}`" for m in sorted(gone)) + ".", "```"]
    return "\n".join(out) + "\n"
