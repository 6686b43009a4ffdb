#!/usr/bin/env bash
# Run a command with a JACK dummy server available, so that real-time tests have a real, paced output device on a
# machine with no sound card. Reuses a running server; stops the one it started. The server runs with real-time
# scheduling when the machine allows it (root usually may), so a loaded machine does not delay its cycles; otherwise
# it falls back to ordinary scheduling.
set -uo pipefail
started=""
start_jack() {
    # the log keeps its first megabyte: a server that complains every cycle must not fill the disk
    JACK_NO_AUDIO_RESERVATION=1 jackd "$@" -d dummy -r 44100 -p 512 \
        > >(head -c 1000000 >/tmp/fanremix-jackd.log; cat >/dev/null) 2>&1 &
    started=$!
    if ! jack_wait -w -t 10 >/dev/null 2>&1 || ! kill -0 "$started" 2>/dev/null; then
        kill "$started" 2>/dev/null
        wait "$started" 2>/dev/null
        started=""
        return 1
    fi
}
if command -v jackd >/dev/null 2>&1 && [ "$(jack_wait -c 2>/dev/null)" != "running" ]; then
    start_jack -R -P 70 || start_jack --no-realtime ||
        echo "warning: the JACK dummy server did not start; real-time tests will skip" >&2
fi
# No file the command writes may pass 2 GiB (the tests' largest are a few MB). A runaway writer (once: PortAudio's
# JACK layer printing one error in an endless loop into pytest's captured stderr, a deleted temp file) then dies with
# SIGXFSZ and the run fails, instead of filling the disk.
ulimit -f $((2 * 1024 * 1024))
"$@"
status=$?
if [ -n "$started" ]; then
    kill "$started" 2>/dev/null
    wait "$started" 2>/dev/null
fi
exit $status
