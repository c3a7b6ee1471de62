"""The "How cost grows" page: predict and fit time, and memory, against the size of
the problem, from the committed ``benchmark/perf/results/scaling.csv`` (written by
``benchmark/perf/scaling.py``), with each method's fitted log-log exponent."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from ..methods.classical.params import FIT_IMAGES
from ..methods.classical.pixel import PixelClassifierMethod
from ..viz import figure_png

__all__ = ["SCALING", "SCALING_PAGE", "loaded", "read_scaling", "fit_exponent", "exponents", "scaling_figure",
           "scaling_page"]

#: The committed table of ``benchmark/perf/scaling.py``.
SCALING = Path("benchmark") / "perf" / "results" / "scaling.csv"
#: The generated page (in the table of contents) and its figure.
SCALING_PAGE = "book/_generated/scaling.md"
SCALING_FIGURE = "book/_generated/scaling.png"
#: Sampled training pixels of the pixel classifiers per profile (their fit budget).
PIXELS = PixelClassifierMethod.n_pixels

_NUMERIC = ("side", "pixels", "objects", "n_train", "seconds", "cpu_seconds", "peak_mib", "threads", "cpus",
            "load_1min")
#: (kind, x column, y column, axis labels) of the panels; "seconds" stands for the time column
_PANELS = (
    ("predict", "pixels", "seconds", "field pixels", "predict time (s)"),
    ("predict", "pixels", "peak_mib", "field pixels", "peak memory of predict (MiB)"),
    ("fit", "n_train", "seconds", "training fields (256²)", "fit time (s)"),
)


def loaded(rows: list[dict]) -> bool:
    """Whether the median 1-minute load average exceeded the core count while measuring:
    then wall-clock times mostly measure the other processes, and CPU times are shown."""
    load = sorted(r["load_1min"] for r in rows)
    return bool(rows) and load[len(load) // 2] > max(r["cpus"] for r in rows)


def read_scaling(path: str | Path) -> list[dict]:
    """Rows of a scaling table, numbers as floats. Raises ``ValueError`` naming the file
    when a column is missing or a number does not parse."""
    path = Path(path)
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        missing = {"kind", "method", *_NUMERIC} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: not a table written by benchmark/perf/scaling.py "
                             f"(missing column(s) {', '.join(sorted(missing))})")
        rows = []
        for i, r in enumerate(reader, start=2):
            try:
                rows.append({**r, **{k: float(r[k]) for k in _NUMERIC}})
            except ValueError as exc:
                raise ValueError(f"{path}, line {i}: {exc}") from exc
    return rows


def fit_exponent(x, y) -> float | None:
    """Least-squares slope of ``log y`` against ``log x`` (the exponent ``b`` of
    ``y ~ a x**b``); ``None`` with fewer than two distinct positive points.

    >>> round(fit_exponent([1, 2, 4, 8], [3, 12, 48, 192]), 6)
    2.0
    """
    pts = [(math.log(a), math.log(b)) for a, b in zip(x, y) if a > 0 and b > 0]
    if len({p[0] for p in pts}) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx


def _series(rows, kind, xcol, ycol, time_col="seconds"):
    ycol = time_col if ycol == "seconds" else ycol
    out: dict[str, list[tuple[float, float]]] = {}
    for r in rows:
        if r["kind"] == kind:
            out.setdefault(r["method"], []).append((r[xcol], r[ycol]))
    return {m: sorted(v) for m, v in out.items()}


def exponents(rows: list[dict], time_col: str = "seconds") -> list[dict]:
    """One row per method: the fitted exponents of predict time (`time_col`: wall
    ``seconds`` or ``cpu_seconds``) and memory against pixels, of fit time against
    training fields, and the largest measured point."""
    table: dict[str, dict] = {}
    for kind, xcol, ycol, _, _ in _PANELS:
        for method, pts in _series(rows, kind, xcol, ycol, time_col).items():
            row = table.setdefault(method, {"method": method})
            row[f"{kind}_{ycol}_exponent"] = fit_exponent([p[0] for p in pts], [p[1] for p in pts])
            if kind == "predict" and ycol == "seconds":
                big = max(pts)
                row["largest_pixels"], row["largest_seconds"] = big
    return list(table.values())


def scaling_figure(rows: list[dict], time_col: str = "seconds"):
    """Three log-log panels (predict time and memory against pixels, fit time against
    training fields), one line per method, its exponent in the legend."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(11, 3.6))
    for ax, (kind, xcol, ycol, xlabel, ylabel) in zip(axes, _PANELS):
        series = _series(rows, kind, xcol, ycol, time_col)
        if ycol == "seconds" and time_col == "cpu_seconds":
            ylabel = ylabel.replace("time (s)", "CPU time (s)")
        for method, pts in series.items():
            pts = [p for p in pts if p[0] > 0 and p[1] > 0]
            if not pts:
                continue
            b = fit_exponent([p[0] for p in pts], [p[1] for p in pts])
            label = method if b is None else f"{method} (^{b:.2f})"
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3, lw=1, label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.tick_params(labelsize=7)
        if series:
            ax.legend(fontsize=6, frameon=False)
        else:
            ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes, fontsize=8)
    fig.tight_layout()
    return fig


