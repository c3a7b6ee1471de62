"""The `bench` command line."""

import subprocess
import sys

import pytest

from bench.cli import COMMANDS, format_table, main


def test_datasets_lists_everything(capsys, shared_data):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name in ("synth-lyso", "synth-cells-puncta", "synth-rosella", "nih3t3", "gowt1", "cellular-boxes", "cellular"):
        assert f"| {name} " in out
    # the mirrors are available here; cellular is not downloaded
    row = {line.split("|")[1].strip(): line for line in out.splitlines() if line.startswith("| ")}
    assert row["nih3t3"].rstrip(" |").endswith("yes")
    assert "no: not downloaded" in row["cellular"]
    assert "10/3/5" in row["nih3t3"] and "28/15/10" in row["cellular-boxes"]


def test_methods_lists_the_registry(capsys):
    from bench.methods import method_names

    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    for name in method_names():
        assert f"| {name} " in out


def test_splits_table(capsys):
    assert main(["splits"]) == 0
    assert "| gowt1 " in capsys.readouterr().out


def test_unknown_dataset_fetch(capsys):
    assert main(["data", "fetch", "nosuch"]) == 2
    assert "must be one of nih3t3, nih3t3-full, gowt1" in capsys.readouterr().err


def test_console_script_is_installed():
    out = subprocess.run([sys.executable, "-m", "bench.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "datasets" in out.stdout


def test_format_table():
    t = format_table([{"a": 1, "b": "xy"}], ["a", "b"])
    assert t.splitlines() == ["| a | b  |", "|---|----|", "| 1 | xy |"]


def test_bad_usage_exits_nonzero():
    with pytest.raises(SystemExit):
        main(["no-such-command"])


@pytest.mark.parametrize("command", [c.name for c in COMMANDS])
def test_every_command_resolves_to_a_function_and_has_help(command):
    cmd = next(c for c in COMMANDS if c.name == command)
    assert callable(cmd.load())
    out = subprocess.run([sys.executable, "-m", "bench.cli", command, "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and f"usage: bench {command}" in out.stdout


def test_help_imports_no_command_module():
    code = ("import sys; from bench.cli import build_parser; build_parser(); "
            "print(sorted(m for m in sys.modules if m.startswith('bench')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert eval(out) == ["bench", "bench.cli", "bench.text_table"]


def test_data_fetch_works_without_the_notebook_and_book_extras(tmp_path):
    """`bench data fetch` is what a base install (and the Colab setup cell, before any extra
    is in place) runs: it must not need nbformat, papermill or jupyter-book. The Colab
    emulation found `bench data fetch` failing on `import nbformat` when the CLI imported the
    book to register its command."""
    import socket

    with socket.socket() as s:  # a port with nobody listening: the download must fail there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = (
        "import sys\n"
        "for m in ('nbformat', 'papermill', 'jupyter_book', 'nbclient', 'jupytext'):\n"
        "    sys.modules[m] = None  # importing any of them raises ImportError\n"
        "from bench.cli import main\n"
        f"rc = main(['data', 'fetch', 'nih3t3', '--no-progress', '--dest', {str(tmp_path / 'd')!r},\n"
        f"           '--base-url', 'http://127.0.0.1:{port}/'])\n"
        "print('rc', rc, sorted(m for m in sys.modules if m.startswith(('bench.book', 'bench.runner'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    text = out.stdout + out.stderr
    assert "ImportError" not in text and "ModuleNotFoundError" not in text, text[-2000:]
    assert "127.0.0.1" in text, text[-2000:]  # it got as far as the download, which failed there
    if "rc " in out.stdout:
        assert out.stdout.split("rc ", 1)[1].split()[0] != "0"
        assert "[]" in out.stdout, out.stdout  # neither the book nor the runner was imported
