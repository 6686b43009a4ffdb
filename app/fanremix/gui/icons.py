"""Small vector icons drawn with QPainter in the theme's text colour, so they are sharp at any scale and theme.

No icon theme is needed (many desktops and the offscreen platform have none).

Icons set with `set_themed_icon` / `set_themed_tab_icon` remember their name and colour scheme, so
`refresh_themed_icons` can draw them again in the new theme's colours when the palette changes.
"""

import math
from collections.abc import Callable

from PySide6.QtCore import QObject, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QAction,
    QColor,
    QGuiApplication,
    QIcon,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import QAbstractButton, QTabWidget, QWidget

SIZE = 64


def _polygon(painter: QPainter, points: list[tuple[float, float]]) -> None:
    painter.drawPolygon(QPolygonF([QPointF(x, y) for x, y in points]))


def _play(p: QPainter) -> None:
    _polygon(p, [(20, 12), (52, 32), (20, 52)])


def _pause(p: QPainter) -> None:
    p.drawRoundedRect(QRectF(16, 12, 11, 40), 2, 2)
    p.drawRoundedRect(QRectF(37, 12, 11, 40), 2, 2)


def _stop(p: QPainter) -> None:
    p.drawRoundedRect(QRectF(16, 16, 32, 32), 3, 3)


def _home(p: QPainter) -> None:
    p.drawRect(QRectF(14, 14, 7, 36))
    _polygon(p, [(50, 14), (24, 32), (50, 50)])


def _arc_arrow(p: QPainter, clockwise: bool = True, full: bool = False) -> None:
    pen = QPen(p.brush().color(), 6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    rect = QRectF(14, 14, 36, 36)
    if full:
        p.drawArc(rect, 30 * 16, 150 * 16)
        p.drawArc(rect, 210 * 16, 150 * 16)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(pen.color())
        _polygon(p, [(50, 16), (54, 34), (40, 28)])
        _polygon(p, [(14, 48), (10, 30), (24, 36)])
    else:
        p.drawArc(rect, 200 * 16 if clockwise else -20 * 16, 220 * 16 if clockwise else -220 * 16)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(pen.color())
        if clockwise:
            _polygon(p, [(8, 30), (26, 30), (16, 44)])
        else:
            _polygon(p, [(56, 30), (38, 30), (48, 44)])


def _loop(p: QPainter) -> None:
    _arc_arrow(p, full=True)


def _undo(p: QPainter) -> None:
    _arc_arrow(p, clockwise=False)


def _redo(p: QPainter) -> None:
    _arc_arrow(p, clockwise=True)


def _folder(p: QPainter) -> None:
    path = QPainterPath()
    path.moveTo(8, 18)
    path.lineTo(26, 18)
    path.lineTo(31, 24)
    path.lineTo(56, 24)
    path.lineTo(56, 50)
    path.lineTo(8, 50)
    path.closeSubpath()
    p.drawPath(path)


def _save(p: QPainter) -> None:
    colour = p.brush().color()
    p.drawRoundedRect(QRectF(12, 12, 40, 40), 4, 4)
    p.setBrush(QColor(0, 0, 0, 0))
    p.setCompositionMode(QPainter.CompositionMode.CompositionMode_Clear)
    p.drawRect(QRectF(20, 14, 22, 12))
    p.drawRect(QRectF(20, 34, 24, 14))
    p.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)
    p.setBrush(colour)
    p.drawRect(QRectF(34, 16, 5, 8))


