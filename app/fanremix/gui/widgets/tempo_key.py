"""Tempo (as a percentage and the resulting BPM) and key (in semitones and the resulting key name).

The sliders cannot leave the range the pack's policy allows; their tooltips say what that range is.
"""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QSlider, QToolButton, QVBoxLayout, QWidget

from .. import icons
from ..session import Session

TEMPO_STEPS_PER_UNIT = 1000  # slider units per 1.0 of ratio: 0.1 % steps


def tempo_text(ratio: float) -> str:
    return f"{ratio * 100:.1f} %".replace(".0 %", " %")


def semitone_text(semitones: float) -> str:
    value = round(semitones)
    if value == 0:
        return "±0"
    return f"{'+' if value > 0 else '−'}{abs(value)}"


class TempoKeyPanel(QWidget):
    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        manifest = session.manifest
        low, high = session.tempo_range
        pitch_low, pitch_high = session.pitch_range
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(4)
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)

        tempo_title = QLabel("Tempo")
        tempo_title.setObjectName("PanelTitle")
        self.tempo_value = QLabel()
        self.tempo_value.setObjectName("BigValue")
        self.tempo_detail = QLabel()
        self.tempo_detail.setObjectName("Muted")
        self.tempo_slider = QSlider(Qt.Orientation.Horizontal)
        self.tempo_slider.setRange(round(low * TEMPO_STEPS_PER_UNIT), round(high * TEMPO_STEPS_PER_UNIT))
        self.tempo_slider.setSingleStep(5)
        self.tempo_slider.setPageStep(50)
        self.tempo_slider.setAccessibleName("Tempo")
        if high - low < 1e-9:
            self.tempo_slider.setEnabled(False)
            self.tempo_slider.setToolTip("The rights holder does not allow changing the tempo of this song.")
        else:
            self.tempo_slider.setToolTip(
                f"The rights holder allows {tempo_text(low)} to {tempo_text(high)} of the original tempo "
                f"({manifest.bpm * low:.0f}–{manifest.bpm * high:.0f} BPM)."
            )
        self.tempo_slider.valueChanged.connect(self._tempo_moved)
        self.tempo_slider.sliderReleased.connect(session.seal)
        self.tempo_reset = QToolButton()
        icons.set_themed_icon(self.tempo_reset, "reset")
        self.tempo_reset.setToolTip(f"Back to the original tempo ({manifest.bpm:g} BPM)")
        self.tempo_reset.setAccessibleName("Reset tempo")
        self.tempo_reset.clicked.connect(session.reset_tempo)
        grid.addWidget(tempo_title, 0, 0)
        grid.addWidget(self.tempo_value, 0, 1, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.tempo_reset, 0, 2)
        grid.addWidget(self.tempo_slider, 1, 0, 1, 3)
        grid.addWidget(self.tempo_detail, 2, 0, 1, 3)

        key_title = QLabel("Key")
        key_title.setObjectName("PanelTitle")
        self.key_value = QLabel()
        self.key_value.setObjectName("BigValue")
        self.key_detail = QLabel()
        self.key_detail.setObjectName("Muted")
        self.key_slider = QSlider(Qt.Orientation.Horizontal)
        self.key_slider.setRange(round(pitch_low), round(pitch_high))
        self.key_slider.setPageStep(1)
        self.key_slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.key_slider.setTickInterval(1)
        self.key_slider.setAccessibleName("Key (semitones)")
        if pitch_high - pitch_low < 1:
            self.key_slider.setEnabled(False)
            self.key_slider.setToolTip("The rights holder does not allow changing the key of this song.")
        else:
            self.key_slider.setToolTip(
                f"The rights holder allows {semitone_text(pitch_low)} to {semitone_text(pitch_high)} semitones."
            )
        self.key_slider.valueChanged.connect(self._key_moved)
        self.key_slider.sliderReleased.connect(session.seal)
        self.key_reset = QToolButton()
        icons.set_themed_icon(self.key_reset, "reset")
        self.key_reset.setToolTip(f"Back to the original key ({manifest.musical_key.name})")
        self.key_reset.setAccessibleName("Reset key")
        self.key_reset.clicked.connect(session.reset_pitch)
        grid.addWidget(key_title, 3, 0)
        grid.addWidget(self.key_value, 3, 1, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.key_reset, 3, 2)
        grid.addWidget(self.key_slider, 4, 0, 1, 3)
        grid.addWidget(self.key_detail, 5, 0, 1, 3)
        grid.setRowMinimumHeight(3, 34)
        grid.setColumnStretch(0, 1)
        layout.addLayout(grid)
        layout.addStretch()
        self._quiet = False
        session.tempo_key_changed.connect(lambda _t, _p: self.refresh())
        self.refresh()

    def _tempo_moved(self, value: int) -> None:
        if not self._quiet:
            self.session.set_tempo(value / TEMPO_STEPS_PER_UNIT)

    def _key_moved(self, value: int) -> None:
        if not self._quiet:
            self.session.set_pitch(value)

    def refresh(self) -> None:
        recipe = self.session.recipe
        manifest = self.session.manifest
        self._quiet = True
        try:
            self.tempo_slider.setValue(round(recipe.tempo_ratio * TEMPO_STEPS_PER_UNIT))
            self.key_slider.setValue(round(recipe.pitch_semitones))
        finally:
            self._quiet = False
        self.tempo_value.setText(tempo_text(recipe.tempo_ratio))
        self.tempo_detail.setText(f"{manifest.bpm * recipe.tempo_ratio:.1f} BPM · original {manifest.bpm:g} BPM")
        self.tempo_reset.setEnabled(recipe.tempo_ratio != 1.0)
        self.tempo_reset.setToolTip(
            f"Back to the original tempo ({manifest.bpm:g} BPM)"
            if recipe.tempo_ratio != 1.0
            else "The tempo is already the original one."
        )
        new_key = manifest.musical_key.transposed(recipe.pitch_semitones).name
        self.key_value.setText(f"{semitone_text(recipe.pitch_semitones)} st")
        self.key_detail.setText(f"{new_key} · original {manifest.musical_key.name}")
        self.key_reset.setEnabled(recipe.pitch_semitones != 0.0)
        self.key_reset.setToolTip(
            f"Back to the original key ({manifest.musical_key.name})"
            if recipe.pitch_semitones != 0.0
            else "The key is already the original one."
        )
