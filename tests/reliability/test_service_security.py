"""Service security over real HTTP: every operation in the OpenAPI document is called with no token, a bogus token,
the wrong role and another user's token; size limits; security headers; uploads never choose their own path.

ACCESS says, for each operation, who may call it. An operation missing from it fails the test: a new route has to
say who may use it before it ships.
"""

import ast
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from fanremix.domain.recipe import Recipe
from fanremix.provenance_flow import export_with_provenance
from fanremix.rights.packfile import open_pack, read_manifest_unverified
from fanremix.rights.signing import PublisherKey, public_key_pem
from fanremix.service.admin import create_admin
from fanremix.service.app import openapi_document
from fanremix.service.limits import SECURITY_HEADERS
from fanremix.service.settings import DEFAULT_MAX_JSON_BYTES, ServiceSettings
from tests.service.conftest import PASSWORD, build_unique_pack, client_for, fan_identity, mix_render, unique

PUBLIC = "public"  # anyone, signed in or not
SIGNED_IN = "signed-in"  # any account


@dataclass(frozen=True)
class Rule:
    who: str | tuple[str, ...]  # PUBLIC, SIGNED_IN, or the roles that may (admins may always)
    owned_by: str | None = None  # the world member whose resource the path names: others are refused
    refusal: tuple[int, ...] = (403, 404)  # how another user is refused (404 where existence is not revealed)


ACCESS: dict[tuple[str, str], Rule] = {
    ("GET", "/v1/health"): Rule(PUBLIC),
    ("GET", "/v1/keys"): Rule(PUBLIC),
    ("POST", "/v1/accounts"): Rule(PUBLIC),
    ("POST", "/v1/tokens"): Rule(PUBLIC),
    ("POST", "/v1/checks"): Rule(SIGNED_IN),
    ("POST", "/v1/grants"): Rule(SIGNED_IN),
    ("POST", "/v1/certificates"): Rule(SIGNED_IN),
    ("DELETE", "/v1/tokens/current"): Rule(SIGNED_IN),
    ("GET", "/v1/accounts/me"): Rule(SIGNED_IN),
    ("PATCH", "/v1/accounts/{account_id}"): Rule(("admin",)),
    ("GET", "/v1/packs"): Rule(SIGNED_IN),
    ("POST", "/v1/packs"): Rule(("publisher",)),
    ("GET", "/v1/packs/{pack_id}"): Rule(SIGNED_IN),
    ("PUT", "/v1/packs/{pack_id}/policy"): Rule(("publisher",), owned_by="publisher", refusal=(403,)),
    ("POST", "/v1/packs/{pack_id}/retire"): Rule(("publisher",), owned_by="publisher", refusal=(403,)),
    ("POST", "/v1/submissions"): Rule(SIGNED_IN),
    ("GET", "/v1/submissions"): Rule(SIGNED_IN),
    ("GET", "/v1/submissions/{submission_id}"): Rule(SIGNED_IN, owned_by="fan", refusal=(404,)),
    ("GET", "/v1/submissions/{submission_id}/file"): Rule(SIGNED_IN, owned_by="fan", refusal=(404,)),
    ("GET", "/v1/submissions/{submission_id}/sidecar"): Rule(SIGNED_IN, owned_by="fan", refusal=(404,)),
    ("POST", "/v1/submissions/{submission_id}/review"): Rule(("publisher",), owned_by="publisher"),
}


def operations() -> list[tuple[str, str]]:
    return [(m.upper(), p) for p, ops in openapi_document()["paths"].items() for m in ops]