def _export(p: QPainter) -> None:
    colour = p.brush().color()
    pen = QPen(colour, 6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawPolyline(QPolygonF([QPointF(12, 36), QPointF(12, 52), QPointF(52, 52), QPointF(52, 36)]))
    p.drawLine(QPointF(32, 40), QPointF(32, 12))
    p.drawPolyline(QPolygonF([QPointF(20, 22), QPointF(32, 10), QPointF(44, 22)]))


def _plus(p: QPainter) -> None:
    p.drawRoundedRect(QRectF(28, 10, 8, 44), 3, 3)
    p.drawRoundedRect(QRectF(10, 28, 44, 8), 3, 3)


def _close(p: QPainter) -> None:
    p.translate(32, 32)
    p.rotate(45)
    p.drawRoundedRect(QRectF(-4, -22, 8, 44), 3, 3)
    p.drawRoundedRect(QRectF(-22, -4, 44, 8), 3, 3)


def _up(p: QPainter) -> None:
    _polygon(p, [(32, 14), (54, 44), (10, 44)])


def _down(p: QPainter) -> None:
    _polygon(p, [(32, 50), (54, 20), (10, 20)])


def _power(p: QPainter) -> None:
    colour = p.brush().color()
    pen = QPen(colour, 6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawArc(QRectF(12, 14, 40, 40), 120 * 16, 300 * 16)
    p.drawLine(QPointF(32, 8), QPointF(32, 30))


def _speaker(p: QPainter) -> None:
    _polygon(p, [(8, 24), (20, 24), (34, 12), (34, 52), (20, 40), (8, 40)])
    pen = QPen(p.brush().color(), 5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    for radius in (10, 18):
        p.drawArc(QRectF(34 - radius, 32 - radius, 2 * radius, 2 * radius), -45 * 16, 90 * 16)


def _shield(p: QPainter) -> None:
    path = QPainterPath()
    path.moveTo(32, 8)
    path.lineTo(54, 16)
    path.cubicTo(54, 38, 44, 50, 32, 56)
    path.cubicTo(20, 50, 10, 38, 10, 16)
    path.closeSubpath()
    p.drawPath(path)


def _sparkle(p: QPainter) -> None:
    points = []
    for i in range(8):
        angle = math.pi / 4 * i - math.pi / 2
        radius = 24 if i % 2 == 0 else 8
        points.append((32 + radius * math.cos(angle), 32 + radius * math.sin(angle)))
    _polygon(p, points)


_PAINTERS: dict[str, Callable[[QPainter], None]] = {
    "play": _play,
    "pause": _pause,
    "stop": _stop,
    "home": _home,
    "loop": _loop,
    "undo": _undo,
    "redo": _redo,
    "open": _folder,
    "save": _save,
    "export": _export,
    "add": _plus,
    "remove": _close,
    "up": _up,
    "down": _down,
    "bypass": _power,
    "reset": _undo,
    "speaker": _speaker,
    "licence": _shield,
    "effects": _sparkle,
}


def pixmap(name: str, colour: QColor | str, size: int = SIZE, ratio: float = 2.0) -> QPixmap:
    pix = QPixmap(int(size * ratio), int(size * ratio))
    pix.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pix)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(size * ratio / SIZE, size * ratio / SIZE)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(colour))
    _PAINTERS[name](painter)
    painter.end()
    pix.setDevicePixelRatio(ratio)
    return pix


def icon(
    name: str, colour: QColor | str, disabled: QColor | str | None = None, checked: QColor | str | None = None
) -> QIcon:
    """`name` in `colour`; greyed in `disabled` when disabled; in `checked` when checked (a toggle that is on)."""
    result = QIcon()
    for size in (16, 24, 32, 48):
        result.addPixmap(pixmap(name, colour, size), QIcon.Mode.Normal, QIcon.State.Off)
        if disabled is not None:
            result.addPixmap(pixmap(name, disabled, size), QIcon.Mode.Disabled, QIcon.State.Off)
        if checked is not None:  # (without it, Qt draws a checked button with the Off pixmaps)
            result.addPixmap(pixmap(name, checked, size), QIcon.Mode.Normal, QIcon.State.On)
            if disabled is not None:
                result.addPixmap(pixmap(name, disabled, size), QIcon.Mode.Disabled, QIcon.State.On)
    return result


# -- icons that follow the theme -----------------------------------------------------------------------------------

ICON_NAME = "iconName"  # the property holding a themed icon's name (on an action, a button or a tab's page)
ICON_SCHEME = "iconScheme"
TAB_ICON_NAME = "tabIconName"
TEXT = "text"  # the text colour; muted when disabled
ON_ACCENT = "on-accent"  # on an accent-coloured (primary) button
TOGGLE = "toggle"  # muted when off, on the accent colour when on (the accent background of a checked button)


def themed_icon(name: str, scheme: str = TEXT) -> QIcon:
    """`name` drawn in the current application palette's colours."""
    palette = QGuiApplication.palette()
    text = palette.color(QPalette.ColorRole.Text)
    muted = palette.color(QPalette.ColorRole.PlaceholderText)
    on_accent = palette.color(QPalette.ColorRole.HighlightedText)
    if scheme == ON_ACCENT:
        return icon(name, on_accent, muted)
    if scheme == TOGGLE:
        return icon(name, muted, muted, checked=on_accent)
    return icon(name, text, muted)


def set_themed_icon(target: QAction | QAbstractButton, name: str, scheme: str = TEXT) -> None:
    """Give `target` the icon `name`, and remember it so `refresh_themed_icons` redraws it in a new theme."""
    target.setProperty(ICON_NAME, name)
    target.setProperty(ICON_SCHEME, scheme)
    target.setIcon(themed_icon(name, scheme))


def set_themed_tab_icon(tabs: QTabWidget, page: QWidget, name: str) -> None:
    page.setProperty(TAB_ICON_NAME, name)
    tabs.setTabIcon(tabs.indexOf(page), themed_icon(name))


def refresh_themed_icons(root: QWidget) -> None:
    """Redraw every themed icon of `root` and its descendants (widgets, actions, tabs) in the current palette."""
    for item in (root, *root.findChildren(QObject)):
        name = item.property(ICON_NAME)
        if name and isinstance(item, QAction | QAbstractButton):
            item.setIcon(themed_icon(str(name), str(item.property(ICON_SCHEME) or TEXT)))
        if isinstance(item, QTabWidget):
            for index in range(item.count()):
                tab_name = item.widget(index).property(TAB_ICON_NAME)
                if tab_name:
                    item.setTabIcon(index, themed_icon(str(tab_name)))


def names() -> tuple[str, ...]:
    return tuple(_PAINTERS)
