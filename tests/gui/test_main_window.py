"""The fan's remix studio, driven through the real main window (offscreen Qt, silent engine)."""

import zipfile

import soundfile
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QLabel, QMessageBox

from fanremix.audio import realtime
from fanremix.audio.effects import preset_effect
from fanremix.audio.errors import RenderCancelled
from fanremix.domain import policy_templates
from fanremix.domain.recipe import MASTER
from fanremix.gui.project import Project, load_project, save_project
from fanremix.gui.widgets.controls import db_to_fader
from fanremix.gui.widgets.effects_rack import value_to_slider
from fanremix.rights.packfile import PackMetadata, StemSource, build_pack
from fanremix.rights.signing import PublisherKey

from ..conftest import write_tone_stems
from .conftest import LOAD_TIMEOUT_MS, make_window, open_and_wait, save_artifact, save_at_window_sizes


def engine_recipe(window):
    """The recipe the preview engine is playing (what reached the engine)."""
    return window.session.engine.source.recipe


def test_the_window_opens_with_the_demo_pack(qtbot, window) -> None:
    session = window.session
    assert session.manifest.title == "Lanterns Over Glass"
    assert window.title_label.text() == "Lanterns Over Glass"
    assert window.demo_badge.isVisibleTo(window)
    assert set(window.views.mixer.strips) == {s.id for s in session.manifest.stems}
    assert "Within the licence" in window.licence_status.text()
    assert not window.isWindowModified()
    qtbot.waitUntil(lambda: "no audio device" in window.device_status.text(), timeout=5000)
    qtbot.waitUntil(lambda: set(session.peaks) == set(session.stem_ids), timeout=10_000)
    save_artifact(window, "main-window-1280x800", (1280, 800))
    save_artifact(window, "main-window-1920x1080", (1920, 1080))


def test_moving_a_gain_fader_changes_the_recipe_and_reaches_the_engine(qtbot, window) -> None:
    strip = window.views.mixer.strips["drums"]
    with qtbot.waitSignal(window.session.stem_changed, check_params_cb=lambda stem: stem == "drums"):
        strip.fader.setValue(db_to_fader(-6.0))
    assert window.session.recipe.stem("drums").gain_db == -6.0
    assert strip.gain_label.text() == "−6.0 dB"
    assert window.isWindowModified()
    qtbot.waitUntil(lambda: engine_recipe(window).stem("drums").gain_db == -6.0, timeout=2000)
    # the keyboard moves it too (a fan who does not use a mouse)
    strip.fader.setFocus()
    qtbot.keyClick(strip.fader, Qt.Key.Key_PageUp)
    assert window.session.recipe.stem("drums").gain_db > -6.0


def test_meters_move_while_playing(qtbot, window) -> None:
    qtbot.keyClick(window, Qt.Key.Key_Space)
    master = window.views.mixer.master.meter
    qtbot.waitUntil(lambda: max(master.peak_db) > -40, timeout=5000)
    strips = window.views.mixer.strips
    qtbot.waitUntil(lambda: all(max(s.meter.peak_db) > -40 for s in strips.values()), timeout=5000)
    qtbot.waitUntil(lambda: window.views.waveform.playhead_s > 0.2, timeout=5000)
    assert window.transport.clock.text() != "00:00.0"
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window._last_state is not None and not window._last_state.playing, timeout=2000)


def test_a_remix_in_progress_keeps_its_layout_at_both_sizes(qtbot, window) -> None:
    session = window.session
    session.set_gain("drums", -3.0)
    session.set_pan("bass", -0.3)
    session.set_tempo(1.05)
    session.set_pitch(1)
    session.set_region(1.0, 5.0)
    session.set_fades(0.4, 0.8)
    window.views.mixer.strips["keys"].fx_button.click()
    window.views.rack.add_effect("Reverb", "Hall")
    window.views.rack.add_effect("Delay", "Echo")
    window.set_loop(True)
    window.actions_by_name["play"].trigger()
    qtbot.waitUntil(lambda: max(window.views.mixer.master.meter.peak_db) > -30, timeout=5000)
    qtbot.waitUntil(lambda: set(session.peaks) == set(session.stem_ids), timeout=10_000)
    save_artifact(window, "main-window-remix-1280x800", (1280, 800))
    save_artifact(window, "main-window-remix-1920x1080", (1920, 1080))
    window.actions_by_name["play"].trigger()


