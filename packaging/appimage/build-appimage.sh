#!/usr/bin/env bash
# Build an AppImage of Fan Remix Studio (`make appimage`, after `make package`).
#
# Step 1 (always): lay out build/AppDir from dist/fanremix: AppRun, the desktop file and icon at the top, and the
#   usual usr/ tree (bundle, metainfo, MIME, icons) made by packaging/install.sh. `build/AppDir/AppRun --version`
#   runs the app from it.
# Step 2 (only when appimagetool is there): pack the AppDir into dist/FanRemixStudio-VERSION-x86_64.AppImage.
#   appimagetool is not in Debian or PyPI, so it is not installed by `make`; see packaging/README.md for how to get
#   it, then run `APPIMAGETOOL=/path/to/appimagetool make appimage`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
APP_ID=org.fanremix.FanRemixStudio
APPDIR=${APPDIR:-$ROOT/build/AppDir}
VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$ROOT/app/fanremix/__init__.py")
ARCH=${ARCH:-$(uname -m)}
OUT=${OUT:-$ROOT/dist/FanRemixStudio-$VERSION-$ARCH.AppImage}

rm -rf "$APPDIR"
"$ROOT/packaging/install.sh" --prefix /usr --destdir "$APPDIR" >/dev/null
# Inside an AppImage the program is found relative to the AppDir, not at /usr/bin: keep Exec= as the bare name
# (appimagetool requires it; AppImage desktop integrators rewrite it to the AppImage's path).
install -m 644 "$ROOT/packaging/$APP_ID.desktop" "$APPDIR/usr/share/applications/$APP_ID.desktop"
install -m 644 "$ROOT/packaging/$APP_ID.desktop" "$APPDIR/$APP_ID.desktop"
install -m 644 "$APPDIR/usr/share/icons/hicolor/256x256/apps/$APP_ID.png" "$APPDIR/$APP_ID.png"
ln -sfn "$APP_ID.png" "$APPDIR/.DirIcon"
install -m 755 "$ROOT/packaging/appimage/AppRun" "$APPDIR/AppRun"
rm -f "$APPDIR/usr/bin/fanremix"
ln -sfn ../lib/fanremix/fanremix "$APPDIR/usr/bin/fanremix"

"$APPDIR/AppRun" --version >/dev/null || { echo "build-appimage: $APPDIR/AppRun does not run" >&2; exit 1; }
echo "AppDir ready: $APPDIR ($(du -sh "$APPDIR" | cut -f1))"

TOOL=${APPIMAGETOOL:-$(command -v appimagetool || true)}
if [ -z "$TOOL" ]; then
    echo "appimagetool not found: the AppImage itself was not made (see packaging/README.md, 'AppImage')."
    exit 0
fi
ARCH=$ARCH "$TOOL" "$APPDIR" "$OUT"
echo "AppImage: $OUT ($(du -h "$OUT" | cut -f1))"
