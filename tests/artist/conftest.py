"""Artist-mode fixtures: folders of generated stems, the artist window (silent engine), a real rights service.

Stems are short (2–4 s) so the whole folder of tests stays quick on two cores. GUI tests wait on signals or
conditions; nothing sleeps.
"""

import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile
from PySide6.QtWidgets import QApplication

from fanremix.gui.app import create_application
from fanremix.workspace import Workspace

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
TIMEOUT_MS = 30_000
RATE = 44100
# Every test signs up from 127.0.0.1; the service's per-address limits would otherwise make them wait.
UNLIMITED = ("--rate-per-minute", "60000", "--rate-burst", "10000", "--auth-rate-per-minute", "60000")
UNLIMITED += ("--auth-rate-burst", "10000")
PASSWORD = "a long enough password"


def write_stems(folder: Path, specs: dict[str, tuple[float, float]], seconds: float, rate: int = RATE) -> Path:
    """One stereo sine stem per file name: {name: (frequency, amplitude)}, as 24-bit WAV."""
    folder.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    for index, (name, (frequency, amplitude)) in enumerate(specs.items()):
        mono = amplitude * np.sin(2 * np.pi * frequency * t + index)
        soundfile.write(str(folder / f"{name}.wav"), np.stack([mono, mono], axis=1), rate, subtype="PCM_24")
    return folder


@pytest.fixture(scope="session")
def song_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo song's four stems (a real groove: drums, bass, keys, a lead) as an artist exports them: 4 s of
    WAV files named the way a DAW names them."""
    from fanremix.audio.demo_song import render_demo_song

    song = render_demo_song(seconds=4.0)
    folder = tmp_path_factory.mktemp("song") / "Night Drive stems"
    folder.mkdir()
    names = {"drums": "01 Drums", "bass": "02 Sub Bass", "keys": "03 Rhodes", "vocals": "04 Lead Vox"}
    for stem in song.stems:
        soundfile.write(str(folder / f"{names[stem.role]}.wav"), stem.audio, song.sample_rate, subtype="PCM_24")
    return folder


@pytest.fixture
def tone_folder(tmp_path: Path) -> Path:
    """Four 3-second tone stems; the vocal (440 Hz) is by far the loudest, so a render's pitch is easy to read."""
    specs = {"Lead Vox": (440.0, 0.4), "Kick": (110.0, 0.05), "Sub Bass": (55.0, 0.05), "Pad": (261.63, 0.05)}
    return write_stems(tmp_path / "tones", specs, seconds=3.0)


@pytest.fixture
def themed_app(qapp):
    return create_application()


@pytest.fixture
def artist_window(qtbot, themed_app, workspace: Workspace) -> Iterator:
    from fanremix.gui.artist.window import ArtistWindow

    window = ArtistWindow(workspace, use_device=False)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    yield window
    if window.fan_window is not None:
        window.fan_window.discard_and_close()
    window.close()


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory):
    from fanremix.local_service import LocalService

    with LocalService.start(tmp_path_factory.mktemp("artist-service"), service_args=UNLIMITED) as running:
        yield running


@contextlib.contextmanager
def wait_or_fail(qtbot, signal, failed, timeout: int = TIMEOUT_MS) -> Iterator:
    """Like `qtbot.waitSignal(signal)`, but a `failed(error)` signal ends the wait at once and fails the test with
    the error the app reported, instead of a bare timeout that hides it."""
    with qtbot.waitSignal(signal, timeout=timeout) as blocker:
        blocker.connect(failed)
        yield blocker
    if blocker.args and isinstance(blocker.args[0], BaseException):
        error = blocker.args[0]
        details = getattr(error, "__traceback_text__", "")
        pytest.fail(f"the app reported {type(error).__name__}: {error}\n{details}".rstrip())


def scan_and_wait(qtbot, window, folder: Path) -> None:
    builder = window.builder
    with qtbot.waitSignal(builder.analysed, timeout=TIMEOUT_MS):
        builder.scan(folder)


def fill_details(builder, title: str = "Night Drive", artists: str = "The Owls") -> None:
    builder.title_edit.setText(title)
    builder._title_edited(title)
    builder.artists_edit.setText(artists)
    builder.artists_edit.textEdited.emit(artists)


def build_and_wait(qtbot, window, destination: Path):
    """Build from what the builder shows; returns the BuiltPack once the window has made it the current pack."""
    builder = window.builder
    builder.set_destination(destination)
    assert builder.build_button.isEnabled(), builder.build_button.toolTip()
    with qtbot.waitSignal(window.pack_loaded, timeout=TIMEOUT_MS), qtbot.waitSignal(builder.built) as built:
        builder.build_button.click()
    return built.args[0]


def save_artifact(widget, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    QApplication.sendPostedEvents()
    QApplication.processEvents()
    path = ARTIFACTS / f"{name}.png"
    assert widget.grab().save(str(path)), f"could not save {path}"
    return path
