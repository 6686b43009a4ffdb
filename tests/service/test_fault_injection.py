"""200 submissions through a proxy that drops, cuts, delays and fails requests at random: every one ends accepted,
exactly once on the server, and the outbox ends empty."""

import time

import pytest
from sqlalchemy import create_engine, func, select

from fanremix.rights.client import RightsClient, default_retry
from fanremix.rights.outbox import Outbox
from fanremix.rights.packfile import open_pack
from fanremix.rights.signing import public_key_pem
from fanremix.service.models import Submission

from .conftest import PASSWORD, PublishedPack, build_unique_pack, client_for, export, fan_identity, unique
from .fault_proxy import FaultProxy

SUBMISSIONS = 200


@pytest.mark.slow
def test_every_submission_is_accepted_exactly_once_through_a_faulty_network(
    service, tmp_path, publisher_key, workspace
) -> None:
    publisher = client_for(service)
    publisher.register(unique("label"), PASSWORD, role="publisher")
    pack_path = build_unique_pack(tmp_path / "pack", publisher_key, seconds=0.1)
    opened = open_pack(pack_path, workspace.keyring())
    publisher.register_pack(opened.manifest, public_key_pem(publisher_key.public_key))
    published = PublishedPack(path=pack_path, opened=opened, publisher=publisher, key=publisher_key)

    direct = client_for(service)
    fan = direct.register(unique("fan"), PASSWORD)
    identity = fan_identity(direct)
    files = []
    for index in range(SUBMISSIONS):  # distinct recipes, so distinct files and grants
        recipe = published.recipe(gains={"keys": -0.125 * index})  # exact in binary: see the report
        files.append(export(published, recipe, identity, direct.grant(recipe), tmp_path / f"remix-{index}.wav"))

    outbox = Outbox(tmp_path / "outbox")
    started = time.monotonic()
    answers = {}
    with FaultProxy(service.url, seed=20260101, stall_s=0.8) as proxy:
        flaky = RightsClient(
            proxy.url,
            token=direct.token,
            timeout=(2.0, 0.5),
            retry=default_retry(total=4, backoff_factor=0.01, backoff_max=0.1),
        )
        queued_now = 0
        for path in files:
            outcome = outbox.submit(flaky, path)
            if outcome.submission is not None:
                answers[outcome.submission.file_sha256] = outcome.submission
            else:
                queued_now += 1
        rounds = 0
        while len(outbox) and rounds < 50:  # what could not be sent is resent later, with the same keys
            rounds += 1
            report = outbox.flush(flaky)
            for _entry, submission in report.sent:
                answers[submission.file_sha256] = submission
            assert not report.failed, [str(error) for _, error in report.failed]
        flaky.close()
    elapsed = time.monotonic() - started

    assert len(outbox) == 0
    assert len(answers) == SUBMISSIONS
    assert [s.reasons for s in answers.values() if s.status != "accepted"] == []
    engine = create_engine(f"sqlite:///{service.data_dir / 'rights.sqlite3'}")
    with engine.connect() as connection:
        rows = connection.execute(
            select(Submission.status, Submission.file_sha256, Submission.id).where(Submission.account_id == fan.id)
        ).all()
        keys = connection.execute(
            select(func.count(func.distinct(Submission.idempotency_key))).where(Submission.account_id == fan.id)
        ).scalar_one()
    engine.dispose()
    assert len(rows) == SUBMISSIONS and keys == SUBMISSIONS  # exactly once: no duplicates, nothing missing
    assert {row.status for row in rows} == {"accepted"}
    assert {row.file_sha256 for row in rows} == set(answers)
    assert {row.id for row in rows} == {s.id for s in answers.values()}
    injected = sum(count for fate, count in proxy.counts.items() if fate != "forward")
    print(
        f"\n{SUBMISSIONS} submissions in {elapsed:.1f} s through {sum(proxy.counts.values())} proxied requests; "
        f"faults injected: {injected} {dict(sorted(proxy.counts.items()))}; "
        f"left in the outbox after the first pass: {queued_now}; flush rounds: {rounds}"
    )
    assert injected > SUBMISSIONS // 4  # the network really was bad
    opened.close()
    publisher.close()
    direct.close()
