"""The Qt-free half of artist mode: stems in, checks and suggestions, conforming, packs, extremes, the CLI."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

from fanremix import cli_artist
from fanremix.artist import (
    FIX_PAD,
    FIX_RESAMPLE,
    SEVERITY_ERROR,
    SEVERITY_NOTE,
    SEVERITY_WARNING,
    BuildStem,
    ConformOptions,
    StemCheckError,
    StemTable,
    analyse_stems,
    blocking,
    build_artist_pack,
    check_stems,
    conform_stems,
    describe_audio_file,
    detect_bpm,
    detect_key,
    load_or_create_publisher_key,
    policy_extremes,
    publisher_key_status,
    scan_folder,
)
from fanremix.domain import policy_templates
from fanremix.domain.music import MusicalKey
from fanremix.domain.policy import Policy
from fanremix.rights.packfile import PackMetadata, open_pack

from .conftest import RATE, write_stems


def codes(problems) -> dict[str, str]:
    return {p.code: p.severity for p in problems}


def test_a_folder_is_scanned_with_roles_guessed_from_the_file_names(song_folder: Path) -> None:
    files = scan_folder(song_folder)
    assert {f.path.name: f.role for f in files} == {
        "01 Drums.wav": "drums",
        "02 Sub Bass.wav": "bass",
        "03 Rhodes.wav": "keys",
        "04 Lead Vox.wav": "vocals",
    }
    assert all(f.sample_rate == RATE and f.channels == 2 and abs(f.duration_s - 4.0) < 0.01 for f in files)
    assert check_stems(files) == []


def test_the_detected_bpm_and_key_are_the_songs(song_folder: Path) -> None:
    analysis = analyse_stems(StemTable.from_files(scan_folder(song_folder)).stems)
    assert analysis.tempo is not None and analysis.tempo.bpm == 110.0  # the demo song's tempo
    assert analysis.key is not None and analysis.key.key == MusicalKey.parse("A minor")


@pytest.mark.parametrize("bpm", [92.0, 128.0, 174.0])
def test_bpm_detection_on_a_drum_pattern(bpm: float) -> None:
    rng = np.random.default_rng(7)
    audio = np.zeros(int(6 * RATE), np.float32)
    for beat, start in enumerate(np.arange(0, 6, 60 / bpm)):
        at = int(start * RATE)
        hit = rng.standard_normal(2000) * np.exp(-np.arange(2000) / 300) * (1.0 if beat % 2 == 0 else 0.6)
        audio[at : at + 2000] += hit[: len(audio) - at]
    estimate = detect_bpm(audio, RATE)
    assert estimate is not None and estimate.bpm == bpm


def test_no_bpm_is_suggested_for_held_notes_and_the_key_of_a_progression_is_found() -> None:
    t = np.arange(int(4 * RATE)) / RATE

    def chord(notes):
        return sum(0.2 * np.sin(2 * np.pi * 440 * 2 ** ((n - 69) / 12) * t[:RATE]) for n in notes)

    held = sum(0.2 * np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
    assert detect_bpm(held.astype(np.float32), RATE) is None
    d_minor = np.concatenate([chord(c) for c in ((50, 53, 57), (55, 58, 62), (57, 61, 64), (50, 53, 57))])
    assert detect_key(d_minor.astype(np.float32), RATE).key == MusicalKey.parse("D minor")


def test_mixed_rates_misaligned_stems_and_clipping_are_reported_with_suggestions(tmp_path: Path) -> None:
    folder = write_stems(tmp_path / "a", {"Vocals": (440.0, 0.3), "Drums": (100.0, 0.3)}, seconds=2.0)
    write_stems(folder, {"Bass": (55.0, 0.3)}, seconds=2.0, rate=48000)
    write_stems(folder, {"Guitar": (196.0, 0.3)}, seconds=1.5)
    clipped = np.clip(1.5 * np.sin(2 * np.pi * 330 * np.arange(2 * RATE) / RATE), -1, 1)
    soundfile.write(str(folder / "Synth.wav"), np.stack([clipped, clipped], 1), RATE, subtype="PCM_16")
    files = scan_folder(folder)
    problems = check_stems(files)
    assert codes(problems) == {
        "stem.clipping": SEVERITY_WARNING,
        "stems.mixed_rates": SEVERITY_ERROR,
        "stems.not_aligned": SEVERITY_ERROR,
    }
    by_code = {p.code: p for p in problems}
    assert by_code["stems.mixed_rates"].fix == FIX_RESAMPLE
    assert "Resample them to 44100 Hz" in by_code["stems.mixed_rates"].suggestion
    assert "Bass.wav (48000 Hz)" in by_code["stems.mixed_rates"].message
    assert by_code["stems.not_aligned"].fix == FIX_PAD
    assert "Guitar.wav (0.500 s shorter)" in by_code["stems.not_aligned"].message
    assert "same start point" in by_code["stems.not_aligned"].suggestion
    assert "Synth.wav clips" in by_code["stem.clipping"].message
    assert "Lower it by at least" in by_code["stem.clipping"].suggestion
    # with both fixes switched on, what blocked the pack becomes what the build does
    fixed = check_stems(files, ConformOptions(sample_rate=44100, pad_to_longest=True))
    assert codes(fixed) == {
        "stem.clipping": SEVERITY_WARNING,
        "stems.resampled": SEVERITY_NOTE,
        "stems.padded": SEVERITY_NOTE,
    }
    assert not blocking(fixed)


def test_clipping_runs_are_counted_across_read_blocks(tmp_path: Path) -> None:
    audio = np.zeros((70_000, 1), np.float32)
    audio[65_534:65_540] = 1.0  # one run of six full-scale samples straddling the 65,536-frame block boundary
    audio[10] = 1.0  # a single full-scale sample is a peak, not clipping
    soundfile.write(str(tmp_path / "x.wav"), audio, RATE, subtype="FLOAT")
    assert describe_audio_file(tmp_path / "x.wav").clipped == 6


def test_conforming_resamples_pads_and_converts_aiff_and_mp3(tmp_path: Path) -> None:
    folder = write_stems(tmp_path / "in", {"Vocals": (440.0, 0.3)}, seconds=2.0)
    t = np.arange(int(1.9 * 48000)) / 48000
    tone = 0.3 * np.sin(2 * np.pi * 110 * t)
    soundfile.write(str(folder / "Drums.aiff"), np.stack([tone, tone], 1), 48000, subtype="PCM_24", format="AIFF")
    t = np.arange(2 * RATE) / RATE
    soundfile.write(str(folder / "Bass.mp3"), 0.3 * np.sin(2 * np.pi * 55 * t), RATE, format="MP3")
    files = scan_folder(folder)
    assert {p.code for p in check_stems(files)} >= {"stem.converted", "stem.lossy", "stems.mixed_rates"}
    table = StemTable.from_files(files)
    with pytest.raises(StemCheckError, match="different sample rates"):
        conform_stems(table.stems, ConformOptions(), tmp_path / "out")
    sources = conform_stems(table.stems, ConformOptions(sample_rate=RATE, pad_to_longest=True), tmp_path / "out")
    by_role = {s.role: s for s in sources}
    assert by_role["vocals"].path == folder / "Vocals.wav"  # already fine: used where it is
    assert by_role["drums"].path.suffix == ".flac" and by_role["bass"].path.suffix == ".flac"
    lengths = {role: soundfile.info(str(s.path)).frames for role, s in by_role.items()}
    assert set(lengths.values()) == {max(lengths.values())}
    assert soundfile.info(str(by_role["drums"].path)).samplerate == RATE


def test_a_built_pack_verifies_and_the_key_is_created_once_and_private(tmp_path, song_folder, workspace) -> None:
    assert not publisher_key_status(workspace).exists
    key, created = load_or_create_publisher_key(workspace, "The Owls")
    assert created and (workspace.default_key_path().stat().st_mode & 0o077) == 0
    again, created_again = load_or_create_publisher_key(workspace, "The Owls")
    assert not created_again and again.key_id == key.key_id
    metadata = PackMetadata(id="night-drive", title="Night Drive", artists=("The Owls",), bpm=110, key="A minor")
    stems = [BuildStem.guessed(f) for f in scan_folder(song_folder)]
    built = build_artist_pack(
        stems, metadata, policy_templates.strict(), key, tmp_path / "night-drive", workspace.keyring()
    )
    assert built.path.name == "night-drive.fanpack"
    with open_pack(built.path, workspace.keyring()) as opened:
        assert opened.manifest.signature.key_id == key.key_id == publisher_key_status(workspace).key_id
        assert {s.role for s in opened.manifest.stems} == {"drums", "bass", "keys", "vocals"}
        assert opened.manifest.policy == policy_templates.strict()


def test_the_extremes_are_the_policy_corners_and_what_it_refuses_is_explained(tmp_path, small_pack, workspace) -> None:
    with open_pack(small_pack, workspace.keyring()) as opened:
        manifest = opened.manifest
    extremes, skipped = policy_extremes(manifest, policy_templates.demo(), length_s=0.5)
    corners = {(e.tempo_ratio, e.pitch_semitones) for e in extremes if e.kind in ("original", "corner")}
    assert corners == {(1.0, 0.0), (0.8, -3.0), (0.8, 3.0), (1.25, -3.0), (1.25, 3.0)}
    labels = [e.label for e in extremes]
    assert "Slowest, lowest key" in labels and "Fastest, highest key" in labels
    assert {"Without vocals", "Without drums", "Without bass", "Without keys"} <= set(labels)
    assert not any(e.kind == "alone" for e in extremes)  # demo: at least two stems must stay audible
    reasons = {s.label: s.reason for s in skipped}
    assert "may not be soloed" in reasons["vocals alone"]
    assert "at least 2" in reasons["drums alone"]
    # a strict policy: the vocals may not be muted, so there is no "without vocals"
    strict, skipped = policy_extremes(manifest, policy_templates.strict(), length_s=0.5)
    assert "Without vocals" not in [e.label for e in strict]
    assert "may not be muted" in {s.label: s.reason for s in skipped}["Without vocals"]
    assert all(abs(e.expected_duration_s(manifest) - 0.5 / e.tempo_ratio) < 1e-9 for e in strict)


def fanremix(argv: list[str]) -> int:
    return cli_artist.main(argv)


def test_cli_policy_new_writes_the_template_and_show_prints_its_words(tmp_path, capsys) -> None:
    out = tmp_path / "policy.json"
    assert fanremix(["policy", "new", "--template", "strict", "-o", str(out)]) == 0
    assert Policy.from_json(out.read_bytes()) == policy_templates.strict()
    assert "Muting the vocals." in capsys.readouterr().out
    assert fanremix(["policy", "new", "--template", "open", "-o", str(out)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert fanremix(["policy", "new", "--template", "open", "-o", str(out), "--force", "--attribution", "By Us"]) == 0
    assert json.loads(out.read_text())["permission"][0]["duty"][0]["fanremix:credit"] == "By Us"
    assert fanremix(["policy", "show", str(out)]) == 0
    assert "Change the tempo from 0.50× to 2.00×." in capsys.readouterr().out


def test_cli_stems_lists_roles_problems_and_suggestions(tmp_path, song_folder, capsys) -> None:
    assert fanremix(["stems", str(song_folder)]) == 0
    out = capsys.readouterr().out
    assert "04 Lead Vox.wav" in out and "vocals" in out
    assert "Suggested BPM: 110 BPM; suggested key: A minor" in out
    folder = write_stems(tmp_path / "s", {"Vocals": (440.0, 0.3)}, seconds=2.0)
    write_stems(folder, {"Drums": (100.0, 0.3)}, seconds=1.0)
    assert fanremix(["stems", str(folder), "--no-analysis"]) == cli_artist.EXIT_PROBLEMS
    out = capsys.readouterr().out
    assert "ERROR: The stems are not the same length" in out and "--pad" in out
    assert fanremix(["stems", str(folder), "--no-analysis", "--pad", "--role", "Vocals.wav=other"]) == 0
    out = capsys.readouterr().out
    assert "will be padded" in out and "can be packed" in out
    assert "other" in next(line for line in out.splitlines() if line.startswith("Vocals.wav"))


def test_prepare_pack_stems_is_what_pack_create_needs(tmp_path, workspace, capsys) -> None:
    folder = write_stems(tmp_path / "in", {"Lead Vox": (440.0, 0.3), "Pad": (220.0, 0.3)}, seconds=1.0)
    write_stems(folder, {"Kick": (60.0, 0.3)}, seconds=1.0, rate=48000)
    with pytest.raises(StemCheckError, match="different sample rates"):
        cli_artist.prepare_pack_stems(folder, {}, tmp_path / "w")
    with pytest.raises(cli_artist.ArtistCommandError, match="not in"):
        cli_artist.prepare_pack_stems(folder, {"Nope.wav": "bass"}, tmp_path / "w")
    sources = cli_artist.prepare_pack_stems(folder, {"Pad.wav": "keys"}, tmp_path / "w", resample="auto")
    assert {(s.id, s.role) for s in sources} == {("lead-vox", "vocals"), ("pad", "keys"), ("kick", "drums")}
    assert "will be resampled to 44100 Hz" in capsys.readouterr().out
    assert {soundfile.info(str(s.path)).samplerate for s in sources} == {RATE}
