"""Signing identities for Content Credentials: the fan's ES256 key and certificate chain, the CA that issues it, and
the trust anchors a reader checks chains against.

C2PA (c2pa-python 0.38) accepts a signing certificate only when it has: a P-256 key (ES256); CA:FALSE; key usage
digitalSignature, marked critical; extended key usage emailProtection; subject and authority key identifiers. The
chain PEM holds the end-entity certificate first, then the CA. `CertificateAuthority.issue` writes exactly that.

Who is the CA:
- the rights service, once one is configured (it owns a `CertificateAuthority` and answers CSRs);
- until then, a local development CA created on first use in the config folder. Its name says it is for development
  and that platforms do not trust it. Files signed under it verify as "Valid (untrusted)" everywhere, unless someone
  deliberately adds it as a trust anchor.

Trust anchors are PEM files in a folder (`trust-anchors/` in the config folder by default). "Trusted" is shown only for
chains that end in one of them; the development CA is never added there automatically.

Layout in the config folder (the caller passes the folder; nothing here reads the environment):
    identity/fan-key.pem      the fan's private key, 0600, PKCS#8, optionally passphrase-protected
    identity/fan-chain.pem    fan certificate then CA certificate, 0600
    dev-ca/ca-key.pem         the local development CA's key, 0600
    dev-ca/ca-cert.pem        its certificate
    trust-anchors/*.pem       trust anchors
"""

import datetime as dt
import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from fanremix.domain.atomic import atomic_write_bytes
from fanremix.domain.errors import FanRemixError

IDENTITY_DIR = "identity"
DEV_CA_DIR = "dev-ca"
TRUST_ANCHORS_DIR = "trust-anchors"
FAN_KEY_FILE = "fan-key.pem"
FAN_CHAIN_FILE = "fan-chain.pem"
CA_KEY_FILE = "ca-key.pem"
CA_CERT_FILE = "ca-cert.pem"
DEV_CA_NAME = "Fan Remix Studio LOCAL DEV CA — not trusted by platforms"  # X.509 names stop at 64 characters
DEV_CA_ORGANIZATION = "Fan Remix Studio, local development only"
MAX_NAME_LENGTH = 64
FAN_CERT_DAYS = 365
CA_CERT_DAYS = 3650
CLOCK_SKEW = dt.timedelta(minutes=5)  # certificates start a little in the past so a slow clock elsewhere accepts them
_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\s*", re.DOTALL)


class IdentityError(FanRemixError):
    """A signing key, certificate, CSR or trust anchor is missing, unreadable or unfit for C2PA signing."""


class PassphraseRequiredError(IdentityError):
    """The signing key is protected by a passphrase and none was given: ask for it and try again."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER, as colon-separated hex (what `openssl x509 -fingerprint -sha256` shows)."""
    digest = hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else name.rfc4514_string()


