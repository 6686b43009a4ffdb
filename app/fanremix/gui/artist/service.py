"""The artist window's link to the rights service, as the publisher.

Which service: the same as the rest of the app (FANREMIX_SERVICE_URL, then `<config>/service.json`, else a local
service started on loopback, or reused when another window started one). The publisher's API token is
kept apart from a fan's token for the same service (its own key in the token store), so signing in as the label in
artist mode does not sign the fan out of the remix window.

Every network call runs on a worker with a `RightsClient` made for that job alone (a requests session is not shared
between threads); results come back on the GUI thread through the `JobRunner`.
"""

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from fanremix.local_service import LOCAL_TOKEN_KEY, FixedKeyTokenStore
from fanremix.workspace import Workspace

from ..workers import Job, JobContext, JobRunner

if TYPE_CHECKING:
    from fanremix.local_service import LocalService
    from fanremix.rights.client import Account, RightsClient

GUI_RETRIES = 3  # an unreachable service gives up after a few quick retries: the artist is waiting
PUBLISHER_TOKEN_SUFFIX = " (publisher)"


class PublisherTokenStore(FixedKeyTokenStore):
    """Files the publisher's token under its own key (the service's URL, or the local service's fixed name, plus a
    suffix), in the same store as the fan's."""

    def __init__(self, store: Any, key: str):
        super().__init__(store, key + PUBLISHER_TOKEN_SUFFIX)


class ArtistServiceLink(QObject):
    account_changed = Signal(object)  # Account, or None when signed out
    state_changed = Signal(str)  # words for the window

    def __init__(self, workspace: Workspace, runner: JobRunner, parent: QObject | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.runner = runner
        self.account: Account | None = None
        self.url = ""
        self.is_local = True
        self.last_error = ""
        self._lock = threading.Lock()
        self._owned: list[LocalService] = []
        self._local_url = ""
        self._account_serial = 0  # counts sign-ins and sign-outs, so an older answer cannot undo a newer one
        self.connected_once = False

    # -- worker side -----------------------------------------------------------------------------------------
    def resolve_in_worker(self) -> tuple[str, bool]:
        import fanremix.rights.client  # noqa: F401  (also loads the errors jobs fail with)
        from fanremix.submit_flow import service_url

        configured = service_url(self.workspace).rstrip("/")
        if configured:
            return configured, False
        from fanremix.local_service import ensure_local_service, is_healthy

        with self._lock:
            if not self._local_url or not is_healthy(self._local_url):
                service = ensure_local_service(self.workspace)
                if service.process is not None:
                    self._owned.append(service)
                self._local_url = service.url
            return self._local_url, True

    def client_in_worker(self, url: str, local: bool) -> "RightsClient":
        from fanremix.rights.client import RightsClient, ServiceConfig, TokenStore, default_retry

        config_dir = self.workspace.paths.config
        store = PublisherTokenStore(TokenStore(config_dir), LOCAL_TOKEN_KEY if local else url)
        ca_bundle = None if local else ServiceConfig.load(config_dir).ca_bundle
        return RightsClient(url, ca_bundle=ca_bundle, retry=default_retry(total=GUI_RETRIES), token_store=store)

    # -- GUI side ---------------------------------------------------------------------------------------------
    def run(self, name: str, work: Callable[["RightsClient", JobContext], Any]) -> Job:
        """Run `work(client, ctx)` on a worker with a client of the service, signed in as the publisher if possible."""

        def job_work(ctx: JobContext) -> Any:
            url, local = self.resolve_in_worker()
            client = self.client_in_worker(url, local)
            try:
                return url, local, work(client, ctx)
            finally:
                client.close()

        job = self.runner.start(name, job_work)
        job.finished.connect(self._answered)
        serial = self._account_serial
        job.failed.connect(lambda error: self._failed(error, serial))
        return job

    def _answered(self, result: Any) -> None:
        self.url, self.is_local, _value = result
        self.last_error = ""
        self.state_changed.emit(self.words())

    def _failed(self, error: BaseException, serial: int) -> None:
        client = _client_module()
        signed_out = (
            client is not None
            and isinstance(error, client.UnauthorisedError)
            and (error.status == 401 or error.code == "auth.required")
        )
        # 401: the service no longer accepts the token; auth.required: the job found no token. Either way the page
        # asks for a sign-in again rather than offering what would fail, unless a sign-in since the job started
        # knows better.
        if signed_out and serial == self._account_serial:
            self.set_account(None)
        self.last_error = str(error)
        self.state_changed.emit(self.words())

    def connect_service(self) -> Job:
        def work(client: "RightsClient", _ctx: JobContext) -> "Account | None":
            from fanremix.rights.client import UnauthorisedError

            client.health()
            if not client.signed_in:
                return None
            try:
                return client.me()
            except UnauthorisedError:
                return None

        serial = self._account_serial

        def connected(result: Any) -> None:
            if serial == self._account_serial:  # a sign-in or sign-out since then knows better
                self.set_account(result[2])

        job = self.run("artist-connect", work)
        job.finished.connect(connected)
        self.connected_once = True
        return job

    def _account_job(self, name: str, work: Callable[["RightsClient", JobContext], Any]) -> Job:
        self._account_serial += 1
        job = self.run(name, work)
        job.finished.connect(lambda result: self.set_account(result[2]))
        return job

    def register(self, name: str, password: str) -> Job:
        return self._account_job("artist-register", lambda c, _ctx: c.register(name, password, role="publisher"))

    def login(self, name: str, password: str) -> Job:
        return self._account_job("artist-login", lambda c, _ctx: c.login(name, password))

    def logout(self) -> Job:
        return self._account_job("artist-logout", lambda c, _ctx: c.logout())

    def set_account(self, account: "Account | None") -> None:
        if account != self.account:
            self.account = account
            self.account_changed.emit(account)
        self.state_changed.emit(self.words())

    def words(self) -> str:
        where = (
            f"the local rights service on this computer ({self.url})" if self.is_local and self.url else self.url
        ) or "the rights service (not connected yet)"
        who = f"signed in as {self.account.name} ({self.account.role})" if self.account else "not signed in"
        text = f"Using {where}; {who}."
        if self.last_error:
            text += f"\nLast problem: {self.last_error}"
        return text

    def shutdown(self) -> None:
        """Stop the local service if this window started it."""
        with self._lock:
            owned, self._owned = self._owned, []
        for service in owned:
            service.clear_state()
            service.stop()


def _client_module() -> Any:
    import sys

    return sys.modules.get("fanremix.rights.client")
