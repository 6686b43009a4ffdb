"""Tempo and key for the offline render: Rubber Band R3 (pedalboard.time_stretch, high_quality=True) on the mix.

The stretch always runs on the summed mix with both channels together, so stems can never drift apart and the
stereo image stays intact. Tempo and key are one call: `stretch_factor` is the tempo ratio (1.25 plays 25 % faster
and lasts 1/1.25 as long), `pitch_shift_in_semitones` the key change.

R3 is by far the most expensive stage of a render and it runs on one core. On long renders we therefore cut the
mix into time chunks and stretch several at once; every chunk is still a plain R3 stretch of the whole stereo
signal. The chunk plan depends on the audio alone, never on the machine: `chunk_count` picks the number of chunks
from the length (2 from `PARALLEL_MIN_SECONDS`, 4 from 60 s), the seams are placed from the audio, and
`workers` only sets how many threads work through the same chunks. So a render is bit-identical on one core and
on eight. The chunks overlap by `CONTEXT_SECONDS` so that each one's edges lie far from the seam, each seam is
placed just before the strongest onset near the nominal split (where a transient masks it), each chunk is aligned
to the one before it by cross-correlation (R3's time map drifts by a few milliseconds around transients, so the
nominal positions can be off by a couple of hundred samples), and neighbours are crossfaded over
`CROSSFADE_SECONDS`. Measured on the 180 s demo song, the magnitude spectrum across a seam differs from a one-shot
stretch by no more than two independent R3 runs differ from each other anywhere else (see docs/audio-engine.md).
Renders shorter than `PARALLEL_MIN_SECONDS` use one call and have no seam at all, whatever `workers` is.
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pedalboard

PARALLEL_MIN_SECONDS = 30.0  # below this a render is stretched in one call
MIN_CHUNK_SECONDS = 15.0  # a render is cut into 4 chunks only when each would still hold this much
MAX_CHUNKS = 4
CONTEXT_SECONDS = 1.0  # how far each chunk runs past its seam
SEAM_SEARCH_SECONDS = 2.0  # look for an onset this far either side of the nominal split
CROSSFADE_SECONDS = 0.02
SEAM_GAP_SECONDS = 0.005  # the crossfade ends this long before the onset
ALIGN_SEARCH_SECONDS = 0.03  # the largest time-map drift the alignment looks for
ALIGN_WINDOW_SECONDS = 0.15  # how much audio around the seam the alignment compares
_ONSET_HOP = 256


def is_identity(tempo_ratio: float, pitch_semitones: float) -> bool:
    return tempo_ratio == 1.0 and pitch_semitones == 0.0


def output_frames(input_frames: int, tempo_ratio: float) -> int:
    """How many frames a stretch of `input_frames` returns (what pedalboard.time_stretch gives)."""
    return round(input_frames / tempo_ratio)


def chunk_count(frames: int, sample_rate: int, parallel_min_seconds: float = PARALLEL_MIN_SECONDS) -> int:
    """How many chunks a stretch of `frames` input frames is cut into: a function of the length alone.

    1 under `parallel_min_seconds`, 2 from there, 4 (`MAX_CHUNKS`) once each of 4 would hold `MIN_CHUNK_SECONDS`.
    Never the number of cores: that would make the output depend on the machine.
    """
    seconds = frames / sample_rate
    if seconds < parallel_min_seconds:
        return 1
    count = 2
    while count * 2 <= MAX_CHUNKS and seconds >= count * 2 * MIN_CHUNK_SECONDS:
        count *= 2
    return count


def _stretch_once(
    audio: np.ndarray, sample_rate: int, tempo_ratio: float, pitch_semitones: float, high_quality: bool
) -> np.ndarray:
    return pedalboard.time_stretch(
        np.ascontiguousarray(audio, dtype=np.float32),
        float(sample_rate),
        stretch_factor=float(tempo_ratio),
        pitch_shift_in_semitones=float(pitch_semitones),
        high_quality=high_quality,
    )


def _seam(audio: np.ndarray, centre: int, radius: int) -> int:
    """The input frame of the strongest rise in energy within `radius` of `centre`."""
    low = max(0, centre - radius)
    mono = audio[0, low : centre + radius] + audio[1, low : centre + radius]
    energy = np.add.reduceat(mono.astype(np.float64) ** 2, np.arange(0, len(mono), _ONSET_HOP)) + 1e-12
    rise = np.diff(np.log(energy))
    return low + (int(np.argmax(rise)) + 1) * _ONSET_HOP


def _align(
    left: np.ndarray, left_offset: int, right: np.ndarray, right_offset: int, start: int, stop: int, search: int
) -> tuple[int, float]:
    """The lag (in frames) that best lines `right` up with `left` over the output frames [start, stop).

    Returns (lag, normalised correlation): the right chunk's frame for output frame g is g - right_offset + lag.
    """
    a = left[0, start - left_offset : stop - left_offset] + left[1, start - left_offset : stop - left_offset]
    low = start - right_offset - search
    b = right[0, low : stop - right_offset + search] + right[1, low : stop - right_offset + search]
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    from scipy import signal  # ~0.9 s to import; the preview imports this module at start-up but never aligns

    scores = signal.correlate(b, a, mode="valid", method="fft")
    window = len(a)
    energy = np.concatenate(([0.0], np.cumsum(b * b)))
    b_energy = energy[window:] - energy[:-window]
    norm = np.sqrt(np.maximum(b_energy * float(a @ a), 1e-30))
    correlation = scores / norm
    best = int(np.argmax(correlation))
    return best - search, float(correlation[best])


def stretch(
    audio: np.ndarray,
    sample_rate: int,
    tempo_ratio: float,
    pitch_semitones: float,
    *,
    workers: int = 1,
    high_quality: bool = True,
    parallel_min_seconds: float = PARALLEL_MIN_SECONDS,
    on_chunk_done: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Tempo and key change of a channels-first (2, n) float32 mix; returns (2, output_frames(n, tempo_ratio)).

    The chunk plan (`chunk_count`, seams) depends only on the audio; `workers` is how many chunks run at once, so
    the result is the same for any `workers`.
    """
    if audio.ndim != 2 or audio.shape[0] != 2:
        raise ValueError(f"stretch takes channels-first stereo audio (2, frames), not {audio.shape}.")
    frames = audio.shape[1]
    total = output_frames(frames, tempo_ratio)
    chunks = chunk_count(frames, sample_rate, parallel_min_seconds)
    if chunks == 1:
        result = _stretch_once(audio, sample_rate, tempo_ratio, pitch_semitones, high_quality)
        if on_chunk_done:
            on_chunk_done(1, 1)
        return _fit(result, total)

    context = round(CONTEXT_SECONDS * sample_rate)
    radius = round(SEAM_SEARCH_SECONDS * sample_rate)
    seams = [_seam(audio, frames * i // chunks, radius) for i in range(1, chunks)]
    bounds = [0, *seams, frames]
    pieces = [(max(0, bounds[i] - context), min(frames, bounds[i + 1] + context)) for i in range(chunks)]
    finished: list[int] = []  # list.append is atomic, so the workers can count without a lock

    def run(piece: tuple[int, int]) -> np.ndarray:
        result = _stretch_once(audio[:, piece[0] : piece[1]], sample_rate, tempo_ratio, pitch_semitones, high_quality)
        finished.append(piece[0])
        if on_chunk_done:
            on_chunk_done(len(finished), chunks)
        return result

    threads = max(1, min(int(workers), chunks))
    if threads == 1:
        parts = [run(piece) for piece in pieces]
        return _join(parts, pieces, seams, sample_rate, tempo_ratio, total)
    with ThreadPoolExecutor(threads, thread_name_prefix="fanremix-stretch") as pool:
        parts = list(pool.map(run, pieces))
    return _join(parts, pieces, seams, sample_rate, tempo_ratio, total)


def _join(
    parts: list[np.ndarray],
    pieces: list[tuple[int, int]],
    seams: list[int],
    sample_rate: int,
    tempo_ratio: float,
    total: int,
) -> np.ndarray:
    out = np.zeros((2, total), dtype=np.float32)
    crossfade = max(1, round(CROSSFADE_SECONDS * sample_rate))
    gap = round(SEAM_GAP_SECONDS * sample_rate)
    search = round(ALIGN_SEARCH_SECONDS * sample_rate)
    window = round(ALIGN_WINDOW_SECONDS * sample_rate)
    offsets = [round(pieces[0][0] / tempo_ratio)]  # output frame g is frame g - offset of its chunk
    written = 0
    for index, seam in enumerate(seams):
        left, right = parts[index], parts[index + 1]
        onset = round(seam / tempo_ratio)
        stop = onset - gap
        start = stop - crossfade
        nominal = round(pieces[index + 1][0] / tempo_ratio)
        lag, correlation = _align(left, offsets[index], right, nominal, onset - window, onset + window // 2, search)
        offsets.append(nominal - lag)
        out[:, written:start] = left[:, written - offsets[index] : start - offsets[index]]
        phase = (np.arange(crossfade, dtype=np.float64) + 0.5) / crossfade * (np.pi / 2)
        if correlation >= 0.5:  # mostly the same waveform: amplitudes add, so their gains must sum to one
            fade_out = np.cos(phase) ** 2
            fade_in = 1.0 - fade_out
        else:  # largely unrelated phases: powers add, so keep the summed power constant
            fade_out, fade_in = np.cos(phase), np.sin(phase)
        out[:, start:stop] = left[:, start - offsets[index] : stop - offsets[index]] * fade_out.astype(
            np.float32
        ) + right[:, start - offsets[index + 1] : stop - offsets[index + 1]] * fade_in.astype(np.float32)
        written = stop
    last, offset = parts[-1], offsets[-1]
    available = min(total, last.shape[1] + offset)
    out[:, written:available] = last[:, written - offset : available - offset]
    return out


def _fit(result: np.ndarray, total: int) -> np.ndarray:
    if result.shape[1] == total:
        return result
    out = np.zeros((2, total), dtype=np.float32)
    count = min(total, result.shape[1])
    out[:, :count] = result[:, :count]
    return out
