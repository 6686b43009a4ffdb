"""Plays a clip already in memory (an extreme, a submission) through the app's real-time engine.

The engine (and its output device) is opened on a worker, like the remix window's; the GUI polls the clip's position
with a timer and never receives signals from the audio side.
"""

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from fanremix.artist import ClipSource
from fanremix.workspace import Workspace

from ..settings import GuiSettings
from ..workers import JobRunner

POLL_MS = 100


class ClipPlayer(QObject):
    started = Signal(str)  # the label of the clip now playing
    stopped = Signal(str)  # the label of the clip that stopped (at its end, or when asked)
    failed = Signal(object)

    def __init__(
        self, workspace: Workspace, runner: JobRunner, *, use_device: bool = True, parent: QObject | None = None
    ):
        super().__init__(parent)
        self.workspace = workspace
        self.runner = runner
        self.use_device = use_device
        self.engine: Any = None
        self.source: ClipSource | None = None
        self.label = ""
        self._serial = 0
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self._poll)

    @property
    def playing(self) -> bool:
        return self.source is not None and self.timer.isActive()

    def play(self, audio: np.ndarray, sample_rate: int, label: str) -> None:
        """Stop what plays, then play `audio` from its start."""
        self.stop()
        self._serial += 1
        serial = self._serial
        settings = GuiSettings.load(self.workspace.paths.config)
        source = ClipSource(audio, sample_rate)
        use_device = self.use_device

        def work(_ctx):
            from fanremix.audio import realtime

            engine = realtime.Engine(
                source, device=settings.output_device, block_frames=settings.block_frames, use_device=use_device
            )
            engine.play()
            return engine

        job = self.runner.start("clip-engine", work)

        def ready(engine: Any) -> None:
            if serial != self._serial:  # another clip was asked for meanwhile
                self.runner.start("clip-close", lambda _ctx: engine.close())
                return
            self.engine, self.source, self.label = engine, source, label
            self.timer.start()
            self.started.emit(label)

        job.finished.connect(ready)
        job.failed.connect(self.failed)

    def _poll(self) -> None:
        if self.engine is not None:
            self.engine.poll()  # drain the mailbox; the clip's own position says when it ended
        if self.source is not None and self.source.finished:
            self.stop()

    def stop(self) -> None:
        self._serial += 1
        self.timer.stop()
        engine, self.engine = self.engine, None
        label, had = self.label, self.source is not None
        self.source = None
        self.label = ""
        if engine is not None:
            self.runner.start("clip-close", lambda _ctx: engine.close())
        if had:
            self.stopped.emit(label)

    def close(self) -> None:
        """Stop now and close the engine on this thread (at shutdown)."""
        self._serial += 1
        self.timer.stop()
        engine, self.engine, self.source = self.engine, None, None
        if engine is not None:
            engine.close()
