"""Resumable, verified downloads and safe extraction, against a local server."""

import hashlib
import io
import os
import tarfile
import zipfile

import pytest

from bench.data.download import (
    Checksum,
    UnsafeArchiveError,
    download,
    progress_enabled,
    redirect,
    safe_extract,
)
from bench.data.io import DataError

PAYLOAD = bytes(range(256)) * 40  # 10240 bytes


def _md5(b):
    return "md5:" + hashlib.md5(b).hexdigest()


@pytest.fixture
def served(server):
    (server.root / "file.bin").write_bytes(PAYLOAD)
    return server


def test_success_with_checksum_and_size(tmp_path, served):
    out = download(served.file_url("file.bin"), tmp_path / "f.bin", checksum=_md5(PAYLOAD),
                   size=len(PAYLOAD), progress=False)
    assert out.read_bytes() == PAYLOAD
    assert not (tmp_path / "f.bin.part").exists()
    # a second call finds the verified file and asks the server for nothing
    n = len(served.requests)
    download(served.file_url("file.bin"), out, checksum=_md5(PAYLOAD), progress=False)
    assert len(served.requests) == n


def test_bad_checksum_deletes_the_download(tmp_path, served):
    wrong = _md5(b"something else")
    with pytest.raises(DataError, match=r"checksum mismatch: expected md5:"):
        download(served.file_url("file.bin"), tmp_path / "f.bin", checksum=wrong, progress=False)
    assert not (tmp_path / "f.bin").exists() and not (tmp_path / "f.bin.part").exists()


def test_sha256_checksum_is_checked_too(tmp_path, served):
    good = "sha256:" + hashlib.sha256(PAYLOAD).hexdigest()
    assert download(served.file_url("file.bin"), tmp_path / "f.bin", checksum=good,
                    progress=False).is_file()
    with pytest.raises(DataError, match="checksum mismatch"):
        download(served.file_url("file.bin"), tmp_path / "g.bin", checksum="sha256:" + "0" * 64,
                 progress=False)


def test_wrong_size_is_refused(tmp_path, served):
    with pytest.raises(DataError, match=rf"got {len(PAYLOAD)} bytes, expected {len(PAYLOAD) + 1}"):
        download(served.file_url("file.bin"), tmp_path / "f.bin", size=len(PAYLOAD) + 1,
                 progress=False)
    assert not (tmp_path / "f.bin").exists()


def test_404_names_the_url(tmp_path, served):
    with pytest.raises(DataError, match=r"missing\.bin: HTTP 404"):
        download(served.file_url("missing.bin"), tmp_path / "m.bin", progress=False)
    assert not (tmp_path / "m.bin").exists()


def test_truncated_body_is_never_taken_as_complete_and_resumes(tmp_path, served):
    served.fail_after["/file.bin"] = 3000
    dest = tmp_path / "f.bin"
    with pytest.raises(DataError, match=r"(truncated|interrupted).*rerun to resume"):
        download(served.file_url("file.bin"), dest, checksum=_md5(PAYLOAD), progress=False,
                 chunk_size=256)
    part = tmp_path / "f.bin.part"
    assert not dest.exists()
    assert 0 < part.stat().st_size <= 3000
    kept = part.stat().st_size
    # the rerun asks only for the rest
    download(served.file_url("file.bin"), dest, checksum=_md5(PAYLOAD), progress=False)
    assert dest.read_bytes() == PAYLOAD and not part.exists()
    assert served.requests[-1] == ("/file.bin", f"bytes={kept}-")


def test_interrupted_twice_then_resumed(tmp_path, served):
    dest = tmp_path / "f.bin"
    for limit in (1000, 2000):
        served.fail_after["/file.bin"] = limit
        with pytest.raises(DataError):
            download(served.file_url("file.bin"), dest, size=len(PAYLOAD), progress=False,
                     chunk_size=256)
    assert (tmp_path / "f.bin.part").stat().st_size <= 3000
    download(served.file_url("file.bin"), dest, size=len(PAYLOAD), progress=False)
    assert dest.read_bytes() == PAYLOAD
    ranges = [r for p, r in served.requests if p == "/file.bin"]
    assert ranges[0] is None and ranges[1].startswith("bytes=") and ranges[2].startswith("bytes=")


def test_server_ignoring_range_starts_over(tmp_path, served):
    dest = tmp_path / "f.bin"
    (tmp_path / "f.bin.part").write_bytes(PAYLOAD[:500])
    served.ignore_range = True
    download(served.file_url("file.bin"), dest, checksum=_md5(PAYLOAD), progress=False)
    assert dest.read_bytes() == PAYLOAD


def test_complete_part_file_gets_416_and_is_verified(tmp_path, served):
    dest = tmp_path / "f.bin"
    (tmp_path / "f.bin.part").write_bytes(PAYLOAD)
    download(served.file_url("file.bin"), dest, checksum=_md5(PAYLOAD), progress=False)
    assert dest.read_bytes() == PAYLOAD


def test_part_file_longer_than_the_file_is_thrown_away(tmp_path, served):
    (tmp_path / "f.bin.part").write_bytes(PAYLOAD + b"junk")
    with pytest.raises(DataError, match=rf"got {len(PAYLOAD) + 4} bytes, expected {len(PAYLOAD)}"):
        download(served.file_url("file.bin"), tmp_path / "f.bin", progress=False)
    assert not (tmp_path / "f.bin.part").exists() and not (tmp_path / "f.bin").exists()
    download(served.file_url("file.bin"), tmp_path / "f.bin", progress=False)
    assert (tmp_path / "f.bin").read_bytes() == PAYLOAD


