"""The offline render end to end: policy first, determinism, regions and fades, formats, progress, cancellation."""

import hashlib
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile

from fanremix.audio import effects, loudness, offline
from fanremix.audio.errors import ExportError, RenderCancelled, RenderError, TruePeakError
from fanremix.audio.export import FORMATS
from fanremix.audio.offline import render_to_array, render_to_file
from fanremix.demo import make_demo_pack
from fanremix.domain import policy_templates
from fanremix.domain.atomic import TEMP_PREFIX
from fanremix.domain.policy import PolicyViolationError
from fanremix.domain.recipe import Recipe
from fanremix.rights.packfile import open_pack
from tests.audio.conftest import FFMPEG, SAMPLE_RATE, PackFactory, ToyPack, ffmpeg_ebur128, program, tone


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """An empty folder for render output, apart from the folders the test packs live in."""
    folder = tmp_path / "renders"
    folder.mkdir()
    return folder


def full_recipe(pack: ToyPack):
    """Effects on stems and master, tempo, key, region, fades and loudness: everything a render does."""
    recipe = pack.recipe(
        tempo_ratio=1.1,
        pitch_semitones=2.0,
        region_start_s=0.25,
        region_end_s=1.75,
        fade_in_s=0.1,
        fade_out_s=0.2,
    )
    recipe = recipe.with_stem("vocals", gain_db=-2.0, pan=-0.3, chain=(effects.preset_effect("Reverb", "Plate"),))
    recipe = recipe.with_stem("drums", chain=(effects.preset_effect("Compressor"), effects.preset_effect("Delay")))
    return recipe.with_chain("master", (effects.preset_effect("PeakFilter"),))


def test_gain_of_6_02_db_doubles_the_amplitude_with_normalisation_off(four_tones: ToyPack) -> None:
    base = four_tones.recipe()
    louder = base
    for stem in four_tones.manifest.stems:
        louder = louder.with_stem(stem.id, gain_db=6.02)
    quiet = render_to_array(four_tones.manifest, four_tones.stem_paths, base, normalize=False)
    loud = render_to_array(four_tones.manifest, four_tones.stem_paths, louder, normalize=False)
    ratio_db = 20 * np.log10(np.max(np.abs(loud.audio)) / np.max(np.abs(quiet.audio)))
    assert ratio_db == pytest.approx(6.02, abs=0.01)
    rms_ratio_db = 10 * np.log10(
        np.mean(loud.audio.astype(np.float64) ** 2) / np.mean(quiet.audio.astype(np.float64) ** 2)
    )
    assert rms_ratio_db == pytest.approx(6.02, abs=0.01)


def test_mute_and_solo_hold_through_the_whole_render(four_tones: ToyPack) -> None:
    muted = render_to_array(
        four_tones.manifest, four_tones.stem_paths, four_tones.recipe().with_stem("vocals", mute=True), normalize=False
    )
    assert np.array_equal(
        muted.audio, four_tones.arrays["drums"] + four_tones.arrays["bass"] + four_tones.arrays["keys"]
    )
    soloed = render_to_array(
        four_tones.manifest, four_tones.stem_paths, four_tones.recipe().with_stem("bass", solo=True), normalize=False
    )
    assert np.array_equal(soloed.audio, four_tones.arrays["bass"])


def test_two_renders_of_the_same_recipe_are_bit_identical(four_tones: ToyPack, out_dir: Path) -> None:
    recipe = full_recipe(four_tones)
    first = render_to_file(four_tones.manifest, four_tones.stem_paths, recipe, out_dir / "a.wav", "wav24")
    second = render_to_file(four_tones.manifest, four_tones.stem_paths, recipe, out_dir / "b.wav", "wav24")
    assert first.sha256 == second.sha256 == hashlib.sha256((out_dir / "a.wav").read_bytes()).hexdigest()
    a, _ = soundfile.read(str(out_dir / "a.wav"), dtype="int32")
    b, _ = soundfile.read(str(out_dir / "b.wav"), dtype="int32")
    assert np.array_equal(a, b)
    in_memory = render_to_array(four_tones.manifest, four_tones.arrays, recipe)  # decoded arrays give the same
    again = render_to_array(four_tones.manifest, four_tones.stem_paths, recipe, workers=1)
    assert np.array_equal(in_memory.audio, again.audio)


