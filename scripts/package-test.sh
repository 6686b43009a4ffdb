#!/usr/bin/env bash
# Smoke test of the one-folder bundle (`make package-test`; `make package` builds it first).
#
# Runs dist/fanremix/fanremix with no Python on PATH and no access to the source tree, in a throw-away user folder:
#   1. --version matches fanremix.__version__;
#   2. writes the demo pack, a recipe, and renders it headless (signed, and once with --no-credentials);
#   3. provenance: starts the bundled rights service (`fanremix -m fanremix.service`, as the app does), makes a
#      fan account, exports the recipe with a grant and an embedded C2PA record (`submit`), and checks it with
#      `verify` (and `verify --pack`, which re-renders the recipe and compares the audio);
#   4. opens the GUI offscreen: once until the demo song has loaded and painted (FANREMIX_STARTUP_MARK makes it
#      quit by itself), then for 3 s followed by SIGTERM, which must end it cleanly with exit status 0.
# Prints the bundle size and the time of each step. Exits non-zero on the first failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUNDLE=${BUNDLE:-$ROOT/dist/fanremix}
EXE=$BUNDLE/fanremix
GUI_SECONDS=${GUI_SECONDS:-3}
MAX_BUNDLE_MB=${MAX_BUNDLE_MB:-350}

[ -x "$EXE" ] || { echo "package-test: $EXE is missing; run 'make package' first." >&2; exit 1; }

WORK=$(mktemp -d -t fanremix-package-test.XXXXXX)
SERVICE_PID=""
GUI_PID=""
cleanup() {
    for pid in $GUI_PID $SERVICE_PID; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    # anything the app started and left behind (a local rights service) runs with this test's own folders
    for pid in $(pgrep -f -- "$WORK" || true); do kill "$pid" 2>/dev/null || true; done
    if [ "${KEEP_WORK:-}" = 1 ]; then echo "package-test: work folder kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

fail() {
    echo "package-test: FAILED: $*" >&2
    exit 1
}

# A clean environment: no Python on PATH, no PYTHON* variables, our own user folders, Qt offscreen.
mkdir -p "$WORK/bin" "$WORK/home" "$WORK/run"
chmod 700 "$WORK/run"
CLEAN_ENV=(env -i PATH="$WORK/bin:/usr/bin:/bin" HOME="$WORK/home" LANG=C.UTF-8 XDG_RUNTIME_DIR="$WORK/run"
    FANREMIX_CONFIG_DIR="$WORK/user/config" FANREMIX_DATA_DIR="$WORK/user/data"
    FANREMIX_CACHE_DIR="$WORK/user/cache" QT_QPA_PLATFORM=offscreen)
run() { "${CLEAN_ENV[@]}" "$@"; }
# (background jobs call "${CLEAN_ENV[@]}" directly, so that $! is the app's own process id: env execs it)
# /usr/bin holds Debian's python3; hide it so nothing can fall back to an installed interpreter.
for name in python python3 python3.11; do
    printf '#!/bin/sh\necho "package-test: the bundle tried to run %s" >&2\nexit 127\n' "$name" >"$WORK/bin/$name"
    chmod +x "$WORK/bin/$name"
done

step_started=0
step() {
    step_started=$(date +%s%N)
    printf '%-58s' "$1"
}
done_step() {
    local elapsed_ms=$((($(date +%s%N) - step_started) / 1000000))
    printf '%3d.%02d s  %s\n' $((elapsed_ms / 1000)) $((elapsed_ms % 1000 / 10)) "${1:-ok}"
}

size_mb=$(du -sm "$BUNDLE" | cut -f1)
files=$(find "$BUNDLE" -type f | wc -l)
echo "bundle: $BUNDLE — ${size_mb} MB in ${files} files (limit ${MAX_BUNDLE_MB} MB)"
[ "$size_mb" -le "$MAX_BUNDLE_MB" ] || fail "the bundle is ${size_mb} MB, more than ${MAX_BUNDLE_MB} MB"
[ -f "$BUNDLE/_internal/resources/keys/demo-publisher.pem" ] || fail "the demo publisher key is not in the bundle"
[ -f "$BUNDLE/_internal/licences/common/GPL-3" ] || fail "the GPL text is not in the bundle"

cd "$WORK"

# 1. version
step "1. --version"
expected=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$ROOT/app/fanremix/__init__.py")
got=$(run "$EXE" --version)
[ "$got" = "fanremix $expected" ] || fail "--version printed '$got', expected 'fanremix $expected'"
done_step "$got"

# 2. render headless
demo_pack="$WORK/user/cache/demo.fanpack" # where the app looks for its demo song, so the GUI opens this one
mkdir -p "$WORK/user/cache"
step "2. demo pack (20 s)"
run "$EXE" demo -o "$demo_pack" --seconds 20 >demo.log 2>&1 || { cat demo.log; fail "demo"; }
done_step
step "   recipe (tempo 1.05, +1 semitone, reverb, region)"
run "$EXE" recipe "$demo_pack" -o recipe.json --tempo 1.05 --pitch 1 --effect master=Reverb \
    --region 2:16 --fade-out 1 >recipe.log 2>&1 || { cat recipe.log; fail "recipe"; }
done_step
step "   render to FLAC (signed with Content Credentials)"
run "$EXE" render "$demo_pack" recipe.json -o render.flac >render.log 2>&1 || { cat render.log; fail "render"; }
[ -s render.flac ] || fail "render wrote nothing"
grep -q 'Content Credentials: signed by' render.log || { cat render.log; fail "render did not sign the file"; }
done_step "$(grep -o 'integrated loudness: .*' render.log | head -1)"
step "   render without credentials (--no-credentials)"
run "$EXE" render "$demo_pack" recipe.json -o unsigned.flac --no-credentials >unsigned.log 2>&1 ||
    { cat unsigned.log; fail "render --no-credentials"; }
done_step

# 3. provenance through the bundled rights service
service_dir="$WORK/user/data/service"
mkdir -p "$service_dir"
port=$(shuf -i 20000-60000 -n 1)
step "3. rights service (-m fanremix.service) on :$port"
"${CLEAN_ENV[@]}" "$EXE" -m fanremix.service --data "$service_dir" --host 127.0.0.1 --port "$port" \
    --log-level warning >service.log 2>&1 &
SERVICE_PID=$!
for _ in $(seq 1 150); do
    if curl -fsS "http://127.0.0.1:$port/v1/health" >/dev/null 2>&1; then break; fi
    kill -0 "$SERVICE_PID" 2>/dev/null || { cat service.log; fail "the rights service exited"; }
    sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/v1/health" >/dev/null || { cat service.log; fail "the rights service did not answer"; }
# Announce it the way the desktop app does, so every command below uses this one service.
printf '{"url": "http://127.0.0.1:%s", "pid": %s}' "$port" "$SERVICE_PID" >"$service_dir/local.json"
done_step
step "   fan account"
echo "package-test-password" | run "$EXE" account register package-test-fan --password-stdin >account.log 2>&1 ||
    { cat account.log; fail "account register"; }
done_step
step "   export with grant + C2PA (submit)"
run "$EXE" submit recipe.json --pack "$demo_pack" --format flac -o remix.flac >submit.log 2>&1 ||
    { cat submit.log service.log; fail "submit"; }
[ -s remix.flac ] || fail "submit wrote no remix.flac"
done_step "$(grep -o 'Submission .*' submit.log | head -1)"
step "   verify"
run "$EXE" verify remix.flac >verify.log 2>&1 || { cat verify.log; fail "verify"; }
grep -q 'genuine: signed by the rights service' verify.log || { cat verify.log; fail "verify did not check the grant"; }
done_step
step "   verify --pack (re-render and compare)"
run "$EXE" verify remix.flac --pack "$demo_pack" >verify-pack.log 2>&1 || { cat verify-pack.log; fail "verify --pack"; }
done_step
step "   verify the signed render (no grant)"
run "$EXE" verify render.flac >verify-render.log 2>&1 || { cat verify-render.log; fail "verify of the render"; }
done_step
step "   unsigned render is refused by verify"
if run "$EXE" verify unsigned.flac >verify-unsigned.log 2>&1; then fail "verify accepted a file with no C2PA record"; fi
done_step "refused, as it should be"
step "   rights service stops on SIGTERM"
kill -TERM "$SERVICE_PID"
service_status=0
wait "$SERVICE_PID" || service_status=$?
SERVICE_PID=""
# uvicorn shuts down gracefully, then re-raises the signal it caught, so 143 (SIGTERM) is its clean exit
case $service_status in 0 | 143) ;; *) cat service.log; fail "the rights service exited with status $service_status" ;; esac
rm -f "$service_dir/local.json"
done_step "exit $service_status (graceful)"

