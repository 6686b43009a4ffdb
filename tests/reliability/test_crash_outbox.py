"""The rights service killed with SIGKILL while a submission is being uploaded (and again while it is being
processed): the app's outbox keeps it, a later start resends it with the same key, and it exists exactly once.

Every piece is real: the service is a `python -m fanremix.service` process; the uploading app is a separate Python
process using the real client and outbox; between them a loopback relay paces the upload at a few MB/s (as a home
connection would) so the kill lands mid-body, and counts the bytes so the test knows where the kill landed.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fanremix.local_service import LocalService
from fanremix.rights.signing import PublisherKey, public_key_pem
from tests.service.conftest import (
    PASSWORD,
    UNLIMITED,
    build_unique_pack,
    client_for,
    fan_identity,
    mix_render,
    unique,
)

UPLOAD_BYTES_PER_SECOND = 4 << 20

SENDER = r"""
import json, sys
from pathlib import Path
from urllib3.util.retry import Retry
from fanremix.rights.client import RightsClient
from fanremix.rights.outbox import Outbox

url, token, outbox_dir, mode = sys.argv[1:5]
quick = Retry(total=1, connect=1, read=0, backoff_factor=0.05, status_forcelist=(), allowed_methods=None)
with RightsClient(url, token=token, retry=quick, timeout=(2, 30)) as client:
    outbox = Outbox(Path(outbox_dir))
    if mode == "submit":
        print("SENDING", flush=True)
        outcome = outbox.submit(client, Path(sys.argv[5]))
        error = type(outcome.error).__name__ if outcome.error else None
        result = {"sent": outcome.submission is not None, "error": error}
    else:
        report = outbox.flush(client)
        result = {"sent": len(report.sent), "remaining": report.remaining, "stopped_early": report.stopped_early}
print(json.dumps(result), flush=True)
"""


class PacedRelay:
    """A loopback TCP relay to `upstream_port` that paces client-to-server bytes and counts them."""

    def __init__(self, upstream_port: int, bytes_per_second: int):
        self.upstream_port = upstream_port
        self.rate = bytes_per_second
        self.forwarded = 0
        self.swallow_answers = False  # when set, the service's answer never reaches the app
        self.answered = threading.Event()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket, paced: bool) -> None:
        try:
            while data := source.recv(32 << 10):
                if paced:
                    self.forwarded += len(data)
                    time.sleep(len(data) / self.rate)
                elif self.swallow_answers:
                    self.answered.set()
                    continue
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()

    def close(self) -> None:
        self.server.close()


def run_sender(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", SENDER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


@pytest.fixture
def submission(tmp_path: Path, workspace):
    """A service, a fan with a certificate and a grant, and a signed 40 s export (about 7 MB) ready to submit."""
    from fanremix.domain.recipe import Recipe
    from fanremix.provenance_flow import export_with_provenance
    from fanremix.rights.packfile import open_pack, read_manifest_unverified

    data_dir = tmp_path / "service"
    service = LocalService.start(data_dir, service_args=UNLIMITED)
    key = PublisherKey.generate()
    workspace.keyring().trust(key.public_key, name="Label", source="test")
    pack_path = build_unique_pack(tmp_path / "pack", key, seconds=40.0)
    with client_for(service) as publisher:
        publisher.register(unique("crash-label"), PASSWORD, role="publisher")
        publisher.register_pack(read_manifest_unverified(pack_path), public_key_pem(key.public_key))
    fan = client_for(service)
    fan.register(unique("crash-fan"), PASSWORD)
    identity = fan_identity(fan)
    with open_pack(pack_path, workspace.keyring()) as opened:
        manifest = opened.manifest
        recipe = Recipe.for_stems(manifest.id, manifest.pack_hash(), [s.id for s in manifest.stems])
        grant = fan.grant(recipe)
        destination = tmp_path / "remix.wav"
        export_with_provenance(opened, recipe, destination, "wav", identity, grant, render=mix_render)
    yield {"service": service, "fan": fan, "file": destination, "data_dir": data_dir}
    fan.close()
    service.stop()


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", ["mid-upload", "after-upload", "answer-lost"])
def test_a_submission_survives_the_service_being_killed_and_exists_exactly_once(
    kill_at: str, submission, tmp_path: Path
) -> None:
    service: LocalService = submission["service"]
    size = submission["file"].stat().st_size
    outbox_dir = tmp_path / "outbox"
    relay = PacedRelay(int(service.url.rsplit(":", 1)[1]), UPLOAD_BYTES_PER_SECOND)
    env = dict(os.environ)
    try:
        sender = run_sender(
            [
                f"http://127.0.0.1:{relay.port}",
                submission["fan"].token,
                str(outbox_dir),
                "submit",
                str(submission["file"]),
            ],
            env,
        )
        assert sender.stdout.readline().strip() == "SENDING"
        if kill_at == "answer-lost":  # the service stored it and answered; the answer is lost with the service
            relay.swallow_answers = True
            assert relay.answered.wait(30)
        else:
            threshold = size // 3 if kill_at == "mid-upload" else size + 1
            deadline = time.monotonic() + 30
            while relay.forwarded < threshold and time.monotonic() < deadline:
                time.sleep(0.005)
        forwarded_at_kill = relay.forwarded
        service.process.send_signal(signal.SIGKILL)  # the service dies, not the app
        service.process.wait(10)
        outcome = json.loads(sender.stdout.readline())
        sender.wait(30)
    finally:
        relay.close()
    print(f"\nkilled {kill_at}: {forwarded_at_kill} of {size} bytes through; the app saw {outcome}")
    if kill_at == "mid-upload":
        assert forwarded_at_kill < size
        assert outcome == {"sent": False, "error": "OfflineError"}
    assert not outcome["sent"] or len(list(outbox_dir.iterdir())) == 0

    # the service comes back (same data folder); the app starts again and flushes its outbox
    restarted = LocalService.start(submission["data_dir"], service_args=UNLIMITED)
    try:
        with client_for(restarted, token=submission["fan"].token) as fan:
            stored_before_resend = len(fan.submissions())  # 1: the service had committed it when it died
        assert stored_before_resend == (1 if kill_at == "answer-lost" else stored_before_resend)
        flusher = run_sender([restarted.url, submission["fan"].token, str(outbox_dir), "flush"], env)
        flushed = json.loads(flusher.stdout.readline())
        flusher.wait(30)
        print(f"after the restart ({stored_before_resend} stored before the resend) the outbox sent: {flushed}")
        assert flushed["remaining"] == 0 and not flushed["stopped_early"]
        with client_for(restarted, token=submission["fan"].token) as fan:
            rows = fan.submissions()
        assert len(rows) == 1, f"{len(rows)} submissions exist for one upload"
        assert rows[0].status == "accepted"
        assert [p.name for p in outbox_dir.iterdir() if not p.name.startswith(".")] == []
    finally:
        restarted.stop()