def test_the_light_theme_is_readable_too(qtbot, window, themed_app) -> None:
    from fanremix.gui.theme import DARK, LIGHT, apply_theme

    apply_theme(themed_app, LIGHT)
    try:
        assert window.palette().color(window.backgroundRole()).lightness() > 200
        window.actions_by_name["play"].trigger()
        qtbot.waitUntil(lambda: max(window.views.mixer.master.meter.peak_db) > -30, timeout=5000)
        window.views.mixer.strips["drums"].fx_button.click()
        window.views.rack.add_effect("Compressor", "Punchy")
        if set(window.session.peaks) != set(window.session.stem_ids):  # the overview needs its peaks
            with qtbot.waitSignal(window.peaks_ready, timeout=10_000):
                pass
        save_artifact(window, "main-window-light-1280x800", (1280, 800))
        window.actions_by_name["play"].trigger()
    finally:
        apply_theme(themed_app, DARK)


def test_undo_restores_the_change(qtbot, window) -> None:
    session = window.session
    strip = window.views.mixer.strips["bass"]
    for db in (-2.0, -4.0, -9.0):  # one fader gesture: one undo step
        strip.fader.setValue(db_to_fader(db))
    assert session.undo_stack.count() == 1
    assert session.recipe.stem("bass").gain_db == -9.0
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert session.recipe.stem("bass").gain_db == 0.0
    assert strip.fader.db() == 0.0
    assert not window.isWindowModified()
    qtbot.waitUntil(lambda: engine_recipe(window).stem("bass").gain_db == 0.0, timeout=2000)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert session.recipe.stem("bass").gain_db == -9.0
    assert window.views.history.model().rowCount() == 2  # "Opened the pack" + the fader move
    assert window.undo_action.toolTip() == "Undo Bass level -9.0 dB"


def test_a_policy_forbidden_edit_cannot_be_made_and_its_control_says_why(qtbot, window) -> None:
    session = window.session
    vocals = next(s.id for s in session.manifest.stems if s.role == "vocals")
    strip = window.views.mixer.strips[vocals]
    assert not strip.solo_button.isEnabled()
    assert "does not allow soloing the vocals" in strip.solo_button.toolTip()
    qtbot.mouseClick(strip.solo_button, Qt.MouseButton.LeftButton)
    window.views.mixer.select(vocals)
    with qtbot.waitSignal(session.refused) as refused:
        qtbot.keyClick(window, Qt.Key.Key_S)
    assert "soloing the vocals" in refused.args[0]
    assert not session.recipe.stem(vocals).solo
    assert session.undo_stack.count() == 0
    assert "soloing the vocals" in window.statusBar().currentMessage()
    # the tempo slider cannot pass the allowed range, and says what it is
    tempo = window.views.tempo_key.tempo_slider
    assert (tempo.minimum(), tempo.maximum()) == (800, 1250)
    assert "80 % to 125 %" in tempo.toolTip()
    tempo.setValue(tempo.maximum() + 100)
    assert session.recipe.tempo_ratio == 1.25
    assert window.views.tempo_key.tempo_value.text() == "125 %"
    assert "137.5 BPM" in window.views.tempo_key.tempo_detail.text()
    key = window.views.tempo_key.key_slider
    key.setValue(2)
    assert window.views.tempo_key.key_detail.text().startswith("B minor")
    # edits allowed one by one but not together are made, shown, and block the export
    for stem in session.manifest.stems:
        if stem.role != "vocals":
            window.views.mixer.strips[stem.id].mute_button.click()
    assert [v.code for v in session.violations] == ["role.alone_forbidden", "stems.too_few_audible"]
    assert "2 licence issues" in window.licence_status.text()
    assert "2 things need fixing" in window.views.licence.status_text
    dialog = window.show_export_dialog()
    assert not dialog.export_button.isEnabled()
    assert "Fix what the licence panel lists" in dialog.export_button.toolTip()
    dialog.reject()
    window.show_tab("Licence")
    save_at_window_sizes(window, window.views.tabs, "licence-panel-with-violation")


