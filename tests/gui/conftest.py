"""GUI test fixtures: a short demo pack built once, and the real main window with a silent engine.

The engine runs on its clock-paced null output (`use_device=False`), so the tests do not depend on JACK. Every wait
is on a signal or a condition; nothing sleeps.
"""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from fanremix.demo import make_demo_pack
from fanremix.gui.app import create_application
from fanremix.gui.main_window import MainWindow
from fanremix.workspace import Workspace

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
DEMO_SECONDS = 6.0
LOAD_TIMEOUT_MS = 30_000


@pytest.fixture(scope="session")
def short_demo_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.fanpack"
    make_demo_pack(path, seconds=DEMO_SECONDS)
    return path


@pytest.fixture
def themed_app(qapp):
    return create_application()


@pytest.fixture
def demo_in_workspace(workspace: Workspace, short_demo_pack: Path) -> Path:
    """The short demo pack where the app looks for its demo song, so no test pays for making the 90 s one."""
    target = workspace.paths.demo_pack
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(short_demo_pack, target)
    return target


def make_window(qtbot, workspace: Workspace) -> MainWindow:
    window = MainWindow(workspace, use_device=False)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    return window


def open_and_wait(qtbot, window: MainWindow, opener) -> object:
    with qtbot.waitSignal(window.session_loaded, timeout=LOAD_TIMEOUT_MS) as blocker:
        opener()
    return blocker.args[0]


@pytest.fixture
def window(qtbot, themed_app, workspace: Workspace, demo_in_workspace: Path) -> Iterator[MainWindow]:
    """The main window with the demo song loaded."""
    win = make_window(qtbot, workspace)
    open_and_wait(qtbot, win, win.open_demo)
    yield win
    win.discard_and_close()


WINDOW_SIZES = ((1280, 800), (1920, 1080))


def save_at_window_sizes(window, widget, name: str) -> list[Path]:
    """`widget` (a part of `window`) as it looks with the window at each of WINDOW_SIZES."""
    saved = []
    for width, height in WINDOW_SIZES:
        window.resize(width, height)
        saved.append(save_artifact(widget, f"{name}-{width}x{height}"))
    return saved


def save_artifact(widget, name: str, size: tuple[int, int] | None = None) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    if size is not None:
        widget.resize(*size)
    # let queued shows and layout passes run (widgets added to a layout are shown from the event loop)
    QApplication.sendPostedEvents()
    QApplication.processEvents()
    path = ARTIFACTS / f"{name}.png"
    assert widget.grab().save(str(path)), f"could not save {path}"
    return path


# -- the rights service ---------------------------------------------------------------------------------------------

# Every test signs up from 127.0.0.1; without this the per-address sign-up limit would make them wait for each other.
UNLIMITED_RATES = ("--rate-per-minute", "60000", "--rate-burst", "10000", "--auth-rate-per-minute", "60000")
UNLIMITED_RATES += ("--auth-rate-burst", "10000")
SERVICE_PASSWORD = "a long enough password"


@pytest.fixture(scope="session")
def rights_service(tmp_path_factory: pytest.TempPathFactory, short_demo_pack: Path):
    """A real rights service on a free loopback port (a uvicorn subprocess), with the short demo pack registered by
    the local publisher account, as the app does with its own local service."""
    from fanremix.local_service import LocalService, register_demo_pack
    from fanremix.paths import AppPaths

    with LocalService.start(tmp_path_factory.mktemp("gui-service"), service_args=UNLIMITED_RATES) as service:
        root = tmp_path_factory.mktemp("gui-publisher")
        publisher = Workspace(AppPaths(config=root / "config", data=root / "data", cache=root / "cache"))
        register_demo_pack(service.url, publisher, short_demo_pack)
        yield service


def fast_retry():
    """Clients that give up at once: the tests make the service unreachable on purpose."""
    from urllib3.util.retry import Retry

    return Retry(total=1, backoff_factor=0.0, status_forcelist=(), allowed_methods=None, raise_on_status=False)


def use_service(workspace: Workspace, url: str) -> None:
    """Configure the app to use the service at `url` (what the Account dialog's Service tab saves)."""
    from fanremix.rights.client import ServiceConfig

    ServiceConfig(url=url).save(workspace.paths.config)


def connected_window(qtbot, workspace: Workspace, url: str) -> MainWindow:
    """The main window using the service at `url`, connected, with the demo song loaded."""
    use_service(workspace, url)
    win = make_window(qtbot, workspace)
    win.rights.retry = fast_retry()
    open_and_wait(qtbot, win, win.open_demo)
    with qtbot.waitSignal(win.rights.connect_service().done, timeout=LOAD_TIMEOUT_MS):
        pass
    return win


@pytest.fixture
def service_window(qtbot, themed_app, workspace: Workspace, demo_in_workspace: Path, rights_service):
    """The main window with the demo song, using the test's rights service (nobody signed in yet)."""
    win = connected_window(qtbot, workspace, rights_service.url)
    yield win
    win.discard_and_close()
