"""The pack builder: a folder of stems in, a signed .fanpack out.

The artist picks a folder; every audio file in it is measured on a worker (rate, length, peak, clipping) and its role
guessed from its name. Roles and names can be corrected in the table. Problems are listed before anything is built,
each with what to do; the two the app can fix itself (mixed sample rates, stems of different lengths) have a switch.
The metadata form validates as it is typed, and offers the detected BPM and key as suggestions to accept. Building
(convert, sign, verify) runs on a worker with progress; the publisher key is created on first use.
"""

import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fanremix.artist import (
    SEVERITY_ERROR,
    SEVERITY_NOTE,
    SEVERITY_WARNING,
    Analysis,
    BuildStem,
    ConformOptions,
    StemFile,
    StemProblem,
    analyse_stems,
    blocking,
    build_artist_pack,
    check_stems,
    default_pack_destination,
    export_public_key,
    load_or_create_publisher_key,
    publisher_key_status,
    scan_folder,
    target_sample_rate,
)
from fanremix.domain.errors import FanRemixError, FormatError, KeyringError
from fanremix.domain.music import MusicalKey, format_isrc, normalise_isrc
from fanremix.domain.policy import ROLES, Policy
from fanremix.domain.stem_pack import Rightsholder
from fanremix.rights.packfile import PackMetadata
from fanremix.workspace import Workspace

from ..dialogs.errors import show_error
from ..theme import ERROR_COLOUR, OK_COLOUR, ROLE_LABELS, WARN_COLOUR, role_colour
from ..widgets.licence import BulletList
from ..workers import Job, JobRunner

COLUMNS = ("File", "Name", "Role", "Rate", "Channels", "Length", "Peak")
KEY_NAMES = tuple(MusicalKey(tonic, minor).name for minor in (False, True) for tonic in range(12))
SEVERITY_MARKS = {SEVERITY_ERROR: ("✕", ERROR_COLOUR), SEVERITY_WARNING: ("!", WARN_COLOUR), SEVERITY_NOTE: ("•", "")}
_RIGHTSHOLDER = re.compile(r"^\s*(?P<name>[^()]+?)\s*(?:\((?P<role>[^()]+)\))?\s*$")
STAGE_WORDS = {
    "scan": "Measuring the stems",
    "analyse": "Listening for the tempo and key",
    "prepare": "Preparing the stems",
    "hash": "Fingerprinting the stems",
    "write": "Writing the pack",
    "verify": "Checking the pack as a fan's app will",
}


def _coloured(label: QLabel, colour: str) -> QLabel:
    """`label` in `colour` (an empty colour: the theme's text colour again)."""
    palette = label.palette()
    if colour:
        palette.setColor(QPalette.ColorRole.WindowText, QColor(colour))
    else:
        palette.setColor(QPalette.ColorRole.WindowText, label.parentWidget().palette().color(QPalette.ColorRole.Text))
    label.setPalette(palette)
    return label


def slug(text: str) -> str:
    value = "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")
    while "--" in value:
        value = value.replace("--", "-")
    return value[:64]


def parse_rightsholders(text: str) -> tuple[Rightsholder, ...]:
    """'Label Records (label), Jo Writer (songwriter)' -> rights holders; a name without a role is an artist."""
    holders = []
    for part in (p for p in text.split(",") if p.strip()):
        match = _RIGHTSHOLDER.match(part)
        if not match:
            raise FormatError(f"'{part.strip()}' is not 'Name (role)'.")
        holders.append(Rightsholder(name=match["name"].strip(), role=(match["role"] or "artist").strip()))
    return tuple(holders)