def test_effects_that_the_pack_denies_are_disabled_with_the_reason(qtbot, themed_app, workspace, tmp_path) -> None:
    key = PublisherKey.generate()
    workspace.keyring().trust(key.public_key, name="Strict Label", source="test")
    write_tone_stems(tmp_path / "stems", {"vocals": 440.0, "drums": 110.0, "bass": 55.0}, seconds=2.0)
    sources = [StemSource(path=tmp_path / "stems" / f"{n}.wav", role=n) for n in ("vocals", "drums", "bass")]
    metadata = PackMetadata(id="strict-pack", title="Strict Song", artists=("Label Artist",), bpm=100, key="C major")
    pack = tmp_path / "strict.fanpack"
    build_pack(sources, metadata, policy_templates.strict(), key, pack)
    window = make_window(qtbot, workspace)
    session = open_and_wait(qtbot, window, lambda: window.open_path(pack))
    rack = window.views.rack
    assert not rack.add_actions["Distortion"].isEnabled()
    assert "does not allow the Distortion effect" in rack.add_actions["Distortion"].toolTip()
    assert rack.add_actions["Reverb"].isEnabled()
    assert not session.add_effect("vocals", preset_effect("Distortion"))
    assert session.recipe.stem("vocals").chain == ()
    vocals = window.views.mixer.strips["vocals"]
    assert not vocals.mute_button.isEnabled()
    assert "does not allow muting the vocals" in vocals.mute_button.toolTip()
    assert vocals.fader.minimum() == db_to_fader(-59.0)
    window.discard_and_close()


def test_effects_can_be_added_changed_and_removed(qtbot, window) -> None:
    session = window.session
    window.views.mixer.strips["keys"].fx_button.click()
    rack = window.views.rack
    assert rack.target == "keys"
    rack.add_actions["Reverb"].trigger()
    rack.add_actions["Delay"].trigger()
    assert [e.kind for e in session.recipe.stem("keys").chain] == ["Reverb", "Delay"]
    assert [c.spec.kind for c in rack.cards] == ["Reverb", "Delay"]
    assert window.views.mixer.strips["keys"].fx_button.text() == "FX · 2"
    # change a parameter: the card shows it with its unit, the recipe and the engine get it
    reverb = rack.cards[0]
    room = reverb.controls["room_size"]
    room.slider.setValue(value_to_slider(room.spec, 0.8))
    assert session.recipe.stem("keys").chain[0].param_dict["room_size"] == 0.8
    assert room.value_label.text() == "80 %"
    assert rack.cards[0] is reverb  # changed in place, not rebuilt under the fan's mouse
    delay_time = rack.cards[1].controls["delay_seconds"]
    assert delay_time.value_label.text().endswith("ms")
    qtbot.waitUntil(lambda: engine_recipe(window).stem("keys").chain == session.recipe.stem("keys").chain, timeout=2000)
    # presets, bypass and order
    card = rack.cards[1]
    card.preset_combo.setCurrentText("Slapback")
    card.preset_combo.activated.emit(card.preset_combo.currentIndex())
    assert session.recipe.stem("keys").chain[1].preset == "Slapback"
    rack.cards[1].bypass_button.click()
    assert session.recipe.stem("keys").chain[1].bypassed
    rack.cards[1].up_button.click()
    assert [e.kind for e in session.recipe.stem("keys").chain] == ["Delay", "Reverb"]
    # the master has its own rack
    window.views.mixer.master.fx_button.click()
    assert rack.target == MASTER
    rack.add_actions["Limiter"].trigger()
    assert [e.kind for e in session.recipe.master] == ["Limiter"]
    save_at_window_sizes(window, rack, "effects-rack-master")
    rack.set_target("keys")
    save_at_window_sizes(window, window.views.tabs, "effects-rack")
    while rack.cards:
        rack.cards[0].remove_button.click()
    assert session.recipe.stem("keys").chain == ()
    assert rack.empty_label.isVisibleTo(rack)
    qtbot.waitUntil(lambda: engine_recipe(window).stem("keys").chain == (), timeout=2000)


