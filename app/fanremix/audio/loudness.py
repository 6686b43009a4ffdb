"""Loudness: BS.1770 measurement (pyloudnorm), true peak on 4× oversampled audio, normalisation and a limiter.

`normalise` brings a render to its integrated-loudness target (default -14 LUFS) and keeps its true peak at or
below -1 dBTP without clipping:

1. Measure the integrated loudness L and the true-peak envelope: for every frame, the largest absolute value of
   the 4× oversampled signal (scipy's polyphase `resample_poly`) around it, over both channels.
2. Apply the static gain target - L. Wherever the scaled envelope would pass the ceiling, a look-ahead limiter turns
   the gain down: the gain reduction each frame needs (in dB) is held over the next `LOOKAHEAD_SECONDS`, released
   at `RELEASE_DB_PER_SECOND`, then smoothed with a moving average as long as the look-ahead. Because the average
   of a window only includes values that already cover the peak inside it, every frame gets at least the reduction
   it needs, the gain never steps, and it starts to fall before the peak arrives.
3. Limiting lowers the loudness a little, so measure again and correct the static gain until the loudness is
   within `AIM_TOLERANCE_LU` of the target (the promise is ±0.3 LU; secant steps, so heavy limiting converges in a
   few rounds), then measure the true peak of the result; if gain modulation pushed it over the ceiling, lower the
   limiter's ceiling by the excess and repeat. A target that only more limiting could reach (the loudness stops
   rising with the gain) is not forced: the render keeps the loudest clean result and the report says so.

All long arrays are processed in chunks, so memory stays near one copy of the render.
"""

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyloudnorm
from scipy import ndimage, signal

TRUE_PEAK_CEILING_DBTP = -1.0
OVERSAMPLING = 4
LOOKAHEAD_SECONDS = 0.003
RELEASE_DB_PER_SECOND = 100.0  # the limiter lets go of 10 dB of reduction in 100 ms
AIM_TOLERANCE_LU = 0.1  # we aim this close so that the promised ±0.3 LU holds with room to spare
PROMISED_TOLERANCE_LU = 0.3
MAX_ITERATIONS = 8
_CHUNK = 1 << 18
_OVERSAMPLE_CONTEXT = 64  # input frames either side of a chunk; the resampling filter reaches about 10
# The limiter aims this far under the ceiling. 4× oversampling under-reads peaks near Nyquist by up to ~0.5 dB, and
# other meters oversample on other grids (ffmpeg's ebur128 goes to 192 kHz), so they can read a little higher.
_CEILING_MARGIN_DB = 0.2
_SATURATED_SLOPE = 0.05  # LU per dB of gain below which raising the gain no longer raises the loudness
_MAX_STEP_DB = 12.0


@dataclass(frozen=True)
class LoudnessReport:
    """What a render measured and did. Loudness is None when it cannot be measured (silence, under 0.4 s)."""

    integrated_lufs: float | None
    true_peak_dbtp: float
    sample_peak_dbfs: float
    target_lufs: float | None = None  # None: not normalised
    gain_db: float = 0.0  # the static gain applied
    limiter_reduction_db: float = 0.0  # the most the limiter turned down (0: it did nothing)
    iterations: int = 0
    loudness_range_lu: float | None = None  # not measured yet; reserved for EBU R128 LRA

    def to_dict(self) -> dict[str, float | int | None]:
        return dict(self.__dict__)


def _db(value: float) -> float:
    return 20.0 * math.log10(value) if value > 0 else -math.inf


def _channels_first(audio: np.ndarray) -> np.ndarray:
    if audio.ndim == 1:
        return audio[None, :]
    if audio.ndim != 2:
        raise ValueError(f"Audio must be (frames,) or (frames, channels); got {audio.shape}.")
    return audio.T


# -- measurement ---------------------------------------------------------------------------------------------------


def integrated_loudness(audio: np.ndarray, sample_rate: int) -> float | None:
    """BS.1770-4 integrated loudness of (frames, channels) audio in LUFS; None for silence or under 0.4 s."""
    meter = pyloudnorm.Meter(sample_rate)
    if audio.shape[0] < meter.block_size * sample_rate + 1:
        return None
    value = float(meter.integrated_loudness(audio))
    return value if math.isfinite(value) else None


