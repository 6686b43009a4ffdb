"""Ways into the window that other tests skip: recent files, the Open dialog, load progress, the reset buttons, Stop."""

from PySide6.QtCore import Qt

from .conftest import LOAD_TIMEOUT_MS, make_window, open_and_wait


def test_a_recent_file_opens_from_the_menu(qtbot, window, tmp_path, short_demo_pack) -> None:
    copy = tmp_path / "recent.fanpack"
    copy.write_bytes(short_demo_pack.read_bytes())
    open_and_wait(qtbot, window, lambda: window.open_path(copy))
    open_and_wait(qtbot, window, window.open_demo)  # something else on screen
    assert window.session.pack_path != copy
    action = window.recent_menu.actions()[0]
    assert action.text() == "recent.fanpack" and action.toolTip() == str(copy.resolve())
    session = open_and_wait(qtbot, window, action.trigger)
    assert session.pack_path.resolve() == copy.resolve()
    assert window.session is session


def test_the_open_dialog_opens_the_chosen_pack(qtbot, window, tmp_path, short_demo_pack) -> None:
    copy = tmp_path / "chosen.fanpack"
    copy.write_bytes(short_demo_pack.read_bytes())
    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    dialog = window.file_dialog
    assert dialog.isVisible()
    session = open_and_wait(qtbot, window, lambda: dialog.fileSelected.emit(str(copy)))
    assert session.pack_path == copy
    assert window.title_label.text() == "Lanterns Over Glass"


def test_the_load_progress_is_shown_and_moves(qtbot, themed_app, workspace, short_demo_pack) -> None:
    window = make_window(qtbot, workspace)
    centre, status = [], []
    window.load_progress.valueChanged.connect(centre.append)
    window.status_progress.valueChanged.connect(status.append)
    job = window.open_path(short_demo_pack)
    assert job is not None
    assert window.load_progress.isVisibleTo(window) and window.status_progress.isVisibleTo(window)
    assert "Opening" in window.empty_title.text()
    with qtbot.waitSignal(window.session_loaded, timeout=LOAD_TIMEOUT_MS):
        pass
    assert centre and max(centre) > 0 and centre == sorted(centre)
    assert len(set(status)) > 1 and max(status) > 0
    assert not window.status_progress.isVisibleTo(window)  # gone once the load is done
    window.discard_and_close()


def test_the_reset_buttons_return_tempo_and_key_to_the_original(qtbot, window) -> None:
    session = window.session
    panel = window.views.tempo_key
    session.set_tempo(1.1)
    session.set_pitch(2)
    assert panel.tempo_reset.isEnabled() and panel.key_reset.isEnabled()
    qtbot.mouseClick(panel.tempo_reset, Qt.MouseButton.LeftButton)
    assert session.recipe.tempo_ratio == 1.0
    assert panel.tempo_value.text() == "100 %" and not panel.tempo_reset.isEnabled()
    assert session.recipe.pitch_semitones == 2
    qtbot.mouseClick(panel.key_reset, Qt.MouseButton.LeftButton)
    assert session.recipe.pitch_semitones == 0
    assert panel.key_value.text() == "±0 st" and not panel.key_reset.isEnabled()
    qtbot.waitUntil(lambda: session.engine.source.recipe == session.recipe, timeout=2000)


def test_stop_returns_to_the_start_of_the_region(qtbot, window) -> None:
    session = window.session
    session.set_region(1.0, 5.0)
    window.actions_by_name["play"].trigger()
    qtbot.waitUntil(
        lambda: window._last_state is not None and window._last_state.playing and window._last_state.original_s > 1.4,
        timeout=5000,
    )
    window.actions_by_name["stop"].trigger()
    assert window.transport.clock.text() == "00:01.0"
    qtbot.waitUntil(
        lambda: not window._last_state.playing and abs(window._last_state.original_s - 1.0) < 0.02, timeout=2000
    )
    assert window.transport.clock.text() == "00:01.0"
    assert abs(window.views.waveform.playhead_s - 1.0) < 0.02
