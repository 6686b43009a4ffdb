"""Mixer controls: a dB fader and a pan knob. They emit only for the user's moves, never for programmatic updates."""

import bisect

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QDial, QSlider, QWidget

# the fader law: position (0..1000) to dB, piecewise linear; unity sits at three quarters of the travel
FADER_POINTS = ((0, -60.0), (250, -30.0), (500, -12.0), (750, 0.0), (1000, 12.0))
FADER_STEPS = 1000


def fader_to_db(position: int) -> float:
    position = max(0, min(FADER_STEPS, int(position)))
    xs = [p for p, _ in FADER_POINTS]
    i = max(1, bisect.bisect_left(xs, position))
    (x0, y0), (x1, y1) = FADER_POINTS[i - 1], FADER_POINTS[i]
    return round(y0 + (y1 - y0) * (position - x0) / (x1 - x0), 1)  # 0.1 dB: what the label shows


def db_to_fader(db: float) -> int:
    db = max(FADER_POINTS[0][1], min(FADER_POINTS[-1][1], float(db)))
    ys = [y for _, y in FADER_POINTS]
    i = max(1, bisect.bisect_left(ys, db))
    (x0, y0), (x1, y1) = FADER_POINTS[i - 1], FADER_POINTS[i]
    return round(x0 + (x1 - x0) * (db - y0) / (y1 - y0))


def db_text(db: float) -> str:
    if db <= FADER_POINTS[0][1]:
        return "−∞ dB"
    sign = "+" if db > 0.05 else ("−" if db < -0.05 else "")
    return f"{sign}{abs(db):.1f} dB"


class _DoubleClickReset(QObject):
    def __init__(self, widget: QWidget, callback):
        super().__init__(widget)
        self._callback = callback
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseButtonDblClick and isinstance(event, QMouseEvent):
            self._callback()
            return True
        return False


class Fader(QSlider):
    """A vertical gain fader in dB. Double-click returns to 0 dB."""

    gain_moved = Signal(float)
    gesture_finished = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(Qt.Orientation.Vertical, parent)
        self.setRange(0, FADER_STEPS)
        self.setSingleStep(5)
        self.setPageStep(50)
        self.setValue(db_to_fader(0.0))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._quiet = False
        self.valueChanged.connect(self._changed)
        self.sliderReleased.connect(self.gesture_finished)
        _DoubleClickReset(self, lambda: self._user_set(0.0))

    def _changed(self, value: int) -> None:
        if not self._quiet:
            self.gain_moved.emit(fader_to_db(value))

    def _user_set(self, db: float) -> None:
        self.setValue(max(self.minimum(), db_to_fader(db)))
        self.gesture_finished.emit()

    def set_db(self, db: float) -> None:
        """Show a value from the model without emitting."""
        self._quiet = True
        try:
            self.setValue(db_to_fader(db))
        finally:
            self._quiet = False

    def set_floor_db(self, db: float) -> None:
        self._quiet = True
        try:
            self.setMinimum(db_to_fader(db) if db > FADER_POINTS[0][1] else 0)
        finally:
            self._quiet = False

    def db(self) -> float:
        return fader_to_db(self.value())


class PanKnob(QDial):
    """Pan from -1 (left) to +1 (right), in steps of 0.01. Double-click centres it."""

    pan_moved = Signal(float)
    gesture_finished = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setRange(-100, 100)
        self.setSingleStep(2)
        self.setPageStep(10)
        self.setNotchesVisible(True)
        self.setNotchTarget(10)
        self.setWrapping(False)
        self.setFixedSize(44, 44)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._quiet = False
        self.valueChanged.connect(self._changed)
        self.sliderReleased.connect(self.gesture_finished)
        _DoubleClickReset(self, self._centre)

    def _changed(self, value: int) -> None:
        if not self._quiet:
            self.pan_moved.emit(value / 100.0)

    def _centre(self) -> None:
        self.setValue(0)
        self.gesture_finished.emit()

    def set_pan(self, pan: float) -> None:
        self._quiet = True
        try:
            self.setValue(round(pan * 100))
        finally:
            self._quiet = False
