"""The rights service over real HTTP on loopback, driven by the app's own client."""

import base64
import concurrent.futures
import contextlib
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, func, select

from fanremix.domain.policy import Range, Use
from fanremix.rights.client import (
    NotFoundError,
    PolicyRefusedError,
    RequestRefusedError,
    SubmissionRejectedError,
    UnauthorisedError,
)
from fanremix.rights.grants import Grant, GrantSigner, verify_grant
from fanremix.rights.identity import CertificateAuthority, FanIdentity, make_csr
from fanremix.rights.signing import PublisherKey, public_key_pem
from fanremix.service.models import Submission

from .conftest import PASSWORD, UNLIMITED, client_for, export, fan_client, fan_identity, unique


def database_of(service) -> str:
    """The service's database: SQLite in its data folder, or the PostgreSQL of test_postgres.py."""
    return getattr(service, "database_url", None) or f"sqlite:///{service.data_dir / 'rights.sqlite3'}"


def rows_with_key(service, key: str) -> int:
    """Submissions stored under `key`, counted in the service's database."""
    engine = create_engine(database_of(service))
    try:
        with engine.connect() as connection:
            return connection.execute(
                select(func.count()).select_from(Submission).where(Submission.idempotency_key == key)
            ).scalar_one()
    finally:
        engine.dispose()


def wav_data_offset(data: bytes) -> int:
    """Where the samples of a RIFF/WAVE file start (the C2PA record lives in its own chunk)."""
    position = 12
    while position + 8 <= len(data):
        size = int.from_bytes(data[position + 4 : position + 8], "little")
        if data[position : position + 4] == b"data":
            return position + 8
        position += 8 + size + (size & 1)
    raise AssertionError("no data chunk")


# -- accounts, tokens, roles -------------------------------------------------------------------------------------


def test_sign_up_sign_in_and_sign_out(service) -> None:
    name = unique("fan")
    with client_for(service) as client:
        account = client.register(name, PASSWORD)
        assert account.role == "fan" and client.me().name == name
        first_token = client.token
        client.logout()
        with pytest.raises(UnauthorisedError, match="not signed in"):
            client.me()
    with client_for(service, token=first_token) as revoked:
        with pytest.raises(UnauthorisedError) as refused:
            revoked.me()
        assert refused.value.status == 401 and refused.value.code == "auth.invalid_token"
    with client_for(service) as again:
        assert again.login(name.upper(), PASSWORD).name == name  # names are matched ignoring case
        with pytest.raises(UnauthorisedError, match="name or the password is wrong"):
            again.login(name, "wrong password!")


def test_names_are_unique_and_passwords_are_not_stored(service) -> None:
    name = unique("fan")
    fan_client(service, name).close()
    with client_for(service) as client, pytest.raises(RequestRefusedError) as taken:
        client.register(name.lower(), PASSWORD)
    assert taken.value.status == 409 and taken.value.code == "accounts.name_taken"
    engine = create_engine(database_of(service))
    with engine.connect() as connection:
        stored = [row[0] for row in connection.exec_driver_sql("SELECT password_hash FROM accounts")]
        tokens = [row[0] for row in connection.exec_driver_sql("SELECT token_hash FROM api_tokens")]
    engine.dispose()
    assert all(h.startswith("scrypt$") and PASSWORD not in h for h in stored)
    assert all(len(t) == 64 and not t.startswith("frt_") for t in tokens)


def test_a_fan_cannot_register_packs(service, tmp_path, publisher_key) -> None:
    from fanremix.rights.packfile import read_manifest_unverified

    from .conftest import build_unique_pack

    manifest = read_manifest_unverified(build_unique_pack(tmp_path, publisher_key))
    with fan_client(service) as fan, pytest.raises(UnauthorisedError) as refused:
        fan.register_pack(manifest, public_key_pem(publisher_key.public_key))
    assert refused.value.status == 403 and refused.value.code == "auth.wrong_role"


# -- packs -------------------------------------------------------------------------------------------------------


