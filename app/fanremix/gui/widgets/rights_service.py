"""The app's link to the rights service: which service, whether it answers, who is signed in, what waits in the
outbox; and the status-bar label that shows it.

Which service: the URL in `<config>/service.json` (the Account dialog's Service tab, or `fanremix account use URL`),
overridden by FANREMIX_SERVICE_URL. Empty means the local service: `fanremix.local_service` starts one as a subprocess
on loopback (or reuses one another window started), the demo pack is registered with it, and the app stops it on
quit if the app started it.

Everything that touches the network (and starting the local service) runs through the `JobRunner`. A work function
gets a `RightsClient` made on the worker for that job alone: a requests session is not shared between threads.
The client modules are imported on workers (and warmed up by `launch` at start-up), never on the GUI thread.
"""

import contextlib
import html
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from fanremix.domain.errors import FanRemixError
from fanremix.local_service import LOCAL_TOKEN_KEY, FixedKeyTokenStore
from fanremix.submit_flow import outbox_for, service_url
from fanremix.workspace import Workspace

from ..workers import Job, JobContext, JobRunner

if TYPE_CHECKING:
    from fanremix.local_service import LocalService
    from fanremix.rights.client import Account, RightsClient
    from fanremix.rights.identity import TrustAnchors
    from fanremix.rights.outbox import Outbox

# The GUI gives up on an unreachable service after a few quick retries (about 3 s): the fan is waiting, and the
# outbox resends later anyway. The command line keeps the client's longer default.
GUI_RETRIES = 3
RETRY_INTERVAL_MS = 60_000  # while offline, or while submissions wait in the outbox, try again this often


class ServiceState(StrEnum):
    IDLE = "not connected yet"
    STARTING = "starting"
    READY = "ready"
    OFFLINE = "offline"


@dataclass(frozen=True)
class ConnectInfo:
    account: "Account | None"
    ca_certificate_pem: bytes
    waiting: int


def is_offline(error: BaseException) -> bool:
    """The service could not be reached, or the local one could not be started."""
    local = _loaded("fanremix.local_service")
    if local is not None and isinstance(error, local.LocalServiceError):
        return True
    client = _loaded("fanremix.rights.client")
    return client is not None and isinstance(error, client.OfflineError)


def is_signed_out(error: BaseException) -> bool:
    """The service does not accept the token (or there is none): the fan must sign in."""
    client = _loaded("fanremix.rights.client")
    if client is None or not isinstance(error, client.UnauthorisedError):
        return False
    return error.status == 401 or error.code == "auth.required"


def _loaded(module: str) -> Any:
    """A module if it is loaded, else None. An error of its types can only exist once it is: the workers import
    these modules before they can fail with their errors, so the GUI thread never pays for the import."""
    return sys.modules.get(module)


