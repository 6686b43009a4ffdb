"""The effects rack of one target (a stem or the master): add, remove, reorder, bypass, presets, parameters.

Built from the effects table (`fanremix.audio.effects.EFFECTS`): every parameter gets a slider (or a list for a
mode) and a label with its value and unit. Kinds the pack's policy denies are shown disabled, with the reason.
"""

import math

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from fanremix.audio import effects as effect_table
from fanremix.domain.recipe import MASTER, Effect

from .. import icons
from ..session import Session

SLIDER_STEPS = 1000
CUSTOM_PRESET = "Custom"


def format_value(spec: effect_table.ParamSpec, value: float | str) -> str:
    if spec.is_choice:
        return str(value)
    number = float(value)
    unit = spec.unit
    if unit == "dB":
        sign = "+" if number > 0.05 else ("−" if number < -0.05 else "")
        return f"{sign}{abs(number):.1f} dB"
    if unit == "Hz":
        return (
            f"{number / 1000:.2f} kHz"
            if number >= 1000
            else f"{number:.0f} Hz"
            if number >= 100
            else f"{number:.2f} Hz"
        )
    if unit == "ms":
        return f"{number:.1f} ms" if number < 10 else f"{number:.0f} ms"
    if unit == "s":
        return f"{number * 1000:.0f} ms" if number < 1 else f"{number:.2f} s"
    if unit == ":1":
        return f"{number:.1f}:1"
    if unit == "bits":
        return f"{number:.0f} bits"
    if spec.minimum >= -1.0 and spec.maximum <= 1.0:
        return f"{number * 100:.0f} %"
    return f"{number:.2f}"


def slider_to_value(spec: effect_table.ParamSpec, position: int) -> float:
    fraction = max(0, min(SLIDER_STEPS, position)) / SLIDER_STEPS
    if spec.scale == "log" and spec.minimum > 0:
        value = spec.minimum * (spec.maximum / spec.minimum) ** fraction
    else:
        value = spec.minimum + (spec.maximum - spec.minimum) * fraction
    if spec.unit == "bits":
        return float(round(value))
    digits = max(0, 3 - math.floor(math.log10(abs(value)))) if value else 0
    return float(round(value, min(digits, 4)))


def value_to_slider(spec: effect_table.ParamSpec, value: float) -> int:
    value = max(spec.minimum, min(spec.maximum, float(value)))
    if spec.scale == "log" and spec.minimum > 0:
        fraction = math.log(value / spec.minimum) / math.log(spec.maximum / spec.minimum)
    else:
        span = spec.maximum - spec.minimum
        fraction = (value - spec.minimum) / span if span else 0.0
    return round(fraction * SLIDER_STEPS)


class ParamControl(QWidget):
    """A labelled slider (or a mode list) for one parameter; emits only for the user's moves."""

    changed = Signal(str, object)
    gesture_finished = Signal()

    def __init__(self, spec: effect_table.ParamSpec, value: float | str, effect_label: str, parent=None):
        super().__init__(parent)
        self.spec = spec
        self._quiet = False
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        self.label = QLabel(spec.label)
        self.label.setMinimumWidth(96)
        layout.addWidget(self.label)
        if spec.is_choice:
            self.combo = QComboBox()
            self.combo.addItems(list(spec.choices))
            self.combo.setCurrentText(str(value))
            self.combo.setAccessibleName(f"{effect_label} {spec.label}")
            self.combo.currentTextChanged.connect(self._choice)
            layout.addWidget(self.combo, 1)
            self.slider = None
        else:
            self.combo = None
            self.slider = QSlider(Qt.Orientation.Horizontal)
            self.slider.setRange(0, SLIDER_STEPS)
            self.slider.setSingleStep(5)
            self.slider.setPageStep(50)
            self.slider.setValue(value_to_slider(spec, float(value)))
            self.slider.setAccessibleName(f"{effect_label} {spec.label}")
            self.slider.setToolTip(
                f"{spec.label}: {format_value(spec, spec.minimum)} to {format_value(spec, spec.maximum)}"
            )
            self.slider.valueChanged.connect(self._moved)
            self.slider.sliderReleased.connect(self.gesture_finished)
            layout.addWidget(self.slider, 1)
        self.value_label = QLabel(format_value(spec, value))
        self.value_label.setObjectName("Muted")
        self.value_label.setMinimumWidth(68)
        self.value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if not spec.is_choice:
            layout.addWidget(self.value_label)

    def _moved(self, position: int) -> None:
        value = slider_to_value(self.spec, position)
        self.value_label.setText(format_value(self.spec, value))
        if not self._quiet:
            self.changed.emit(self.spec.name, value)

    def _choice(self, text: str) -> None:
        if not self._quiet:
            self.changed.emit(self.spec.name, text)
            self.gesture_finished.emit()

    def show_value(self, value: float | str) -> None:
        self._quiet = True
        try:
            if self.combo is not None:
                self.combo.setCurrentText(str(value))
            elif self.slider is not None:
                if slider_to_value(self.spec, self.slider.value()) != float(value):
                    self.slider.setValue(value_to_slider(self.spec, float(value)))
                self.value_label.setText(format_value(self.spec, value))
        finally:
            self._quiet = False


