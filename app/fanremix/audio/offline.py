"""The offline render: policy check, stems through the graph, tempo and key, master, fades, loudness, export.

    policy ─▶ decode ─▶ mix (RenderGraph.render_block over the region, original timeline)
           ─▶ stretch (Rubber Band R3 on the mix, skipped when tempo and key are unchanged)
           ─▶ master chain (inside render_block when there is no stretch) ─▶ fades (output timeline)
           ─▶ loudness normalisation + true-peak limiting ─▶ encode to a temp file ─▶ hash ─▶ rename

Lossy files (MP3, Ogg Vorbis) are decoded again once written and measured: encoding can raise the true peak, so
when the file passes the ceiling the limiter's ceiling comes down by the excess (plus `ENCODE_MARGIN_DB`) and the
file is encoded again, at most `LOSSY_ENCODE_ATTEMPTS` times in all (then TruePeakError, and no file). The report of
a lossy file gives the loudness and peaks of the file as decoded, not of the render before encoding.

The policy is checked before anything is decoded; a refusal lists every violation. Progress is reported as
(stage, fraction of the whole render), possibly from a worker thread. Cancellation (a threading.Event or a callable
returning True) is checked between blocks and stages; the stretch itself cannot be interrupted, so a cancel
during it takes effect when it returns. A cancelled or failed render leaves nothing at the destination.
"""

import dataclasses
import hashlib
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fanremix.domain.atomic import atomic_path
from fanremix.domain.policy import PolicyViolationError
from fanremix.domain.recipe import Recipe
from fanremix.domain.stem_pack import PackManifest

from . import effects, loudness, stretch
from .errors import RenderCancelled, RenderError, TruePeakError
from .export import ExportFormat, export_format, read_back, write_audio
from .graph import MIN_BLOCK_FRAMES, RenderGraph
from .stems import CHANNELS, as_stereo, decode_paths, song_frames

OFFLINE_BLOCK_FRAMES = 16384
R3_SPEED_PER_CORE = 14.0  # seconds of audio R3 stretches per second on one core here; only for the progress estimate
LOSSY_ENCODE_ATTEMPTS = 3  # encodes of a lossy file whose true peak came out over the ceiling, before giving up
ENCODE_MARGIN_DB = 0.2  # how much further than the excess the limiter's ceiling comes down for the next encode
_ENCODE_SHARE_LOSSY = 0.75  # of the encode stage's progress; reading the file back and measuring it is the rest
ProgressCallback = Callable[[str, float], None]
Cancel = threading.Event | Callable[[], bool] | None
StemSource = Path | str | np.ndarray

# The share of a typical render each stage takes, for an overall fraction that moves evenly.
_STAGE_WEIGHTS = {
    "decode": 0.06,
    "mix": 0.14,
    "stretch": 0.50,
    "master": 0.02,
    "fades": 0.01,
    "loudness": 0.15,
    "encode": 0.10,
    "hash": 0.02,
}


@dataclass(frozen=True)
class RenderedAudio:
    """A render in memory: float32 (frames, 2) audio and what was measured on the way."""

    audio: np.ndarray
    sample_rate: int
    loudness: loudness.LoudnessReport
    timings: dict[str, float]
    recipe_hash: str

    @property
    def frames(self) -> int:
        return int(self.audio.shape[0])

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


@dataclass(frozen=True)
class RenderResult:
    """A render written to a file."""

    path: Path
    format: ExportFormat
    sample_rate: int
    frames: int
    sha256: str
    loudness: loudness.LoudnessReport
    timings: dict[str, float] = field(default_factory=dict)
    recipe_hash: str = ""

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


class _Progress:
    """Turns (stage, fraction of the stage) into (stage, fraction of the render), never going backwards."""

    def __init__(self, callback: ProgressCallback | None, stages: list[str]):
        self.callback = callback
        total = sum(_STAGE_WEIGHTS[s] for s in stages)
        self.weights = {s: _STAGE_WEIGHTS[s] / total for s in stages}
        self.offsets: dict[str, float] = {}
        acc = 0.0
        for stage in stages:
            self.offsets[stage] = acc
            acc += self.weights[stage]
        self.last = 0.0
        self.lock = threading.Lock()

    def __call__(self, stage: str, fraction: float) -> None:
        if self.callback is None or stage not in self.weights:
            return
        with self.lock:
            overall = self.offsets[stage] + self.weights[stage] * min(1.0, max(0.0, fraction))
            self.last = max(self.last, min(1.0, overall))
            value = self.last
        self.callback(stage, value)


