"""Loudness: reference readings, true peak between samples, normalisation within ±0.3 LU, limiting without clipping."""

import math
from pathlib import Path

import numpy as np
import pytest
import soundfile

from fanremix.audio import loudness
from tests.audio.conftest import FFMPEG, SAMPLE_RATE, ffmpeg_ebur128, program, tone


def test_the_ebu_reference_sine_reads_minus_23_lufs() -> None:
    # EBU Tech 3341: a stereo 1 kHz sine at -23 dBFS peak in each channel reads -23.0 LUFS
    reference = tone(1000.0, 10.0, 10 ** (-23 / 20))
    assert loudness.integrated_loudness(reference, SAMPLE_RATE) == pytest.approx(-23.0, abs=0.1)


def test_true_peak_finds_the_peak_between_the_samples() -> None:
    # a sine at a quarter of the sample rate, 45° off the sample grid: every sample sits at 0.707 of the real peak
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    wave = np.sin(2 * np.pi * (SAMPLE_RATE / 4) * t + np.pi / 4) * 0.5
    wave *= np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)  # 10 ms fades: no edge for the filter to ring on
    audio = np.stack([wave, wave], axis=1).astype(np.float32)
    assert loudness.sample_peak_dbfs(audio) == pytest.approx(20 * math.log10(0.5) - 3.01, abs=0.02)
    assert loudness.true_peak_dbtp(audio) == pytest.approx(20 * math.log10(0.5), abs=0.1)
    high = np.ascontiguousarray(tone(19_000.0, 1.0, 0.5)) * np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)[:, None]
    assert loudness.true_peak_dbtp(high) == pytest.approx(20 * math.log10(0.5), abs=0.1)


def test_audio_too_short_or_silent_has_no_loudness() -> None:
    assert loudness.integrated_loudness(tone(440.0, 0.3), SAMPLE_RATE) is None
    assert loudness.integrated_loudness(np.zeros((SAMPLE_RATE, 2), dtype=np.float32), SAMPLE_RATE) is None


@pytest.fixture(scope="module")
def loud_program() -> np.ndarray:
    return np.ascontiguousarray(program(6.0).T)


@pytest.mark.parametrize("target", [-14.0, -11.0, -23.0])
def test_normalise_hits_the_target_and_keeps_true_peak_under_minus_1(loud_program: np.ndarray, target: float) -> None:
    result, report = loudness.normalise(loud_program, SAMPLE_RATE, target, workers=2)
    measured = loudness.integrated_loudness(result.T, SAMPLE_RATE)
    assert measured == pytest.approx(target, abs=0.3)
    assert report.integrated_lufs == pytest.approx(measured, abs=1e-6)
    assert loudness.true_peak_dbtp(result.T) <= -1.0
    assert report.true_peak_dbtp <= -1.0
    assert report.target_lufs == target
    assert result.shape == loud_program.shape and result.dtype == np.float32


@pytest.mark.skipif(FFMPEG is None, reason="ffmpeg is not installed")
def test_ffmpeg_agrees_on_loudness_and_true_peak(loud_program: np.ndarray, tmp_path: Path) -> None:
    result, _ = loudness.normalise(loud_program, SAMPLE_RATE, -14.0)
    path = tmp_path / "normalised.wav"
    soundfile.write(str(path), result.T, SAMPLE_RATE, subtype="FLOAT")
    integrated, true_peak = ffmpeg_ebur128(path)
    assert integrated == pytest.approx(-14.0, abs=0.3)
    assert true_peak <= -1.0


def test_the_limiter_turns_the_gain_down_smoothly_instead_of_clipping(loud_program: np.ndarray) -> None:
    result, report = loudness.normalise(loud_program, SAMPLE_RATE, -11.0)
    assert report.limiter_reduction_db > 3.0  # this target needs real limiting
    loud = np.abs(loud_program) > 1e-3
    gain_db = 20 * np.log10(np.abs(result[loud]) / np.abs(loud_program[loud]))
    static = report.gain_db
    assert gain_db.max() <= static + 1e-3  # the limiter only ever turns down
    # the gain is one smooth curve shared by both channels: it never moves more than a little from frame to frame
    per_frame = 20 * np.log10(np.abs(result[0]) + 1e-12) - 20 * np.log10(np.abs(loud_program[0]) + 1e-12)
    voiced = np.abs(loud_program[0]) > 1e-2
    steps = np.abs(np.diff(per_frame[voiced]))
    assert np.percentile(steps, 99.9) < 0.2
    # a clipper flattens the tops into runs of equal samples; a gain curve leaves the waveform's shape alone
    loud_frames = np.abs(result) > 0.5 * np.abs(result).max()
    flat = (result[:, 1:] == result[:, :-1]) & loud_frames[:, 1:]
    assert np.count_nonzero(flat) == 0


def test_a_target_only_heavier_limiting_could_reach_is_reported_not_forced(loud_program: np.ndarray) -> None:
    result, report = loudness.normalise(loud_program, SAMPLE_RATE, -3.0)
    assert report.integrated_lufs < -3.0 - 0.3  # it says it fell short ...
    assert report.integrated_lufs == pytest.approx(loudness.integrated_loudness(result.T, SAMPLE_RATE), abs=1e-6)
    assert loudness.true_peak_dbtp(result.T) <= -1.0  # ... and still keeps the ceiling
    assert report.iterations < loudness.MAX_ITERATIONS


def test_when_the_limiter_is_idle_the_gain_is_exact() -> None:
    quiet = np.ascontiguousarray(tone(440.0, 3.0, 0.05).T)
    result, report = loudness.normalise(quiet, SAMPLE_RATE, -20.0)
    assert report.limiter_reduction_db == 0.0 and report.iterations == 1
    assert np.allclose(result, quiet * np.float32(10 ** (report.gain_db / 20)), rtol=1e-6)
    assert report.integrated_lufs == pytest.approx(-20.0, abs=0.01)


def test_silence_is_left_alone_and_reported_as_unmeasurable() -> None:
    silence = np.zeros((2, SAMPLE_RATE), dtype=np.float32)
    result, report = loudness.normalise(silence, SAMPLE_RATE, -14.0)
    assert not result.any()
    assert report.integrated_lufs is None and report.true_peak_dbtp == -math.inf


def test_measure_reports_without_changing_anything(loud_program: np.ndarray) -> None:
    before = loud_program.copy()
    report = loudness.measure(loud_program.T, SAMPLE_RATE)
    assert np.array_equal(loud_program, before)
    assert report.target_lufs is None and report.gain_db == 0.0
    assert report.true_peak_dbtp >= report.sample_peak_dbfs
