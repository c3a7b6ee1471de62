"""Fixtures of the book tests: a tiny benchmark run, the book built from it, a local
HTTP server for the built HTML and a headless Chromium driven over the DevTools
protocol (through ``--remote-debugging-pipe``: standard library only, no driver to
download)."""

from __future__ import annotations

import base64
import fcntl
import http.server
import json
import os
import select
import shutil
import subprocess
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: The tiny run the book is built from: two classical methods that run in seconds and
#: one that is skipped here (no weights), on three test images of one synthetic dataset.
FIXTURE_DATASET = "synth-lyso-easy"
FIXTURE_CONFIG = {
    "name": "booktest",
    "description": "tiny run for the book tests",
    "profile": "ci",
    "split": "test",
    "seeds": [0],
    "timeout_s": 300,
    "limit": 3,
    "methods": ["isodata_watershed", "auto_threshold", "sam"],
    "datasets": [FIXTURE_DATASET],
}
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
)


def chromium_binary() -> str | None:
    """Debian's ``chromium`` (or ``$BENCH_CHROMIUM``, or another Chrome on the PATH)."""
    env = os.environ.get("BENCH_CHROMIUM")
    if env:
        return env if Path(env).is_file() else shutil.which(env)
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


# --------------------------------------------------------------------------- the run
@pytest.fixture(scope="session")
def fixture_dataset() -> str:
    """The one dataset of the fixture run."""
    return FIXTURE_DATASET


@pytest.fixture(scope="session")
def fixture_run(tmp_path_factory):
    """A real benchmark run (``bench.runner``) of :data:`FIXTURE_CONFIG`, in a temp folder."""
    import yaml

    from bench.data import get_dataset
    from bench.runner import load_config, run_config

    try:
        get_dataset(FIXTURE_DATASET).load(get_dataset(FIXTURE_DATASET).sample_ids()[0])
    except Exception as exc:  # noqa: BLE001 - reported as the skip reason
        pytest.skip(f"dataset {FIXTURE_DATASET} cannot be generated here: {exc}")
    base = tmp_path_factory.mktemp("bookrun")
    cfg = base / "booktest.yaml"
    cfg.write_text(yaml.safe_dump(FIXTURE_CONFIG))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BENCH_CACHE", str(base / "cache"))
        report = run_config(load_config(cfg), root=base / "runs", progress=False)
    return report.run_dir


@pytest.fixture(scope="session")
def built_book(fixture_run, tmp_path_factory):
    """The book built (strict, offline) from the fixture run; returns the BookBuild."""
    from bench.book import build_book

    out = tmp_path_factory.mktemp("book")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BENCH_CACHE", str(out / "cache"))
        return build_book(root=ROOT, run=fixture_run, datasets=[FIXTURE_DATASET], output=out)


# ------------------------------------------------------------------------ the server
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


@pytest.fixture(scope="session")
def book_server(built_book):
    """``http://127.0.0.1:<port>`` serving the built HTML."""
    handler = partial(_QuietHandler, directory=str(built_book.html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# ------------------------------------------------------------------------ the browser
class CDPError(RuntimeError):
    """The DevTools protocol answered with an error, or did not answer in time."""


class Chromium:
    """A headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4).

    Messages are JSON objects separated by NUL bytes. One page target is opened and
    attached in flat mode; :meth:`goto`, :meth:`evaluate` and :meth:`screenshot` act
    on it.
    """

    def __init__(self, binary: str, *, timeout: float = 60.0):
        self.timeout = timeout
        self.user_data = tempfile.mkdtemp(prefix="bench-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # the child must find the pipes at fds 3 (read) and 4 (write): move them out of
        # the way first, so that dup2 cannot clobber one with the other
        r_hi = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
        w_hi = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
        os.close(to_child_r)
        os.close(from_child_w)

        def _child_fds():
            os.dup2(r_hi, 3)
            os.dup2(w_hi, 4)

        self.proc = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={self.user_data}", "--remote-debugging-pipe",
             "--window-size=1400,1000", "about:blank"],
            preexec_fn=_child_fds, close_fds=False, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(r_hi)
        os.close(w_hi)
        self._buf = b""
        self._next_id = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime"):
            self.call(f"{domain}.enable", session=True)

    # -- protocol
    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CDPError("no answer from Chromium in time")
            ready, _, _ = select.select([self._from_child], [], [], left)
            if ready:
                chunk = os.read(self._from_child, 1 << 16)
                if not chunk:
                    raise CDPError(f"Chromium closed the pipe (exit code {self.proc.poll()})")
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, *, session: bool = False) -> dict:
        self._next_id += 1
        msg = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self._next_id:
                if "error" in m:
                    raise CDPError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method: str, *, since: int = 0) -> dict:
        deadline = time.monotonic() + self.timeout
        seen = since
        while True:
            for m in self.events[seen:]:
                if m.get("method") == method:
                    return m
            seen = len(self.events)
            self.events.append(self._read_message(deadline))

    # -- page
    def goto(self, url: str) -> None:
        mark = len(self.events)
        res = self.call("Page.navigate", {"url": url}, session=True)
        if res.get("errorText"):
            raise CDPError(f"navigation to {url} failed: {res['errorText']}")
        self.wait_event("Page.loadEventFired", since=mark)

    def evaluate(self, expression: str):
        res = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                             "awaitPromise": True}, session=True)
        if "exceptionDetails" in res:
            raise CDPError(f"JavaScript error: {res['exceptionDetails']}")
        return res["result"].get("value")

    def screenshot(self, path: Path, *, width: int = 1400) -> Path:
        height = int(self.evaluate("Math.ceil(document.documentElement.scrollHeight)") or 1000)
        self.call("Emulation.setDeviceMetricsOverride", {"width": width, "height": min(height, 8000),
                                                         "deviceScaleFactor": 1, "mobile": False}, session=True)
        data = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session=True)
        path.write_bytes(base64.b64decode(data["data"]))
        return path

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (CDPError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.user_data, ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium; skips (with the reason) when none is installed."""
    binary = chromium_binary()
    if binary is None:
        pytest.skip("no Chromium here (install Debian's `chromium` package, as `bash scripts/run.sh test` "
                    "does when run as root, or set BENCH_CHROMIUM)")
    b = Chromium(binary)
    try:
        yield b
    finally:
        b.close()


# ------------------------------------------------------------------ the book without a run
#: The one dataset of the book staged without a run (``no_run_stage``).
NO_RUN_DATASET = "synth-lyso-easy"


@pytest.fixture(scope="session")
def no_run_stage(tmp_path_factory):
    """The book staged by ``bench book --no-run --stage-only`` for one dataset."""
    from bench.cli import main

    out = tmp_path_factory.mktemp("stage")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BENCH_CACHE", str(out / "cache"))
        code = main(["book", "--no-run", "--stage-only", "--datasets", NO_RUN_DATASET, "--output", str(out)])
    assert code == 0
    return out / "_build" / "book-src"
