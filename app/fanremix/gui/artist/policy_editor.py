"""The policy editor: what fans may do with a pack, with the policy in words beside it exactly as fans will read it.

The editor holds the policy as its fields. A control changes only the field it stands for, so whatever the artist
does not touch stays exactly as it was loaded (a template or a policy file round-trips unchanged). Combinations the
policy model refuses (a revenue split that does not add up to 100, a range whose low end is above its high end)
are shown under the form and keep the policy from being saved or used until they are fixed.
"""

import datetime as dt
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fanremix.audio.effects import effect_kinds, effect_spec
from fanremix.domain import policy_templates
from fanremix.domain.errors import FanRemixError, PolicyError
from fanremix.domain.policy import PLATFORM, ROLES, Policy, Range, RoleRule, Share

from ..dialogs.errors import show_error
from ..theme import ERROR_COLOUR, ROLE_LABELS, role_colour
from ..widgets.licence import LicencePanel

TEMPLATE_LABELS = {
    "open": "Open remix",
    "platform-only": "Platform only",
    "strict": "Strict — no vocal edits",
    "demo": "Like the demo song",
}
TEMPO_LIMITS = (0.25, 4.0)
PITCH_LIMITS = (-12, 12)
WORDS_DELAY_MS = 120  # the words panel follows the form after this pause (rebuilding it on every keystroke is waste)
DISTRIBUTION_PLATFORM = 0
DISTRIBUTION_ANYWHERE = 1
RULE_COLUMNS = (
    ("may_solo", "May solo"),
    ("may_mute", "May mute"),
    ("may_export_alone", "May be heard alone"),
    ("must_stay_audible", "Must stay audible"),
)
POLICY_FIELDS = tuple(f.name for f in fields(Policy))


@dataclass(frozen=True)
class WordsManifest:
    """What the licence panel reads from a pack, for a policy that has no pack (yet)."""

    title: str
    artists: tuple[str, ...]
    policy: Policy
    rightsholders: tuple = ()


class WordsSource(QObject):
    """Stands in for a fan's session beside the licence panel: the same panel, fed the policy being edited."""

    violations_changed = Signal(list)

    def __init__(self, manifest: WordsManifest, parent: QObject | None = None):
        super().__init__(parent)
        self.manifest = manifest
        self.signer = None
        self.violations: list = []


def _label(text: str, name: str | None = None, parent: QWidget | None = None) -> QLabel:
    label = QLabel(text, parent)
    if name:
        label.setObjectName(name)
    label.setWordWrap(True)
    return label


