"""About this file: what a remix's Content Credentials prove, the same information `fanremix verify` prints.

The file is read and validated on a worker (`provenance_flow.verify_file`); the words are `cli_verify.describe`'s,
laid out as a two-column table. "Compare with the open pack" renders the recorded recipe again from the pack that is
open and reports how closely the file's audio matches (the SNR of the difference).

Trust anchors: the PEM files in the config folder's trust-anchors/, plus the CA of the rights service configured in
the app (not the local one: like the development CA, it vouches for nobody beyond this computer).
"""

import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QTextOption
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..theme import ERROR_COLOUR, OK_COLOUR, WARN_COLOUR
from ..workers import Job, JobRunner
from .errors import error_text

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg")
STATE_LOOK = {
    "Trusted": ("✓ Trusted", OK_COLOUR),
    "Valid": ("Valid but untrusted", WARN_COLOUR),
    "Invalid": ("✕ Invalid", ERROR_COLOUR),
}
NO_CREDENTIALS = "No Content Credentials"
# `describe` speaks to the command line in two places; here the same facts in the app's words
APP_WORDING = (
    ("(from the pack given with --pack)", "(from the pack open in the app)"),
    (", or --trust-anchor PEM.)", ".)"),
)


@dataclass(frozen=True)
class VerifyOutcome:
    verification: Any  # fanremix.provenance_flow.Verification
    lines: list[str]  # cli_verify.describe's lines

    @property
    def state(self) -> str:
        return self.verification.report.state.value


def is_audio_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in AUDIO_SUFFIXES


def rows_of(lines: list[str]) -> list[tuple[str, list[str]]]:
    """`describe`'s "Label:        value" lines (continuations indented) as (label, [values])."""
    from fanremix.cli_verify import LABEL_WIDTH  # already loaded by the worker that made the lines

    rows: list[tuple[str, list[str]]] = []
    indent = " " * (LABEL_WIDTH + 1)
    for line in lines:
        if line.startswith(indent) and rows:
            rows[-1][1].append(line[len(indent) :])
        else:
            rows.append((line[:LABEL_WIDTH].strip().rstrip(":"), [line[LABEL_WIDTH + 1 :]]))
    return rows


def _value_html(text: str) -> str:
    for command_line, app in APP_WORDING:
        text = text.replace(command_line, app)
    stripped = text.lstrip(" ")
    lead = "&nbsp;" * (len(text) - len(stripped))
    return lead + html.escape(stripped)


def lines_html(lines: list[str], state_colour: str | None) -> str:
    body = []
    for label, values in rows_of(lines):
        colour = state_colour if label == "Validation" else None
        first = _value_html(values[0])
        if colour:
            first = f"<b style='color:{colour}'>{first}</b>"
        cells = "<br>".join([first, *(_value_html(v) for v in values[1:])])
        body.append(
            f"<tr><td valign='top' style='padding:3px 14px 3px 0; white-space:nowrap'><b>{html.escape(label)}</b></td>"
            f"<td valign='top' style='padding:3px 0'>{cells}</td></tr>"
        )
    return f"<table cellspacing='0'>{''.join(body)}</table>"