def test_pack_registration_checks_the_signature_and_ownership(service, published, tmp_path) -> None:
    manifest = published.manifest
    other_key = PublisherKey.generate()
    with pytest.raises(RequestRefusedError) as mismatch:
        published.publisher.register_pack(manifest, public_key_pem(other_key.public_key))
    assert mismatch.value.code == "pack.key_mismatch"

    tampered = manifest.to_dict()
    tampered["title"] = "Not The Title"
    response = requests.post(
        service.url + "/v1/packs",
        json={"manifest": tampered, "public_key_pem": public_key_pem(published.key.public_key).decode()},
        headers={"Authorization": f"Bearer {published.publisher.token}"},
        timeout=10,
    )
    assert response.status_code == 422 and response.json()["code"] == "pack.bad_signature"

    with client_for(service) as rival:
        rival.register(unique("rival"), PASSWORD, role="publisher")
        with pytest.raises(UnauthorisedError) as stolen:
            rival.register_pack(manifest, public_key_pem(published.key.public_key))
        assert stolen.value.code == "pack.key_not_yours"
        with pytest.raises(RequestRefusedError) as taken:  # the same id, signed with the rival's own key
            rival.register_pack(other_key.sign(manifest.with_signature(None)), public_key_pem(other_key.public_key))
        assert taken.value.status == 409 and taken.value.code == "pack.id_taken"


def test_publisher_updates_the_policy_and_retires_the_pack(service, published) -> None:
    fan = fan_client(service)
    faster = published.recipe(tempo_ratio=1.2)
    assert fan.check(faster).allowed
    strict = published.manifest.policy.with_changes(tempo_ratio=Range(1.0, 1.1))
    info = published.publisher.update_policy(published.manifest.id, strict.to_dict())
    assert info.policy_hash == strict.policy_hash()
    assert [v.code for v in fan.check(faster).violations] == ["tempo.above_max"]
    with pytest.raises(UnauthorisedError):
        fan.update_policy(published.manifest.id, strict.to_dict())
    published.publisher.retire_pack(published.manifest.id)
    assert "pack.retired" in [v.code for v in fan.check(published.recipe()).violations]
    with pytest.raises(PolicyRefusedError):
        fan.grant(published.recipe())


def test_a_policy_update_applies_to_new_grants_only(service, published, tmp_path) -> None:
    """Issue #8: a remix made with a grant issued under policy A is still accepted after the publisher tightens the
    pack to policy B, judged by A's terms; new checks and grants are judged by B."""
    fan = fan_client(service)
    identity = fan_identity(fan)
    faster = published.recipe(tempo_ratio=1.2)
    under_a = export(published, faster, identity, fan.grant(faster), tmp_path / "under-a.wav")
    strict = published.manifest.policy.with_changes(tempo_ratio=Range(1.0, 1.1))
    published.publisher.update_policy(published.manifest.id, strict.to_dict())

    assert [v.code for v in fan.check(faster).violations] == ["tempo.above_max"]  # B for new checks
    with pytest.raises(PolicyRefusedError):  # and new grants
        fan.grant(faster)
    submission = fan.submit(under_a)
    assert (submission.status, submission.reasons) == ("accepted", ())

    in_b = published.recipe(tempo_ratio=1.05)  # a grant under B works as before
    path = export(published, in_b, identity, fan.grant(in_b), tmp_path / "under-b.wav")
    assert fan.submit(path).status == "accepted"

    looser = strict.with_changes(tempo_ratio=Range(0.5, 2.0))  # A's grant keeps A's terms under a third policy too
    published.publisher.update_policy(published.manifest.id, looser.to_dict())
    assert fan.submit(under_a, idempotency_key="again").status == "accepted"
    fan.close()


def test_a_retired_pack_refuses_remixes_whatever_policy_their_grant_names(service, published, tmp_path) -> None:
    """A grant keeps its policy's terms through a policy update, but retiring the pack still refuses every remix."""
    fan = fan_client(service)
    identity = fan_identity(fan)
    recipe = published.recipe(tempo_ratio=1.2)
    path = export(published, recipe, identity, fan.grant(recipe), tmp_path / "remix.wav")
    published.publisher.update_policy(
        published.manifest.id, published.manifest.policy.with_changes(tempo_ratio=Range(1.0, 1.1)).to_dict()
    )
    published.publisher.retire_pack(published.manifest.id)
    assert [r.code for r in fan.submit(path).reasons] == ["pack.retired"]
    fan.close()


# -- checks and grants -------------------------------------------------------------------------------------------


