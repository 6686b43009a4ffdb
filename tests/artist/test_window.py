"""The artist window as a whole: every control is named for screen readers, and a refused pack is explained."""

from PySide6.QtWidgets import QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QLineEdit, QMessageBox

from fanremix.domain.errors import UntrustedKeyError
from fanremix.rights.packfile import PackMetadata, StemSource, build_pack
from fanremix.rights.signing import PublisherKey

from .conftest import TIMEOUT_MS, write_stems


def test_every_control_has_a_name_for_screen_readers(artist_window) -> None:
    unnamed = []
    for kind in (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QLineEdit):
        for widget in artist_window.findChildren(kind):
            if widget.parent() is not None and type(widget.parent()).__name__ in ("QCalendarWidget", "QScrollBar"):
                continue
            if kind is QLineEdit and isinstance(widget.parent(), QAbstractSpinBox | QComboBox):
                continue  # the editor inside a spin box or combo box: its owner carries the name
            text = widget.text() if isinstance(widget, QAbstractButton) else ""
            if not (widget.accessibleName() or text.strip()) and widget.isVisibleTo(artist_window):
                unnamed.append(f"{type(widget).__name__} {widget.objectName()}")
    assert unnamed == []


def test_a_pack_from_an_unknown_publisher_is_refused_with_the_reason(qtbot, artist_window, tmp_path) -> None:
    folder = write_stems(tmp_path / "s", {"vocals": (440.0, 0.3)}, seconds=1.0)
    stranger = PublisherKey.generate()  # not trusted on this machine
    metadata = PackMetadata(id="x", title="X", artists=("Y",), bpm=100, key="C major")
    pack = tmp_path / "x.fanpack"
    build_pack([StemSource(folder / "vocals.wav", "vocals")], metadata, artist_window.editor.policy(), stranger, pack)
    with qtbot.waitSignal(artist_window.pack_load_failed, timeout=TIMEOUT_MS) as failed:
        artist_window.open_pack_file(pack)
    assert isinstance(failed.args[0], UntrustedKeyError)
    boxes = [box for box in artist_window.findChildren(QMessageBox) if box.isVisible()]
    assert boxes and "does not trust" in boxes[-1].informativeText()
    assert artist_window.opened is None and not artist_window.preview.fan_button.isEnabled()
    assert artist_window.preview.fan_button.toolTip() == "Build or open a pack first."