def test_the_full_recipe_lands_on_target_loudness_length_and_peak(four_tones: ToyPack, out_dir: Path) -> None:
    recipe = full_recipe(four_tones)
    result = render_to_file(four_tones.manifest, four_tones.stem_paths, recipe, out_dir / "out.flac")
    assert result.format.name == "flac24"
    assert result.duration_s == pytest.approx(1.5 / 1.1, abs=0.010)
    audio, rate = soundfile.read(str(out_dir / "out.flac"), dtype="float32")
    assert rate == SAMPLE_RATE and audio.shape == (result.frames, 2)
    assert loudness.integrated_loudness(audio, rate) == pytest.approx(-14.0, abs=0.3)
    assert loudness.true_peak_dbtp(audio) <= -1.0
    assert result.loudness.integrated_lufs == pytest.approx(-14.0, abs=0.3)
    assert result.loudness.true_peak_dbtp <= -1.0
    assert np.max(np.abs(audio[:10])) < 1e-3 and np.max(np.abs(audio[-10:])) < 1e-3  # the fades reach silence
    assert {"decode", "mix", "stretch", "master", "loudness", "encode"} <= set(result.timings)


@pytest.mark.skipif(FFMPEG is None, reason="ffmpeg is not installed")
def test_the_demo_pack_renders_to_target_by_pyloudnorm_and_by_ffmpeg(workspace, tmp_path: Path) -> None:
    pack_path = tmp_path / "demo.fanpack"
    make_demo_pack(pack_path, seconds=6.0)
    with open_pack(pack_path, workspace.keyring()) as pack:
        manifest = pack.manifest
        remix = Recipe.for_stems(
            manifest.id, manifest.pack_hash(), [s.id for s in manifest.stems], tempo_ratio=1.1, pitch_semitones=2.0
        )
        remix = remix.with_chain("drums", (effects.preset_effect("Compressor"), effects.preset_effect("Reverb")))
        remix = remix.with_chain("master", (effects.preset_effect("Limiter", "Safety"),))
        result = render_to_file(manifest, pack.stem_paths, remix, tmp_path / "demo-remix.wav")
    integrated, true_peak = ffmpeg_ebur128(tmp_path / "demo-remix.wav")
    assert integrated == pytest.approx(-14.0, abs=0.3)
    assert true_peak <= -1.0
    assert result.loudness.integrated_lufs == pytest.approx(-14.0, abs=0.3)
    assert result.duration_s == pytest.approx(6.0 / 1.1, abs=0.010)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_export_format_reads_back_with_the_right_duration_and_channels(
    four_tones: ToyPack, out_dir: Path, name: str
) -> None:
    fmt = FORMATS[name]
    recipe = four_tones.recipe(region_end_s=1.0)
    out = out_dir / f"out{fmt.suffix}"
    result = render_to_file(four_tones.manifest, four_tones.stem_paths, recipe, out, name)
    assert out.is_file() and result.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    info = soundfile.info(str(out))
    assert info.channels == 2 and info.samplerate == SAMPLE_RATE
    if fmt.lossy:
        assert info.frames / SAMPLE_RATE == pytest.approx(1.0, abs=0.010)
    else:
        assert info.frames == SAMPLE_RATE
        assert info.subtype == {16: "PCM_16", 24: "PCM_24", 32: "FLOAT"}[fmt.bits]
    if FFMPEG:  # a second, independent decoder must agree on the length
        decoded = subprocess.run(
            [FFMPEG, "-v", "error", "-i", str(out), "-f", "f32le", "-ac", "2", "-"], capture_output=True, check=True
        ).stdout
        assert len(decoded) / 8 / SAMPLE_RATE == pytest.approx(1.0, abs=0.010)
    assert not list(out_dir.glob(TEMP_PREFIX + "*"))


def test_pcm_exports_hold_the_rendered_samples(four_tones: ToyPack, out_dir: Path) -> None:
    recipe = four_tones.recipe(region_end_s=1.0)
    rendered = render_to_array(four_tones.manifest, four_tones.stem_paths, recipe)
    render_to_file(four_tones.manifest, four_tones.stem_paths, recipe, out_dir / "f.wav", "wav32f")
    render_to_file(four_tones.manifest, four_tones.stem_paths, recipe, out_dir / "i.flac", "flac24")
    render_to_file(four_tones.manifest, four_tones.stem_paths, recipe, out_dir / "d.flac", "flac16")
    assert np.array_equal(soundfile.read(str(out_dir / "f.wav"), dtype="float32")[0], rendered.audio)
    assert np.max(np.abs(soundfile.read(str(out_dir / "i.flac"))[0] - rendered.audio)) <= 2**-23
    sixteen = soundfile.read(str(out_dir / "d.flac"))[0] - rendered.audio
    assert np.max(np.abs(sixteen)) <= 1.5 * 2**-15  # rounding plus at most one step of triangular dither
    assert np.std(sixteen) > 0.3 * 2**-15  # the dither is there


