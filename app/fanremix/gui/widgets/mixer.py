"""The mixer: one strip per stem (role colour, name, pan, fader in dB, meter, mute, solo, FX) and a master strip."""

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QFontMetrics, QMouseEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from fanremix.audio.realtime import TransportState
from fanremix.domain.recipe import MASTER

from ..session import Session, pan_text
from ..theme import ROLE_LABELS, role_colour
from .controls import Fader, PanKnob, db_text
from .meter import LevelMeter, to_db

STRIP_WIDTH = 104  # the narrowest a strip gets
STRIP_MAX_WIDTH = 240  # strips share the mixer's width up to this; the rest goes to the panels on the right
NAME_LINES = 2  # a long stem name wraps onto a second line (and is elided only beyond that)


def fit_lines(text: str, metrics: QFontMetrics, width: int, lines: int = NAME_LINES) -> str:
    """`text` in at most `lines` lines of `width` pixels: broken between words where it can be, within a word where
    it must, and elided at the end of the last line only if it still does not fit."""
    result: list[str] = []
    rest = text.strip()
    while rest and len(result) < lines - 1 and metrics.horizontalAdvance(rest) > width:
        words = rest.split(" ")
        count = len(words)
        while count > 1 and metrics.horizontalAdvance(" ".join(words[:count])) > width:
            count -= 1
        line = " ".join(words[:count])
        if metrics.horizontalAdvance(line) > width:  # one word wider than the strip: break it
            cut = len(line)
            while cut > 1 and metrics.horizontalAdvance(line[:cut]) > width:
                cut -= 1
            line = line[:cut]
        result.append(line)
        rest = rest[len(line) :].strip()
    if rest:
        result.append(metrics.elidedText(rest, Qt.TextElideMode.ElideRight, width))
    return "\n".join(result)


