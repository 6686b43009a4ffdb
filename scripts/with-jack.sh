#!/usr/bin/env bash
# Run a command with a JACK dummy server available, so that real-time tests have a real, paced output
# device on a machine with no sound card. Reuses a running server; stops the one it started.
set -uo pipefail
started=""
if command -v jackd >/dev/null 2>&1; then
    if ! jack_wait -c >/dev/null 2>&1; then
        JACK_NO_AUDIO_RESERVATION=1 jackd --no-realtime -d dummy -r 44100 -p 512 >/tmp/fanremix-jackd.log 2>&1 &
        started=$!
        jack_wait -w -t 10 >/dev/null 2>&1 || echo "warning: JACK dummy server did not start; real-time tests will skip" >&2
    fi
fi
"$@"
status=$?
if [ -n "$started" ]; then
    kill "$started" 2>/dev/null
    wait "$started" 2>/dev/null
fi
exit $status
