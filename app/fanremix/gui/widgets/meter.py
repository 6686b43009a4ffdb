"""A level meter: RMS bar, peak line and a held peak, on a dB scale. Fed by the window's poll timer."""

import math
import time

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QLinearGradient, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

FLOOR_DB = -60.0
CEILING_DB = 6.0
FALL_DB_PER_S = 24.0  # how fast the bar falls when the level drops (a PPM-like ballistics)
HOLD_S = 1.2


def to_db(amplitude: float) -> float:
    return 20.0 * math.log10(amplitude) if amplitude > 1e-6 else -120.0


def meter_fraction(db: float) -> float:
    return max(0.0, min(1.0, (db - FLOOR_DB) / (CEILING_DB - FLOOR_DB)))


class LevelMeter(QWidget):
    """One or more vertical channels. `set_levels(peaks, rms)` takes linear amplitudes."""

    def __init__(self, channels: int = 1, parent: QWidget | None = None):
        super().__init__(parent)
        self.channels = channels
        self._peak_db = [FLOOR_DB] * channels
        self._rms_db = [FLOOR_DB] * channels
        self._hold_db = [FLOOR_DB] * channels
        self._hold_time = [0.0] * channels
        self._last = time.monotonic()
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAccessibleName("Level meter")

    def sizeHint(self) -> QSize:
        return QSize(6 + 8 * self.channels, 160)

    def minimumSizeHint(self) -> QSize:
        return QSize(6 + 6 * self.channels, 60)

    @property
    def peak_db(self) -> list[float]:
        return list(self._peak_db)

    def set_levels(self, peaks: tuple[float, ...] | list[float], rms: tuple[float, ...] | list[float]) -> None:
        now = time.monotonic()
        elapsed = min(0.5, now - self._last)
        self._last = now
        changed = False
        for i in range(self.channels):
            peak = to_db(float(peaks[i] if i < len(peaks) else peaks[-1])) if peaks else -120.0
            level = to_db(float(rms[i] if i < len(rms) else rms[-1])) if rms else -120.0
            fallen_peak = self._peak_db[i] - FALL_DB_PER_S * elapsed
            fallen_rms = self._rms_db[i] - FALL_DB_PER_S * elapsed
            new_peak = max(FLOOR_DB, peak, fallen_peak)
            new_rms = max(FLOOR_DB, level, fallen_rms)
            if new_peak >= self._hold_db[i] or now - self._hold_time[i] > HOLD_S:
                self._hold_db[i] = new_peak
                self._hold_time[i] = now
            if abs(new_peak - self._peak_db[i]) > 0.05 or abs(new_rms - self._rms_db[i]) > 0.05:
                changed = True
            self._peak_db[i], self._rms_db[i] = new_peak, new_rms
        if changed:
            self.update()

    def reset(self) -> None:
        self._peak_db = [FLOOR_DB] * self.channels
        self._rms_db = [FLOOR_DB] * self.channels
        self._hold_db = [FLOOR_DB] * self.channels
        self.update()

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        gap = 2.0
        width = (rect.width() - gap * (self.channels - 1)) / self.channels
        groove = self.palette().color(QPalette.ColorRole.Dark)
        gradient = QLinearGradient(0, rect.bottom(), 0, rect.top())
        gradient.setColorAt(0.0, QColor("#1fbf75"))
        gradient.setColorAt(meter_fraction(-18.0), QColor("#3ecf8e"))
        gradient.setColorAt(meter_fraction(-6.0), QColor("#ffd43b"))
        gradient.setColorAt(meter_fraction(0.0), QColor("#ff6b4a"))
        gradient.setColorAt(1.0, QColor("#ff3b3b"))
        for i in range(self.channels):
            x = rect.left() + i * (width + gap)
            lane = QRectF(x, rect.top(), width, rect.height())
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(groove)
            painter.drawRoundedRect(lane, 2, 2)
            rms_height = lane.height() * meter_fraction(self._rms_db[i])
            peak_height = lane.height() * meter_fraction(self._peak_db[i])
            painter.setOpacity(0.45)
            painter.setBrush(gradient)
            painter.drawRoundedRect(QRectF(x, lane.bottom() - peak_height, width, peak_height), 2, 2)
            painter.setOpacity(1.0)
            painter.drawRoundedRect(QRectF(x, lane.bottom() - rms_height, width, rms_height), 2, 2)
            if self._hold_db[i] > FLOOR_DB:
                y = lane.bottom() - lane.height() * meter_fraction(self._hold_db[i])
                painter.setBrush(
                    QColor("#ff3b3b") if self._hold_db[i] > 0 else self.palette().color(QPalette.ColorRole.Text)
                )
                painter.drawRect(QRectF(x, y - 1, width, 2))
        # 0 dB mark
        painter.setOpacity(0.6)
        painter.setBrush(self.palette().color(QPalette.ColorRole.Mid))
        zero = rect.bottom() - rect.height() * meter_fraction(0.0)
        painter.drawRect(QRectF(rect.left(), zero, rect.width(), 1))
        painter.end()
