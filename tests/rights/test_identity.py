"""Fan signing identities, the CA that certifies them, and trust anchors."""

import datetime as dt
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from fanremix.rights.identity import (
    CA_CERT_FILE,
    CA_KEY_FILE,
    DEV_CA_DIR,
    DEV_CA_NAME,
    FAN_CHAIN_FILE,
    FAN_KEY_FILE,
    IDENTITY_DIR,
    CertificateAuthority,
    FanIdentity,
    IdentityError,
    TrustAnchors,
    add_trust_anchor,
    check_signing_certificate,
    configured_trust_anchors,
    create_fan_identity,
    ensure_fan_identity,
    install_issued_chain,
    load_fan_identity,
    make_csr,
    trust_anchor_folder,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_use_creates_a_development_ca_and_a_private_identity(tmp_path: Path) -> None:
    identity = ensure_fan_identity(tmp_path, "Fan One")

    assert identity.display_name == "Fan One"
    assert identity.is_development
    assert identity.issuer_name == DEV_CA_NAME
    assert "LOCAL DEV" in DEV_CA_NAME and "not trusted" in DEV_CA_NAME
    for path in (tmp_path / IDENTITY_DIR / FAN_KEY_FILE, tmp_path / IDENTITY_DIR / FAN_CHAIN_FILE):
        assert mode(path) == 0o600, path
    assert mode(tmp_path / DEV_CA_DIR / CA_KEY_FILE) == 0o600
    assert (tmp_path / DEV_CA_DIR / CA_CERT_FILE).is_file()


def test_identity_is_created_once_and_reused(tmp_path: Path) -> None:
    first = ensure_fan_identity(tmp_path, "Fan One")
    again = ensure_fan_identity(tmp_path, "Someone Else")
    assert again.certificate == first.certificate
    assert again.private_key_pem() == first.private_key_pem()


def test_development_ca_is_reused_for_a_second_identity(tmp_path: Path) -> None:
    first = create_fan_identity(tmp_path / "a", "A")
    ca = CertificateAuthority.load(tmp_path / "a" / DEV_CA_DIR)
    second = create_fan_identity(tmp_path / "a", "B")
    assert second.chain[-1] == ca.certificate == first.chain[-1]


def test_fan_certificate_meets_what_c2pa_requires(tmp_path: Path) -> None:
    identity = ensure_fan_identity(tmp_path, "Fan One")
    cert = identity.certificate
    extensions = cert.extensions
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert isinstance(cert.public_key().curve, ec.SECP256R1)
    assert extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usage = extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature
    eku = extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.EMAIL_PROTECTION]
    ski = extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ca_ski = identity.chain[1].extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski.digest and aki.key_identifier == ca_ski.digest
    # chain PEM: end entity first, then the CA
    pem = identity.chain_pem
    assert pem.index(cert.public_bytes(serialization.Encoding.PEM)) == 0
    assert pem.endswith(identity.chain[1].public_bytes(serialization.Encoding.PEM))


def test_passphrase_protects_the_saved_key(tmp_path: Path) -> None:
    created = create_fan_identity(tmp_path, "Fan One", passphrase=b"correct horse")
    saved = (tmp_path / IDENTITY_DIR / FAN_KEY_FILE).read_bytes()
    assert b"ENCRYPTED" in saved
    with pytest.raises(IdentityError, match="passphrase"):
        load_fan_identity(tmp_path)
    with pytest.raises(IdentityError, match="passphrase is wrong"):
        load_fan_identity(tmp_path, b"wrong")
    loaded = load_fan_identity(tmp_path, b"correct horse")
    assert loaded.private_key_pem() == created.private_key_pem()


def test_missing_identity_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(IdentityError, match="No signing key"):
        load_fan_identity(tmp_path)