# 4. GUI offscreen
step "4. GUI: open the demo song, paint, quit by itself"
run FANREMIX_STARTUP_MARK=1 timeout "${GUI_START_TIMEOUT:-60}" "$EXE" >gui-mark.log 2>&1 || { cat gui-mark.log; fail "the GUI did not show the demo song within ${GUI_START_TIMEOUT:-60} s"; }
grep -q FANREMIX_WINDOW_READY gui-mark.log || { cat gui-mark.log; fail "the window never showed the demo song"; }
done_step
step "   GUI: ${GUI_SECONDS} s, then SIGTERM"
"${CLEAN_ENV[@]}" "$EXE" >gui.log 2>&1 &
GUI_PID=$!
sleep "$GUI_SECONDS"
kill -0 "$GUI_PID" 2>/dev/null || { cat gui.log; fail "the GUI ended by itself within ${GUI_SECONDS} s"; }
kill -TERM "$GUI_PID"
status=0
for _ in $(seq 1 100); do
    kill -0 "$GUI_PID" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$GUI_PID" 2>/dev/null; then
    kill -KILL "$GUI_PID"
    fail "the GUI did not quit within 10 s of SIGTERM"
fi
wait "$GUI_PID" || status=$?
GUI_PID=""
if [ "$status" -eq 143 ]; then
    fail "SIGTERM killed the GUI (exit 143): the app installs no SIGTERM handler (see packaging/README.md)"
fi
[ "$status" -eq 0 ] || { cat gui.log; fail "the GUI exited with status $status after SIGTERM"; }
if grep -q Traceback gui.log; then
    cat gui.log
    fail "the GUI printed a traceback"
fi
done_step "exit 0"
step "   no process left behind (e.g. the local rights service)"
sleep 1
leftover=$(pgrep -af -- "$WORK" || true)
[ -z "$leftover" ] || fail "processes still running after the GUI quit: $leftover"
done_step

echo "package-test: all steps passed (bundle ${size_mb} MB)"