def load_certificates(data: bytes, source: str) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle, in order."""
    blocks = _PEM_CERT.findall(data)
    if not blocks:
        raise IdentityError(f"{source} holds no PEM certificate.")
    try:
        return [x509.load_pem_x509_certificate(block) for block in blocks]
    except ValueError as exc:
        raise IdentityError(f"{source} holds a damaged certificate: {exc}.") from None


def _private_key(data: bytes, passphrase: bytes | None, source: str) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except TypeError:
        if passphrase is None:
            raise PassphraseRequiredError(
                f"{source} is protected by a passphrase; give the passphrase (on the command line: --passphrase)."
            ) from None
        raise IdentityError(f"{source} is not protected by a passphrase; do not give one.") from None
    except ValueError:
        raise IdentityError(f"{source} is not a private key file, or the passphrase is wrong.") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise IdentityError(f"{source} is not a P-256 (ES256) key; C2PA signing here needs one.")
    return key


def _key_pem(key: ec.EllipticCurvePrivateKey, passphrase: bytes | None = None) -> bytes:
    encryption = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise IdentityError(f"No {what} at {path}.") from None
    except OSError as exc:
        raise IdentityError(f"Cannot read the {what} {path}: {exc.strerror}.") from None


# -- certificate authority ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateAuthority:
    """A CA that issues C2PA signing certificates to fans: the local development CA, or the rights service's CA."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @classmethod
    def create(
        cls,
        common_name: str,
        organization: str,
        *,
        days: int = CA_CERT_DAYS,
        key: ec.EllipticCurvePrivateKey | None = None,
    ) -> "CertificateAuthority":
        key = key or ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            ]
        )
        now = _now()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(key=key, certificate=certificate)

    @classmethod
    def create_development(cls) -> "CertificateAuthority":
        return cls.create(DEV_CA_NAME, DEV_CA_ORGANIZATION)

    @classmethod
    def load(cls, folder: Path, passphrase: bytes | None = None) -> "CertificateAuthority":
        folder = Path(folder)
        key = _private_key(_read(folder / CA_KEY_FILE, "CA key"), passphrase, str(folder / CA_KEY_FILE))
        certificate = load_certificates(_read(folder / CA_CERT_FILE, "CA certificate"), str(folder / CA_CERT_FILE))[0]
        if certificate.public_key() != key.public_key():
            raise IdentityError(f"The CA certificate in {folder} does not belong to the CA key there.")
        return cls(key=key, certificate=certificate)

    def save(self, folder: Path, passphrase: bytes | None = None) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(folder / CA_KEY_FILE, _key_pem(self.key, passphrase), mode=0o600)
        atomic_write_bytes(folder / CA_CERT_FILE, _pem(self.certificate), mode=0o644)

    @property
    def certificate_pem(self) -> bytes:
        return _pem(self.certificate)

    @property
    def name(self) -> str:
        return common_name(self.certificate.subject)

    @property
    def is_development(self) -> bool:
        return self.name == DEV_CA_NAME

    def issue(
        self,
        csr: x509.CertificateSigningRequest | bytes,
        *,
        days: int = FAN_CERT_DAYS,
        email: str | None = None,
    ) -> x509.Certificate:
        """A C2PA signing certificate for the key in `csr` (PEM bytes or parsed). The subject is taken from the CSR.

        Only the CSR's subject and key are used; its requested extensions are ignored, so a CSR cannot ask for a CA
        certificate or another usage.
        """
        if isinstance(csr, bytes):
            try:
                csr = x509.load_pem_x509_csr(csr)
            except ValueError as exc:
                raise IdentityError(f"The certificate request is not a PEM CSR: {exc}.") from None
        if not csr.is_signature_valid:
            raise IdentityError("The certificate request's signature does not match its key.")
        public_key = csr.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(public_key.curve, ec.SECP256R1):
            raise IdentityError("The certificate request must be for a P-256 (ES256) key; C2PA signing needs one.")
        if not csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME):
            raise IdentityError("The certificate request needs a common name (the name shown as the signer).")
        now = _now()
        not_after = min(now + dt.timedelta(days=days), self.certificate.not_valid_after_utc)
        builder = (
            x509.CertificateBuilder()
            .subject_name(csr.subject)
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.certificate.public_key()), critical=False
            )
        )
        if email:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
        return builder.sign(self.key, hashes.SHA256())

    def chain_for(self, certificate: x509.Certificate) -> bytes:
        """The chain PEM C2PA wants: the end-entity certificate, then this CA."""
        return _pem(certificate) + self.certificate_pem


def make_csr(key: ec.EllipticCurvePrivateKey, display_name: str, email: str | None = None) -> bytes:
    """A PEM certificate signing request for `key`, to send to the CA (the rights service, or the local one)."""
    if not display_name.strip():
        raise IdentityError("A signing identity needs a name to show as the signer.")
    if len(display_name.strip()) > MAX_NAME_LENGTH:
        raise IdentityError(f"The signer's name can be at most {MAX_NAME_LENGTH} characters.")
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, display_name.strip())]
    if email:
        attributes.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attributes)).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM)


