"""Export: format and quality, loudness target, destination; render on a worker with progress and Cancel; figures.

The loudness target is part of the recipe (it changes the audio), so choosing it here is an undoable edit.
"""

import html
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fanremix.audio.errors import RenderCancelled
from fanremix.audio.export import FORMATS, ExportFormat
from fanremix.domain.policy import output_length_s

from ..session import Session, clock
from ..theme import ERROR_COLOUR, OK_COLOUR
from ..workers import Job, JobContext, JobRunner
from .errors import error_text

LOUDNESS_TARGETS: tuple[tuple[str, float | None], ...] = (
    ("−14 LUFS · Spotify, YouTube, Tidal", -14.0),
    ("−16 LUFS · Apple Music", -16.0),
    ("−23 LUFS · broadcast (EBU R128)", -23.0),
    ("Off · keep the level as mixed", None),
)
STAGE_WORDS = {
    "decode": "Reading the stems",
    "mix": "Mixing",
    "stretch": "Changing tempo and key (high quality)",
    "master": "Master effects",
    "fades": "Fades",
    "loudness": "Loudness",
    "encode": "Writing the file",
    "hash": "Checking the file",
}


def export_formats() -> dict[str, ExportFormat]:
    return dict(FORMATS)


def default_file_name(session: Session) -> str:
    title = "".join(c if c.isalnum() or c in " -_" else "" for c in session.manifest.title).strip() or "remix"
    return f"{title} (fan remix)"


RenderFunction = Callable[..., Any]


def _default_render(*args: Any, **kwargs: Any) -> Any:
    from fanremix.audio.offline import render_to_file

    return render_to_file(*args, **kwargs)


