"""The rights service on PostgreSQL, its deployment target: the same service tests, run against a throw-away
PostgreSQL cluster (tests/service/postgres.py), plus what only PostgreSQL refuses (a NUL in text).

The tests imported below run here with this module's `service` fixture, i.e. on PostgreSQL."""

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from fanremix.local_service import LocalService

from .conftest import PASSWORD, UNLIMITED, client_for, unique
from .postgres import PostgresMissing, server_bin, temporary_postgres
from .test_rights_service import (  # noqa: F401  (collected here, against PostgreSQL)
    fan,
    test_a_grant_binds_fan_pack_recipe_and_duties_and_verifies_offline,
    test_a_policy_update_applies_to_new_grants_only,
    test_altered_audio_is_rejected_with_the_reason,
    test_an_export_with_its_grant_is_accepted_and_a_resend_returns_the_same_submission,
    test_concurrent_resends_with_one_key_make_one_submission,
    test_fans_see_only_their_own_submissions_and_publishers_those_of_their_packs,
    test_names_are_unique_and_passwords_are_not_stored,
    test_the_publisher_approves_rejects_and_takes_down,
    test_the_schema_is_migrated_at_start_and_matches_the_models,
)
from .test_schemathesis import accounts, test_no_operation_answers_with_a_server_error  # noqa: F401

try:
    server_bin()
except PostgresMissing as missing:  # make test installs postgresql-15; a developer's machine may not have it
    pytest.skip(f"PostgreSQL is not installed: {missing}", allow_module_level=True)


@pytest.fixture(scope="module")
def service() -> Iterator[LocalService]:
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(temporary_postgres())
        data = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fanremix-pg-service-")))
        running = stack.enter_context(LocalService.start(data, database_url=url, service_args=UNLIMITED))
        running.database_url = url  # type: ignore[attr-defined]  # rows_with_key counts rows here
        yield running


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/packs/a%00b", None),
        ("GET", "/v1/submissions/a%00b", None),
        ("GET", "/v1/submissions/a%00b/file", None),
        ("GET", "/v1/submissions?status=a%00b", None),
        ("POST", "/v1/tokens", {"name": "fan\u0000x", "password": PASSWORD}),
        ("POST", "/v1/accounts", {"name": "fan\u0000y", "password": PASSWORD, "role": "fan"}),
    ],
)
def test_a_nul_character_is_refused_with_a_json_error_not_a_server_error(service, method, path, body) -> None:
    """PostgreSQL cannot store a NUL in text; such requests failed inside the driver (500) where SQLite said 404."""
    someone = client_for(service)
    someone.register(unique("nul-fan"), PASSWORD)
    response = requests.request(
        method, service.url + path, json=body, headers={"Authorization": f"Bearer {someone.token}"}, timeout=10
    )
    assert 400 <= response.status_code < 500, response.text
    assert set(response.json()) >= {"code", "message"}
    someone.close()


def test_a_review_note_with_a_nul_is_refused(service, published, tmp_path) -> None:
    from .conftest import export, fan_client, fan_identity

    remixer = fan_client(service)
    recipe = published.recipe()
    path = export(published, recipe, fan_identity(remixer), remixer.grant(recipe), tmp_path / "remix.wav")
    submission = remixer.submit(path)
    response = requests.post(
        f"{service.url}/v1/submissions/{submission.id}/review",
        json={"decision": "reject", "note": "bad\u0000note"},
        headers={"Authorization": f"Bearer {published.publisher.token}"},
        timeout=10,
    )
    assert 400 <= response.status_code < 500, response.text
    assert remixer.submission(submission.id).status == "accepted"  # nothing half-stored
    remixer.close()