def _cancel_check(cancel: Cancel) -> Callable[[], bool]:
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    return cancel


class _Clock:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._stage: str | None = None
        self._start = 0.0

    def start(self, stage: str) -> None:
        self.stop()
        self._stage, self._start = stage, time.perf_counter()

    def stop(self) -> None:
        if self._stage is not None:
            self.timings[self._stage] = self.timings.get(self._stage, 0.0) + time.perf_counter() - self._start
            self._stage = None


def check_policy(manifest: PackManifest, recipe: Recipe) -> None:
    """Raise PolicyViolationError listing every violation, or return when the pack's policy allows the recipe."""
    violations = manifest.policy.check(recipe, manifest)
    if violations:
        raise PolicyViolationError(violations)


def region_frames(manifest: PackManifest, recipe: Recipe) -> tuple[int, int]:
    """[start, stop) of the region in frames of the original timeline; the end is clipped to the song."""
    rate = manifest.sample_rate
    song = song_frames(manifest)
    start = round(recipe.region_start_s * rate)
    stop = song if recipe.region_end_s is None else min(song, round(recipe.region_end_s * rate))
    if start >= song:
        raise RenderError(
            f"The region starts at {recipe.region_start_s:g} s, but the song is only {song / rate:.2f} s long."
        )
    if stop <= start:
        raise RenderError("The region is empty.")
    return start, stop


def _fade_curve(frames: int) -> np.ndarray:
    """A raised-cosine fade-in of `frames` frames: smooth at both ends, no corner to hear."""
    phase = (np.arange(frames, dtype=np.float64) + 0.5) / frames
    return (0.5 - 0.5 * np.cos(np.pi * phase)).astype(np.float32)


def apply_fades(audio: np.ndarray, sample_rate: int, fade_in_s: float, fade_out_s: float) -> None:
    """Fade channels-first audio in place: in from its first frame, out to its last (the output timeline)."""
    frames = audio.shape[1]
    fade_in = min(frames, round(fade_in_s * sample_rate))
    fade_out = min(frames, round(fade_out_s * sample_rate))
    if fade_in:
        audio[:, :fade_in] *= _fade_curve(fade_in)
    if fade_out:
        audio[:, frames - fade_out :] *= _fade_curve(fade_out)[::-1]


def _mix_region(
    graph: RenderGraph,
    start: int,
    stop: int,
    progress: _Progress,
    is_cancelled: Callable[[], bool],
) -> np.ndarray:
    """The graph's output over [start, stop) as channels-first float32 (2, frames)."""
    frames = stop - start
    graph.seek(start)
    if frames < MIN_BLOCK_FRAMES:  # a tiny region: render the smallest block the graph takes, keep what we need
        return np.ascontiguousarray(graph.render_block(MIN_BLOCK_FRAMES)[:frames].T)
    mix = np.empty((CHANNELS, frames), dtype=np.float32)
    position = 0
    while position < frames:
        if is_cancelled():
            raise RenderCancelled()
        count = min(OFFLINE_BLOCK_FRAMES, frames - position)
        if frames - (position + count) < MIN_BLOCK_FRAMES:  # fold a short tail into this block
            count = frames - position
        graph.render_block(count, out=mix[:, position : position + count].T)
        position += count
        progress("mix", position / frames)
    return mix


def _stretch_with_estimate(
    mix: np.ndarray, recipe: Recipe, sample_rate: int, workers: int, progress: _Progress
) -> np.ndarray:
    """Stretch, reporting an estimated fraction while Rubber Band works (it has no progress of its own)."""
    done = threading.Event()
    parallel = max(1, min(workers, stretch.chunk_count(mix.shape[1], sample_rate)))
    expected = mix.shape[1] / sample_rate / (R3_SPEED_PER_CORE * parallel)
    began = time.perf_counter()

    def tick() -> None:
        while not done.wait(0.25):
            progress("stretch", min(0.95, (time.perf_counter() - began) / max(expected, 1e-3)))

    ticker = threading.Thread(target=tick, name="fanremix-stretch-progress", daemon=True)
    ticker.start()
    try:
        return stretch.stretch(mix, sample_rate, recipe.tempo_ratio, recipe.pitch_semitones, workers=workers)
    finally:
        done.set()
        ticker.join()
        progress("stretch", 1.0)