def _fmt(v, spec=".2f") -> str:
    return "–" if v is None else format(v, spec)


def scaling_page(root: str | Path, stage=None) -> str:
    """The page's Markdown; with a `stage` (:class:`bench.book.staging.Stage`) the figure
    is staged next to it. Without a committed table the page says how to make one."""
    path = Path(root) / SCALING
    head = ["# How cost grows", "",
            "Time and memory of each method as the field grows from a small crop to a whole-slide-sized field, "
            "and fit time as the training set grows: which method stays usable on a large field or a large "
            "experiment. Each curve is a straight line on these log-log axes when the cost is a power of the "
            "size; its slope, fitted by least squares, is the exponent in the legend and the table (1 = linear "
            "in pixels or in training fields).", ""]
    if not path.is_file():
        return "\n".join(head + ["```{note}", f"No measurement is committed (`{SCALING.as_posix()}` is missing): "
                                 f"run `python benchmark/perf/scaling.py --quick`.", "```", ""])
    rows = read_scaling(path)
    time_col = "cpu_seconds" if loaded(rows) else "seconds"
    if stage is not None:
        stage.write_bytes(SCALING_FIGURE, figure_png(scaling_figure(rows, time_col)))
    out = head + [f"![Predict time, predict memory and fit time against size, log-log]"
                  f"({Path(SCALING_FIGURE).name})", "",
                  "| method | predict time exponent | predict memory exponent | fit time exponent "
                  "| largest field measured | its predict time |", "|---|---|---|---|---|---|"]
    for r in exponents(rows, time_col):
        if "largest_pixels" in r:
            largest = f"{math.isqrt(int(r['largest_pixels']))}²"
            its_time = f"{r['largest_seconds']:.2f} s"
        else:
            largest = its_time = "–"
        out.append(f"| `{r['method']}` | {_fmt(r.get('predict_seconds_exponent'))} | "
                   f"{_fmt(r.get('predict_peak_mib_exponent'))} | {_fmt(r.get('fit_seconds_exponent'))} | "
                   f"{largest} | {its_time} |")
    load = sorted(r["load_1min"] for r in rows)
    cpus = int(max(r["cpus"] for r in rows))
    threads = int(max(r["threads"] for r in rows))
    mid = load[len(load) // 2]
    quick = any(str(r.get("quick")) == "True" for r in rows)
    busy = (f"**The machine was loaded** (median 1-minute load average {mid:g} on {cpus} cores): wall-clock "
            "times there mostly measure the other processes, so the figure and the table show CPU seconds "
            "(the wall-clock seconds are in the table file); regenerate the table on a quiet machine."
            if loaded(rows) else f"Median 1-minute load average {mid:g} on {cpus} cores; times are wall-clock.")
    out += ["", f"Generated from `{SCALING.as_posix()}` ({len(rows)} rows"
            f"{', the `--quick` plan' if quick else ''}), written by `python benchmark/perf/scaling.py"
            f"{' --quick' if quick else ''}`. {busy} Fields are mosaics of synth-lyso tiles at the density "
            "of the real synthetic fields; the U-Net is fitted with its `ci` budget (its predict cost does not "
            "depend on how long it trained, apart from post-processing). Memory is the peak growth during "
            f"the call. Each method ran alone in its own process with {threads} "
            f"thread{'s' if threads != 1 else ''}: the U-Nets' convolutions, every method's normalisation, and "
            "the filters, maxima and watershed of `log_spots` and `hough` run on them (in `bench run` each cell "
            "gets its share of the cores instead, one each when two cells share two).", "",
            "The fit curves are flat (exponents near 0) by design of the budgets: with `ci` the pixel classifiers "
            f"learn from {PIXELS['ci']:,} sampled pixels of at most {FIT_IMAGES['ci']} training fields "
            f"(`n_pixels`, `max_fit_images`; `quick`: {PIXELS['quick']:,} of {FIT_IMAGES['quick']}, `full`: "
            f"{PIXELS['full']:,} of {FIT_IMAGES['full']}) and the U-Net trains for a fixed number of steps, "
            "whatever the size of the training set. Their fit cost is set by the budget, not by the data; a "
            "larger experiment costs more only at prediction.", ""]
    return "\n".join(out)