def test_save_close_and_open_restore_the_same_recipe(qtbot, window, workspace, tmp_path) -> None:
    session = window.session
    session.set_gain("drums", -3.5)
    session.set_pan("bass", -0.4)
    session.set_mute("keys", True)
    session.set_tempo(1.1)
    session.set_pitch(-2)
    session.set_region(1.0, 4.5)
    session.set_fades(0.5, 1.0)
    window.views.rack.add_effect("Chorus", "Wide")
    expected = session.recipe.recipe_hash()
    path = tmp_path / "my remix.fanremix"
    with qtbot.waitSignal(window.project_saved):
        assert window.save_to(path)
    assert not window.isWindowModified()
    assert "my remix" in window.windowTitle()
    project = load_project(path)
    assert project.pack_hash == session.manifest.pack_hash() and project.pack_path == session.pack_path
    window.close()
    assert not window.isVisible()

    reopened = make_window(qtbot, workspace)
    new_session = open_and_wait(qtbot, reopened, lambda: reopened.open_path(path))
    assert new_session.recipe.recipe_hash() == expected
    assert new_session.project_path == path
    assert not reopened.isWindowModified()
    assert reopened.views.mixer.strips["keys"].mute_button.isChecked()
    assert reopened.views.tempo_key.tempo_value.text() == "110 %"
    assert engine_recipe(reopened).recipe_hash() == expected
    assert str(path) in reopened.settings.recent_files
    reopened.discard_and_close()


def test_quitting_with_unsaved_changes_asks_first(qtbot, window) -> None:
    window.session.set_gain("drums", -1.0)
    window.close()
    assert window.isVisible()
    prompt = window.close_prompt
    assert prompt is not None and prompt.isVisible()
    prompt.button(QMessageBox.StandardButton.Cancel).click()
    assert window.isVisible() and window.session.is_dirty
    window.close()
    window.close_prompt.button(QMessageBox.StandardButton.Discard).click()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=2000)


def test_saving_from_the_quit_prompt_saves_then_closes(qtbot, window, tmp_path) -> None:
    window.session.set_gain("drums", -1.0)
    window.close()
    window.close_prompt.button(QMessageBox.StandardButton.Save).click()
    assert window.file_dialog.isVisible()  # no project yet: ask where
    with qtbot.waitSignal(window.project_saved):
        window.file_dialog.fileSelected.emit(str(tmp_path / "kept"))
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=2000)
    assert load_project(tmp_path / "kept.fanremix").recipe.stem("drums").gain_db == -1.0


def test_export_writes_a_file_that_reads_back(qtbot, window, tmp_path) -> None:
    session = window.session
    session.set_gain("drums", -2.0)
    session.set_region(0.5, 4.5)
    dialog = window.show_export_dialog()
    assert dialog.isVisible()
    looking = dialog.signer_label.text()
    qtbot.waitUntil(lambda: dialog.signer_label.text() != looking, timeout=LOAD_TIMEOUT_MS)  # its words on signing
    save_at_window_sizes(window, dialog, "export-dialog")
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("flac16"))
    destination = tmp_path / "out" / "remix.flac"
    dialog.destination_edit.setText(str(destination))
    progress: list[float] = []
    loudness_tip = dialog.loudness_combo.toolTip()
    job = dialog.start_export()
    job.progress.connect(lambda _stage, fraction: progress.append(fraction))
    assert dialog.close_button.text() == "Cancel"
    assert dialog.loudness_combo.toolTip() == dialog.busy_tip  # says why it cannot change now
    with qtbot.waitSignal(dialog.exported, timeout=60_000) as done:
        pass
    result = done.args[0]
    info = soundfile.info(str(destination))
    assert info.channels == 2 and info.samplerate == session.manifest.sample_rate
    assert abs(info.duration - 4.0) < 0.05
    assert abs(result.duration_s - 4.0) < 0.05
    assert progress and progress == sorted(progress)
    text = dialog.result_label.text()
    assert "LUFS" in text and "dBTP" in text and "00:04.0" in text
    assert dialog.close_button.text() == "Close"
    assert dialog.loudness_combo.toolTip() == loudness_tip  # and explains itself again once the export is done
    save_at_window_sizes(window, dialog, "export-dialog-done")


