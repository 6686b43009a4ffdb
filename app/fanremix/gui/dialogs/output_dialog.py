"""What the export and submit dialogs share: the remix rendered, on a worker, to a file the fan chooses.

Both say what will be rendered, offer a format and a destination (whose suffix follows the format), list the
licence's violations (which disable the dialog's action), and run one job that Close or Escape cancels. A subclass
builds its rows in its own order with the `_add_…` methods, then calls `_refresh()` once every widget exists.
"""

import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fanremix.audio.export import ExportFormat
from fanremix.domain.policy import output_length_s

from ..session import Session, clock
from ..theme import ERROR_COLOUR
from ..workers import Job
from .fitting import keep_fitted

FIX_FIRST = "Fix what the licence panel lists first."


def default_file_name(session: Session) -> str:
    title = "".join(c if c.isalnum() or c in " -_" else "" for c in session.manifest.title).strip() or "remix"
    return f"{title} (fan remix)"


class RemixOutputDialog(QDialog):
    """The shared part of the export and submit dialogs.

    A subclass sets `browse_title` (the file chooser's title), `action_tip` (the action button's tooltip when the
    remix is allowed) and optionally `busy_tip` (put on the settings while the job runs), provides `_summary_text()`,
    and may narrow `_ready()`.
    """

    browse_title = "Save as"
    action_tip = ""
    busy_tip: str | None = None

    def __init__(self, session: Session, formats: dict[str, ExportFormat], parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.formats = formats
        self.job: Job | None = None
        self.result: Any = None
        self.file_dialog: QFileDialog | None = None
        self.settings: list[QWidget] = []  # what cannot change while the job runs
        self._own_tips: dict[QWidget, str] = {}  # their tooltips, kept while the busy tip replaces them
        keep_fitted(self)  # text arrives later (identity, progress, outcome): the dialog grows to show it whole

    # -- building -----------------------------------------------------------------------------------------------
    def _add_heading(self, title: str) -> QVBoxLayout:
        """The dialog's layout, holding the title and the summary (`self.summary`)."""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.setSpacing(12)
        heading = QLabel(title)
        heading.setObjectName("SongTitle")
        layout.addWidget(heading)
        self.summary = QLabel()
        self.summary.setObjectName("Muted")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        return layout

    @staticmethod
    def _new_form() -> QFormLayout:
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(12)
        return form

    def _add_format_row(self, form: QFormLayout, format_name: str) -> None:
        self.format_combo = QComboBox()
        for name, fmt in self.formats.items():
            self.format_combo.addItem(fmt.label, name)
        self.format_combo.setCurrentIndex(max(0, self.format_combo.findData(format_name)))
        self.format_combo.setAccessibleName("Format and quality")
        self.format_combo.currentIndexChanged.connect(self._format_changed)
        form.addRow("Format", self.format_combo)
        self.settings.append(self.format_combo)

    def _add_destination_row(
        self, form: QFormLayout, label: str, folder: Path, *, name: str, browse_name: str | None = None
    ) -> None:
        """The destination, at first `folder`/<song title> (fan remix) with the chosen format's suffix."""
        row = QHBoxLayout()
        self.destination_edit = QLineEdit()
        self.destination_edit.setAccessibleName(name)
        suffix = self.formats[self.format_name].suffix
        self.destination_edit.setText(str(Path(folder) / (default_file_name(self.session) + suffix)))
        self.browse_button = QPushButton("Choose…")
        if browse_name is not None:
            self.browse_button.setAccessibleName(browse_name)
        self.browse_button.clicked.connect(self._browse)
        row.addWidget(self.destination_edit, 1)
        row.addWidget(self.browse_button)
        form.addRow(label, row)
        self.settings += [self.destination_edit, self.browse_button]

    def _add_violation_label(self, layout: QVBoxLayout) -> None:
        self.violation_label = QLabel()
        self.violation_label.setWordWrap(True)
        self.violation_label.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.violation_label)

    def _new_progress(self, name: str) -> tuple[QLabel, QProgressBar]:
        """`stage_label` (what the job is doing) and `progress` (0 to 1000), for the subclass to place."""
        self.stage_label = QLabel()
        self.stage_label.setObjectName("Muted")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName(name)
        return self.stage_label, self.progress

    @staticmethod
    def _new_outcome_label(name: str) -> QLabel:
        """A label for how the job ended: rich text the fan can select and copy."""
        label = QLabel()
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setAccessibleName(name)
        return label

    def _add_buttons(
        self, layout: QVBoxLayout, action: str, on_action: Any, leading: tuple[QWidget, ...] = ()
    ) -> QPushButton:
        """`leading` widgets on the left; Close (Cancel while the job runs) and the default action on the right."""
        buttons = QHBoxLayout()
        for widget in leading:
            buttons.addWidget(widget)
        buttons.addStretch()
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self._close_or_cancel)
        self.action_button = QPushButton(action)
        self.action_button.setObjectName("Primary")
        self.action_button.setAccessibleName(action)
        self.action_button.setDefault(True)
        self.action_button.clicked.connect(on_action)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.action_button)
        layout.addLayout(buttons)
        return self.action_button

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

    def _summary_text(self) -> str:
        return self._remix_words()

    def _remix_words(self, changes: str = "") -> str:
        """“Title”, 0:12.0–1:30.0 of the original<changes>: your remix lasts 1:18.0."""
        session = self.session
        start, end = session.region()
        length = output_length_s(session.recipe, session.manifest)
        return (
            f"“{session.manifest.title}”, {clock(start, tenths=True)}–{clock(end, tenths=True)} of the "
            f"original{changes}: your remix lasts {clock(length, tenths=True)}."
        )

    def _ready(self) -> bool:
        """Whether the action can start, besides the licence allowing the remix and no job running."""
        return True

    def _refresh(self) -> None:
        violations = self.session.violations
        self.summary.setText(self._summary_text())
        if violations:
            items = "".join(f"<li>{html.escape(v.message)}</li>" for v in violations)
            self.violation_label.setText(
                f"<span style='color:{ERROR_COLOUR}'><b>The licence does not allow this remix yet:</b></span>"
                f"<ul style='margin-left:-20px'>{items}</ul>"
            )
        self.violation_label.setVisible(bool(violations))
        self.action_button.setEnabled(not violations and not self.busy and self._ready())
        self.action_button.setToolTip(FIX_FIRST if violations else self.action_tip)
        editable = not self.busy
        for widget in self.settings:
            widget.setEnabled(editable)
            if not editable and self.busy_tip is not None:
                self._own_tips.setdefault(widget, widget.toolTip())
                widget.setToolTip(self.busy_tip)
            elif editable and widget in self._own_tips:
                widget.setToolTip(self._own_tips.pop(widget))

    def _format_changed(self) -> None:
        suffix = self.formats[self.format_name].suffix
        path = self.destination
        if path.suffix.lower() != suffix:
            self.destination_edit.setText(str(path.with_suffix(suffix)))

    def _browse(self) -> None:
        fmt = self.formats[self.format_name]
        dialog = QFileDialog(self, self.browse_title, str(self.destination))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter(f"{fmt.label} (*{fmt.suffix})")
        dialog.setDefaultSuffix(fmt.suffix.lstrip("."))
        dialog.fileSelected.connect(self.destination_edit.setText)
        dialog.open()
        self.file_dialog = dialog

    # -- cancelling and closing -----------------------------------------------------------------------------------
    def cancel(self) -> None:
        if self.job is not None and not self.job.is_done:
            self.job.cancel()
            self.stage_label.setText("Cancelling…")

    def _close_or_cancel(self) -> None:
        if self.busy:
            self.cancel()
        else:
            self.accept()

    def reject(self) -> None:  # Escape or the window's close button
        if self.busy:
            self.cancel()
            return
        super().reject()