def _render(
    manifest: PackManifest,
    stems: Mapping[str, StemSource],
    recipe: Recipe,
    *,
    progress: _Progress,
    is_cancelled: Callable[[], bool],
    workers: int,
    clock: _Clock,
) -> np.ndarray:
    """Everything up to the loudness stage: the channels-first (2, frames) float32 render, faded."""
    rate = manifest.sample_rate
    clock.start("policy")
    check_policy(manifest, recipe)
    for mix in recipe.stems:
        effects.validate_chain(mix.chain, f"stem '{mix.stem_id}'")
    effects.validate_chain(recipe.master, "the master")
    start, stop = region_frames(manifest, recipe)
    if is_cancelled():
        raise RenderCancelled()

    clock.start("decode")
    frames = song_frames(manifest)
    paths = {stem_id: Path(s) for stem_id, s in stems.items() if not isinstance(s, np.ndarray)}
    arrays = decode_paths(manifest, paths, workers)
    arrays.update({k: as_stereo(v, frames) for k, v in stems.items() if isinstance(v, np.ndarray)})
    progress("decode", 1.0)
    if is_cancelled():
        raise RenderCancelled()

    clock.start("mix")
    block = OFFLINE_BLOCK_FRAMES + MIN_BLOCK_FRAMES  # the last block may take in a short tail
    with RenderGraph(manifest, arrays, recipe, block_frames=block, workers=workers) as graph:
        master_done = graph.master_in_block
        audio = _mix_region(graph, start, stop, progress, is_cancelled)
    del graph, arrays  # the stems are no longer needed: free them before the stretch
    if is_cancelled():
        raise RenderCancelled()

    if not stretch.is_identity(recipe.tempo_ratio, recipe.pitch_semitones):
        clock.start("stretch")
        audio = _stretch_with_estimate(audio, recipe, rate, workers, progress)
        if is_cancelled():
            raise RenderCancelled()

    if not master_done and recipe.master:
        clock.start("master")
        board = effects.build_chain(recipe.master, rate, "the master")
        total = audio.shape[1]
        for position in range(0, total, OFFLINE_BLOCK_FRAMES):
            if is_cancelled():
                raise RenderCancelled()
            end = min(total, position + OFFLINE_BLOCK_FRAMES)
            if len(board):
                audio[:, position:end] = board(np.ascontiguousarray(audio[:, position:end]), rate, reset=False)
            progress("master", end / total)

    clock.start("fades")
    apply_fades(audio, rate, recipe.fade_in_s, recipe.fade_out_s)
    clock.stop()
    return audio


def _level(
    audio: np.ndarray,
    sample_rate: int,
    recipe: Recipe,
    *,
    normalize: bool,
    workers: int,
    ceiling_dbtp: float = loudness.TRUE_PEAK_CEILING_DBTP,
) -> tuple[np.ndarray, loudness.LoudnessReport]:
    """The loudness stage: normalised and limited to `ceiling_dbtp` (a new array), or only measured."""
    if normalize and recipe.loudness_lufs is not None:
        return loudness.normalise(audio, sample_rate, recipe.loudness_lufs, ceiling_dbtp, workers=workers)
    return audio, loudness.measure(audio.T, sample_rate, workers)


def _stages(recipe: Recipe, encode: bool) -> list[str]:
    stages = ["decode", "mix"]
    if not stretch.is_identity(recipe.tempo_ratio, recipe.pitch_semitones):
        stages.append("stretch")
        if recipe.master:
            stages.append("master")
    stages += ["fades", "loudness"]
    if encode:
        stages += ["encode", "hash"]
    return stages


def render_to_array(
    manifest: PackManifest,
    stems: Mapping[str, StemSource],
    recipe: Recipe,
    *,
    progress: ProgressCallback | None = None,
    cancel: Cancel = None,
    normalize: bool = True,
    workers: int | None = None,
) -> RenderedAudio:
    """Render `recipe` into memory. `stems` maps stem id to an audio file or a decoded (frames, 1|2) array."""
    clock = _Clock()
    began = time.perf_counter()
    tracker = _Progress(progress, _stages(recipe, encode=False))
    workers = workers or os.cpu_count() or 1
    audio = _render(
        manifest,
        stems,
        recipe,
        progress=tracker,
        is_cancelled=_cancel_check(cancel),
        workers=workers,
        clock=clock,
    )
    clock.start("loudness")
    audio, report = _level(audio, manifest.sample_rate, recipe, normalize=normalize, workers=workers)
    tracker("loudness", 1.0)
    clock.stop()
    clock.timings["total"] = time.perf_counter() - began
    return RenderedAudio(audio.T, manifest.sample_rate, report, clock.timings, recipe.recipe_hash())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _measure_file(
    path: Path, report: loudness.LoudnessReport, is_cancelled: Callable[[], bool], workers: int
) -> loudness.LoudnessReport:
    """`report` with the loudness and peaks of the written file as decoded (4× oversampled true peak)."""
    decoded, rate = read_back(path, is_cancelled=is_cancelled)
    measured = loudness.measure(decoded, rate, workers)
    return dataclasses.replace(
        report,
        integrated_lufs=measured.integrated_lufs,
        true_peak_dbtp=measured.true_peak_dbtp,
        sample_peak_dbfs=measured.sample_peak_dbfs,
    )


