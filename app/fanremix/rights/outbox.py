"""The outbox: submissions that could not be sent yet, kept durably until the service has them.

Each entry is a folder `<outbox>/<entry id>/` holding a copy of the file (and its sidecar), and `entry.json` with the
idempotency key chosen when the entry was made. An entry is built in a hidden staging folder, every file is fsynced,
and the folder is renamed into place (then the outbox folder is fsynced): after a crash an entry is either complete or
absent. A send always uses the entry's own key, so however often it is resent (a lost answer, a crash before the entry
was removed) the service records it once. An entry is removed only after the service has answered with a submission,
accepted or rejected: renamed away first, then deleted, so no half-removed entry is ever taken for a real one.

Nothing here talks HTTP: `send` takes any client with `submit(path, idempotency_key=..., sidecar=...)` (in practice
`fanremix.rights.client.RightsClient`), and an error whose `transient` attribute is true leaves the entry queued.
"""

import contextlib
import datetime as dt
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from fanremix.domain.atomic import atomic_write_bytes
from fanremix.domain.errors import FanRemixError

ENTRY_FILE = "entry.json"
STAGING_PREFIX = ".staging-"
REMOVING_PREFIX = ".removing-"
_CHUNK = 1 << 20


class OutboxError(FanRemixError):
    """The outbox folder cannot be written or read."""


class SubmittingClient(Protocol):
    def submit(self, path: Path, idempotency_key: str | None = None, sidecar: Path | None = None) -> Any: ...


@dataclass(frozen=True)
class OutboxEntry:
    entry_id: str
    folder: Path
    idempotency_key: str
    file_name: str
    sidecar_name: str | None
    created_at: str
    attempts: int = 0
    last_error: str | None = None
    last_attempt_at: str | None = None
    label: str = ""

    @property
    def path(self) -> Path:
        return self.folder / self.file_name

    @property
    def sidecar(self) -> Path | None:
        return self.folder / self.sidecar_name if self.sidecar_name else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": 1,
            "id": self.entry_id,
            "idempotency_key": self.idempotency_key,
            "file": self.file_name,
            "sidecar": self.sidecar_name,
            "created_at": self.created_at,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "last_attempt_at": self.last_attempt_at,
            "label": self.label,
        }

    @classmethod
    def read(cls, folder: Path) -> "OutboxEntry":
        data = json.loads((folder / ENTRY_FILE).read_text("utf-8"))
        return cls(
            entry_id=str(data["id"]),
            folder=folder,
            idempotency_key=str(data["idempotency_key"]),
            file_name=str(data["file"]),
            sidecar_name=data.get("sidecar"),
            created_at=str(data["created_at"]),
            attempts=int(data.get("attempts", 0)),
            last_error=data.get("last_error"),
            last_attempt_at=data.get("last_attempt_at"),
            label=str(data.get("label", "")),
        )


@dataclass
class FlushReport:
    sent: list[tuple[OutboxEntry, Any]] = field(default_factory=list)  # entry, the service's submission
    failed: list[tuple[OutboxEntry, FanRemixError]] = field(default_factory=list)  # kept: not transient
    remaining: int = 0
    stopped_early: bool = False  # the service was unreachable, so the rest were not tried


@dataclass(frozen=True)
class SubmitOutcome:
    submission: Any | None  # the service's answer, when it was sent now
    queued: OutboxEntry | None  # the entry left in the outbox, when it was not
    error: FanRemixError | None = None


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_synced(source: Path, target: Path) -> None:
    with source.open("rb") as src, target.open("wb") as dst:
        while chunk := src.read(_CHUNK):
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())


