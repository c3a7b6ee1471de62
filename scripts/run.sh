#!/usr/bin/env bash
# The two entry points of the README, on a fresh machine:
#   bash scripts/run.sh main   -> set up .venv, run the quick benchmark, build the book
#   bash scripts/run.sh test   -> set up .venv, run the whole test suite
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
CONSTRAINTS="$ROOT/requirements/constraints.txt"

log() { printf '\n==> %s\n' "$*" >&2; }

setup_venv() {
    if [ ! -x "$PY" ]; then
        log "creating $VENV"
        python3 -m venv "$VENV"
    fi
    # Reinstall only when the pins or the package metadata changed.
    local stamp="$VENV/.bench-installed"
    local want
    want="$(cat "$CONSTRAINTS" pyproject.toml | sha256sum | cut -c1-16)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        log "environment up to date ($VENV)"
        return
    fi
    log "installing torch first (CPU build), then bench[all] with exact pins"
    # torch first, so nothing later pulls a multi-GB CUDA build
    "$PY" -m pip install -q -c "$CONSTRAINTS" torch==2.13.0
    "$PY" -m pip install -q -c "$CONSTRAINTS" -e ".[all]"
    "$PY" -m ipykernel install --sys-prefix --name python3 >/dev/null
    echo "$want" > "$stamp"
}

setup_browser() {
    # Browser tests drive Debian's Chromium; install it when we can (root + apt).
    if command -v chromium >/dev/null 2>&1; then return; fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing chromium for the browser tests"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
            || log "could not install chromium: browser tests will be skipped"
    else
        log "chromium not found and not root: browser tests will be skipped"
    fi
}

cmd="${1:-}"
shift || true
case "$cmd" in
    setup)
        setup_venv
        ;;
    main)
        setup_venv
        export PATH="$VENV/bin:$PATH"
        log "quick benchmark"
        bench run benchmark/configs/quick.yaml "$@"
        log "book"
        bench book
        ;;
    test)
        setup_venv
        setup_browser
        export PATH="$VENV/bin:$PATH"
        # The default run deselects tests marked `slow` (each has a tiny-budget
        # counterpart that does run); `bash scripts/run.sh test -m ""` runs everything.
        log "test suite"
        "$PY" -m pytest -m "not slow" "$@"
        ;;
    *)
        echo "usage: bash scripts/run.sh {main|test|setup} [extra args]" >&2
        exit 2
        ;;
esac