@pytest.fixture(scope="module")
def world(service, tmp_path_factory):
    """Two publishers (one owns a pack), two fans (one made a submission from it), and an admin."""
    folder = tmp_path_factory.mktemp("security")
    people = {}
    for name, role in (
        ("publisher", "publisher"),
        ("other_publisher", "publisher"),
        ("fan", "fan"),
        ("other_fan", "fan"),
    ):
        client = client_for(service)
        client.register(unique(f"sec-{name}"), PASSWORD, role=role)
        people[name] = client
    admin_name = unique("sec-admin")
    people["admin"] = client_for(
        service, token=create_admin(ServiceSettings(data_dir=service.data_dir), admin_name, PASSWORD)
    )
    key = PublisherKey.generate()
    pack_path = build_unique_pack(folder, key)
    manifest = read_manifest_unverified(pack_path)
    people["publisher"].register_pack(manifest, public_key_pem(key.public_key))
    from fanremix.rights.keyring import Keyring

    keyring = Keyring(folder / "keyring")
    keyring.trust(key.public_key, name="Label", source="test")
    recipe = Recipe.for_stems(manifest.id, manifest.pack_hash(), [s.id for s in manifest.stems])
    fan = people["fan"]
    with open_pack(pack_path, keyring) as opened:
        export_with_provenance(
            opened, recipe, folder / "remix.wav", "wav", fan_identity(fan), fan.grant(recipe), render=mix_render
        )
    submission = fan.submit(folder / "remix.wav", idempotency_key="security-test")
    bodies = {
        "/v1/checks": {"pack_id": manifest.id, "recipe": recipe.to_dict()},
        "/v1/grants": {"pack_id": manifest.id, "recipe": recipe.to_dict()},
        "/v1/certificates": {"csr_pem": "not a csr"},
        "/v1/accounts": {"name": unique("sec-new"), "password": PASSWORD, "role": "fan"},
        "/v1/tokens": {"name": admin_name, "password": PASSWORD},
        "/v1/accounts/{account_id}": {"role": "publisher"},
        "/v1/packs": {"manifest": manifest.to_dict(), "public_key_pem": public_key_pem(key.public_key).decode()},
        "/v1/packs/{pack_id}/policy": {"policy": manifest.policy.to_dict()},
        "/v1/submissions/{submission_id}/review": {"decision": "approve"},
    }
    ids = {"account_id": people["other_fan"].me().id, "pack_id": manifest.id, "submission_id": submission.id}
    yield {"people": people, "bodies": bodies, "ids": ids, "file": folder / "remix.wav", "manifest": manifest}
    for client in people.values():
        client.close()


def call(service, world, method: str, path: str, token: str | None) -> requests.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    url = service.url + path.format(**world["ids"])
    if path == "/v1/submissions" and method == "POST":
        with world["file"].open("rb") as handle:
            files = {"file": ("remix.wav", handle, "audio/wav")}
            return requests.post(url, files=files, headers={**headers, "Idempotency-Key": "sec"}, timeout=30)
    body = world["bodies"].get(path)
    return requests.request(method, url, json=body, headers=headers, timeout=30)


def assert_refused(response: requests.Response, statuses: tuple[int, ...], what: str) -> None:
    assert response.status_code in statuses, f"{what}: {response.status_code} {response.text[:300]}"
    error = response.json()
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    assert_security_headers(response)


def assert_security_headers(response: requests.Response) -> None:
    for name, value in SECURITY_HEADERS:
        assert response.headers.get(name.decode()) == value.decode(), f"{name.decode()} missing"


def test_every_operation_has_an_access_rule() -> None:
    assert set(operations()) == set(ACCESS), "classify new routes in ACCESS"


@pytest.mark.parametrize(("method", "path"), list(ACCESS), ids=[f"{m} {p}" for m, p in ACCESS])
def test_each_operation_refuses_whom_it_must(service, world, method: str, path: str) -> None:
    rule = ACCESS[(method, path)]
    people = world["people"]
    if rule.who == PUBLIC:
        response = call(service, world, method, path, None)
        assert response.status_code < 500 and response.status_code not in (401, 403), response.text[:300]
        assert_security_headers(response)
        return
    no_token = call(service, world, method, path, None)
    assert_refused(no_token, (401,), "no token")
    assert no_token.json()["code"] == "auth.required"
    bogus = call(service, world, method, path, "frt_" + "A" * 43)
    assert_refused(bogus, (401,), "a token that was never issued")
    assert bogus.json()["code"] == "auth.invalid_token"
    if rule.who != SIGNED_IN:
        wrong = "fan" if "admin" not in rule.who else "publisher"
        assert_refused(call(service, world, method, path, people[wrong].token), (403,), f"a {wrong}")
    if rule.owned_by is not None:
        other = {"publisher": "other_publisher", "fan": "other_fan"}[rule.owned_by]
        assert_refused(call(service, world, method, path, people[other].token), rule.refusal, f"{other}'s token")


