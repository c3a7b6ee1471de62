"""A local HTTP server (127.0.0.1, Range requests) for the download tests.

It serves the files of a folder the test fills, a Zenodo-like record API at
``/api/records/<id>``, and can misbehave on demand: drop the connection after
``n`` bytes of a file, or ignore ``Range`` headers.
"""

from __future__ import annotations

import http.server
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest


@dataclass
class Server:
    """What a test controls and observes of the served files."""

    root: Path
    url: str = ""
    api_doc: bytes = b'{"files": []}'
    #: path -> number of bytes to send before dropping the connection (once)
    fail_after: dict = field(default_factory=dict)
    ignore_range: bool = False
    #: (path, Range header or None) of every GET
    requests: list = field(default_factory=list)

    def file_url(self, name: str) -> str:
        return f"{self.url}/{name}"


def _handler(state: Server):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802 - http.server API
            path = self.path.split("?", 1)[0]
            rng = self.headers.get("Range")
            state.requests.append((path, rng))
            if path.startswith("/api/records/"):
                return self._send(200, state.api_doc, {"Content-Type": "application/json"})
            target = state.root / path.lstrip("/")
            if not target.is_file() or not target.resolve().is_relative_to(state.root.resolve()):
                return self._send(404, b"not found")
            data = target.read_bytes()
            start = 0
            if rng and not state.ignore_range:
                start = int(rng.split("=", 1)[1].split("-", 1)[0])
                if start >= len(data):
                    return self._send(416, b"", {"Content-Range": f"bytes */{len(data)}"})
                status, headers = 206, {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"}
            else:
                status, headers = 200, {}
            body = data[start:]
            limit = state.fail_after.pop(path, None)
            if limit is not None:  # announce the whole body, send part of it, hang up
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[:limit])
                self.wfile.flush()
                self.close_connection = True
                return
            return self._send(status, body, headers)

        def _send(self, status, body, headers=None):
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture
def server(tmp_path):
    """A served folder ``tmp_path/served`` on 127.0.0.1 (see :class:`Server`)."""
    state = Server(root=tmp_path / "served")
    state.root.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    t.join(5)


@pytest.fixture
def offline_env(tmp_path, monkeypatch):
    """No mirror, an empty cache, committed splits in a temp folder the test fills."""
    monkeypatch.setenv("BENCH_SHARED_DATA", str(tmp_path / "nonexistent"))
    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "cache"))
    splits = tmp_path / "splits"
    splits.mkdir()
    monkeypatch.setenv("BENCH_SPLITS", str(splits))
    monkeypatch.delenv("BENCH_DATA_URL", raising=False)
    monkeypatch.setenv("BENCH_PROGRESS", "0")
    return tmp_path
