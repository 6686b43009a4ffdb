"""The artist window: build and sign a pack, write its policy, hear what fans can do, publish and review.

Four pages, in the order an artist works: the stems and the song's details (the builder), the licence (the policy
editor, with the policy in fans' words beside it), what fans can do (the fan view and the extremes), and publish &
review. The window keeps the current pack open (verified, its stems unpacked) for the previews, and shares one
`JobRunner` among the pages, so nothing slow runs on the GUI thread.
"""

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from fanremix import APP_NAME
from fanremix.artist import resign_with_policy, scan_folder
from fanremix.domain.errors import PolicyError
from fanremix.domain.policy import Policy
from fanremix.rights.packfile import OpenedPack, open_pack
from fanremix.workspace import Workspace

from ..dialogs.errors import show_error
from ..workers import Job, JobRunner
from .builder import PackBuilder
from .player import ClipPlayer
from .policy_editor import PolicyEditor
from .preview import FanPreviewPage
from .review import PublishReviewPage
from .service import ArtistServiceLink

PAGES = ("Stems and details", "Licence", "What fans can do", "Publish and review")
PREVIEW_FOLDER = "artist-preview"


class ArtistWindow(QMainWindow):
    pack_loaded = Signal(object)  # the OpenedPack now current
    pack_load_failed = Signal(object)
    fan_view_opened = Signal(object)  # the fan MainWindow, as soon as it exists
    fan_view_ready = Signal(object)  # the fan MainWindow, once the pack is open and playable in it

    def __init__(self, workspace: Workspace, *, use_device: bool = True, parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.use_device = use_device
        self.runner = JobRunner(self)
        self.link = ArtistServiceLink(workspace, self.runner, self)
        self.player = ClipPlayer(workspace, self.runner, use_device=use_device, parent=self)
        self.opened: OpenedPack | None = None
        self.pack_path: Path | None = None
        self.fan_window: Any = None
        self.fan_job: Job | None = None
        self._closed = False
        self.setWindowTitle(f"{APP_NAME} — artist")
        self.setMinimumSize(QSize(980, 640))
        self.resize(1280, 800)

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(8)
        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(0)
        self.title_label = QLabel("Artist mode", central)
        self.title_label.setObjectName("SongTitle")
        self.subtitle_label = QLabel("Publish your stems and decide what fans may do with them", central)
        self.subtitle_label.setObjectName("SongMeta")
        titles.addWidget(self.title_label)
        titles.addWidget(self.subtitle_label)
        header.addLayout(titles, 1)
        layout.addLayout(header)

        self.tabs = QTabWidget(central)
        self.tabs.setAccessibleName("Artist pages")
        self.builder = PackBuilder(workspace, self.runner, self.tabs)
        self.editor = PolicyEditor(self.tabs)
        self.preview = FanPreviewPage(self.runner, self.player, self.tabs)
        self.review = PublishReviewPage(workspace, self.link, self.player, self.tabs)
        for page, title in zip((self.builder, self.editor, self.preview, self.review), PAGES, strict=True):
            page.setContentsMargins(8, 8, 8, 8)
            self.tabs.addTab(page, title)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.editor.policy_changed.connect(self._policy_changed)
        self.builder.metadata_changed.connect(self._metadata_changed)
        self.builder.built.connect(self._built)
        self.preview.fan_view_requested.connect(self.open_fan_view)
        self._build_menus()
        self._policy_changed(self._current_policy())
        self._metadata_changed()
        self.statusBar().showMessage("Choose a folder of stems to start, or open a pack you built before.", 8000)
        # the service is asked (and a local one started, if none is configured) only once the artist goes to publish
        self.tabs.currentChanged.connect(self._page_shown)

    def _page_shown(self, index: int) -> None:
        if self.tabs.widget(index) is self.review and not self.link.connected_once:
            self.link.connect_service()

    # -- menus -------------------------------------------------------------------------------------------------
    def _action(self, text: str, slot: Any, shortcut: Any = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        self.actions_by_name = {
            "folder": self._action("Choose a &stems folder…", self.builder.choose_folder, "Ctrl+Shift+O"),
            "open": self._action("&Open a pack…", self.choose_pack, QKeySequence.StandardKey.Open),
            "build": self._action("&Build and sign the pack", lambda: self.builder.build(), "Ctrl+B"),
            "export_key": self._action("Export your &public key…", self.builder.choose_public_key_destination),
            "close": self._action("&Close", self.close, QKeySequence.StandardKey.Close),
            "fan_view": self._action("Open in the &fan view", self.open_fan_view, "Ctrl+Shift+F"),
            "extremes": self._action("Render the &extremes", self.preview.render_extremes, "Ctrl+R"),
        }
        file_menu = self.menuBar().addMenu("&File")
        for name in ("folder", "open", "build", "export_key"):
            file_menu.addAction(self.actions_by_name[name])
        file_menu.addSeparator()
        file_menu.addAction(self.actions_by_name["close"])
        view_menu = self.menuBar().addMenu("&Mode")
        view_menu.addAction(self.actions_by_name["fan_view"])
        view_menu.addAction(self.actions_by_name["extremes"])
        for index, title in enumerate(PAGES):
            action = self._action(
                title, lambda _checked=False, i=index: self.tabs.setCurrentIndex(i), f"Ctrl+{index + 1}"
            )
            view_menu.addAction(action)

    def show_page(self, index: int) -> None:
        self.tabs.setCurrentIndex(index)

    # -- policy and metadata flow between the pages ---------------------------------------------------------
    def _current_policy(self) -> Policy | None:
        try:
            return self.editor.policy()
        except PolicyError:
            return None

    def _policy_changed(self, policy: Policy | None) -> None:
        problem = (
            "" if policy is not None else "Fix the policy on the Licence page: " + " ".join(self.editor.problems())
        )
        self.builder.set_policy(policy, problem)
        self.preview.set_policy(policy)
        self.review.set_policy(policy)
        self.actions_by_name["fan_view"].setEnabled(policy is not None and self.opened is not None)

    def _metadata_changed(self) -> None:
        roles = {stem.role for stem in self.builder.stems()}
        if self.opened is not None and not roles:
            roles = {stem.role for stem in self.opened.manifest.stems}
        self.editor.set_context(self.builder.title(), self.builder.artists(), roles)
        title = self.builder.title()
        self.title_label.setText(title or "Artist mode")

    # -- the current pack ----------------------------------------------------------------------------------------
    def choose_pack(self) -> None:
        dialog = QFileDialog(self, "Open a stem pack", str(Path.home()), "Stem packs (*.fanpack)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(lambda name: self.open_pack_file(Path(name)))
        dialog.open()

    def open_pack_file(self, path: Path) -> Job:
        """Open a built pack (verified, as fans' apps do): its details, stems and policy fill the pages."""
        keyring = self.workspace.keyring()
        workdir = self.workspace.paths.cache
        workdir.mkdir(parents=True, exist_ok=True)

        def work(ctx) -> tuple[OpenedPack, list]:
            opened = open_pack(path, keyring, workdir=workdir, progress=ctx.progress)
            try:
                return opened, scan_folder(opened.root)
            except BaseException:
                opened.close()
                raise

        self.statusBar().showMessage(f"Opening {path.name}…")
        job = self.runner.start("open-pack", work)
        job.finished.connect(lambda result: self._pack_opened(path, *result, fill_forms=True))
        job.failed.connect(self._pack_failed)
        return job

    def _pack_opened(self, path: Path, opened: OpenedPack, files: list, *, fill_forms: bool) -> None:
        if self._closed:
            opened.close()
            return
        if self.opened is not None and self.opened is not opened:
            old = self.opened
            self.runner.start("close-pack", lambda _ctx: old.close())
        self.opened, self.pack_path = opened, path
        manifest = opened.manifest
        if fill_forms:
            by_file = {stem.file: stem for stem in manifest.stems}
            self.builder.set_metadata(
                title=manifest.title,
                artists=manifest.artists,
                bpm=manifest.bpm,
                key=manifest.key,
                isrc=manifest.isrc,
                pack_id=manifest.id,
                rightsholders=manifest.rightsholders,
            )
            self.builder.folder_edit.setText(str(path))
            self.builder.set_files(
                files,
                roles={name: stem.role for name, stem in by_file.items()},
                names={name: stem.name for name, stem in by_file.items()},
            )
            # an unpacked pack folder is rebuilt into a .fanpack beside it, never over the folder
            self.builder.set_destination(path.with_name(path.name + ".fanpack") if path.is_dir() else path)
            self.editor.set_policy(manifest.policy)
        self.preview.set_pack(opened)
        self.review.set_pack(path, manifest)
        self._policy_changed(self._current_policy())
        self._metadata_changed()
        demo = " (signed with the demo key: build it again to sign it with yours)" if opened.signer.is_demo else ""
        self.statusBar().showMessage(f"“{manifest.title}” is open{demo}.", 8000)
        self.pack_loaded.emit(opened)

    def _pack_failed(self, error: BaseException) -> None:
        self.statusBar().showMessage("The pack could not be opened.", 8000)
        show_error(self, "Could not open the pack", error)
        self.pack_load_failed.emit(error)

    def _built(self, built: Any) -> None:
        """A pack was built: it becomes the current pack (the forms already hold what it was built from)."""
        keyring = self.workspace.keyring()
        workdir = self.workspace.paths.cache

        def work(_ctx) -> OpenedPack:
            return open_pack(built.path, keyring, workdir=workdir)

        job = self.runner.start("open-built-pack", work)
        job.finished.connect(lambda opened: self._pack_opened(built.path, opened, [], fill_forms=False))
        job.failed.connect(self._pack_failed)

    # -- the fan view ---------------------------------------------------------------------------------------------
    def preview_pack_path(self) -> Path:
        assert self.opened is not None
        return self.workspace.paths.cache / PREVIEW_FOLDER / f"{self.opened.manifest.id}.fanpack"

    def open_fan_view(self) -> Job | None:
        """Open the pack in the remix window under the policy being edited (re-signed into a preview copy when the
        policy differs from the pack's), so every limit a fan meets can be tried."""
        policy = self._current_policy()
        if self.opened is None or policy is None or self.pack_path is None:
            self.statusBar().showMessage("Build or open a pack, and fix the policy, first.", 6000)
            return None
        source, manifest = self.pack_path, self.opened.manifest
        workspace = self.workspace
        target = self.preview_pack_path()

        def work(ctx) -> Path:
            if manifest.policy == policy:
                return source
            from fanremix.artist import load_or_create_publisher_key

            key, _created = load_or_create_publisher_key(workspace, ", ".join(manifest.artists))
            target.parent.mkdir(parents=True, exist_ok=True)
            resign_with_policy(source, policy, key, target, workspace.keyring(), ctx.progress)
            return target

        self.statusBar().showMessage("Preparing the fan view…")
        job = self.runner.start("fan-view", work)
        self.fan_job = job
        job.finished.connect(self._show_fan_view)
        job.failed.connect(lambda error: show_error(self, "The fan view could not be opened", error))
        return job

    def _show_fan_view(self, path: Path) -> None:
        from ..main_window import MainWindow

        window = self.fan_window
        if window is None or not window.isVisible():
            window = MainWindow(self.workspace, use_device=self.use_device)
            window.session_loaded.connect(lambda _session, w=window: self.fan_view_ready.emit(w))
            self.fan_window = window
        window.show()
        window.raise_()
        window.open_path(path)
        self.preview.fan_status.setText(
            f"Opened {path.name} in the fan view. Its sliders, buttons and effects stop where your policy does."
        )
        self.statusBar().showMessage("The fan view is open in its own window.", 6000)
        self.fan_view_opened.emit(window)

    # -- closing --------------------------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.player.close()
        self.runner.cancel_all()
        self.runner.wait_for_done(15_000)
        self.link.shutdown()
        self.review.shutdown()
        if self.opened is not None:
            self.opened.close()
            self.opened = None