def test_a_cancelled_render_leaves_no_file(four_tones: ToyPack, out_dir: Path) -> None:
    for stage in ("mix", "stretch", "loudness", "encode"):
        stop = threading.Event()

        def progress(current: str, fraction: float, stage: str = stage, stop: threading.Event = stop) -> None:
            if current == stage:
                stop.set()

        out = out_dir / f"cancelled-at-{stage}.flac"
        with pytest.raises(RenderCancelled):
            render_to_file(
                four_tones.manifest, four_tones.stem_paths, full_recipe(four_tones), out, progress=progress, cancel=stop
            )
        assert not out.exists()
    assert list(out_dir.iterdir()) == []


def test_a_cancelled_render_leaves_an_earlier_file_as_it_was(four_tones: ToyPack, out_dir: Path) -> None:
    out = out_dir / "keep.wav"
    out.write_bytes(b"previous render")
    with pytest.raises(RenderCancelled):
        render_to_file(four_tones.manifest, four_tones.stem_paths, four_tones.recipe(), out, cancel=lambda: True)
    assert out.read_bytes() == b"previous render"
    assert [p.name for p in out_dir.iterdir()] == ["keep.wav"]


def test_a_recipe_the_policy_forbids_is_refused_before_anything_is_decoded(
    make_pack: PackFactory, out_dir: Path
) -> None:
    pack = make_pack(
        {"vocals": ("vocals", tone(440.0, 1.0)), "drums": ("drums", program(1.0)), "bass": ("bass", tone(55.0, 1.0))},
        policy=policy_templates.demo(),
    )
    recipe = pack.recipe(tempo_ratio=1.5, pitch_semitones=5.0).with_stem("vocals", solo=True)
    recipe = recipe.with_stem("drums", chain=(effects.preset_effect("Reverb"),))
    nowhere = {stem_id: out_dir / "missing" / f"{stem_id}.wav" for stem_id in pack.stem_paths}  # never opened
    out = out_dir / "refused.wav"
    with pytest.raises(PolicyViolationError) as caught:
        render_to_file(pack.manifest, nowhere, recipe, out)
    codes = {violation.code for violation in caught.value.violations}
    assert codes == {
        "tempo.above_max",
        "pitch.above_max",
        "role.solo_forbidden",
        "role.alone_forbidden",
        "stems.too_few_audible",
    }
    for violation in caught.value.violations:
        assert violation.message in str(caught.value)
    assert not out.exists()


