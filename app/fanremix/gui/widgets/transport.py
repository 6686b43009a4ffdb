"""Transport: to start, play/pause, stop, loop, and the position in mm:ss (with the output time under tempo)."""

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from .. import icons
from ..session import clock


class TransportBar(QWidget):
    """Buttons bound to the window's actions, and the clock."""

    def __init__(
        self,
        actions: dict[str, QAction],
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.buttons: dict[str, QToolButton] = {}
        for name in ("home", "play", "stop", "loop"):
            button = QToolButton()
            button.setObjectName("TransportButton")
            button.setDefaultAction(actions[name])
            button.setIconSize(QSize(20 if name == "play" else 16, 20 if name == "play" else 16))
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
            button.setAccessibleName(actions[name].text().replace("&", ""))
            button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            self.buttons[name] = button
            layout.addWidget(button)
        clock_box = QVBoxLayout()
        clock_box.setSpacing(0)
        self.clock = QLabel("00:00.0")
        self.clock.setObjectName("Clock")
        self.clock.setAccessibleName("Position")
        self.clock.setMinimumWidth(self.clock.fontMetrics().horizontalAdvance("00:00.0 / 00:00") + 8)
        self.detail = QLabel("")
        self.detail.setObjectName("Caption")
        clock_box.addWidget(self.clock)
        clock_box.addWidget(self.detail)
        layout.addSpacing(8)
        layout.addLayout(clock_box)
        self._duration = 0.0
        self._shown = ("", "")

    def set_duration(self, seconds: float) -> None:
        self._duration = seconds

    def show_position(self, original_s: float, output_s: float, tempo_ratio: float) -> None:
        main = f"{clock(original_s, tenths=True)}"
        total = clock(self._duration)
        detail = f"of {total}"
        if abs(tempo_ratio - 1.0) > 1e-6:
            detail += f" · remix time {clock(output_s)} of {clock(self._duration / tempo_ratio)}"
        if (main, detail) != self._shown:
            self._shown = (main, detail)
            self.clock.setText(main)
            self.detail.setText(detail)

    def set_playing(self, playing: bool, play_action: QAction) -> None:
        icons.set_themed_icon(play_action, "pause" if playing else "play")
        play_action.setText("Pause" if playing else "Play")
        self.buttons["play"].setAccessibleName("Pause" if playing else "Play")