# -- the fan's identity ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FanIdentity:
    """A fan's signing key and certificate chain (end entity first, then the CA)."""

    key: ec.EllipticCurvePrivateKey
    chain: tuple[x509.Certificate, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "chain", tuple(self.chain))
        if len(self.chain) < 2:
            raise IdentityError("A signing chain needs the fan's certificate and the CA certificate that issued it.")
        if self.chain[0].public_key() != self.key.public_key():
            raise IdentityError("The signing certificate does not belong to the signing key.")
        check_signing_certificate(self.chain[0])
        for child, parent in zip(self.chain, self.chain[1:], strict=False):
            try:
                child.verify_directly_issued_by(parent)
            except (ValueError, TypeError, InvalidSignature):
                raise IdentityError(
                    f"The chain is broken: '{common_name(child.subject)}' was not issued by "
                    f"'{common_name(parent.subject)}'."
                ) from None

    @property
    def certificate(self) -> x509.Certificate:
        return self.chain[0]

    @property
    def display_name(self) -> str:
        return common_name(self.certificate.subject)

    @property
    def issuer_name(self) -> str:
        return common_name(self.certificate.issuer)

    @property
    def is_development(self) -> bool:
        """True when the chain ends in the local development CA (platforms will not trust it)."""
        return common_name(self.chain[-1].subject) == DEV_CA_NAME

    @property
    def signer_words(self) -> str:
        """Who signs with this identity, in words (the export dialog, `fanremix render`)."""
        if self.is_development:
            return f"{self.display_name} with a local development certificate (other apps: “Valid but untrusted”)"
        return f"{self.display_name}, certified by {self.issuer_name}"

    @property
    def not_valid_after(self) -> dt.datetime:
        return self.certificate.not_valid_after_utc

    @property
    def chain_pem(self) -> bytes:
        return b"".join(_pem(cert) for cert in self.chain)

    def private_key_pem(self) -> bytes:
        """The unencrypted key, for handing to the C2PA signer in memory. Never write this to disk."""
        return _key_pem(self.key)

    def save(self, config_dir: Path, passphrase: bytes | None = None) -> None:
        folder = Path(config_dir) / IDENTITY_DIR
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        atomic_write_bytes(folder / FAN_KEY_FILE, _key_pem(self.key, passphrase), mode=0o600)
        atomic_write_bytes(folder / FAN_CHAIN_FILE, self.chain_pem, mode=0o600)


def check_signing_certificate(certificate: x509.Certificate, *, at: dt.datetime | None = None) -> None:
    """Raise unless `certificate` meets what C2PA requires of a signing certificate (see the module docstring)."""
    name = common_name(certificate.subject)
    problems = []
    public_key = certificate.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(public_key.curve, ec.SECP256R1):
        problems.append("its key is not P-256 (ES256)")
    try:
        basic = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
        if basic.ca:
            problems.append("it is a CA certificate (CA:TRUE)")
    except x509.ExtensionNotFound:
        pass
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage)
        if not usage.value.digital_signature or not usage.critical:
            problems.append("its key usage is not a critical digitalSignature")
    except x509.ExtensionNotFound:
        problems.append("it has no key usage")
    try:
        extended = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        if ExtendedKeyUsageOID.EMAIL_PROTECTION not in extended:
            problems.append("its extended key usage lacks emailProtection")
    except x509.ExtensionNotFound:
        problems.append("it has no extended key usage (emailProtection is needed)")
    for extension in (x509.SubjectKeyIdentifier, x509.AuthorityKeyIdentifier):
        try:
            certificate.extensions.get_extension_for_class(extension)
        except x509.ExtensionNotFound:
            problems.append(f"it has no {extension.__name__}")
    moment = at or _now()
    if not certificate.not_valid_before_utc <= moment <= certificate.not_valid_after_utc:
        problems.append(
            f"it is valid only from {certificate.not_valid_before_utc:%Y-%m-%d} to "
            f"{certificate.not_valid_after_utc:%Y-%m-%d}"
        )
    if problems:
        raise IdentityError(f"The signing certificate '{name}' cannot sign Content Credentials: {'; '.join(problems)}.")


def fan_identity_exists(config_dir: Path) -> bool:
    folder = Path(config_dir) / IDENTITY_DIR
    return (folder / FAN_KEY_FILE).is_file() and (folder / FAN_CHAIN_FILE).is_file()


def load_fan_identity(config_dir: Path, passphrase: bytes | None = None) -> FanIdentity:
    folder = Path(config_dir) / IDENTITY_DIR
    key_path, chain_path = folder / FAN_KEY_FILE, folder / FAN_CHAIN_FILE
    key = _private_key(_read(key_path, "signing key"), passphrase, str(key_path))
    chain = load_certificates(_read(chain_path, "certificate chain"), str(chain_path))
    return FanIdentity(key=key, chain=tuple(chain))


def load_or_create_development_ca(config_dir: Path) -> CertificateAuthority:
    """The local development CA, created on first use. It is for trying the app, never a platform's trust root."""
    folder = Path(config_dir) / DEV_CA_DIR
    if (folder / CA_KEY_FILE).is_file():
        return CertificateAuthority.load(folder)
    ca = CertificateAuthority.create_development()
    ca.save(folder)
    os.chmod(folder, 0o700)
    return ca


def create_fan_identity(
    config_dir: Path,
    display_name: str,
    *,
    email: str | None = None,
    passphrase: bytes | None = None,
    ca: CertificateAuthority | None = None,
) -> FanIdentity:
    """Make a new key, have `ca` (default: the local development CA) certify it, and save both (0600)."""
    key = ec.generate_private_key(ec.SECP256R1())
    authority = ca or load_or_create_development_ca(config_dir)
    certificate = authority.issue(make_csr(key, display_name, email), email=email)
    identity = FanIdentity(key=key, chain=(certificate, authority.certificate))
    identity.save(config_dir, passphrase)
    return identity


