"""Publish and review: register the pack and its policy with the rights service, then decide on fans' remixes.

The publisher signs in (or creates a publisher account), publishes the pack (its pack.json and public key, never
the audio), and can replace the policy in force later; the page says what that changes for grants already issued.
Submissions made from the publisher's packs are listed; selecting one downloads it, explains its Content
Credentials (who made it, from what, under which grant) and lets the publisher play it, approve it, reject it with a
note the fan reads, or take it down.
"""

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fanremix.artist import (
    POLICY_UPDATE_NOTE,
    SubmissionDetails,
    inspect_submission,
    publish_pack,
    review_submission,
    update_policy,
)
from fanremix.domain.policy import Policy
from fanremix.domain.stem_pack import PackManifest
from fanremix.workspace import Workspace

from ..dialogs.errors import show_error
from ..workers import Job
from .player import ClipPlayer
from .service import ArtistServiceLink

COLUMNS = ("Submitted", "Status", "Pack")
STATUS_WORDS = {"accepted": "to review", "approved": "approved", "rejected": "rejected", "taken_down": "taken down"}
FILTERS = (("All", None), ("To review", "accepted"), ("Approved", "approved"), ("Rejected", "rejected"))
FILTERS += (("Taken down", "taken_down"),)


class PublishReviewPage(QWidget):
    published = Signal(object)  # artist.PublishResult
    policy_updated = Signal(object)  # client.PackInfo
    submissions_loaded = Signal(list)
    submission_shown = Signal(object)  # SubmissionDetails
    reviewed = Signal(object)  # client.Submission
    failed = Signal(object)

    def __init__(
        self, workspace: Workspace, link: ArtistServiceLink, player: ClipPlayer, parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.workspace = workspace
        self.link = link
        self.player = player
        self.pack_path: Path | None = None
        self.manifest: PackManifest | None = None
        self.policy: Policy | None = None
        self.submissions: list[Any] = []
        self.details: SubmissionDetails | None = None
        self.jobs: dict[str, Job] = {}
        self.downloads = Path(tempfile.mkdtemp(prefix="fanremix-review-", dir=self._cache_dir()))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(10)
        top = QHBoxLayout()
        top.setSpacing(10)
        top.addWidget(self._build_account_box(), 1)
        top.addWidget(self._build_publish_box(), 1)
        layout.addLayout(top)
        layout.addWidget(self._build_review_box(), 1)
        link.account_changed.connect(self._account_changed)
        link.state_changed.connect(self.service_label.setText)
        player.started.connect(lambda _label: self._update_review_buttons())
        player.stopped.connect(lambda _label: self._update_review_buttons())
        self.service_label.setText(link.words())
        self._account_changed(link.account)

    def _cache_dir(self) -> Path:
        folder = self.workspace.paths.cache
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    # -- construction -------------------------------------------------------------------------------------------
    def _build_account_box(self) -> QGroupBox:
        box = QGroupBox("Rights service", self)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(10, 14, 10, 10)
        self.service_label = QLabel(box)
        self.service_label.setWordWrap(True)
        self.service_label.setAccessibleName("Rights service state")
        layout.addWidget(self.service_label)
        self.sign_in_form = QWidget(box)
        form = QFormLayout(self.sign_in_form)
        form.setContentsMargins(0, 0, 0, 0)
        self.name_edit = QLineEdit(self.sign_in_form)
        self.name_edit.setAccessibleName("Account name")
        self.password_edit = QLineEdit(self.sign_in_form)
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setAccessibleName("Password")
        form.addRow("Name", self.name_edit)
        form.addRow("Password", self.password_edit)
        buttons = QHBoxLayout()
        self.sign_in_button = QPushButton("Sign in", self.sign_in_form)
        self.sign_in_button.setAccessibleName("Sign in as a publisher")
        self.sign_in_button.clicked.connect(self.sign_in)
        self.register_button = QPushButton("Create a publisher account", self.sign_in_form)
        self.register_button.setAccessibleName("Create a publisher account")
        self.register_button.clicked.connect(self.create_account)
        buttons.addWidget(self.sign_in_button)
        buttons.addWidget(self.register_button)
        buttons.addStretch()
        form.addRow("", buttons)
        layout.addWidget(self.sign_in_form)
        self.signed_in_note = QLabel(
            "Fans' remixes of your packs appear below. The service has already checked each one (its Content "
            "Credentials, its grant and your policy) before you see it.",
            box,
        )
        self.signed_in_note.setWordWrap(True)
        self.signed_in_note.setObjectName("Muted")
        layout.addWidget(self.signed_in_note)
        self.sign_out_button = QPushButton("Sign out", box)
        self.sign_out_button.setAccessibleName("Sign out")
        self.sign_out_button.clicked.connect(lambda: self.link.logout())
        layout.addWidget(self.sign_out_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch()
        return box

    def _build_publish_box(self) -> QGroupBox:
        box = QGroupBox("Publish", self)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(10, 14, 10, 10)
        self.pack_label = QLabel("Build or open a pack first.", box)
        self.pack_label.setWordWrap(True)
        self.pack_label.setAccessibleName("Pack to publish")
        layout.addWidget(self.pack_label)
        buttons = QHBoxLayout()
        self.publish_button = QPushButton("Publish the pack", box)
        self.publish_button.setObjectName("Primary")
        self.publish_button.setAccessibleName("Publish the pack")
        self.publish_button.clicked.connect(self.publish)
        self.update_policy_button = QPushButton("Put the edited policy in force", box)
        self.update_policy_button.setAccessibleName("Put the edited policy in force")
        self.update_policy_button.clicked.connect(self.update_policy)
        buttons.addWidget(self.publish_button)
        buttons.addWidget(self.update_policy_button)
        buttons.addStretch()
        layout.addLayout(buttons)
        note = QLabel(POLICY_UPDATE_NOTE, box)
        note.setWordWrap(True)
        note.setObjectName("Muted")
        note.setAccessibleName("What a policy change does")
        self.policy_note = note
        layout.addWidget(note)
        self.publish_status = QLabel(box)
        self.publish_status.setWordWrap(True)
        self.publish_status.setAccessibleName("Publishing result")
        self.publish_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.publish_status)
        layout.addStretch()
        return box

    def _build_review_box(self) -> QGroupBox:
        box = QGroupBox("Fans' remixes of your packs", self)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(10, 14, 10, 10)
        row = QHBoxLayout()
        self.filter_combo = QComboBox(box)
        for text, status in FILTERS:
            self.filter_combo.addItem(text, status)
        self.filter_combo.setAccessibleName("Show submissions")
        self.filter_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.refresh_button = QPushButton("Refresh", box)
        self.refresh_button.setAccessibleName("Refresh the submissions")
        self.refresh_button.clicked.connect(self.refresh)
        self.list_status = QLabel(box)
        self.list_status.setObjectName("Muted")
        self.list_status.setWordWrap(True)
        row.addWidget(QLabel("Show", box))
        row.addWidget(self.filter_combo)
        row.addWidget(self.refresh_button)
        row.addWidget(self.list_status, 1)
        layout.addLayout(row)
        splitter = QSplitter(Qt.Orientation.Horizontal, box)
        splitter.setChildrenCollapsible(False)
        self.table = QTableWidget(0, len(COLUMNS), splitter)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAccessibleName("Submissions")
        self.table.itemSelectionChanged.connect(self._selection_changed)
        splitter.addWidget(self.table)
        detail = QWidget(splitter)
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(6, 0, 0, 0)
        self.detail_title = QLabel("Select a remix to see where it comes from.", detail)
        self.detail_title.setObjectName("PanelTitle")
        self.detail_title.setWordWrap(True)
        detail_layout.addWidget(self.detail_title)
        self.provenance = QPlainTextEdit(detail)
        self.provenance.setReadOnly(True)
        self.provenance.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)  # a two-column report
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(max(9.0, QFont().pointSizeF() - 1))
        self.provenance.setFont(mono)
        self.provenance.setAccessibleName("Provenance of the selected remix")
        detail_layout.addWidget(self.provenance, 1)
        actions = QHBoxLayout()
        self.play_button = QPushButton("Play", detail)
        self.play_button.setAccessibleName("Play the selected remix")
        self.play_button.clicked.connect(self.toggle_play)
        self.approve_button = QPushButton("Approve", detail)
        self.approve_button.setObjectName("Primary")
        self.approve_button.setAccessibleName("Approve the selected remix")
        self.approve_button.clicked.connect(lambda: self.decide("approve"))
        self.reject_button = QPushButton("Reject", detail)
        self.reject_button.setAccessibleName("Reject the selected remix")
        self.reject_button.clicked.connect(lambda: self.decide("reject"))
        self.take_down_button = QPushButton("Take down", detail)
        self.take_down_button.setAccessibleName("Take the selected remix down")
        self.take_down_button.clicked.connect(lambda: self.decide("take_down"))
        actions.addWidget(self.play_button)
        actions.addStretch()
        actions.addWidget(self.approve_button)
        actions.addWidget(self.reject_button)
        actions.addWidget(self.take_down_button)
        detail_layout.addLayout(actions)
        self.note_edit = QLineEdit(detail)
        self.note_edit.setPlaceholderText("A note for the fan (needed to reject)")
        self.note_edit.setAccessibleName("Note for the fan")
        self.note_edit.textChanged.connect(lambda _t: self._update_review_buttons())
        detail_layout.addWidget(self.note_edit)
        splitter.addWidget(detail)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([330, 870])
        layout.addWidget(splitter, 1)
        self._update_review_buttons()
        return box

    # -- account ----------------------------------------------------------------------------------------------------
    def _credentials(self) -> tuple[str, str] | None:
        name, password = self.name_edit.text().strip(), self.password_edit.text()
        if not name or not password:
            self.service_label.setText("Give the account's name and password.")
            return None
        return name, password

    def sign_in(self) -> Job | None:
        credentials = self._credentials()
        if credentials is None:
            return None
        job = self.link.login(*credentials)
        job.failed.connect(lambda error: self._failed("Could not sign in", error))
        return job

    def create_account(self) -> Job | None:
        credentials = self._credentials()
        if credentials is None:
            return None
        job = self.link.register(*credentials)
        job.failed.connect(lambda error: self._failed("Could not create the account", error))
        return job

    def _account_changed(self, account: Any) -> None:
        signed_in = account is not None
        self.sign_in_form.setVisible(not signed_in)
        self.sign_out_button.setVisible(signed_in)
        self.signed_in_note.setVisible(signed_in)
        if signed_in:
            self.password_edit.clear()
        self._update_publish_buttons()
        self._update_review_buttons()
        if signed_in and account.role in ("publisher", "admin"):
            self.refresh()
        elif signed_in:
            self.list_status.setText(
                f"{account.name} is a fan account: sign in with a publisher account to publish and review."
            )

    # -- publishing -------------------------------------------------------------------------------------------------
    def set_pack(self, path: Path | None, manifest: PackManifest | None) -> None:
        self.pack_path, self.manifest = path, manifest
        if manifest is None or path is None:
            self.pack_label.setText("Build or open a pack first.")
        else:
            self.pack_label.setText(
                f"“{manifest.title}” by {', '.join(manifest.artists)} — pack {manifest.id}, {len(manifest.stems)} "
                f"stems, policy {manifest.policy.uid}.\n{path}"
            )
        self._update_publish_buttons()

    def set_policy(self, policy: Policy | None) -> None:
        self.policy = policy
        self._update_publish_buttons()

    def _publisher(self) -> bool:
        account = self.link.account
        return account is not None and account.role in ("publisher", "admin")

    def _update_publish_buttons(self) -> None:
        ready = self.pack_path is not None and self._publisher()
        reason = "" if self._publisher() else "Sign in with a publisher account first."
        if self.pack_path is None:
            reason = "Build or open a pack first."
        self.publish_button.setEnabled(ready)
        self.publish_button.setToolTip(reason or "Register the pack and its policy with the rights service.")
        can_update = ready and self.policy is not None
        self.update_policy_button.setEnabled(can_update)
        self.update_policy_button.setToolTip(
            reason or ("Fix the policy first." if self.policy is None else "Replace the policy the service applies.")
        )

    def publish(self) -> Job | None:
        if self.pack_path is None:
            return None
        path, keyring = self.pack_path, self.workspace.keyring()
        self.publish_status.setText("Publishing…")
        job = self.link.run("publish", lambda client, _ctx: publish_pack(client, path, keyring))

        def done(result: Any) -> None:
            published = result[2]
            verb = "Updated" if published.updated else "Published"
            self.publish_status.setText(
                f"✓ {verb} pack {published.pack_id} on {self.link.url}. Fans can now get licences for remixes of it."
            )
            self.published.emit(published)
            self.refresh()

        job.finished.connect(done)
        job.failed.connect(lambda error: self._failed("The pack was not published", error, self.publish_status))
        return job

    def update_policy(self) -> Job | None:
        if self.manifest is None or self.policy is None:
            return None
        pack_id, policy = self.manifest.id, self.policy
        self.publish_status.setText("Updating the policy in force…")
        job = self.link.run("update-policy", lambda client, _ctx: update_policy(client, pack_id, policy))

        def done(result: Any) -> None:
            info = result[2]
            self.publish_status.setText(
                f"✓ Policy {policy.uid} is now in force for pack {pack_id} (policy hash {info.policy_hash[:12]}…). "
                "Grants already issued keep their terms."
            )
            self.policy_updated.emit(info)

        job.finished.connect(done)
        job.failed.connect(lambda error: self._failed("The policy was not updated", error, self.publish_status))
        return job

    # -- submissions ------------------------------------------------------------------------------------------------
    def refresh(self) -> Job | None:
        if not self._publisher():
            self.list_status.setText("Sign in with a publisher account to see fans' remixes.")
            return None
        status = self.filter_combo.currentData()
        self.list_status.setText("Loading…")
        job = self.link.run("submissions", lambda client, _ctx: client.submissions(status=status))
        self.jobs["list"] = job
        job.finished.connect(lambda result, job=job: self._listed(job, result[2]))
        job.failed.connect(lambda error: self._failed("Could not list the submissions", error, self.list_status))
        return job

    def _listed(self, job: Job, items: list[Any]) -> None:
        if job is not self.jobs.get("list"):
            return
        selected = self.details.submission.id if self.details is not None else None
        self.submissions = list(items)
        self.table.blockSignals(True)
        try:
            self.table.setRowCount(0)
            for row, item in enumerate(self.submissions):
                self.table.insertRow(row)
                created = item.created_at[:16].replace("T", " ")
                texts = (created, STATUS_WORDS.get(item.status, item.status), item.pack_id or "?")
                for column, text in enumerate(texts):
                    cell = QTableWidgetItem(text)
                    cell.setToolTip(f"Remix {item.id} of pack {item.pack_id or '?'}, from account {item.account_id}")
                    self.table.setItem(row, column, cell)
                if item.id == selected:
                    self.table.selectRow(row)
        finally:
            self.table.blockSignals(False)
        waiting = sum(1 for s in self.submissions if s.status == "accepted")
        self.list_status.setText(
            f"{len(self.submissions)} remix(es); {waiting} to review." if self.submissions else "No remixes yet."
        )
        self.submissions_loaded.emit(list(self.submissions))

    def select(self, submission_id: str) -> Job | None:
        for row, item in enumerate(self.submissions):
            if item.id == submission_id:
                self.table.selectRow(row)
                return self.jobs.get("inspect")
        return None

    def _selection_changed(self) -> None:
        rows = {index.row() for index in self.table.selectedIndexes()}
        if len(rows) != 1:
            return
        submission = self.submissions[rows.pop()]
        self.player.stop()
        self.details = None
        self.detail_title.setText(f"Remix {submission.id}: loading…")
        self.provenance.setPlainText("")
        self._update_review_buttons()
        folder = self.downloads
        job = self.link.run("inspect", lambda client, _ctx: inspect_submission(client, submission, folder))
        self.jobs["inspect"] = job
        job.finished.connect(lambda result, job=job: self._inspected(job, result[2]))
        job.failed.connect(lambda error: self._failed("Could not open the remix", error, self.detail_title))

    def _inspected(self, job: Job, details: SubmissionDetails) -> None:
        if job is not self.jobs.get("inspect"):
            return
        self.details = details
        submission = details.submission
        self.detail_title.setText(self._title_for(details))
        lines = list(details.lines)
        if details.problem:
            lines.insert(0, details.problem)
        if submission.review_note:
            lines.insert(0, f"Your note: {submission.review_note}")
        reasons = [f"- {r.message} [{r.code}]" for r in submission.reasons]
        if reasons:
            lines += ["", "Service findings:", *reasons]
        self.provenance.setPlainText("\n".join(lines))
        self._update_review_buttons()
        self.submission_shown.emit(details)

    @staticmethod
    def _title_for(details: SubmissionDetails) -> str:
        submission = details.submission
        who = f" by {details.remixer}" if details.remixer else ""
        return f"Remix{who} — {STATUS_WORDS.get(submission.status, submission.status)} ({submission.id})"

    def _update_review_buttons(self) -> None:
        details = self.details
        status = details.submission.status if details is not None else None
        has_audio = details is not None and details.audio is not None
        self.play_button.setEnabled(has_audio)
        self.play_button.setText("Stop" if has_audio and self.player.playing else "Play")
        self.approve_button.setEnabled(status == "accepted")
        self.reject_button.setEnabled(status in ("accepted", "approved") and bool(self.note_edit.text().strip()))
        self.reject_button.setToolTip(
            "Write a note first: the fan reads why." if not self.note_edit.text().strip() else "Reject this remix."
        )
        self.take_down_button.setEnabled(status in ("accepted", "approved"))

    def toggle_play(self) -> None:
        if self.player.playing:
            self.player.stop()
        elif self.details is not None and self.details.audio is not None:
            self.player.play(self.details.audio, self.details.sample_rate, f"remix {self.details.submission.id}")

    def decide(self, decision: str) -> Job | None:
        if self.details is None:
            return None
        submission_id = self.details.submission.id
        note = self.note_edit.text().strip() or None
        job = self.link.run("review", lambda client, _ctx: review_submission(client, submission_id, decision, note))
        self.jobs["review"] = job

        def done(result: Any) -> None:
            submission = result[2]
            if self.details is not None and self.details.submission.id == submission.id:
                self.details = replace(self.details, submission=submission)
                self.detail_title.setText(self._title_for(self.details))
            self.note_edit.clear()
            self._update_review_buttons()
            self.reviewed.emit(submission)
            self.refresh()

        job.finished.connect(done)
        job.failed.connect(lambda error: self._failed("The decision was not recorded", error, self.detail_title))
        return job

    # -- errors -----------------------------------------------------------------------------------------------------
    def _failed(self, title: str, error: BaseException, label: QLabel | None = None) -> None:
        if label is not None:
            label.setText(f"✕ {error}")
        show_error(self, title, error)
        self.failed.emit(error)

    def shutdown(self) -> None:
        import shutil

        shutil.rmtree(self.downloads, ignore_errors=True)
