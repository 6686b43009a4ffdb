"""Publisher keys (Ed25519) and pack signatures."""

import base64
import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from fanremix.domain.atomic import atomic_write_bytes
from fanremix.domain.errors import BadSignatureError, KeyringError, UnsignedPackError
from fanremix.domain.stem_pack import PackManifest, Signature


def key_id_of(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


def public_key_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass(frozen=True)
class PublisherKey:
    """A publisher's private signing key."""

    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> "PublisherKey":
        return cls(Ed25519PrivateKey.generate())

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_key)

    def save(self, path: Path, passphrase: bytes | None = None) -> Path:
        """Write the private key (0600) to `path` and the public key to `path` + '.pub'; return the .pub path."""
        encryption = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
        pem = self.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
        atomic_write_bytes(path, pem, mode=0o600)
        public_path = path.with_name(path.name + ".pub")
        atomic_write_bytes(public_path, public_key_pem(self.public_key), mode=0o644)
        return public_path

    @classmethod
    def load(cls, path: Path, passphrase: bytes | None = None) -> "PublisherKey":
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise KeyringError(f"Cannot read the key file {path}: {exc.strerror}.") from None
        try:
            key = serialization.load_pem_private_key(data, password=passphrase)
        except TypeError:
            raise KeyringError(f"The key file {path} is protected by a passphrase; give the passphrase.") from None
        except ValueError:
            raise KeyringError(f"{path} is not a private key file (or the passphrase is wrong).") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyringError(f"{path} holds a {type(key).__name__}, but publisher keys are Ed25519.")
        return cls(key)

    def sign(self, manifest: PackManifest) -> PackManifest:
        signature = self.private_key.sign(manifest.signing_bytes())
        return manifest.with_signature(Signature(key_id=self.key_id, value=base64.b64encode(signature).decode("ascii")))


def load_public_key(data: bytes, source: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise KeyringError(f"{source} is not a PEM public key file.") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyringError(f"{source} holds a {type(key).__name__}, but publisher keys are Ed25519.")
    return key


def verify_signature(manifest: PackManifest, public_key: Ed25519PublicKey) -> None:
    """Raise unless `manifest` carries a valid signature by `public_key`."""
    signature = manifest.signature
    if signature is None:
        raise UnsignedPackError("pack.json carries no signature; only signed packs can be opened.")
    if signature.algorithm != "ed25519":
        raise BadSignatureError(f"pack.json is signed with '{signature.algorithm}'; only ed25519 is accepted.")
    try:
        raw = base64.b64decode(signature.value, validate=True)
        public_key.verify(raw, manifest.signing_bytes())
    except (InvalidSignature, ValueError):
        raise BadSignatureError(
            f"The signature in pack.json does not match its content: pack.json was changed after key "
            f"{signature.key_id} signed it."
        ) from None


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def file_mode_is_private(path: Path) -> bool:
    return (os.stat(path).st_mode & 0o077) == 0