def test_stale_final_file_with_wrong_checksum_is_downloaded_again(tmp_path, served):
    dest = tmp_path / "f.bin"
    dest.write_bytes(b"stale")
    download(served.file_url("file.bin"), dest, checksum=_md5(PAYLOAD), progress=False)
    assert dest.read_bytes() == PAYLOAD


def test_unreachable_server(tmp_path):
    with pytest.raises(DataError, match=r"cannot reach http://127\.0\.0\.1:9/x\.zip .*Are you offline\?"):
        download("http://127.0.0.1:9/x.zip", tmp_path / "x.zip", progress=False, timeout=5)


@pytest.mark.parametrize("text", ["md5", "crc32:abcd", "md5:xyz", 5])
def test_checksum_parse_rejects_garbage(text):
    with pytest.raises(ValueError, match="`checksum`"):
        Checksum.parse(text)


def test_progress_setting(monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    monkeypatch.setenv("BENCH_PROGRESS", "0")
    assert progress_enabled() is False and progress_enabled(True) is True
    monkeypatch.setenv("BENCH_PROGRESS", "1")
    assert progress_enabled() is True
    monkeypatch.setenv("TQDM_DISABLE", "1")  # the runner's setting for executed notebooks
    assert progress_enabled() is False and progress_enabled(True) is True
    monkeypatch.delenv("TQDM_DISABLE")
    monkeypatch.delenv("BENCH_PROGRESS")
    assert progress_enabled() is False  # pytest's stderr is not a terminal


def test_redirect(monkeypatch):
    monkeypatch.delenv("BENCH_DATA_URL", raising=False)
    url = "https://example.org/a/b.zip?download=1"
    assert redirect(url) == url
    monkeypatch.setenv("BENCH_DATA_URL", "http://127.0.0.1:1/m/")
    assert redirect(url) == "http://127.0.0.1:1/m/b.zip"


# ------------------------------------------------------------- extraction
def _zip(members: dict, *, symlink: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (0o120777 << 16)
            z.writestr(info, "/etc/passwd")
    return buf.getvalue()


def _tar(members: dict, *, link: tuple | None = None, mode="w:gz") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        if link:
            info = tarfile.TarInfo(link[0])
            info.type = link[1]
            info.linkname = link[2]
            t.addfile(info)
    return buf.getvalue()


def test_safe_extract_zip_strips_single_top_folder(tmp_path):
    a = tmp_path / "a.zip"
    a.write_bytes(_zip({"top/x/1.txt": b"1", "top/2.txt": b"2"}))
    dest = safe_extract(a, tmp_path / "out")
    assert (dest / "x" / "1.txt").read_bytes() == b"1" and (dest / "2.txt").read_bytes() == b"2"
    assert not (tmp_path / "out.extracting").exists()


def test_safe_extract_tar(tmp_path):
    a = tmp_path / "a.tgz"
    a.write_bytes(_tar({"d/1.txt": b"1", "e/2.txt": b"2"}))
    dest = safe_extract(a, tmp_path / "out")
    assert sorted(p.name for p in dest.iterdir()) == ["d", "e"]


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: _zip({"ok.txt": b"", "../evil.txt": b"x"}), "climbs out"),
        (lambda: _zip({"ok.txt": b"", "a/../../evil.txt": b"x"}), "climbs out"),
        (lambda: _zip({"/abs/evil.txt": b"x"}), "absolute path"),
        (lambda: _zip({"ok.txt": b""}, symlink="link"), "symbolic link"),
        (lambda: _tar({"ok.txt": b"", "../evil.txt": b"x"}), "climbs out"),
        (lambda: _tar({"/tmp/evil.txt": b"x"}), "absolute path"),
        (lambda: _tar({"ok.txt": b""}, link=("l", tarfile.SYMTYPE, "/etc/passwd")), "is a link"),
        (lambda: _tar({"ok.txt": b""}, link=("h", tarfile.LNKTYPE, "ok.txt")), "is a link"),
        (lambda: _tar({}, link=("dev", tarfile.CHRTYPE, "")), "special file"),
    ],
)
def test_unsafe_members_are_refused_and_nothing_is_written(tmp_path, make, match):
    a = tmp_path / "bad.archive"
    a.write_bytes(make())
    dest = tmp_path / "work" / "out"
    dest.mkdir(parents=True)
    (dest / "keep.txt").write_text("previous")
    with pytest.raises(UnsafeArchiveError, match=match):
        safe_extract(a, dest)
    assert (dest / "keep.txt").read_text() == "previous"  # the old content is untouched
    assert not (tmp_path / "work" / "out.extracting").exists()
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "work" / "evil.txt").exists()
    assert not os.path.exists("/abs/evil.txt")


def test_corrupt_archive(tmp_path):
    a = tmp_path / "a.zip"
    a.write_bytes(b"PK\x03\x04 this is not a zip")
    with pytest.raises(DataError, match=r"(corrupt|neither a zip nor a tar)"):
        safe_extract(a, tmp_path / "out")
    assert not (tmp_path / "out").exists()
