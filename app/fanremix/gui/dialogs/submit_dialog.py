"""Submit to the platform: check → grant → render and sign (the grant inside the record) → submit → status.

The flow is the one `fanremix submit` runs (`fanremix.submit_flow`), on a worker. Each step is shown as it happens, and
every way it can end has its own words:
- accepted (or approved): the submission id and its status;
- rejected by the service after it examined the file: every reason;
- the service unreachable when the file was ready: it waits in the outbox and is sent when the service answers;
- the licence refused (the service checks the policy in force, which the publisher may have changed): every violation,
  and nothing is rendered or sent;
- not signed in: the sign-in dialog opens, and the submission carries on once signed in.
"""

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QWidget,
)

from fanremix.audio.export import FORMATS
from fanremix.domain.errors import FanRemixError
from fanremix.submit_flow import STEP_CHECK, STEP_GRANT, STEP_RENDER, STEP_SUBMIT, submit_recipe

from ..session import Session
from ..theme import ERROR_COLOUR, OK_COLOUR, WARN_COLOUR
from ..widgets.identity_unlock import IdentityUnlock, needs_passphrase
from ..widgets.rights_service import RightsServiceLink, is_offline
from ..workers import Job, JobContext
from .credentials_export import SIGN_STAGE, app_renderer
from .errors import error_text
from .fitting import fit_height
from .output_dialog import RemixOutputDialog

STEPS = (
    (STEP_CHECK, "Check the remix against the licence in force"),
    (STEP_GRANT, "Get a licence grant from the rights service"),
    (STEP_RENDER, "Render it and sign its Content Credentials, with the grant inside"),
    (STEP_SUBMIT, "Send it to the platform"),
)
PENDING, RUNNING, DONE, FAILED = "○", "●", "✓", "✕"
STEP_COLOURS = {DONE: OK_COLOUR, FAILED: ERROR_COLOUR}
# The service accepts WAV, FLAC and MP3 with the record embedded. (Ogg keeps its record in a sidecar file, which the
# submit flow does not send.)
SUBMIT_CONTAINERS = ("wav", "flac", "mp3")
STATUS_WORDS = {
    "accepted": "the service verified the file, its Content Credentials and its grant; it now waits for the "
    "publisher's review",
    "approved": "the publisher approved it",
    "rejected": "the service examined the file and said why",
    "taken_down": "the publisher took it down",
}


class SubmitCancelled(FanRemixError):
    def __init__(self) -> None:
        super().__init__("Submission cancelled before anything was sent.")


