"""The extremes preview renders the policy's corners: their lengths follow the tempo, their pitch follows the key."""

import math

from fanremix.artist import BuildStem, build_artist_pack, dominant_frequency, load_or_create_publisher_key, scan_folder
from fanremix.domain import policy_templates
from fanremix.rights.packfile import PackMetadata

from .conftest import TIMEOUT_MS, save_artifact

EXCERPT_S = 2.0
VOCAL_HZ = 440.0


def test_the_extremes_are_rendered_at_the_policy_corners(qtbot, artist_window, tone_folder, workspace, tmp_path):
    key, _created = load_or_create_publisher_key(workspace, "Tone Band")
    metadata = PackMetadata(id="tones", title="Tones", artists=("Tone Band",), bpm=120, key="A major")
    stems = [BuildStem.guessed(f) for f in scan_folder(tone_folder)]
    built = build_artist_pack(
        stems, metadata, policy_templates.demo(), key, tmp_path / "tones.fanpack", workspace.keyring()
    )
    window = artist_window
    with qtbot.waitSignal(window.pack_loaded, timeout=TIMEOUT_MS):
        window.open_pack_file(built.path)
    assert window.editor.policy() == policy_templates.demo()  # the pack's policy is what the editor shows
    window.show_page(2)
    page = window.preview
    page.length_spin.setValue(EXCERPT_S)
    with qtbot.waitSignal(page.extremes_rendered, timeout=TIMEOUT_MS) as done:
        page.render_button.click()
    rendered = {item.extreme.label: item for item in done.args[0]}
    assert list(rendered)[:5] == [
        "Original",
        "Slowest, lowest key",
        "Slowest, highest key",
        "Fastest, lowest key",
        "Fastest, highest key",
    ]
    assert set(list(rendered)[5:]) == {"Without Lead Vox", "Without Kick", "Without Sub Bass", "Without Pad"}
    for label, item in rendered.items():
        tempo, pitch = item.extreme.tempo_ratio, item.extreme.pitch_semitones
        assert math.isclose(item.duration_s, EXCERPT_S / tempo, abs_tol=0.002), label
        frequency = dominant_frequency(item.audio, item.sample_rate)
        if label.startswith("Without Lead Vox"):
            assert abs(frequency - VOCAL_HZ) > 20, label  # the loud vocal tone is gone
        else:
            assert math.isclose(frequency, VOCAL_HZ * 2 ** (pitch / 12), rel_tol=0.005), (label, frequency)
    corners = {(r.extreme.tempo_ratio, r.extreme.pitch_semitones) for r in rendered.values()}
    assert {(0.8, -3.0), (0.8, 3.0), (1.25, -3.0), (1.25, 3.0)} <= corners
    # what the policy refuses is listed with its reason, not rendered
    assert page.skipped_title.isVisible()
    assert {s.label for s in page.skipped} == {"Lead Vox alone", "Kick alone", "Sub Bass alone", "Pad alone"}
    assert page.table.rowCount() == len(rendered)
    # an extreme plays in the app's engine (silently here)
    with qtbot.waitSignal(window.player.started, timeout=TIMEOUT_MS):
        page.play_buttons[1].click()
    assert page.play_buttons[1].text() == "Stop"
    save_artifact(window, "artist-what-fans-can-do")
    with qtbot.waitSignal(window.player.stopped):
        page.play_buttons[1].click()
    assert page.play_buttons[1].text() == "Play"
