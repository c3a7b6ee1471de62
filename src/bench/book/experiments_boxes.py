"""The box-supervision experiment page (``book/_generated/experiments/box_labels.md``).

Everything on it is read from result files, never typed: the label makers' mask IoU
against the truth (``benchmark/experiments/results/box_labels_iou.csv``, written by
``benchmark/experiments/box_labels.py``), the box-trained vs mask-trained deep methods
(``benchmark/experiments/results/box_supervision.csv``, written by
``benchmark/experiments/box_supervision.py`` from runs of ``boxes.yaml`` and
``boxes_cellular.yaml``), the ``cellular-boxes`` rows of the book's own run, and, when that
run also has ``cellular`` (masks and classes, downloaded from Zenodo: the nightly), the
same families trained on the masks and trained on the boxes, side by side on the same
test fields, both scored by box IoU.
"""

from __future__ import annotations

import csv
from pathlib import Path

from ..data import DataError
from ..methods.base import parse_method_id
from ..splits import get_split
from .markup import finite, fmt_num, fmt_seconds, short
from .staging import Context

__all__ = ["box_labels_page", "read_csv_rows", "masks_vs_boxes"]

MAKER_IOU = Path("benchmark/experiments/results/box_labels_iou.csv")
SUPERVISION = Path("benchmark/experiments/results/box_supervision.csv")
MAKER_TEXT = {
    "ellipse": "the ellipse inscribed in each box",
    "box": "the box itself",
    "threshold": "the box's pixels above a threshold learned inside the training boxes",
}


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV file as dicts (empty list when the file does not exist)."""
    if not path.is_file():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _missing(path: Path, how: str) -> list[str]:
    return ["```{note}", f"`{path.as_posix()}` is not in this checkout, so this table is empty; {how}", "```", ""]


def _f1(r) -> str:
    if r.get("status") != "ok":
        return "–"
    val = fmt_num(r.get("f1"))
    if finite(r.get("f1_low")) and finite(r.get("f1_high")):
        val += f" [{float(r['f1_low']):.3f}, {float(r['f1_high']):.3f}]"
    return val


def _status(r) -> str:
    s = str(r.get("status", ""))
    return s if s == "ok" else f"{s}: {short(r.get('reason') or '', 90)}"


def maker_table(rows: list[dict[str, str]]) -> list[str]:
    out = ["| Dataset | Split | Label maker | What it is | Objects | Mean IoU per object | Median | "
           "IoU ≥ 0.5 | Ellipse fallbacks |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| `{r['dataset']}` | {r['split']} | `{r['maker']}` | {MAKER_TEXT.get(r['maker'], '')} | "
                   f"{r['n_objects']} | {fmt_num(r['mean_iou'])} | {fmt_num(r['median_iou'])} | "
                   f"{fmt_num(r['frac_iou_ge_0.5'])} | {r['n_fallback']} |")
    return out + [""]


def _no_classes(r) -> bool:
    return "classes=false" in str(r["method_id"]).lower()


def gap_table(rows: list[dict[str, str]], dataset: str) -> list[str]:
    """Per method family: the mask-trained row, then each box-trained one with its F1 gap."""
    mine = [r for r in rows if r["dataset"] == dataset]
    out = ["| Method | Trained on | Method id | F1@0.5 [95% CI] | Matched-object IoU | Count error per image | "
           "ΔF1 vs true masks | Fit time | Status |", "|---|---|---|---|---|---|---|---|---|"]
    families = list(dict.fromkeys(r["method"] for r in mine))
    for fam in families:
        g = [r for r in mine if r["method"] == fam]
        truths = [r for r in g if r["labels"] == "truth" and r["status"] == "ok"]
        # the like-for-like baseline: trained on true masks with the box masks' target type (no object classes)
        truth = next((r for r in truths if _no_classes(r)), truths[0] if truths else None)
        for r in sorted(g, key=lambda r: (r["labels"] != "truth", not _no_classes(r), r["labels"])):
            gap = "–"
            if truth is not None and r["labels"] != "truth" and r["status"] == "ok":
                gap = f"{float(r['f1']) - float(truth['f1']):+.3f}"
            what = "true masks" if r["labels"] == "truth" else f"`{r['labels']}` masks"
            if r["labels"] == "truth" and r["method"] == "unet":
                what += ", no classes (baseline)" if _no_classes(r) else ", one interior class per object class"
            elif r is truth:
                what += " (baseline)"
            out.append(f"| {fam} | {what} | `{r['method_id']}` | {_f1(r)} | "
                       f"{fmt_num(r['mean_iou']) if r['status'] == 'ok' else '–'} | "
                       f"{fmt_num(r['count_mae'], 1) if r['status'] == 'ok' else '–'} | {gap} | "
                       f"{fmt_seconds(r['fit_s'])} | {_status(r)} |")
    return out + [""]


def detection_table(rows) -> list[str]:
    """The rows' box scores. A skipped method that is not box-trained (one that needs masks and
    declines a boxes-only dataset, or cannot run here) is named below the table, not given a row."""
    shown = [r for r in rows if r.get("status") != "skipped" or str(r.get("labels") or "").startswith("boxes:")]
    hidden = sorted({str(r["method_id"]) for r in rows} - {str(r["method_id"]) for r in shown})
    out = ["| Method id | Trained on | Box F1@0.5 [95% CI] | Precision | Recall | Count error per image | Fit time | "
           "Status |", "|---|---|---|---|---|---|---|---|"]
    for r in shown:
        ok = r.get("status") == "ok"
        labels = str(r.get("labels") or "")
        what = "its own use of the boxes" if not labels or labels == "truth" else f"`{labels}` masks"
        out.append(f"| `{r['method_id']}` | {what} | {_f1(r)} | {fmt_num(r.get('precision')) if ok else '–'} | "
                   f"{fmt_num(r.get('recall')) if ok else '–'} | {fmt_num(r.get('count_mae'), 1) if ok else '–'} | "
                   f"{fmt_seconds(r.get('fit_s'))} | {_status(r)} |")
    out += [""]
    if hidden:
        out += ["Skipped on this dataset, each for the reason on its leaderboard (most learn from masks, which "
                "these fields do not have; their box-trained versions are the rows above): "
                + ", ".join(f"`{m}`" for m in hidden) + ".", ""]
    return out


def _runs(rows, dataset: str) -> str:
    ids = sorted({r["run_id"] for r in rows if r["dataset"] == dataset})
    return ", ".join(f"`{i}`" for i in ids) or "none"


def _family(method_id: str) -> tuple[str, str]:
    """``(the method id without its labels parameter, the labels value or "")``.

    >>> _family("unet_mdl[labels=boxes:ellipse]"), _family("unet[depth=5,labels=boxes:box]"), _family("svm")
    (('unet_mdl', 'boxes:ellipse'), ('unet[depth=5]', 'boxes:box'), ('svm', ''))
    """
    name, params = parse_method_id(method_id)
    labels = params.pop("labels", "")
    rest = ",".join(f"{k}={v}" for k, v in params.items())
    return (f"{name}[{rest}]" if rest else name), labels


def _same_test_fields() -> str:
    """A sentence on whether ``cellular`` and ``cellular-boxes`` test on the same fields (from
    the committed split files)."""
    try:
        a, b = set(get_split("cellular").test), set(get_split("cellular-boxes").test)
    except DataError as exc:
        return f"The two split files could not be compared here ({exc})."
    if a == b:
        return f"Both split files test on the same {len(a)} fields."
    return (f"The split files test on different fields: {len(a)} for `cellular`, {len(b)} for "
            f"`cellular-boxes`, {len(a & b)} in common; the columns below are not strictly comparable.")


def masks_vs_boxes(ctx: Context, board) -> list[str]:
    """The section comparing, on the CELLULAR test fields, each family trained on the per-cell
    masks (``cellular``, its ``detection`` rows) with the same family trained on masks made
    from the boxes (``cellular-boxes``); classical methods, which run on both, are compared
    too (tuned on the masks vs on the boxes). Without ``cellular`` rows in the book's run,
    it says where they come from."""
    out = ["### Trained on masks or on boxes, on the same real fields: `cellular`", ""]
    det = None
    if board is not None and len(board):
        det = board[(board["task"] == "detection") & board["dataset"].isin(["cellular", "cellular-boxes"])]
    on_masks = {} if det is None else {
        str(r["method_id"]): r for r in det[det["dataset"] == "cellular"].to_dict("records")}
    if not on_masks:
        run = f"This book's run `{ctx.results.run_id}` has" if ctx.results is not None else "There is no run, so it has"
        out += [f"{run} no `cellular` rows. `cellular` is the same CELLULAR fields with the per-cell masks "
                "and the basal / activated / unknown classes, downloaded from Zenodo by `bench data fetch cellular` "
                "(checksummed); the nightly run (`benchmark/configs/nightly.yaml`) fetches it, runs the mask-trained "
                "methods on it beside the box-trained cells on `cellular-boxes`, and its book shows here, per "
                "method, the box F1 of the model trained on masks against the model trained on boxes.", ""]
        return out
    on_boxes = det[det["dataset"] == "cellular-boxes"].to_dict("records")
    out += [f"Both columns come from this book's run `{ctx.results.run_id}`: the test fields of well ST_C03, "
            "every prediction turned into boxes and matched to the annotated boxes at box IoU ≥ 0.5 "
            f"({ctx.board_link('cellular')}, {ctx.board_link('cellular-boxes')}). {_same_test_fields()} "
            "Δ is trained on boxes minus trained on masks.", "",
            "| Method | Trained on masks: box F1@0.5 [95% CI] | Trained on boxes | Box F1@0.5 [95% CI] | Δ |",
            "|---|---|---|---|---|"]
    # (family, labels, row) of every box-scored cell on cellular-boxes, parsed once
    box_families = [(*_family(str(r["method_id"])), r) for r in sorted(on_boxes, key=lambda r: str(r["method_id"]))]
    rows = 0
    for mid, m in sorted(on_masks.items()):
        fam, labels = _family(mid)
        if labels:  # a box-trained id on the mask dataset: not a mask-trained model
            continue
        for b_fam, b_labels, b in box_families:
            if b_fam != fam:
                continue
            how = f"`{b_labels}` masks" if b_labels else "its own fit on `cellular-boxes`"
            both = m.get("status") == "ok" and b.get("status") == "ok" and finite(m.get("f1")) and finite(b.get("f1"))
            delta = f"{float(b['f1']) - float(m['f1']):+.3f}" if both else "–"
            left = _f1(m) if m.get("status") == "ok" else _status(m)
            right = _f1(b) if b.get("status") == "ok" else _status(b)
            out.append(f"| `{fam}` | {left} | {how} (`{b['method_id']}`) | {right} | {delta} |")
            rows += 1
    if not rows:
        out += ["| – | – | – | – | – |"]
        out += ["", "No family of this run has a cell on both datasets.", ""]
        return out
    out += ["", "A method missing from the table ran on one dataset only (see the two leaderboards).", ""]
    return out


def box_labels_page(ctx: Context, board) -> str:
    root = ctx.root
    out: list[str] = ["### The label makers against the truth", ""]
    makers = read_csv_rows(root / MAKER_IOU)
    if makers:
        out += ["Each true object of the split is compared with the mask made from its own box (no matching), "
                f"from `{MAKER_IOU.as_posix()}` (`benchmark/experiments/box_labels.py`).", ""]
        out += maker_table(makers)
    else:
        out += _missing(MAKER_IOU, "`python benchmark/experiments/box_labels.py` writes it.")

    sup = read_csv_rows(root / SUPERVISION)
    out += ["### What box supervision costs when the truth is known: `synth-cells`", ""]
    if any(r["dataset"] == "synth-cells" for r in sup):
        out += [f"Run(s) {_runs(sup, 'synth-cells')} of `benchmark/configs/boxes.yaml` and `boxes_baseline.yaml`, "
                "test split, scored "
                "against the true masks; ΔF1 is the box-trained row minus the same method trained on the true "
                f"masks. From `{SUPERVISION.as_posix()}`.", ""]
        out += gap_table(sup, "synth-cells")
    else:
        out += _missing(SUPERVISION, "run `benchmark/configs/boxes.yaml`, then "
                        "`python benchmark/experiments/box_supervision.py RUN_ID ...`.")

    out += ["### What it achieves on the real fields: `cellular-boxes`", ""]
    real = [r for r in sup if r["dataset"] == "cellular-boxes"]
    if real:
        out += [f"Run(s) {_runs(sup, 'cellular-boxes')} (of `benchmark/configs/deep.yaml` or "
                "`boxes_cellular.yaml`, whose box-supervised cells these are), test well: "
                "predicted instances are turned into boxes and matched to the annotated boxes at box IoU ≥ 0.5. "
                f"The classical methods, which use the boxes directly, are on the leaderboard of "
                f"{ctx.board_link('cellular-boxes')}.", ""]
        out += detection_table(real)
    else:
        out += _missing(SUPERVISION, "run `benchmark/configs/boxes_cellular.yaml` (or `deep.yaml`).")
    if board is not None:
        g = board[board["dataset"] == "cellular-boxes"]
        if len(g) and ctx.results.run_id in {r["run_id"] for r in real}:
            out += [f"This book's run `{ctx.results.run_id}` is the run above "
                    f"({ctx.board_link('cellular-boxes')}).", ""]
        elif len(g):
            rows = []
            for _, r in g.iterrows():
                d = r.to_dict()
                mid = str(d["method_id"])
                d["labels"] = mid.split("labels=", 1)[1].split(",")[0].rstrip("]") if "labels=" in mid else ""
                rows.append(d)
            out += [f"Every method on `cellular-boxes` in this book's run `{ctx.results.run_id}` "
                    f"({ctx.board_link('cellular-boxes')}):", ""]
            out += detection_table(rows)
        else:
            out += [f"This book's run `{ctx.results.run_id}` has no `cellular-boxes` rows.", ""]
    out += masks_vs_boxes(ctx, board)
    return "\n".join(out)