def ensure_fan_identity(
    config_dir: Path, display_name: str = "Fan Remix Studio user", *, passphrase: bytes | None = None
) -> FanIdentity:
    """The saved identity, or a new one certified by the local development CA when there is none yet."""
    if fan_identity_exists(config_dir):
        return load_fan_identity(config_dir, passphrase)
    return create_fan_identity(config_dir, display_name, passphrase=passphrase)


def install_issued_chain(config_dir: Path, chain_pem: bytes, *, passphrase: bytes | None = None) -> FanIdentity:
    """Store a chain the rights service issued for the saved key (after `make_csr` on that key)."""
    current = load_fan_identity(config_dir, passphrase) if fan_identity_exists(config_dir) else None
    if current is None:
        raise IdentityError("There is no signing key to attach the certificate to; create an identity first.")
    identity = FanIdentity(key=current.key, chain=tuple(load_certificates(chain_pem, "the issued chain")))
    identity.save(config_dir, passphrase)
    return identity


# -- trust anchors -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustAnchors:
    """CA certificates whose chains count as "Trusted". Empty means nothing is trusted (files read as "Valid")."""

    certificates: tuple[x509.Certificate, ...] = ()
    sources: tuple[str, ...] = ()

    @classmethod
    def none(cls) -> "TrustAnchors":
        return cls()

    @classmethod
    def from_pem(cls, data: bytes, source: str = "PEM") -> "TrustAnchors":
        certificates = tuple(load_certificates(data, source))
        return cls(certificates=certificates, sources=(source,) * len(certificates))

    @classmethod
    def from_files(cls, paths: Iterable[Path]) -> "TrustAnchors":
        anchors = cls()
        for path in paths:
            anchors = anchors.plus(cls.from_pem(_read(Path(path), "trust anchor"), str(path)))
        return anchors

    @classmethod
    def from_folder(cls, folder: Path) -> "TrustAnchors":
        """Every *.pem / *.crt in `folder` (a missing folder means no anchors)."""
        folder = Path(folder)
        if not folder.is_dir():
            return cls()
        return cls.from_files(sorted(p for p in folder.iterdir() if p.suffix.lower() in (".pem", ".crt")))

    def plus(self, other: "TrustAnchors") -> "TrustAnchors":
        seen = {fingerprint(cert) for cert in self.certificates}
        certificates, sources = list(self.certificates), list(self.sources)
        for cert, source in zip(other.certificates, other.sources, strict=True):
            if fingerprint(cert) not in seen:
                seen.add(fingerprint(cert))
                certificates.append(cert)
                sources.append(source)
        return TrustAnchors(tuple(certificates), tuple(sources))

    def __bool__(self) -> bool:
        return bool(self.certificates)

    def __len__(self) -> int:
        return len(self.certificates)

    @property
    def pem(self) -> str:
        return "".join(_pem(cert).decode("ascii") for cert in self.certificates)

    def names(self) -> list[str]:
        return [common_name(cert.subject) for cert in self.certificates]


def trust_anchor_folder(config_dir: Path) -> Path:
    return Path(config_dir) / TRUST_ANCHORS_DIR


def add_trust_anchor(config_dir: Path, pem: bytes, name: str | None = None) -> Path:
    """Trust the CA certificate(s) in `pem` from now on; returns the file written."""
    certificates = load_certificates(pem, name or "the trust anchor")
    for cert in certificates:
        try:
            if not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
                raise IdentityError(f"'{common_name(cert.subject)}' is not a CA certificate; only CAs can be anchors.")
        except x509.ExtensionNotFound:
            raise IdentityError(
                f"'{common_name(cert.subject)}' does not say it is a CA; it cannot be an anchor."
            ) from None
    folder = trust_anchor_folder(config_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{fingerprint(certificates[0]).replace(':', '')[:16].lower()}.pem"
    atomic_write_bytes(target, b"".join(_pem(cert) for cert in certificates), mode=0o644)
    return target


def configured_trust_anchors(config_dir: Path, extra: Sequence[Path] = ()) -> TrustAnchors:
    """The anchors in the config folder plus any given explicitly (e.g. `--trust-anchor` on the command line)."""
    return TrustAnchors.from_folder(trust_anchor_folder(config_dir)).plus(TrustAnchors.from_files(extra))