def test_what_refusals_leave_unchanged(service, world) -> None:
    """After all the refused calls, the pack is not retired, the submission not reviewed, the fan still a fan."""
    people = world["people"]
    assert not people["publisher"].pack(world["ids"]["pack_id"])["retired"]
    assert people["fan"].submission(world["ids"]["submission_id"]).status == "accepted"
    assert people["other_fan"].me().role == "fan"


def test_a_revoked_token_is_refused_everywhere(service, world) -> None:
    with client_for(service) as client:
        client.register(unique("sec-revoked"), PASSWORD)
        token = client.token
        assert call(service, world, "GET", "/v1/accounts/me", token).status_code == 200
        assert (
            requests.delete(
                f"{service.url}/v1/tokens/current", headers={"Authorization": f"Bearer {token}"}, timeout=10
            ).status_code
            == 204
        )
    for method, path in ACCESS:
        if ACCESS[(method, path)].who != PUBLIC:
            response = call(service, world, method, path, token)
            assert_refused(response, (401,), f"revoked token on {method} {path}")


def test_json_bodies_over_the_limit_are_refused_with_413(service, world) -> None:
    token = world["people"]["fan"].token
    big = json.dumps({"pack_id": "x", "recipe": {"padding": "x" * DEFAULT_MAX_JSON_BYTES}}).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    declared = requests.post(f"{service.url}/v1/checks", data=big, headers=headers, timeout=30)
    assert_refused(declared, (413,), "Content-Length over the limit")

    def chunks():
        for start in range(0, len(big), 1 << 16):
            yield big[start : start + (1 << 16)]

    streamed = requests.post(f"{service.url}/v1/checks", data=chunks(), headers=headers, timeout=30)
    assert_refused(streamed, (413,), "a chunked body over the limit")
    assert declared.json()["code"] == streamed.json()["code"] == "request.too_large"


def test_an_upload_cannot_choose_where_it_is_stored(service, world) -> None:
    """The client's file name is ignored: uploads are stored under uploads/ by their sha256 only."""
    fan = world["people"]["fan"]
    url = f"{service.url}/v1/submissions"
    with world["file"].open("rb") as handle:
        files = {"file": ("../../../../../../tmp/fanremix-evil.wav", handle, "audio/wav")}
        headers = {"Authorization": f"Bearer {fan.token}", "Idempotency-Key": "path-traversal"}
        response = requests.post(url, files=files, headers=headers, timeout=30)
    assert response.status_code in (200, 201), response.text[:300]
    assert not Path("/tmp/fanremix-evil.wav").exists()
    stored = [p for p in (service.data_dir / "uploads").rglob("*") if p.is_file()]
    assert stored and all(len(p.stem) == 64 and set(p.stem) <= set("0123456789abcdef") for p in stored)


def test_sql_goes_only_through_the_orm_or_bound_parameters() -> None:
    """No SQL text in the service is put together from strings (f-strings, %, +, .format): values are bound."""
    service_dir = Path(__file__).resolve().parents[2] / "app" / "fanremix" / "service"
    offenders = []
    for path in service_dir.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            built = isinstance(node.args[0], ast.JoinedStr | ast.BinOp) or (
                isinstance(node.args[0], ast.Call) and getattr(node.args[0].func, "attr", "") == "format"
            )
            if name in ("text", "execute", "exec_driver_sql", "executescript") and built:
                offenders.append(f"{path.relative_to(service_dir)}:{node.lineno}")
    assert offenders == []