def test_a_service_owned_ca_issues_from_a_csr_and_survives_a_reload(tmp_path: Path) -> None:
    service_ca = CertificateAuthority.create("Fan Remix Platform Root CA", "Fan Remix Platform")
    service_ca.save(tmp_path / "service-ca")
    reloaded = CertificateAuthority.load(tmp_path / "service-ca")
    assert not reloaded.is_development
    key = ec.generate_private_key(ec.SECP256R1())
    cert = reloaded.issue(make_csr(key, "Fan Two", "fan@example.org"), email="fan@example.org")
    identity = FanIdentity(key=key, chain=(cert, reloaded.certificate))
    assert identity.display_name == "Fan Two"
    assert not identity.is_development
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.RFC822Name) == ["fan@example.org"]


def test_issue_ignores_extensions_requested_in_the_csr(tmp_path: Path) -> None:
    ca = CertificateAuthority.create("Test CA", "Test")
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Greedy")]))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert = ca.issue(csr)
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False


def test_issue_refuses_keys_c2pa_cannot_use() -> None:
    ca = CertificateAuthority.create("Test CA", "Test")
    key = ed25519.Ed25519PrivateKey.generate()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Ed")]))
        .sign(key, None)
    )
    with pytest.raises(IdentityError, match="P-256"):
        ca.issue(csr)
    with pytest.raises(IdentityError, match="not a PEM CSR"):
        ca.issue(b"not a csr")


def test_identity_refuses_a_certificate_for_another_key_or_a_broken_chain() -> None:
    ca = CertificateAuthority.create("Test CA", "Test")
    other_ca = CertificateAuthority.create("Other CA", "Other")
    key = ec.generate_private_key(ec.SECP256R1())
    cert = ca.issue(make_csr(key, "Fan"))
    with pytest.raises(IdentityError, match="does not belong"):
        FanIdentity(key=ec.generate_private_key(ec.SECP256R1()), chain=(cert, ca.certificate))
    with pytest.raises(IdentityError, match="chain is broken"):
        FanIdentity(key=key, chain=(cert, other_ca.certificate))
    with pytest.raises(IdentityError, match="needs the fan's certificate and the CA"):
        FanIdentity(key=key, chain=(cert,))


def test_signing_certificate_check_names_each_problem() -> None:
    ca = CertificateAuthority.create("Test CA", "Test")
    with pytest.raises(IdentityError, match=r"CA certificate \(CA:TRUE\)"):
        check_signing_certificate(ca.certificate)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Web server")]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    with pytest.raises(IdentityError) as info:
        check_signing_certificate(server_cert)
    message = str(info.value)
    assert "emailProtection" in message and "key usage" in message and "SubjectKeyIdentifier" in message


def test_install_issued_chain_replaces_the_development_certificate(tmp_path: Path) -> None:
    local = ensure_fan_identity(tmp_path, "Fan One")
    platform = CertificateAuthority.create("Platform CA", "Platform")
    issued = platform.issue(make_csr(local.key, "Fan One"))
    identity = install_issued_chain(tmp_path, platform.chain_for(issued))
    assert not identity.is_development
    assert load_fan_identity(tmp_path).chain[-1] == platform.certificate
    stranger = platform.issue(make_csr(ec.generate_private_key(ec.SECP256R1()), "Stranger"))
    with pytest.raises(IdentityError, match="does not belong"):
        install_issued_chain(tmp_path, platform.chain_for(stranger))


def test_trust_anchors_come_from_the_config_folder_and_the_command_line(tmp_path: Path) -> None:
    assert not configured_trust_anchors(tmp_path)
    first = CertificateAuthority.create("First CA", "One")
    second = CertificateAuthority.create("Second CA", "Two")
    add_trust_anchor(tmp_path, first.certificate_pem)
    extra = tmp_path / "second.pem"
    extra.write_bytes(second.certificate_pem)

    anchors = configured_trust_anchors(tmp_path, [extra, extra])
    assert anchors.names() == ["First CA", "Second CA"]  # duplicates are dropped
    assert anchors.pem.count("BEGIN CERTIFICATE") == 2
    assert trust_anchor_folder(tmp_path).is_dir()


def test_only_ca_certificates_can_be_anchors(tmp_path: Path) -> None:
    identity = ensure_fan_identity(tmp_path, "Fan One")
    with pytest.raises(IdentityError, match="not a CA"):
        add_trust_anchor(tmp_path, identity.certificate.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(IdentityError, match="no PEM certificate"):
        TrustAnchors.from_pem(b"hello")
