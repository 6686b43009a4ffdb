"""Export with Content Credentials: the export dialog, with the file signed by the fan's identity on the worker.

The render, the credit tags and the C2PA signature all happen in `provenance_flow.export_with_provenance`, which
writes the signed file atomically. When the fan is signed in to the rights service, a licence grant for exactly this
recipe is asked for first and goes into the record (and the signing certificate is the one the service issued).

A key protected by a passphrase is unlocked in the dialog (`IdentityUnlock`; the passphrase is kept in memory for the
session). If no signing identity can be loaded or made (a damaged file), the plain export still works: the file is
written without Content Credentials and the dialog says why.
"""

import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QCheckBox, QFrame, QLabel, QVBoxLayout, QWidget

from fanremix.domain.errors import FanRemixError

from ..session import Session
from ..theme import ERROR_COLOUR, OK_COLOUR, WARN_COLOUR
from ..widgets.identity_unlock import IdentityUnlock, needs_passphrase
from ..widgets.rights_service import RightsServiceLink
from ..workers import JobRunner
from .export_dialog import ExportDialog
from .fitting import fit_height

DEFAULT_SIGNER_NAME = "Fan Remix Studio user"
SIGN_STAGE = "sign"


def app_renderer(progress: Callable[[str, float], None] | None, cancel: Any) -> Callable[..., Any]:
    """The renderer `export_with_provenance` calls: the offline renderer with progress and Cancel, then a "sign"
    report so the dialog can say what the last moment is spent on."""

    def render(opened: Any, recipe: Any, destination: Path, fmt: str) -> Any:
        from fanremix.audio.offline import render_to_file
        from fanremix.domain.provenance import EXPORT_FORMATS

        chosen = None if fmt in EXPORT_FORMATS else fmt  # a bare container: the renderer's default for the suffix
        result = render_to_file(
            opened.manifest, opened.stem_paths, recipe, destination, chosen, progress=progress, cancel=cancel
        )
        if progress is not None:
            progress(SIGN_STAGE, 1.0)
        return result

    return render


@dataclass(frozen=True)
class SignedExport:
    """What the export dialog shows: the render's figures, and the Content Credentials if the file carries them."""

    render: Any  # fanremix.audio.offline.RenderResult
    credentials: Any = None  # fanremix.provenance_flow.ExportResult, or None when not signed
    note: str = ""  # why something expected is missing (no credentials, no grant)
    signer: str = ""

    @property
    def path(self) -> Path:
        return self.credentials.path if self.credentials is not None else self.render.path

    @property
    def format(self) -> Any:
        return self.render.format

    @property
    def loudness(self) -> Any:
        return self.render.loudness

    @property
    def duration_s(self) -> float:
        return self.render.duration_s


@dataclass(frozen=True)
class _Plan:
    """What the worker needs, taken on the GUI thread when the export starts."""

    sign: bool
    with_grant: bool
    opened: Any
    signer_name: str
    unsigned_reason: str


