#!/usr/bin/env bash
# Install the bundle and its desktop integration under a prefix (`make install PREFIX=...`).
#
#   packaging/install.sh [--prefix DIR] [--destdir DIR] [--uninstall]
#
#   PREFIX/lib/fanremix/                      the one-folder bundle (dist/fanremix)
#   PREFIX/bin/fanremix                       a link to it
#   PREFIX/share/applications/org.fanremix.FanRemixStudio.desktop
#   PREFIX/share/metainfo/org.fanremix.FanRemixStudio.metainfo.xml
#   PREFIX/share/mime/packages/org.fanremix.FanRemixStudio.xml   (.fanpack and .fanremix)
#   PREFIX/share/icons/hicolor/{16x16..512x512,scalable}/apps/org.fanremix.FanRemixStudio.{png,svg}
#   PREFIX/share/doc/fanremix/                the licences
#
# PREFIX defaults to ~/.local (no root needed) and may be /usr/local or /opt/fanremix. DESTDIR stages the files for a
# distribution package; the desktop, MIME and icon caches are refreshed only without it. Needs `make package` first
# (dist/fanremix and build/icons).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
APP_ID=org.fanremix.FanRemixStudio
PREFIX=${PREFIX:-$HOME/.local}
DESTDIR=${DESTDIR:-}
UNINSTALL=0
BUNDLE=${BUNDLE:-$ROOT/dist/fanremix}
ICONS=${ICONS:-$ROOT/build/icons/hicolor}

while [ $# -gt 0 ]; do
    case $1 in
    --prefix) PREFIX=$2; shift 2 ;;
    --prefix=*) PREFIX=${1#*=}; shift ;;
    --destdir) DESTDIR=$2; shift 2 ;;
    --destdir=*) DESTDIR=${1#*=}; shift ;;
    --uninstall) UNINSTALL=1; shift ;;
    -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case $PREFIX in /*) ;; *) echo "install.sh: PREFIX must be an absolute path, not '$PREFIX'" >&2; exit 2 ;; esac
PREFIX=${PREFIX%/}
TARGET=$DESTDIR$PREFIX

refresh_caches() {
    [ -z "$DESTDIR" ] || return 0
    if command -v update-mime-database >/dev/null; then update-mime-database "$PREFIX/share/mime" || true; fi
    if command -v update-desktop-database >/dev/null; then
        update-desktop-database -q "$PREFIX/share/applications" || true
    fi
    if command -v gtk-update-icon-cache >/dev/null && [ -f "$PREFIX/share/icons/hicolor/index.theme" ]; then
        gtk-update-icon-cache -q -t -f "$PREFIX/share/icons/hicolor" || true
    fi
}

installed_files() {
    echo "bin/fanremix"
    echo "share/applications/$APP_ID.desktop"
    echo "share/metainfo/$APP_ID.metainfo.xml"
    echo "share/mime/packages/$APP_ID.xml"
    for size in 16 32 48 64 128 256 512; do echo "share/icons/hicolor/${size}x${size}/apps/$APP_ID.png"; done
    echo "share/icons/hicolor/scalable/apps/$APP_ID.svg"
}

if [ "$UNINSTALL" = 1 ]; then
    while read -r relative; do rm -f "$TARGET/$relative"; done < <(installed_files)
    rm -rf "$TARGET/lib/fanremix" "$TARGET/share/doc/fanremix"
    refresh_caches
    echo "Removed Fan Remix Studio from $TARGET"
    exit 0
fi

[ -x "$BUNDLE/fanremix" ] || { echo "install.sh: $BUNDLE/fanremix is missing; run 'make package' first" >&2; exit 1; }
[ -f "$ICONS/512x512/apps/$APP_ID.png" ] || { echo "install.sh: $ICONS has no icons; run 'make package'" >&2; exit 1; }

install -d "$TARGET/bin" "$TARGET/lib" "$TARGET/share/applications" "$TARGET/share/metainfo" \
    "$TARGET/share/mime/packages" "$TARGET/share/doc/fanremix"
# the bundle: replaced as a whole, so files of an older version do not linger
rm -rf "$TARGET/lib/fanremix.new"
cp -a "$BUNDLE" "$TARGET/lib/fanremix.new"
rm -rf "$TARGET/lib/fanremix"
mv "$TARGET/lib/fanremix.new" "$TARGET/lib/fanremix"
ln -sfn ../lib/fanremix/fanremix "$TARGET/bin/fanremix"

# Exec= and TryExec= name the installed program by its full path, so the menu entry works even when PREFIX/bin is
# not on the session's PATH (~/.local/bin often is not).
sed -e "s|^Exec=fanremix |Exec=$PREFIX/bin/fanremix |" -e "s|^TryExec=fanremix$|TryExec=$PREFIX/bin/fanremix|" \
    "$ROOT/packaging/$APP_ID.desktop" >"$TARGET/share/applications/$APP_ID.desktop"
chmod 644 "$TARGET/share/applications/$APP_ID.desktop"
install -m 644 "$ROOT/packaging/$APP_ID.metainfo.xml" "$TARGET/share/metainfo/$APP_ID.metainfo.xml"
install -m 644 "$ROOT/packaging/$APP_ID.mime.xml" "$TARGET/share/mime/packages/$APP_ID.xml"
for size in 16 32 48 64 128 256 512; do
    install -D -m 644 "$ICONS/${size}x${size}/apps/$APP_ID.png" \
        "$TARGET/share/icons/hicolor/${size}x${size}/apps/$APP_ID.png"
done
install -D -m 644 "$ICONS/scalable/apps/$APP_ID.svg" "$TARGET/share/icons/hicolor/scalable/apps/$APP_ID.svg"
cp -a "$BUNDLE/_internal/licences/." "$TARGET/share/doc/fanremix/"

refresh_caches
echo "Installed Fan Remix Studio in $TARGET (run: $PREFIX/bin/fanremix)"
