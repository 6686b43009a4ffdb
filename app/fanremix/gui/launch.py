"""Start the desktop app: `launch(argv_pack, workspace)` is what `fanremix`, `fanremix gui PACK` and
`fanremix song.fanpack` call. With no pack it opens the demo song (made on a worker on the first run)."""

import contextlib
import importlib
import os
import sys
import threading
import time
from pathlib import Path

from fanremix.workspace import Workspace

STARTUP_MARK_ENV = "FANREMIX_STARTUP_MARK"  # bench/startup.py: print the time the window showed the loaded pack


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
    return app.exec()


def _warm_up_audio_imports() -> None:
    """Import the preview engine's modules on a background thread while Qt and the window start up: they are
    needed as soon as the first pack is decoded, and importing them takes a good part of a second."""

    def warm() -> None:
        # on failure the loading worker imports it again and reports the error properly
        with contextlib.suppress(Exception):
            importlib.import_module("fanremix.audio.preview")

    threading.Thread(target=warm, name="fanremix-warm-imports", daemon=True).start()


def _print_startup_mark(app) -> None:
    """For the start-up benchmark: report once the loaded window has been painted, then quit."""
    from PySide6.QtCore import QTimer

    def report() -> None:
        print(f"FANREMIX_WINDOW_READY {time.time():.6f}", flush=True)
        for window in app.topLevelWidgets():
            if hasattr(window, "discard_and_close"):
                window.discard_and_close()
        app.quit()

    QTimer.singleShot(0, report)