def render_to_file(
    manifest: PackManifest,
    stem_paths: Mapping[str, StemSource],
    recipe: Recipe,
    destination: str | Path,
    fmt: str | ExportFormat | None = None,
    progress: ProgressCallback | None = None,
    cancel: Cancel = None,
    normalize: bool = True,
    *,
    workers: int | None = None,
) -> RenderResult:
    """Render `recipe` and write it atomically to `destination` in `fmt` (default: from the file's suffix)."""
    destination = Path(destination)
    chosen = fmt if isinstance(fmt, ExportFormat) else export_format(fmt, destination)
    is_cancelled = _cancel_check(cancel)
    clock = _Clock()
    began = time.perf_counter()
    tracker = _Progress(progress, _stages(recipe, encode=True))
    workers = workers or os.cpu_count() or 1
    rate = manifest.sample_rate
    audio = _render(
        manifest,
        stem_paths,
        recipe,
        progress=tracker,
        is_cancelled=is_cancelled,
        workers=workers,
        clock=clock,
    )
    normalising = normalize and recipe.loudness_lufs is not None
    ceiling = limiter_ceiling = loudness.TRUE_PEAK_CEILING_DBTP
    clock.start("loudness")
    levelled, report = _level(audio, rate, recipe, normalize=normalize, workers=workers)
    tracker("loudness", 1.0)
    # only a normalised lossy file may need the render before the limiter again; otherwise let it go now
    unlevelled = audio if chosen.lossy and normalising else None
    del audio
    share = _ENCODE_SHARE_LOSSY if chosen.lossy else 1.0
    with atomic_path(destination, suffix=chosen.suffix) as temp:
        for attempt in range(1, LOSSY_ENCODE_ATTEMPTS + 1):
            if is_cancelled():
                raise RenderCancelled()
            clock.start("encode")
            write_audio(
                levelled,
                rate,
                temp,
                chosen,
                is_cancelled=is_cancelled,
                progress=lambda fraction: tracker("encode", share * fraction),
            )
            if not chosen.lossy:
                break
            clock.start("verify")
            report = _measure_file(temp, report, is_cancelled, workers)
            tracker("encode", 1.0)
            if unlevelled is None or report.true_peak_dbtp <= ceiling:
                break
            if attempt == LOSSY_ENCODE_ATTEMPTS:
                raise TruePeakError(
                    f"The {chosen.label} encoder kept the true peak above {ceiling:g} dBTP: "
                    f"{report.true_peak_dbtp:.2f} dBTP after {attempt} encode(s), the last with the limiter's "
                    f"ceiling at {limiter_ceiling:.2f} dBTP. Choose a lower loudness target, or a lossless format "
                    "(WAV or FLAC)."
                )
            limiter_ceiling -= report.true_peak_dbtp - ceiling + ENCODE_MARGIN_DB
            clock.start("loudness")
            del levelled  # free it before normalise makes the next one
            levelled, report = _level(
                unlevelled, rate, recipe, normalize=normalize, workers=workers, ceiling_dbtp=limiter_ceiling
            )
            tracker("loudness", 1.0)
        clock.start("hash")
        digest = _sha256(temp)
        tracker("hash", 1.0)
        if is_cancelled():
            raise RenderCancelled()
    clock.stop()
    clock.timings["total"] = time.perf_counter() - began
    return RenderResult(
        path=destination,
        format=chosen,
        sample_rate=manifest.sample_rate,
        frames=int(levelled.shape[1]),
        sha256=digest,
        loudness=report,
        timings=clock.timings,
        recipe_hash=recipe.recipe_hash(),
    )