class Outbox:
    """A folder of pending submissions (by default `<data dir>/outbox`)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def _ensure(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutboxError(f"Cannot create the outbox folder {self.folder}: {exc.strerror}.") from None

    # -- adding and listing ------------------------------------------------------------------------------------
    def add(
        self, path: Path, *, sidecar: Path | None = None, idempotency_key: str | None = None, label: str = ""
    ) -> OutboxEntry:
        """Copy `path` (and `sidecar`) into the outbox durably; return the entry. The key is fixed from now on."""
        self._ensure()
        path = Path(path)
        entry_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:8]
        staging = self.folder / f"{STAGING_PREFIX}{entry_id}"
        entry = OutboxEntry(
            entry_id=entry_id,
            folder=self.folder / entry_id,
            idempotency_key=idempotency_key or "sub-" + uuid.uuid4().hex,
            file_name="audio" + path.suffix.lower(),
            sidecar_name=None if sidecar is None else "sidecar.c2pa",
            created_at=_now(),
            label=label or path.name,
        )
        try:
            staging.mkdir()
            _copy_synced(path, staging / entry.file_name)
            if sidecar is not None and entry.sidecar_name:
                _copy_synced(Path(sidecar), staging / entry.sidecar_name)
            atomic_write_bytes(staging / ENTRY_FILE, json.dumps(entry.to_dict(), indent=2).encode("utf-8"))
            _fsync_dir(staging)
            staging.rename(entry.folder)
            _fsync_dir(self.folder)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise OutboxError(
                f"Could not put {path.name} in the outbox ({exc.strerror or exc}); nothing was queued."
            ) from None
        return entry

    def entries(self) -> list[OutboxEntry]:
        """Complete entries, oldest first. Staging folders a crash left behind are cleaned up, never listed."""
        if not self.folder.is_dir():
            return []
        found = []
        for folder in sorted(self.folder.iterdir()):
            if not folder.is_dir():
                continue
            if folder.name.startswith((STAGING_PREFIX, REMOVING_PREFIX)):
                shutil.rmtree(folder, ignore_errors=True)
                continue
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                found.append(OutboxEntry.read(folder))
        return found

    def __len__(self) -> int:
        return len(self.entries())

    def __iter__(self) -> Iterator[OutboxEntry]:
        return iter(self.entries())

    def remove(self, entry: OutboxEntry) -> None:
        doomed = self.folder / f"{REMOVING_PREFIX}{entry.entry_id}"
        try:
            entry.folder.rename(doomed)
        except FileNotFoundError:
            return
        _fsync_dir(self.folder)
        shutil.rmtree(doomed, ignore_errors=True)

    def _record_attempt(self, entry: OutboxEntry, error: str | None) -> OutboxEntry:
        updated = replace(entry, attempts=entry.attempts + 1, last_error=error, last_attempt_at=_now())
        with contextlib.suppress(OSError):
            atomic_write_bytes(entry.folder / ENTRY_FILE, json.dumps(updated.to_dict(), indent=2).encode("utf-8"))
        return updated

    # -- sending -----------------------------------------------------------------------------------------------
    def send(self, client: SubmittingClient, entry: OutboxEntry) -> Any:
        """Send one entry with its own idempotency key; remove it once the service has answered with a submission.

        Errors propagate; the entry stays (with the attempt and the error recorded).
        """
        try:
            submission = client.submit(entry.path, idempotency_key=entry.idempotency_key, sidecar=entry.sidecar)
        except FanRemixError as exc:
            self._record_attempt(entry, exc.message)
            raise
        self.remove(entry)
        return submission

    def submit(
        self, client: SubmittingClient, path: Path, *, sidecar: Path | None = None, idempotency_key: str | None = None
    ) -> SubmitOutcome:
        """Queue `path` durably, then try to send it now. A transient failure leaves it queued for `flush`.

        A failure that trying again cannot mend (signed out, a file the service refuses to take) takes the copy out
        of the outbox again and is raised: nothing was submitted, the file is still where it was, and the person is
        told why. Keeping the copy would send it later behind their back, after they had submitted it again
        themselves, and the service would then hold two submissions of one remix."""
        entry = self.add(path, sidecar=sidecar, idempotency_key=idempotency_key)
        try:
            return SubmitOutcome(submission=self.send(client, entry), queued=None)
        except FanRemixError as exc:
            if getattr(exc, "transient", False):
                return SubmitOutcome(submission=None, queued=OutboxEntry.read(entry.folder), error=exc)
            self.remove(entry)
            raise

    def find(self, entry_id: str) -> OutboxEntry:
        for entry in self.entries():
            if entry.entry_id == entry_id or entry.idempotency_key == entry_id:
                return entry
        raise OutboxError(f"Nothing in the outbox is called '{entry_id}'; `fanremix outbox` lists what waits there.")

    def flush(
        self,
        client: SubmittingClient,
        *,
        on_sent: Callable[[OutboxEntry, Any], None] | None = None,
    ) -> FlushReport:
        """Try every entry, oldest first. Stops at the first transient failure (the service is down or busy: the
        rest would fail too); a non-transient failure is reported and the entry kept for a person to look at."""
        report = FlushReport()
        for entry in self.entries():
            try:
                submission = self.send(client, entry)
            except FanRemixError as exc:
                if getattr(exc, "transient", False):
                    report.stopped_early = True
                    break
                report.failed.append((entry, exc))
                continue
            report.sent.append((entry, submission))
            if on_sent is not None:
                on_sent(entry, submission)
        report.remaining = len(self)
        return report
