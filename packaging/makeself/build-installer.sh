#!/usr/bin/env bash
# Build a single-file installer that needs no root: dist/FanRemixStudio-VERSION-ARCH.run (`make installer`).
#
#   sh FanRemixStudio-0.1.0-x86_64.run                    installs under ~/.local (menu entry, icons, file types)
#   sh FanRemixStudio-0.1.0-x86_64.run -- --prefix /opt/fanremix        elsewhere (root may be needed there)
#   sh FanRemixStudio-0.1.0-x86_64.run -- --uninstall     removes it again
#
# It is a makeself archive (Debian package `makeself`) of the bundle, the desktop files and packaging/install.sh,
# which it runs after unpacking into a temporary folder. zstd compression when available, gzip otherwise.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$ROOT/app/fanremix/__init__.py")
ARCH=$(uname -m)
OUT=${OUT:-$ROOT/dist/FanRemixStudio-$VERSION-$ARCH.run}
STAGE=$ROOT/build/installer

command -v makeself >/dev/null || { echo "build-installer: makeself is missing (apt-get install makeself)" >&2; exit 1; }
[ -x "$ROOT/dist/fanremix/fanremix" ] || { echo "build-installer: run 'make package' first" >&2; exit 1; }

rm -rf "$STAGE"
mkdir -p "$STAGE/dist" "$STAGE/build" "$STAGE/packaging" "$STAGE/app/fanremix"
cp -a "$ROOT/dist/fanremix" "$STAGE/dist/"
cp -a "$ROOT/build/icons" "$STAGE/build/"
cp "$ROOT/packaging/install.sh" "$ROOT/packaging/"org.fanremix.FanRemixStudio.* "$STAGE/packaging/"
cp "$ROOT/app/fanremix/__init__.py" "$STAGE/app/fanremix/" # install.sh finds nothing else there; version only

compression=(--gzip)
if command -v zstd >/dev/null; then compression=(--zstd --complevel 12); fi
makeself --quiet --tar-quietly "${compression[@]}" \
    "$STAGE" "$OUT" "Fan Remix Studio $VERSION" ./packaging/install.sh
rm -rf "$STAGE"
echo "Installer: $OUT ($(du -h "$OUT" | cut -f1))"
