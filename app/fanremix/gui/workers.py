"""Background jobs whose results come back on the GUI thread.

A `Job` is a QObject that lives on the GUI thread. Its work runs on a `QThreadPool` thread and reports through
private signals that are connected, queued, to the job's own slots; those re-emit the public signals on the GUI
thread. So whatever is connected to `finished`, `failed` or `progress` (a method, a lambda, a test's waitSignal)
runs on the GUI thread, never on the worker.

The work function receives a `JobContext`: `ctx.progress(stage, fraction)` to report, and `ctx.cancelled` (a
`threading.Event`) to check. Progress reports are throttled so a chatty loop cannot flood the event queue.
"""

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

PROGRESS_INTERVAL_S = 0.05  # at most ~20 progress events a second reach the GUI


class JobContext:
    """What a work function gets: a progress reporter and the cancel flag."""

    def __init__(self, job: "Job"):
        self._job = job
        self.cancelled = threading.Event()
        self._last_report = 0.0

    def progress(self, stage: str, fraction: float) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self._last_report < PROGRESS_INTERVAL_S:
            return
        self._last_report = now
        self._job._progress_from_worker.emit(str(stage), float(max(0.0, min(1.0, fraction))))

    def cancel_requested(self) -> bool:
        return self.cancelled.is_set()


class Job(QObject):
    """One piece of background work. Emits exactly one of `finished(result)` or `failed(error)`."""

    finished = Signal(object)
    failed = Signal(object)  # the exception (FanRemixError subclasses carry a message for people)
    progress = Signal(str, float)
    done = Signal()  # after finished or failed

    _result_from_worker = Signal(object)
    _error_from_worker = Signal(object)
    _progress_from_worker = Signal(str, float)

    def __init__(self, name: str, work: Callable[[JobContext], Any], parent: QObject | None = None):
        super().__init__(parent)
        self.name = name
        self._work = work
        self.context = JobContext(self)
        self.result: Any = None
        self.error: BaseException | None = None
        self.is_done = False
        self.started_at = 0.0
        self._result_from_worker.connect(self._on_result, Qt.ConnectionType.QueuedConnection)
        self._error_from_worker.connect(self._on_error, Qt.ConnectionType.QueuedConnection)
        self._progress_from_worker.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)

    def cancel(self) -> None:
        self.context.cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self.context.cancelled.is_set()

    # -- worker side ----------------------------------------------------------------------------------------
    def run_in_worker(self) -> None:
        try:
            result = self._work(self.context)
        except BaseException as exc:  # delivered to the GUI thread; nothing may escape a pool thread
            exc.__traceback_text__ = traceback.format_exc()  # type: ignore[attr-defined]
            self._error_from_worker.emit(exc)
        else:
            self._result_from_worker.emit(result)

    # -- GUI side -------------------------------------------------------------------------------------------
    @Slot(object)
    def _on_result(self, result: Any) -> None:
        self.result = result
        self.is_done = True
        self.finished.emit(result)
        self.done.emit()

    @Slot(object)
    def _on_error(self, error: BaseException) -> None:
        self.error = error
        self.is_done = True
        self.failed.emit(error)
        self.done.emit()

    @Slot(str, float)
    def _on_progress(self, stage: str, fraction: float) -> None:
        if not self.is_done:
            self.progress.emit(stage, fraction)


class _Runnable(QRunnable):
    def __init__(self, job: Job):
        super().__init__()
        self.job = job
        self.setAutoDelete(True)

    def run(self) -> None:
        self.job.run_in_worker()


class JobRunner(QObject):
    """Starts jobs on a thread pool and keeps them alive until they are done."""

    def __init__(self, parent: QObject | None = None, max_threads: int = 4):
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        self._running: set[Job] = set()

    def start(self, name: str, work: Callable[[JobContext], Any]) -> Job:
        job = Job(name, work)  # no Qt parent: Python references keep it alive, the runner's set until it is done
        self._running.add(job)
        job.done.connect(lambda job=job: self._forget(job))
        job.started_at = time.monotonic()
        self.pool.start(_Runnable(job))
        return job

    def _forget(self, job: Job) -> None:
        self._running.discard(job)

    @property
    def running(self) -> tuple[Job, ...]:
        return tuple(self._running)

    def cancel_all(self) -> None:
        for job in self._running:
            job.cancel()

    def wait_for_done(self, timeout_ms: int = 30_000) -> bool:
        """Block until the pool is idle (used at shutdown only)."""
        return self.pool.waitForDone(timeout_ms)
