"""The outbox keeps what could not be sent, durably, and resends it with the same idempotency key."""

from pathlib import Path

import pytest

from fanremix.domain.errors import FanRemixError
from fanremix.rights.outbox import Outbox


class Transient(FanRemixError):
    transient = True


class Permanent(FanRemixError):
    transient = False


class FakeService:
    """Records each key once (as the real service does); can lose answers or fail before doing anything."""

    def __init__(self, script: list[str]):
        self.script = list(script)  # per call: "ok", "down" (fails first), "lost" (does it, then the answer is lost)
        self.rows: dict[str, bytes] = {}
        self.keys_seen: list[str] = []

    def submit(self, path: Path, idempotency_key: str | None = None, sidecar: Path | None = None):
        step = self.script.pop(0) if self.script else "ok"
        self.keys_seen.append(idempotency_key)
        if step == "down":
            raise Transient("The service cannot be reached.")
        if step == "refused":
            raise Permanent("Sign in again.")
        self.rows.setdefault(idempotency_key, Path(path).read_bytes())
        if step == "lost":
            raise Transient("The connection broke before the answer arrived.")
        return {"id": idempotency_key, "status": "accepted"}


@pytest.fixture
def audio(tmp_path) -> Path:
    path = tmp_path / "remix.wav"
    path.write_bytes(b"RIFF....WAVEdata" + bytes(range(256)) * 4)
    return path


def test_a_submission_sent_at_once_leaves_nothing_behind(tmp_path, audio) -> None:
    outbox = Outbox(tmp_path / "outbox")
    outcome = outbox.submit(FakeService(["ok"]), audio)
    assert outcome.submission["status"] == "accepted" and outcome.queued is None
    assert len(outbox) == 0 and list((tmp_path / "outbox").iterdir()) == []


def test_a_lost_answer_is_resent_with_the_same_key_and_recorded_once(tmp_path, audio) -> None:
    service = FakeService(["lost", "down", "ok"])
    outbox = Outbox(tmp_path / "outbox")
    outcome = outbox.submit(service, audio)
    assert outcome.submission is None and outcome.queued is not None and len(outbox) == 1
    assert outcome.queued.attempts == 1 and "broke" in outcome.queued.last_error
    report = outbox.flush(service)
    assert report.stopped_early and report.remaining == 1
    report = outbox.flush(service)
    assert len(report.sent) == 1 and report.remaining == 0
    assert len(set(service.keys_seen)) == 1 and len(service.rows) == 1
    assert service.rows[service.keys_seen[0]] == audio.read_bytes()


def test_entries_survive_a_restart_and_a_crash_mid_write_leaves_no_entry(tmp_path, audio) -> None:
    folder = tmp_path / "outbox"
    Outbox(folder).submit(FakeService(["down"]), audio)
    (folder / ".staging-crashed").mkdir()  # what a crash in the middle of `add` leaves
    (folder / ".staging-crashed" / "audio.wav").write_bytes(b"half")
    reopened = Outbox(folder)  # a new process
    entries = reopened.entries()
    assert len(entries) == 1 and entries[0].path.read_bytes() == audio.read_bytes()
    assert not (folder / ".staging-crashed").exists()
    assert reopened.flush(FakeService(["ok"])).remaining == 0


def test_a_submission_refused_at_once_is_not_left_to_be_sent_again_later(tmp_path, audio) -> None:
    """Signed out: the person is told, and the copy does not stay behind to be sent after they submit it again
    themselves (which gave the service two rows for one remix)."""
    outbox = Outbox(tmp_path / "outbox")
    service = FakeService(["refused", "ok"])
    with pytest.raises(Permanent):
        outbox.submit(service, audio)
    assert len(outbox) == 0 and audio.is_file()  # nothing sent, nothing queued, the file where it was
    assert outbox.submit(service, audio).submission["status"] == "accepted"
    assert outbox.flush(service).sent == [] and len(service.rows) == 1


def test_a_permanent_failure_while_flushing_is_kept_and_reported_not_dropped(tmp_path, audio) -> None:
    outbox = Outbox(tmp_path / "outbox")
    outcome = outbox.submit(FakeService(["down"]), audio)
    assert outcome.queued is not None and len(outbox) == 1
    report = outbox.flush(FakeService(["refused"]))
    assert [str(e) for _, e in report.failed] == ["Sign in again."] and report.remaining == 1
    assert outbox.entries()[0].attempts == 2
    entry = outbox.find(outcome.queued.entry_id)
    outbox.remove(entry)  # what `fanremix outbox --drop ID` does
    assert len(outbox) == 0


def test_sidecars_travel_with_their_audio(tmp_path, audio) -> None:
    sidecar = tmp_path / "remix.c2pa"
    sidecar.write_bytes(b"manifest")
    seen = {}

    class Recorder:
        def submit(self, path, idempotency_key=None, sidecar=None):
            seen["sidecar"] = sidecar.read_bytes()
            return {"status": "accepted"}

    Outbox(tmp_path / "outbox").submit(Recorder(), audio, sidecar=sidecar)
    assert seen["sidecar"] == b"manifest"


def test_the_outbox_command_lists_and_drops_an_entry(audio, capsys) -> None:
    from fanremix.cli import main
    from fanremix.submit_flow import outbox_for
    from fanremix.workspace import Workspace

    entry = outbox_for(Workspace.from_environment()).add(audio)
    assert main(["outbox"]) == 0
    assert entry.entry_id in capsys.readouterr().out
    assert main(["outbox", "--drop", "no-such-entry"]) == 1
    assert "Nothing in the outbox is called 'no-such-entry'" in capsys.readouterr().err
    assert main(["outbox", "--drop", entry.entry_id]) == 0
    assert "will not be sent" in capsys.readouterr().out
    assert main(["outbox"]) == 0
    assert "The outbox is empty." in capsys.readouterr().out
