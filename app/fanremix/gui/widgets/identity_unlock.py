"""Unlocking a signing key protected by a passphrase, inside the export and submit dialogs.

The key is tried on a worker (deriving the key from the passphrase takes a moment). Once it opens, the passphrase is
kept in memory for the rest of the session (`RightsServiceLink.identity_passphrase`), never on disk, so the fan types
it once per session.
"""

import html
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from ..theme import ERROR_COLOUR
from ..workers import Job, JobRunner
from .rights_service import RightsServiceLink


def needs_passphrase(error: BaseException) -> bool:
    from fanremix.rights.identity import PassphraseRequiredError

    return isinstance(error, PassphraseRequiredError)


class IdentityUnlock(QFrame):
    """ "Your signing key is protected by a passphrase: [••••] [Unlock]". Emits `unlocked(identity)`."""

    unlocked = Signal(object)  # the FanIdentity

    def __init__(self, link: RightsServiceLink, runner: JobRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.link = link
        self.runner = runner
        self.job: Job | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 0, 0, 0)
        layout.setSpacing(4)
        self.label = QLabel("Your signing key is protected by a passphrase. Enter it to sign with it:")
        self.label.setWordWrap(True)
        row = QHBoxLayout()
        self.passphrase_edit = QLineEdit()
        self.passphrase_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase_edit.setAccessibleName("Signing key passphrase")
        self.passphrase_edit.setPlaceholderText("Passphrase")
        self.passphrase_edit.returnPressed.connect(self.unlock)
        self.unlock_button = QPushButton("Unlock")
        self.unlock_button.setAccessibleName("Unlock the signing key")
        self.unlock_button.setToolTip("Kept in memory until you quit; never saved.")
        self.unlock_button.clicked.connect(self.unlock)
        row.addWidget(self.passphrase_edit, 1)
        row.addWidget(self.unlock_button)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setVisible(False)
        layout.addWidget(self.label)
        layout.addLayout(row)
        layout.addWidget(self.message)

    def unlock(self) -> Job | None:
        text = self.passphrase_edit.text()
        if not text or not self.unlock_button.isEnabled():  # nothing typed, or a try is under way
            return None
        passphrase = text.encode("utf-8")
        config_dir = self.link.workspace.paths.config

        def work(_ctx: Any) -> Any:
            from fanremix.rights.identity import load_fan_identity

            return load_fan_identity(config_dir, passphrase)

        self.unlock_button.setEnabled(False)
        self.message.setVisible(False)
        self.job = self.runner.start("unlock-identity", work)
        self.job.finished.connect(lambda identity: self._opened(identity, passphrase))
        self.job.failed.connect(self._refused)
        return self.job

    def _opened(self, identity: Any, passphrase: bytes) -> None:
        self.link.identity_passphrase = passphrase
        self.passphrase_edit.clear()
        self.unlock_button.setEnabled(True)
        self.setVisible(False)
        self.unlocked.emit(identity)

    def _refused(self, error: BaseException) -> None:
        from ..dialogs.errors import error_text

        self.unlock_button.setEnabled(True)
        self.passphrase_edit.selectAll()
        self.passphrase_edit.setFocus()
        self.message.setText(f"<span style='color:{ERROR_COLOUR}'>{html.escape(error_text(error))}</span>")
        self.message.setVisible(True)