def true_peak_envelope(audio: np.ndarray, workers: int = 1) -> np.ndarray:
    """For each frame of (frames, channels) audio: the largest |value| of the 4× oversampled signal near it.

    Frame i covers the oversampled points from frame i-1 to frame i+1, over all channels, as float32 (frames,).
    """
    data = _channels_first(audio)
    frames = data.shape[1]
    envelope = np.empty(frames, dtype=np.float32)

    def chunk(start: int) -> None:
        stop = min(frames, start + _CHUNK)
        low, high = max(0, start - _OVERSAMPLE_CONTEXT), min(frames, stop + _OVERSAMPLE_CONTEXT)
        dense = signal.resample_poly(data[:, low:high], OVERSAMPLING, 1, axis=1)
        np.abs(dense, out=dense)
        peak = dense[0]
        for channel in dense[1:]:
            np.maximum(peak, channel, out=peak)
        # the largest of each frame's 4 points; pairwise maxima are far faster than .max(axis=1) on rows of 4
        points = peak.reshape(high - low, OVERSAMPLING)
        per_frame = np.maximum(np.maximum(points[:, 0], points[:, 1]), np.maximum(points[:, 2], points[:, 3]))
        envelope[start:stop] = per_frame[start - low : stop - low]

    starts = range(0, frames, _CHUNK)
    if workers > 1 and len(starts) > 1:
        with ThreadPoolExecutor(workers, thread_name_prefix="fanremix-true-peak") as pool:
            list(pool.map(chunk, starts))
    else:
        for start in starts:
            chunk(start)
    envelope[1:] = np.maximum(envelope[1:], envelope[:-1])  # points between i-1 and i also touch frame i
    return envelope


def true_peak_dbtp(audio: np.ndarray, workers: int = 1) -> float:
    """True peak (ITU-R BS.1770 annex 2, 4× oversampling) of (frames, channels) audio, in dBTP."""
    if audio.shape[0] == 0:
        return -math.inf
    return _db(float(true_peak_envelope(audio, workers).max()))


def sample_peak_dbfs(audio: np.ndarray) -> float:
    return _db(float(np.max(np.abs(audio)))) if audio.size else -math.inf


def measure(audio: np.ndarray, sample_rate: int, workers: int = 1) -> LoudnessReport:
    """Loudness and peaks of (frames, channels) audio, changing nothing."""
    return LoudnessReport(
        integrated_lufs=integrated_loudness(audio, sample_rate),
        true_peak_dbtp=true_peak_dbtp(audio, workers),
        sample_peak_dbfs=sample_peak_dbfs(audio),
    )


# -- the limiter ---------------------------------------------------------------------------------------------------


