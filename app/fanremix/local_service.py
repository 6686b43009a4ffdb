"""A rights service on this machine, for when none is configured: `make run` and the end-to-end tests use it.

`LocalService.start(data_dir)` runs `python -m fanremix.service` as a subprocess on a free loopback port, with its
SQLite database and keys in `data_dir`, waits until `/v1/health` answers, and `stop()` ends it (SIGTERM, then SIGKILL
after a grace period). `ensure_local_service(workspace)` reuses one that another app window started, found through
`<data>/service/local.json`.
"""

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .domain.atomic import atomic_write_bytes
from .domain.errors import FanRemixError

HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0
STOP_GRACE_S = 5.0
STATE_FILE = "local.json"
PUBLISHER_FILE = "local-publisher.json"


class LocalServiceError(FanRemixError):
    """The local rights service could not be started."""


LOCAL_TOKEN_KEY = "local-rights-service"  # the key the local service's token is filed under


class FixedKeyTokenStore:
    """A token store that files every token under one key, whatever the URL.

    The local service listens on a free port chosen at each start, so keying its token by URL (as `TokenStore` does)
    would sign the fan out at every start although the account (in the local database) is still there.
    """

    def __init__(self, store: Any, key: str):
        self.store = store
        self.key = key

    def get(self, _url: str) -> str | None:
        return self.store.get(self.key)

    def set(self, _url: str, token: str) -> None:
        self.store.set(self.key, token)

    def delete(self, _url: str) -> None:
        self.store.delete(self.key)


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def is_healthy(url: str, timeout: float = 1.0) -> bool:
    if not url.startswith(("http://", "https://")):  # the URL may come from local.json: never file:// or others
        return False
    health = url.rstrip("/") + "/v1/health"
    try:
        with urllib.request.urlopen(health, timeout=timeout) as response:  # nosec B310 # http(s) only: checked above
            return response.status == 200 and json.loads(response.read()).get("status") == "ok"
    except (OSError, ValueError, urllib.error.URLError):
        return False


@dataclass
class LocalService:
    """A rights service subprocess on loopback. Use as a context manager, or call `stop()`."""

    url: str
    data_dir: Path
    process: subprocess.Popen[bytes] | None = None  # None: reused, owned by someone else
    log_path: Path | None = None
    extra_args: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def start(
        cls,
        data_dir: Path,
        *,
        port: int | None = None,
        database_url: str | None = None,
        rate_per_minute: float | None = None,
        rate_burst: int | None = None,
        max_upload_mb: float | None = None,
        service_args: Sequence[str] = (),
        timeout: float = START_TIMEOUT_S,
    ) -> "LocalService":
        """Start `python -m fanremix.service`; `service_args` are passed on (e.g. `--auth-rate-burst 100`)."""
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        args: list[str] = list(service_args)
        if database_url:
            args += ["--db", database_url]
        if rate_per_minute is not None:
            args += ["--rate-per-minute", str(rate_per_minute)]
        if rate_burst is not None:
            args += ["--rate-burst", str(rate_burst)]
        if max_upload_mb is not None:
            args += ["--max-upload-mb", str(max_upload_mb)]
        last_error = ""
        for _attempt in range(3):  # a free port can be taken between choosing it and binding it; try another
            chosen = port or free_port()
            url = f"http://{HOST}:{chosen}"
            log_path = data_dir / "service.log"
            command = [sys.executable, "-m", "fanremix.service", "--data", str(data_dir), "--host", HOST]
            command += ["--port", str(chosen), "--log-level", "warning", *args]
            with log_path.open("ab") as log:
                process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            service = cls(url=url, data_dir=data_dir, process=process, log_path=log_path, extra_args=tuple(args))
            if service._wait_ready(timeout):
                return service
            service.stop()
            last_error = service.log_tail()
            if port:
                break
        raise LocalServiceError(f"The local rights service did not start. Its log ends with:\n{last_error}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        delay = 0.05
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                return False
            if is_healthy(self.url, timeout=1.0):
                return True
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
        return False

    def log_tail(self, lines: int = 20) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text("utf-8", "replace").splitlines()[-lines:])

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """End the subprocess this object started (never one it merely reused)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_GRACE_S)

    def __enter__(self) -> "LocalService":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- state shared between app windows ----------------------------------------------------------------------
    def write_state(self) -> None:
        if self.process is None:
            return
        state = {"url": self.url, "pid": self.process.pid}
        atomic_write_bytes(self.data_dir / STATE_FILE, json.dumps(state).encode("utf-8"), mode=0o600)

    def clear_state(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            state = json.loads((self.data_dir / STATE_FILE).read_text("utf-8"))
            if self.process is not None and state.get("pid") == self.process.pid:
                (self.data_dir / STATE_FILE).unlink()

    @classmethod
    def find_running(cls, data_dir: Path) -> "LocalService | None":
        """A local service another process started on `data_dir` and that still answers."""
        try:
            state = json.loads((Path(data_dir) / STATE_FILE).read_text("utf-8"))
            url = str(state["url"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return cls(url=url, data_dir=Path(data_dir)) if is_healthy(url) else None


def local_service_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "service"


def ensure_local_service(workspace: "object") -> LocalService:
    """The local service for this user: the running one if any, else a new subprocess (the caller stops it)."""
    data_dir = local_service_dir(workspace.paths.data)  # type: ignore[attr-defined]
    running = LocalService.find_running(data_dir)
    if running is not None:
        return running
    service = LocalService.start(data_dir)
    service.write_state()
    return service


def local_publisher_credentials(data_dir: Path) -> tuple[str, str]:
    """The name and password of the local service's own publisher account (made once, kept 0600)."""
    path = local_service_dir(data_dir) / PUBLISHER_FILE
    try:
        data = json.loads(path.read_text("utf-8"))
        return str(data["name"]), str(data["password"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    name, password = f"local-publisher-{secrets.token_hex(4)}", secrets.token_urlsafe(24)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, json.dumps({"name": name, "password": password}).encode("utf-8"), mode=0o600)
    os.chmod(path, 0o600)
    return name, password


def register_demo_pack(service_url: str, workspace: "object", pack_path: Path | None = None) -> str:
    """Register the demo pack (made if missing) with the service as its local publisher; return the pack id.

    The demo publisher key is public on purpose, so only a local service should accept its packs.
    """
    from .demo import make_demo_pack
    from .rights.client import RequestRefusedError, RightsClient, TokenStore
    from .rights.packfile import read_manifest_unverified
    from .rights.signing import public_key_pem
    from .workspace import demo_publisher_key

    paths = workspace.paths  # type: ignore[attr-defined]
    pack_path = pack_path or paths.demo_pack
    if not pack_path.exists():
        make_demo_pack(pack_path)
    manifest = read_manifest_unverified(pack_path)
    name, password = local_publisher_credentials(paths.data)
    with RightsClient(service_url, token_store=TokenStore(local_service_dir(paths.data), backend=False)) as client:
        try:
            client.login(name, password)
        except FanRemixError:
            try:
                client.register(name, password, role="publisher")
            except RequestRefusedError:
                client.login(name, password)
        client.register_pack(manifest, public_key_pem(demo_publisher_key().public_key))
    return manifest.id
