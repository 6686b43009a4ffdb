"""Start the desktop app: `launch(argv_pack, workspace)` is what `fanremix`, `fanremix gui PACK` and
`fanremix song.fanpack` call. With no pack it opens the demo song (made on a worker on the first run)."""

import contextlib
import importlib
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

from fanremix.workspace import Workspace

STARTUP_MARK_ENV = "FANREMIX_STARTUP_MARK"  # bench/startup.py: print the time the window showed the loaded pack
RIGHTS_SERVICE_DELAY_MS = 1000  # after the first pack is on screen: let its peaks and first paints go first


def launch(argv_pack: str | None, workspace: Workspace, *, use_device: bool = True) -> int:
    """Open the main window (with `argv_pack`, a .fanpack or .fanremix, or the demo song) and run until it closes.

    Returns the process exit code.
    """
    from .app import create_application, no_display_problem

    problem = no_display_problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    _warm_up_audio_imports()
    app = create_application(sys.argv[:1])
    from .main_window import MainWindow

    window = MainWindow(workspace, use_device=use_device)
    window.show()
    if os.environ.get(STARTUP_MARK_ENV):
        window.session_shown.connect(lambda _s: print(f"FANREMIX_WINDOW_SHOWN {time.time():.6f}", flush=True))
        window.session_loaded.connect(lambda _s: _print_startup_mark(app))
        window.load_failed.connect(lambda _e: app.exit(3))
    if argv_pack:
        window.open_path(Path(argv_pack))
    else:
        window.open_demo()
    window.offer_restore()
    connect_rights_service_after_first_load(window)
    close_on_termination_signals(app, window)
    return app.exec()


def close_on_termination_signals(app, window) -> None:
    """SIGTERM (logout, `kill`, a service manager) and SIGINT (Ctrl+C in a terminal) close the window as Quit does,
    but without a prompt: unsaved changes stay in the autosave, offered at the next start. The app then exits 0.

    Python runs signal handlers only between bytecodes on the main thread, and Qt's event loop runs none while idle;
    the wake-up fd makes the signal wake the loop, so the handler runs at once.
    """
    from PySide6.QtCore import QSocketNotifier

    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno())
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, app)

    def drain() -> None:
        with contextlib.suppress(OSError):
            reader.recv(64)

    notifier.activated.connect(drain)

    def close(_signum: int, _frame: object) -> None:
        _ = writer  # kept alive as long as the handler is installed
        window.close_without_asking()

    signal.signal(signal.SIGTERM, close)
    signal.signal(signal.SIGINT, close)


def connect_rights_service_after_first_load(window) -> None:
    """Connect to the rights service once the first pack is on screen (or could not be opened). With none configured
    the app starts its own local one: a subprocess that takes about a second of CPU, which the start-up should not
    share on a two-core machine. It runs on a worker, and the window stops it on quit."""
    from PySide6.QtCore import QTimer

    started = False

    def start(*_args) -> None:
        nonlocal started
        if not started:
            started = True
            QTimer.singleShot(RIGHTS_SERVICE_DELAY_MS, window, window.rights.connect_service)

    window.session_loaded.connect(start)
    window.load_failed.connect(start)


def _warm_up_audio_imports() -> None:
    """Import the preview engine's modules on a background thread while Qt and the window start up: they are
    needed as soon as the first pack is decoded, and importing them takes a good part of a second."""

    def warm() -> None:
        # on failure the loading worker imports it again and reports the error properly
        with contextlib.suppress(Exception):
            importlib.import_module("fanremix.audio.preview")
        # The rights service client (requests and its dependencies) is needed a moment after the first pack is
        # open. Imported then, on a worker, it holds the GIL for tens of milliseconds at a time (large modules'
        # bytecode, C extensions): long enough to stall the GUI and, while a song plays, the audio callback.
        with contextlib.suppress(Exception):
            importlib.import_module("fanremix.rights.client")

    threading.Thread(target=warm, name="fanremix-warm-imports", daemon=True).start()


def _print_startup_mark(app) -> None:
    """For the start-up benchmark: report once the loaded window has been painted, then quit."""
    from PySide6.QtCore import QTimer

    def report() -> None:
        print(f"FANREMIX_WINDOW_READY {time.time():.6f}", flush=True)
        if os.environ.get(STARTUP_MARK_ENV) == "stay":  # tests that go on driving the running app
            return
        for window in app.topLevelWidgets():
            if hasattr(window, "discard_and_close"):
                window.discard_and_close()
        app.quit()

    QTimer.singleShot(0, report)
