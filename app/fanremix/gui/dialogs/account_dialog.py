"""Account and rights service: sign in, create an account (fan, or publisher for artists and labels), sign out, and
choose the service. Every request runs on a worker; the token goes to the client's TokenStore (the OS keyring, or a
0600 file when there is none).
"""

import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from fanremix.domain.errors import FanRemixError
from fanremix.submit_flow import SERVICE_URL_ENV

from ..theme import ERROR_COLOUR, OK_COLOUR
from ..widgets.rights_service import RightsServiceLink
from ..workers import Job
from .errors import error_text

MIN_PASSWORD_LENGTH = 10  # the reference service's rule; another service may ask for more and says so
TAB_SIGN_IN, TAB_CREATE, TAB_SERVICE = range(3)


def _password_edit(name: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setAccessibleName(name)
    return edit


class AccountDialog(QDialog):
    """Non-blocking (`open()` or `show()`). Emits `signed_in(account)` after a sign-in or a new account."""

    signed_in = Signal(object)
    answered = Signal(bool)  # a request finished: True if it worked (tests wait on this)

    def __init__(self, link: RightsServiceLink, parent: QWidget | None = None):
        super().__init__(parent)
        self.link = link
        self.job: Job | None = None
        self.setWindowTitle("Account and rights service")
        self.setObjectName("AccountDialog")
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.setSpacing(10)
        title = QLabel("Your account")
        title.setObjectName("SongTitle")
        layout.addWidget(title)
        self.service_label = QLabel()
        self.service_label.setObjectName("Muted")
        self.service_label.setWordWrap(True)
        layout.addWidget(self.service_label)
        account_row = QHBoxLayout()
        self.account_label = QLabel()
        self.account_label.setWordWrap(True)
        self.account_label.setAccessibleName("Account state")
        self.sign_out_button = QPushButton("Sign out")
        self.sign_out_button.setAccessibleName("Sign out")
        self.sign_out_button.clicked.connect(self.sign_out)
        account_row.addWidget(self.account_label, 1)
        account_row.addWidget(self.sign_out_button)
        layout.addLayout(account_row)
        self.keyring_note = QLabel()
        self.keyring_note.setObjectName("Muted")
        self.keyring_note.setWordWrap(True)
        self.keyring_note.setAccessibleName("Where your sign-in is kept")
        self.keyring_note.setVisible(False)
        layout.addWidget(self.keyring_note)

        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_sign_in(), "Sign in")
        self.tabs.addTab(self._build_create(), "Create an account")
        self.tabs.addTab(self._build_service(), "Service")
        layout.addWidget(self.tabs)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.message.setAccessibleName("Account message")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)

        buttons = QHBoxLayout()
        buttons.addStretch()
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.accept)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)

        link.account_changed.connect(self._refresh)  # bound methods: dropped when the dialog goes away
        link.state_changed.connect(self._refresh)
        self._refresh()
        if link.account is None:
            self.tabs.setCurrentIndex(TAB_SIGN_IN)

    # -- construction -------------------------------------------------------------------------------------------
    def _build_sign_in(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setHorizontalSpacing(12)
        self.login_name = QLineEdit()
        self.login_name.setAccessibleName("Account name")
        self.login_password = _password_edit("Password")
        self.login_password.returnPressed.connect(self.sign_in)
        self.sign_in_button = QPushButton("Sign in")
        self.sign_in_button.setObjectName("Primary")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.clicked.connect(self.sign_in)
        form.addRow("Name", self.login_name)
        form.addRow("Password", self.login_password)
        form.addRow("", self.sign_in_button)
        return page

    def _build_create(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setHorizontalSpacing(12)
        self.new_name = QLineEdit()
        self.new_name.setAccessibleName("New account name")
        self.new_name.setToolTip("The name your remixes are credited to (and your signing certificate carries).")
        self.new_password = _password_edit("New password")
        self.new_password.setPlaceholderText(f"at least {MIN_PASSWORD_LENGTH} characters")
        self.new_password_again = _password_edit("Repeat the password")
        role_row = QHBoxLayout()
        self.fan_role = QRadioButton("Fan")
        self.fan_role.setToolTip("Remix packs and submit your remixes.")
        self.fan_role.setChecked(True)
        self.publisher_role = QRadioButton("Publisher (artist or label)")
        self.publisher_role.setToolTip("Register your packs, set their licence and review the remixes made of them.")
        self.roles = QButtonGroup(self)
        self.roles.addButton(self.fan_role)
        self.roles.addButton(self.publisher_role)
        role_row.addWidget(self.fan_role)
        role_row.addWidget(self.publisher_role)
        role_row.addStretch()
        self.create_button = QPushButton("Create the account")
        self.create_button.setObjectName("Primary")
        self.create_button.clicked.connect(self.create_account)
        form.addRow("Name", self.new_name)
        form.addRow("Password", self.new_password)
        form.addRow("Repeat", self.new_password_again)
        form.addRow("Role", role_row)
        form.addRow("", self.create_button)
        return page

    def _build_service(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        explain = QLabel(
            "Leave the address empty to use the local rights service this app runs on your computer (enough to try "
            "the whole flow). Enter your platform's address (https://…) to submit there."
        )
        explain.setWordWrap(True)
        explain.setObjectName("Muted")
        box.addWidget(explain)
        form = QFormLayout()
        form.setHorizontalSpacing(12)
        self.url_edit = QLineEdit()
        self.url_edit.setAccessibleName("Rights service address")
        self.url_edit.setPlaceholderText("empty: the local service on this computer")
        ca_row = QHBoxLayout()
        self.ca_edit = QLineEdit()
        self.ca_edit.setAccessibleName("CA bundle for the service's TLS certificate")
        self.ca_edit.setPlaceholderText("optional: a PEM file, for a service with a private CA")
        self.ca_browse = QPushButton("Choose…")
        self.ca_browse.clicked.connect(self._choose_ca)
        ca_row.addWidget(self.ca_edit, 1)
        ca_row.addWidget(self.ca_browse)
        self.apply_button = QPushButton("Use this service")
        self.apply_button.clicked.connect(self.apply_service)
        form.addRow("Address", self.url_edit)
        form.addRow("CA bundle", ca_row)
        form.addRow("", self.apply_button)
        box.addLayout(form)
        box.addStretch()
        self._load_service_setting()
        return page

    def _load_service_setting(self) -> None:
        import os

        if os.environ.get(SERVICE_URL_ENV):
            self.url_edit.setText(os.environ[SERVICE_URL_ENV])
            for widget in (self.url_edit, self.ca_edit, self.ca_browse, self.apply_button):
                widget.setEnabled(False)
                widget.setToolTip(f"Set by the {SERVICE_URL_ENV} environment variable, which wins over this setting.")
            return
        config_dir = self.link.workspace.paths.config

        def read(_ctx: Any) -> Any:
            from fanremix.rights.client import ServiceConfig

            return ServiceConfig.load(config_dir)

        job = self.link.runner.start("service-setting-read", read)
        job.finished.connect(self._show_service_setting)
        job.failed.connect(lambda error: self._say(error_text(error), ERROR_COLOUR))
        self.setting_job = job

    def _show_service_setting(self, config: Any) -> None:
        if not self.url_edit.isModified():
            self.url_edit.setText(config.url)
        if not self.ca_edit.isModified():
            self.ca_edit.setText(config.ca_bundle or "")

    def _choose_ca(self) -> None:
        dialog = QFileDialog(self, "CA bundle (PEM)", str(Path.home()))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilters(["PEM files (*.pem *.crt)", "All files (*)"])
        dialog.fileSelected.connect(self.ca_edit.setText)
        dialog.open()
        self.file_dialog = dialog

    # -- state ------------------------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.job is not None and not self.job.is_done

    def _refresh(self, *_changed: Any) -> None:
        link = self.link
        self.service_label.setText(f"Using {link.service_words()} — {link.state}.")
        account = link.account
        if account is None:
            self.account_label.setText("Not signed in.")
        else:
            self.account_label.setText(
                f"Signed in as <b>{html.escape(account.name)}</b> ({html.escape(account.role)})."
            )
        self.sign_out_button.setVisible(account is not None)
        if link.token_file is not None:
            self.keyring_note.setText(
                "There is no system keyring on this computer, so your sign-in is kept in "
                f"{html.escape(str(link.token_file))} (readable only by you)."
            )
        self.keyring_note.setVisible(link.token_file is not None)
        idle = not self.busy
        for widget in (self.sign_in_button, self.create_button, self.sign_out_button):
            widget.setEnabled(idle)

    def _say(self, text: str, colour: str | None = None) -> None:
        style = f" style='color:{colour}'" if colour else ""
        self.message.setText(f"<span{style}>{html.escape(text)}</span>")

    def _run(self, name: str, work: Any, done: Any) -> Job | None:
        if self.busy:
            return None
        self._say("Asking the rights service…")
        job = self.link.run(name, work)
        self.job = job

        def finished(result: Any) -> None:
            done(result)
            self._refresh()
            self.answered.emit(True)

        def failed(error: BaseException) -> None:
            self._say(error_text(error), ERROR_COLOUR)
            self._refresh()
            self.answered.emit(False)

        job.finished.connect(finished)
        job.failed.connect(failed)
        self._refresh()
        return job

    # -- actions ------------------------------------------------------------------------------------------------
    def sign_in(self) -> Job | None:
        name, password = self.login_name.text().strip(), self.login_password.text()
        if not name or not password:
            self._say("Enter your account name and password.", ERROR_COLOUR)
            return None
        return self._run("sign-in", lambda client, _ctx: client.login(name, password), self._signed_in)

    def create_account(self) -> Job | None:
        name, password = self.new_name.text().strip(), self.new_password.text()
        if not name:
            self._say("Choose a name for the account.", ERROR_COLOUR)
            return None
        if len(password) < MIN_PASSWORD_LENGTH:
            self._say(f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.", ERROR_COLOUR)
            return None
        if password != self.new_password_again.text():
            self._say("The two passwords differ; type the same one twice.", ERROR_COLOUR)
            return None
        role = "publisher" if self.publisher_role.isChecked() else "fan"
        return self._run(
            "create-account", lambda client, _ctx: client.register(name, password, role=role), self._signed_in
        )

    def _signed_in(self, account: Any) -> None:
        self.login_password.clear()
        self.new_password.clear()
        self.new_password_again.clear()
        self.link.set_account(account)
        self._say(f"Signed in as {account.name} ({account.role}).", OK_COLOUR)
        self.signed_in.emit(account)
        if self.link.waiting:
            self.link.send_outbox()

    def sign_out(self) -> Job | None:
        def done(_result: Any) -> None:
            self.link.set_account(None)
            self._say("Signed out; the token was forgotten on this computer.")

        return self._run("sign-out", lambda client, _ctx: client.logout(), done)

    def apply_service(self) -> Job | None:
        from fanremix.rights.client import check_service_url

        url = self.url_edit.text().strip()
        try:
            if url:
                check_service_url(url)
        except FanRemixError as exc:
            self._say(exc.message, ERROR_COLOUR)
            return None
        ca_bundle = self.ca_edit.text().strip() or None
        job = self.link.apply_setting(url, ca_bundle)
        self._say("Saved. Connecting…")
        job.failed.connect(lambda error: self._say(error_text(error), ERROR_COLOUR))
        return job