class EffectCard(QFrame):
    """One effect in the chain: header (name, preset, bypass, move, remove) and its parameters."""

    def __init__(self, rack: "EffectsRack", index: int, effect: Effect, parent=None):
        super().__init__(parent)
        self.rack = rack
        self.session = rack.session
        self.target = rack.target
        self.index = index
        self.effect = effect
        self.spec = effect_table.effect_spec(effect.kind)
        self.setObjectName("EffectCard")
        self.setProperty("bypassed", effect.bypassed)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        label = self.spec.label
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 10)
        layout.setSpacing(6)

        header = QHBoxLayout()
        header.setSpacing(6)
        # the power button: lit (accent) while the effect is on, plain and muted while it is bypassed; the card
        # then says "Off" and its controls are dimmed by the style sheet (QFrame#EffectCard[bypassed="true"])
        self.bypass_button = QToolButton()
        self.bypass_button.setObjectName("BypassButton")
        self.bypass_button.setCheckable(True)
        self.bypass_button.setChecked(not effect.bypassed)
        icons.set_themed_icon(self.bypass_button, "bypass", icons.TOGGLE)
        if effect.bypassed:
            self.bypass_button.setAccessibleName(f"{label} off (bypassed)")
            self.bypass_button.setToolTip(f"{label} is off (bypassed). Click to switch it on again.")
        else:
            self.bypass_button.setAccessibleName(f"{label} on")
            self.bypass_button.setToolTip(
                f"{label} is on. Click to switch it off (bypass) without losing its settings."
            )
        self.bypass_button.toggled.connect(self._bypass_toggled)
        header.addWidget(self.bypass_button)
        title = QLabel(f"<b>{label}</b>")
        title.setObjectName("EffectTitle")
        title.setToolTip(self.spec.description)
        title.setTextFormat(Qt.TextFormat.RichText)
        header.addWidget(title)
        self.off_label = QLabel("OFF")
        self.off_label.setObjectName("OffBadge")
        self.off_label.setToolTip(f"{label} is bypassed: you do not hear it, and its settings are kept.")
        self.off_label.setVisible(effect.bypassed)
        header.addWidget(self.off_label, 0, Qt.AlignmentFlag.AlignVCenter)
        header.addStretch(1)
        self.preset_combo = QComboBox()
        self.preset_combo.addItem(CUSTOM_PRESET)
        self.preset_combo.addItems(list(self.spec.preset_names))
        self.preset_combo.setCurrentText(effect.preset or CUSTOM_PRESET)
        self.preset_combo.setAccessibleName(f"{label} preset")
        self.preset_combo.setToolTip("Start from a named preset")
        self.preset_combo.activated.connect(self._preset_chosen)
        header.addWidget(self.preset_combo)
        count = len(self.session.chain(self.target))
        self.up_button = self._tool("up", f"Move {label} earlier in the chain", lambda: self._move(-1))
        self.up_button.setEnabled(index > 0)
        if index == 0:
            self.up_button.setToolTip(f"{label} is already first in the chain.")
        self.down_button = self._tool("down", f"Move {label} later in the chain", lambda: self._move(1))
        self.down_button.setEnabled(index < count - 1)
        if index == count - 1:
            self.down_button.setToolTip(f"{label} is already last in the chain.")
        self.remove_button = self._tool(
            "remove", f"Remove {label}", lambda: self.session.remove_effect(self.target, self.index)
        )
        for button in (self.up_button, self.down_button, self.remove_button):
            header.addWidget(button)
        layout.addLayout(header)

        reason = self.session.effect_block_reason(effect.kind)
        if reason and not effect.bypassed:
            warning = QLabel(f"⚠ {reason} Bypass or remove it to export.")
            warning.setWordWrap(True)
            warning.setStyleSheet("color: #ff5c5c;")
            layout.addWidget(warning)

        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(2)
        self.controls: dict[str, ParamControl] = {}
        values = effect_table.resolve_params(effect)
        for row, spec in enumerate(self.spec.params):
            control = ParamControl(spec, values[spec.name], label)
            control.changed.connect(self._param_changed)
            control.gesture_finished.connect(self.session.seal)
            self.controls[spec.name] = control
            grid.addWidget(control, row, 0)
        layout.addLayout(grid)

    def _tool(self, name: str, tip: str, slot) -> QToolButton:
        button = QToolButton()
        icons.set_themed_icon(button, name)
        button.setToolTip(tip)
        button.setAccessibleName(tip)
        button.setIconSize(QSize(14, 14))
        button.clicked.connect(slot)
        return button

    def _bypass_toggled(self, on: bool) -> None:
        if not self.session.set_effect_bypassed(self.target, self.index, not on):
            self.bypass_button.blockSignals(True)
            self.bypass_button.setChecked(not self.effect.bypassed)
            self.bypass_button.blockSignals(False)

    def _move(self, step: int) -> None:
        self.session.move_effect(self.target, self.index, self.index + step)

    def _preset_chosen(self, row: int) -> None:
        name = self.preset_combo.itemText(row)
        if name == CUSTOM_PRESET:
            return
        self.session.apply_preset(self.target, self.index, effect_table.preset_effect(self.spec.kind, name))

    def _param_changed(self, name: str, value: object) -> None:
        self.session.set_effect_param(self.target, self.index, name, value)

    def show_effect(self, effect: Effect) -> None:
        """Update in place (same kind at the same place): keeps focus and a slider being dragged."""
        self.effect = effect
        values = effect_table.resolve_params(effect)
        for name, control in self.controls.items():
            control.show_value(values[name])
        self.preset_combo.setCurrentText(effect.preset or CUSTOM_PRESET)