class _LimiterEnvelope:
    """Turns a true-peak envelope into a smooth gain (see the module docstring), chunk by chunk, keeping state."""

    def __init__(self, peak: np.ndarray, scale: float, ceiling: float, sample_rate: int):
        self.peak = peak
        self.scale = scale
        self.ceiling = ceiling
        self.lookahead = max(1, round(LOOKAHEAD_SECONDS * sample_rate))
        self.release = RELEASE_DB_PER_SECOND / sample_rate  # dB per frame
        self.held = 0.0  # reduction carried into the next chunk, already released up to its last frame
        self.history = np.zeros(self.lookahead - 1)  # the last frames of released reduction, for the average
        self.first = True
        self.deepest = 0.0

    def reduction_db(self, start: int, stop: int) -> np.ndarray:
        """The reduction (dB, >= 0) each frame in [start, stop) needs, before look-ahead and release."""
        scaled = self.peak[start:stop].astype(np.float64) * self.scale
        over = scaled > self.ceiling
        needed = np.zeros(stop - start)
        needed[over] = 20.0 * np.log10(scaled[over] / self.ceiling)
        return needed

    def gain(self, start: int, stop: int) -> np.ndarray | None:
        """Linear gain for frames [start, stop); None when the limiter leaves them alone."""
        frames = len(self.peak)
        ahead = min(frames, stop + self.lookahead - 1)
        needed = self.reduction_db(start, ahead)
        if not needed.any() and self.held <= 0.0 and not self.history.any():
            self.first = False
            return None
        # hold each frame's need over the look-ahead: frame j takes the largest need in [j, j + lookahead)
        padded = np.concatenate((needed, np.zeros(self.lookahead)))
        held = ndimage.maximum_filter1d(padded, size=self.lookahead, origin=-(self.lookahead // 2))[: stop - start]
        # release: linear in dB, vectorised as a running maximum of (need + k·rate) minus k·rate
        ramp = np.arange(1, stop - start + 1) * self.release
        released = np.maximum.accumulate(np.maximum(held + ramp, self.held))
        released -= ramp
        np.maximum(released, 0.0, out=released)
        self.held = float(released[-1])
        # smooth with a moving average over the look-ahead; before the first frame, repeat it
        if self.first:
            self.history[:] = released[0]
            self.first = False
        extended = np.concatenate((self.history, released))
        sums = np.cumsum(extended)
        window = self.lookahead
        smoothed = (sums[window - 1 :] - np.concatenate(([0.0], sums[:-window]))) / window
        self.history = extended[len(extended) - (window - 1) :] if window > 1 else self.history
        self.deepest = max(self.deepest, float(smoothed.max()))
        return np.power(10.0, -smoothed / 20.0)


def _apply(
    source: np.ndarray, target: np.ndarray, gain_db: float, ceiling_db: float, sample_rate: int, peak: np.ndarray
) -> float:
    """target = source × static gain × limiter gain, chunk by chunk (channels-first). Returns the deepest reduction."""
    scale = 10.0 ** (gain_db / 20.0)
    limiter = _LimiterEnvelope(peak, scale, 10.0 ** (ceiling_db / 20.0), sample_rate)
    frames = source.shape[1]
    for start in range(0, frames, _CHUNK):
        stop = min(frames, start + _CHUNK)
        gain = limiter.gain(start, stop)
        if gain is None:
            np.multiply(source[:, start:stop], np.float32(scale), out=target[:, start:stop])
        else:
            np.multiply(source[:, start:stop], (gain * scale).astype(np.float32), out=target[:, start:stop])
    return limiter.deepest


def normalise(
    audio: np.ndarray,
    sample_rate: int,
    target_lufs: float,
    ceiling_dbtp: float = TRUE_PEAK_CEILING_DBTP,
    workers: int = 1,
) -> tuple[np.ndarray, LoudnessReport]:
    """Bring channels-first (channels, frames) float32 audio to `target_lufs` with true peak <= `ceiling_dbtp`.

    Returns a new array and the report. Audio whose loudness cannot be measured (silence, under 0.4 s) is only
    limited to the ceiling.
    """
    source = np.ascontiguousarray(audio, dtype=np.float32)
    if workers > 1:  # the loudness meter and the oversampler both run outside the GIL: measure both at once
        with ThreadPoolExecutor(2, thread_name_prefix="fanremix-loudness") as pool:
            measuring = pool.submit(integrated_loudness, source.T, sample_rate)
            peak = true_peak_envelope(source.T, workers - 1)
            loudness = measuring.result()
    else:
        peak = true_peak_envelope(source.T)
        loudness = integrated_loudness(source.T, sample_rate)
    result = np.empty_like(source)
    ceiling = ceiling_dbtp - _CEILING_MARGIN_DB
    if loudness is None:
        reduction = _apply(source, result, 0.0, ceiling, sample_rate, peak)
        report = measure(result.T, sample_rate, workers)
        return result, LoudnessReport(
            integrated_lufs=report.integrated_lufs,
            true_peak_dbtp=report.true_peak_dbtp,
            sample_peak_dbfs=report.sample_peak_dbfs,
            target_lufs=target_lufs,
            limiter_reduction_db=reduction,
        )
    gain_db = target_lufs - loudness
    tried: list[tuple[float, float]] = []  # (static gain, loudness it gave)
    reduction, measured, true_peak, iterations = 0.0, loudness, None, 0
    while iterations < MAX_ITERATIONS:
        iterations += 1
        reduction = _apply(source, result, gain_db, ceiling, sample_rate, peak)
        # with the limiter idle the loudness is exactly the static gain's; otherwise measure it
        measured = loudness + gain_db if reduction == 0.0 else integrated_loudness(result.T, sample_rate)
        true_peak = None
        if measured is None:
            break
        tried.append((gain_db, measured))
        miss = target_lufs - measured
        if abs(miss) > AIM_TOLERANCE_LU:
            slope = 1.0
            if len(tried) >= 2 and tried[-1][0] != tried[-2][0]:  # secant: how much loudness a dB of gain buys
                slope = (tried[-1][1] - tried[-2][1]) / (tried[-1][0] - tried[-2][0])
            if slope < _SATURATED_SLOPE:
                break  # the limiter is flattening everything: more gain would only add distortion, not loudness
            gain_db += max(-_MAX_STEP_DB, min(_MAX_STEP_DB, miss / min(slope, 1.0)))
            continue
        true_peak = true_peak_dbtp(result.T, workers)
        if true_peak <= ceiling_dbtp:
            break
        ceiling -= true_peak - ceiling_dbtp + _CEILING_MARGIN_DB
    if true_peak is None:
        true_peak = true_peak_dbtp(result.T, workers)
    return result, LoudnessReport(
        integrated_lufs=measured,
        true_peak_dbtp=true_peak,
        sample_peak_dbfs=sample_peak_dbfs(result),
        target_lufs=target_lufs,
        gain_db=gain_db,
        limiter_reduction_db=reduction,
        iterations=iterations,
    )