class CredentialsExportDialog(ExportDialog):
    """The export dialog, signing the file with Content Credentials (and a grant when the fan is signed in)."""

    def __init__(
        self,
        session: Session,
        runner: JobRunner,
        link: RightsServiceLink,
        *,
        folder: Path,
        format_name: str = "wav24",
        parent: QWidget | None = None,
    ):
        self.link = link
        self._plan: _Plan | None = None
        self.identity_problem: str | None = None
        super().__init__(
            session,
            runner,
            folder=folder,
            format_name=format_name,
            render=lambda *args, **kwargs: self._render(*args, **kwargs),
            parent=parent,
        )
        self.setWindowTitle("Export your remix")
        self.credentials_box = QFrame(self)
        box = QVBoxLayout(self.credentials_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(4)
        self.sign_check = QCheckBox("Sign it with Content Credentials")
        self.sign_check.setChecked(True)
        self.sign_check.setAccessibleName("Sign with Content Credentials")
        self.sign_check.setToolTip(
            "A signed record in the file says what it is made from, what you did, under which licence and who made "
            "it. Anyone can check it (File → Verify a file), and any change to the audio breaks it."
        )
        self.signer_label = QLabel("Looking for your signing identity…")
        self.signer_label.setObjectName("Muted")
        self.signer_label.setWordWrap(True)
        self.signer_label.setIndent(24)
        self.grant_check = QCheckBox("Include a licence grant from the rights service")
        self.grant_check.setAccessibleName("Include a licence grant")
        self.unlock = IdentityUnlock(link, runner, self.credentials_box)
        self.unlock.setVisible(False)
        self.unlock.unlocked.connect(self._unlocked)
        box.addWidget(self.sign_check)
        box.addWidget(self.signer_label)
        box.addWidget(self.unlock)
        box.addWidget(self.grant_check)
        layout = self.layout()
        layout.insertWidget(layout.indexOf(self.violation_label), self.credentials_box)
        self.sign_check.toggled.connect(lambda _on: self._refresh())
        link.account_changed.connect(self._account_changed)  # bound: dropped when the dialog goes away
        self._refresh()
        self.identity_job = runner.start(
            "identity", lambda _ctx: _saved_identity(link.workspace.paths.config, link.identity_passphrase)
        )
        self.identity_job.finished.connect(self._show_identity)
        self.identity_job.failed.connect(self._identity_failed)

    # -- the identity -----------------------------------------------------------------------------------------
    def _show_identity(self, identity: Any) -> None:
        if identity is None:
            self.signer_label.setText(
                "A signing identity is made on this computer at the first export (a local development certificate: "
                "other apps show the record as “Valid but untrusted”). Sign in to the rights service to be "
                "certified by the platform."
            )
        else:
            self.signer_label.setText(f"Signed as {identity.signer_words}.")
        fit_height(self)  # the dialog re-fits on its own too (`keep_fitted`); this makes it so at once

    def _identity_failed(self, error: BaseException) -> None:
        from .errors import error_text

        if needs_passphrase(error):  # a protected key: ask for its passphrase here, and sign once it opens
            self.identity_problem = "Your signing key is locked: enter its passphrase above."
            self.signer_label.setVisible(False)
            self.unlock.setVisible(True)
            self.unlock.passphrase_edit.setFocus()
            self._refresh()
            return
        self.identity_problem = error_text(error)
        self.sign_check.setChecked(False)
        self.sign_check.setEnabled(False)
        self.signer_label.setText(
            f"<span style='color:{WARN_COLOUR}'>Cannot sign: {html.escape(self.identity_problem)} The file will be "
            "exported without Content Credentials.</span>"
        )
        self._refresh()
        fit_height(self)

    def _unlocked(self, identity: Any) -> None:
        self.identity_problem = None
        self.signer_label.setVisible(True)
        self._show_identity(identity)
        self.sign_check.setChecked(True)
        self._refresh()

    def _account_changed(self, _account: Any) -> None:
        self._refresh()

    # -- state ------------------------------------------------------------------------------------------------
    def _refresh(self) -> None:
        super()._refresh()
        if not hasattr(self, "grant_check"):
            return  # the base class refreshes once before these widgets exist
        editable = not self.busy
        signed_in = self.link.account is not None
        self.sign_check.setEnabled(editable and self.identity_problem is None)
        self.grant_check.setEnabled(editable and signed_in and self.sign_check.isChecked())
        if not signed_in:
            self.grant_check.setChecked(False)
            self.grant_check.setToolTip("Sign in to the rights service (File → Account) to include a grant.")
        else:
            self.grant_check.setToolTip(
                f"Ask {self.link.service_words()} for a grant for exactly this remix; it goes into the record."
            )

    def start_export(self):
        signed_in = self.link.account is not None
        self._plan = _Plan(
            sign=self.sign_check.isChecked() and self.identity_problem is None,
            with_grant=self.grant_check.isChecked() and signed_in,
            opened=self.session.opened_pack,
            signer_name=self.link.account.name if signed_in else DEFAULT_SIGNER_NAME,
            unsigned_reason=self._unsigned_reason(),
        )
        return super().start_export()

    def _unsigned_reason(self) -> str:
        if self.identity_problem:
            return f"Exported without Content Credentials: {self.identity_problem}"
        if not self.sign_check.isChecked():
            return "Exported without Content Credentials (you chose not to sign it)."
        return ""

    # -- the worker ---------------------------------------------------------------------------------------------
    def _render(
        self,
        manifest: Any,
        stem_paths: Any,
        recipe: Any,
        destination: Path,
        fmt: str,
        *,
        progress: Callable[[str, float], None],
        cancel: Any,
        normalize: bool,
    ) -> SignedExport:
        """On the worker: sign if asked (and possible), else write the plain file."""
        from fanremix.audio.offline import render_to_file

        plan = self._plan
        if plan is None or not plan.sign or plan.opened is None:
            result = render_to_file(
                manifest, stem_paths, recipe, destination, fmt, progress=progress, cancel=cancel, normalize=normalize
            )
            return SignedExport(render=result, note=plan.unsigned_reason if plan else "")
        from fanremix.provenance_flow import export_with_provenance
        from fanremix.rights.identity import ensure_fan_identity

        config_dir = self.link.workspace.paths.config
        grant, identity, note = None, None, ""
        if plan.with_grant:
            try:
                grant, identity = self._grant_in_worker(recipe)
            except FanRemixError as exc:
                note = f"Exported without a licence grant: {exc.message}"
        try:
            if identity is None:
                identity = ensure_fan_identity(config_dir, plan.signer_name, passphrase=self.link.identity_passphrase)
        except FanRemixError as exc:
            result = render_to_file(
                manifest, stem_paths, recipe, destination, fmt, progress=progress, cancel=cancel, normalize=normalize
            )
            return SignedExport(render=result, note=f"Exported WITHOUT Content Credentials: {exc.message}")
        exported = export_with_provenance(
            plan.opened, recipe, destination, fmt, identity, grant, render=app_renderer(progress, cancel)
        )
        return SignedExport(render=exported.render, credentials=exported, note=note, signer=identity.signer_words)

    def _grant_in_worker(self, recipe: Any) -> tuple[Any, Any]:
        """A grant for exactly `recipe`, and the identity the service certified (both needed for a useful grant)."""
        from fanremix.submit_flow import service_identity

        with self.link.connected_client() as client:
            grant = client.grant(recipe)
            identity = service_identity(client, self.link.workspace, self.link.identity_passphrase)
        return grant, identity

    # -- results --------------------------------------------------------------------------------------------------
    def _progress(self, stage: str, fraction: float) -> None:
        if stage == SIGN_STAGE:
            self.progress.setValue(1000)
            self.stage_label.setText("Signing the Content Credentials…")
            return
        super()._progress(stage, fraction)

    def _finished(self, result: Any) -> None:
        super()._finished(result)
        extra = ""
        credentials = getattr(result, "credentials", None)
        if credentials is not None:
            grant = credentials.record.rights.grant
            grant_words = f"with grant {html.escape(str(grant.get('id', '')))}" if grant else "without a grant"
            extra += (
                f"<br><b style='color:{OK_COLOUR}'>✓ Content Credentials</b> signed as "
                f"{html.escape(result.signer)}, {grant_words}."
            )
            if credentials.sidecar is not None:
                extra += (
                    f"<br>Ogg files keep the record next to them: {html.escape(credentials.sidecar.name)}. "
                    "Keep the two together."
                )
        note = getattr(result, "note", "")
        if note:
            colour = ERROR_COLOUR if credentials is None else WARN_COLOUR
            extra += f"<br><span style='color:{colour}'>{html.escape(note)}</span>"
        if extra:
            self.result_label.setText(self.result_label.text() + extra)
            fit_height(self)
        if credentials is not None:  # the identity may be new: say who signs the next export
            self.identity_job = self.runner.start(
                "identity",
                lambda _ctx: _saved_identity(self.link.workspace.paths.config, self.link.identity_passphrase),
            )
            self.identity_job.finished.connect(self._show_identity)


def _saved_identity(config_dir: Path, passphrase: bytes | None = None) -> Any:
    """The fan's saved signing identity, or None if there is none yet (an IdentityError if it cannot be read;
    PassphraseRequiredError when it is protected and `passphrase` is None)."""
    from fanremix.rights.identity import fan_identity_exists, load_fan_identity

    if not fan_identity_exists(config_dir):
        return None
    return load_fan_identity(config_dir, passphrase)