class EffectsRack(QWidget):
    """Shows one target's chain. `set_target` switches between stems and the master."""

    target_changed = Signal(str)

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.target = session.stem_ids[0] if session.stem_ids else MASTER
        self.cards: list[EffectCard] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(8)

        header = QHBoxLayout()
        self.target_combo = QComboBox()
        for stem in session.manifest.stems:
            self.target_combo.addItem(stem.name, stem.id)
        self.target_combo.addItem("Master (whole mix)", MASTER)
        self.target_combo.setAccessibleName("Effects of")
        self.target_combo.setToolTip("Whose effects to show: a stem, or the whole mix")
        self.target_combo.activated.connect(lambda row: self.set_target(self.target_combo.itemData(row)))
        caption = QLabel("Effects on")
        caption.setObjectName("Muted")
        header.addWidget(caption)
        header.addWidget(self.target_combo, 1)
        self.add_button = QToolButton()
        self.add_button.setText("Add effect")
        icons.set_themed_icon(self.add_button, "add")
        self.add_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add_button.setAccessibleName("Add effect")
        self.add_button.setToolTip("Add an effect at the end of the chain")
        self.add_menu = QMenu(self.add_button)
        self.add_menu.setToolTipsVisible(True)
        self.add_actions: dict[str, QAction] = {}
        for kind, spec in effect_table.EFFECTS.items():
            action = self.add_menu.addAction(spec.label)
            reason = session.effect_block_reason(kind)
            action.setEnabled(reason is None)
            action.setToolTip(reason or spec.description)
            action.triggered.connect(lambda _checked=False, kind=kind: self.add_effect(kind))
            self.add_actions[kind] = action
        self.add_button.setMenu(self.add_menu)
        header.addWidget(self.add_button)
        layout.addLayout(header)

        self.empty_label = QLabel()
        self.empty_label.setObjectName("Muted")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.empty_label)

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.verticalScrollBar().setAccessibleName("Scroll the effects")
        self.scroll.horizontalScrollBar().setAccessibleName("Scroll the effects sideways")
        self.list_widget = QWidget()
        self.list_layout = QVBoxLayout(self.list_widget)
        self.list_layout.setContentsMargins(0, 0, 4, 0)
        self.list_layout.setSpacing(8)
        self.list_layout.addStretch()
        self.scroll.setWidget(self.list_widget)
        layout.addWidget(self.scroll, 1)

        session.chain_changed.connect(self._on_chain_changed)
        self.rebuild()

    def set_target(self, target: str) -> None:
        if target != self.target:
            self.target = target
            self.rebuild()
            self.target_changed.emit(target)
        row = self.target_combo.findData(target)
        if row >= 0 and row != self.target_combo.currentIndex():
            self.target_combo.setCurrentIndex(row)

    def add_effect(self, kind: str, preset: str | None = None) -> bool:
        return self.session.add_effect(self.target, effect_table.preset_effect(kind, preset))

    def _on_chain_changed(self, target: str) -> None:
        if target != self.target:
            return
        chain = self.session.chain(target)
        same_shape = len(chain) == len(self.cards) and all(
            card.effect.kind == effect.kind and card.effect.bypassed == effect.bypassed
            for card, effect in zip(self.cards, chain, strict=True)
        )
        if same_shape:
            for card, effect in zip(self.cards, chain, strict=True):
                if card.effect != effect:
                    card.show_effect(effect)
        else:
            self.rebuild()

    def rebuild(self) -> None:
        for card in self.cards:
            card.setParent(None)
            card.deleteLater()
        self.cards = []
        chain = self.session.chain(self.target)
        for index, effect in enumerate(chain):
            card = EffectCard(self, index, effect)
            self.cards.append(card)
            self.list_layout.insertWidget(index, card)
        name = self.session.target_name(self.target)
        self.empty_label.setVisible(not chain)
        self.empty_label.setText(
            f"No effects on {name} yet.\nUse “Add effect” to give it reverb, delay, EQ, compression and more. "
            "Every change is heard at once."
        )
