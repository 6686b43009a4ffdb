"""The app's client against the service's OpenAPI document: every request the client really sends, and every answer
it gets, over a whole publish → check → grant → certificate → submit → review session, is checked against
/openapi.json (operation declared, status code declared, body valid against the declared schema)."""

import urllib.parse
from collections.abc import Iterator

import pytest
import requests
import schemathesis

from fanremix.artist import fetch_submission_file
from fanremix.rights.client import PolicyRefusedError, RightsClient
from fanremix.service.app import openapi_document

from .conftest import PASSWORD, client_for, export, fan_identity, unique

SCHEMA = schemathesis.openapi.from_dict(openapi_document())


class Recorder:
    """Keeps every response a client's sessions receive (requests' response hook)."""

    def __init__(self) -> None:
        self.responses: list[requests.Response] = []

    def watch(self, client: RightsClient) -> RightsClient:
        for session in (client._session, client._cautious_session):
            session.hooks["response"].append(lambda response, *_args, **_kwargs: self.responses.append(response))
        return client


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    yield Recorder()


def test_every_exchange_of_the_client_matches_the_openapi_document(service, published, tmp_path, recorder) -> None:
    fan = recorder.watch(client_for(service))
    publisher = recorder.watch(published.publisher)

    fan.health()
    fan.keys(refresh=True)
    fan.register(unique("contract-fan"), PASSWORD)
    fan.me()
    recipe = published.recipe(gains={"keys": -6.0})
    assert fan.check(recipe).allowed
    assert not fan.check(published.recipe(tempo_ratio=3.0)).allowed
    with pytest.raises(PolicyRefusedError):
        fan.grant(published.recipe(tempo_ratio=3.0))
    path = export(published, recipe, fan_identity(fan), fan.grant(recipe), tmp_path / "remix.wav")
    key = unique("contract")
    submission = fan.submit(path, idempotency_key=key)
    assert fan.submit(path, idempotency_key=key).replayed  # 200: the same submission
    fan.submission(submission.id)
    fan.submissions()
    fan.submissions(status="accepted")

    publisher.packs()
    publisher.pack(published.manifest.id)
    publisher.update_policy(published.manifest.id, published.manifest.policy.to_dict())
    publisher.submissions()
    publisher.review(submission.id, "approve", note="Nice one")
    fetch_submission_file(publisher, submission.id, tmp_path / "downloads")
    publisher.retire_pack(published.manifest.id)
    fan.logout()

    exchanges: set[tuple[str, int]] = set()
    for response in recorder.responses:
        path = urllib.parse.urlsplit(response.url).path
        operation = SCHEMA.find_operation_by_path(response.request.method, path)
        assert operation is not None, f"{response.request.method} {path} is not in the OpenAPI document"
        operation.validate_response(response)  # declared status, content type and body schema
        exchanges.add((operation.label, response.status_code))
    # the session reached every operation a fan's and a publisher's day uses, and answers of every kind
    assert len({label for label, _status in exchanges}) >= 17, sorted(exchanges)
    assert {status for _label, status in exchanges} >= {200, 201, 204, 422}
