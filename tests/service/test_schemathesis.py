"""Schema-based fuzzing of the live service: every operation in /openapi.json, with generated valid and invalid
input, never answers with a server error."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from fanremix.rights.packfile import read_manifest_unverified
from fanremix.rights.signing import PublisherKey, public_key_pem
from fanremix.service.app import openapi_document

from .conftest import PASSWORD, build_unique_pack, client_for, unique

EXAMPLES_PER_OPERATION = 25  # ~20 operations: the whole run stays well under 30 s on two cores

schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.fixture(scope="module")
def accounts(service, tmp_path_factory):
    """A publisher with a registered pack and a fan, so generated requests get past authentication."""
    publisher = client_for(service)
    publisher.register(unique("fuzz-label"), PASSWORD, role="publisher")
    key = PublisherKey.generate()
    manifest = read_manifest_unverified(build_unique_pack(tmp_path_factory.mktemp("pack"), key))
    publisher.register_pack(manifest, public_key_pem(key.public_key))
    fan = client_for(service)
    fan_name = unique("fuzz-fan")
    fan.register(fan_name, PASSWORD)
    yield {"publisher": publisher, "fan": fan, "fan_name": fan_name}
    publisher.close()
    fan.close()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same examples every run, so a failure here reproduces
    database=None,
)
def test_no_operation_answers_with_a_server_error(case, service, accounts) -> None:
    client = accounts["publisher"] if "/packs" in case.operation.path else accounts["fan"]
    token = client.token
    if case.operation.method.upper() == "DELETE":  # signing out revokes the token: sign out a throwaway one
        with client_for(service) as throwaway:
            throwaway.login(accounts["fan_name"], PASSWORD)
            token = throwaway.token
    case.call_and_validate(
        base_url=service.url, headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error], timeout=10
    )
