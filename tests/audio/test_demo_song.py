"""Tests for the built-in demo song synthesiser.

The full-length song is rendered once per module (about two seconds); everything else uses short
renders so the file stays fast.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import signal

from fanremix.audio.demo_song import DemoSong, render_demo_song, synth_hat, synth_kick

SR = 44100
# i–VI–III–VII in A minor, written out independently of the module so the test proves the progression.
EXPECTED_ROOT_PITCH_CLASSES = (9, 5, 0, 7)  # A, F, C, G
A_MINOR_PITCH_CLASSES = {9, 11, 0, 2, 4, 5, 7}


@pytest.fixture(scope="module")
def full_song() -> DemoSong:
    return render_demo_song()


@pytest.fixture(scope="module")
def short_song() -> DemoSong:
    return render_demo_song(5.0)


def _mix(song: DemoSong) -> np.ndarray:
    return np.sum([stem.audio.astype(np.float64) for stem in song.stems], axis=0)


def _stem(song: DemoSong, stem_id: str) -> np.ndarray:
    return next(s.audio for s in song.stems if s.id == stem_id).astype(np.float64)


def _bar_frames(song: DemoSong) -> float:
    return 240.0 / song.bpm * song.sample_rate


def _chroma(x: np.ndarray, sr: int, fmin: float, fmax: float) -> np.ndarray:
    """Spectral energy folded onto the 12 pitch classes (0 = C)."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1.0 / sr)
    band = (freqs >= fmin) & (freqs <= fmax)
    pitch_class = np.round(12.0 * np.log2(freqs[band] / 440.0) + 69.0).astype(int) % 12
    return np.bincount(pitch_class, weights=spectrum[band], minlength=12)


def _band_energy_fraction(x: np.ndarray, sr: int, lo: float, hi: float) -> float:
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1.0 / sr)
    return float(spectrum[(freqs >= lo) & (freqs < hi)].sum() / spectrum.sum())


def test_same_arguments_give_bit_identical_audio() -> None:
    first = render_demo_song(6.0)
    second = render_demo_song(6.0)
    assert (first.title, first.artists, first.bpm, first.key) == (second.title, second.artists, second.bpm, second.key)
    for a, b in zip(first.stems, second.stems, strict=True):
        assert a.id == b.id
        assert a.audio.tobytes() == b.audio.tobytes()


@pytest.mark.parametrize(("seconds", "sample_rate"), [(5.0, 44100), (7.3, 44100), (1.0, 48000), (2.5, 22050)])
def test_every_stem_is_stereo_float32_of_exactly_the_requested_length(seconds: float, sample_rate: int) -> None:
    song = render_demo_song(seconds, sample_rate)
    assert song.sample_rate == sample_rate
    for stem in song.stems:
        assert stem.audio.dtype == np.float32
        assert stem.audio.shape == (round(seconds * sample_rate), 2)
        assert stem.audio.flags.c_contiguous
        assert np.all(np.isfinite(stem.audio))


def test_default_render_is_90_seconds_and_seconds_sets_the_length(full_song: DemoSong, short_song: DemoSong) -> None:
    assert full_song.sample_rate == SR
    assert {s.audio.shape[0] for s in full_song.stems} == {90 * SR}
    assert {s.audio.shape[0] for s in short_song.stems} == {5 * SR}


def test_song_metadata_and_four_stems_with_their_roles(short_song: DemoSong) -> None:
    assert short_song.title and short_song.artists and all(short_song.artists)
    assert 100.0 <= short_song.bpm <= 124.0
    assert short_song.key == "A minor"
    assert [(s.id, s.name, s.role) for s in short_song.stems] == [
        ("drums", "Drums", "drums"),
        ("bass", "Bass", "bass"),
        ("keys", "Chords", "keys"),
        ("lead", "Lead (vocal stand-in)", "vocals"),
    ]


def test_no_stem_clips_and_the_full_mix_peaks_below_minus_3_dbfs(full_song: DemoSong) -> None:
    for stem in full_song.stems:
        peak = float(np.max(np.abs(stem.audio)))
        assert 0.05 < peak < 0.5, (stem.id, peak)
    mix_peak = float(np.max(np.abs(_mix(full_song))))
    assert mix_peak <= 10 ** (-3 / 20)
    assert mix_peak > 0.4  # and not so quiet that the demo sounds broken


def test_stems_start_and_end_on_silence(short_song: DemoSong) -> None:
    for stem in short_song.stems:
        assert np.max(np.abs(stem.audio[0])) < 1e-6
        assert np.max(np.abs(stem.audio[-1])) < 1e-6