class RangeRow(QWidget):
    """A range with two sliders (lowest, highest) and exact values beside them."""

    changed = Signal(float, float)

    def __init__(
        self,
        name: str,
        limits: tuple[float, float],
        scale: int,
        suffix: str,
        decimals: int,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.scale = scale
        self._quiet = False
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        self.sliders: list[QSlider] = []
        self.spins: list[QDoubleSpinBox] = []
        for row, end in enumerate(("Lowest", "Highest")):
            slider = QSlider(Qt.Orientation.Horizontal, self)
            slider.setRange(round(limits[0] * scale), round(limits[1] * scale))
            slider.setAccessibleName(f"{end} {name.lower()}")
            spin = QDoubleSpinBox(self)
            spin.setDecimals(decimals)
            spin.setRange(limits[0] * (100 if suffix == " %" else 1), limits[1] * (100 if suffix == " %" else 1))
            spin.setSuffix(suffix)
            spin.setAccessibleName(f"{end} {name.lower()} value")
            spin.setMinimumWidth(104)
            caption = QLabel(end, self)
            caption.setMinimumWidth(64)
            grid.addWidget(caption, row, 0)
            grid.addWidget(slider, row, 1)
            grid.addWidget(spin, row, 2)
            slider.valueChanged.connect(lambda value, i=row: self._slid(i, value))
            spin.valueChanged.connect(lambda value, i=row: self._typed(i, value))
            self.sliders.append(slider)
            self.spins.append(spin)
        grid.setColumnStretch(1, 1)
        self._values = [1.0, 1.0]
        self._percent = suffix == " %"

    def _shown(self, value: float) -> float:
        return value * 100 if self._percent else value

    def set_range(self, low: float, high: float) -> None:
        self._quiet = True
        try:
            self._values = [low, high]
            for i, value in enumerate(self._values):
                self.sliders[i].setValue(round(value * self.scale))
                self.spins[i].setValue(self._shown(value))
        finally:
            self._quiet = False

    def values(self) -> tuple[float, float]:
        return self._values[0], self._values[1]

    def _set(self, index: int, value: float) -> None:
        self._values[index] = value
        # the two ends cannot cross: moving one past the other pushes it along
        other = 1 - index
        if (index == 0 and value > self._values[1]) or (index == 1 and value < self._values[0]):
            self._values[other] = value
        self._quiet = True
        try:
            for i, current in enumerate(self._values):
                self.sliders[i].setValue(round(current * self.scale))
                if i != index or abs(self.spins[i].value() - self._shown(current)) > 1e-9:
                    self.spins[i].setValue(self._shown(current))
        finally:
            self._quiet = False
        self.changed.emit(*self._values)

    def _slid(self, index: int, value: int) -> None:
        if not self._quiet:
            self._set(index, value / self.scale)

    def _typed(self, index: int, value: float) -> None:
        if not self._quiet:
            self._set(index, round(value / 100, 6) if self._percent else value)


class PolicyEditor(QWidget):
    policy_changed = Signal(object)  # the Policy, or None while the form holds something invalid
    saved = Signal(object)  # the file written

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._fields: dict[str, Any] = {}
        self._original_rules: tuple[RoleRule, ...] = ()
        self._original_effects: tuple[str, ...] = ()
        self._loading = False
        self._title = "Your song"
        self._artists: tuple[str, ...] = ("You",)
        self._pack_roles: set[str] = set()
        self.words_panel: LicencePanel | None = None
        self._words_shown: tuple | None = None
        self._last_valid: Policy | None = None
        self.words_source: WordsSource | None = None
        self.last_problems: list[str] = []
        self.words_timer = QTimer(self)
        self.words_timer.setSingleShot(True)
        self.words_timer.setInterval(WORDS_DELAY_MS)
        self.words_timer.timeout.connect(self.refresh_words)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setChildrenCollapsible(False)
        outer.addWidget(splitter)

        scroll = QScrollArea(splitter)
        self.form_scroll = scroll
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        form_body = QWidget(scroll.viewport())
        self.form_layout = QVBoxLayout(form_body)
        self.form_layout.setContentsMargins(4, 4, 12, 4)
        self.form_layout.setSpacing(10)
        self._build_template_row(form_body)
        self._build_ranges(form_body)
        self._build_effects(form_body)
        self._build_roles(form_body)
        self._build_length_and_use(form_body)
        self._build_duties(form_body)
        self.form_layout.addStretch()
        scroll.setWidget(form_body)
        splitter.addWidget(scroll)

        right = QWidget(splitter)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(8, 0, 0, 0)
        right_layout.setSpacing(6)
        heading = _label("As fans will read it", "PanelTitle", right)
        right_layout.addWidget(heading)
        explain = _label(
            "This is the remix window's Licence tab, word for word, for the policy on the left.", "Muted", right
        )
        right_layout.addWidget(explain)
        self.words_frame = QFrame(right)
        self.words_frame.setObjectName("Panel")
        self.words_layout = QVBoxLayout(self.words_frame)
        self.words_layout.setContentsMargins(1, 1, 1, 1)
        right_layout.addWidget(self.words_frame, 1)
        self.problem_label = _label("", None, right)
        self.problem_label.setAccessibleName("Policy problems")
        palette = self.problem_label.palette()
        palette.setColor(QPalette.ColorRole.WindowText, QColor(ERROR_COLOUR))
        self.problem_label.setPalette(palette)
        right_layout.addWidget(self.problem_label)
        buttons = QHBoxLayout()
        self.load_button = QPushButton("Load policy…", right)
        self.load_button.setAccessibleName("Load a policy file")
        self.load_button.clicked.connect(self.choose_file_to_load)
        self.save_button = QPushButton("Save policy…", right)
        self.save_button.setAccessibleName("Save the policy to a file")
        self.save_button.clicked.connect(self.choose_file_to_save)
        buttons.addWidget(self.load_button)
        buttons.addStretch()
        buttons.addWidget(self.save_button)
        right_layout.addLayout(buttons)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([700, 460])
        self.set_policy(policy_templates.platform_only())

    # -- form construction --------------------------------------------------------------------------------------
    def _group(self, title: str, parent: QWidget) -> tuple[QGroupBox, QVBoxLayout]:
        box = QGroupBox(title, parent)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(10, 14, 10, 10)
        layout.setSpacing(8)
        self.form_layout.addWidget(box)
        return box, layout

    def _build_template_row(self, parent: QWidget) -> None:
        box, layout = self._group("Start from", parent)
        row = QHBoxLayout()
        self.template_combo = QComboBox(box)
        for name, label in TEMPLATE_LABELS.items():
            self.template_combo.addItem(label, name)
        self.template_combo.setAccessibleName("Policy template")
        self.template_combo.setCurrentIndex(list(TEMPLATE_LABELS).index("platform-only"))
        self.apply_template_button = QPushButton("Use this template", box)
        self.apply_template_button.setAccessibleName("Use the chosen template")
        self.apply_template_button.clicked.connect(self.apply_template)
        row.addWidget(self.template_combo, 1)
        row.addWidget(self.apply_template_button)
        layout.addLayout(row)
        uid_row = QFormLayout()
        self.uid_edit = QLineEdit(box)
        self.uid_edit.setAccessibleName("Policy id")
        self.uid_edit.textEdited.connect(lambda text: self._set("uid", text.strip()))
        uid_row.addRow("Policy id", self.uid_edit)
        layout.addLayout(uid_row)

    def _build_ranges(self, parent: QWidget) -> None:
        box, layout = self._group("Tempo and key", parent)
        layout.addWidget(_label("Tempo, as a share of the original speed", "Muted", box))
        self.tempo_row = RangeRow("Tempo", TEMPO_LIMITS, 100, " %", 1, box)
        self.tempo_row.changed.connect(lambda low, high: self._set_pair("tempo", low, high))
        layout.addWidget(self.tempo_row)
        layout.addWidget(_label("Key change, in semitones", "Muted", box))
        self.pitch_row = RangeRow("Key", PITCH_LIMITS, 1, " st", 0, box)
        for slider in self.pitch_row.sliders:
            slider.setTickPosition(QSlider.TickPosition.TicksBelow)
            slider.setTickInterval(1)
        self.pitch_row.changed.connect(lambda low, high: self._set_pair("pitch", low, high))
        layout.addWidget(self.pitch_row)

    def _build_effects(self, parent: QWidget) -> None:
        box, layout = self._group("Effects", parent)
        self.effect_mode = QComboBox(box)
        self.effect_mode.addItem("Every effect except the ones unticked", "deny")
        self.effect_mode.addItem("Only the ticked effects", "allow")
        self.effect_mode.setAccessibleName("Which effects fans may use")
        self.effect_mode.currentIndexChanged.connect(lambda _i: self._effects_edited())
        layout.addWidget(self.effect_mode)
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        self.effect_boxes: dict[str, QCheckBox] = {}
        for index, kind in enumerate(effect_kinds()):
            spec = effect_spec(kind)
            check = QCheckBox(spec.label, box)
            check.setToolTip(f"{spec.description} (“{kind}” in the policy)")
            check.setAccessibleName(f"Allow {spec.label}")
            check.toggled.connect(lambda _on: self._effects_edited())
            grid.addWidget(check, index // 3, index % 3)
            self.effect_boxes[kind] = check
        layout.addLayout(grid)

    def _build_roles(self, parent: QWidget) -> None:
        box, layout = self._group("Per stem", parent)
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(6)
        for column, (_name, text) in enumerate(RULE_COLUMNS, start=1):
            header = _label(text, "Caption", box)
            header.setAlignment(Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(header, 0, column)
        self.role_boxes: dict[tuple[str, str], QCheckBox] = {}
        self.role_labels: dict[str, QLabel] = {}
        for row, role in enumerate(ROLES, start=1):
            label = QLabel(ROLE_LABELS[role], box)
            palette = label.palette()
            palette.setColor(QPalette.ColorRole.WindowText, role_colour(role))
            label.setPalette(palette)
            self.role_labels[role] = label
            grid.addWidget(label, row, 0)
            for column, (name, text) in enumerate(RULE_COLUMNS, start=1):
                check = QCheckBox(box)
                check.setAccessibleName(f"{ROLE_LABELS[role]}: {text.lower()}")
                check.toggled.connect(lambda _on: self._roles_edited())
                grid.addWidget(check, row, column, Qt.AlignmentFlag.AlignCenter)
                self.role_boxes[(role, name)] = check
        grid.setColumnStretch(0, 1)
        layout.addLayout(grid)
        audible = QHBoxLayout()
        audible.addWidget(QLabel("Stems that must stay audible in every remix, at least", box))
        self.min_audible = QSpinBox(box)
        self.min_audible.setRange(0, 64)
        self.min_audible.setAccessibleName("Minimum audible stems")
        self.min_audible.valueChanged.connect(lambda value: self._set("min_audible_stems", value))
        audible.addWidget(self.min_audible)
        audible.addStretch()
        layout.addLayout(audible)

    def _build_length_and_use(self, parent: QWidget) -> None:
        box, layout = self._group("Length and use", parent)
        form = QFormLayout()
        form.setHorizontalSpacing(12)
        self.length_checks: dict[str, QCheckBox] = {}
        self.length_spins: dict[str, QSpinBox] = {}
        for name, text in (("min_length_s", "At least"), ("max_length_s", "At most")):
            row = QHBoxLayout()
            check = QCheckBox(text, box)
            check.setAccessibleName(f"Remix length: {text.lower()}")
            spin = QSpinBox(box)
            spin.setRange(1, 3600)
            spin.setSuffix(" s")
            spin.setAccessibleName(f"Remix length {text.lower()}, seconds")
            check.toggled.connect(lambda on, n=name: self._length_edited(n))
            spin.valueChanged.connect(lambda _v, n=name: self._length_edited(n))
            row.addWidget(check)
            row.addWidget(spin)
            row.addStretch()
            self.length_checks[name], self.length_spins[name] = check, spin
            form.addRow("Remix length" if name == "min_length_s" else "", row)
        self.distribution = QComboBox(box)
        self.distribution.addItem(f"Only on {PLATFORM} (and privately)", DISTRIBUTION_PLATFORM)
        self.distribution.addItem("Anywhere, other platforms included", DISTRIBUTION_ANYWHERE)
        self.distribution.setAccessibleName("Where fans may share remixes")
        self.distribution.currentIndexChanged.connect(
            lambda index: self._set("distribute_outside_platform", index == DISTRIBUTION_ANYWHERE)
        )
        form.addRow("Sharing", self.distribution)
        self.commercial = QCheckBox("Fans may use their remixes commercially", box)
        self.commercial.setAccessibleName("Commercial use")
        self.commercial.toggled.connect(lambda on: self._set("commercial_use", on))
        form.addRow("", self.commercial)
        self.ai_training = QCheckBox("The stems and remixes may be used to train AI", box)
        self.ai_training.setAccessibleName("AI training")
        self.ai_training.toggled.connect(lambda on: self._set("ai_training", on))
        form.addRow("", self.ai_training)
        self.date_checks: dict[str, QCheckBox] = {}
        self.date_edits: dict[str, QDateEdit] = {}
        for name, text in (("valid_from", "From"), ("valid_until", "Until")):
            row = QHBoxLayout()
            check = QCheckBox(text, box)
            check.setAccessibleName(f"Remixing allowed {text.lower()} a date")
            edit = QDateEdit(box)
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setDate(QDate.currentDate())
            edit.setAccessibleName(f"Remixing allowed {text.lower()}")
            check.toggled.connect(lambda _on, n=name: self._date_edited(n))
            edit.dateChanged.connect(lambda _d, n=name: self._date_edited(n))
            row.addWidget(check)
            row.addWidget(edit)
            row.addStretch()
            self.date_checks[name], self.date_edits[name] = check, edit
            form.addRow("Valid" if name == "valid_from" else "", row)
        layout.addLayout(form)

    def _build_duties(self, parent: QWidget) -> None:
        box, layout = self._group("Credit and revenue", parent)
        form = QFormLayout()
        self.attribution = QLineEdit(box)
        self.attribution.setPlaceholderText("e.g. Original: “Song” by Artist")
        self.attribution.setAccessibleName("Credit line")
        self.attribution.textEdited.connect(lambda text: self._set("attribution", text.strip() or None))
        form.addRow("Credit line", self.attribution)
        layout.addLayout(form)
        layout.addWidget(_label("Revenue split (empty: no revenue is shared). It must add up to 100 %.", "Muted", box))
        self.split_table = QTableWidget(0, 2, box)
        self.split_table.setHorizontalHeaderLabels(["Party", "Share"])
        self.split_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.split_table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.split_table.verticalHeader().setVisible(False)
        self.split_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.split_table.setAccessibleName("Revenue split")
        self.split_table.setMinimumHeight(120)
        self.split_table.itemChanged.connect(lambda _item: self._split_edited())
        layout.addWidget(self.split_table)
        row = QHBoxLayout()
        self.add_share_button = QPushButton("Add a party", box)
        self.add_share_button.setAccessibleName("Add a party to the revenue split")
        self.add_share_button.clicked.connect(lambda: self.add_share("", 0.0))
        self.remove_share_button = QPushButton("Remove", box)
        self.remove_share_button.setAccessibleName("Remove the selected party")
        self.remove_share_button.clicked.connect(self.remove_selected_share)
        self.split_total = QLabel(box)
        self.split_total.setAccessibleName("Revenue split total")
        row.addWidget(self.add_share_button)
        row.addWidget(self.remove_share_button)
        row.addStretch()
        row.addWidget(self.split_total)
        layout.addLayout(row)

    # -- loading a policy into the form ------------------------------------------------------------------------
    def set_policy(self, policy: Policy) -> None:
        """Show `policy`; until a control is changed, `policy()` returns it exactly."""
        self._loading = True
        try:
            self._fields = {name: getattr(policy, name) for name in POLICY_FIELDS}
            self._original_rules = policy.role_rules
            self._original_effects = tuple(policy.allowed_effects or ()) + tuple(policy.denied_effects)
            self.uid_edit.setText(policy.uid)
            self.tempo_row.set_range(policy.tempo_ratio.low, policy.tempo_ratio.high)
            self.pitch_row.set_range(policy.pitch_semitones.low, policy.pitch_semitones.high)
            allow_mode = policy.allowed_effects is not None
            self.effect_mode.setCurrentIndex(1 if allow_mode else 0)
            for kind, check in self.effect_boxes.items():
                check.setChecked(policy.effect_allowed(kind))
            for role in ROLES:
                rule = policy.rule_for(role)
                for name, _text in RULE_COLUMNS:
                    self.role_boxes[(role, name)].setChecked(bool(getattr(rule, name)))
            self.min_audible.setValue(policy.min_audible_stems)
            for name in ("min_length_s", "max_length_s"):
                value = getattr(policy, name)
                self.length_checks[name].setChecked(value is not None)
                self.length_spins[name].setValue(round(value) if value is not None else 30)
                self.length_spins[name].setEnabled(value is not None)
            self.distribution.setCurrentIndex(
                DISTRIBUTION_ANYWHERE if policy.distribute_outside_platform else DISTRIBUTION_PLATFORM
            )
            self.commercial.setChecked(policy.commercial_use)
            self.ai_training.setChecked(policy.ai_training)
            for name in ("valid_from", "valid_until"):
                value = getattr(policy, name)
                self.date_checks[name].setChecked(value is not None)
                if value is not None:
                    self.date_edits[name].setDate(QDate(value.year, value.month, value.day))
                self.date_edits[name].setEnabled(value is not None)
            self.attribution.setText(policy.attribution or "")
            self.split_table.setRowCount(0)
            for share in policy.revenue_split:
                self.add_share(share.party, share.percent)
        finally:
            self._loading = False
        self._changed()

    def apply_template(self) -> None:
        name = self.template_combo.currentData()
        self.set_policy(policy_templates.from_template(name))

    def set_context(self, title: str, artists: tuple[str, ...], pack_roles: set[str] | None = None) -> None:
        """The song the words panel names, and the roles the pack has (other roles' rows are shown as absent)."""
        self._title = title or "Your song"
        self._artists = tuple(a for a in artists if a) or ("You",)
        self._pack_roles = set(pack_roles or ())
        for role, label in self.role_labels.items():
            present = not self._pack_roles or role in self._pack_roles
            label.setText(ROLE_LABELS[role] if present else f"{ROLE_LABELS[role]} (not in this pack)")
        self.words_timer.start()

    # -- edits ----------------------------------------------------------------------------------------------------
    def _set(self, name: str, value: Any) -> None:
        if self._loading:
            return
        self._fields[name] = value
        self._changed()

    def _set_pair(self, which: str, low: float, high: float) -> None:
        if self._loading:
            return
        try:
            value = Range(low, high)
        except PolicyError:
            return
        self._set("tempo_ratio" if which == "tempo" else "pitch_semitones", value)

    def _effects_edited(self) -> None:
        if self._loading:
            return
        ticked = {kind for kind, check in self.effect_boxes.items() if check.isChecked()}
        table = list(self.effect_boxes)
        # kinds keep the order they were loaded in; newly listed ones follow in the table's order
        order = [k for k in self._original_effects if k in self.effect_boxes] + [
            k for k in table if k not in self._original_effects
        ]
        if self.effect_mode.currentData() == "allow":
            self._fields["allowed_effects"] = tuple(k for k in order if k in ticked)
            self._fields["denied_effects"] = ()
        else:
            self._fields["allowed_effects"] = None
            self._fields["denied_effects"] = tuple(k for k in order if k not in ticked)
        self._changed()

    def _roles_edited(self) -> None:
        if self._loading:
            return
        loaded = [rule.role for rule in self._original_rules]
        rules = []
        for role in loaded + [r for r in ROLES if r not in loaded]:
            values = {name: self.role_boxes[(role, name)].isChecked() for name, _text in RULE_COLUMNS}
            rule = RoleRule(role=role, **values)
            if role in loaded or rule != RoleRule(role=role):
                rules.append(rule)
        self._fields["role_rules"] = tuple(rules)
        self._changed()

    def _length_edited(self, name: str) -> None:
        on = self.length_checks[name].isChecked()
        self.length_spins[name].setEnabled(on)
        self._set(name, float(self.length_spins[name].value()) if on else None)

    def _date_edited(self, name: str) -> None:
        on = self.date_checks[name].isChecked()
        self.date_edits[name].setEnabled(on)
        date = self.date_edits[name].date()
        self._set(name, dt.date(date.year(), date.month(), date.day()) if on else None)

    def add_share(self, party: str, percent: float) -> None:
        loading = self._loading
        self._loading = True
        try:
            row = self.split_table.rowCount()
            self.split_table.insertRow(row)
            self.split_table.setItem(row, 0, QTableWidgetItem(party))
            spin = QDoubleSpinBox(self.split_table)
            spin.setRange(0.0, 100.0)
            spin.setDecimals(2)
            spin.setSuffix(" %")
            spin.setValue(percent)
            spin.setAccessibleName(f"Share of party {row + 1}")
            spin.valueChanged.connect(lambda _v: self._split_edited())
            self.split_table.setCellWidget(row, 1, spin)
        finally:
            self._loading = loading
        self._split_edited()

    def remove_selected_share(self) -> None:
        rows = sorted({index.row() for index in self.split_table.selectedIndexes()}, reverse=True)
        if not rows and self.split_table.rowCount():
            rows = [self.split_table.rowCount() - 1]
        for row in rows:
            self.split_table.removeRow(row)
        self._split_edited()

    def set_share(self, row: int, party: str | None = None, percent: float | None = None) -> None:
        """Change one row of the split as the artist would (tests and keyboard users alike)."""
        if party is not None:
            self.split_table.item(row, 0).setText(party)
        if percent is not None:
            self.split_table.cellWidget(row, 1).setValue(percent)

    def shares(self) -> tuple[Share, ...]:
        shares = []
        for row in range(self.split_table.rowCount()):
            item = self.split_table.item(row, 0)
            spin = self.split_table.cellWidget(row, 1)
            if item is None or spin is None:
                continue
            shares.append(Share(party=item.text().strip(), percent=float(spin.value())))
        return tuple(shares)

    def _split_edited(self) -> None:
        shares = self.shares()
        total = sum(s.percent for s in shares)
        self.split_total.setText(f"Total: {total:g} %" if shares else "No revenue split")
        if self._loading:
            return
        self._fields["revenue_split"] = shares
        self._changed()

    # -- the policy ---------------------------------------------------------------------------------------------
    def problems(self) -> list[str]:
        found = []
        if not str(self._fields.get("uid") or "").strip():
            found.append("The policy needs an id.")
        for share in self._fields.get("revenue_split", ()):
            if not share.party:
                found.append("Every party in the revenue split needs a name.")
                break
        try:
            Policy(**self._fields)
        except PolicyError as exc:
            found.append(str(exc))
        except (TypeError, ValueError) as exc:
            found.append(f"The policy is not valid: {exc}.")
        return found

    @property
    def is_valid(self) -> bool:
        return not self.problems()

    def policy(self) -> Policy:
        """The policy in the form; raises PolicyError naming what to fix when it is not valid."""
        problems = self.problems()
        if problems:
            raise PolicyError(" ".join(problems))
        return Policy(**self._fields)

    def _changed(self) -> None:
        self.last_problems = self.problems()
        if not self.last_problems:
            self._last_valid = Policy(**self._fields)
        self.problem_label.setText("\n".join(f"✕ {p}" for p in self.last_problems))
        self.problem_label.setVisible(bool(self.last_problems))
        self.save_button.setEnabled(not self.last_problems)
        self.save_button.setToolTip(
            "Fix what is listed above first." if self.last_problems else "Write the policy as a JSON file."
        )
        self.words_timer.start()
        self.policy_changed.emit(None if self.last_problems else Policy(**self._fields))

    def refresh_words(self) -> None:
        """Rebuild the words panel for the policy in the form. While the form holds a problem, the last valid policy
        stays on show, greyed out, so the artist keeps the words in view while fixing it."""
        valid = not self.last_problems
        policy = Policy(**self._fields) if valid else self._last_valid
        if policy is None:
            return
        context = (self._title, self._artists)
        if self.words_panel is None or (policy, context) != self._words_shown:
            source = WordsSource(WordsManifest(self._title, self._artists, policy), self)
            panel = LicencePanel(source, self.words_frame)  # type: ignore[arg-type]  (duck-typed session)
            panel.status_box.setVisible(False)  # that box judges a remix; there is none here
            panel.setAccessibleName("The policy as fans read it")
            if self.words_panel is not None:
                self.words_layout.removeWidget(self.words_panel)
                self.words_panel.deleteLater()
            if self.words_source is not None:
                self.words_source.deleteLater()
            self.words_panel, self.words_source = panel, source
            self.words_layout.addWidget(panel)
            self._words_shown = (policy, context)
        self.words_panel.setEnabled(valid)
        self.words_panel.setToolTip("" if valid else "The last valid version: fix the problem below to see the rest.")

    def words_text(self) -> str:
        """What the words panel says (for tests and screen readers)."""
        if self.words_panel is None:
            return ""
        return "\n".join(section.text() for section in self.words_panel.sections.values())

    # -- files ----------------------------------------------------------------------------------------------------
    def save_to(self, path: Path) -> bool:
        """Write the policy as JSON; refuses (returns False) while the form holds something invalid."""
        try:
            policy = self.policy()
        except PolicyError as exc:
            show_error(self, "The policy cannot be saved yet", exc)
            return False
        Path(path).write_text(policy.to_json() + "\n", "utf-8")
        self.saved.emit(Path(path))
        return True

    def load_from(self, path: Path) -> bool:
        try:
            policy = Policy.from_json(Path(path).read_bytes())
        except (OSError, FanRemixError) as exc:
            show_error(self, f"Could not load {Path(path).name}", exc)
            return False
        self.set_policy(policy)
        return True

    def choose_file_to_save(self) -> None:
        dialog = QFileDialog(self, "Save the policy", str(Path.home() / "policy.json"), "Policy (*.json)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("json")
        dialog.fileSelected.connect(lambda name: self.save_to(Path(name)))
        dialog.open()

    def choose_file_to_load(self) -> None:
        dialog = QFileDialog(self, "Load a policy", str(Path.home()), "Policy (*.json)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(lambda name: self.load_from(Path(name)))
        dialog.open()