def test_check_uses_the_apps_policy_check(service, published) -> None:
    fan = fan_client(service)
    allowed = fan.check(published.recipe())
    assert allowed.allowed and allowed.violations == () and allowed.recipe_hash == published.recipe().recipe_hash()
    recipe = published.recipe(tempo_ratio=2.0).with_stem("vocals", solo=True)
    result = fan.check(recipe)
    expected = published.manifest.policy.check(recipe, published.manifest, use=Use())
    assert not result.allowed
    assert [v.code for v in result.violations] == [v.code for v in expected]
    assert {"tempo.above_max", "role.solo_forbidden"} <= {v.code for v in result.violations}
    with pytest.raises(NotFoundError):
        fan.check(published.recipe(pack_id="no-such-pack"))


def test_a_recipe_outside_the_policy_gets_no_grant(service, published) -> None:
    fan = fan_client(service)
    with pytest.raises(PolicyRefusedError) as refused:
        fan.grant(published.recipe(pitch_semitones=7.0))
    assert [v.code for v in refused.value.violations] == ["pitch.above_max"]
    assert "semitones" in refused.value.message
    with pytest.raises(PolicyRefusedError) as prohibited:
        fan.grant(published.recipe(), Use(commercial=True))
    assert [v.code for v in prohibited.value.violations] == ["use.commercial_prohibited"]


def test_a_grant_binds_fan_pack_recipe_and_duties_and_verifies_offline(service, published) -> None:
    fan = fan_client(service)
    recipe = published.recipe(gains={"drums": -3.0})
    document = fan.grant(recipe)
    keys = fan.keys().grant_keys  # GET /v1/keys; from here on nothing needs the network
    grant = verify_grant(document, keys, fan_id=fan.me().id, recipe_hash=recipe.recipe_hash())
    assert grant.pack_id == published.manifest.id and grant.pack_hash == published.manifest.pack_hash()
    assert grant.attribution == published.manifest.policy.attribution
    assert [s.percent for s in grant.revenue_split] == [70.0, 30.0]
    assert grant.expires_at > grant.issued_at + dt.timedelta(days=1)
    published_doc = requests.get(service.url + "/v1/keys", timeout=5).json()
    assert document["signature"]["key_id"] in [k["key_id"] for k in published_doc["grant_keys"]]


# -- certificates ------------------------------------------------------------------------------------------------


def test_the_service_issues_fan_certificates_under_its_own_name_rule(service) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    fan = fan_client(service)
    identity = fan_identity(fan)
    assert identity.display_name == fan.me().name
    assert identity.chain[-1].subject == identity.certificate.issuer
    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(RequestRefusedError) as wrong:
        fan.request_certificate(make_csr(key, "Somebody Famous"))
    assert wrong.value.code == "certificate.wrong_name"


# -- submissions -------------------------------------------------------------------------------------------------


@pytest.fixture
def fan(service):
    client = fan_client(service)
    yield client
    client.close()


def test_an_export_with_its_grant_is_accepted_and_a_resend_returns_the_same_submission(
    service, published, fan, tmp_path
) -> None:
    recipe = published.recipe(gains={"keys": -6.0})
    path = export(published, recipe, fan_identity(fan), fan.grant(recipe), tmp_path / "remix.wav")
    first = fan.submit(path, idempotency_key="key-1")
    assert first.status == "accepted" and first.reasons == () and not first.replayed
    assert first.recipe_hash == recipe.recipe_hash() and first.pack_id == published.manifest.id
    again = fan.submit(path, idempotency_key="key-1")
    assert again.id == first.id and again.replayed
    assert rows_with_key(service, "key-1") == 1
    assert fan.submission(first.id).status == "accepted"
    assert first.id in [s.id for s in fan.submissions()]
    stored = list((service.data_dir / "uploads").glob(f"*/{first.file_sha256}.wav"))
    assert len(stored) == 1 and stored[0].read_bytes() == path.read_bytes()
    other = export(published, recipe, fan_identity(fan), fan.grant(recipe), tmp_path / "other.wav")
    with pytest.raises(RequestRefusedError) as reused:
        fan.submit(other, idempotency_key="key-1")
    assert reused.value.code == "idempotency.key_reused"


