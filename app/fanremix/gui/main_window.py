"""The main window: a thin shell that wires the session, the views, the workers and the engine's poll timer.

Everything slow (opening and verifying a pack, decoding, starting the engine, peaks, autosave writes, exports,
device scans, closing an old engine) runs through `JobRunner`; results come back on the GUI thread.
"""

import contextlib
import datetime as dt
import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QUndoGroup
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QUndoView,
    QVBoxLayout,
    QWidget,
)

from fanremix import APP_NAME
from fanremix.audio import realtime
from fanremix.domain.errors import FanRemixError
from fanremix.rights.packfile import PACK_SUFFIX
from fanremix.workspace import Workspace

from . import icons
from .dialogs.account_dialog import AccountDialog
from .dialogs.credentials_export import CredentialsExportDialog
from .dialogs.device_dialog import DeviceDialog
from .dialogs.errors import show_error
from .dialogs.export_dialog import ExportDialog
from .dialogs.submissions_dialog import SubmissionsDialog
from .dialogs.submit_dialog import SubmitDialog
from .dialogs.verify_dialog import VerifyDialog, is_audio_file
from .loading import (
    STAGE_WORDS,
    EngineOptions,
    LoadCancelled,
    LoadedPack,
    compute_peaks,
    ensure_demo_pack,
    load_pack,
    start_audio,
)
from .project import (
    AUTOSAVE_NAME,
    PROJECT_SUFFIX,
    Project,
    ProjectError,
    is_project_file,
    load_project,
    remove_quietly,
    save_project,
    with_project_suffix,
)
from .session import Session
from .settings import GuiSettings
from .widgets.effects_rack import EffectsRack
from .widgets.licence import LicencePanel
from .widgets.mixer import MixerPanel
from .widgets.rights_service import RightsServiceLink, ServiceStatusLabel
from .widgets.tempo_key import TempoKeyPanel
from .widgets.transport import TransportBar
from .widgets.waveform import WaveformView
from .workers import Job, JobRunner

POLL_INTERVAL_MS = 30  # meters and playhead: ~33 updates a second
AUTOSAVE_INTERVAL_MS = 30_000
AUTOSAVE_DEBOUNCE_MS = 1_500  # after a significant edit
END_TOLERANCE_S = 0.05


def _panel_in(parent: QWidget) -> QFrame:
    """A rounded panel frame, born in its parent; the caller adds the content to its layout."""
    frame = QFrame(parent)
    frame.setObjectName("Panel")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(1, 1, 1, 1)
    return frame


@dataclass
class SessionViews:
    """The widgets that show one session; rebuilt when another pack is opened."""

    page: QWidget
    mixer: MixerPanel
    waveform: WaveformView
    rack: EffectsRack
    tempo_key: TempoKeyPanel
    licence: LicencePanel
    history: QUndoView
    tabs: QTabWidget


