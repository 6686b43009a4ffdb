"""The pack builder: a folder of generated stems → a signed pack that verifies → the fan view, limits in force."""

from pathlib import Path

from fanremix.artist import load_or_create_publisher_key, publisher_key_status
from fanremix.domain import policy_templates
from fanremix.gui.widgets.controls import db_to_fader
from fanremix.rights.packfile import open_pack

from .conftest import TIMEOUT_MS, build_and_wait, fill_details, save_artifact, scan_and_wait, write_stems


def test_a_folder_of_stems_becomes_a_verified_pack_that_opens_in_the_fan_view_with_its_limits(
    qtbot, artist_window, song_folder, workspace, tmp_path_factory
) -> None:
    window = artist_window
    builder = window.builder
    scan_and_wait(qtbot, window, song_folder)
    # roles guessed from the file names, and the checks pass
    assert builder.roles() == {
        "01 Drums.wav": "drums",
        "02 Sub Bass.wav": "bass",
        "03 Rhodes.wav": "keys",
        "04 Lead Vox.wav": "vocals",
    }
    assert builder.checks_summary.text() == "✓ 4 stems, ready to pack."
    # the detected tempo and key are offered, not applied, until the artist accepts them
    assert builder.bpm_suggestion.isVisible() and builder.bpm_suggestion.text() == "Use 110 (detected)"
    assert builder.key_suggestion.text() == "Use A minor (detected)"
    assert builder.bpm_spin.value() == 120.0
    builder.bpm_suggestion.click()
    builder.key_suggestion.click()
    assert (builder.bpm_spin.value(), builder.key_combo.currentText()) == (110.0, "A minor")
    # the metadata form validates as it is typed
    assert not builder.build_button.isEnabled()
    assert "title" in builder.build_button.toolTip()
    fill_details(builder)
    assert builder.id_edit.text() == "night-drive"
    builder.isrc_edit.setText("GB-XYZ-26-001")
    builder.isrc_edit.textEdited.emit("GB-XYZ-26-001")
    assert "is not an ISRC" in builder.meta_problem.text() and not builder.build_button.isEnabled()
    builder.isrc_edit.setText("GB-XYZ-26-00042")
    builder.isrc_edit.textEdited.emit("GB-XYZ-26-00042")
    assert builder.meta_problem.text() == ""
    # the strict template, then one change of the artist's own: up to 120 % tempo
    window.show_page(1)
    editor = window.editor
    editor.template_combo.setCurrentIndex(editor.template_combo.findData("strict"))
    editor.apply_template_button.click()
    assert editor.policy() == policy_templates.strict()
    window.show_page(0)
    assert not publisher_key_status(workspace).exists
    built = build_and_wait(qtbot, window, tmp_path_factory.mktemp("out") / "night-drive.fanpack")
    save_artifact(window, "artist-builder")

    # the pack verifies as a fan's app checks it, signed by the key made for it on first use
    key = publisher_key_status(workspace)
    assert key.exists and (key.path.stat().st_mode & 0o077) == 0
    with open_pack(built.path, workspace.keyring()) as opened:
        manifest = opened.manifest
        assert manifest.signature.key_id == key.key_id
        assert (manifest.title, manifest.artists, manifest.isrc) == ("Night Drive", ("The Owls",), "GBXYZ2600042")
        assert (manifest.bpm, manifest.key) == (110.0, "A minor")
        assert manifest.policy == policy_templates.strict()
    assert "Built and verified night-drive.fanpack" in builder.build_status.text()
    assert "publisher key was created" in builder.build_status.text()

    # the policy is edited after the build: the fan view opens under the edited policy, every limit live
    editor.tempo_row.spins[1].setValue(120.0)
    assert editor.policy().tempo_ratio.high == 1.2
    window.show_page(2)
    with qtbot.waitSignal(window.fan_view_ready, timeout=TIMEOUT_MS) as ready:
        window.preview.fan_button.click()
    fan = ready.args[0]
    views, session = fan.views, fan.session
    assert session.manifest.policy == policy_templates.strict().with_changes(tempo_ratio=editor.policy().tempo_ratio)
    assert (views.tempo_key.tempo_slider.minimum(), views.tempo_key.tempo_slider.maximum()) == (900, 1200)
    assert (views.tempo_key.key_slider.minimum(), views.tempo_key.key_slider.maximum()) == (-2, 2)
    vocals = next(stem.id for stem in session.manifest.stems if stem.role == "vocals")
    strip = views.mixer.strips[vocals]
    assert not strip.solo_button.isEnabled() and not strip.mute_button.isEnabled()
    assert "does not allow muting the vocals" in strip.mute_button.toolTip()
    assert strip.fader.minimum() == db_to_fader(-59.0)  # must stay audible
    assert not views.rack.add_actions["Distortion"].isEnabled()
    views.tempo_key.tempo_slider.setValue(1300)  # past the edited limit: the slider stops at it
    assert session.recipe.tempo_ratio == 1.2


def test_problems_are_shown_before_building_and_the_offered_fixes_clear_them(
    qtbot, artist_window, tmp_path_factory, workspace
) -> None:
    tmp_path = tmp_path_factory.mktemp("p")  # a short path, so the screenshot shows it whole
    key, _created = load_or_create_publisher_key(workspace, "Someone")  # made before: the build signs with it
    folder = write_stems(tmp_path / "stems", {"Lead Vocal": (440.0, 0.3), "Drum Loop": (100.0, 0.3)}, seconds=2.0)
    write_stems(folder, {"Bass": (55.0, 0.3)}, seconds=1.6, rate=48000)
    builder = artist_window.builder
    scan_and_wait(qtbot, artist_window, folder)
    fill_details(builder, "Short Song", "Someone")
    assert builder.checks_summary.text() == "2 problems stop the pack from being built:"
    assert not builder.build_button.isEnabled()
    assert "Fix the problems listed under Checks." in builder.build_button.toolTip()
    errors = " ".join(p.message for p in builder.problems)
    assert "different sample rates" in errors and "not the same length" in errors
    assert builder.resample_check.isEnabled() and builder.pad_check.isEnabled()
    save_artifact(artist_window, "artist-builder-problems")
    builder.resample_check.setChecked(True)
    builder.pad_check.setChecked(True)
    assert builder.checks_summary.text() == "✓ 3 stems, ready to pack."
    assert builder.build_button.isEnabled()
    built = build_and_wait(qtbot, artist_window, tmp_path / "short.fanpack")
    assert {stem.frames for stem in built.manifest.stems} == {88200}
    assert built.manifest.sample_rate == 44100
    assert Path(built.path).exists() and built.manifest.signature.key_id == key.key_id
    assert "publisher key was created" not in artist_window.builder.build_status.text()