class RightsServiceLink(QObject):
    """The GUI's adapter over the rights service. Lives on the GUI thread; its `*_in_worker` methods run on workers."""

    state_changed = Signal(str)  # the status-bar words
    account_changed = Signal(object)  # Account, or None when signed out
    outbox_changed = Signal(int)  # how many submissions wait in the outbox
    submissions_changed = Signal()  # something was submitted, or sent from the outbox
    _local_starting = Signal()  # emitted on a worker that is about to start the local service

    def __init__(self, workspace: Workspace, runner: JobRunner, parent: QObject | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.runner = runner
        self.state = ServiceState.IDLE
        self.account: Account | None = None
        self.url = ""  # the service in use, once known
        self.identity_passphrase: bytes | None = None  # unlocks a protected signing key; memory only, this session
        self.token_file: Path | None = None  # where the sign-in token is kept when there is no OS keyring
        self.is_local = True
        self.waiting = 0
        self.last_error = ""
        self.retry: Any = None  # a urllib3 Retry for the clients; None: GUI_RETRIES quick retries
        self._service_ca_pem: bytes | None = None
        self._lock = threading.Lock()  # guards starting the local service and the lists below
        self._owned: list[LocalService] = []  # local services this app started (stopped at quit)
        self._registered: set[str] = set()  # local service URLs the demo pack was registered with
        self._resolved: tuple[str, bool] = ("", True)
        self._connect_job: Job | None = None
        self._flush_job: Job | None = None
        self._shut_down = False
        self._starting_local = False
        self._local_starting.connect(self._on_local_starting, Qt.ConnectionType.QueuedConnection)
        self.retry_timer = QTimer(self)
        self.retry_timer.setInterval(RETRY_INTERVAL_MS)
        self.retry_timer.timeout.connect(self.connect_service)

    # -- which service ---------------------------------------------------------------------------------------
    def configured_url(self) -> str:
        """FANREMIX_SERVICE_URL, else the URL in `<config>/service.json` (what `fanremix account use` writes), or ""
        for the local service. Any thread: it reads a small file."""
        return service_url(self.workspace).rstrip("/")

    def outbox(self) -> "Outbox":
        """The outbox the command line uses too (`fanremix outbox`)."""
        return outbox_for(self.workspace)

    def service_words(self) -> str:
        """The service in a few words, for dialogs."""
        if self.is_local:
            where = f" ({self.url})" if self.url else ""
            return f"the local rights service on this computer{where}"
        return f"the rights service at {self.url}"

    @property
    def short_name(self) -> str:
        if self.is_local:
            return "local"
        return urlsplit(self.url).netloc or self.url

    # -- worker side ---------------------------------------------------------------------------------------------
    def resolve_in_worker(self, ctx: JobContext | None = None) -> tuple[str, bool]:
        """(url, is_local): the configured service, or a local one that answers (started here if need be)."""
        import fanremix.rights.client  # noqa: F401  (loaded before anything can fail with its errors)

        configured = self.configured_url()
        if configured:
            self._resolved = (configured, False)
            return self._resolved
        from fanremix.local_service import (
            LocalService,
            LocalServiceError,
            ensure_local_service,
            is_healthy,
            register_demo_pack,
        )

        with self._lock:
            if self._shut_down:
                raise LocalServiceError("The app is closing; the local rights service is not started again.")
            url = self._resolved[0] if self._resolved[1] else ""
            if not url or not is_healthy(url):
                self._local_starting.emit()
                if ctx is not None:
                    ctx.progress("service", 0.0)
                service: LocalService = ensure_local_service(self.workspace)
                if service.process is not None:
                    self._owned.append(service)
                url = service.url
            if url not in self._registered and self.workspace.paths.demo_pack.exists():
                # what a first-time fan remixes; a failure here shows up as the pack being unknown to the service
                with contextlib.suppress(FanRemixError):
                    register_demo_pack(url, self.workspace)
                    self._registered.add(url)
            self._resolved = (url, True)
            return self._resolved

    def client_in_worker(self, url: str, local: bool) -> "RightsClient":
        from fanremix.rights.client import RightsClient, ServiceConfig, TokenStore, default_retry

        config_dir = self.workspace.paths.config
        store: Any = TokenStore(config_dir)
        self.token_file = None if store.uses_keyring else store.file  # the account dialog says so
        ca_bundle = None
        if local:
            store = FixedKeyTokenStore(store, LOCAL_TOKEN_KEY)
        else:
            ca_bundle = ServiceConfig.load(config_dir).ca_bundle
        retry = self.retry if self.retry is not None else default_retry(total=GUI_RETRIES)
        return RightsClient(url, ca_bundle=ca_bundle, retry=retry, token_store=store)

    @contextlib.contextmanager
    def connected_client(self, ctx: JobContext | None = None) -> Iterator["RightsClient"]:
        """On a worker: a client of the service in use, signed in with the stored token if there is one."""
        url, local = self.resolve_in_worker(ctx)
        client = self.client_in_worker(url, local)
        try:
            yield client
        finally:
            client.close()

    def service_trust_anchors(self) -> "TrustAnchors | None":
        """The configured service's CA as a trust anchor: records it certified count as Trusted. Not the local
        service's: like the development CA, it vouches for nobody beyond this computer."""
        pem = self._service_ca_pem
        if pem is None or self.is_local:
            return None
        from fanremix.rights.identity import TrustAnchors

        return TrustAnchors.from_pem(pem, f"the rights service at {self.url}")

    # -- GUI side ----------------------------------------------------------------------------------------------
    def run(self, name: str, work: Callable[["RightsClient", JobContext], Any]) -> Job:
        """Run `work(client, ctx)` on a worker with a connected client; the service state follows the outcome."""

        def job_work(ctx: JobContext) -> Any:
            with self.connected_client(ctx) as client:
                return work(client, ctx)

        if self.state in (ServiceState.IDLE, ServiceState.OFFLINE):
            self._set_state(ServiceState.STARTING)
        job = self.runner.start(name, job_work)
        job.finished.connect(lambda _result: self._answered())
        job.failed.connect(self._job_failed)
        return job

    def connect_service(self) -> Job | None:
        """Find (or start) the service, see who is signed in, and send what waits in the outbox."""
        if self._shut_down:
            return None
        if self._connect_job is not None and not self._connect_job.is_done:
            return self._connect_job
        outbox = self.outbox()

        def work(client: "RightsClient", _ctx: JobContext) -> ConnectInfo:
            from fanremix.rights.client import UnauthorisedError

            client.health()
            keys = client.keys()
            account = None
            if client.signed_in:
                with contextlib.suppress(UnauthorisedError):  # a token the service no longer knows: signed out
                    account = client.me()
            return ConnectInfo(account, keys.ca_certificate_pem, len(outbox.entries()))

        job = self.run("rights-connect", work)
        self._connect_job = job
        job.finished.connect(self._connected)
        return job

    def _connected(self, info: ConnectInfo) -> None:
        self._service_ca_pem = info.ca_certificate_pem
        self.set_account(info.account)
        self.set_waiting(info.waiting)
        if info.waiting and info.account is not None:
            self.send_outbox()

    def send_outbox(self) -> Job | None:
        """Send what waits in the outbox (each with its own idempotency key, so nothing is sent twice)."""
        if self._shut_down:
            return None
        if self._flush_job is not None and not self._flush_job.is_done:
            return self._flush_job
        outbox = self.outbox()
        job = self.run("outbox-send", lambda client, _ctx: outbox.flush(client))
        self._flush_job = job

        def flushed(report: Any) -> None:
            self.set_waiting(report.remaining)
            if report.sent:
                self.submissions_changed.emit()
            if report.stopped_early:
                self._set_state(ServiceState.OFFLINE)

        job.finished.connect(flushed)
        return job

    def refresh_waiting(self) -> Job:
        """Count the outbox again (on a worker: it reads the disk)."""
        outbox = self.outbox()
        job = self.runner.start("outbox-count", lambda _ctx: len(outbox.entries()))
        job.finished.connect(self.set_waiting)
        return job

    def set_account(self, account: "Account | None") -> None:
        if account != self.account:
            self.account = account
            self.account_changed.emit(account)
            self._emit_state()

    def set_waiting(self, count: int) -> None:
        if count != self.waiting:
            self.waiting = count
            self.outbox_changed.emit(count)
        self._update_retry_timer()
        self._emit_state()

    def note_submitted(self) -> None:
        """A submission reached the service: views of the submissions refresh."""
        self.submissions_changed.emit()

    def note_offline(self, error: BaseException | None = None) -> None:
        if error is not None:
            self.last_error = str(error)
        self._set_state(ServiceState.OFFLINE)

    def _answered(self) -> None:
        self.url, self.is_local = self._resolved
        self._starting_local = False
        self._set_state(ServiceState.READY)

    def _job_failed(self, error: BaseException) -> None:
        if is_offline(error):
            self.note_offline(error)
            return
        self.url, self.is_local = self._resolved
        if is_signed_out(error):
            self.set_account(None)
        if self._resolved[0]:  # the service was found (and, being reachable, answered or was not needed)
            self._set_state(ServiceState.READY)
        elif self.state == ServiceState.STARTING:
            self._set_state(ServiceState.IDLE)

    def _set_state(self, state: ServiceState) -> None:
        if state != ServiceState.OFFLINE:
            self.last_error = ""
        self.state = state
        self._update_retry_timer()
        self._emit_state()

    def _update_retry_timer(self) -> None:
        wanted = not self._shut_down and (self.state == ServiceState.OFFLINE or self.waiting > 0)
        if wanted and not self.retry_timer.isActive():
            self.retry_timer.start()
        elif not wanted:
            self.retry_timer.stop()

    def _on_local_starting(self) -> None:
        self._starting_local = True
        if self.state in (ServiceState.IDLE, ServiceState.STARTING, ServiceState.OFFLINE):
            self.is_local = True
            self._set_state(ServiceState.STARTING)

    def status_words(self) -> str:
        if self.state == ServiceState.STARTING:
            words = "local, starting…" if self._starting_local else "connecting…"
        elif self.state == ServiceState.READY:
            words = f"{self.short_name}, ready"
        else:
            words = str(self.state)
        text = f"rights service: {words}"
        if self.account is not None and self.state == ServiceState.READY:
            text += f" · {self.account.name}"
        if self.waiting:
            text += f" · {self.waiting} in the outbox"
        return text

    def _emit_state(self) -> None:
        self.state_changed.emit(self.status_words())

    def apply_setting(self, url: str, ca_bundle: str | None) -> Job:
        """Save the service setting (on a worker), forget the old service's sign-in state, and connect again."""
        from_local = self.is_local

        def work(_ctx: JobContext) -> None:
            from fanremix.rights.client import ServiceConfig

            ServiceConfig(url=url.rstrip("/"), ca_bundle=ca_bundle or None).save(self.workspace.paths.config)
            if url and from_local:
                self._stop_owned()  # a remote service replaces the local one

        job = self.runner.start("service-setting", work)

        def saved(_result: Any) -> None:
            self._resolved = ("", True)
            self.url, self.is_local = "", not url
            self._service_ca_pem = None
            self.set_account(None)
            self._set_state(ServiceState.IDLE)
            self.connect_service()

        job.finished.connect(saved)
        return job

    def _stop_owned(self) -> None:
        with self._lock:
            owned, self._owned = self._owned, []
            self._registered.clear()
        for service in owned:
            service.clear_state()
            service.stop()

    def shutdown(self) -> None:
        """At quit: stop the local service if this app started it (after a start still under way has finished)."""
        self._shut_down = True
        self.retry_timer.stop()
        self._stop_owned()  # takes the lock: a start under way on a worker finishes first, then it is stopped too

    @property
    def owned_services(self) -> list["LocalService"]:
        with self._lock:
            return list(self._owned)


class ServiceStatusLabel(QLabel):
    """The status-bar words for the rights service; clicking them opens the account dialog."""

    clicked = Signal()

    def __init__(self, link: RightsServiceLink, parent: QWidget | None = None):
        super().__init__(parent)
        self.link = link
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setAccessibleName("Rights service state")
        self.linkActivated.connect(lambda _href: self.clicked.emit())
        link.state_changed.connect(self.show_words)
        self.show_words(link.status_words())

    def show_words(self, words: str) -> None:
        self.words = words
        self._render_words()
        link = self.link
        lines = [f"Using {link.service_words()}."]
        lines.append(f"Signed in as {link.account.name} ({link.account.role})." if link.account else "Not signed in.")
        if link.waiting:
            lines.append(f"{link.waiting} submission(s) wait in the outbox; they are sent when the service answers.")
        if link.last_error:
            lines.append(link.last_error)
        lines.append("Click to sign in or to choose the service.")
        self.setToolTip("\n".join(lines))

    def _render_words(self) -> None:
        # Qt's rich text knows no `color: inherit` (a link would be drawn in the link colour, or black): name the
        # theme's muted colour, as the other status-bar words use, and redraw when the theme changes
        muted = QApplication.palette().color(QPalette.ColorRole.PlaceholderText).name()
        self.setText(f"<a href='#account' style='color:{muted}; text-decoration:none'>{html.escape(self.words)}</a>")

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "words"):
            self._render_words()
