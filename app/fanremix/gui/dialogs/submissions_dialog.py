"""My submissions: each one's status and, for a rejection, every reason; and what still waits in the outbox.

The list is fetched on a worker (`GET /v1/submissions`), together with the outbox entries (read from disk).
"""

import datetime as dt
import html
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..theme import ERROR_COLOUR, OK_COLOUR, WARN_COLOUR
from ..widgets.rights_service import RightsServiceLink, is_signed_out
from ..workers import Job
from .errors import error_text

COLUMNS = ("Submitted", "Status", "Pack", "Submission")
STATUS_LABELS = {
    "accepted": ("accepted · awaiting review", OK_COLOUR),
    "approved": ("approved", OK_COLOUR),
    "rejected": ("rejected", ERROR_COLOUR),
    "taken_down": ("taken down", WARN_COLOUR),
}
WAITING_LABEL = ("waiting in the outbox", WARN_COLOUR)


@dataclass(frozen=True)
class Listing:
    submissions: list[Any]
    waiting: list[Any]  # OutboxEntry


def local_time(text: str) -> str:
    """An ISO timestamp from the service, in this computer's time zone."""
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text[:19]
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone().strftime("%d %b %Y %H:%M")


class SubmissionsDialog(QDialog):
    """Non-modal (`show()`). Emits `refreshed()` when a listing is on screen."""

    refreshed = Signal()
    sign_in_requested = Signal()

    def __init__(self, link: RightsServiceLink, parent: QWidget | None = None):
        super().__init__(parent)
        self.link = link
        self.job: Job | None = None
        self.listing: Listing | None = None
        self.setWindowTitle("My submissions")
        self.setObjectName("SubmissionsDialog")
        self.setMinimumSize(760, 420)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.setSpacing(10)
        title = QLabel("My submissions")
        title.setObjectName("SongTitle")
        layout.addWidget(title)
        self.account_label = QLabel()
        self.account_label.setObjectName("Muted")
        self.account_label.setWordWrap(True)
        layout.addWidget(self.account_label)

        self.tree = QTreeWidget()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setAccessibleName("Submissions and their status")
        self.tree.setRootIsDecorated(True)
        self.tree.setWordWrap(True)
        self.tree.setUniformRowHeights(False)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setStretchLastSection(True)
        for column in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.tree, 1)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.message.setAccessibleName("Submissions message")
        layout.addWidget(self.message)

        buttons = QHBoxLayout()
        self.send_button = QPushButton("Send waiting submissions")
        self.send_button.setToolTip("Try to send what waits in the outbox now")
        self.send_button.clicked.connect(self.send_waiting)
        self.sign_in_button = QPushButton("Sign in…")
        self.sign_in_button.clicked.connect(self.sign_in_requested.emit)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setAccessibleName("Refresh the list")
        self.refresh_button.clicked.connect(self.refresh)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.accept)
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.sign_in_button)
        buttons.addStretch()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)

        link.account_changed.connect(self._account_changed)
        link.submissions_changed.connect(self._changed_elsewhere)
        link.outbox_changed.connect(self._changed_elsewhere)
        self._show_account()
        self.send_button.setVisible(False)

    @property
    def busy(self) -> bool:
        return self.job is not None and not self.job.is_done

    def _show_account(self) -> None:
        account = self.link.account
        where = self.link.service_words()
        self.account_label.setText(
            f"{account.name}'s submissions to {where}." if account else f"Sign in to see your submissions to {where}."
        )
        self.sign_in_button.setVisible(account is None)

    def _account_changed(self, _account: Any) -> None:
        self._show_account()
        if self.isVisible():
            self.refresh()

    def _changed_elsewhere(self, *_args: Any) -> None:
        if self.isVisible() and not self.busy:
            self.refresh()

    # -- fetching -----------------------------------------------------------------------------------------------
    def refresh(self) -> Job | None:
        if self.busy:
            return self.job
        outbox = self.link.outbox()

        def work(client: Any, _ctx: Any) -> Listing:
            waiting = outbox.entries()
            return Listing(submissions=client.submissions(), waiting=waiting)

        self.refresh_button.setEnabled(False)
        self.message.setText("Asking the rights service…")
        job = self.link.run("submissions", work)
        self.job = job
        job.finished.connect(self._show)
        job.failed.connect(self._failed)
        return job

    def send_waiting(self) -> Job | None:
        job = self.link.send_outbox()
        if job is not None:
            self.message.setText("Sending what waits in the outbox…")
            job.failed.connect(lambda error: self.message.setText(html.escape(error_text(error))))
            job.finished.connect(lambda _report: self.refresh())
        return job

    def _failed(self, error: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        self._show_account()
        if is_signed_out(error):
            self.message.setText("Sign in to see your submissions.")
            self.sign_in_button.setVisible(True)
        else:
            self.message.setText(f"<span style='color:{ERROR_COLOUR}'>{html.escape(error_text(error))}</span>")
        self.refreshed.emit()

    def _show(self, listing: Listing) -> None:
        self.listing = listing
        self.refresh_button.setEnabled(True)
        self._show_account()
        self.tree.clear()
        for entry in listing.waiting:
            item = self._row(local_time(entry.created_at), WAITING_LABEL, "", entry.label)
            if entry.last_error:
                self._child(item, f"Last try: {entry.last_error}", WARN_COLOUR)
                item.setExpanded(True)
        for submission in listing.submissions:
            label = STATUS_LABELS.get(submission.status, (submission.status, None))
            item = self._row(local_time(submission.created_at), label, submission.pack_id or "?", submission.id)
            for reason in submission.reasons:
                self._child(item, f"{reason.message} [{reason.code}]", ERROR_COLOUR)
            if submission.review_note:
                self._child(item, f"The publisher's note: {submission.review_note}", None)
            item.setExpanded(bool(submission.reasons or submission.review_note))
        count = len(listing.submissions)
        words = [f"{count} submission{'s' if count != 1 else ''}."]
        if listing.waiting:
            words.append(f"{len(listing.waiting)} wait in the outbox: they are sent when the service is reachable.")
        elif not count:
            words = ["No submissions yet. Submit a remix with File → Submit to platform."]
        self.message.setText(html.escape(" ".join(words)))
        self.send_button.setVisible(bool(listing.waiting))
        self.refreshed.emit()

    def _row(self, when: str, status: tuple[str, str | None], pack: str, ident: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem([when, status[0], pack, ident])
        if status[1]:
            item.setForeground(1, QBrush(QColor(status[1])))
        item.setToolTip(3, ident)
        self.tree.addTopLevelItem(item)
        return item

    def _child(self, parent: QTreeWidgetItem, text: str, colour: str | None) -> QTreeWidgetItem:
        child = QTreeWidgetItem([text])
        child.setToolTip(0, text)
        if colour:
            child.setForeground(0, QBrush(QColor(colour)))
        parent.addChild(child)
        child.setFirstColumnSpanned(True)
        return child

    def status_texts(self) -> dict[str, str]:
        """Submission id -> the status shown (tests and screen readers)."""
        texts = {}
        for index in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(index)
            texts[item.text(3)] = item.text(1)
        return texts
