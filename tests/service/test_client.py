"""The client: retries that honour Retry-After, timeouts, typed errors, TLS always verified, token storage."""

import json
import logging
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import keyring.backend
import keyring.core
import pytest

from fanremix.domain.errors import FanRemixError
from fanremix.local_service import free_port
from fanremix.rights.client import (
    OfflineError,
    RateLimitedError,
    RightsClient,
    ServerError,
    ServiceConfig,
    TokenStore,
    default_retry,
)
from fanremix.workspace import Workspace
from tests.conftest import MemoryKeyring


class ScriptedServer:
    """Answers each request with the next (status, headers, body) of a script; counts requests."""

    def __init__(self, script):
        self.script = list(script)
        self.times: list[float] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.times.append(time.monotonic())
                status, headers, body = server.script.pop(0) if len(server.script) > 1 else server.script[0]
                if status == "hang":
                    time.sleep(1.0)
                    status, headers, body = 200, {}, {"status": "ok"}
                data = json.dumps(body).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_429_and_5xx_are_retried_and_retry_after_is_honoured() -> None:
    script = [
        (429, {"Retry-After": "1"}, {"code": "rate_limited", "message": "wait"}),
        (503, {}, {}),
        (200, {}, {"ok": 1}),
    ]
    with ScriptedServer(script) as server:
        client = RightsClient(server.url, retry=default_retry(total=3, backoff_factor=0.01))
        assert client.health() == {"ok": 1}
    assert len(server.times) == 3
    assert server.times[1] - server.times[0] >= 0.95  # waited as long as Retry-After asked


def test_when_retries_run_out_the_error_is_typed_and_transient() -> None:
    with ScriptedServer([(500, {}, {"code": "server.error", "message": "The rights service failed."})]) as server:
        with pytest.raises(ServerError, match="failed") as failed:
            RightsClient(server.url, retry=default_retry(total=2, backoff_factor=0.01)).health()
        assert failed.value.transient and failed.value.status == 500
    busy = [(429, {"Retry-After": "0"}, {"code": "rate_limited", "message": "Too many."})]
    with ScriptedServer(busy) as server, pytest.raises(RateLimitedError):
        RightsClient(server.url, retry=default_retry(total=1, backoff_factor=0.01)).health()


def test_timeouts_and_refused_connections_become_offline_errors() -> None:
    with ScriptedServer([("hang", {}, {})]) as server:
        client = RightsClient(server.url, timeout=(1.0, 0.2), retry=default_retry(total=1, backoff_factor=0.01))
        with pytest.raises(OfflineError, match="Cannot reach") as offline:
            client.health()
        assert offline.value.transient
    with pytest.raises(OfflineError, match="outbox"):
        RightsClient(f"http://127.0.0.1:{free_port()}", retry=default_retry(total=1, backoff_factor=0.01)).health()


def test_tls_is_always_verified_and_a_ca_bundle_can_be_added(tmp_path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    assert RightsClient("https://rights.example")._session.verify is True
    assert RightsClient("https://rights.example", ca_bundle=bundle)._session.verify == str(bundle)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://rights.example.com", True),
        ("http://127.0.0.1:8765", True),
        ("http://localhost:8765", True),
        ("http://[::1]:8765", True),
        ("http://rights.example.com", False),  # the token and the remixes would cross the network unencrypted
        ("http://192.168.1.20:8765", False),
        ("ftp://rights.example.com", False),
        ("rights.example.com", False),
    ],
)
def test_plain_http_is_only_for_a_service_on_this_computer(url, allowed, tmp_path, capsys) -> None:
    from fanremix.cli import main

    if allowed:
        assert RightsClient(url).base_url == url
        assert ServiceConfig(url=url).url == url
        return
    with pytest.raises(FanRemixError):
        RightsClient(url)
    assert main(["account", "use", url]) == 1  # nothing is saved
    assert "error:" in capsys.readouterr().err
    assert ServiceConfig.load(Workspace.from_environment().paths.config).url == ""


def test_tokens_go_to_the_os_keyring_when_there_is_one(tmp_path) -> None:
    backend = MemoryKeyring()
    store = TokenStore(tmp_path, backend=backend)
    store.set("https://rights.example", "frt_secret")
    assert store.get("https://rights.example") == "frt_secret"
    assert not (tmp_path / "service-tokens.json").exists()
    store.delete("https://rights.example")
    assert store.get("https://rights.example") is None and backend.items == {}


def test_workers_asking_for_the_os_keyring_at_once_share_one_backend(tmp_path, monkeypatch) -> None:
    """keyring chooses its backend lazily, without a lock. When the GUI's connect and sign-in jobs made their first
    TokenStore together, each could install a backend object of its own, and the sign-in's token went to the one
    that lost: the next job found no token (the artist window's publish failed as "not signed in")."""
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)  # no backend chosen yet, as at start-up
    made: list[MemoryKeyring] = []
    second_detection = threading.Event()
    stores: dict[str, TokenStore] = {}
    worker = threading.Thread(target=lambda: stores.setdefault("worker", TokenStore(tmp_path / "b")))

    def detect(_limit=None):
        made.append(MemoryKeyring())
        if len(made) == 1:
            # while the first choice is being made, another worker asks: it must wait for this choice, not make its own
            worker.start()
            second_detection.wait(timeout=0.5)  # set only if the other worker makes a choice of its own
        else:
            second_detection.set()
        return made[-1]

    monkeypatch.setattr(keyring.core, "_detect_backend", detect)
    stores["first"] = TokenStore(tmp_path / "a")
    worker.join(timeout=10)
    assert len(made) == 1 and not second_detection.is_set()
    assert stores["first"]._backend is stores["worker"]._backend is made[0]
    stores["worker"].set("https://rights.example", "frt_secret")
    assert TokenStore(tmp_path / "c").get("https://rights.example") == "frt_secret"


def test_each_test_has_its_own_os_keyring_and_never_the_real_one(isolated_keyring) -> None:
    """A test's keyring is never keyring's own choice (a backend class keyring saw would be: one object for the whole
    run, so one test's sign-in signed in the app of later tests), nor the OS keyring of whoever runs the suite."""
    assert MemoryKeyring not in keyring.backend.KeyringBackend._classes
    assert keyring.get_keyring() is isolated_keyring and not isolated_keyring.items
    assert os.environ["PYTHON_KEYRING_BACKEND"] == "keyring.backends.fail.Keyring"  # for the processes tests start


def test_without_a_keyring_tokens_fall_back_to_a_private_file_with_a_warning(tmp_path, caplog) -> None:
    store = TokenStore(tmp_path, backend=False)
    with caplog.at_level(logging.WARNING, logger="fanremix.rights.client"):
        store.set("http://127.0.0.1:1", "frt_secret")
    assert "No OS keyring" in caplog.text
    path = tmp_path / "service-tokens.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert TokenStore(tmp_path, backend=False).get("http://127.0.0.1:1") == "frt_secret"
    client = RightsClient("http://127.0.0.1:1", token_store=TokenStore(tmp_path, backend=False))
    assert client.token == "frt_secret"
