"""“What fans can do”: open the pack in the fan view under the policy being edited, and hear its extremes.

The extremes are short renders at the corners of the policy (slowest and fastest tempo × lowest and highest key; the
mix without each stem fans may mute; each stem fans may hear alone), made with the same offline renderer as fans'
exports, loudness-normalised so they compare by ear. Corners the policy does not really allow are listed with the
policy's own reason.
"""

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fanremix.artist import EXTREME_SECONDS, RenderedExtreme, SkippedExtreme, policy_extremes, render_extreme
from fanremix.domain.policy import Policy
from fanremix.rights.packfile import OpenedPack

from ..dialogs.errors import show_error
from ..widgets.licence import BulletList
from ..workers import Job, JobRunner
from .player import ClipPlayer

COLUMNS = ("Extreme", "Tempo and key", "Length", "")


class FanPreviewPage(QWidget):
    fan_view_requested = Signal()
    extremes_rendered = Signal(list)  # [RenderedExtreme]
    extremes_failed = Signal(object)

    def __init__(self, runner: JobRunner, player: ClipPlayer, parent: QWidget | None = None):
        super().__init__(parent)
        self.runner = runner
        self.player = player
        self.opened: OpenedPack | None = None
        self.policy: Policy | None = None
        self.rendered: list[RenderedExtreme] = []
        self.skipped: list[SkippedExtreme] = []
        self.render_job: Job | None = None
        self.play_buttons: list[QPushButton] = []

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(10)
        intro = QLabel(
            "Before you publish, try the pack the way fans will get it: the remix window opens it under the policy "
            "you are editing, with every limit in force. The extremes let you hear the furthest a remix can go.",
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)

        fan = QGroupBox("The fan view", self)
        fan_layout = QHBoxLayout(fan)
        fan_layout.setContentsMargins(10, 14, 10, 10)
        self.fan_button = QPushButton("Open in the fan view", fan)
        self.fan_button.setObjectName("Primary")
        self.fan_button.setAccessibleName("Open the pack in the fan view")
        self.fan_button.clicked.connect(self.fan_view_requested)
        self.fan_status = QLabel(fan)
        self.fan_status.setWordWrap(True)
        self.fan_status.setObjectName("Muted")
        fan_layout.addWidget(self.fan_button)
        fan_layout.addWidget(self.fan_status, 1)
        layout.addWidget(fan)

        extremes = QGroupBox("Extremes", self)
        ex_layout = QVBoxLayout(extremes)
        ex_layout.setContentsMargins(10, 14, 10, 10)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Excerpt from", extremes))
        self.start_spin = QDoubleSpinBox(extremes)
        self.start_spin.setRange(0.0, 3600.0)
        self.start_spin.setDecimals(1)
        self.start_spin.setSuffix(" s")
        self.start_spin.setAccessibleName("Excerpt start")
        controls.addWidget(self.start_spin)
        controls.addWidget(QLabel("lasting", extremes))
        self.length_spin = QDoubleSpinBox(extremes)
        self.length_spin.setRange(1.0, 60.0)
        self.length_spin.setDecimals(1)
        self.length_spin.setValue(EXTREME_SECONDS)
        self.length_spin.setSuffix(" s")
        self.length_spin.setAccessibleName("Excerpt length")
        controls.addWidget(self.length_spin)
        controls.addSpacing(12)
        self.render_button = QPushButton("Render the extremes", extremes)
        self.render_button.setAccessibleName("Render the extremes")
        self.render_button.clicked.connect(self.render_extremes)
        controls.addWidget(self.render_button)
        self.stop_button = QPushButton("Stop", extremes)
        self.stop_button.setAccessibleName("Stop playing")
        self.stop_button.clicked.connect(player.stop)
        controls.addWidget(self.stop_button)
        controls.addStretch()
        ex_layout.addLayout(controls)
        self.progress = QProgressBar(extremes)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setVisible(False)
        self.progress.setAccessibleName("Rendering progress")
        ex_layout.addWidget(self.progress)
        self.status = QLabel(extremes)
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Extremes state")
        ex_layout.addWidget(self.status)
        self.table = QTableWidget(0, len(COLUMNS), extremes)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAccessibleName("Rendered extremes")
        ex_layout.addWidget(self.table, 1)
        self.skipped_title = QLabel("Not allowed by the policy, so not rendered:", extremes)
        self.skipped_title.setObjectName("Muted")
        self.skipped_title.setVisible(False)
        ex_layout.addWidget(self.skipped_title)
        self.skipped_area = QVBoxLayout()
        ex_layout.addLayout(self.skipped_area)
        layout.addWidget(extremes, 1)
        player.started.connect(self._playing_changed)
        player.stopped.connect(self._playing_changed)
        self.set_pack(None)

    # -- state -------------------------------------------------------------------------------------------------
    def set_pack(self, opened: OpenedPack | None) -> None:
        self.opened = opened
        if opened is not None:
            self.start_spin.setMaximum(max(0.0, opened.manifest.duration_s - 0.5))
        self.clear()
        self._update_enabled()

    def set_policy(self, policy: Policy | None) -> None:
        changed = policy != self.policy
        self.policy = policy
        if changed and self.rendered:
            self.status.setText("The policy changed since these were rendered: render them again to hear it.")
        self._update_enabled()

    def _update_enabled(self) -> None:
        ready = self.opened is not None and self.policy is not None
        reason = "" if ready else ("Build or open a pack first." if self.opened is None else "Fix the policy first.")
        busy = self.render_job is not None and not self.render_job.is_done
        for button in (self.fan_button, self.render_button):
            button.setEnabled(ready and not busy)
            button.setToolTip(reason)
        if not ready:
            self.fan_status.setText(reason)
        elif not self.fan_status.text() or self.fan_status.text().endswith("first."):
            self.fan_status.setText(
                "The remix window opens in its own window; the limits are the policy on the Licence page."
            )

    def clear(self) -> None:
        self.player.stop()
        self.rendered, self.skipped = [], []
        self.table.setRowCount(0)
        self.play_buttons = []
        while self.skipped_area.count():
            widget = self.skipped_area.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self.skipped_title.setVisible(False)
        self.status.setText("")

    # -- rendering ----------------------------------------------------------------------------------------------
    def render_extremes(self) -> Job | None:
        if self.opened is None or self.policy is None:
            return None
        if self.render_job is not None and not self.render_job.is_done:
            self.render_job.cancel()
        self.clear()
        manifest, policy = self.opened.manifest, self.policy
        stems = self.opened.stem_paths
        extremes, skipped = policy_extremes(
            manifest, policy, start_s=self.start_spin.value(), length_s=self.length_spin.value()
        )
        self.skipped = skipped

        def work(ctx) -> list[RenderedExtreme]:
            done = []
            for index, extreme in enumerate(extremes):
                if ctx.cancel_requested():
                    break
                ctx.progress(extreme.label, index / len(extremes))
                done.append(render_extreme(manifest, policy, stems, extreme, cancel=ctx.cancel_requested))
            ctx.progress("done", 1.0)
            return done

        self.progress.setVisible(True)
        self.progress.setValue(0)
        self.status.setText(f"Rendering {len(extremes)} extremes…")
        job = self.runner.start("extremes", work)
        self.render_job = job
        job.progress.connect(self._progress)
        job.finished.connect(lambda result, job=job: self._rendered(job, result))
        job.failed.connect(lambda error, job=job: self._failed(job, error))
        self._update_enabled()
        return job

    def _progress(self, label: str, fraction: float) -> None:
        self.progress.setValue(int(fraction * 1000))
        if label != "done":
            self.status.setText(f"Rendering “{label}”…")

    def _rendered(self, job: Job, rendered: list[RenderedExtreme]) -> None:
        if job is not self.render_job:
            return
        self.progress.setVisible(False)
        self.rendered = rendered
        self.table.setRowCount(0)
        self.play_buttons = []
        for row, item in enumerate(rendered):
            self.table.insertRow(row)
            for column, text in enumerate(
                (item.extreme.label, item.extreme.detail, f"{item.duration_s:.2f} s"), start=0
            ):
                cell = QTableWidgetItem(text)
                cell.setFlags(cell.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, column, cell)
            button = QPushButton("Play", self.table)
            button.setAccessibleName(f"Play “{item.extreme.label}”")
            button.clicked.connect(lambda _checked=False, i=row: self.play(i))
            self.table.setCellWidget(row, 3, button)
            self.play_buttons.append(button)
        for skipped in self.skipped:
            self.skipped_area.addWidget(BulletList([f"{skipped.label}: {skipped.reason}"], "✕", "#a3abba", self))
        self.skipped_title.setVisible(bool(self.skipped))
        self.status.setText(
            f"{len(rendered)} extremes, {self.length_spin.value():g} s of the song each, at the same loudness. "
            "Play one to hear how far fans may go."
        )
        self._update_enabled()
        self.extremes_rendered.emit(rendered)

    def _failed(self, job: Job, error: BaseException) -> None:
        if job is not self.render_job:
            return
        self.progress.setVisible(False)
        self.status.setText(f"The extremes could not be rendered: {error}")
        self._update_enabled()
        show_error(self, "The extremes could not be rendered", error)
        self.extremes_failed.emit(error)

    # -- listening -----------------------------------------------------------------------------------------------
    def play(self, index: int) -> None:
        item = self.rendered[index]
        if self.player.playing and self.player.label == item.extreme.label:
            self.player.stop()
            return
        self.player.play(item.audio, item.sample_rate, item.extreme.label)

    def _playing_changed(self, _label: Any) -> None:
        for button, item in zip(self.play_buttons, self.rendered, strict=False):
            playing = self.player.playing and self.player.label == item.extreme.label
            button.setText("Stop" if playing else "Play")