class PackBuilder(QWidget):
    stems_scanned = Signal(list)  # [StemFile]
    problems_changed = Signal(list)  # [StemProblem]
    analysed = Signal(object)  # Analysis
    built = Signal(object)  # artist.BuiltPack
    build_failed = Signal(object)
    metadata_changed = Signal()
    key_changed = Signal()

    def __init__(self, workspace: Workspace, runner: JobRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.runner = runner
        self.files: list[StemFile] = []
        self.problems: list[StemProblem] = []
        self.analysis: Analysis | None = None
        self.policy: Policy | None = None  # set by the window from the policy editor
        self.policy_problem = ""
        self.scan_job: Job | None = None
        self.build_job: Job | None = None
        self._id_edited = False
        self._destination_chosen = False
        self._quiet = False
        self.passphrase_dialog: QInputDialog | None = None

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setChildrenCollapsible(False)
        outer.addWidget(splitter)
        splitter.addWidget(self._build_stems_side(splitter))
        splitter.addWidget(self._build_details_side(splitter))
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([720, 480])
        self.refresh_key_status()
        self._update_build_state()

    # -- construction -----------------------------------------------------------------------------------------
    def _build_stems_side(self, parent: QWidget) -> QWidget:
        side = QWidget(parent)
        layout = QVBoxLayout(side)
        layout.setContentsMargins(0, 0, 6, 0)
        layout.setSpacing(8)
        row = QHBoxLayout()
        self.folder_edit = QLineEdit(side)
        self.folder_edit.setReadOnly(True)
        self.folder_edit.setPlaceholderText("Choose the folder your stems were exported to")
        self.folder_edit.setAccessibleName("Stems folder")
        self.choose_folder_button = QPushButton("Choose folder…", side)
        self.choose_folder_button.setObjectName("Primary")
        self.choose_folder_button.setAccessibleName("Choose the stems folder")
        self.choose_folder_button.clicked.connect(self.choose_folder)
        row.addWidget(QLabel("Stems", side))
        row.addWidget(self.folder_edit, 1)
        row.addWidget(self.choose_folder_button)
        layout.addLayout(row)
        hint = QLabel(
            "WAV, FLAC, AIFF or MP3, one file per stem, all from the song's first bar to its end. Roles are guessed "
            "from the file names (“Lead Vox”, “Kick”, “Sub Bass”…); correct them in the table.",
            side,
        )
        hint.setObjectName("Muted")
        hint.setWordWrap(True)
        layout.addWidget(hint)

        self.table = QTableWidget(0, len(COLUMNS), side)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAccessibleName("Stems")
        self.table.setMinimumHeight(180)
        self.table.itemChanged.connect(self._name_edited)
        layout.addWidget(self.table, 3)

        checks = QGroupBox("Checks", side)
        checks_layout = QVBoxLayout(checks)
        checks_layout.setContentsMargins(10, 14, 10, 10)
        self.checks_summary = QLabel("Choose a folder to check its stems.", checks)
        self.checks_summary.setWordWrap(True)
        self.checks_summary.setAccessibleName("Stem checks")
        checks_layout.addWidget(self.checks_summary)
        scroll = QScrollArea(checks)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.checks_body = QWidget(scroll.viewport())
        self.checks_layout = QVBoxLayout(self.checks_body)
        self.checks_layout.setContentsMargins(0, 0, 0, 0)
        self.checks_layout.setSpacing(4)
        self.checks_layout.addStretch()
        scroll.setWidget(self.checks_body)
        checks_layout.addWidget(scroll, 1)
        fixes = QHBoxLayout()
        self.resample_check = QCheckBox("Resample every stem to", checks)
        self.resample_check.setAccessibleName("Resample the stems")
        self.resample_check.toggled.connect(lambda _on: self.recheck())
        self.resample_rate = QComboBox(checks)
        for rate in (44100, 48000, 88200, 96000):
            self.resample_rate.addItem(f"{rate} Hz", rate)
        self.resample_rate.setAccessibleName("Sample rate to resample to")
        self.resample_rate.currentIndexChanged.connect(lambda _i: self.recheck())
        self.pad_check = QCheckBox("Pad shorter stems with silence", checks)
        self.pad_check.setAccessibleName("Pad the shorter stems")
        self.pad_check.toggled.connect(lambda _on: self.recheck())
        fixes.addWidget(self.resample_check)
        fixes.addWidget(self.resample_rate)
        fixes.addSpacing(16)
        fixes.addWidget(self.pad_check)
        fixes.addStretch()
        checks_layout.addLayout(fixes)
        layout.addWidget(checks, 2)
        return side

    def _build_details_side(self, parent: QWidget) -> QWidget:
        scroll = QScrollArea(parent)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        side = QWidget(scroll.viewport())
        layout = QVBoxLayout(side)
        layout.setContentsMargins(6, 0, 4, 0)
        layout.setSpacing(10)

        meta = QGroupBox("The song", side)
        form = QFormLayout(meta)
        form.setContentsMargins(10, 14, 10, 10)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.title_edit = QLineEdit(meta)
        self.title_edit.setAccessibleName("Title")
        self.title_edit.textEdited.connect(self._title_edited)
        form.addRow("Title", self.title_edit)
        self.artists_edit = QLineEdit(meta)
        self.artists_edit.setPlaceholderText("Separate several artists with commas")
        self.artists_edit.setAccessibleName("Artists")
        self.artists_edit.textEdited.connect(lambda _t: self._metadata_edited())
        form.addRow("Artists", self.artists_edit)
        self.id_edit = QLineEdit(meta)
        self.id_edit.setAccessibleName("Pack id")
        self.id_edit.setToolTip("How the rights service and fans' projects refer to this pack; made from the title.")
        self.id_edit.textEdited.connect(self._id_typed)
        form.addRow("Pack id", self.id_edit)
        self.isrc_edit = QLineEdit(meta)
        self.isrc_edit.setPlaceholderText("e.g. GB-XYZ-26-00001 (optional)")
        self.isrc_edit.setAccessibleName("ISRC")
        self.isrc_edit.textEdited.connect(lambda _t: self._metadata_edited())
        form.addRow("ISRC", self.isrc_edit)
        bpm_row = QHBoxLayout()
        self.bpm_spin = QDoubleSpinBox(meta)
        self.bpm_spin.setRange(20.0, 400.0)
        self.bpm_spin.setDecimals(1)
        self.bpm_spin.setValue(120.0)
        self.bpm_spin.setSuffix(" BPM")
        self.bpm_spin.setAccessibleName("BPM")
        self.bpm_spin.valueChanged.connect(lambda _v: self._metadata_edited())
        self.bpm_suggestion = QPushButton(meta)
        self.bpm_suggestion.setAccessibleName("Use the detected BPM")
        self.bpm_suggestion.setVisible(False)
        self.bpm_suggestion.clicked.connect(self.accept_bpm)
        bpm_row.addWidget(self.bpm_spin)
        bpm_row.addWidget(self.bpm_suggestion)
        bpm_row.addStretch()
        form.addRow("Tempo", bpm_row)
        key_row = QHBoxLayout()
        self.key_combo = QComboBox(meta)
        self.key_combo.addItems(KEY_NAMES)
        self.key_combo.setCurrentText("C major")
        self.key_combo.setAccessibleName("Key")
        self.key_combo.currentIndexChanged.connect(lambda _i: self._metadata_edited())
        self.key_suggestion = QPushButton(meta)
        self.key_suggestion.setAccessibleName("Use the detected key")
        self.key_suggestion.setVisible(False)
        self.key_suggestion.clicked.connect(self.accept_key)
        key_row.addWidget(self.key_combo)
        key_row.addWidget(self.key_suggestion)
        key_row.addStretch()
        form.addRow("Key", key_row)
        self.rights_edit = QLineEdit(meta)
        self.rights_edit.setPlaceholderText("e.g. Owl Records (label), Jo Lee (songwriter)")
        self.rights_edit.setAccessibleName("Rights holders")
        self.rights_edit.textEdited.connect(lambda _t: self._metadata_edited())
        form.addRow("Rights holders", self.rights_edit)
        self.suggestion_note = QLabel(meta)
        self.suggestion_note.setObjectName("Muted")
        self.suggestion_note.setWordWrap(True)
        form.addRow("", self.suggestion_note)
        self.meta_problem = _coloured(QLabel(meta), ERROR_COLOUR)
        self.meta_problem.setWordWrap(True)
        self.meta_problem.setAccessibleName("Problems with the details")
        form.addRow("", self.meta_problem)
        layout.addWidget(meta)

        keybox = QGroupBox("Publisher key", side)
        key_layout = QVBoxLayout(keybox)
        key_layout.setContentsMargins(10, 14, 10, 10)
        self.key_status = QLabel(keybox)
        self.key_status.setWordWrap(True)
        self.key_status.setAccessibleName("Publisher key")
        self.key_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        key_layout.addWidget(self.key_status)
        self.export_key_button = QPushButton("Export public key…", keybox)
        self.export_key_button.setAccessibleName("Export the public key")
        self.export_key_button.setToolTip("Give this file to platforms and fans so they can check your packs.")
        self.export_key_button.clicked.connect(self.choose_public_key_destination)
        key_layout.addWidget(self.export_key_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(keybox)

        out = QGroupBox("Build", side)
        out_layout = QVBoxLayout(out)
        out_layout.setContentsMargins(10, 14, 10, 10)
        self.destination_edit = QLineEdit(out)
        self.destination_edit.setPlaceholderText("Where to save the .fanpack")
        self.destination_edit.setAccessibleName("Pack file")
        self.destination_edit.textEdited.connect(self._destination_typed)
        self.destination_edit.textChanged.connect(self.destination_edit.setToolTip)
        out_layout.addWidget(self.destination_edit)
        row = QHBoxLayout()
        self.destination_button = QPushButton("Save as…", out)
        self.destination_button.setAccessibleName("Choose where to save the pack")
        self.destination_button.clicked.connect(self.choose_destination)
        self.build_button = QPushButton("Build and sign the pack", out)
        self.build_button.setObjectName("Primary")
        self.build_button.setAccessibleName("Build and sign the pack")
        self.build_button.clicked.connect(lambda: self.build())  # not the button's `checked` as a passphrase
        row.addWidget(self.destination_button)
        row.addWidget(self.build_button, 1)
        out_layout.addLayout(row)
        self.progress = QProgressBar(out)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setVisible(False)
        self.progress.setAccessibleName("Build progress")
        out_layout.addWidget(self.progress)
        self.build_status = QLabel(out)
        self.build_status.setWordWrap(True)
        self.build_status.setAccessibleName("Build result")
        self.build_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        out_layout.addWidget(self.build_status)
        layout.addWidget(out)
        layout.addStretch()
        scroll.setWidget(side)
        return scroll

    # -- stems ------------------------------------------------------------------------------------------------
    def choose_folder(self) -> None:
        dialog = QFileDialog(self, "Choose the folder of stems", self.folder_edit.text() or str(Path.home()))
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(lambda name: self.scan(Path(name)))
        dialog.open()

    def scan(self, folder: Path, roles: dict[str, str] | None = None, names: dict[str, str] | None = None) -> Job:
        """Measure every audio file in `folder` on a worker; `roles`/`names` (by file name) replace the guesses."""
        self.folder_edit.setText(str(folder))
        self.checks_summary.setText("Measuring the stems…")
        self._show_progress(0.0)
        job = self.runner.start("scan-stems", lambda ctx: scan_folder(folder, ctx.progress, ctx.cancel_requested))
        self.scan_job = job
        job.progress.connect(lambda _stage, fraction: self._show_progress(fraction))

        def done(files: list[StemFile], job=job) -> None:
            if job is not self.scan_job:
                return
            self.progress.setVisible(False)
            self.set_files(files, roles, names)
            if not self._destination_chosen:
                self.destination_edit.setText(str(default_pack_destination(folder.parent, self.title() or folder.name)))

        def failed(error: BaseException, job=job) -> None:
            if job is not self.scan_job:
                return
            self.progress.setVisible(False)
            self.checks_summary.setText("The folder could not be read.")
            show_error(self, "Could not read the stems", error)

        job.finished.connect(done)
        job.failed.connect(failed)
        return job

    def set_files(
        self, files: list[StemFile], roles: dict[str, str] | None = None, names: dict[str, str] | None = None
    ) -> None:
        roles, names = roles or {}, names or {}
        self.files = list(files)
        self._quiet = True
        try:
            self.table.setRowCount(0)
            for row, file in enumerate(self.files):
                self.table.insertRow(row)
                name_item = QTableWidgetItem(file.path.name)
                name_item.setFlags(name_item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, 0, name_item)
                self.table.setItem(row, 1, QTableWidgetItem(names.get(file.path.name, file.name)))
                combo = QComboBox(self.table)
                for role in ROLES:
                    combo.addItem(ROLE_LABELS[role], role)
                    combo.setItemData(combo.count() - 1, role_colour(role), Qt.ItemDataRole.ForegroundRole)
                combo.setCurrentIndex(ROLES.index(roles.get(file.path.name, file.role)))
                combo.setAccessibleName(f"Role of {file.path.name}")
                combo.currentIndexChanged.connect(lambda _i: self._roles_changed())
                self.table.setCellWidget(row, 2, combo)
                for column, text in (
                    (3, f"{file.sample_rate} Hz"),
                    (4, "stereo" if file.channels == 2 else ("mono" if file.channels == 1 else str(file.channels))),
                    (5, f"{file.duration_s:.2f} s"),
                    (6, f"{file.peak_db:.1f} dBFS" if file.peak > 0 else "silent"),
                ):
                    item = QTableWidgetItem(text)
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                    if column in (3, 5, 6):
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    self.table.setItem(row, column, item)
        finally:
            self._quiet = False
        if self.files:
            rate = target_sample_rate(self.files)
            index = self.resample_rate.findData(rate)
            if index < 0:
                self.resample_rate.addItem(f"{rate} Hz", rate)
                index = self.resample_rate.count() - 1
            self.resample_rate.setCurrentIndex(index)
        self.stems_scanned.emit(list(self.files))
        self.recheck()
        self.analyse()

    def stems(self) -> list[BuildStem]:
        chosen = []
        for row, file in enumerate(self.files):
            item = self.table.item(row, 1)
            combo = self.table.cellWidget(row, 2)
            name = (item.text().strip() if item else "") or file.name
            chosen.append(BuildStem(file=file, role=combo.currentData() if combo else file.role, name=name))
        return chosen

    def set_role(self, file_name: str, role: str) -> None:
        for row, file in enumerate(self.files):
            if file.path.name == file_name:
                combo = self.table.cellWidget(row, 2)
                combo.setCurrentIndex(ROLES.index(role))

    def roles(self) -> dict[str, str]:
        return {stem.file.path.name: stem.role for stem in self.stems()}

    def options(self) -> ConformOptions:
        return ConformOptions(
            sample_rate=self.resample_rate.currentData() if self.resample_check.isChecked() else None,
            pad_to_longest=self.pad_check.isChecked(),
        )

    def _roles_changed(self) -> None:
        self.metadata_changed.emit()

    def _name_edited(self, item: QTableWidgetItem) -> None:
        if not self._quiet and item.column() == 1:
            self.metadata_changed.emit()

    def recheck(self) -> None:
        self.problems = check_stems(self.files, self.options()) if self.files else []
        for index in reversed(range(self.checks_layout.count() - 1)):
            widget = self.checks_layout.takeAt(index).widget()
            if widget is not None:
                widget.deleteLater()
        errors = blocking(self.problems)
        warnings = [p for p in self.problems if p.severity == SEVERITY_WARNING]
        if not self.files:
            self.checks_summary.setText("Choose a folder to check its stems.")
        elif errors:
            noun = "problem stops" if len(errors) == 1 else "problems stop"
            self.checks_summary.setText(f"{len(errors)} {noun} the pack from being built:")
            _coloured(self.checks_summary, ERROR_COLOUR)
        else:
            extra = f" ({len(warnings)} to look at)" if warnings else ""
            self.checks_summary.setText(f"✓ {len(self.files)} stems, ready to pack{extra}.")
            _coloured(self.checks_summary, OK_COLOUR)
        position = 0
        for severity in (SEVERITY_ERROR, SEVERITY_WARNING, SEVERITY_NOTE):
            items = [
                f"{p.message} {p.suggestion}".rstrip() if p.suggestion else p.message
                for p in self.problems
                if p.severity == severity
            ]
            if items:
                mark, colour = SEVERITY_MARKS[severity]
                bullets = BulletList(items, mark, colour or self.palette().color(QPalette.ColorRole.Text).name())
                bullets.setAccessibleName(f"Stem {severity}s")
                self.checks_layout.insertWidget(position, bullets)
                position += 1
        fixable = {p.fix for p in self.problems if p.fix}
        self.resample_check.setEnabled("resample" in fixable or self.resample_check.isChecked())
        self.pad_check.setEnabled("pad" in fixable or self.pad_check.isChecked())
        self.problems_changed.emit(list(self.problems))
        self._update_build_state()

    # -- suggestions --------------------------------------------------------------------------------------------
    def analyse(self) -> Job | None:
        stems = self.stems()
        if not stems:
            return None
        self.suggestion_note.setText("Listening for the tempo and key…")
        job = self.runner.start("analyse-stems", lambda ctx: analyse_stems(stems, progress=ctx.progress))
        job.finished.connect(self._show_analysis)
        job.failed.connect(lambda error: self.suggestion_note.setText(f"No tempo or key suggestion: {error}"))
        return job

    def _show_analysis(self, analysis: Analysis) -> None:
        self.analysis = analysis
        if analysis.tempo is not None:
            self.bpm_suggestion.setText(f"Use {analysis.tempo.bpm:g} (detected)")
            self.bpm_suggestion.setVisible(True)
        else:
            self.bpm_suggestion.setVisible(False)
        if analysis.key is not None:
            self.key_suggestion.setText(f"Use {analysis.key.key.name} (detected)")
            self.key_suggestion.setVisible(True)
        else:
            self.key_suggestion.setVisible(False)
        found = [w for w in (analysis.tempo and analysis.tempo.words, analysis.key and analysis.key.words) if w]
        self.suggestion_note.setText(
            f"Heard in the stems: {' and '.join(found)}. Estimates: accept them only if they are right."
            if found
            else "No clear tempo or key could be heard; enter them yourself."
        )
        self.suggestion_note.setVisible(True)
        self.analysed.emit(analysis)

    def accept_bpm(self) -> None:
        if self.analysis is not None and self.analysis.tempo is not None:
            self.bpm_spin.setValue(self.analysis.tempo.bpm)
            self.bpm_suggestion.setVisible(False)
            self._hide_note_when_done()

    def accept_key(self) -> None:
        if self.analysis is not None and self.analysis.key is not None:
            self.key_combo.setCurrentText(self.analysis.key.key.name)
            self.key_suggestion.setVisible(False)
            self._hide_note_when_done()

    def _hide_note_when_done(self) -> None:
        if not self.bpm_suggestion.isVisibleTo(self) and not self.key_suggestion.isVisibleTo(self):
            self.suggestion_note.setVisible(False)

    # -- metadata ------------------------------------------------------------------------------------------------
    def title(self) -> str:
        return self.title_edit.text().strip()

    def artists(self) -> tuple[str, ...]:
        return tuple(a.strip() for a in self.artists_edit.text().split(",") if a.strip())

    def set_metadata(
        self,
        *,
        title: str,
        artists: tuple[str, ...],
        bpm: float,
        key: str,
        isrc: str | None = None,
        pack_id: str | None = None,
        rightsholders: tuple[Rightsholder, ...] = (),
    ) -> None:
        self.title_edit.setText(title)
        self.artists_edit.setText(", ".join(artists))
        self.bpm_spin.setValue(bpm)
        self.key_combo.setCurrentText(MusicalKey.parse(key).name)
        self.isrc_edit.setText(format_isrc(isrc) if isrc else "")
        self.rights_edit.setText(", ".join(f"{r.name} ({r.role})" for r in rightsholders))
        if pack_id:
            self.id_edit.setText(pack_id)
            self._id_edited = True
        else:
            self._id_edited = False
            self.id_edit.setText(slug(title))
        self._metadata_edited()

    def _title_edited(self, text: str) -> None:
        if not self._id_edited:
            self.id_edit.setText(slug(text))
        if not self._destination_chosen and self.folder_edit.text():
            folder = Path(self.folder_edit.text())
            self.destination_edit.setText(str(default_pack_destination(folder.parent, text or folder.name)))
        self._metadata_edited()

    def _id_typed(self, _text: str) -> None:
        self._id_edited = True
        self._metadata_edited()

    def _destination_typed(self, _text: str) -> None:
        self._destination_chosen = True
        self._update_build_state()

    def metadata(self) -> PackMetadata:
        """The form as pack metadata; raises FanRemixError naming the first field to fix."""
        title = self.title()
        if not title:
            raise FormatError("Give the song's title.")
        artists = self.artists()
        if not artists:
            raise FormatError("Name at least one artist.")
        pack_id = self.id_edit.text().strip()
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", pack_id):
            raise FormatError(
                "The pack id takes 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit."
            )
        isrc_text = self.isrc_edit.text().strip()
        isrc = normalise_isrc(isrc_text) if isrc_text else None
        return PackMetadata(
            id=pack_id,
            title=title,
            artists=artists,
            bpm=round(self.bpm_spin.value(), 1),
            key=self.key_combo.currentText(),
            isrc=isrc,
            rightsholders=parse_rightsholders(self.rights_edit.text()),
        )

    def metadata_problem(self) -> str:
        try:
            self.metadata()
        except FanRemixError as exc:
            return exc.message
        return ""

    def _metadata_edited(self) -> None:
        problem = self.metadata_problem()
        self.meta_problem.setText(f"✕ {problem}" if problem else "")
        self.meta_problem.setVisible(bool(problem))
        self.metadata_changed.emit()
        self._update_build_state()

    # -- key ---------------------------------------------------------------------------------------------------------
    def refresh_key_status(self) -> None:
        status = publisher_key_status(self.workspace)
        if status.exists:
            protected = " It is protected by a passphrase." if status.protected else ""
            self.key_status.setText(
                f"Packs are signed with your key {status.key_id or '(unreadable public half)'}, kept at "
                f"{status.path} (readable only by you).{protected}"
            )
        else:
            self.key_status.setText(
                "You have no publisher key yet. One is made when you build your first pack and kept in your "
                f"settings folder ({status.path.parent}), readable only by you."
            )
        self.export_key_button.setEnabled(status.exists)
        self.key_changed.emit()

    def choose_public_key_destination(self) -> None:
        dialog = QFileDialog(self, "Export your public key", str(Path.home() / "publisher-key.pub.pem"), "PEM (*.pem)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.fileSelected.connect(lambda name: self.export_public_key_to(Path(name)))
        dialog.open()

    def export_public_key_to(self, path: Path) -> Path | None:
        try:
            written = export_public_key(self.workspace, path)
        except (OSError, FanRemixError) as exc:
            show_error(self, "The public key was not exported", exc)
            return None
        self.key_status.setText(
            self.key_status.text().split(" Exported")[0] + f" Exported the public key to {written}."
        )
        return written

    # -- building -------------------------------------------------------------------------------------------------
    def destination(self) -> Path | None:
        text = self.destination_edit.text().strip()
        return Path(text).expanduser() if text else None

    def choose_destination(self) -> None:
        start = self.destination_edit.text() or str(Path.home() / "song.fanpack")
        dialog = QFileDialog(self, "Save the pack as", start, "Stem packs (*.fanpack)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("fanpack")

        def chosen(name: str) -> None:
            self.destination_edit.setText(name)
            self._destination_chosen = True
            self._update_build_state()

        dialog.fileSelected.connect(chosen)
        dialog.open()

    def set_destination(self, path: Path) -> None:
        self.destination_edit.setText(str(path))
        self._destination_chosen = True
        self._update_build_state()

    def set_policy(self, policy: Policy | None, problem: str = "") -> None:
        self.policy = policy
        self.policy_problem = problem
        self._update_build_state()

    def build_blockers(self) -> list[str]:
        reasons = []
        if not self.files:
            reasons.append("Choose a folder of stems.")
        elif blocking(self.problems):
            reasons.append("Fix the problems listed under Checks.")
        problem = self.metadata_problem()
        if problem:
            reasons.append(problem)
        if self.policy is None:
            reasons.append(self.policy_problem or "Fix the policy on the Licence page.")
        if self.destination() is None:
            reasons.append("Choose where to save the pack.")
        return reasons

    def _update_build_state(self) -> None:
        if not hasattr(self, "build_button"):
            return
        busy = self.build_job is not None and not self.build_job.is_done
        reasons = self.build_blockers()
        self.build_button.setEnabled(not reasons and not busy)
        self.build_button.setToolTip("\n".join(reasons) if reasons else "Convert, sign and check the pack.")

    def _show_progress(self, fraction: float) -> None:
        self.progress.setVisible(True)
        self.progress.setValue(int(fraction * 1000))

    def build(self, passphrase: bytes | None = None) -> Job | None:
        reasons = self.build_blockers()
        if reasons:
            self.build_status.setText("Not yet: " + " ".join(reasons))
            return None
        stems, metadata, policy, options = self.stems(), self.metadata(), self.policy, self.options()
        destination = self.destination()
        assert policy is not None and destination is not None
        workspace = self.workspace
        name = ", ".join(metadata.artists)

        def work(ctx) -> Any:
            key, created = load_or_create_publisher_key(workspace, name, passphrase)
            built = build_artist_pack(
                stems,
                metadata,
                policy,
                key,
                destination,
                workspace.keyring(),
                options=options,
                workdir=workspace.paths.cache,
                progress=ctx.progress,
                cancelled=ctx.cancel_requested,
            )
            return built, created

        _coloured(self.build_status, "")
        self.build_status.setText("Building…")
        self._show_progress(0.0)
        job = self.runner.start("build-pack", work)
        self.build_job = job
        job.progress.connect(self._build_progress)
        job.finished.connect(self._build_finished)
        job.failed.connect(self._build_failed)
        self._update_build_state()
        return job

    def _build_progress(self, stage: str, fraction: float) -> None:
        self._show_progress(fraction)
        self.build_status.setText(f"{STAGE_WORDS.get(stage, stage)}…")

    def _build_finished(self, result: Any) -> None:
        built, created = result
        self.progress.setVisible(False)
        manifest = built.manifest
        created_words = " Your publisher key was created for it." if created else ""
        self.build_status.setText(
            f"✓ Built and verified {built.path.name}: {len(manifest.stems)} stems, signed with "
            f"{manifest.signature.key_id}.{created_words}"
        )
        _coloured(self.build_status, OK_COLOUR)
        self.refresh_key_status()
        self._update_build_state()
        self.built.emit(built)

    def _build_failed(self, error: BaseException) -> None:
        self.progress.setVisible(False)
        self._update_build_state()
        if isinstance(error, KeyringError) and "passphrase" in error.message:
            self.ask_passphrase()
            return
        _coloured(self.build_status, ERROR_COLOUR)
        self.build_status.setText(f"✕ {error}")
        show_error(self, "The pack was not built", error)
        self.build_failed.emit(error)

    def ask_passphrase(self) -> QInputDialog:
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Publisher key passphrase")
        dialog.setLabelText("Your publisher key is protected by a passphrase. Enter it to sign the pack:")
        dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
        dialog.textValueSelected.connect(lambda text: self.build(text.encode()))
        self.passphrase_dialog = dialog
        dialog.open()
        return dialog
