#!/usr/bin/env bash
# The two entry points of the README, on a fresh machine:
#   bash scripts/run.sh main       -> set up .venv, run the quick benchmark, build the book
#   bash scripts/run.sh test       -> set up .venv, run the whole test suite
# and the set-up alone:
#   bash scripts/run.sh setup      -> set up .venv (torch, then bench[all] with exact pins)
#   bash scripts/run.sh setup-sam  -> the same plus Segment Anything: torch and torchvision as a
#                                     matching pair from one source, then bench[all,sam]
#
# Which torch build (scripts/torch_choice.py decides and says why):
#   BENCH_TORCH=auto (default)  CPU wheels from download.pytorch.org/whl/cpu without an NVIDIA GPU,
#                               the default CUDA build with one; when the CPU index cannot be
#                               reached, the index pip is configured with
#   BENCH_TORCH=cpu|cuda        that build;  BENCH_TORCH=keep  leave an installed torch alone (Colab)
#   BENCH_TORCH_DRY_RUN=1       print the install commands, install nothing
#   BENCH_VENV=DIR              the environment's folder (default .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
VENV="${BENCH_VENV:-$ROOT/.venv}"
case "$VENV" in /*) ;; *) VENV="$ROOT/$VENV" ;; esac
PY="$VENV/bin/python"
CONSTRAINTS="$ROOT/requirements/constraints.txt"
DRY_RUN="${BENCH_TORCH_DRY_RUN:-}"

log() { printf '\n==> %s\n' "$*" >&2; }

# run "$@", or only print it with BENCH_TORCH_DRY_RUN=1
run_or_print() {
    if [ -n "$DRY_RUN" ]; then printf '%q ' "$@"; printf '\n'; else "$@"; fi
}

setup_venv() {  # $1: "" or "sam"
    local variant="${1:-}"
    local choice_args=(--python "$PY" -c "$CONSTRAINTS" --empty-dir "$VENV/.empty-find-links")
    local extras="all"
    if [ "$variant" = sam ]; then
        choice_args+=(--with-torchvision)
        extras="all,sam"
    fi
    if [ ! -x "$PY" ] && [ -z "$DRY_RUN" ]; then
        log "creating $VENV"
        python3 -m venv "$VENV"
    fi
    # Reinstall only when the pins, the package metadata or the torch choice changed.
    local stamp="$VENV/.bench-installed"
    local want
    want="$( (cat "$CONSTRAINTS" pyproject.toml
              if [ -n "${BENCH_TORCH:-}" ] && [ "${BENCH_TORCH:-}" != auto ]; then echo "torch=$BENCH_TORCH"; fi
              if [ -n "$variant" ]; then echo "variant=$variant"; fi) | sha256sum | cut -c1-16)"
    if [ -z "$DRY_RUN" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        log "environment up to date ($VENV)"
        return
    fi
    # torch first (the build that fits this machine), so nothing later pulls another one
    local torch_cmd
    torch_cmd="$(python3 scripts/torch_choice.py "${choice_args[@]}")"
    local constraints="$CONSTRAINTS"
    if [ -n "$torch_cmd" ]; then
        local cmd=()
        mapfile -t cmd <<< "$torch_cmd"
        log "installing torch"
        [ -n "$DRY_RUN" ] || mkdir -p "$VENV/.empty-find-links"
        run_or_print "${cmd[@]}" -q
    else
        # keep: the installed torch (and torchvision) stay; their pins must not replace them
        constraints="$VENV/.constraints-keep-torch.txt"
        if [ -n "$DRY_RUN" ]; then
            echo "(the pins of $CONSTRAINTS without torch and torchvision, into $constraints)"
        else
            grep -v -i -E '^(torch|torchvision)==' "$CONSTRAINTS" > "$constraints"
        fi
    fi
    log "installing bench[$extras] with exact pins"
    run_or_print "$PY" -m pip install -q -c "$constraints" -e ".[$extras]"
    if [ -n "$DRY_RUN" ]; then
        run_or_print "$PY" -m ipykernel install --sys-prefix --name python3
        log "BENCH_TORCH_DRY_RUN: nothing was installed"
        exit 0
    fi
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
    setup-sam)
        setup_venv sam
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
        echo "usage: bash scripts/run.sh {main|test|setup|setup-sam} [extra args]" >&2
        exit 2
        ;;
esac
