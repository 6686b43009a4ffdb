#!/usr/bin/env bash
# Create the virtual environment if it does not exist yet (or is broken).
set -euo pipefail
venv="$1"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
    python3 -m venv "$venv"
fi