def test_a_cancelled_export_leaves_nothing(qtbot, window, tmp_path) -> None:
    dialog = window.show_export_dialog()
    destination = tmp_path / "cancelled.wav"
    dialog.destination_edit.setText(str(destination))
    job = dialog.start_export()
    dialog.close_button.click()  # "Cancel" while it runs
    with qtbot.waitSignal(job.done, timeout=60_000):
        pass
    assert isinstance(job.error, RenderCancelled)
    assert not destination.exists() and not list(tmp_path.glob(".fanremix-partial-*"))
    assert "nothing was written" in dialog.result_label.text()


def test_a_corrupt_pack_shows_an_error_dialog_and_the_session_survives(qtbot, window, tmp_path) -> None:
    session = window.session
    session.set_gain("bass", -5.0)
    before = session.recipe
    broken = tmp_path / "broken.fanpack"
    broken.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    with qtbot.waitSignal(window.load_failed, timeout=LOAD_TIMEOUT_MS) as failed:
        window.open_path(broken)
    assert "broken.fanpack" in str(failed.args[0])
    dialog = window.error_dialogs[-1]
    assert dialog.isVisible()
    assert "Could not open broken.fanpack" in dialog.text()
    assert str(failed.args[0]) in dialog.informativeText()
    assert window.session is session and session.recipe == before
    assert session.engine is not None
    dialog.accept()
    window.actions_by_name["play"].trigger()  # the old session still plays
    qtbot.waitUntil(lambda: window._last_state is not None and window._last_state.playing, timeout=5000)