class MainWindow(QMainWindow):
    session_shown = Signal(object)  # the new Session's views are on screen (its audio may still be decoding)
    session_loaded = Signal(object)  # the new Session is on screen and its audio is ready to play
    load_failed = Signal(object)  # the error of a load that was refused
    peaks_ready = Signal()
    project_saved = Signal(object)  # the path
    autosaved = Signal(object)  # the autosave path
    restore_offered = Signal(object)  # the banner
    export_dialog_opened = Signal(object)

    def __init__(
        self,
        workspace: Workspace,
        *,
        settings: GuiSettings | None = None,
        use_device: bool = True,
        open_engine: Any = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.workspace = workspace
        self.settings = settings if settings is not None else GuiSettings.load(workspace.paths.config)
        self.use_device = use_device
        self._open_engine = open_engine
        self.runner = JobRunner(self)
        self.session: Session | None = None
        self.views: SessionViews | None = None
        self.load_job: Job | None = None
        self.peaks_job: Job | None = None
        self.audio_job: Job | None = None
        self._after_next_save = None
        self._pending_page: QWidget | None = None
        self._announced = False
        self.export_dialog: ExportDialog | None = None
        self.device_dialog: DeviceDialog | None = None
        self.error_dialogs: list[QMessageBox] = []
        self.close_prompt: QMessageBox | None = None
        self.restore_banner: QFrame | None = None
        self._closing_confirmed = False
        self._playing = False
        self._last_state: realtime.TransportState | None = None
        self._device_state = ""
        self.undo_group = QUndoGroup(self)
        self.rights = RightsServiceLink(workspace, self.runner, self)
        self.submit_dialog: SubmitDialog | None = None
        self.verify_dialog: VerifyDialog | None = None
        self.account_dialog: AccountDialog | None = None
        self.submissions_dialog: SubmissionsDialog | None = None
        self.setWindowTitle(f"{APP_NAME}[*]")
        self.setAcceptDrops(True)
        self.setMinimumSize(QSize(980, 640))
        self.resize(1280, 800)
        self._build_actions()
        self._build_menus()
        self._build_central()
        self._build_status_bar()
        self.poll_timer = QTimer(self)
        self.poll_timer.setInterval(POLL_INTERVAL_MS)
        self.poll_timer.timeout.connect(self.poll_engine)
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_INTERVAL_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()
        self.autosave_debounce = QTimer(self)
        self.autosave_debounce.setSingleShot(True)
        self.autosave_debounce.setInterval(AUTOSAVE_DEBOUNCE_MS)
        self.autosave_debounce.timeout.connect(self.autosave)
        if self.settings.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(self.settings.window_geometry.encode("ascii")))
        self._update_actions()

    # -- construction -----------------------------------------------------------------------------------------
    def _action(self, text: str, slot, shortcut=None, icon: str | None = None, tip: str | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        if icon:
            icons.set_themed_icon(action, icon)
        hint = tip or text.replace("&", "").replace("…", "")
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{hint} ({keys})" if keys else hint)
        action.setStatusTip(hint)
        action.triggered.connect(slot)
        self.addAction(action)  # shortcuts work even when the menu bar is hidden
        return action

    def _build_actions(self) -> None:
        a = self._action
        self.actions_by_name: dict[str, QAction] = {
            "open": a("&Open…", self.choose_file, QKeySequence.StandardKey.Open, "open", "Open a stem pack or project"),
            "demo": a("Open the &demo song", self.open_demo),
            "save": a("&Save", self.save, QKeySequence.StandardKey.Save, "save", "Save the project"),
            "save_as": a("Save &as…", self.save_as, "Ctrl+Shift+S"),
            "export": a("&Export…", self.show_export_dialog, "Ctrl+E", "export", "Export your remix"),
            "submit": a(
                "Su&bmit to platform…", self.show_submit_dialog, "Ctrl+Shift+E", None, "Check, sign and submit a remix"
            ),
            "submissions": a("My submiss&ions", self.show_submissions_dialog),
            "verify": a(
                "&Verify a file…", lambda: self.show_verify_dialog(), None, None, "What an audio file's credentials say"
            ),
            "account": a("A&ccount and rights service…", self.show_account_dialog),
            "artist": a(
                "A&rtist mode…", self.open_artist_mode, None, None, "Build and sign stem packs, write their licence"
            ),
            "quit": a("&Quit", self.close, QKeySequence.StandardKey.Quit),
            "play": a("Play", self.toggle_play, "Space", "play", "Play or pause"),
            "stop": a("Stop", self.stop, None, "stop", "Stop and return to the start of the region"),
            "home": a("To start", self.to_start, "Home", "home", "Back to the start of the region"),
            "loop": a("Loop", self.set_loop, "L", "loop", "Loop the region"),
            "mute": a("&Mute selected stem", self.mute_selected, "M"),
            "solo": a("&Solo selected stem", self.solo_selected, "S"),
            "devices": a("Audio &output…", self.show_device_dialog, None, "speaker", "Audio device settings"),
            "whole_song": a("Select the &whole song", self.select_whole_song, "Ctrl+A"),
            "about": a("&About", self.show_about),
        }
        self.actions_by_name["loop"].setCheckable(True)
        self.undo_action = self.undo_group.createUndoAction(self, "&Undo")
        self.undo_action.setShortcuts([QKeySequence("Ctrl+Z")])
        icons.set_themed_icon(self.undo_action, "undo")
        self.redo_action = self.undo_group.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        icons.set_themed_icon(self.redo_action, "redo")
        self.addAction(self.undo_action)
        self.addAction(self.redo_action)
        self.actions_by_name["undo"] = self.undo_action
        self.actions_by_name["redo"] = self.redo_action

    def _build_menus(self) -> None:
        actions = self.actions_by_name
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(actions["open"])
        self.recent_menu = file_menu.addMenu("Open &recent")
        file_menu.addAction(actions["demo"])
        file_menu.addSeparator()
        file_menu.addAction(actions["save"])
        file_menu.addAction(actions["save_as"])
        file_menu.addAction(actions["export"])
        file_menu.addAction(actions["submit"])
        file_menu.addAction(actions["submissions"])
        file_menu.addAction(actions["verify"])
        file_menu.addAction(actions["account"])
        file_menu.addAction(actions["artist"])
        file_menu.addSeparator()
        file_menu.addAction(actions["quit"])
        edit_menu = self.menuBar().addMenu("&Edit")
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        edit_menu.addSeparator()
        edit_menu.addAction(actions["whole_song"])
        play_menu = self.menuBar().addMenu("&Playback")
        for name in ("play", "stop", "home", "loop"):
            play_menu.addAction(actions[name])
        play_menu.addSeparator()
        play_menu.addAction(actions["mute"])
        play_menu.addAction(actions["solo"])
        play_menu.addSeparator()
        play_menu.addAction(actions["devices"])
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(actions["about"])
        self._rebuild_recent_menu()

    def _build_central(self) -> None:
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(8)
        self.banner_area = QVBoxLayout()
        layout.addLayout(self.banner_area)

        header = QHBoxLayout()
        header.setSpacing(12)
        self.transport = TransportBar(self.actions_by_name)
        header.addWidget(self.transport)
        header.addSpacing(16)
        title_box = QVBoxLayout()
        title_box.setSpacing(0)
        self.title_label = QLabel("Fan Remix Studio")
        self.title_label.setObjectName("SongTitle")
        self.meta_label = QLabel("Remix licensed stems")
        self.meta_label.setObjectName("SongMeta")
        title_box.addWidget(self.title_label)
        title_box.addWidget(self.meta_label)
        header.addLayout(title_box, 1)
        self.demo_badge = QLabel("DEMO PACK")
        self.demo_badge.setObjectName("DemoBadge")
        self.demo_badge.setToolTip("Signed with the built-in demo key: fine for trying the app, not a real release.")
        self.demo_badge.setVisible(False)
        header.addWidget(self.demo_badge)
        self.export_button = QPushButton("Export")
        self.export_button.setObjectName("Primary")
        icons.set_themed_icon(self.export_button, "export", icons.ON_ACCENT)
        self.export_button.setAccessibleName("Export your remix")
        self.export_button.clicked.connect(self.show_export_dialog)
        header.addWidget(self.export_button)
        layout.addLayout(header)

        self.stack = QStackedWidget()
        self.empty_page = self._build_empty_page()
        self.stack.addWidget(self.empty_page)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

    def _build_empty_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addStretch(2)
        self.empty_title = QLabel("Open a stem pack to start remixing")
        self.empty_title.setObjectName("SongTitle")
        self.empty_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_detail = QLabel("Drop a .fanpack here, or open one from the File menu.")
        self.empty_detail.setObjectName("Muted")
        self.empty_detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.load_progress = QProgressBar()
        self.load_progress.setRange(0, 1000)
        self.load_progress.setTextVisible(False)
        self.load_progress.setFixedWidth(360)
        self.load_progress.setAccessibleName("Loading progress")
        self.load_progress.setVisible(False)
        buttons = QHBoxLayout()
        buttons.addStretch()
        self.empty_open = QPushButton("Open a pack…")
        self.empty_open.setAccessibleName("Open a pack")
        self.empty_open.clicked.connect(self.choose_file)
        self.empty_demo = QPushButton("Try the demo song")
        self.empty_demo.setObjectName("Primary")
        self.empty_demo.setAccessibleName("Try the demo song")
        self.empty_demo.clicked.connect(self.open_demo)
        buttons.addWidget(self.empty_open)
        buttons.addWidget(self.empty_demo)
        buttons.addStretch()
        layout.addWidget(self.empty_title)
        layout.addWidget(self.empty_detail)
        row = QHBoxLayout()
        row.addStretch()
        row.addWidget(self.load_progress)
        row.addStretch()
        layout.addLayout(row)
        layout.addLayout(buttons)
        layout.addStretch(3)
        return page

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.status_progress = QProgressBar()
        self.status_progress.setRange(0, 1000)
        self.status_progress.setFixedWidth(160)
        self.status_progress.setTextVisible(False)
        self.status_progress.setVisible(False)
        self.status_progress.setAccessibleName("Background work")
        self.licence_status = QLabel()
        self.licence_status.setTextFormat(Qt.TextFormat.RichText)
        self.licence_status.linkActivated.connect(lambda _link: self.show_tab("Licence"))
        self.licence_status.setAccessibleName("Licence state")
        self.device_status = QLabel("no audio engine")
        self.device_status.setAccessibleName("Audio device state")
        self.device_status.setToolTip("Where the preview plays. Change it in Playback → Audio output.")
        bar.addPermanentWidget(self.status_progress)
        bar.addPermanentWidget(self.licence_status)
        self.service_status = ServiceStatusLabel(self.rights)
        self.service_status.clicked.connect(self.show_account_dialog)
        bar.addPermanentWidget(self.service_status)
        bar.addPermanentWidget(self.device_status)

    # -- opening packs and projects ---------------------------------------------------------------------------
    def engine_options(self) -> EngineOptions:
        return EngineOptions(
            device=self.settings.output_device, block_frames=self.settings.block_frames, use_device=self.use_device
        )

    def open_demo(self) -> Job | None:
        workspace = self.workspace

        with_audio = self.session is not None

        def work(ctx):
            path = ensure_demo_pack(workspace, ctx.progress)
            return self._load_work(ctx, path, None, with_audio)

        return self._start_load("the demo song", work)

    def open_path(self, path: str | Path) -> Job | None:
        path = Path(path)
        if is_project_file(path):
            return self.open_project(path)
        with_audio = self.session is not None
        return self._start_load(path.name, lambda ctx: self._load_work(ctx, path, None, with_audio))

    def open_project(self, path: Path, *, restore: bool = False) -> Job | None:
        try:
            project = load_project(path)
        except FanRemixError as exc:
            self._report_load_failure(exc, path.name)
            return None
        fallbacks = []
        if project.pack_id.startswith("fanremix-demo"):
            fallbacks.append(self.workspace.paths.demo_pack)
        candidates = project.candidate_pack_paths(None if restore else path, tuple(fallbacks))
        pack_path = next((p for p in candidates if p.exists()), None)
        if pack_path is None:
            where = project.pack_path or "(no path saved)"
            self._report_load_failure(
                ProjectError(
                    f"The stem pack of this project was not found at {where}. Put the pack back there, or next to "
                    "the project file, and open the project again."
                ),
                path.name,
            )
            return None

        with_audio = self.session is not None

        def work(ctx):
            loaded = self._load_work(ctx, pack_path, project.recipe, with_audio)
            loaded.project_path = project.project_path if restore else path
            loaded.restored = restore
            return loaded

        return self._start_load(path.name, work)

    def _load_work(self, ctx, path: Path, recipe, with_audio: bool) -> LoadedPack:
        """On a worker. With a session on screen the whole load (audio included) happens before anything is
        replaced, so a refused pack leaves the session untouched; with none, the pack shows as soon as it is
        verified and its audio follows (`_start_audio`)."""
        kwargs = {"open_engine": self._open_engine} if self._open_engine is not None else {}
        return load_pack(
            path,
            self.workspace,
            self.engine_options(),
            recipe=recipe,
            with_audio=with_audio,
            progress=ctx.progress,
            cancelled=ctx.cancel_requested,
            **kwargs,
        )

    def _start_load(self, what: str, work) -> Job | None:
        if self.export_dialog is not None and self.export_dialog.busy:
            self.statusBar().showMessage("An export is running: let it finish, or cancel it, first.", 6000)
            return None
        if self.submit_dialog is not None and self.submit_dialog.busy:
            self.statusBar().showMessage("A submission is running: let it finish, or cancel it, first.", 6000)
            return None
        if self.load_job is not None and not self.load_job.is_done:
            self.load_job.cancel()
        job = self.runner.start("load", work)
        self.load_job = job
        self._loading_what = what
        job.progress.connect(self._load_progress)
        job.finished.connect(lambda loaded, job=job: self._load_finished(job, loaded))
        job.failed.connect(lambda error, job=job: self._load_failed(job, error))
        self.status_progress.setValue(0)
        self.status_progress.setVisible(True)
        self.statusBar().showMessage(f"Opening {what}…")
        if self.session is None:
            self.empty_title.setText(f"Opening {what}…")
            self.empty_detail.setText("Checking the signature and the stems")
            self.load_progress.setVisible(True)
            self.load_progress.setValue(0)
        return job

    def _load_progress(self, stage: str, fraction: float) -> None:
        self.status_progress.setValue(int(fraction * 1000))
        self.load_progress.setValue(int(fraction * 1000))
        words = STAGE_WORDS.get(stage, stage)
        self.statusBar().showMessage(f"Opening {self._loading_what}: {words}…")
        if self.session is None:
            self.empty_detail.setText(words)

    def _load_finished(self, job: Job, loaded: LoadedPack) -> None:
        if job is not self.load_job or job.cancelled:
            self.runner.start("discard", lambda _ctx: loaded.discard())
            return
        self.status_progress.setVisible(False)
        self.install_session(loaded)

    def _load_failed(self, job: Job, error: BaseException) -> None:
        if job is not self.load_job:
            return
        self.status_progress.setVisible(False)
        if isinstance(error, LoadCancelled):
            self.statusBar().showMessage("Opening cancelled", 4000)
            return
        self._report_load_failure(error, self._loading_what)

    def _report_load_failure(self, error: BaseException, what: str) -> None:
        self.statusBar().showMessage(f"Could not open {what}", 8000)
        if self.session is None:
            self.empty_title.setText("Open a stem pack to start remixing")
            self.empty_detail.setText("Drop a .fanpack here, or open one from the File menu.")
            self.load_progress.setVisible(False)
        box = show_error(self, f"Could not open {what}", error)
        self.error_dialogs.append(box)
        box.finished.connect(lambda _r, box=box: box in self.error_dialogs and self.error_dialogs.remove(box))
        self.load_failed.emit(error)

    def install_session(self, loaded: LoadedPack) -> Session:
        """Make `loaded` the current session. The views are built over a few event-loop turns (each well under
        50 ms, so the window never freezes); `session_loaded` is emitted once they are on screen."""
        old = self.session
        if old is not None:
            if self.views is not None:
                self.views.page.setEnabled(False)  # stays visible, inert, until the new page replaces it
            if self.export_dialog is not None:
                self.export_dialog.close()
                self.export_dialog.deleteLater()
                self.export_dialog = None
            if self.submit_dialog is not None:
                self.submit_dialog.close()
                self.submit_dialog.deleteLater()
                self.submit_dialog = None
            self.undo_group.removeStack(old.undo_stack)
            closing = self.runner.start("close-session", lambda _ctx, old=old: old.close())
            closing.done.connect(old.deleteLater)
        session = Session(
            loaded.opened.manifest,
            pack_path=loaded.source,
            recipe=loaded.recipe,
            engine=loaded.engine,
            stems=loaded.stems,
            opened_pack=loaded.opened,
            parent=self,
        )
        session.project_path = loaded.project_path
        if loaded.restored:
            session.undo_stack.resetClean()
        self.session = session
        self.undo_group.addStack(session.undo_stack)
        self.undo_group.setActiveStack(session.undo_stack)
        # bound methods, not lambdas: Qt drops these connections when the window goes away
        session.undo_stack.cleanChanged.connect(self._clean_changed)
        session.significant_edit.connect(self.autosave_debounce.start)
        session.violations_changed.connect(self._show_licence_state)
        session.refused.connect(self._show_refusal)
        session.region_changed.connect(self._region_changed)
        self._announced = False
        steps = self._view_steps(session)

        def step() -> None:
            if session is not self.session:  # another pack replaced this one meanwhile
                return
            try:
                part = next(steps)
            except StopIteration as finished:
                self._finish_install(session, finished.value, loaded)
                return
            if part is not None:
                # polish the new widgets now (style sheet rules resolved per widget), not all at once on show
                part.ensurePolished()
                for child in part.findChildren(QWidget):
                    child.ensurePolished()
            QTimer.singleShot(0, self, step)

        step()
        return session

    def _finish_install(self, session: Session, views: SessionViews, loaded: LoadedPack) -> None:
        self._pending_page = None
        self._dispose_views()
        self.views = views
        self.stack.setCurrentWidget(views.page)
        manifest = session.manifest
        self.title_label.setText(manifest.title)
        self.meta_label.setText(f"{', '.join(manifest.artists)} · {manifest.bpm:g} BPM · {manifest.key}")
        self.demo_badge.setVisible(bool(session.signer is not None and session.signer.is_demo))
        self.transport.set_duration(manifest.duration_s)
        self.transport.show_position(0.0, 0.0, 1.0)
        self.actions_by_name["loop"].setChecked(False)
        self._playing = False
        self._last_state = None
        self.transport.set_playing(False, self.actions_by_name["play"])
        self._show_licence_state(session.violations)
        self._update_title()
        self._update_actions()
        if loaded.project_path is not None and not loaded.restored:
            self._remember(loaded.project_path)
        elif loaded.source != self.workspace.paths.demo_pack:
            self._remember(loaded.source)
        self.statusBar().showMessage(f"Opened “{manifest.title}”", 4000)
        self.session_shown.emit(session)
        if not session.has_audio:
            # decoding starts once the views are up: on two cores, decoding while they are built would starve
            # the GUI thread
            self._start_audio(session, loaded)
        self._announce_if_ready(session)

    def _start_audio(self, session: Session, loaded: LoadedPack) -> None:
        options = self.engine_options()
        kwargs = {"open_engine": self._open_engine} if self._open_engine is not None else {}
        opened, recipe = loaded.opened, loaded.recipe

        def work(ctx):
            return start_audio(opened, options, recipe, progress=ctx.progress, cancelled=ctx.cancel_requested, **kwargs)

        job = self.runner.start("audio", work)
        self.audio_job = job
        self.status_progress.setValue(0)
        self.status_progress.setVisible(True)
        job.progress.connect(lambda stage, fraction: self._audio_progress(session, stage, fraction))

        def done(result, session=session) -> None:
            stems, engine = result
            if session is not self.session:
                self.runner.start("discard-engine", lambda _ctx: engine.close())
                return
            self.status_progress.setVisible(False)
            session.attach_audio(stems, engine)
            self._announce_if_ready(session)

        def failed(error, session=session) -> None:
            if session is not self.session:
                return
            self.status_progress.setVisible(False)
            if isinstance(error, LoadCancelled):
                return
            box = show_error(self, "Could not decode the audio", error)
            self.error_dialogs.append(box)
            self.device_status.setText("no audio: the stems could not be decoded")
            self.load_failed.emit(error)

        job.finished.connect(done)
        job.failed.connect(failed)

    def _audio_progress(self, session: Session, stage: str, fraction: float) -> None:
        if session is self.session:
            self.status_progress.setValue(int(fraction * 1000))
            self.statusBar().showMessage(f"{STAGE_WORDS.get(stage, stage)}…")

    def _announce_if_ready(self, session: Session) -> None:
        """Once the views are up and the audio is attached: start polling, compute peaks, say so."""
        if self._announced or session is not self.session or self.views is None or not session.has_audio:
            return
        self._announced = True
        self._update_actions()
        self.transport.buttons["play"].setFocus()  # enabled only now; Space plays from anywhere anyway
        self.statusBar().showMessage(f"Ready: “{session.manifest.title}”", 4000)
        self.poll_timer.start()
        self._start_peaks(session)
        self.session_loaded.emit(session)

    def _start_peaks(self, session: Session) -> None:
        cache = self.workspace.paths.cache
        manifest, stems = session.manifest, session.stems
        job = self.runner.start("peaks", lambda ctx: compute_peaks(manifest, stems, cache, ctx.cancel_requested))
        self.peaks_job = job

        def done(peaks, session=session) -> None:
            if session is self.session and self.views is not None:
                session.peaks = peaks
                self.views.waveform.set_peaks(peaks)
                self.peaks_ready.emit()

        job.finished.connect(done)
        job.failed.connect(lambda error: self.statusBar().showMessage(f"No waveform overview: {error}", 6000))

    def _view_steps(self, session: Session):
        """Build the session's page top-down (each widget is born in its final parent: reparenting a styled
        subtree costs far more), one part per event-loop turn. The generator returns the SessionViews."""
        page = QSplitter(Qt.Orientation.Vertical)
        page.setChildrenCollapsible(False)
        if self._pending_page is not None:  # a page still being built for a session that was replaced meanwhile
            self.stack.removeWidget(self._pending_page)
            self._pending_page.deleteLater()
        self._pending_page = page
        self.stack.addWidget(page)  # not current yet: the old page (or the empty one) stays on screen
        wave_panel = _panel_in(page)
        waveform = WaveformView(session, wave_panel)
        wave_panel.layout().addWidget(waveform)
        waveform.seek_requested.connect(self.seek)
        page.addWidget(wave_panel)
        bottom = QSplitter(Qt.Orientation.Horizontal, page)
        bottom.setChildrenCollapsible(False)
        page.addWidget(bottom)
        yield wave_panel
        mixer = MixerPanel(session, bottom, build=False)
        bottom.addWidget(mixer)
        yield mixer.master
        yield from mixer.build_steps()
        right = QWidget(bottom)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.setSpacing(8)
        bottom.addWidget(right)
        tempo_panel = _panel_in(right)
        tempo_key = TempoKeyPanel(session, tempo_panel)
        tempo_panel.layout().addWidget(tempo_key)
        right_layout.addWidget(tempo_panel)
        tabs = QTabWidget(right)
        tabs.setAccessibleName("Effects, licence and history")
        right_layout.addWidget(tabs, 1)
        yield tempo_panel
        rack = EffectsRack(session, tabs)
        tabs.addTab(rack, "Effects")
        icons.set_themed_tab_icon(tabs, rack, "effects")
        mixer.stem_selected.connect(rack.set_target)
        mixer.effects_requested.connect(lambda target: (rack.set_target(target), self.show_tab("Effects")))
        yield rack
        licence = LicencePanel(session, tabs)
        tabs.addTab(licence, "Licence")
        icons.set_themed_tab_icon(tabs, licence, "licence")
        yield licence
        history = QUndoView(session.undo_stack, tabs)
        history.setEmptyLabel("Opened the pack")
        history.setAccessibleName("Edit history")
        tabs.addTab(history, "History")
        bottom.setStretchFactor(0, 3)
        bottom.setStretchFactor(1, 2)
        bottom.setSizes([700, 520])
        page.setStretchFactor(0, 1)
        page.setStretchFactor(1, 3)
        page.setSizes([170, 560])
        return SessionViews(page, mixer, waveform, rack, tempo_key, licence, history, tabs)

    def _dispose_views(self) -> None:
        if self.views is None:
            return
        app = QApplication.instance()
        with contextlib.suppress(RuntimeError, TypeError):
            app.focusChanged.disconnect(self.views.mixer._focus_changed)
        self.stack.removeWidget(self.views.page)
        self.views.page.deleteLater()
        self.views = None

    def show_tab(self, name: str) -> None:
        if self.views is None:
            return
        for index in range(self.views.tabs.count()):
            if self.views.tabs.tabText(index).startswith(name):
                self.views.tabs.setCurrentIndex(index)
                return

    # -- file dialogs, recent files, drag and drop --------------------------------------------------------------
    def choose_file(self) -> None:
        self._when_changes_handled(self._open_file_dialog)

    def _open_file_dialog(self) -> None:
        start = str(Path(self.settings.recent_files[0]).parent) if self.settings.recent_files else str(Path.home())
        dialog = QFileDialog(self, "Open a stem pack or project", start)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilters([f"Stem packs and projects (*{PACK_SUFFIX} *{PROJECT_SUFFIX})", "All files (*)"])
        dialog.fileSelected.connect(self.open_path)
        dialog.open()
        self.file_dialog = dialog

    def _remember(self, path: Path) -> None:
        self.settings = self.settings.with_recent(path)
        self._save_settings()
        self._rebuild_recent_menu()

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        for text in self.settings.recent_files:
            action = self.recent_menu.addAction(Path(text).name)
            action.setToolTip(text)
            action.triggered.connect(lambda _checked=False, text=text: self._open_recent(text))
        self.recent_menu.setEnabled(bool(self.settings.recent_files))
        self.recent_menu.setToolTip("" if self.settings.recent_files else "Nothing opened yet")

    def _open_recent(self, text: str) -> None:
        if not Path(text).exists():
            self.settings = self.settings.without_recent(text)
            self._save_settings()
            self._rebuild_recent_menu()
            self.statusBar().showMessage(f"{text} is no longer there", 6000)
            return
        self._when_changes_handled(lambda: self.open_path(text))

    def _save_settings(self) -> None:
        try:
            self.settings.save(self.workspace.paths.config)
        except OSError as exc:
            self.statusBar().showMessage(f"Settings not saved: {exc}", 6000)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if any(
            (url.isLocalFile() and (Path(url.toLocalFile()).suffix in (PACK_SUFFIX, PROJECT_SUFFIX)))
            or Path(url.toLocalFile()).is_dir()
            or (url.isLocalFile() and is_audio_file(url.toLocalFile()))
            for url in urls
        ):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        for url in event.mimeData().urls():
            if url.isLocalFile():
                path = url.toLocalFile()
                event.acceptProposedAction()
                if is_audio_file(path):  # an exported remix: show what its Content Credentials say
                    self.show_verify_dialog(path)
                    return
                self._when_changes_handled(lambda path=path: self.open_path(path))
                return

    # -- projects, autosave, crash restore ----------------------------------------------------------------------
    def current_project(self, project_path: Path | None = None) -> Project | None:
        session = self.session
        if session is None:
            return None
        return Project(
            recipe=session.recipe,
            pack_path=session.pack_path,
            pack_id=session.manifest.id,
            pack_hash=session.manifest.pack_hash(),
            project_path=project_path,
            title=session.manifest.title,
        )

    def save(self) -> bool:
        if self.session is None:
            return False
        if self.session.project_path is None:
            self.save_as()
            return False
        return self.save_to(self.session.project_path)

    def save_as(self) -> None:
        if self.session is None:
            return
        start = self.session.project_path or Path.home() / f"{self.session.manifest.title}{PROJECT_SUFFIX}"
        dialog = QFileDialog(self, "Save the project", str(start))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter(f"Fan Remix projects (*{PROJECT_SUFFIX})")
        dialog.setDefaultSuffix(PROJECT_SUFFIX.lstrip("."))
        dialog.fileSelected.connect(lambda path: self.save_to(Path(path)))
        dialog.open()
        self.file_dialog = dialog

    def save_to(self, path: Path) -> bool:
        """Write the project (a few kilobytes, atomically) and mark the session clean."""
        session = self.session
        if session is None:
            return False
        path = with_project_suffix(Path(path))
        try:
            save_project(path, self.current_project())
        except (OSError, FanRemixError) as exc:
            box = show_error(self, "Could not save the project", exc)
            self.error_dialogs.append(box)
            return False
        session.mark_saved(path)
        remove_quietly(self.autosave_path)
        self._remember(path)
        self._update_title()
        self.statusBar().showMessage(f"Saved {path.name}", 4000)
        self.project_saved.emit(path)
        then, self._after_next_save = self._after_next_save, None
        if then is not None:
            then()
        return True

    @property
    def autosave_path(self) -> Path:
        return self.workspace.paths.data / "autosave" / AUTOSAVE_NAME

    def autosave(self) -> Job | None:
        """Write the unsaved session to the autosave file, on a worker. Nothing to do when it is saved."""
        session = self.session
        if session is None:
            return None
        path = self.autosave_path
        if not session.is_dirty:
            return None
        project = self.current_project(session.project_path)

        def work(_ctx) -> Path:
            save_project(path, project)
            return path

        job = self.runner.start("autosave", work)
        job.finished.connect(self.autosaved.emit)
        job.failed.connect(lambda error: self.statusBar().showMessage(f"Autosave failed: {error}", 6000))
        return job

    def offer_restore(self) -> QFrame | None:
        """If the last run left an autosave (it ended without saving), offer to bring it back."""
        path = self.autosave_path
        if not path.is_file():
            return None
        try:
            project = load_project(path)
        except FanRemixError:
            remove_quietly(path)
            return None
        when = dt.datetime.fromtimestamp(path.stat().st_mtime).strftime("%d %b %H:%M")
        banner = QFrame()
        banner.setObjectName("Banner")
        row = QHBoxLayout(banner)
        row.setContentsMargins(12, 8, 12, 8)
        name = project.project_path.name if project.project_path else f"“{project.title or project.pack_id}”"
        text = QLabel(
            f"<b>Fan Remix Studio closed before your changes were saved.</b> "
            f"Restore the remix of {html.escape(name)} from {when}?"
        )
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        restore = QPushButton("Restore")
        restore.setObjectName("Primary")
        restore.setAccessibleName("Restore the unsaved remix")
        discard = QPushButton("Discard")
        discard.setAccessibleName("Discard the unsaved remix")
        row.addWidget(text, 1)
        row.addWidget(discard)
        row.addWidget(restore)
        restore.clicked.connect(lambda: (self._close_banner(), self.open_project(path, restore=True)))
        discard.clicked.connect(lambda: (self._close_banner(), remove_quietly(path)))
        banner.restore_button = restore  # type: ignore[attr-defined]
        banner.discard_button = discard  # type: ignore[attr-defined]
        self.banner_area.addWidget(banner)
        self.restore_banner = banner
        self.restore_offered.emit(banner)
        return banner

    def _close_banner(self) -> None:
        if self.restore_banner is not None:
            self.restore_banner.hide()
            self.restore_banner.deleteLater()
            self.restore_banner = None

    # -- transport ------------------------------------------------------------------------------------------
    def send(self, command: realtime.Command) -> None:
        if self.session is not None:
            self.session.send(command)

    def toggle_play(self) -> None:
        session = self.session
        if session is None or session.engine is None:
            return
        if self._playing:
            self.send(realtime.Pause())
            self._set_playing(False)
            return
        start, end = session.region()
        position = self._last_state.original_s if self._last_state else 0.0
        looping = self.actions_by_name["loop"].isChecked()
        at_end = position >= end - END_TOLERANCE_S
        outside_loop = looping and not start <= position < end
        if at_end or outside_loop or position < start - END_TOLERANCE_S:
            self.seek(start)  # play from the region's start, not from past its end
        self.send(realtime.Play())
        self._set_playing(True)

    def stop(self) -> None:
        if self.session is None:
            return
        start = self.session.region()[0]
        self.send(realtime.Stop())
        # the preview engine is not told about the region (only loops are): put the playhead at its start
        self.send(realtime.Seek(start))
        self._set_playing(False)
        self._show_position(start, None)

    def to_start(self) -> None:
        if self.session is not None:
            self.seek(self.session.region()[0])

    def seek(self, seconds: float) -> None:
        if self.session is None:
            return
        seconds = max(0.0, min(seconds, self.session.duration_s))
        self.send(realtime.Seek(seconds))
        self._show_position(seconds, None)

    def set_loop(self, on: bool | None = None) -> None:
        action = self.actions_by_name["loop"]
        if on is not None and action.isChecked() != on:
            action.setChecked(on)
        if self.session is None:
            return
        if action.isChecked():
            start, end = self.session.region()
            self.send(realtime.SetLoop(start, end))
        else:
            self.send(realtime.SetLoop(None))

    def _region_changed(self) -> None:
        if self.actions_by_name["loop"].isChecked():
            self.set_loop()

    def select_whole_song(self) -> None:
        if self.session is not None:
            self.session.set_region(0.0, None)
            self.session.seal()

    def _set_playing(self, playing: bool) -> None:
        if playing != self._playing:
            self._playing = playing
            self.transport.set_playing(playing, self.actions_by_name["play"])

    def _show_position(self, original_s: float, output_s: float | None) -> None:
        if self.session is None or self.views is None:
            return
        ratio = self.session.recipe.tempo_ratio
        self.transport.show_position(original_s, original_s / ratio if output_s is None else output_s, ratio)
        self.views.waveform.set_playhead(original_s)

    def poll_engine(self) -> None:
        session = self.session
        if session is None or session.engine is None or self.views is None:
            return
        state = session.engine.poll()
        if state is None:
            return
        self._last_state = state
        self.views.mixer.show_state(state)
        self._show_position(state.original_s, state.output_s)
        self._set_playing(state.playing)
        device = state.device_state
        if state.underflows or state.ring_underruns:
            device += f" · {state.underflows + state.ring_underruns} dropouts"
        if device != self._device_state:
            self._device_state = device
            self.device_status.setText(device)

    def mute_selected(self) -> None:
        if self.session is not None and self.views is not None and self.views.mixer.selected_stem:
            self.session.toggle_mute(self.views.mixer.selected_stem)

    def solo_selected(self) -> None:
        if self.session is not None and self.views is not None and self.views.mixer.selected_stem:
            self.session.toggle_solo(self.views.mixer.selected_stem)

    # -- dialogs ------------------------------------------------------------------------------------------------
    def show_export_dialog(self) -> ExportDialog | None:
        if self.session is None:
            return None
        if self.export_dialog is not None and self.export_dialog.session is self.session:
            self.export_dialog.show()
            self.export_dialog.raise_()
            return self.export_dialog
        folder = Path(self.settings.export_folder) if self.settings.export_folder else Path.home()
        dialog = CredentialsExportDialog(
            self.session, self.runner, self.rights, folder=folder, format_name=self.settings.export_format, parent=self
        )
        dialog.exported.connect(self._exported)
        self.export_dialog = dialog
        dialog.open()
        self.export_dialog_opened.emit(dialog)
        return dialog

    def _exported(self, result: Any) -> None:
        if self.export_dialog is not None:
            self.settings = self.settings.with_changes(
                export_folder=str(Path(result.path).parent), export_format=self.export_dialog.format_name
            )
            self._save_settings()
        self.statusBar().showMessage(f"Exported {Path(result.path).name}", 6000)

    def show_submit_dialog(self) -> SubmitDialog | None:
        if self.session is None:
            return None
        if self.submit_dialog is None or self.submit_dialog.session is not self.session:
            folder = Path(self.settings.export_folder) if self.settings.export_folder else Path.home()
            dialog = SubmitDialog(
                self.session, self.rights, folder=folder, format_name=self.settings.export_format, parent=self
            )
            dialog.sign_in_requested.connect(self.show_account_dialog)
            dialog.submissions_requested.connect(self.show_submissions_dialog)
            self.submit_dialog = dialog
        # not modal: the sign-in and submissions windows it opens must take input while it is up
        self.submit_dialog.show()
        self.submit_dialog.raise_()
        return self.submit_dialog

    def show_account_dialog(self) -> AccountDialog:
        if self.account_dialog is None:
            self.account_dialog = AccountDialog(self.rights, parent=self)
        self.account_dialog.show()
        self.account_dialog.raise_()
        self.account_dialog.activateWindow()
        return self.account_dialog

    def show_submissions_dialog(self) -> SubmissionsDialog:
        if self.submissions_dialog is None:
            self.submissions_dialog = SubmissionsDialog(self.rights, parent=self)
            self.submissions_dialog.sign_in_requested.connect(self.show_account_dialog)
        self.submissions_dialog.show()
        self.submissions_dialog.raise_()
        self.submissions_dialog.refresh()
        return self.submissions_dialog

    def show_verify_dialog(self, path: str | Path | None = None) -> VerifyDialog:
        """The "About this file" view; with `path`, check that file straight away."""
        if self.verify_dialog is None:
            self.verify_dialog = VerifyDialog(
                self.runner,
                self.workspace.paths.config,
                extra_anchors=self.rights.service_trust_anchors,
                open_pack=lambda: self.session.opened_pack if self.session is not None else None,
                parent=self,
            )
        self.verify_dialog.show()
        self.verify_dialog.raise_()
        if path is not None:
            self.verify_dialog.verify(path)
        else:
            self.verify_dialog.choose_file()
        return self.verify_dialog

    def show_device_dialog(self) -> DeviceDialog:
        engine = self.session.engine if self.session else None
        dialog = DeviceDialog(
            self.runner,
            device=self.settings.output_device,
            block_frames=self.settings.block_frames,
            state=self._device_state or getattr(engine, "device_state", "no audio engine"),
            sample_rate=self.session.manifest.sample_rate if self.session else 44100,
            parent=self,
        )
        dialog.chosen.connect(self.change_device)
        self.device_dialog = dialog
        dialog.open()
        return dialog

    def change_device(self, device: str | None, block_frames: int) -> Job | None:
        self.settings = self.settings.with_changes(output_device=device, block_frames=block_frames)
        self._save_settings()
        session = self.session
        if session is None:
            return None
        options = self.engine_options()
        options.use_device = True
        manifest, stems, recipe = session.manifest, session.stems, session.recipe
        position = self._last_state.original_s if self._last_state else 0.0
        open_engine = self._open_engine
        if open_engine is None:
            from .loading import default_open_engine as open_engine

        def work(_ctx):
            return open_engine(manifest, stems, recipe, options)

        job = self.runner.start("engine", work)

        def done(engine, session=session) -> None:
            if session is not self.session:
                self.runner.start("discard-engine", lambda _ctx: engine.close())
                return
            old, session.engine = session.engine, engine
            if session.recipe != recipe:
                engine.send(realtime.SetRecipe(session.recipe))
            engine.send(realtime.Seek(position))
            self._set_playing(False)
            self.set_loop()
            if old is not None:
                self.runner.start("close-engine", lambda _ctx: old.close())
            session.engine_replaced.emit()
            self.statusBar().showMessage(f"Audio: {engine.device_state}", 6000)

        job.finished.connect(done)
        job.failed.connect(lambda error: self.error_dialogs.append(show_error(self, "Audio device", error)))
        return job

    def show_about(self) -> None:
        from .dialogs.about_dialog import AboutDialog

        self.about_dialog = AboutDialog(self)
        self.about_dialog.open()

    def close_without_asking(self) -> None:
        """Close now and keep unsaved changes in the autosave (SIGTERM at logout, Ctrl+C in a terminal)."""
        self._closing_confirmed = True
        self.close()

    def open_artist_mode(self) -> None:
        """The artist's window (pack builder, licence editor, review), beside this one."""
        from .artist.window import ArtistWindow

        self.artist_window = ArtistWindow(self.workspace, use_device=self.use_device)
        self.artist_window.show()

    # -- title, actions, licence state ----------------------------------------------------------------------------
    def _clean_changed(self, _clean: bool) -> None:
        self._update_title()

    def _show_refusal(self, reason: str) -> None:
        self.statusBar().showMessage(reason, 6000)

    def _update_title(self) -> None:
        session = self.session
        if session is None:
            self.setWindowTitle(f"{APP_NAME}[*]")
            self.setWindowModified(False)
            return
        name = session.project_path.stem if session.project_path else session.manifest.title
        self.setWindowTitle(f"{name}[*] — {APP_NAME}")
        self.setWindowModified(session.is_dirty)

    def _update_actions(self) -> None:
        has = self.session is not None
        audio = has and self.session.has_audio
        for name in ("save", "save_as", "export", "submit", "mute", "solo", "whole_song"):
            self.actions_by_name[name].setEnabled(has)
        for name in ("play", "stop", "home", "loop"):
            action = self.actions_by_name[name]
            action.setEnabled(audio)
            tip = action.statusTip()
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(
                (f"{tip} ({keys})" if keys else tip) if audio else "Wait a moment: the audio is being decoded."
            )
        blocked = has and bool(self.session.violations)
        self.export_button.setEnabled(has)
        self.export_button.setToolTip(
            "Open a pack first."
            if not has
            else (
                "Export your remix (Ctrl+E). The licence panel lists what to fix first."
                if blocked
                else "Export your remix (Ctrl+E)"
            )
        )
        if not has:
            for name in ("save", "export", "play"):
                self.actions_by_name[name].setToolTip("Open a pack first.")

    def _show_licence_state(self, violations: list) -> None:
        if violations:
            count = len(violations)
            self.licence_status.setText(
                f"<a href='#licence' style='color:#ff5c5c'>⚠ {count} licence issue{'s' if count > 1 else ''}</a>"
            )
            self.licence_status.setToolTip("\n".join(v.message for v in violations))
        else:
            self.licence_status.setText("<span style='color:#3ecf8e'>✓ Within the licence</span>")
            self.licence_status.setToolTip("Everything in this remix is allowed by the pack's licence.")
        if self.views is not None:
            index = self.views.tabs.indexOf(self.views.licence)
            self.views.tabs.setTabText(index, f"Licence ⚠ {len(violations)}" if violations else "Licence")
        self._update_actions()

    def changeEvent(self, event) -> None:
        """The system switched between light and dark: redraw every themed icon (actions, buttons, tabs, effect
        cards) in the new theme's colours."""
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "actions_by_name"):
            icons.refresh_themed_icons(self)  # the play/pause action too: set_playing names its icon
        super().changeEvent(event)

    # -- closing ----------------------------------------------------------------------------------------------
    def _when_changes_handled(self, then) -> None:
        """Run `then` now if nothing is unsaved; otherwise ask Save / Discard / Cancel first (without blocking)."""
        if self.session is None or not self.session.is_dirty:
            then()
            return
        box = QMessageBox(self)
        box.setObjectName("UnsavedChanges")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Unsaved changes")
        box.setText("<b>Save the changes to your remix first?</b>")
        box.setInformativeText("If you don't, the changes since the last save are lost.")
        box.setStandardButtons(
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel
        )
        box.setDefaultButton(QMessageBox.StandardButton.Save)

        def answered(button) -> None:
            role = box.standardButton(button)
            if role == QMessageBox.StandardButton.Save:
                if self.session.project_path is not None:
                    if self.save():
                        then()
                else:
                    self._after_next_save = then  # carried on once the fan has picked a file name
                    self.save_as()
            elif role == QMessageBox.StandardButton.Discard:
                if self.session is not None:
                    self.session.undo_stack.setClean()
                remove_quietly(self.autosave_path)
                then()

        box.buttonClicked.connect(answered)
        self.close_prompt = box
        box.open()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.session is not None and self.session.is_dirty and not self._closing_confirmed:
            event.ignore()
            self._when_changes_handled(self._confirmed_close)
            return
        self.shutdown()
        event.accept()

    def _confirmed_close(self) -> None:
        self._closing_confirmed = True
        self.close()

    def shutdown(self) -> None:
        """Stop timers, jobs and the engine; keep the autosave only if changes are unsaved."""
        self.poll_timer.stop()
        self.autosave_timer.stop()
        self.autosave_debounce.stop()
        self.runner.cancel_all()
        if self.export_dialog is not None:
            self.export_dialog.cancel_export()
        self.runner.wait_for_done(10_000)
        self.rights.shutdown()  # stops the local rights service if this window started it
        geometry = bytes(self.saveGeometry().toBase64()).decode("ascii")
        self.settings = self.settings.with_changes(window_geometry=geometry)
        self._save_settings()
        if self.session is not None:
            if not self.session.is_dirty:
                remove_quietly(self.autosave_path)
            self.session.close()

    def discard_and_close(self) -> None:
        """Close without asking (tests, and the 'Discard' answer)."""
        if self.session is not None:
            self.session.undo_stack.setClean()
        self._closing_confirmed = True
        self.close()