def test_the_region_is_taken_from_the_original_timeline(make_pack: PackFactory) -> None:
    ramp = np.repeat(np.linspace(0.0, 0.5, 2 * SAMPLE_RATE, dtype=np.float32)[:, None], 2, axis=1)
    pack = make_pack({"ramp": ("keys", ramp)})
    recipe = pack.recipe(region_start_s=0.5, region_end_s=1.5, loudness_lufs=None)
    rendered = render_to_array(pack.manifest, pack.stem_paths, recipe)
    assert np.array_equal(rendered.audio, ramp[SAMPLE_RATE // 2 : 3 * SAMPLE_RATE // 2])
    past_the_end = pack.recipe(region_start_s=1.5, region_end_s=9.0, loudness_lufs=None)
    assert render_to_array(pack.manifest, pack.stem_paths, past_the_end).frames == SAMPLE_RATE // 2
    with pytest.raises(RenderError, match=r"only 2\.00 s long"):
        render_to_array(pack.manifest, pack.stem_paths, pack.recipe(region_start_s=3.0))


def test_fades_shape_the_start_and_the_end_of_the_output(make_pack: PackFactory) -> None:
    level = np.full((SAMPLE_RATE, 2), 0.25, dtype=np.float32)
    pack = make_pack({"dc": ("keys", level)})
    recipe = pack.recipe(fade_in_s=0.1, fade_out_s=0.25, loudness_lufs=None)
    out = render_to_array(pack.manifest, pack.stem_paths, recipe).audio[:, 0]
    fade_in, fade_out = round(0.1 * SAMPLE_RATE), round(0.25 * SAMPLE_RATE)
    assert out[0] < 1e-4 and out[-1] < 1e-4
    assert np.all(np.diff(out[:fade_in]) > 0) and np.all(np.diff(out[-fade_out:]) < 0)
    assert out[fade_in // 2] == pytest.approx(0.125, abs=1e-3)
    assert np.all(out[fade_in : len(out) - fade_out] == np.float32(0.25))


def test_progress_rises_from_start_to_finish_through_named_stages(four_tones: ToyPack, out_dir: Path) -> None:
    seen: list[tuple[str, float]] = []
    render_to_file(
        four_tones.manifest,
        four_tones.stem_paths,
        full_recipe(four_tones),
        out_dir / "p.ogg",
        progress=lambda s, f: seen.append((s, f)),
    )
    fractions = [fraction for _, fraction in seen]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    stages = list(dict.fromkeys(stage for stage, _ in seen))
    assert stages == ["decode", "mix", "stretch", "master", "loudness", "encode", "hash"]


def test_bad_formats_and_bad_effects_fail_before_anything_is_written(four_tones: ToyPack, out_dir: Path) -> None:
    with pytest.raises(ExportError, match="Unknown export format 'aiff'"):
        render_to_file(four_tones.manifest, four_tones.stem_paths, four_tones.recipe(), out_dir / "x.aiff", "aiff")
    with pytest.raises(ExportError, match="Cannot tell the format"):
        render_to_file(four_tones.manifest, four_tones.stem_paths, four_tones.recipe(), out_dir / "x.m4a")
    bad = four_tones.recipe().with_chain("master", (effects.Effect.of("Delay", feedback=2.0),))
    with pytest.raises(effects.EffectError, match="Delay on the master"):
        render_to_file(four_tones.manifest, four_tones.stem_paths, bad, out_dir / "x.wav")
    assert list(out_dir.iterdir()) == []


@pytest.fixture
def hot_demo(workspace, tmp_path: Path):
    """The 10 s demo pack opened, and a recipe for -9 LUFS: loud enough that MP3 V2 and Vorbis encoding push the
    true peak of the file 0.3-0.5 dB above the render's."""
    pack_path = tmp_path / "demo.fanpack"
    make_demo_pack(pack_path, seconds=10.0)
    with open_pack(pack_path, workspace.keyring()) as pack:
        manifest = pack.manifest
        yield (
            pack,
            Recipe.for_stems(manifest.id, manifest.pack_hash(), [s.id for s in manifest.stems], loudness_lufs=-9.0),
        )


@pytest.mark.parametrize("name", ["mp3-v2", "ogg"])
def test_a_hot_lossy_export_keeps_the_decoded_file_under_the_ceiling_and_reports_the_file(
    hot_demo, out_dir: Path, name: str
) -> None:
    pack, recipe = hot_demo
    out = out_dir / f"hot{FORMATS[name].suffix}"
    result = render_to_file(pack.manifest, pack.stem_paths, recipe, out, name)
    decoded, rate = soundfile.read(str(out), dtype="float32", always_2d=True)
    measured_peak = loudness.true_peak_dbtp(decoded)
    assert measured_peak <= loudness.TRUE_PEAK_CEILING_DBTP
    assert result.loudness.true_peak_dbtp == pytest.approx(measured_peak, abs=0.1)
    assert result.loudness.integrated_lufs == pytest.approx(loudness.integrated_loudness(decoded, rate), abs=0.1)
    assert result.loudness.integrated_lufs == pytest.approx(-9.0, abs=0.3)
    assert result.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    assert "verify" in result.timings
    assert [p.name for p in out_dir.iterdir()] == [out.name]


def test_a_lossy_file_still_over_the_ceiling_after_the_last_encode_is_refused(
    hot_demo, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pack, recipe = hot_demo
    monkeypatch.setattr(offline, "LOSSY_ENCODE_ATTEMPTS", 1)  # the first MP3 V2 encode of this song is too hot
    with pytest.raises(TruePeakError, match=r"MP3, VBR V2 encoder kept the true peak above -1 dBTP"):
        render_to_file(pack.manifest, pack.stem_paths, recipe, out_dir / "hot.mp3", "mp3-v2")
    assert list(out_dir.iterdir()) == []


def test_a_cancel_while_a_lossy_file_is_encoded_again_leaves_no_file(hot_demo, out_dir: Path) -> None:
    pack, recipe = hot_demo
    seen: list[str] = []
    stop = threading.Event()

    def progress(stage: str, fraction: float) -> None:
        seen.append(stage)
        if stage == "loudness" and "encode" in seen:  # levelling again for a second encode
            stop.set()

    with pytest.raises(RenderCancelled):
        render_to_file(pack.manifest, pack.stem_paths, recipe, out_dir / "hot.mp3", "mp3-v2", progress, stop)
    assert list(out_dir.iterdir()) == []
