"""Waveform overviews of every stem on one timeline, with the shared playhead, the region and its fades.

Click to seek; drag to select the loop/export region; drag the region's edges to adjust it; drag the small handles
at its top corners to set the fades; double-click to go back to the whole song. The peaks are painted once into a
cached pixmap; the playhead is drawn over it, so following playback repaints only a sliver.
"""

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QKeyEvent, QMouseEvent, QPainter, QPalette, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from ..session import Session, clock
from ..theme import role_colour

RULER_HEIGHT = 18
LANE_GAP = 3
EDGE_GRAB_PX = 6
DRAG_START_PX = 4
HANDLE_SIZE = 8
MIN_LANE_PEAK = 0.05  # lanes are scaled to their loudest peak, but never magnify near-silence beyond this


class WaveformView(QWidget):
    seek_requested = Signal(float)

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.peaks = dict(session.peaks)
        self.playhead_s = 0.0
        self._background: QPixmap | None = None
        self._drag: str | None = None  # "pending", "select", "start", "end", "fade_in", "fade_out"
        self._press_x = 0.0
        self._anchor_s = 0.0
        self.setMinimumHeight(RULER_HEIGHT + 4 * 24)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setAccessibleName("Song overview: click to seek, drag to choose the region")
        self.setToolTip(
            "Click to move the playhead. Drag to choose the region to loop and export; drag its edges to adjust it, "
            "and the small handles at its top corners to set fades. Double-click for the whole song."
        )
        session.recipe_changed.connect(self._recipe_changed)
        self._audible = set(session.recipe.audible_stem_ids())

    def sizeHint(self) -> QSize:
        return QSize(800, RULER_HEIGHT + len(self.session.manifest.stems) * 40)

    # -- data -----------------------------------------------------------------------------------------------
    def set_peaks(self, peaks: dict) -> None:
        self.peaks = dict(peaks)
        self._background = None
        self.update()

    def set_playhead(self, seconds: float) -> None:
        if abs(seconds - self.playhead_s) < 1e-4:
            return
        old_x = self._x(self.playhead_s)
        self.playhead_s = seconds
        new_x = self._x(seconds)
        top, height = 0, self.height()
        self.update(QRect(int(min(old_x, new_x)) - 6, top, int(abs(new_x - old_x)) + 13, height))

    def _recipe_changed(self, recipe) -> None:
        audible = set(recipe.audible_stem_ids())
        if audible != self._audible:
            self._audible = audible
            self._background = None
        self.update()

    # -- geometry -------------------------------------------------------------------------------------------
    @property
    def duration(self) -> float:
        return max(self.session.duration_s, 1e-6)

    def _x(self, seconds: float) -> float:
        return 1 + (self.width() - 2) * max(0.0, min(1.0, seconds / self.duration))

    def _seconds(self, x: float) -> float:
        return max(0.0, min(self.duration, (x - 1) / max(1.0, self.width() - 2) * self.duration))

    def _lanes(self) -> list[tuple[str, QRectF]]:
        stems = self.session.manifest.stems
        count = max(1, len(stems))
        height = (self.height() - RULER_HEIGHT - LANE_GAP * (count - 1)) / count
        return [
            (stem.id, QRectF(0, RULER_HEIGHT + i * (height + LANE_GAP), self.width(), height))
            for i, stem in enumerate(stems)
        ]

    def _handles(self) -> dict[str, QRectF]:
        start, end = self.session.region()
        recipe = self.session.recipe
        y = RULER_HEIGHT
        fade_in_x = self._x(start + recipe.fade_in_s)
        fade_out_x = self._x(end - recipe.fade_out_s)
        return {
            "fade_in": QRectF(fade_in_x - HANDLE_SIZE / 2, y, HANDLE_SIZE, HANDLE_SIZE),
            "fade_out": QRectF(fade_out_x - HANDLE_SIZE / 2, y, HANDLE_SIZE, HANDLE_SIZE),
        }

    def _hit(self, pos: QPointF) -> str | None:
        for name, rect in self._handles().items():
            if rect.adjusted(-3, -3, 3, 3).contains(pos):
                return name
        start, end = self.session.region()
        if abs(pos.x() - self._x(start)) <= EDGE_GRAB_PX and start > 0:
            return "start"
        if abs(pos.x() - self._x(end)) <= EDGE_GRAB_PX and end < self.duration:
            return "end"
        return None

    # -- painting -------------------------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:
        self._background = None
        super().resizeEvent(event)

    def _paint_background(self) -> QPixmap:
        ratio = self.devicePixelRatioF()
        pix = QPixmap(int(self.width() * ratio), int(self.height() * ratio))
        pix.setDevicePixelRatio(ratio)
        palette = self.palette()
        pix.fill(palette.color(QPalette.ColorRole.Base))
        painter = QPainter(pix)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        text = palette.color(QPalette.ColorRole.PlaceholderText)
        # ruler
        painter.setPen(text)
        metrics = QFontMetrics(self.font())
        step = _ruler_step(self.duration, self.width(), metrics.horizontalAdvance("00:00") + 24)
        t = 0.0
        while t <= self.duration + 1e-6:
            x = self._x(t)
            painter.drawLine(QPointF(x, RULER_HEIGHT - 5), QPointF(x, RULER_HEIGHT - 1))
            label = clock(t)
            if x + metrics.horizontalAdvance(label) + 4 < self.width():
                painter.drawText(QPointF(x + 3, RULER_HEIGHT - 6), label)
            t += step
        stems = {stem.id: stem for stem in self.session.manifest.stems}
        for stem_id, lane in self._lanes():
            stem = stems[stem_id]
            colour = role_colour(stem.role)
            audible = stem_id in self._audible
            background = QColor(colour)
            background.setAlpha(28 if audible else 10)
            painter.fillRect(lane, background)
            peaks = self.peaks.get(stem_id)
            wave = QColor(colour)
            wave.setAlpha(230 if audible else 70)
            painter.setPen(QPen(wave, 1))
            mid = lane.center().y()
            if peaks is not None and len(peaks):
                # each lane is scaled to its own loudest peak, so a quiet stem still shows its shape
                loudest = max(float(np.abs(peaks).max()), MIN_LANE_PEAK)
                half = (lane.height() / 2 - 2) / loudest
                lows, highs = _columns(peaks, max(1, int(self.width())))
                lines = [
                    QLineF(column + 0.5, mid - high * half, column + 0.5, mid - low * half)
                    for column, (low, high) in enumerate(zip(lows.tolist(), highs.tolist(), strict=True))
                    if (high - low) * half >= 0.5
                ]
                painter.drawLines(lines)
            else:
                painter.drawLine(QPointF(0, mid), QPointF(self.width(), mid))
        painter.end()
        return pix

    def _paint_names(self, painter: QPainter) -> None:
        """Each stem's name on a small plate, drawn over the region shading so it always reads."""
        palette = self.palette()
        metrics = QFontMetrics(self.font())
        backdrop = palette.color(QPalette.ColorRole.Base)
        backdrop.setAlpha(200)
        muted = palette.color(QPalette.ColorRole.PlaceholderText)
        stems = {stem.id: stem for stem in self.session.manifest.stems}
        for stem_id, lane in self._lanes():
            stem = stems[stem_id]
            name = metrics.elidedText(stem.name, Qt.TextElideMode.ElideRight, 160)
            plate = QRectF(4, lane.top() + 3, metrics.horizontalAdvance(name) + 10, metrics.height() + 2)
            painter.fillRect(plate, backdrop)
            painter.setPen(role_colour(stem.role) if stem_id in self._audible else muted)
            painter.drawText(plate, Qt.AlignmentFlag.AlignCenter, name)

    def paintEvent(self, event) -> None:
        if self._background is None or self._background.size() != self.size() * self.devicePixelRatioF():
            self._background = self._paint_background()
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._background)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        accent = palette.color(QPalette.ColorRole.Highlight)
        start, end = self.session.region()
        recipe = self.session.recipe
        x0, x1 = self._x(start), self._x(end)
        dark = palette.color(QPalette.ColorRole.Base).lightness() < 128
        shade = QColor(0, 0, 0, 165) if dark else QColor(255, 255, 255, 170)  # outside the region: dimmed
        top = RULER_HEIGHT
        if start > 0:
            painter.fillRect(QRectF(0, top, x0, self.height() - top), shade)
        if end < self.duration:
            painter.fillRect(QRectF(x1, top, self.width() - x1, self.height() - top), shade)
        region_pen = QPen(accent, 1.5)
        painter.setPen(region_pen)
        if start > 0 or end < self.duration:
            painter.drawLine(QPointF(x0, top), QPointF(x0, self.height()))
            painter.drawLine(QPointF(x1, top), QPointF(x1, self.height()))
            band = QColor(accent)
            band.setAlpha(160)
            painter.fillRect(QRectF(x0, top - 4, x1 - x0, 3), band)
        # fades: ramps from the region's bottom corners to the fade handles
        fade_pen = QPen(accent, 1.5, Qt.PenStyle.DashLine)
        painter.setPen(fade_pen)
        handles = self._handles()
        if recipe.fade_in_s > 0:
            painter.drawLine(QPointF(x0, self.height() - 1), handles["fade_in"].center())
        if recipe.fade_out_s > 0:
            painter.drawLine(QPointF(x1, self.height() - 1), handles["fade_out"].center())
        painter.setPen(QPen(accent, 1))
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        for rect in handles.values():
            painter.drawRect(rect)
        self._paint_names(painter)
        # playhead
        x = self._x(self.playhead_s)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Text), 1.5))
        painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.color(QPalette.ColorRole.Text))
        painter.drawPolygon(QPolygonF([QPointF(x - 5, 0), QPointF(x + 5, 0), QPointF(x, 7)]))
        if self.hasFocus():
            painter.setPen(QPen(accent, 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))
        painter.end()

    # -- mouse and keys -------------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        pos = event.position()
        self._press_x = pos.x()
        self._drag = self._hit(pos) or "pending"
        self._anchor_s = self._seconds(pos.x())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self._drag is None:
            hit = self._hit(pos)
            self.setCursor(Qt.CursorShape.SizeHorCursor if hit else Qt.CursorShape.IBeamCursor)
            return
        seconds = self._seconds(pos.x())
        start, end = self.session.region()
        recipe = self.session.recipe
        if self._drag == "pending" and abs(pos.x() - self._press_x) >= DRAG_START_PX:
            self._drag = "select"
        if self._drag == "select":
            low, high = sorted((self._anchor_s, seconds))
            self.session.set_region(low, high)
        elif self._drag == "start":
            self.session.set_region(min(seconds, end - 0.1), None if end >= self.duration else end)
        elif self._drag == "end":
            self.session.set_region(start, max(seconds, start + 0.1))
        elif self._drag == "fade_in":
            self.session.set_fades(seconds - start, recipe.fade_out_s)
        elif self._drag == "fade_out":
            self.session.set_fades(recipe.fade_in_s, end - seconds)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag == "pending":
            self.seek_requested.emit(self._seconds(event.position().x()))
        elif self._drag is not None:
            self.session.seal()
        self._drag = None

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self._drag = None
        self.session.set_region(0.0, None)
        self.session.seal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        step = 5.0 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1.0
        if event.key() == Qt.Key.Key_Left:
            self.seek_requested.emit(max(0.0, self.playhead_s - step))
        elif event.key() == Qt.Key.Key_Right:
            self.seek_requested.emit(min(self.duration, self.playhead_s + step))
        else:
            super().keyPressEvent(event)

    def focusInEvent(self, event) -> None:
        self.update()
        super().focusInEvent(event)

    def focusOutEvent(self, event) -> None:
        self.update()
        super().focusOutEvent(event)


def _columns(peaks: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """The (min, max) of the peak bins that fall in each pixel column."""
    bins = len(peaks)
    starts = np.minimum((np.arange(columns) * bins) // columns, bins - 1)
    lows = np.minimum.reduceat(peaks[:, 0], starts)
    highs = np.maximum.reduceat(peaks[:, 1], starts)
    return lows, highs


def _ruler_step(duration: float, width: int, min_px: int) -> float:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600):
        if width * step / max(duration, 1e-6) >= min_px:
            return float(step)
    return 600.0
