"""Asking for the passphrase of a protected key on the command line (publisher keys, fans' signing keys)."""

import getpass
import os

from .domain.errors import FanRemixError

PASSPHRASE_ENV = "FANREMIX_KEY_PASSPHRASE"  # for scripts: the passphrase `--passphrase` would otherwise ask for


class PassphraseError(FanRemixError):
    """No usable passphrase was given."""


def ask_passphrase(prompt: str) -> bytes:
    """The passphrase of a protected key: from FANREMIX_KEY_PASSPHRASE when set (scripts), else asked on the
    terminal without echo."""
    text = os.environ.get(PASSPHRASE_ENV)
    if text is None:
        text = getpass.getpass(prompt)
    if not text:
        raise PassphraseError("An empty passphrase protects nothing; give the key's passphrase.")
    return text.encode("utf-8")