def test_a_pack_with_a_bad_signature_is_refused_with_its_reason(qtbot, window, tmp_path, short_demo_pack) -> None:
    tampered = tmp_path / "tampered.fanpack"
    with zipfile.ZipFile(short_demo_pack) as source, zipfile.ZipFile(tampered, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "pack.json":
                data = data.replace(b"Lanterns Over Glass", b"Lanterns Over Brass")
            target.writestr(item, data)
    with qtbot.waitSignal(window.load_failed, timeout=LOAD_TIMEOUT_MS) as failed:
        window.open_path(tampered)
    assert "signature" in str(failed.args[0]).lower()
    assert window.session.manifest.title == "Lanterns Over Glass"
    window.error_dialogs[-1].accept()


def test_an_autosave_left_by_a_crash_is_offered_for_restore(qtbot, themed_app, workspace, demo_in_workspace) -> None:
    first = make_window(qtbot, workspace)
    session = open_and_wait(qtbot, first, first.open_demo)
    session.set_gain("drums", -7.0)
    session.set_mute("keys", True)
    with qtbot.waitSignal(first.autosaved, timeout=5000) as saved:
        first.autosave()
    autosave = saved.args[0]
    assert autosave.is_file() and autosave.parent == workspace.paths.data / "autosave"
    expected = session.recipe.recipe_hash()
    # simulate a crash: the process dies without closing the window or removing the autosave
    first.poll_timer.stop()
    first.autosave_timer.stop()
    session.close()
    first.session = None
    first.hide()

    second = make_window(qtbot, workspace)
    open_and_wait(qtbot, second, second.open_demo)
    banner = second.offer_restore()
    assert banner is not None
    qtbot.waitUntil(banner.isVisible, timeout=2000)
    save_artifact(second, "restore-offer", (1280, 800))
    restored = open_and_wait(qtbot, second, banner.restore_button.click)
    assert restored.recipe.recipe_hash() == expected
    assert second.isWindowModified()  # restored work is unsaved work
    assert second.restore_banner is None
    second.discard_and_close()
    assert not autosave.exists()


def test_no_restore_offer_after_a_clean_exit(qtbot, themed_app, workspace, demo_in_workspace) -> None:
    first = make_window(qtbot, workspace)
    session = open_and_wait(qtbot, first, first.open_demo)
    session.set_gain("drums", -7.0)
    with qtbot.waitSignal(first.autosaved, timeout=5000):
        first.autosave()
    first.discard_and_close()
    second = make_window(qtbot, workspace)
    assert second.offer_restore() is None
    second.discard_and_close()


def test_an_autosave_from_an_older_pack_is_refused_politely(qtbot, window, tmp_path) -> None:
    session = window.session
    stale = Project(
        recipe=session.recipe.__class__.for_stems(session.manifest.id, "0" * 64, session.stem_ids),
        pack_path=session.pack_path,
        pack_id=session.manifest.id,
        pack_hash="0" * 64,
    )
    path = tmp_path / "stale.fanremix"
    save_project(path, stale)
    with qtbot.waitSignal(window.load_failed, timeout=LOAD_TIMEOUT_MS) as failed:
        window.open_path(path)
    assert "different version" in str(failed.args[0])
    assert window.session is session
    window.error_dialogs[-1].accept()


def test_transport_keys_and_region(qtbot, window) -> None:
    session = window.session
    waveform = window.views.waveform
    # drag on the overview: a region; click: a seek
    y = waveform.height() // 2
    x1, x2 = int(waveform._x(1.0)), int(waveform._x(3.0))
    qtbot.mousePress(waveform, Qt.MouseButton.LeftButton, pos=_point(x1, y))
    qtbot.mouseMove(waveform, _point(x1 + 20, y))
    qtbot.mouseMove(waveform, _point(x2, y))
    qtbot.mouseRelease(waveform, Qt.MouseButton.LeftButton, pos=_point(x2, y))
    start, end = session.region()
    assert abs(start - 1.0) < 0.05 and abs(end - 3.0) < 0.05
    assert session.undo_stack.count() == 1
    qtbot.mouseClick(waveform, Qt.MouseButton.LeftButton, pos=_point(int(waveform._x(2.0)), y))
    assert abs(waveform.playhead_s - 2.0) < 0.05
    qtbot.keyClick(window, Qt.Key.Key_L)
    assert window.actions_by_name["loop"].isChecked()
    qtbot.waitUntil(lambda: session.engine.source._loop is not None, timeout=2000)
    qtbot.keyClick(window, Qt.Key.Key_Home)
    qtbot.waitUntil(lambda: window._last_state is not None and abs(window._last_state.original_s - start) < 0.05)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window._last_state.playing and window._last_state.original_s > start + 0.1, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not window._last_state.playing, timeout=2000)
    # M and S act on the selected stem
    window.views.mixer.select("bass")
    qtbot.keyClick(window, Qt.Key.Key_M)
    assert session.recipe.stem("bass").mute
    qtbot.keyClick(window, Qt.Key.Key_S)
    assert session.recipe.stem("bass").solo
    # fades: drag the fade-in handle
    handle = waveform._handles()["fade_in"].center()
    qtbot.mousePress(waveform, Qt.MouseButton.LeftButton, pos=handle.toPoint())
    target = _point(int(waveform._x(start + 0.5)), int(handle.y()))
    qtbot.mouseMove(waveform, target)
    qtbot.mouseRelease(waveform, Qt.MouseButton.LeftButton, pos=target)
    assert abs(session.recipe.fade_in_s - 0.5) < 0.05
    qtbot.mouseDClick(waveform, Qt.MouseButton.LeftButton, pos=_point(10, y))
    assert session.region() == (0.0, session.duration_s)
    assert isinstance(realtime.SetLoop(None), realtime.Command)


def _point(x: int, y: int) -> QPoint:
    return QPoint(x, y)


