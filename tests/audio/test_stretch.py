"""Tempo and key: output length, pitch accuracy, the identity shortcut, and the parallel (seamed) stretch, whose
output must not depend on the number of workers."""

import numpy as np
import pytest

from fanremix.audio import stretch
from fanremix.audio.offline import render_to_array
from tests.audio.conftest import SAMPLE_RATE, PackFactory, program, tone


def fundamental_hz(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> float:
    """The strongest frequency of (frames, channels) audio, from a zero-padded, windowed FFT of its middle second."""
    mono = audio.mean(axis=1).astype(np.float64)
    middle = mono[len(mono) // 2 - sample_rate // 2 : len(mono) // 2 + sample_rate // 2]
    size = 1 << 20
    spectrum = np.abs(np.fft.rfft(middle * np.hanning(len(middle)), size))
    peak = int(np.argmax(spectrum[1:])) + 1
    a, b, c = np.log(spectrum[peak - 1 : peak + 2])
    offset = 0.5 * (a - c) / (a - 2 * b + c)  # parabolic interpolation between bins
    return (peak + offset) * sample_rate / size


@pytest.fixture
def tone_pack(make_pack: PackFactory):
    return make_pack({"keys": ("keys", tone(440.0, 3.0, 0.3))})


def test_tempo_1_25_shortens_the_output_to_1_over_1_25(tone_pack) -> None:
    recipe = tone_pack.recipe(tempo_ratio=1.25, loudness_lufs=None)
    rendered = render_to_array(tone_pack.manifest, tone_pack.stem_paths, recipe, normalize=False)
    assert rendered.duration_s == pytest.approx(3.0 / 1.25, abs=0.010)
    assert fundamental_hz(rendered.audio) == pytest.approx(440.0, rel=0.01)  # tempo alone keeps the key


@pytest.mark.parametrize("semitones", [12.0, -3.0])
def test_a_pitch_shift_moves_the_fundamental_by_the_equal_tempered_ratio(tone_pack, semitones: float) -> None:
    recipe = tone_pack.recipe(pitch_semitones=semitones)
    rendered = render_to_array(tone_pack.manifest, tone_pack.stem_paths, recipe, normalize=False)
    assert fundamental_hz(rendered.audio) == pytest.approx(440.0 * 2 ** (semitones / 12), rel=0.01)
    assert rendered.duration_s == pytest.approx(3.0, abs=0.010)  # key alone keeps the tempo


def test_tempo_and_key_together_in_one_pass(tone_pack) -> None:
    recipe = tone_pack.recipe(tempo_ratio=0.8, pitch_semitones=2.0)
    rendered = render_to_array(tone_pack.manifest, tone_pack.stem_paths, recipe, normalize=False)
    assert rendered.duration_s == pytest.approx(3.0 / 0.8, abs=0.010)
    assert fundamental_hz(rendered.audio) == pytest.approx(440.0 * 2 ** (2 / 12), rel=0.01)
    assert "stretch" in rendered.timings


def test_unchanged_tempo_and_key_skip_the_stretch_entirely(tone_pack) -> None:
    rendered = render_to_array(tone_pack.manifest, tone_pack.stem_paths, tone_pack.recipe(), normalize=False)
    assert "stretch" not in rendered.timings
    assert np.array_equal(rendered.audio, tone_pack.arrays["keys"])


def test_output_frames_match_pedalboard() -> None:
    audio = np.ascontiguousarray(program(1.0).T)
    for ratio in (0.8, 1.1, 1.25):
        result = stretch.stretch(audio, SAMPLE_RATE, ratio, 0.0)
        assert result.shape == (2, stretch.output_frames(audio.shape[1], ratio))


def seam_test_signal() -> np.ndarray:
    """A steady chord (the hardest case for a crossfade: any misalignment beats) over a pulse of noise hits."""
    chord = tone(220.0, 8.0, 0.2) + tone(330.0, 8.0, 0.15, 1.0)
    return np.ascontiguousarray((chord + 0.5 * program(8.0, seed=3)).T)


def windowed_rms_db(audio: np.ndarray, window: int) -> np.ndarray:
    frames = audio.shape[1] // window
    blocks = audio[:, : frames * window].reshape(2, frames, window).astype(np.float64)
    return 10 * np.log10(np.mean(blocks**2, axis=(0, 2)) + 1e-20)


def test_the_parallel_stretch_joins_its_chunks_without_a_gap_or_a_jump() -> None:
    audio = seam_test_signal()
    one = stretch.stretch(audio, SAMPLE_RATE, 1.1, 2.0, workers=1)
    two = stretch.stretch(audio, SAMPLE_RATE, 1.1, 2.0, workers=2, parallel_min_seconds=1.0)
    assert two.shape == one.shape
    # the first chunk is the one-shot stretch itself, up to the crossfade into the second chunk
    seam = int(np.argmax(np.any(one != two, axis=0)))
    assert 2.0 * SAMPLE_RATE < seam < 6.0 * SAMPLE_RATE
    assert np.array_equal(one[:, :seam], two[:, :seam])
    around = slice(seam - SAMPLE_RATE // 10, seam + SAMPLE_RATE // 5)
    # no dip or bump in level across the seam (20 ms windows) ...
    assert np.max(np.abs(windowed_rms_db(two[:, around], 882) - windowed_rms_db(one[:, around], 882))) < 0.5
    # ... and no jump between samples larger than the music itself makes there
    assert np.max(np.abs(np.diff(two[:, around]))) < 1.1 * np.max(np.abs(np.diff(one[:, around])))
    # the steady chord stays in tune after the seam
    after = np.ascontiguousarray(two[:, seam + SAMPLE_RATE // 2 :].T)
    assert fundamental_hz(after) == pytest.approx(fundamental_hz(np.ascontiguousarray(one[:, seam:].T)), rel=0.002)


def test_the_parallel_stretch_is_deterministic() -> None:
    audio = seam_test_signal()
    first = stretch.stretch(audio, SAMPLE_RATE, 1.25, -3.0, workers=2, parallel_min_seconds=1.0)
    second = stretch.stretch(audio, SAMPLE_RATE, 1.25, -3.0, workers=2, parallel_min_seconds=1.0)
    assert np.array_equal(first, second)


def test_the_chunk_plan_depends_on_the_length_alone() -> None:
    rate = SAMPLE_RATE
    assert stretch.chunk_count(round(29.9 * rate), rate) == 1
    assert stretch.chunk_count(30 * rate, rate) == 2
    assert stretch.chunk_count(round(59.9 * rate), rate) == 2
    assert stretch.chunk_count(60 * rate, rate) == 4
    assert stretch.chunk_count(600 * rate, rate) == stretch.MAX_CHUNKS == 4


def test_a_long_render_is_bit_identical_whatever_the_number_of_workers(make_pack: PackFactory) -> None:
    seconds = 31.0  # just past PARALLEL_MIN_SECONDS: the stretch is cut into two chunks
    pack = make_pack(
        {"drums": ("drums", program(seconds, seed=11)), "keys": ("keys", tone(220.0, seconds, 0.2))},
    )
    recipe = pack.recipe(tempo_ratio=1.1, pitch_semitones=-1.0)
    renders = [render_to_array(pack.manifest, pack.stem_paths, recipe, workers=n) for n in (1, 2, 3)]
    assert renders[0].duration_s == pytest.approx(seconds / 1.1, abs=0.010)
    for other in renders[1:]:
        assert np.array_equal(other.audio, renders[0].audio)


def test_four_chunks_join_the_same_way_on_one_worker_as_on_several() -> None:
    audio = np.ascontiguousarray((program(61.0, seed=5) + tone(220.0, 61.0, 0.2)).T)
    assert stretch.chunk_count(audio.shape[1], SAMPLE_RATE) == 4
    done: list[tuple[int, int]] = []
    # R2 (high_quality=False) is enough to exercise the plan and the joins, and quicker
    one = stretch.stretch(audio, SAMPLE_RATE, 1.1, 2.0, workers=1, high_quality=False)
    two = stretch.stretch(
        audio, SAMPLE_RATE, 1.1, 2.0, workers=2, high_quality=False, on_chunk_done=lambda *n: done.append(n)
    )
    assert one.shape == two.shape == (2, stretch.output_frames(audio.shape[1], 1.1))
    assert np.array_equal(one, two)
    assert sorted(done) == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert windowed_rms_db(two, 882).min() > -30.0  # the steady tone runs through every seam: no gap anywhere