def test_concurrent_resends_with_one_key_make_one_submission(service, published, fan, tmp_path) -> None:
    recipe = published.recipe()
    path = export(published, recipe, fan_identity(fan), fan.grant(recipe), tmp_path / "remix.wav")
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: fan.submit(path, idempotency_key="same-key"), range(6)))
    assert len({r.id for r in results}) == 1
    assert rows_with_key(service, "same-key") == 1


def test_altered_audio_is_rejected_with_the_reason(service, published, fan, tmp_path) -> None:
    recipe = published.recipe()
    path = export(published, recipe, fan_identity(fan), fan.grant(recipe), tmp_path / "remix.wav")
    data = bytearray(path.read_bytes())
    data[wav_data_offset(bytes(data)) + 1000] ^= 0x55  # one sample of the audio, not the manifest
    path.write_bytes(bytes(data))
    submission = fan.submit(path)
    assert submission.status == "rejected"
    assert "record.audio_altered" in [r.code for r in submission.reasons]
    with pytest.raises(SubmissionRejectedError, match="changed after it was signed"):
        submission.raise_if_rejected()
    assert not list((service.data_dir / "uploads").glob(f"*/{submission.file_sha256}.*"))  # rejected: not kept


def test_an_altered_record_is_rejected(service, published, fan, tmp_path) -> None:
    recipe = published.recipe()
    path = export(published, recipe, fan_identity(fan), fan.grant(recipe), tmp_path / "remix.wav")
    data = path.read_bytes()
    credit = published.manifest.policy.attribution.encode()
    position = data.rfind(credit[:20])
    assert position > 0, "the attribution should appear in the embedded record"
    altered = data[:position] + b"X" + data[position + 1 :]
    path.write_bytes(altered)
    submission = fan.submit(path)
    assert submission.status == "rejected"
    assert "record.invalid" in [r.code for r in submission.reasons]


def _resigned(document: dict, signer: GrantSigner) -> dict:
    return signer.sign(Grant.from_dict(document))


def test_forged_grants_are_rejected(service, published, fan, tmp_path) -> None:
    recipe = published.recipe()
    identity = fan_identity(fan)
    genuine = fan.grant(recipe)

    edited = json.loads(json.dumps(genuine))
    edited["expires_at"] = "2099-01-01T00:00:00Z"  # a forger extends the grant
    path = export(published, recipe, identity, edited, tmp_path / "edited.wav")
    assert [r.code for r in fan.submit(path).reasons] == ["grant.forged"]

    other_signer = GrantSigner.generate()  # a grant signed by a key that is not the service's
    path = export(published, recipe, identity, _resigned(genuine, other_signer), tmp_path / "other-key.wav")
    assert [r.code for r in fan.submit(path).reasons] == ["grant.unknown_key"]

    borrowed = json.loads(json.dumps(genuine))  # someone else's signature value pasted in
    borrowed["signature"]["value"] = base64.b64encode(b"\0" * 64).decode()
    path = export(published, recipe, identity, borrowed, tmp_path / "zeros.wav")
    assert [r.code for r in fan.submit(path).reasons] == ["grant.forged"]


def test_a_grant_replayed_for_another_recipe_is_rejected(service, published, fan, tmp_path) -> None:
    granted = published.recipe()
    other = published.recipe(gains={"bass": -4.0})
    path = export(published, other, fan_identity(fan), fan.grant(granted), tmp_path / "replayed.wav")
    submission = fan.submit(path)
    assert submission.status == "rejected"
    assert [r.code for r in submission.reasons] == ["grant.wrong_recipe"]
    assert "different recipe" in submission.reasons[0].message


def test_another_fans_grant_or_certificate_is_rejected(service, published, fan, tmp_path) -> None:
    recipe = published.recipe()
    other = fan_client(service)
    path = export(published, recipe, fan_identity(fan), other.grant(recipe), tmp_path / "their-grant.wav")
    assert [r.code for r in fan.submit(path).reasons] == ["grant.wrong_fan"]
    path = export(published, recipe, fan_identity(other), fan.grant(recipe), tmp_path / "their-cert.wav")
    assert [r.code for r in fan.submit(path).reasons] == ["record.wrong_signer"]


