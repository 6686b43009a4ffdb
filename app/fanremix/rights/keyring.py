"""Trusted publisher keys: a folder of JSON entries, plus built-in keys (the demo publisher)."""

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from fanremix.domain.atomic import atomic_write_bytes
from fanremix.domain.errors import KeyringError, UntrustedKeyError

from .signing import key_id_of, load_public_key, public_key_pem, utc_now

# What key_id_of() makes. A key id comes from untrusted pack.json and names a file here, so nothing else is looked up.
_KEY_ID_PATTERN = re.compile(r"^ed25519:[0-9a-f]{16}$")

TRUST_PUBLISHER = "publisher"
TRUST_DEMO = "demo"  # the built-in demo key: fine for trying the app, not a real rightsholder


@dataclass(frozen=True)
class TrustedKey:
    key_id: str
    public_key: Ed25519PublicKey
    name: str
    source: str  # where the trust came from, in words
    trust: str = TRUST_PUBLISHER
    added: str = ""

    @property
    def is_demo(self) -> bool:
        return self.trust == TRUST_DEMO


class Keyring:
    """Publisher keys this machine trusts. Entries live as `<key id>.json` files in `folder`."""

    def __init__(self, folder: Path, builtin: Iterable[TrustedKey] = ()):
        self.folder = Path(folder)
        self._builtin = {key.key_id: key for key in builtin}

    def _entry_path(self, key_id: str) -> Path:
        return self.folder / (key_id.replace(":", "-") + ".json")

    def trust(self, public_key: Ed25519PublicKey, name: str, source: str, trust: str = TRUST_PUBLISHER) -> TrustedKey:
        key = TrustedKey(
            key_id=key_id_of(public_key), public_key=public_key, name=name, source=source, trust=trust, added=utc_now()
        )
        entry = {
            "key_id": key.key_id,
            "name": key.name,
            "source": key.source,
            "trust": key.trust,
            "added": key.added,
            "public_key_pem": public_key_pem(public_key).decode("ascii"),
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self._entry_path(key.key_id), json.dumps(entry, indent=2).encode("utf-8"), mode=0o644)
        return key

    def trust_file(self, path: Path, name: str | None = None) -> TrustedKey:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise KeyringError(f"Cannot read {path}: {exc.strerror}.") from None
        public_key = load_public_key(data, str(path))
        return self.trust(public_key, name=name or Path(path).stem, source=f"trusted from {Path(path).resolve()}")

    def trusted_keys(self) -> list[TrustedKey]:
        found = dict(self._builtin)
        if self.folder.is_dir():
            for path in sorted(self.folder.glob("*.json")):
                key = self._read_entry(path)
                if key is not None:
                    found.setdefault(key.key_id, key)
        return list(found.values())

    def _read_entry(self, path: Path) -> TrustedKey | None:
        try:
            entry = json.loads(path.read_text("utf-8"))
            public_key = load_public_key(entry["public_key_pem"].encode("ascii"), str(path))
            if key_id_of(public_key) != entry["key_id"]:
                return None  # an edited entry whose id no longer matches its key is ignored, not trusted
            return TrustedKey(
                key_id=entry["key_id"],
                public_key=public_key,
                name=str(entry.get("name", "")),
                source=str(entry.get("source", "")),
                trust=str(entry.get("trust", TRUST_PUBLISHER)),
                added=str(entry.get("added", "")),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError, KeyringError):
            return None

    def find(self, key_id: str) -> TrustedKey:
        if key_id in self._builtin:
            return self._builtin[key_id]
        if not _KEY_ID_PATTERN.match(key_id):
            raise UntrustedKeyError(
                f"The pack names its signing key '{key_id[:80]}', which is not a valid key id, so this machine does "
                "not trust it."
            )
        path = self._entry_path(key_id)
        key = self._read_entry(path) if path.is_file() else None
        if key is None or key.key_id != key_id:
            raise UntrustedKeyError(
                f"The pack is signed by key {key_id}, which this machine does not trust. If you know the "
                "publisher, trust their public key with `fanremix keys trust FILE`."
            )
        return key
