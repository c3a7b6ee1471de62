"""The "How cost grows" page: exponents fitted from the committed scaling table."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from bench.book.scaling import SCALING, exponents, fit_exponent, read_scaling, scaling_page

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = ["kind", "method", "side", "pixels", "objects", "n_train", "seconds", "cpu_seconds", "peak_mib",
           "threads", "cpus", "load_1min", "quick"]


def _write(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    return path


def _row(kind, method, side, seconds, mib, n_train=24, load=0.5):
    return {"kind": kind, "method": method, "side": side, "pixels": side * side * (n_train if kind == "fit" else 1),
            "objects": 10, "n_train": n_train, "seconds": seconds, "cpu_seconds": seconds, "peak_mib": mib,
            "threads": 2, "cpus": 2, "load_1min": load, "quick": True}


def test_fit_exponent_recovers_a_power_law_and_needs_two_sizes():
    assert fit_exponent([256**2, 512**2, 1024**2], [0.1, 0.4, 1.6]) == pytest.approx(1.0)
    assert fit_exponent([10, 100], [5, 5]) == pytest.approx(0.0)
    assert fit_exponent([10, 10], [1, 2]) is None
    assert fit_exponent([0, 10], [1, 2]) is None


def test_page_from_a_table_gives_each_method_its_exponents(tmp_path):
    rows = [_row("predict", "linear", s, 1e-6 * s * s, 1e-5 * s * s) for s in (256, 512, 1024)]
    rows += [_row("predict", "quadratic", s, 1e-12 * (s * s) ** 2, 3.0) for s in (256, 512)]
    rows += [_row("fit", "linear", 256, 2.0 * n, 50.0, n_train=n) for n in (3, 6, 12)]
    _write(tmp_path / SCALING, rows)
    got = {r["method"]: r for r in exponents(read_scaling(tmp_path / SCALING))}
    assert got["linear"]["predict_seconds_exponent"] == pytest.approx(1.0)
    assert got["linear"]["predict_peak_mib_exponent"] == pytest.approx(1.0)
    assert got["linear"]["fit_seconds_exponent"] == pytest.approx(1.0)
    assert got["quadratic"]["predict_seconds_exponent"] == pytest.approx(2.0)
    assert got["quadratic"]["predict_peak_mib_exponent"] == pytest.approx(0.0)
    assert "fit_seconds_exponent" not in got["quadratic"]
    page = scaling_page(tmp_path)
    assert "| `linear` | 1.00 | 1.00 | 1.00 | 1024² |" in page
    assert "| `quadratic` | 2.00 | 0.00 | – | 512² |" in page
    assert "loaded" not in page
    assert "Each method ran alone in its own process with 2 threads" in page  # the table's `threads`
    # why fit curves are flat: the budgets, read from the methods' own constants
    from bench.methods.classical.params import FIT_IMAGES
    from bench.methods.classical.pixel import PixelClassifierMethod

    assert (f"learn from {PixelClassifierMethod.n_pixels['ci']:,} sampled pixels of at most "
            f"{FIT_IMAGES['ci']} training fields") in page


def test_a_loaded_machine_is_said_so_and_cpu_seconds_are_shown(tmp_path):
    rows = [_row("predict", "m", s, 0.1 * s, 1.0, load=9.0) for s in (256, 512)]
    for r in rows:  # wall time flat (the other processes), CPU time linear in pixels
        r["seconds"], r["cpu_seconds"] = 5.0, 1e-6 * r["pixels"]
    _write(tmp_path / SCALING, rows)
    page = scaling_page(tmp_path)
    assert "**The machine was loaded**" in page and "CPU seconds" in page
    assert "| `m` | 1.00 | 0.00 | – | 512² | 0.26 s |" in page


def test_without_a_table_the_page_says_how_to_make_one(tmp_path):
    assert "scaling.py --quick" in scaling_page(tmp_path)


def test_a_table_with_a_missing_column_names_the_file(tmp_path):
    (tmp_path / "bad.csv").write_text("kind,method\npredict,x\n")
    with pytest.raises(ValueError, match=r"bad\.csv: not a table written by benchmark/perf/scaling\.py"):
        read_scaling(tmp_path / "bad.csv")


def test_the_staged_page_and_figure_come_from_the_committed_table(no_run_stage):
    staged = (no_run_stage / "book/_generated/scaling.md").read_text()
    assert staged == scaling_page(ROOT)
    if (ROOT / SCALING).is_file():
        assert (no_run_stage / "book/_generated/scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        for r in exponents(read_scaling(ROOT / SCALING)):
            assert f"| `{r['method']}` |" in staged
            if "largest_pixels" in r:
                assert f"{math.isqrt(int(r['largest_pixels']))}²" in staged
