"""Render the app icon's PNG sizes from its SVG into a hicolor icon tree.

    .venv/bin/python packaging/render_icons.py OUT_DIR
    -> OUT_DIR/hicolor/{16x16,...,512x512}/apps/org.fanremix.FanRemixStudio.png and scalable/apps/…svg

The SVG in resources/icons/ is the only source; the PNGs are build output (`make package` makes them), so they
never drift from it. QtSvg from the venv does the drawing, so no other tool is needed.
"""

import os
import shutil
import sys
from pathlib import Path

APP_ID = "org.fanremix.FanRemixStudio"
SIZES = (16, 32, 48, 64, 128, 256, 512)
SOURCE = Path(__file__).resolve().parents[1] / "resources" / "icons" / f"{APP_ID}.svg"


def render_png(svg: Path, size: int, out: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(out), "PNG"):
        raise SystemExit(f"could not write {out}")


def render_tree(out_dir: Path, svg: Path = SOURCE) -> list[Path]:
    """Write the hicolor tree; return the files written."""
    written = []
    for size in SIZES:
        target = out_dir / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        render_png(svg, size, target)
        written.append(target)
    scalable = out_dir / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(svg, scalable)
    written.append(scalable)
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    for path in render_tree(Path(argv[0])):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