def test_every_stem_plays_in_every_10_second_window(full_song: DemoSong) -> None:
    window = 10 * SR
    for stem in full_song.stems:
        audio = stem.audio.astype(np.float64)
        for start in range(0, len(audio), window):
            rms = math.sqrt(float(np.mean(audio[start : start + window] ** 2)))
            assert 20 * math.log10(rms) > -45.0, (stem.id, start / SR)


def test_kick_energy_lies_mostly_below_150_hz() -> None:
    kick = synth_kick(SR)
    assert _band_energy_fraction(kick, SR, 0.0, 150.0) > 0.85
    assert np.max(np.abs(kick)) == pytest.approx(1.0)


def test_closed_and_open_hats_live_above_5_khz() -> None:
    for hat in (synth_hat(SR), synth_hat(SR, open_=True)):
        assert _band_energy_fraction(hat, SR, 5000.0, SR / 2) > 0.95


def test_drum_stem_places_kicks_on_the_beat_and_hats_on_the_eighths(short_song: DemoSong) -> None:
    """First intro bar: kick on beats 1 and 3, a closed hat on every eighth note, no snare."""
    drums = _stem(short_song, "drums").mean(axis=1)
    low = signal.sosfilt(signal.butter(4, 150.0, "lowpass", fs=SR, output="sos"), drums)
    high = signal.sosfilt(signal.butter(4, 5000.0, "highpass", fs=SR, output="sos"), drums)
    beat = _bar_frames(short_song) / 4

    def energy(x: np.ndarray, at: float, seconds: float) -> float:
        start = round(at)
        return float(np.sum(x[start : start + round(seconds * SR)] ** 2))

    kick_beats = [energy(low, b * beat, 0.08) for b in (0, 2)]
    empty_beats = [energy(low, b * beat, 0.08) for b in (1, 3)]  # only the decayed tail of the kick
    assert min(kick_beats) > 10 * max(empty_beats)
    on_eighths = [energy(high, e * beat / 2, 0.03) for e in range(8)]
    on_sixteenths = [energy(high, (e + 0.5) * beat / 2, 0.03) for e in range(8)]
    assert min(on_eighths) > 5 * max(on_sixteenths)


def test_bass_plays_the_root_of_the_progression_in_every_bar(full_song: DemoSong) -> None:
    bass = _stem(full_song, "bass").mean(axis=1)
    bar = _bar_frames(full_song)
    n_bars = int(len(bass) // bar)
    assert n_bars >= 40
    heard = []
    for i in range(n_bars):
        chroma = _chroma(bass[round(i * bar) : round((i + 1) * bar)], SR, 25.0, 400.0)
        heard.append(int(np.argmax(chroma)))
    expected = [EXPECTED_ROOT_PITCH_CLASSES[i % 4] for i in range(n_bars)]
    assert heard == expected


def test_lead_sings_in_a_minor(full_song: DemoSong) -> None:
    lead = _stem(full_song, "lead").mean(axis=1)
    chroma = _chroma(lead, SR, 250.0, 1000.0)
    in_key = sum(chroma[pc] for pc in A_MINOR_PITCH_CLASSES)
    assert in_key / chroma.sum() > 0.9


def test_arrangement_is_not_a_short_loop(full_song: DemoSong) -> None:
    """Bars four and eight apart share a chord; with sections and melody phrases they still differ."""
    mix = _mix(full_song).mean(axis=1)
    bar = _bar_frames(full_song)
    bars = [mix[round(i * bar) : round(i * bar) + int(bar)] for i in range(int(len(mix) // bar))]
    for lag in (4, 8):
        near_copies = 0
        for a, b in zip(bars, bars[lag:], strict=False):
            corr = float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
            near_copies += corr > 0.95
        assert near_copies <= len(bars) // 5, lag


@pytest.mark.parametrize(("seconds", "sample_rate"), [(0.0, SR), (-1.0, SR), (math.nan, SR), (math.inf, SR)])
def test_invalid_length_is_rejected(seconds: float, sample_rate: int) -> None:
    with pytest.raises(ValueError):
        render_demo_song(seconds, sample_rate)


def test_invalid_sample_rate_is_rejected() -> None:
    with pytest.raises(ValueError):
        render_demo_song(1.0, 1000)
    with pytest.raises(TypeError):
        render_demo_song(1.0, 44100.0)  # type: ignore[arg-type]