def test_a_record_signed_outside_the_service_ca_is_rejected(service, published, fan, tmp_path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    recipe = published.recipe()
    rogue_ca = CertificateAuthority.create("Rogue CA", "Nobody")
    key = ec.generate_private_key(ec.SECP256R1())
    rogue = FanIdentity(key=key, chain=(rogue_ca.issue(make_csr(key, fan.me().name)), rogue_ca.certificate))
    path = export(published, recipe, rogue, fan.grant(recipe), tmp_path / "rogue.wav")
    assert "record.untrusted_signer" in [r.code for r in fan.submit(path).reasons]


def test_a_file_without_a_record_is_rejected_and_non_audio_is_refused(service, fan, tmp_path) -> None:
    from tests.conftest import write_tone_stems

    write_tone_stems(tmp_path, {"plain": 440.0}, seconds=0.2)
    assert [r.code for r in fan.submit(tmp_path / "plain.wav").reasons] == ["record.missing"]
    text = tmp_path / "notes.txt"
    text.write_text("not audio")
    with pytest.raises(RequestRefusedError) as refused:
        fan.submit(text)
    assert refused.value.status == 415


def test_fans_see_only_their_own_submissions_and_publishers_those_of_their_packs(
    service, published, fan, tmp_path
) -> None:
    recipe = published.recipe()
    path = export(published, recipe, fan_identity(fan), fan.grant(recipe), tmp_path / "remix.wav")
    mine = fan.submit(path)
    other = fan_client(service)
    with pytest.raises(NotFoundError):
        other.submission(mine.id)
    assert mine.id not in [s.id for s in other.submissions()]
    response = requests.get(
        f"{service.url}/v1/submissions/{mine.id}/file", headers={"Authorization": f"Bearer {other.token}"}, timeout=5
    )
    assert response.status_code == 404 and response.json()["code"] == "submission.not_found"
    assert mine.id in [s.id for s in published.publisher.submissions()]
    with client_for(service) as stranger:
        stranger.register(unique("label"), PASSWORD, role="publisher")
        assert mine.id not in [s.id for s in stranger.submissions()]
        with pytest.raises(NotFoundError):
            stranger.review(mine.id, "take_down")


def test_the_publisher_approves_rejects_and_takes_down(service, published, fan, tmp_path) -> None:
    recipe = published.recipe()
    identity = fan_identity(fan)
    grant = fan.grant(recipe)
    first = fan.submit(export(published, recipe, identity, grant, tmp_path / "a.wav"))
    assert published.publisher.review(first.id, "approve").status == "approved"
    assert published.publisher.review(first.id, "take_down", "Label request").status == "taken_down"
    with pytest.raises(RequestRefusedError) as bad:
        published.publisher.review(first.id, "approve")
    assert bad.value.status == 409
    second = fan.submit(export(published, recipe.with_stem("keys", gain_db=-1.0), identity, fan.grant(
        recipe.with_stem("keys", gain_db=-1.0)), tmp_path / "b.wav"))  # fmt: skip
    rejected = published.publisher.review(second.id, "reject", "Too close to the original.")
    assert rejected.status == "rejected" and rejected.reasons[-1].code == "review.rejected"
    assert fan.submission(second.id).reasons[-1].message == "Too close to the original."
    with pytest.raises(UnauthorisedError):
        fan.review(second.id, "approve")


# -- HTTP behaviour ----------------------------------------------------------------------------------------------


def test_every_error_is_a_json_code_and_message_with_security_headers(service) -> None:
    cases = [
        ("GET", "/v1/nowhere", None, 404),
        ("DELETE", "/v1/keys", None, 405),
        ("GET", "/v1/accounts/me", None, 401),
        ("POST", "/v1/accounts", {"name": "x"}, 422),
        ("POST", "/v1/accounts", "not json", 422),
    ]
    for method, path, body, status in cases:
        kwargs = {"json": body} if not isinstance(body, str) else {"data": body}
        response = requests.request(method, service.url + path, timeout=5, **kwargs)
        assert response.status_code == status, (method, path, response.text)
        assert response.headers["content-type"].startswith("application/json")
        assert set(response.json()) >= {"code", "message"} and response.json()["message"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"


def test_uploads_over_the_limit_are_refused_with_413(tmp_path) -> None:
    from fanremix.local_service import LocalService

    with LocalService.start(tmp_path / "small", max_upload_mb=0.01, service_args=UNLIMITED) as small:
        client = client_for(small)
        client.register(unique("fan"), PASSWORD)
        big = tmp_path / "big.wav"
        big.write_bytes(b"RIFF" + b"\0" * 4 + b"WAVE" + b"\0" * 20_000)
        with pytest.raises(RequestRefusedError) as refused:
            client.submit(big)
        assert refused.value.status == 413 and refused.value.code == "request.too_large"
        head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\n\r\n'
        chunked = requests.post(  # no Content-Length: the service counts the bytes as they stream in
            small.url + "/v1/submissions",
            data=iter([head, *[b"x" * 8192] * 4, b"\r\n--b--\r\n"]),
            headers={
                "Authorization": f"Bearer {client.token}",
                "Idempotency-Key": "k",
                "Content-Type": "multipart/form-data; boundary=b",
            },
            timeout=5,
        )
        assert chunked.status_code == 413 and chunked.json()["code"] == "request.too_large"


def test_requests_beyond_the_rate_limit_get_429_with_retry_after(tmp_path) -> None:
    from fastapi.testclient import TestClient

    from fanremix.service.app import create_app
    from fanremix.service.settings import ServiceSettings

    settings = ServiceSettings(data_dir=tmp_path / "svc", rate_per_minute=6, rate_burst=3, auth_rate_burst=2)
    with TestClient(create_app(settings)) as http:
        token = http.post("/v1/accounts", json={"name": "limited", "password": PASSWORD}).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        statuses = [http.get("/v1/accounts/me", headers=headers).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = http.get("/v1/accounts/me", headers=headers)
        assert limited.json()["code"] == "rate_limited" and int(limited.headers["retry-after"]) >= 1
        logins = [http.post("/v1/tokens", json={"name": "limited", "password": "x"}).status_code for _ in range(3)]
        assert logins[-1] == 429


def test_the_schema_is_migrated_at_start_and_matches_the_models(service) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from fanremix.service.database import head_revision
    from fanremix.service.models import Base

    assert requests.get(service.url + "/v1/health", timeout=5).json()["schema_revision"] == head_revision()
    engine = create_engine(database_of(service))
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    engine.dispose()


@contextlib.contextmanager
def database_at(tmp_path, revision: str) -> Iterator[tuple[Any, Callable[[], None]]]:
    """An SQLite database migrated to `revision`: its connection, and a function that migrates it to the head."""
    from alembic import command

    from fanremix.service.database import alembic_config, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            yield connection, lambda: command.upgrade(config, "head")
    finally:
        engine.dispose()


def test_the_migration_to_pack_policies_keeps_each_packs_policy_in_force(tmp_path) -> None:
    with database_at(tmp_path, "0002") as (connection, upgrade_to_head):
        connection.exec_driver_sql(
            "INSERT INTO accounts (id, name, role, password_hash, created_at) "
            "VALUES ('acc_1', 'label', 'publisher', 'x', '2026-01-01 00:00:00')"
        )
        connection.exec_driver_sql(
            "INSERT INTO packs (id, publisher_id, key_id, manifest_json, pack_hash, policy_json, policy_hash, retired, "
            "created_at, updated_at) VALUES ('night-drive', 'acc_1', 'k', '{}', 'ph', '{\"uid\": \"p\"}', 'h1', 0, "
            "'2026-01-01 00:00:00', '2026-02-01 00:00:00')"
        )
        upgrade_to_head()
        rows = connection.exec_driver_sql("SELECT pack_id, policy_hash, policy_json FROM pack_policies").all()
    assert [tuple(row) for row in rows] == [("night-drive", "h1", '{"uid": "p"}')]


def test_the_migration_to_sidecar_names_finds_the_sidecars_kept_before_it(tmp_path) -> None:
    with database_at(tmp_path, "0003") as (connection, upgrade_to_head):
        connection.exec_driver_sql(
            "INSERT INTO accounts (id, name, role, password_hash, created_at) "
            "VALUES ('acc_1', 'fan', 'fan', 'x', '2026-01-01 00:00:00')"
        )
        for sub_id, stored in (("sub_ogg", "'ab/abcd.ogg'"), ("sub_wav", "'cd/cdef.wav'"), ("sub_gone", "NULL")):
            connection.exec_driver_sql(
                "INSERT INTO submissions (id, account_id, idempotency_key, file_sha256, file_size, media_type, "
                f"stored_name, status, reasons_json, created_at, updated_at) VALUES ('{sub_id}', 'acc_1', "
                f"'{sub_id}', 'x', 1, 'audio/ogg', {stored}, 'accepted', '[]', '2026-01-01 00:00:00', "
                "'2026-01-01 00:00:00')"
            )
        upgrade_to_head()
        rows = dict(connection.exec_driver_sql("SELECT id, sidecar_name FROM submissions").all())
    assert rows == {"sub_ogg": "ab/abcd.c2pa", "sub_wav": None, "sub_gone": None}


def test_the_client_only_uses_operations_the_openapi_document_declares(service) -> None:
    paths = requests.get(service.url + "/openapi.json", timeout=5).json()["paths"]
    used = {
        ("get", "/v1/health"), ("get", "/v1/keys"), ("post", "/v1/accounts"), ("post", "/v1/tokens"),
        ("delete", "/v1/tokens/current"), ("get", "/v1/accounts/me"), ("patch", "/v1/accounts/{account_id}"),
        ("post", "/v1/packs"), ("get", "/v1/packs"), ("get", "/v1/packs/{pack_id}"),
        ("put", "/v1/packs/{pack_id}/policy"), ("post", "/v1/packs/{pack_id}/retire"), ("post", "/v1/checks"),
        ("post", "/v1/grants"), ("post", "/v1/certificates"), ("post", "/v1/submissions"),
        ("get", "/v1/submissions"), ("get", "/v1/submissions/{submission_id}"),
        ("post", "/v1/submissions/{submission_id}/review"),
    }  # fmt: skip
    declared = {(method, path) for path, item in paths.items() for method in item}
    assert used <= declared
    upload = paths["/v1/submissions"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in upload["parameters"])


def test_keys_are_created_once_and_kept_private(service) -> None:
    keys_dir = service.data_dir / "keys"
    assert (keys_dir / "grant-signing.pem").stat().st_mode & 0o077 == 0
    assert (keys_dir / "ca" / "ca-key.pem").stat().st_mode & 0o077 == 0
    assert keys_dir.stat().st_mode & 0o077 == 0


def test_an_ogg_submission_keeps_its_own_sidecar_and_the_publisher_can_verify_it(service, published, tmp_path) -> None:
    """OGG's record is a .c2pa sidecar. The service keeps it under its own content address and serves it beside the
    audio, so the publisher reviewing the remix can check its Content Credentials (before, the review found none)."""
    import soundfile

    from fanremix.artist import fetch_submission_file
    from fanremix.provenance_flow import export_with_provenance, verify_file
    from fanremix.rights.identity import TrustAnchors

    from .conftest import mix_render

    def ogg_render(opened, recipe, destination, fmt) -> None:  # the stand-in mix, encoded as Vorbis
        mix_render(opened, recipe, destination.with_suffix(".wav"), "wav")
        audio, rate = soundfile.read(str(destination.with_suffix(".wav")))
        soundfile.write(str(destination), audio, rate, format="OGG", subtype="VORBIS")

    fan = fan_client(service)
    identity = fan_identity(fan)
    recipe = published.recipe()
    exported = export_with_provenance(
        published.opened, recipe, tmp_path / "remix.ogg", "ogg", identity, fan.grant(recipe), render=ogg_render
    )
    submission = fan.submit(exported.path, sidecar=exported.sidecar)
    assert submission.status == "accepted"
    sidecar_sha = hashlib.sha256(exported.sidecar.read_bytes()).hexdigest()
    assert (service.data_dir / "uploads" / sidecar_sha[:2] / f"{sidecar_sha}.c2pa").is_file()

    downloaded = fetch_submission_file(published.publisher, submission.id, tmp_path / "review")
    assert downloaded.with_suffix(".c2pa").read_bytes() == exported.sidecar.read_bytes()
    anchors = TrustAnchors.from_pem(fan.keys().ca_certificate_pem, "the service CA")
    assert verify_file(downloaded, anchors).report.state.value == "Trusted"
    wav = export(published, recipe, identity, fan.grant(recipe), tmp_path / "remix.wav")
    embedded = fan.submit(wav)
    response = requests.get(
        f"{service.url}/v1/submissions/{embedded.id}/sidecar", headers={"Authorization": f"Bearer {fan.token}"}
    )
    assert response.status_code == 404 and response.json()["code"] == "submission.no_sidecar"
    fan.close()
