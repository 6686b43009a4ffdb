#!/usr/bin/env bash
# Install the Debian packages named on the command line, but only those that are missing.
set -euo pipefail
missing=()
for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done
# python3 -m venv needs ensurepip, which Debian splits into python3-venv.
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    missing+=(python3-venv python3-pip)
fi
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "Installing system packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