class VerifyDialog(QDialog):
    """Non-modal (`show()`). Emits `verified(outcome or error)` when a check has finished."""

    verified = Signal(object)

    def __init__(
        self,
        runner: JobRunner,
        config_dir: Path,
        *,
        extra_anchors: Callable[[], Any] = lambda: None,
        open_pack: Callable[[], Any] = lambda: None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.runner = runner
        self.config_dir = Path(config_dir)
        self.extra_anchors = extra_anchors  # called on the worker
        self.open_pack = open_pack
        self.path: Path | None = None
        self.job: Job | None = None
        self.outcome: VerifyOutcome | None = None
        self.state_words = ""
        self.setWindowTitle("About this file")
        self.setObjectName("VerifyDialog")
        self.setAcceptDrops(True)
        self.setMinimumSize(820, 560)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.setSpacing(10)
        header = QHBoxLayout()
        title_box = QVBoxLayout()
        title = QLabel("About this file")
        title.setObjectName("SongTitle")
        self.file_label = QLabel("Choose or drop an exported remix (WAV, FLAC, MP3, or Ogg with its .c2pa file).")
        self.file_label.setObjectName("Muted")
        self.file_label.setWordWrap(True)
        title_box.addWidget(title)
        title_box.addWidget(self.file_label)
        header.addLayout(title_box, 1)
        self.badge = QLabel()
        self.badge.setAccessibleName("Validation state")
        self.badge.setVisible(False)
        header.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(header)

        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName("Checking")
        self.progress.setVisible(False)
        self.stage_label = QLabel()
        self.stage_label.setObjectName("Muted")
        self.stage_label.setVisible(False)
        layout.addWidget(self.stage_label)
        layout.addWidget(self.progress)

        self.details = QTextBrowser()
        self.details.setAccessibleName("What the Content Credentials say")
        self.details.setOpenLinks(False)
        self.details.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        layout.addWidget(self.details, 1)

        buttons = QHBoxLayout()
        self.choose_button = QPushButton("Choose a file…")
        self.choose_button.clicked.connect(self.choose_file)
        self.compare_button = QPushButton("Compare with the open pack")
        self.compare_button.setAccessibleName("Compare the audio with the open pack")
        self.compare_button.clicked.connect(self.compare)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.accept)
        buttons.addWidget(self.choose_button)
        buttons.addWidget(self.compare_button)
        buttons.addStretch()
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
        self._refresh()

    @property
    def busy(self) -> bool:
        return self.job is not None and not self.job.is_done

    def _refresh(self) -> None:
        pack = self.open_pack()
        can_compare = pack is not None and self.outcome is not None and not self.busy
        self.compare_button.setEnabled(can_compare)
        if pack is None:
            tip = "Open the pack the remix was made from to compare its audio with a fresh render."
        else:
            tip = (
                f"Render the recorded recipe again from “{pack.manifest.title}” and measure how closely the file's "
                "audio matches it."
            )
        self.compare_button.setToolTip(tip)
        self.choose_button.setEnabled(not self.busy)

    # -- checking -----------------------------------------------------------------------------------------------
    def verify(self, path: str | Path, *, compare: bool = False) -> Job | None:
        if self.busy:
            return None
        path = Path(path)
        self.path = path
        config_dir = self.config_dir
        extra_anchors = self.extra_anchors
        pack = self.open_pack() if compare else None

        def work(_ctx: Any) -> VerifyOutcome:
            from fanremix.cli_verify import describe
            from fanremix.provenance_flow import verify_file
            from fanremix.rights.grants import known_service_keys
            from fanremix.rights.identity import configured_trust_anchors, trust_anchor_folder

            anchors = configured_trust_anchors(config_dir)
            extra = extra_anchors()
            if extra is not None:
                anchors = anchors.plus(extra)
            result = verify_file(path, anchors, pack, known_service_keys(config_dir))
            record = result.report.record
            policy = None
            if pack is not None and record is not None and record.pack.pack_hash == pack.manifest.pack_hash():
                policy = pack.manifest.policy.describe_text()
            lines = describe(result, anchors_folder=trust_anchor_folder(config_dir), policy=policy)
            return VerifyOutcome(result, lines)

        self.file_label.setText(str(path))
        self.stage_label.setText(
            "Re-rendering the recorded recipe from the open pack and comparing the audio…"
            if compare
            else "Checking the Content Credentials…"
        )
        self.stage_label.setVisible(True)
        self.progress.setVisible(True)
        self.job = self.runner.start("verify", work)
        self.job.finished.connect(self._show)
        self.job.failed.connect(self._failed)
        self._refresh()
        return self.job

    def compare(self) -> Job | None:
        if self.path is None:
            return None
        return self.verify(self.path, compare=True)

    def _done(self) -> None:
        self.progress.setVisible(False)
        self.stage_label.setVisible(False)

    def _show(self, outcome: VerifyOutcome) -> None:
        self._done()
        self.outcome = outcome
        words, colour = STATE_LOOK.get(outcome.state, (outcome.state, None))
        self._show_badge(words, colour)
        self.details.setHtml(lines_html(outcome.lines, colour))
        self._refresh()
        self.verified.emit(outcome)

    def _failed(self, error: BaseException) -> None:
        from fanremix.rights.c2pa import NoCredentialsError

        self._done()
        self.outcome = None
        if isinstance(error, NoCredentialsError):
            self._show_badge(NO_CREDENTIALS, None)
            self.details.setHtml(
                f"<p>{html.escape(error_text(error))}</p><p>Without Content Credentials nothing says where this "
                "audio comes from, what was done to it or under which licence. Fan Remix Studio signs every export; "
                "an Ogg file keeps its record in a .c2pa file next to it.</p>"
            )
        else:
            self._show_badge("Could not check", ERROR_COLOUR)
            self.details.setHtml(f"<p style='color:{ERROR_COLOUR}'>{html.escape(error_text(error))}</p>")
        self._refresh()
        self.verified.emit(error)

    def _show_badge(self, words: str, colour: str | None) -> None:
        self.state_words = words
        colour = colour or "palette(mid)"
        self.badge.setText(words)
        self.badge.setStyleSheet(
            f"border: 2px solid {colour}; border-radius: 8px; padding: 6px 14px; font-size: 13pt; font-weight: 700;"
            f"color: {colour};"
        )
        self.badge.setVisible(True)

    def details_text(self) -> str:
        return self.details.toPlainText()

    # -- choosing and dropping ----------------------------------------------------------------------------------
    def choose_file(self) -> None:
        start = str(self.path.parent) if self.path else str(Path.home())
        dialog = QFileDialog(self, "Verify a file", start)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilters(["Audio files (*.wav *.flac *.mp3 *.ogg)", "All files (*)"])
        dialog.fileSelected.connect(self.verify)
        dialog.open()
        self.file_dialog = dialog

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() and is_audio_file(url.toLocalFile()) for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        for url in event.mimeData().urls():
            if url.isLocalFile() and is_audio_file(url.toLocalFile()):
                event.acceptProposedAction()
                self.verify(url.toLocalFile())
                return
