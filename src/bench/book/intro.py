"""The introduction's figures and headline table, and the table of registered methods."""

from __future__ import annotations

import logging

from ..data import get_dataset
from ..methods import method_class, method_names
from .figures import sample_figure
from .markup import finite, score_name, slug
from .staging import Context, no_run_text, run_board, run_profile

__all__ = ["INTRO_FIGURES", "method_kind", "render_methods_table", "render_intro"]

logger = logging.getLogger(__name__)


#: Figures of the introduction (``book/_generated/intro_<key>.md``): a test image of a dataset.
INTRO_FIGURES = (
    ("tandem", "synth-cells-puncta", "The tandem reporter. A synthetic field of the `synth-cells-puncta` dataset: "
     "cells (transmitted light, grey) with mRFP-EGFP-Atg8a puncta. Yellow puncta (green and red) are "
     "autophagosomes; red-only puncta, whose EGFP is quenched by the acidic lumen, are autolysosomes. "
     "Right: the annotated puncta, outlined by class."),
    ("lamp1", "synth-lyso", "LAMP1 endolysosomes. A synthetic field of the `synth-lyso` dataset: LAMP1 rings (red), "
     "some with cargo in their lumen (green). Right: the annotated endolysosomes, outlined by class "
     "(empty or loaded); the occupancy is the fraction outlined as loaded."),
)


def method_kind(cls) -> str:
    """``classical`` or ``deep``, from the package the method lives in (``other``: neither, e.g. a
    method defined outside the built-in families)."""
    mod = cls.__module__
    parts = mod.split(".")
    if "classical" in parts:
        return "classical"
    if any(p.startswith(("unet", "stardist", "cellpose", "sam")) for p in parts[2:]):
        return "deep"
    return "other"


def render_methods_table(ctx: Context) -> None:
    lines = ["## All registered methods", "",
             "Presets are named parameter settings of a method. \"Runs here\" refers to the machine that "
             "built this book: missing dependencies or pretrained weights are the usual reasons a method "
             "is skipped.", "",
             "| Method | Family | Tasks | Runs here | Reference |", "|---|---|---|---|---|"]
    for name in method_names():
        cls = method_class(name)
        reason = cls.dependency_reason()  # the runner's own words when it skips the method
        here = "yes" if reason is None else "no: " + reason.replace("|", "/")
        ref = (cls.reference or "").replace("|", "/")
        label = f"`{name}`" if name == cls.name else f"`{name}` (preset of `{cls.name}`)"
        lines.append(f"| {label} | {method_kind(cls)} | {', '.join(cls.tasks)} | {here} | {ref} |")
    if len(lines) == 6:
        lines.append("| (none registered) | | | | |")
    ctx.stage.write_text("book/_generated/methods_table.md", "\n".join(lines) + "\n")


def render_intro(ctx: Context) -> None:
    for key, name, caption in INTRO_FIGURES:
        out: list[str] = []
        try:
            ds = get_dataset(name)
            reason = ds.unavailable_reason()
            fig = None if reason else sample_figure(ctx, name, "book/_generated/img", f"intro-{slug(name)}")
        except Exception as exc:  # noqa: BLE001 - the figure is illustrative; the page says why it is missing
            logger.warning("intro figure from %s not rendered: %s", name, exc)
            reason, fig = str(exc), None
        if fig is None:
            out += ["```{note}", f"The illustration from `{name}` could not be rendered here: {reason}.", "```", ""]
        else:
            paths, sid = fig
            keep = [p for p in paths if p.endswith(("-composite.png", "-annotated.png"))]
            out += ["::::{grid} 2", ":gutter: 1", ""]
            for p in keep:
                out += [":::{grid-item}", f"```{{image}} /{p}", f":alt: {name} sample {sid}", ":width: 100%", "```",
                        ":::", ""]
            out += ["::::", "", f"*{caption}*", ""]
        ctx.stage.write_text(f"book/_generated/intro_{key}.md", "\n".join(out) + "\n")

    board = run_board(ctx)
    lines = ["## Latest results", ""]
    if board is None:
        lines += no_run_text()
    else:
        lines += [f"From run `{ctx.results.run_id}` ({run_profile(ctx)}); the full tables are in "
                  "{doc}`/book/leaderboards/index`.", "",
                  "| Dataset | Best method | Score | 95% interval | Methods ok / run |", "|---|---|---|---|---|"]
        for ds_name, g in board.groupby("dataset", sort=True):
            ok = g[g["status"] == "ok"]
            best = ok.iloc[0] if len(ok) and finite(ok.iloc[0]["score"]) else None
            if best is None:
                lines.append(f"| {ctx.board_link(ds_name)} | – | – | – | 0 / {len(g)} |")
                continue
            ci = (f"{best['f1_low']:.3f} – {best['f1_high']:.3f}" if finite(best.get("f1_low")) else "–")
            lines.append(
                f"| {ctx.board_link(ds_name)} | `{best['method_id']}` | "
                f"{score_name(best['task'])} {best['score']:.3f} | {ci} | {len(ok)} / {len(g)} |"
            )
    ctx.stage.write_text("book/_generated/headline.md", "\n".join(lines) + "\n")