class ExportDialog(QDialog):
    """Non-blocking dialog (`open()`); emits `exported(result)` when the file is written."""

    exported = Signal(object)

    def __init__(
        self,
        session: Session,
        runner: JobRunner,
        *,
        folder: Path,
        format_name: str = "wav24",
        render: RenderFunction = _default_render,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.session = session
        self.runner = runner
        self.render = render
        self.job: Job | None = None
        self.result: Any = None
        self.setWindowTitle("Export your remix")
        self.setObjectName("ExportDialog")
        self.setMinimumWidth(560)
        self.formats = export_formats()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.setSpacing(12)

        title = QLabel("Export your remix")
        title.setObjectName("SongTitle")
        layout.addWidget(title)
        self.summary = QLabel()
        self.summary.setObjectName("Muted")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(8)
        self.format_combo = QComboBox()
        for name, fmt in self.formats.items():
            self.format_combo.addItem(fmt.label, name)
        index = self.format_combo.findData(format_name)
        self.format_combo.setCurrentIndex(max(0, index))
        self.format_combo.setAccessibleName("Format and quality")
        self.format_combo.currentIndexChanged.connect(self._format_changed)
        form.addRow("Format", self.format_combo)

        self.loudness_combo = QComboBox()
        for label, value in LOUDNESS_TARGETS:
            self.loudness_combo.addItem(label, value)
        current = session.recipe.loudness_lufs
        match = next((i for i, (_l, v) in enumerate(LOUDNESS_TARGETS) if v == current), None)
        if match is None:
            self.loudness_combo.addItem(f"{current:g} LUFS · from the project", current)
            match = self.loudness_combo.count() - 1
        self.loudness_combo.setCurrentIndex(match)
        self.loudness_combo.setAccessibleName("Loudness target")
        self.loudness_combo.setToolTip(
            "Streaming services play everything at about the same loudness. Exporting at their level means your "
            "remix is not turned down. The peak is kept at or below −1 dBTP."
        )
        self.loudness_combo.activated.connect(self._loudness_chosen)
        form.addRow("Loudness", self.loudness_combo)

        destination_row = QHBoxLayout()
        self.destination_edit = QLineEdit()
        self.destination_edit.setAccessibleName("Destination file")
        suffix = self.formats[self.format_name].suffix
        self.destination_edit.setText(str(Path(folder) / (default_file_name(session) + suffix)))
        self.browse_button = QPushButton("Choose…")
        self.browse_button.setAccessibleName("Choose the destination")
        self.browse_button.clicked.connect(self._browse)
        destination_row.addWidget(self.destination_edit, 1)
        destination_row.addWidget(self.browse_button)
        form.addRow("Save as", destination_row)
        layout.addLayout(form)

        self.violation_label = QLabel()
        self.violation_label.setWordWrap(True)
        self.violation_label.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.violation_label)

        self.progress_box = QFrame()
        progress_layout = QVBoxLayout(self.progress_box)
        progress_layout.setContentsMargins(0, 0, 0, 0)
        self.stage_label = QLabel("")
        self.stage_label.setObjectName("Muted")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName("Export progress")
        progress_layout.addWidget(self.stage_label)
        progress_layout.addWidget(self.progress)
        layout.addWidget(self.progress_box)
        self.progress_box.setVisible(False)

        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.result_label.setTextFormat(Qt.TextFormat.RichText)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label.setAccessibleName("Export result")
        layout.addWidget(self.result_label)
        self.result_label.setVisible(False)

        buttons = QHBoxLayout()
        buttons.addStretch()
        self.close_button = QPushButton("Close")
        self.close_button.setAccessibleName("Close")
        self.close_button.clicked.connect(self._close_or_cancel)
        self.export_button = QPushButton("Export")
        self.export_button.setObjectName("Primary")
        self.export_button.setAccessibleName("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start_export)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.export_button)
        layout.addLayout(buttons)

        session.violations_changed.connect(lambda _v: self._refresh())
        session.recipe_changed.connect(lambda _r: self._refresh())
        self._refresh()

    # -- state --------------------------------------------------------------------------------------------------
    @property
    def format_name(self) -> str:
        return str(self.format_combo.currentData())

    @property
    def destination(self) -> Path:
        return Path(self.destination_edit.text().strip()).expanduser()

    @property
    def busy(self) -> bool:
        return self.job is not None and not self.job.is_done

    def _refresh(self) -> None:
        session = self.session
        recipe = session.recipe
        start, end = session.region()
        length = output_length_s(recipe, session.manifest)
        changes = []
        if recipe.tempo_ratio != 1.0:
            changes.append(f"tempo {recipe.tempo_ratio * 100:.1f} %")
        if recipe.pitch_semitones:
            changes.append(f"key {recipe.pitch_semitones:+.0f} semitones")
        extra = f", {', '.join(changes)}" if changes else ""
        self.summary.setText(
            f"“{session.manifest.title}”, {clock(start, tenths=True)}–{clock(end, tenths=True)} of the "
            f"original{extra}: your remix lasts {clock(length, tenths=True)}."
        )
        violations = session.violations
        if violations:
            items = "".join(f"<li>{html.escape(v.message)}</li>" for v in violations)
            self.violation_label.setText(
                f"<span style='color:{ERROR_COLOUR}'><b>The licence does not allow this remix yet:</b></span>"
                f"<ul style='margin-left:-20px'>{items}</ul>"
            )
        self.violation_label.setVisible(bool(violations))
        self.export_button.setEnabled(not violations and not self.busy)
        self.export_button.setToolTip(
            "Fix what the licence panel lists first." if violations else "Render and write the file"
        )
        editable = not self.busy
        for widget in (self.format_combo, self.loudness_combo, self.destination_edit, self.browse_button):
            widget.setEnabled(editable)
            if not editable:
                widget.setToolTip("The export is running; cancel it to change this.")

    def _format_changed(self) -> None:
        suffix = self.formats[self.format_name].suffix
        path = self.destination
        if path.suffix.lower() != suffix:
            self.destination_edit.setText(str(path.with_suffix(suffix)))

    def _loudness_chosen(self, row: int) -> None:
        self.session.set_loudness(self.loudness_combo.itemData(row))

    def _browse(self) -> None:
        fmt = self.formats[self.format_name]
        dialog = QFileDialog(self, "Export to", str(self.destination))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter(f"{fmt.label} (*{fmt.suffix})")
        dialog.setDefaultSuffix(fmt.suffix.lstrip("."))
        dialog.fileSelected.connect(lambda path: self.destination_edit.setText(path))
        dialog.open()

    # -- the export -------------------------------------------------------------------------------------------
    def start_export(self) -> Job | None:
        if self.busy or self.session.violations:
            return None
        destination = self.destination
        if not destination.name:
            self._show_failure("Choose where to save the file.")
            return None
        session = self.session
        manifest = session.manifest
        stem_paths = session.stem_paths
        recipe = session.recipe
        fmt = self.format_name
        render = self.render

        def work(ctx: JobContext) -> Any:
            return render(
                manifest,
                stem_paths,
                recipe,
                destination,
                fmt,
                progress=ctx.progress,
                cancel=ctx.cancelled,
                normalize=recipe.loudness_lufs is not None,
            )

        self.result = None
        self.result_label.setVisible(False)
        self.progress_box.setVisible(True)
        self.progress.setValue(0)
        self.stage_label.setText("Starting…")
        self.close_button.setText("Cancel")
        self.close_button.setAccessibleName("Cancel the export")
        self.job = self.runner.start("export", work)
        self.job.progress.connect(self._progress)
        self.job.finished.connect(self._finished)
        self.job.failed.connect(self._failed)
        self._refresh()
        return self.job

    def _progress(self, stage: str, fraction: float) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.stage_label.setText(f"{STAGE_WORDS.get(stage, stage.capitalize())}… {fraction * 100:.0f} %")

    def _finished(self, result: Any) -> None:
        self.result = result
        self.progress.setValue(1000)
        self.progress_box.setVisible(False)
        self.close_button.setText("Close")
        self.close_button.setAccessibleName("Close")
        report = result.loudness
        lufs = "—" if report.integrated_lufs is None else f"{report.integrated_lufs:.1f} LUFS"
        peak = "−∞" if math.isinf(report.true_peak_dbtp) else f"{report.true_peak_dbtp:.1f} dBTP"
        self.result_label.setText(
            f"<b style='color:{OK_COLOUR}'>✓ Exported</b> {html.escape(str(result.path))}<br>"
            f"<table cellspacing='6'><tr><td>Loudness</td><td><b>{lufs}</b> integrated</td></tr>"
            f"<tr><td>True peak</td><td><b>{peak}</b></td></tr>"
            f"<tr><td>Duration</td><td><b>{clock(result.duration_s, tenths=True)}</b></td></tr>"
            f"<tr><td>Format</td><td>{html.escape(result.format.label)}</td></tr></table>"
        )
        self.result_label.setVisible(True)
        self._refresh()
        self.adjustSize()
        self.exported.emit(result)

    def _failed(self, error: BaseException) -> None:
        self.progress_box.setVisible(False)
        self.close_button.setText("Close")
        self.close_button.setAccessibleName("Close")
        if isinstance(error, RenderCancelled):
            self._show_failure("Export cancelled; nothing was written.", colour=None)
        else:
            self._show_failure(error_text(error))
        self._refresh()

    def _show_failure(self, text: str, colour: str | None = ERROR_COLOUR) -> None:
        style = f" style='color:{colour}'" if colour else ""
        self.result_label.setText(f"<span{style}>{html.escape(text)}</span>")
        self.result_label.setVisible(True)
        self.adjustSize()

    def cancel_export(self) -> None:
        if self.job is not None and not self.job.is_done:
            self.job.cancel()
            self.stage_label.setText("Cancelling…")

    def _close_or_cancel(self) -> None:
        if self.busy:
            self.cancel_export()
        else:
            self.accept()

    def reject(self) -> None:  # Escape or the window's close button
        if self.busy:
            self.cancel_export()
            return
        super().reject()