def test_file_shortcuts_drag_and_drop_and_recent_files(qtbot, window, tmp_path, short_demo_pack) -> None:
    qtbot.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert window.export_dialog is not None and window.export_dialog.isVisible()
    window.export_dialog.reject()
    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert window.file_dialog.isVisible()
    window.file_dialog.reject()
    window.session.set_gain("drums", -1.0)
    window.session.mark_saved(tmp_path / "named.fanremix")  # as if saved before: Ctrl+S saves in place
    window.session.set_gain("drums", -2.0)
    with qtbot.waitSignal(window.project_saved):
        qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert load_project(tmp_path / "named.fanremix").recipe.stem("drums").gain_db == -2.0
    # drop a pack on the window
    copy = tmp_path / "dropped.fanpack"
    copy.write_bytes(short_demo_pack.read_bytes())
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(copy))])
    enter = QDragEnterEvent(
        QPoint(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    with qtbot.waitSignal(window.session_loaded, timeout=LOAD_TIMEOUT_MS) as loaded:
        window.dropEvent(drop)
    assert loaded.args[0].pack_path == copy
    assert window.settings.recent_files[0] == str(copy.resolve())
    titles = [action.text() for action in window.recent_menu.actions()]
    assert titles[0] == "dropped.fanpack"


def test_significant_edits_are_autosaved(qtbot, window) -> None:
    with qtbot.waitSignal(window.autosaved, timeout=10_000) as saved:
        window.session.set_mute("drums", True)  # a discrete edit: autosaved shortly after
    assert load_project(saved.args[0]).recipe.stem("drums").mute
    assert window.autosave_timer.interval() == 30_000 and window.autosave_timer.isActive()


def test_every_control_has_an_accessible_name_and_is_reachable_with_tab(qtbot, window) -> None:
    from PySide6.QtWidgets import QAbstractButton, QAbstractSlider, QComboBox, QLineEdit, QTabBar, QWidget

    interactive = (QAbstractButton, QAbstractSlider, QComboBox, QLineEdit)
    window.views.rack.add_effect("Compressor")
    controls = [
        w
        for w in window.findChildren(QWidget)
        if isinstance(w, interactive) and w.isVisibleTo(window) and not isinstance(w.parent(), QTabBar)
    ]
    assert len(controls) > 30
    unnamed = [
        f"{type(w).__name__} {w.text() if hasattr(w, 'text') else ''}" for w in controls if not w.accessibleName()
    ]
    assert not unnamed, unnamed
    not_tabbable = [w.accessibleName() for w in controls if not (w.focusPolicy() & Qt.FocusPolicy.TabFocus)]
    assert not not_tabbable, not_tabbable
    # walk the real Tab chain from the play button and meet every control
    seen = set()
    widget = window.transport.buttons["play"]
    widget.setFocus()
    for _ in range(400):
        seen.add(id(widget))
        widget = widget.nextInFocusChain()
    missing = [w.accessibleName() for w in controls if w.isEnabled() and id(w) not in seen]
    assert not missing, missing


def test_device_settings_show_the_state_and_apply(qtbot, window) -> None:
    dialog = window.show_device_dialog()
    with qtbot.waitSignal(dialog.scan_job.done, timeout=10_000):
        pass
    assert dialog.device_combo.count() >= 1
    assert dialog.block_combo.currentData() == 512
    dialog.block_combo.setCurrentIndex(dialog.block_combo.findData(1024))
    old_engine = window.session.engine
    with qtbot.waitSignal(window.session.engine_replaced, timeout=10_000):
        dialog._apply()
    assert window.session.engine is not old_engine
    assert window.settings.block_frames == 1024
    qtbot.waitUntil(lambda: window.device_status.text() != "", timeout=5000)


def test_help_about_and_artist_mode_open_from_the_menus(qtbot, window) -> None:
    from fanremix import __version__
    from fanremix.gui.artist.window import ArtistWindow
    from fanremix.gui.dialogs.about_dialog import AboutDialog

    window.actions_by_name["about"].trigger()
    qtbot.waitUntil(lambda: isinstance(getattr(window, "about_dialog", None), AboutDialog))
    assert window.about_dialog.isVisible()
    assert __version__ in " ".join(label.text() for label in window.about_dialog.findChildren(QLabel))
    window.about_dialog.close()
    window.actions_by_name["artist"].trigger()
    qtbot.waitUntil(lambda: isinstance(getattr(window, "artist_window", None), ArtistWindow))
    qtbot.addWidget(window.artist_window)
    assert window.artist_window.isVisible()