class NameLabel(QLabel):
    """A strip's name: always NAME_LINES lines tall, so the rows below it stay level from strip to strip."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("StripName")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumWidth(10)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.full_text = text
        self._fit()

    def _fit(self) -> None:
        self.setText(fit_lines(self.full_text, self.fontMetrics(), max(36, self.width() - 4)))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit()

    def sizeHint(self) -> QSize:
        return QSize(super().sizeHint().width(), NAME_LINES * self.fontMetrics().lineSpacing() + 2)

    def minimumSizeHint(self) -> QSize:
        return QSize(10, self.sizeHint().height())


def _caption(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("Caption")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return label


class StemStrip(QFrame):
    """One stem's channel strip. Edits go straight to the session; the strip redraws on the session's signals."""

    selected = Signal(str)
    effects_requested = Signal(str)

    def __init__(self, session: Session, stem_id: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.stem_id = stem_id
        stem = session.stem(stem_id)
        self.role = stem.role
        self.setObjectName("StemStrip")
        self.setProperty("selected", False)
        self.setMinimumWidth(STRIP_WIDTH)
        self.setMaximumWidth(STRIP_MAX_WIDTH)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        colour = role_colour(stem.role).name()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        stripe = QFrame()
        stripe.setFixedHeight(4)
        stripe.setStyleSheet(f"background: {colour}; border-radius: 2px; border: none;")
        layout.addWidget(stripe)

        self.name_label = NameLabel(stem.name)
        self.name_label.setToolTip(f"{stem.name} ({stem.role})")
        layout.addWidget(self.name_label)
        role = _caption(ROLE_LABELS.get(stem.role, stem.role).upper())
        role.setStyleSheet(f"color: {colour};")
        layout.addWidget(role)

        self.fx_button = QToolButton()
        self.fx_button.setObjectName("FxButton")
        self.fx_button.setToolTip(f"Show the effects on {stem.name}")
        self.fx_button.setAccessibleName(f"Effects of {stem.name}")
        self.fx_button.clicked.connect(lambda: self.effects_requested.emit(self.stem_id))
        self.fx_button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        layout.addWidget(self.fx_button)

        self.pan = PanKnob()
        self.pan.setAccessibleName(f"Pan of {stem.name}")
        self.pan.setToolTip("Pan: left to right. Double-click to centre.")
        self.pan.pan_moved.connect(lambda value: self.session.set_pan(self.stem_id, value))
        self.pan.gesture_finished.connect(self.session.seal)
        pan_row = QHBoxLayout()
        pan_row.addStretch()
        pan_row.addWidget(self.pan)
        pan_row.addStretch()
        layout.addLayout(pan_row)
        self.pan_label = _caption("C")
        layout.addWidget(self.pan_label)

        fader_row = QHBoxLayout()
        fader_row.setSpacing(6)
        self.fader = Fader()
        self.fader.setAccessibleName(f"Level of {stem.name}")
        self.fader.setToolTip("Level in dB. Double-click for 0 dB.")
        self.fader.gain_moved.connect(lambda db: self.session.set_gain(self.stem_id, db))
        self.fader.gesture_finished.connect(self.session.seal)
        self.meter = LevelMeter(1)
        self.meter.setAccessibleName(f"Level meter of {stem.name}")
        fader_row.addStretch()
        fader_row.addWidget(self.fader)
        fader_row.addWidget(self.meter)
        fader_row.addStretch()
        layout.addLayout(fader_row, 1)
        self.gain_label = _caption("0.0 dB")
        self.gain_label.setObjectName("Muted")
        layout.addWidget(self.gain_label)

        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        self.mute_button = QToolButton()
        self.mute_button.setObjectName("MuteButton")
        self.mute_button.setText("M")
        self.mute_button.setCheckable(True)
        self.mute_button.setAccessibleName(f"Mute {stem.name}")
        self.mute_button.clicked.connect(lambda checked: self._toggle(self.session.set_mute, checked))
        self.solo_button = QToolButton()
        self.solo_button.setObjectName("SoloButton")
        self.solo_button.setText("S")
        self.solo_button.setCheckable(True)
        self.solo_button.setAccessibleName(f"Solo {stem.name}")
        self.solo_button.clicked.connect(lambda checked: self._toggle(self.session.set_solo, checked))
        for button in (self.mute_button, self.solo_button):
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            buttons.addWidget(button)
        layout.addLayout(buttons)

        self._apply_policy()
        self.refresh()
        session.stem_changed.connect(self._on_stem_changed)
        session.chain_changed.connect(self._on_chain_changed)
        session.recipe_changed.connect(lambda _recipe: self._refresh_audible())

    @property
    def full_name(self) -> str:
        return self.name_label.full_text

    def _toggle(self, setter, checked: bool) -> None:
        setter(self.stem_id, checked)
        self.refresh()  # a refused edit puts the button back

    def _apply_policy(self) -> None:
        name = self.session.stem(self.stem_id).name
        solo_reason = self.session.solo_block_reason(self.stem_id)
        self.solo_button.setEnabled(solo_reason is None)
        self.solo_button.setToolTip(solo_reason or f"Solo {name}: hear it (and other soloed stems) only. Key: S")
        mute_reason = self.session.mute_block_reason(self.stem_id)
        self.mute_button.setEnabled(mute_reason is None)
        self.mute_button.setToolTip(mute_reason or f"Mute {name}. Key: M")
        floor = self.session.gain_floor_db(self.stem_id)
        self.fader.set_floor_db(floor)
        if mute_reason:
            self.fader.setToolTip(f"Level in dB. {mute_reason} The fader stops at {floor:g} dB.")

    def _on_stem_changed(self, stem_id: str) -> None:
        if stem_id == self.stem_id:
            self.refresh()

    def _on_chain_changed(self, target: str) -> None:
        if target == self.stem_id:
            self._refresh_fx()

    def refresh(self) -> None:
        mix = self.session.recipe.stem(self.stem_id)
        if abs(self.fader.db() - mix.gain_db) > 0.05:
            self.fader.set_db(mix.gain_db)
        if round(mix.pan * 100) != self.pan.value():
            self.pan.set_pan(mix.pan)
        self.gain_label.setText(db_text(mix.gain_db))
        self.pan_label.setText(pan_text(mix.pan))
        self.mute_button.setChecked(mix.mute)
        self.solo_button.setChecked(mix.solo)
        self._refresh_fx()
        self._refresh_audible()

    def _refresh_fx(self) -> None:
        chain = self.session.recipe.stem(self.stem_id).chain
        active = [e for e in chain if not e.bypassed]
        self.fx_button.setText(f"FX · {len(active)}" if chain else "FX")
        self.fx_button.setProperty("active", bool(active))
        self.fx_button.style().unpolish(self.fx_button)
        self.fx_button.style().polish(self.fx_button)

    def _refresh_audible(self) -> None:
        audible = self.stem_id in self.session.recipe.audible_stem_ids()
        self.name_label.setEnabled(audible)

    def set_selected(self, selected: bool) -> None:
        if bool(self.property("selected")) != selected:
            self.setProperty("selected", selected)
            self.style().unpolish(self)
            self.style().polish(self)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.selected.emit(self.stem_id)
        super().mousePressEvent(event)

    def show_levels(self, peak: float, rms: float) -> None:
        self.meter.set_levels((peak,), (rms,))


class MasterStrip(QFrame):
    effects_requested = Signal(str)

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("MasterStrip")
        self.setFixedWidth(STRIP_WIDTH + 8)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        stripe = QFrame()
        stripe.setFixedHeight(4)
        stripe.setStyleSheet(f"background: {role_colour('master').name()}; border-radius: 2px; border: none;")
        layout.addWidget(stripe)
        layout.addWidget(NameLabel("Master"))
        layout.addWidget(_caption("STEREO OUT"))
        self.fx_button = QToolButton()
        self.fx_button.setObjectName("FxButton")
        self.fx_button.setAccessibleName("Effects of the master")
        self.fx_button.setToolTip("Show the effects on the whole mix")
        self.fx_button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.fx_button.clicked.connect(lambda: self.effects_requested.emit(MASTER))
        layout.addWidget(self.fx_button)
        meter_row = QHBoxLayout()
        self.meter = LevelMeter(2)
        self.meter.setAccessibleName("Master level meter")
        self.meter.setMinimumWidth(26)
        meter_row.addStretch()
        meter_row.addWidget(self.meter)
        meter_row.addStretch()
        layout.addLayout(meter_row, 1)
        self.peak_label = _caption("−∞ dB")
        self.peak_label.setToolTip("Highest peak since the last reset")
        layout.addWidget(self.peak_label)
        self.loudness_label = _caption("")
        self.loudness_label.setWordWrap(True)
        layout.addWidget(self.loudness_label)
        self._max_peak = 0.0
        session.chain_changed.connect(lambda target: target == MASTER and self._refresh_fx())
        session.loudness_changed.connect(lambda _value: self._refresh_loudness())
        self._refresh_fx()
        self._refresh_loudness()

    def _refresh_fx(self) -> None:
        chain = self.session.recipe.master
        active = [e for e in chain if not e.bypassed]
        self.fx_button.setText(f"FX · {len(active)}" if chain else "FX")
        self.fx_button.setProperty("active", bool(active))
        self.fx_button.style().unpolish(self.fx_button)
        self.fx_button.style().polish(self.fx_button)

    def _refresh_loudness(self) -> None:
        target = self.session.recipe.loudness_lufs
        self.loudness_label.setText("EXPORT\nAS MIXED" if target is None else f"EXPORT\n{target:g} LUFS")

    def show_levels(self, peaks: tuple[float, float], rms: tuple[float, float]) -> None:
        self.meter.set_levels(peaks, rms)
        peak = max(peaks) if peaks else 0.0
        if peak > self._max_peak:
            self._max_peak = peak
            self.peak_label.setText(f"peak {db_text(to_db(peak))}")


class MixerPanel(QWidget):
    """The strips in a horizontal scroll area, the master strip pinned on the right."""

    stem_selected = Signal(str)
    effects_requested = Signal(str)

    def __init__(self, session: Session, parent: QWidget | None = None, *, build: bool = True):
        """With `build=False` the strips are added by iterating `build_steps()` (one strip per step)."""
        super().__init__(parent)
        self.session = session
        self.strips: dict[str, StemStrip] = {}
        self.selected_stem: str | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        # built top-down: every widget is born in its final parent (reparenting styled widgets is slow)
        self.scroll = QScrollArea(self)
        self.inner = QWidget(self.scroll.viewport())
        self.row = QHBoxLayout(self.inner)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.setSpacing(8)
        self.scroll.setWidget(self.inner)
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.horizontalScrollBar().setAccessibleName("Scroll the mixer strips")
        self.scroll.verticalScrollBar().setAccessibleName("Scroll the mixer strips up and down")
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # the strips share the width up to STRIP_MAX_WIDTH each; the mixer is no wider than that (plus the master),
        # so a splitter gives any more to the panels beside it rather than leaving a gap after the master strip
        strips_width = len(session.manifest.stems) * (STRIP_MAX_WIDTH + 8) + 4
        self.scroll.setMaximumWidth(strips_width)
        layout.addWidget(self.scroll, 1)
        self.master = MasterStrip(session, self)
        self.master.effects_requested.connect(self._effects_for)
        layout.addWidget(self.master)
        self.setMaximumWidth(strips_width + layout.spacing() + self.master.maximumWidth())
        QApplication.instance().focusChanged.connect(self._focus_changed)
        if build:
            for _ in self.build_steps():
                pass

    def build_steps(self):
        for stem in self.session.manifest.stems:
            strip = StemStrip(self.session, stem.id, self.inner)
            strip.selected.connect(self.select)
            strip.effects_requested.connect(self._effects_for)
            self.strips[stem.id] = strip
            self.row.addWidget(strip)
            if self.selected_stem is None:
                self.select(stem.id)
            yield strip

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        """Tabbing into a strip's controls selects that strip (so M and S act on it)."""
        widget = new
        while widget is not None and widget is not self:
            if isinstance(widget, StemStrip):
                self.select(widget.stem_id)
                return
            widget = widget.parentWidget()

    def minimumSizeHint(self) -> QSize:
        return QSize(STRIP_WIDTH * 2 + 40, 360)

    def select(self, stem_id: str) -> None:
        if stem_id not in self.strips:
            return
        changed = stem_id != self.selected_stem
        self.selected_stem = stem_id
        for sid, strip in self.strips.items():
            strip.set_selected(sid == stem_id)
        if changed:
            self.stem_selected.emit(stem_id)

    def _effects_for(self, target: str) -> None:
        if target != MASTER:
            self.select(target)
        self.effects_requested.emit(target)

    def show_state(self, state: TransportState) -> None:
        peaks, rms = state.stem_peaks, state.stem_rms
        for stem_id, strip in self.strips.items():
            strip.show_levels(peaks.get(stem_id, 0.0), rms.get(stem_id, 0.0))
        self.master.show_levels(state.master_peak, state.master_rms)