class SubmitDialog(RemixOutputDialog):
    """Non-modal (`show()`). Emits `outcome_shown(kind)` when the flow has ended, kind being one of accepted,
    rejected, queued, refused, unauthorised, offline, cancelled, failed."""

    outcome_shown = Signal(str)
    sign_in_requested = Signal()
    submissions_requested = Signal()
    browse_title = "Keep the signed file as"
    action_tip = "Check, sign and send your remix"

    def __init__(
        self,
        session: Session,
        link: RightsServiceLink,
        *,
        folder: Path,
        format_name: str = "wav24",
        parent: QWidget | None = None,
    ):
        formats = {name: fmt for name, fmt in FORMATS.items() if fmt.container in SUBMIT_CONTAINERS}
        super().__init__(session, formats, parent)
        self.link = link
        self.render: Callable[..., Any] | None = None  # replaces the renderer (tests)
        self.outcome_kind = ""
        self.submission: Any = None
        self._sending = False
        self._current = -1  # the index of the step under way
        self.setWindowTitle("Submit to the platform")
        self.setObjectName("SubmitDialog")
        self.setMinimumWidth(640)
        layout = self._add_heading("Submit your remix to the platform")

        account_row = QHBoxLayout()
        self.account_label = QLabel()
        self.account_label.setWordWrap(True)
        self.account_label.setAccessibleName("Account")
        self.sign_in_button = QPushButton("Sign in…")
        self.sign_in_button.setAccessibleName("Sign in to the rights service")
        self.sign_in_button.clicked.connect(self.sign_in_requested.emit)
        account_row.addWidget(self.account_label, 1)
        account_row.addWidget(self.sign_in_button)
        layout.addLayout(account_row)

        form = self._new_form()
        self._add_format_row(form, format_name)
        self._add_destination_row(form, "Keep a copy as", folder, name="Where to keep a copy of the signed file")
        layout.addLayout(form)
        self._add_violation_label(layout)

        steps = QGridLayout()
        steps.setHorizontalSpacing(10)
        steps.setVerticalSpacing(6)
        steps.setColumnStretch(1, 1)
        self.step_marks: dict[str, QLabel] = {}
        self.step_labels: dict[str, QLabel] = {}
        for row, (step, words) in enumerate(STEPS):
            mark = QLabel(PENDING)
            mark.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
            mark.setMinimumWidth(18)
            label = QLabel(words)
            label.setWordWrap(True)
            steps.addWidget(mark, row, 0)
            steps.addWidget(label, row, 1)
            self.step_marks[step] = mark
            self.step_labels[step] = label
        layout.addLayout(steps)
        for widget in self._new_progress("Submission progress"):
            layout.addWidget(widget)

        self.outcome_label = self._new_outcome_label("Submission outcome")
        layout.addWidget(self.outcome_label)
        self.unlock = IdentityUnlock(link, link.runner, self)
        self.unlock.setVisible(False)
        self.unlock.unlocked.connect(self._unlocked)
        layout.addWidget(self.unlock)

        self.submissions_button = QPushButton("Show my submissions")
        self.submissions_button.clicked.connect(self.submissions_requested.emit)
        self.submit_button = self._add_buttons(layout, "Submit", self.start, leading=(self.submissions_button,))

        self._reset_steps()
        self.progress.setVisible(False)
        self.stage_label.setVisible(False)
        self.outcome_label.setVisible(False)
        session.violations_changed.connect(lambda _v: self._refresh())
        session.recipe_changed.connect(lambda _r: self._refresh())
        # bound methods, not lambdas: Qt drops these connections when the dialog goes away
        link.account_changed.connect(self._account_changed)
        link.state_changed.connect(self._service_state_changed)
        self._refresh()

    # -- state --------------------------------------------------------------------------------------------------
    def _summary_text(self) -> str:
        return (
            f"{self._remix_words()} It is checked, signed with a licence grant and sent to {self.link.service_words()}."
        )

    def _ready(self) -> bool:
        return self.session.pack_path is not None

    def _refresh(self) -> None:
        super()._refresh()
        account = self.link.account
        if account is None:
            self.account_label.setText("Not signed in yet: you are asked to sign in when you submit.")
        else:
            self.account_label.setText(f"Submitting as {account.name} ({account.role}).")
        self.sign_in_button.setVisible(account is None)
        self.close_button.setEnabled(not self._sending)
        self.close_button.setToolTip(
            "The file is being sent; it cannot be stopped now (it is safe in the outbox)." if self._sending else ""
        )

    def _reset_steps(self) -> None:
        for step, _words in STEPS:
            self._mark(step, PENDING)

    def _mark(self, step: str, mark: str) -> None:
        label = self.step_marks[step]
        label.setText(mark)
        colour = STEP_COLOURS.get(mark)
        label.setStyleSheet(f"color: {colour}; font-weight: 700;" if colour else "font-weight: 700;")
        self.step_labels[step].setEnabled(mark != PENDING)

    def _service_state_changed(self, _words: str) -> None:
        self._refresh()

    def _account_changed(self, account: Any) -> None:
        self._refresh()
        if account is not None and self.outcome_kind == "unauthorised" and not self.busy:
            self.start()  # carry on where the missing sign-in stopped it

    # -- the flow -----------------------------------------------------------------------------------------------
    def start(self) -> Job | None:
        session = self.session
        if self.busy or session.violations or session.pack_path is None:
            return None
        destination = self.destination
        if not destination.name:
            self._show_outcome("failed", f"<span style='color:{ERROR_COLOUR}'>Choose where to keep the file.</span>")
            return None
        link = self.link
        workspace = link.workspace
        outbox = link.outbox()
        pack_path, recipe, fmt = session.pack_path, session.recipe, self.format_name
        custom_render = self.render
        passphrase = link.identity_passphrase

        def work(client: Any, ctx: JobContext) -> Any:
            def step(name: str) -> None:
                if ctx.cancelled.is_set():
                    raise SubmitCancelled()
                ctx.progress(f"step:{name}", 1.0)  # a full fraction: never dropped by the progress throttle

            def render_progress(stage: str, fraction: float) -> None:
                ctx.progress("sign" if stage == SIGN_STAGE else "render", fraction)

            render = custom_render or app_renderer(render_progress, ctx.cancelled)
            return submit_recipe(
                client, outbox, workspace, pack_path, recipe, destination, fmt=fmt, step=step, render=render,
                passphrase=passphrase,
            )  # fmt: skip

        self.outcome_kind = ""
        self.result = self.submission = None
        self._sending = False
        self._current = -1
        self._reset_steps()
        self.outcome_label.setVisible(False)
        self.progress.setRange(0, 0)  # busy until a step reports
        self.progress.setVisible(True)
        self.stage_label.setText("Connecting to the rights service…")
        self.stage_label.setVisible(True)
        self.close_button.setText("Cancel")
        self.job = link.run("submit", work)
        self.job.progress.connect(self._progress)
        self.job.finished.connect(self._finished)
        self.job.failed.connect(self._failed)
        self._refresh()
        return self.job

    def _progress(self, stage: str, fraction: float) -> None:
        if stage == "service":
            self.stage_label.setText("Starting the local rights service…")
            return
        if stage.startswith("step:"):
            index = [name for name, _words in STEPS].index(stage.split(":", 1)[1])
            for done in range(max(self._current, 0), index):
                self._mark(STEPS[done][0], DONE)
            self._current = index
            step, words = STEPS[index]
            self._mark(step, RUNNING)
            self.stage_label.setText(f"{words}…")
            if step == STEP_RENDER:
                self.progress.setRange(0, 1000)
                self.progress.setValue(0)
            else:
                self.progress.setRange(0, 0)
            if step == STEP_SUBMIT:
                self._sending = True
                self._refresh()
            return
        if stage == "render":
            self.progress.setValue(int(fraction * 1000))
            self.stage_label.setText(f"Rendering… {fraction * 100:.0f} %")
        elif stage == "sign":
            self.progress.setValue(1000)
            self.stage_label.setText("Signing the Content Credentials…")

    def _end_progress(self, failed_step: bool) -> None:
        self.progress.setVisible(False)
        self.stage_label.setVisible(False)
        self.close_button.setText("Close")
        self._sending = False
        if failed_step and self._current >= 0:
            self._mark(STEPS[self._current][0], FAILED)

    def _finished(self, result: Any) -> None:
        self._end_progress(failed_step=False)
        self.result = result
        outcome = result.outcome
        for done in range(len(STEPS) - 1):
            self._mark(STEPS[done][0], DONE)
        copy = f"<br>Your signed copy: {html.escape(str(result.exported))}" if result.exported else ""
        if outcome.submission is not None:
            submission = outcome.submission
            self.submission = submission
            status = html.escape(submission.status.replace("_", " "))
            explained = html.escape(STATUS_WORDS.get(submission.status, ""))
            ident = f"submission <b>{html.escape(submission.id)}</b>, status <b>{status}</b>"
            if submission.status == "rejected":
                self._mark(STEP_SUBMIT, FAILED)
                reasons = "".join(
                    f"<li>{html.escape(r.message)} <span style='color:gray'>[{html.escape(r.code)}]</span></li>"
                    for r in submission.reasons
                )
                self._show_outcome(
                    "rejected",
                    f"<b style='color:{ERROR_COLOUR}'>✕ Rejected</b> — {ident}: {explained}:"
                    f"<ul style='margin-left:-20px'>{reasons}</ul>{copy}",
                )
            else:
                self._mark(STEP_SUBMIT, DONE)
                self._show_outcome(
                    "accepted", f"<b style='color:{OK_COLOUR}'>✓ Submitted</b> — {ident}: {explained}.{copy}"
                )
            self.link.note_submitted()
            return
        self._mark(STEP_SUBMIT, FAILED)
        entry = outcome.queued
        why = error_text(outcome.error) if outcome.error is not None else "the service did not answer"
        self.link.note_offline(outcome.error)
        self.link.refresh_waiting()
        self._show_outcome(
            "queued",
            f"<b style='color:{WARN_COLOUR}'>Saved to the outbox</b> — the rights service could not be reached "
            f"({html.escape(why)}).<br>Your signed remix waits in the outbox and will be sent when the service is "
            f"reachable; nothing is sent twice. <span style='color:gray'>(key {html.escape(entry.idempotency_key)})"
            f"</span>{copy}",
        )

    def _failed(self, error: BaseException) -> None:
        from fanremix.audio.errors import RenderCancelled
        from fanremix.rights.client import PolicyRefusedError, SubmissionRejectedError, UnauthorisedError

        self._end_progress(failed_step=True)
        if isinstance(error, RenderCancelled | SubmitCancelled):
            self._show_outcome("cancelled", "Submission cancelled; nothing was sent.")
        elif isinstance(error, PolicyRefusedError):
            items = "".join(f"<li>{html.escape(v.message)}</li>" for v in error.violations)
            self._show_outcome(
                "refused",
                f"<b style='color:{ERROR_COLOUR}'>✕ The licence in force does not allow this remix</b> "
                f"(checked by the rights service):<ul style='margin-left:-20px'>{items}</ul>"
                "Nothing was rendered or sent. Change the remix and submit again.",
            )
        elif isinstance(error, SubmissionRejectedError):
            items = "".join(
                f"<li>{html.escape(r.message)} <span style='color:gray'>[{html.escape(r.code)}]</span></li>"
                for r in error.reasons
            )
            self._show_outcome(
                "rejected",
                f"<b style='color:{ERROR_COLOUR}'>✕ Rejected</b>:<ul style='margin-left:-20px'>{items}</ul>",
            )
        elif isinstance(error, UnauthorisedError):
            self._show_outcome(
                "unauthorised",
                f"<b style='color:{WARN_COLOUR}'>Sign in first</b> — {html.escape(error_text(error))} "
                "The submission carries on once you are signed in.",
            )
            self.sign_in_requested.emit()
        elif needs_passphrase(error):
            self._show_outcome(
                "locked",
                f"<b style='color:{WARN_COLOUR}'>Your signing key is locked</b> — enter its passphrase below. "
                "Nothing was rendered or sent; the submission carries on once the key is unlocked.",
            )
            self.unlock.setVisible(True)
            self.unlock.passphrase_edit.setFocus()
            fit_height(self)
        elif is_offline(error):
            self._show_outcome(
                "offline",
                f"<b style='color:{WARN_COLOUR}'>The rights service cannot be reached</b> — "
                f"{html.escape(error_text(error))}<br>Without it there is no licence grant, so nothing was exported "
                "or queued. Try again when it is reachable.",
            )
        else:
            self._show_outcome("failed", f"<span style='color:{ERROR_COLOUR}'>{html.escape(error_text(error))}</span>")

    def _unlocked(self, _identity: Any) -> None:
        if self.outcome_kind == "locked" and not self.busy:
            self.start()  # carry on where the locked key stopped it

    def _show_outcome(self, kind: str, text: str) -> None:
        self.outcome_kind = kind
        self.outcome_label.setText(text)
        self.outcome_label.setVisible(True)
        self._refresh()
        fit_height(self)
        self.outcome_shown.emit(kind)

    # -- closing --------------------------------------------------------------------------------------------------
    def cancel(self) -> None:
        if not self._sending:  # once the file is being sent, it is safe in the outbox: let it go
            super().cancel()
