"""The GUI thread never blocks for more than 50 ms while a pack loads, while it plays and is edited, and while an
export renders. A 10 ms precise timer measures the gaps between its own ticks: any gap over 50 ms is a freeze a fan
would feel."""

import time
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QWidget

from fanremix.demo import make_demo_pack
from fanremix.gui.widgets.controls import db_to_fader

from .conftest import LOAD_TIMEOUT_MS, make_window

TICK_MS = 10
MAX_BLOCK_MS = 50.0


class Watchdog(QObject):
    """Records the largest gap between ticks of a 10 ms timer on the GUI thread, and what was happening then."""

    def __init__(self) -> None:
        super().__init__()
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.phase = "start"
        self.worst: dict[str, float] = {}
        self._last = 0.0

    def start(self) -> None:
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def enter(self, phase: str) -> None:
        """Start counting gaps under `phase`. Only a change of phase restarts the clock: re-entering the same phase
        must not wipe out a stall that has just happened."""
        if phase != self.phase:
            self._last = time.perf_counter()  # the test's own steps before a phase are not the app's time
        self.phase = phase

    def _tick(self) -> None:
        now = time.perf_counter()
        gap = (now - self._last) * 1000
        self._last = now
        self.worst[self.phase] = max(self.worst.get(self.phase, 0.0), gap)


@pytest.fixture(scope="module")
def long_demo_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Long enough that decoding and rendering take real time on a worker."""
    path = tmp_path_factory.mktemp("demo-long") / "demo.fanpack"
    make_demo_pack(path, seconds=30)
    return path


FRESH_PROCESS_ENV = "FANREMIX_WATCHDOG_IN_FRESH_PROCESS"


def test_the_watchdog_runs_in_a_fresh_process() -> None:
    """The watchdog measures the app, so it runs in a process of its own: after hundreds of tests the suite's
    process carries their leftover threads and objects, which are no part of the app a fan runs."""
    import os
    import subprocess
    import sys

    if os.environ.get(FRESH_PROCESS_ENV):
        pytest.skip("already in the fresh process")
    test = f"{__file__}::test_the_gui_thread_never_blocks_during_load_playback_and_export"
    env = dict(os.environ, **{FRESH_PROCESS_ENV: "1"})
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", test],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout


def test_the_gui_thread_never_blocks_during_load_playback_and_export(
    qtbot, themed_app, workspace, long_demo_pack, tmp_path
) -> None:
    import os

    if not os.environ.get(FRESH_PROCESS_ENV):
        pytest.skip("runs in a fresh process, from test_the_watchdog_runs_in_a_fresh_process")
    watchdog = Watchdog()
    window = make_window(qtbot, workspace)
    qtbot.waitExposed(window)
    watchdog.start()

    watchdog.enter("load")
    with qtbot.waitSignal(window.session_loaded, timeout=LOAD_TIMEOUT_MS):
        window.open_path(long_demo_pack)
    with qtbot.waitSignal(window.peaks_ready, timeout=LOAD_TIMEOUT_MS):
        pass
    session = window.session

    watchdog.enter("playback")
    window.actions_by_name["play"].trigger()
    fader = window.views.mixer.strips["drums"].fader
    steps = iter([db_to_fader(-0.5 * i) for i in range(40)])
    edits = QTimer()
    edits.setInterval(50)  # 20 fader moves a second, as a fan dragging a fader

    def move() -> None:
        position = next(steps, None)
        if position is None:
            edits.stop()
            return
        fader.setValue(position)

    edits.timeout.connect(move)
    edits.start()
    qtbot.waitUntil(lambda: not edits.isActive(), timeout=10_000)
    watchdog.enter("playback")
    session.set_tempo(1.1)
    session.set_pitch(2)
    qtbot.waitUntil(lambda: window._last_state is not None and window._last_state.original_s > 3.0, timeout=10_000)
    window.actions_by_name["play"].trigger()

    watchdog.enter("export")
    dialog = window.show_export_dialog()
    dialog.destination_edit.setText(str(tmp_path / "remix.wav"))
    with qtbot.waitSignal(dialog.exported, timeout=120_000):
        dialog.start_export()
    dialog.close()

    window.actions_by_name["play"].trigger()  # another song opened while one plays
    watchdog.enter("load while playing")
    with qtbot.waitSignal(window.session_loaded, timeout=LOAD_TIMEOUT_MS):
        window.open_path(long_demo_pack)
    with qtbot.waitSignal(window.peaks_ready, timeout=LOAD_TIMEOUT_MS):
        pass
    watchdog.stop()
    window.discard_and_close()

    print(f"worst GUI-thread gaps (ms): {watchdog.worst}")
    assert set(watchdog.worst) >= {"load", "playback", "export", "load while playing"}
    slow = {phase: round(gap, 1) for phase, gap in watchdog.worst.items() if gap > MAX_BLOCK_MS}
    assert not slow, f"the GUI thread blocked longer than {MAX_BLOCK_MS} ms: {slow} (worst gaps {watchdog.worst})"


def test_every_disabled_control_says_why(qtbot, window) -> None:
    window.session.set_mute("drums", True)
    window.session.set_mute("bass", True)
    window.session.set_mute("keys", True)  # leaves only the vocals: the export is blocked too
    dialog = window.show_export_dialog()
    silent = [
        f"{type(w).__name__} '{w.accessibleName()}'"
        for top in (window, dialog)
        for w in top.findChildren(QWidget)
        if w.isVisibleTo(top) and not w.isEnabled() and w.focusPolicy() != Qt.FocusPolicy.NoFocus and not w.toolTip()
    ]
    assert not silent, silent
