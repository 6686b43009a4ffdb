"""Export: format and quality, loudness target, destination; render on a worker with progress and Cancel; figures.

The loudness target is part of the recipe (it changes the audio), so choosing it here is an undoable edit.
"""

import html
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QVBoxLayout,
    QWidget,
)

from fanremix.audio.errors import RenderCancelled
from fanremix.audio.export import FORMATS, ExportFormat

from ..session import Session, clock
from ..theme import ERROR_COLOUR, OK_COLOUR
from ..workers import Job, JobContext, JobRunner
from .errors import error_text
from .output_dialog import RemixOutputDialog

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


RenderFunction = Callable[..., Any]


def _default_render(*args: Any, **kwargs: Any) -> Any:
    from fanremix.audio.offline import render_to_file

    return render_to_file(*args, **kwargs)


class ExportDialog(RemixOutputDialog):
    """Non-blocking dialog (`open()`); emits `exported(result)` when the file is written."""

    exported = Signal(object)
    browse_title = "Export to"
    action_tip = "Render and write the file"
    busy_tip = "The export is running; cancel it to change this."

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
        super().__init__(session, export_formats(), parent)
        self.runner = runner
        self.render = render
        self.setWindowTitle("Export your remix")
        self.setObjectName("ExportDialog")
        self.setMinimumWidth(560)
        layout = self._add_heading("Export your remix")

        form = self._new_form()
        form.setVerticalSpacing(8)
        self._add_format_row(form, format_name)

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
        self.settings.append(self.loudness_combo)

        self._add_destination_row(
            form, "Save as", folder, name="Destination file", browse_name="Choose the destination"
        )
        layout.addLayout(form)
        self._add_violation_label(layout)

        self.progress_box = QFrame()
        progress_layout = QVBoxLayout(self.progress_box)
        progress_layout.setContentsMargins(0, 0, 0, 0)
        for widget in self._new_progress("Export progress"):
            progress_layout.addWidget(widget)
        layout.addWidget(self.progress_box)
        self.progress_box.setVisible(False)

        self.result_label = self._new_outcome_label("Export result")
        layout.addWidget(self.result_label)
        self.result_label.setVisible(False)

        self.export_button = self._add_buttons(layout, "Export", self.start_export)
        self.close_button.setAccessibleName("Close")

        session.violations_changed.connect(lambda _v: self._refresh())
        session.recipe_changed.connect(lambda _r: self._refresh())
        self._refresh()

    # -- state --------------------------------------------------------------------------------------------------
    def _summary_text(self) -> str:
        recipe = self.session.recipe
        changes = []
        if recipe.tempo_ratio != 1.0:
            changes.append(f"tempo {recipe.tempo_ratio * 100:.1f} %")
        if recipe.pitch_semitones:
            changes.append(f"key {recipe.pitch_semitones:+.0f} semitones")
        return self._remix_words(f", {', '.join(changes)}" if changes else "")

    def _loudness_chosen(self, row: int) -> None:
        self.session.set_loudness(self.loudness_combo.itemData(row))

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
        self.cancel()
