"""bench.progress: one setting turns every bar of the library off."""

from __future__ import annotations

import io

from bench.progress import PROGRESS_ENV, progress_bar, progress_enabled


def test_bars_off_whatever_the_call_site_asks(monkeypatch):
    monkeypatch.setenv(PROGRESS_ENV, "0")
    assert not progress_enabled()
    out = io.StringIO()
    bar = progress_bar(range(3), desc="x", disable=False, file=out)
    assert list(bar) == [0, 1, 2]
    assert bar.disable and out.getvalue() == ""


def test_bars_on_by_default(monkeypatch):
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    assert progress_enabled()
    out = io.StringIO()
    assert list(progress_bar(range(2), desc="y", file=out, mininterval=0)) == [0, 1]
    assert "y" in out.getvalue()


def test_the_runner_turns_bars_off_for_its_kernels():
    from bench.runner.execute import _thread_env

    assert _thread_env(None)[PROGRESS_ENV] == "0"
