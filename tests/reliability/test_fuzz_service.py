"""Fuzzing the rights service's request bodies over real HTTP: every JSON operation gets generated, mutated and
malformed bodies, and must answer 2xx, or 4xx with `{code, message}`: never a server error, never a hang."""

import json
import time

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from fanremix.domain.recipe import Recipe
from fanremix.rights.packfile import read_manifest_unverified
from fanremix.rights.signing import PublisherKey, public_key_pem
from fanremix.service.app import openapi_document
from tests.service.conftest import PASSWORD, build_unique_pack, client_for, unique

from .fuzzing import CASES, fuzz_settings, json_text, json_values, mutated_bytes, mutated_document

REQUEST_TIMEOUT_S = 10.0


def json_operations() -> list[tuple[str, str]]:
    found = []
    for path, operations in openapi_document()["paths"].items():
        for method, operation in operations.items():
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                found.append((method.upper(), path))
    return found


OPERATIONS = json_operations()


@pytest.fixture(scope="module")
def world(service, tmp_path_factory):
    """A publisher with a registered pack, a fan, and valid bodies to mutate."""
    publisher = client_for(service)
    publisher.register(unique("fuzz-body-label"), PASSWORD, role="publisher")
    key = PublisherKey.generate()
    manifest = read_manifest_unverified(build_unique_pack(tmp_path_factory.mktemp("body-pack"), key))
    publisher.register_pack(manifest, public_key_pem(key.public_key))
    fan = client_for(service)
    fan.register(unique("fuzz-body-fan"), PASSWORD)
    recipe = Recipe.for_stems(manifest.id, manifest.pack_hash(), [s.id for s in manifest.stems]).to_dict()
    valid = {
        "/v1/checks": {"pack_id": manifest.id, "recipe": recipe, "use": {"distribution": "fanremix"}},
        "/v1/grants": {"pack_id": manifest.id, "recipe": recipe},
        "/v1/certificates": {"csr_pem": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----"},
        "/v1/accounts": {"name": "someone", "password": PASSWORD, "role": "fan"},
        "/v1/tokens": {"name": "someone", "password": PASSWORD},
        "/v1/accounts/{account_id}": {"role": "publisher"},
        "/v1/packs": {"manifest": manifest.to_dict(), "public_key_pem": public_key_pem(key.public_key).decode()},
        "/v1/packs/{pack_id}/policy": {"policy": manifest.policy.to_dict()},
        "/v1/submissions/{submission_id}/review": {"decision": "approve", "note": "fine"},
    }
    ids = {"account_id": fan.me().id, "pack_id": manifest.id, "submission_id": "sub_000000000000000000000000"}
    yield {"publisher": publisher, "fan": fan, "valid": valid, "ids": ids}
    publisher.close()
    fan.close()


def send(service, world, method: str, path: str, body: bytes, content_type: str = "application/json"):
    client = world["publisher"] if "/packs" in path or "/review" in path else world["fan"]
    url = service.url + path.format(**world["ids"])
    headers = {"Authorization": f"Bearer {client.token}", "Content-Type": content_type}
    CASES[f"service {method} {path}"] += 1
    started = time.perf_counter()
    response = requests.request(method, url, data=body, headers=headers, timeout=REQUEST_TIMEOUT_S)
    elapsed = time.perf_counter() - started
    assert response.status_code < 500, f"{method} {path}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        error = response.json()
        assert isinstance(error.get("code"), str) and isinstance(error.get("message"), str), response.text[:300]
    assert elapsed < REQUEST_TIMEOUT_S
    return response


def bodies(valid: dict) -> st.SearchStrategy[bytes]:
    deep = st.integers(500, 50_000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n)
    return st.one_of(
        mutated_document(valid).map(json_text),
        mutated_document(valid).map(json_text),
        json_values.map(json_text),
        mutated_bytes(json_text(valid)),
        deep,
        st.sampled_from([b"", b"null", b"\xff\xfe\x00", b"[]" * 10, b'{"a": 1e999999}', b'"\\ud800"', b"9" * 5000]),
    )


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_request_bodies(service, world, method: str, path: str) -> None:
    @given(bodies(world["valid"][path]))
    @fuzz_settings(40)
    def run(body: bytes) -> None:
        send(service, world, method, path, body)

    run()


def test_the_valid_bodies_are_accepted(service, world) -> None:
    """The mutations start from bodies the service takes (a check of a valid recipe is allowed)."""
    response = send(service, world, "POST", "/v1/checks", json.dumps(world["valid"]["/v1/checks"]).encode())
    assert response.status_code == 200 and response.json()["allowed"] is True
