"""Artist mode without Qt: prepare stems, build and sign a pack, preview what a policy allows, publish and review.

It joins the audio layer (decoding, analysis, rendering) and the rights layer (signing, the service client), which may
not import each other, so it sits at the top level like `demo.py` and `provenance_flow.py`. The artist window
(`fanremix.gui.artist`) and the `fanremix policy / publish / review / stems` commands (`fanremix.cli_artist`) both use
it; nothing here blocks on Qt, and everything slow takes a progress callback so the GUI can run it on a worker.

- **Stems.** `scan_folder` lists the audio files in a folder (WAV, FLAC, AIFF, MP3), guesses each one's role from
  its name, and measures rate, length, peak and clipping. `check_stems` reports what would stop a pack (mixed sample
  rates, stems of different lengths, unusable channel counts) and what deserves a look (clipping, silence, MP3's
  encoder delay), each with a suggestion. `conform_stems` writes what the pack needs: one sample rate, equal
  lengths, WAV or FLAC.
- **Suggestions.** `detect_bpm` (autocorrelation of a spectral-flux onset envelope, scored as a comb over the beat
  and its multiples) and `detect_key` (a chroma vector correlated with the Krumhansl–Kessler key profiles). They are
  offered to the artist, never applied silently.
- **Packs.** `build_artist_pack` checks, conforms, signs with the publisher key (created on first use, 0600) and
  verifies the written pack exactly as a fan's app will.
- **Extremes.** `policy_extremes` lists the corners of what a policy allows (slowest/fastest × lowest/highest key, and
  each stem that may be muted or heard alone); `render_extreme` renders one with `audio.offline.render_to_array`.
- **Review.** `fetch_submission_file` and `inspect_submission` get a submission's audio and explain its Content
  Credentials for the publisher who reviews it.
"""

import contextlib
import math
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

from .audio import realtime
from .domain.errors import FanRemixError, KeyringError, PackError, StemFormatError
from .domain.music import MusicalKey
from .domain.policy import Policy
from .domain.recipe import Recipe
from .domain.stem_pack import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, PackManifest, guess_role
from .rights.keyring import Keyring
from .rights.packfile import (
    LENGTH_TOLERANCE_S,
    PACK_SUFFIX,
    PackMetadata,
    StemSource,
    build_pack,
    open_pack,
    stem_id_from_name,
)
from .rights.signing import PublisherKey, key_id_of, load_public_key, public_key_pem
from .workspace import Workspace

AUDIO_SUFFIXES = (".wav", ".flac", ".aif", ".aiff", ".mp3")  # what the builder takes
PACKABLE_SUFFIXES = (".wav", ".flac")  # what a pack holds; the rest is converted when the pack is built
CLIP_LEVEL = 0.999  # a sample at or above this (absolute) sits at full scale
CLIP_RUN = 3  # this many full-scale samples in a row on one channel count as clipping (one can be a true peak)
CLIP_BOUND = 1e-4  # clipping on more than this share of a stem's samples is reported
SILENT_PEAK = 10 ** (-60 / 20)  # a stem whose peak stays below -60 dBFS is reported as silent
ANALYSIS_SECONDS = 120.0  # BPM and key are estimated from (at most) the first two minutes
EXTREME_SECONDS = 8.0  # default length of an extremes preview
ProgressCallback = Callable[[str, float], None]
Cancelled = Callable[[], bool]

SEVERITY_ERROR = "error"  # the pack cannot be built until this is fixed
SEVERITY_WARNING = "warning"  # worth a look; the pack can be built
SEVERITY_NOTE = "note"  # what the build will do on its own (convert, resample, pad)
FIX_RESAMPLE = "resample"
FIX_PAD = "pad"


class ArtistError(FanRemixError):
    """Something in artist mode cannot be done as asked; the message says what to change."""


class StemCheckError(ArtistError):
    """The stems have problems that stop the pack from being built; `problems` lists every one."""

    def __init__(self, problems: "Sequence[StemProblem]"):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p.message} {p.suggestion}".rstrip() for p in self.problems)
        super().__init__(f"The stems cannot be packed yet:\n{lines}")


def _noop_progress(stage: str, fraction: float) -> None:
    del stage, fraction


def _never() -> bool:
    return False


# -- stems ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StemFile:
    """An audio file offered as a stem, as measured."""

    path: Path
    role: str  # guessed from the file name
    sample_rate: int
    channels: int
    frames: int
    format: str  # libsndfile's major format: WAV, FLAC, AIFF, MP3…
    subtype: str
    peak: float  # linear, the largest absolute sample
    clipped: int  # samples in runs of CLIP_RUN or more at full scale, over all channels

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0

    @property
    def peak_db(self) -> float:
        return 20 * math.log10(self.peak) if self.peak > 0 else -math.inf

    @property
    def clipped_share(self) -> float:
        return self.clipped / max(1, self.frames * self.channels)

    @property
    def packable(self) -> bool:
        return self.path.suffix.lower() in PACKABLE_SUFFIXES


def _clipped_runs(hot: np.ndarray, carry: int) -> tuple[int, int]:
    """(samples in finished runs of CLIP_RUN or more full-scale samples, length of the run still open at the end).

    `carry` is the open run the previous block ended with, so runs across block boundaries count whole.
    """
    edges = np.diff(np.concatenate(([0], hot.view(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    lengths = stops - starts
    counted = 0
    if carry:
        if len(starts) and starts[0] == 0:
            lengths[0] += carry
        elif carry >= CLIP_RUN:
            counted += carry
    open_run = 0
    if len(hot) and hot[-1]:
        open_run, lengths = int(lengths[-1]), lengths[:-1]
    counted += int(lengths[lengths >= CLIP_RUN].sum())
    return counted, open_run


def describe_audio_file(path: Path) -> StemFile:
    """Measure one audio file: format, rate, channels, exact length, peak and clipping. Raises StemFormatError."""
    path = Path(path)
    try:
        with soundfile.SoundFile(str(path)) as source:
            rate, channels, fmt, subtype = source.samplerate, source.channels, source.format, source.subtype
            peak, clipped, frames = 0.0, 0, 0
            carry = [0] * channels
            for block in source.blocks(blocksize=1 << 16, dtype="float32", always_2d=True):
                frames += len(block)
                if not len(block):
                    continue
                magnitude = np.abs(block)
                peak = max(peak, float(magnitude.max()))
                for channel in range(channels):
                    counted, carry[channel] = _clipped_runs(magnitude[:, channel] >= CLIP_LEVEL, carry[channel])
                    clipped += counted
            clipped += sum(run for run in carry if run >= CLIP_RUN)
    except (RuntimeError, soundfile.LibsndfileError) as exc:
        raise StemFormatError(f"{path.name}: cannot be read as audio ({exc}).") from None
    return StemFile(
        path=path,
        role=guess_role(path.name),
        sample_rate=rate,
        channels=channels,
        frames=frames,
        format=fmt,
        subtype=subtype,
        peak=peak,
        clipped=clipped,
    )


def audio_files_in(folder: Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise ArtistError(f"{folder} is not a folder.")
    return sorted(
        (
            p
            for p in folder.iterdir()
            if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES and not p.name.startswith(".")
        ),
        key=lambda p: p.name.lower(),
    )


def scan_folder(
    folder: Path, progress: ProgressCallback | None = None, cancelled: Cancelled | None = None
) -> list[StemFile]:
    """Every audio file in `folder` (not its sub-folders), measured, with its role guessed from its name."""
    report = progress or _noop_progress
    is_cancelled = cancelled or _never
    paths = audio_files_in(folder)
    if not paths:
        raise ArtistError(f"{folder} holds no audio files ({', '.join(AUDIO_SUFFIXES)}).")
    found = []
    for index, path in enumerate(paths):
        if is_cancelled():
            raise ArtistError("The scan was cancelled.")
        found.append(describe_audio_file(path))
        report("scan", (index + 1) / len(paths))
    return found


@dataclass(frozen=True)
class StemProblem:
    """One finding about the stems: how serious, what, and what to do about it."""

    severity: str  # SEVERITY_ERROR, SEVERITY_WARNING or SEVERITY_NOTE
    code: str
    message: str
    suggestion: str = ""
    stem: str | None = None  # the file name it is about, if one
    fix: str | None = None  # FIX_RESAMPLE or FIX_PAD: the builder can do it


@dataclass(frozen=True)
class ConformOptions:
    """What the build may do to the stems: resample all to one rate, pad the shorter ones with silence."""

    sample_rate: int | None = None
    pad_to_longest: bool = False


def target_sample_rate(stems: Sequence[StemFile]) -> int:
    """The rate to bring every stem to: the one most stems have (the highest, on a tie)."""
    counts = Counter(stem.sample_rate for stem in stems)
    return max(counts, key=lambda rate: (counts[rate], rate))


def _seconds(value: float) -> str:
    return f"{value:.3f} s" if value < 10 else f"{value:.2f} s"


def check_stems(stems: Sequence[StemFile], options: ConformOptions = ConformOptions()) -> list[StemProblem]:
    """What stands between these stems and a pack (errors) and what deserves a look (warnings), with suggestions.

    Problems the options already take care of come back as notes: the build will do it.
    """
    problems: list[StemProblem] = []
    if not stems:
        return [StemProblem(SEVERITY_ERROR, "stems.none", "There are no stems.", "Choose a folder of audio files.")]
    for stem in stems:
        if stem.channels not in (1, 2):
            problems.append(
                StemProblem(
                    SEVERITY_ERROR,
                    "stem.channels",
                    f"{stem.path.name} has {stem.channels} channels; a stem is mono or stereo.",
                    "Export it again as a mono or stereo file.",
                    stem.path.name,
                )
            )
        if not MIN_SAMPLE_RATE <= stem.sample_rate <= MAX_SAMPLE_RATE:
            problems.append(
                StemProblem(
                    SEVERITY_ERROR,
                    "stem.sample_rate",
                    f"{stem.path.name} is at {stem.sample_rate} Hz; packs take {MIN_SAMPLE_RATE}–{MAX_SAMPLE_RATE} Hz.",
                    "Export it again at 44.1 or 48 kHz.",
                    stem.path.name,
                )
            )
        if stem.frames == 0:
            problems.append(
                StemProblem(SEVERITY_ERROR, "stem.empty", f"{stem.path.name} holds no audio.", "", stem.path.name)
            )
            continue
        if stem.clipped_share > CLIP_BOUND:
            lower = 1.0 + max(0.0, stem.peak_db)
            problems.append(
                StemProblem(
                    SEVERITY_WARNING,
                    "stem.clipping",
                    f"{stem.path.name} clips: {stem.clipped} samples ({stem.clipped_share:.2%}) sit at full scale.",
                    f"Lower it by at least {lower:.0f} dB before the export (or on the bus), and export it again; "
                    "fans' effects make clipping more audible.",
                    stem.path.name,
                )
            )
        elif stem.peak < SILENT_PEAK:
            problems.append(
                StemProblem(
                    SEVERITY_WARNING,
                    "stem.silent",
                    f"{stem.path.name} is silent (its peak is {stem.peak_db:.0f} dBFS).",
                    "Leave it out, or check that the right file was exported.",
                    stem.path.name,
                )
            )
        if stem.format == "MP3":
            problems.append(
                StemProblem(
                    SEVERITY_WARNING,
                    "stem.lossy",
                    f"{stem.path.name} is an MP3: its encoder adds a few milliseconds of delay and loses detail.",
                    "Export WAV or FLAC stems if you can; the MP3 is converted to a lossless file in the pack.",
                    stem.path.name,
                )
            )
        elif not stem.packable:
            problems.append(
                StemProblem(
                    SEVERITY_NOTE,
                    "stem.converted",
                    f"{stem.path.name} ({stem.format}) is converted to FLAC for the pack, without loss.",
                    stem=stem.path.name,
                )
            )

    rates = sorted({stem.sample_rate for stem in stems})
    target = options.sample_rate or target_sample_rate(stems)
    if len(rates) > 1 or (options.sample_rate and rates != [options.sample_rate]):
        others = [s for s in stems if s.sample_rate != target]
        names = ", ".join(f"{s.path.name} ({s.sample_rate} Hz)" for s in others)
        if options.sample_rate:
            problems.append(
                StemProblem(
                    SEVERITY_NOTE,
                    "stems.resampled",
                    f"{names} will be resampled to {target} Hz when the pack is built.",
                    fix=FIX_RESAMPLE,
                )
            )
        else:
            problems.append(
                StemProblem(
                    SEVERITY_ERROR,
                    "stems.mixed_rates",
                    f"The stems are at different sample rates ({', '.join(f'{r} Hz' for r in rates)}): {names}.",
                    f"Resample them to {target} Hz (most of the stems are at that rate), or export them again at one "
                    "rate.",
                    fix=FIX_RESAMPLE,
                )
            )

    lengths = {stem.path.name: stem.frames / stem.sample_rate for stem in stems if stem.sample_rate}
    if lengths:
        longest_name = max(lengths, key=lambda n: lengths[n])
        longest = lengths[longest_name]
        short = {name: longest - seconds for name, seconds in lengths.items() if longest - seconds > LENGTH_TOLERANCE_S}
        if short:
            listing = ", ".join(f"{name} ({_seconds(gap)} shorter)" for name, gap in sorted(short.items()))
            if options.pad_to_longest:
                problems.append(
                    StemProblem(
                        SEVERITY_NOTE,
                        "stems.padded",
                        f"{listing} will be padded with silence at the end to the length of {longest_name}.",
                        fix=FIX_PAD,
                    )
                )
            else:
                problems.append(
                    StemProblem(
                        SEVERITY_ERROR,
                        "stems.not_aligned",
                        f"The stems are not the same length: {listing} than {longest_name} "
                        f"({_seconds(longest)}). Stems must line up within {LENGTH_TOLERANCE_S * 1000:.0f} ms.",
                        "Export every stem from the same start point to the same end point (bar 1 to the end of the "
                        "song, tails included). If they all start together and only the ends differ, pad the shorter "
                        "ones with silence.",
                        fix=FIX_PAD,
                    )
                )
    return problems


def blocking(problems: Sequence[StemProblem]) -> list[StemProblem]:
    return [p for p in problems if p.severity == SEVERITY_ERROR]


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample (frames, channels) float audio with a polyphase filter (scipy.signal.resample_poly)."""
    if from_rate == to_rate:
        return audio
    from scipy import signal

    divisor = math.gcd(from_rate, to_rate)
    out = signal.resample_poly(audio, to_rate // divisor, from_rate // divisor, axis=0)
    return np.ascontiguousarray(out, dtype=np.float32)


@dataclass(frozen=True)
class BuildStem:
    """A stem as the artist confirmed it: the file, its role and its name in the pack."""

    file: StemFile
    role: str
    name: str

    @classmethod
    def guessed(cls, file: StemFile) -> "BuildStem":
        return cls(file=file, role=file.role, name=file.name)


def _conformed_format(stem: StemFile) -> tuple[str, str, str]:
    """(suffix, container, subtype) for a converted stem: FLAC at the source's depth, or float WAV when the audio
    would clip as integers (float and MP3 sources that go over full scale)."""
    if stem.peak > 1.0:
        return ".wav", "WAV", "FLOAT"
    if stem.subtype in ("PCM_16", "PCM_S8", "PCM_U8"):
        return ".flac", "FLAC", "PCM_16"
    return ".flac", "FLAC", "PCM_24"


def conform_stems(
    stems: Sequence[BuildStem],
    options: ConformOptions,
    folder: Path,
    progress: ProgressCallback | None = None,
    cancelled: Cancelled | None = None,
) -> list[StemSource]:
    """The stems as the pack takes them: files in `folder` at one rate, of equal length, as WAV or FLAC.

    Files that need nothing are used where they are (not copied). Raises StemCheckError when a problem remains that
    the options do not fix.
    """
    report = progress or _noop_progress
    is_cancelled = cancelled or _never
    files = [stem.file for stem in stems]
    problems = blocking(check_stems(files, options))
    if problems:
        raise StemCheckError(problems)
    rate = options.sample_rate or target_sample_rate(files)
    longest = max(round(f.frames * rate / f.sample_rate) for f in files)
    folder.mkdir(parents=True, exist_ok=True)
    sources: list[StemSource] = []
    used: set[str] = set()
    for index, stem in enumerate(stems):
        if is_cancelled():
            raise ArtistError("The build was cancelled.")
        stem_id = stem_id_from_name(stem.name)
        while stem_id in used:
            stem_id = f"{stem_id}-{index}"
        used.add(stem_id)
        file = stem.file
        frames_at_rate = round(file.frames * rate / file.sample_rate)
        needs_pad = options.pad_to_longest and longest - frames_at_rate > 0
        if file.packable and file.sample_rate == rate and not needs_pad:
            sources.append(StemSource(path=file.path, role=stem.role, name=stem.name, id=stem_id))
        else:
            audio, source_rate = soundfile.read(str(file.path), dtype="float32", always_2d=True)
            audio = resample(audio, source_rate, rate)
            if options.pad_to_longest and len(audio) < longest:
                audio = np.concatenate([audio, np.zeros((longest - len(audio), audio.shape[1]), np.float32)])
            suffix, container, subtype = _conformed_format(file)
            target = folder / f"{stem_id}{suffix}"
            soundfile.write(str(target), audio, rate, subtype=subtype, format=container)
            sources.append(StemSource(path=target, role=stem.role, name=stem.name, id=stem_id))
        report("prepare", (index + 1) / len(stems))
    return sources


# -- BPM and key suggestions -------------------------------------------------------------------------------------

# Krumhansl & Kessler (1982): how well each pitch class fits a major / minor key whose tonic is the first entry.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
BPM_RANGE = (60.0, 200.0)
BPM_PRIOR_CENTRE = 115.0  # a gentle preference for the tempo range most songs are notated in
ONSET_HOP = 512
MIN_ONSET_SALIENCE_DB = 12.0  # below this there are no onsets to take a tempo from (see onset_salience_db)
MIN_BPM_CONFIDENCE = 0.08  # below this no tempo is suggested (steady tones score ~0.02, real grooves 0.15 and up)


@dataclass(frozen=True)
class TempoEstimate:
    bpm: float
    confidence: float  # 0..1: how clearly the best tempo stands out

    @property
    def words(self) -> str:
        return f"{self.bpm:g} BPM"


@dataclass(frozen=True)
class KeyEstimate:
    key: MusicalKey
    confidence: float  # 0..1: the margin over the runner-up
    runner_up: MusicalKey | None = None

    @property
    def words(self) -> str:
        return self.key.name


def _stft_magnitude(mono: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """|STFT| as (frames, bins), Hann-windowed; the signal is zero-padded to whole frames."""
    if len(mono) < n_fft:
        mono = np.concatenate([mono, np.zeros(n_fft - len(mono), dtype=mono.dtype)])
    count = 1 + (len(mono) - n_fft) // hop
    frames = np.lib.stride_tricks.as_strided(
        mono, shape=(count, n_fft), strides=(mono.strides[0] * hop, mono.strides[0]), writeable=False
    )
    return np.abs(np.fft.rfft(frames * np.hanning(n_fft).astype(mono.dtype), axis=1))


def onset_envelope(mono: np.ndarray, sample_rate: int, hop: int = ONSET_HOP) -> np.ndarray:
    """Spectral flux of the log-magnitude spectrum, with its slow trend removed (one value per hop)."""
    magnitude = _stft_magnitude(mono.astype(np.float32), 2048, hop)
    log_mag = np.log1p(100.0 * magnitude)
    flux = np.maximum(0.0, np.diff(log_mag, axis=0)).sum(axis=1)
    if flux.size == 0:
        return flux
    window = max(1, round(0.5 * sample_rate / hop))
    trend = np.convolve(flux, np.ones(window) / window, mode="same")
    return np.maximum(0.0, flux - trend)


def onset_salience_db(mono: np.ndarray, sample_rate: int, hop: int = ONSET_HOP) -> float:
    """How sharp the strongest onsets are: the 99th percentile of the summed rise in band power (dB, over 24
    log-spaced bands, with a floor 40 dB under the loudest band). Held notes stay under a few dB (their partials only
    beat against each other); drums, plucks and sung syllables reach tens of dB."""
    power = _stft_magnitude(mono.astype(np.float32), 2048, hop) ** 2
    freqs = np.fft.rfftfreq(2048, 1.0 / sample_rate)
    band = np.digitize(freqs, np.geomspace(30.0, min(16000.0, sample_rate / 2), 25)) - 1
    bands = np.stack([power[:, band == b].sum(axis=1) for b in range(24)], axis=1)
    if bands.shape[0] < 2 or bands.max() <= 0:
        return 0.0
    level = 10 * np.log10(np.maximum(bands, bands.max() * 1e-4))
    rise = np.maximum(0.0, np.diff(level, axis=0)).sum(axis=1)
    return float(np.percentile(rise, 99))


def detect_bpm(mono: np.ndarray, sample_rate: int) -> TempoEstimate | None:
    """The tempo that best explains the onsets, or None when there is too little rhythm to tell."""
    if onset_salience_db(mono, sample_rate) < MIN_ONSET_SALIENCE_DB:
        return None
    envelope = onset_envelope(mono, sample_rate)
    frame_rate = sample_rate / ONSET_HOP
    if envelope.size < frame_rate * 2 or not envelope.any():
        return None
    envelope = envelope - envelope.mean()
    size = 1 << int(np.ceil(np.log2(2 * envelope.size)))
    spectrum = np.fft.rfft(envelope, size)
    acf = np.fft.irfft(spectrum * np.conj(spectrum), size)[: envelope.size]
    if acf[0] <= 0:
        return None
    acf = acf / acf[0]
    lags = np.arange(acf.size)

    def score(bpm: np.ndarray) -> np.ndarray:
        period = 60.0 * frame_rate / bpm
        total = np.zeros_like(bpm)
        for multiple, weight in ((1, 1.0), (2, 0.5), (3, 0.33), (4, 0.25)):
            total += weight * np.interp(period * multiple, lags, acf, right=0.0)
        # half-beat offsets count against a candidate (they belong to twice its tempo)
        total -= 0.25 * np.interp(period * 0.5, lags, acf, right=0.0)
        prior = np.exp(-0.5 * (np.log2(bpm / BPM_PRIOR_CENTRE) / 0.9) ** 2)
        return total * (0.5 + 0.5 * prior)

    candidates = np.arange(BPM_RANGE[0], BPM_RANGE[1] + 0.05, 0.1)
    scores = score(candidates)
    best = int(np.argmax(scores))
    if scores[best] <= 0:
        return None
    bpm = float(candidates[best])
    # most songs sit on a whole BPM; the grid's last decimal is noise
    bpm = float(round(bpm)) if abs(bpm - round(bpm)) <= 0.35 else round(bpm, 1)
    others = scores[np.abs(candidates - candidates[best]) > 3.0]
    runner_up = float(others.max()) if others.size else 0.0
    confidence = float(np.clip((scores[best] - max(runner_up, 0.0)) / scores[best], 0.0, 1.0))
    if confidence < MIN_BPM_CONFIDENCE:  # no tempo stands out: held notes, noise, or too little audio
        return None
    return TempoEstimate(bpm=bpm, confidence=confidence)


def chroma_vector(mono: np.ndarray, sample_rate: int) -> np.ndarray:
    """Energy per pitch class (C = 0) from 65 Hz to 2.1 kHz, every frame weighted alike (loud parts do not rule)."""
    n_fft = 1 << round(float(np.log2(sample_rate * 0.37)))  # ~0.37 s: enough resolution for low notes
    magnitude = _stft_magnitude(mono.astype(np.float32), n_fft, n_fft // 2)
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    usable = (freqs >= 65.0) & (freqs <= 2100.0)
    midi = 69 + 12 * np.log2(freqs[usable] / 440.0)
    pitch_class = np.mod(np.round(midi).astype(int), 12)
    closeness = 1.0 - 2.0 * np.abs(midi - np.round(midi))  # a bin between two notes counts for neither
    weights = np.clip(closeness, 0.0, 1.0)
    power = magnitude[:, usable] ** 2 * weights
    per_frame = np.zeros((magnitude.shape[0], 12))
    for pc in range(12):
        per_frame[:, pc] = power[:, pitch_class == pc].sum(axis=1)
    totals = per_frame.sum(axis=1, keepdims=True)
    audible = totals[:, 0] > totals.max() * 1e-4 if totals.size else np.zeros(0, bool)
    if not audible.any():
        return np.zeros(12)
    return np.sqrt(per_frame[audible] / totals[audible]).sum(axis=0)


def detect_key(mono: np.ndarray, sample_rate: int) -> KeyEstimate | None:
    """The key whose Krumhansl–Kessler profile best matches the chroma, or None when there is no pitched audio."""
    chroma = chroma_vector(mono, sample_rate)
    if not chroma.any() or np.allclose(chroma, chroma[0]):
        return None
    scores: list[tuple[float, MusicalKey]] = []
    for tonic in range(12):
        for minor, profile in ((False, MAJOR_PROFILE), (True, MINOR_PROFILE)):
            rotated = np.roll(profile, tonic)
            scores.append((float(np.corrcoef(chroma, rotated)[0, 1]), MusicalKey(tonic=tonic, minor=minor)))
    scores.sort(key=lambda item: item[0], reverse=True)
    (best, key), (second, runner_up) = scores[0], scores[1]
    confidence = float(np.clip((best - second) / max(best, 1e-9) * 4.0, 0.0, 1.0))
    return KeyEstimate(key=key, confidence=confidence, runner_up=runner_up)


@dataclass(frozen=True)
class Analysis:
    tempo: TempoEstimate | None
    key: KeyEstimate | None


def _mono_mix(stems: Sequence[BuildStem], rate: int, seconds: float) -> np.ndarray | None:
    total: np.ndarray | None = None
    for stem in stems:
        file = stem.file
        frames = min(file.frames, int(seconds * file.sample_rate))
        audio, source_rate = soundfile.read(str(file.path), frames=frames, dtype="float32", always_2d=True)
        mono = resample(audio.mean(axis=1, keepdims=True), source_rate, rate)[:, 0]
        if total is None:
            total = mono.copy()
        else:
            if len(mono) > len(total):
                total = np.concatenate([total, np.zeros(len(mono) - len(total), np.float32)])
            total[: len(mono)] += mono
    return total


def analyse_stems(
    stems: Sequence[BuildStem], seconds: float = ANALYSIS_SECONDS, progress: ProgressCallback | None = None
) -> Analysis:
    """Suggested BPM (from the drums when there are any) and key (from everything but the drums)."""
    report = progress or _noop_progress
    if not stems:
        return Analysis(None, None)
    rate = target_sample_rate([s.file for s in stems])
    drums = [s for s in stems if s.role == "drums"]
    pitched = [s for s in stems if s.role != "drums"] or list(stems)
    rhythm = _mono_mix(drums or stems, rate, seconds)
    report("analyse", 0.3)
    tempo = detect_bpm(rhythm, rate) if rhythm is not None else None
    if tempo is None and drums:  # drums without a clear pulse: try the whole mix
        whole = _mono_mix(stems, rate, seconds)
        tempo = detect_bpm(whole, rate) if whole is not None else None
    report("analyse", 0.6)
    harmony = _mono_mix(pitched, rate, seconds)
    key = detect_key(harmony, rate) if harmony is not None else None
    report("analyse", 1.0)
    return Analysis(tempo=tempo, key=key)


# -- publisher key ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyStatus:
    path: Path
    exists: bool
    key_id: str | None = None  # from the public half, readable without the passphrase
    protected: bool = False  # the private key file is encrypted with a passphrase

    @property
    def public_path(self) -> Path:
        return self.path.with_name(self.path.name + ".pub")


def publisher_key_status(workspace: Workspace, path: Path | None = None) -> KeyStatus:
    path = Path(path) if path else workspace.default_key_path()
    if not path.is_file():
        return KeyStatus(path=path, exists=False)
    status = KeyStatus(path=path, exists=True)
    with contextlib.suppress(OSError, KeyringError):
        public = load_public_key(status.public_path.read_bytes(), str(status.public_path))
        status = replace(status, key_id=key_id_of(public))
    with contextlib.suppress(OSError):
        status = replace(status, protected=b"ENCRYPTED" in path.read_bytes()[:64])
    return status


def create_publisher_key(
    workspace: Workspace, name: str, passphrase: bytes | None = None, path: Path | None = None
) -> PublisherKey:
    """A new publisher key: the private half 0600 in the config folder (optionally under a passphrase), the public
    half beside it, trusted on this machine so the packs signed here open here. Never replaces an existing key."""
    default = workspace.default_key_path()
    path = Path(path) if path else default
    if path.exists():
        raise ArtistError(f"A publisher key already exists at {path}; it is kept (a lost key cannot sign updates).")
    key = PublisherKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    if path == default:
        path.parent.chmod(0o700)  # the app's own keys folder; a folder the artist chose is left as it is
    key.save(path, passphrase)
    workspace.keyring().trust(
        key.public_key, name=name or "My publisher key", source=f"created on this machine ({path})"
    )
    return key


def load_or_create_publisher_key(
    workspace: Workspace, name: str, passphrase: bytes | None = None, path: Path | None = None
) -> tuple[PublisherKey, bool]:
    """(the publisher key, whether it was created now). Raises KeyringError when a passphrase is needed or wrong."""
    path = Path(path) if path else workspace.default_key_path()
    if path.is_file():
        key = PublisherKey.load(path, passphrase)
        keyring = workspace.keyring()
        with contextlib.suppress(PackError):
            keyring.find(key.key_id)
            return key, False
        keyring.trust(key.public_key, name=name or "My publisher key", source=f"key file {path}")
        return key, False
    return create_publisher_key(workspace, name, passphrase, path), True


def export_public_key(workspace: Workspace, destination: Path, path: Path | None = None) -> Path:
    """Copy the publisher's public key (PEM) to `destination`, for platforms and fans to trust."""
    status = publisher_key_status(workspace, path)
    if not status.exists or not status.public_path.is_file():
        raise ArtistError("There is no publisher key yet: build a pack first (the key is created then).")
    data = status.public_path.read_bytes()
    load_public_key(data, str(status.public_path))
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(data)
    return destination


# -- building and re-signing packs --------------------------------------------------------------------------


@dataclass(frozen=True)
class BuiltPack:
    path: Path
    manifest: PackManifest


def build_artist_pack(
    stems: Sequence[BuildStem],
    metadata: PackMetadata,
    policy: Policy,
    key: PublisherKey,
    destination: Path,
    keyring: Keyring,
    *,
    options: ConformOptions = ConformOptions(),
    workdir: Path | None = None,
    progress: ProgressCallback | None = None,
    cancelled: Cancelled | None = None,
) -> BuiltPack:
    """Check and conform the stems, build and sign the pack, then open it as a fan's app would (it must verify)."""
    report = progress or _noop_progress
    destination = Path(destination)
    if destination.suffix.lower() != PACK_SUFFIX:
        destination = destination.with_name(destination.name + PACK_SUFFIX)
    with tempfile.TemporaryDirectory(prefix="fanremix-artist-", dir=workdir) as temp:
        sources = conform_stems(
            stems, options, Path(temp), lambda _s, f: report("prepare", 0.4 * f), cancelled=cancelled
        )
        manifest = build_pack(
            sources, metadata, policy, key, destination, lambda stage, f: report(stage, 0.4 + 0.4 * f)
        )
    with open_pack(destination, keyring, progress=lambda _s, f: report("verify", 0.8 + 0.2 * f)) as opened:
        if opened.manifest.pack_hash() != manifest.pack_hash():
            raise ArtistError(f"{destination.name} does not read back as it was written; build it again.")
    return BuiltPack(path=destination, manifest=manifest)


def resign_with_policy(
    pack_path: Path,
    policy: Policy,
    key: PublisherKey,
    destination: Path,
    keyring: Keyring,
    progress: ProgressCallback | None = None,
) -> BuiltPack:
    """The same stems and metadata under another policy, signed with `key` (for previews and policy updates)."""
    with open_pack(pack_path, keyring) as opened:
        manifest = opened.manifest
        sources = [
            StemSource(path=opened.stem_path(stem.id), role=stem.role, name=stem.name, id=stem.id)
            for stem in manifest.stems
        ]
        metadata = PackMetadata(
            id=manifest.id,
            title=manifest.title,
            artists=manifest.artists,
            bpm=manifest.bpm,
            key=manifest.key,
            isrc=manifest.isrc,
            rightsholders=manifest.rightsholders,
        )
        built = build_pack(sources, metadata, policy, key, destination, progress)
    return BuiltPack(path=Path(destination), manifest=built)


# -- what fans can do: the extremes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Extreme:
    """One corner of what the policy allows, as a short recipe to listen to."""

    label: str
    detail: str
    recipe: Recipe
    kind: str  # "original", "corner", "without", "alone"

    @property
    def tempo_ratio(self) -> float:
        return self.recipe.tempo_ratio

    @property
    def pitch_semitones(self) -> float:
        return self.recipe.pitch_semitones

    def expected_duration_s(self, manifest: PackManifest) -> float:
        end = manifest.duration_s if self.recipe.region_end_s is None else self.recipe.region_end_s
        return (min(end, manifest.duration_s) - self.recipe.region_start_s) / self.recipe.tempo_ratio


@dataclass(frozen=True)
class SkippedExtreme:
    label: str
    reason: str


def preview_policy(policy: Policy) -> Policy:
    """The policy as the extremes are judged: short excerpts are for listening, not releases, so the length bounds
    and the validity dates do not apply to them."""
    return policy.with_changes(min_length_s=None, max_length_s=None, valid_from=None, valid_until=None)


def preview_manifest(manifest: PackManifest, policy: Policy) -> PackManifest:
    """`manifest` under `policy` (as a draft: unsigned), for rendering previews of a policy not yet published."""
    return replace(manifest, policy=preview_policy(policy), signature=None)


def _tempo_words(ratio: float) -> str:
    return f"{ratio * 100:.0f} %" if abs(ratio * 100 - round(ratio * 100)) < 1e-6 else f"{ratio * 100:.1f} %"


def _pitch_words(semitones: float) -> str:
    if semitones == 0:
        return "±0 st"
    return f"{'+' if semitones > 0 else '−'}{abs(semitones):g} st"


def policy_extremes(
    manifest: PackManifest, policy: Policy, *, start_s: float = 0.0, length_s: float = EXTREME_SECONDS
) -> tuple[list[Extreme], list[SkippedExtreme]]:
    """The corners of `policy` on `manifest`'s stems, each as a recipe over [start_s, start_s + length_s).

    The original; every tempo × key corner (slowest/fastest × lowest/highest); the mix without each stem that may be
    muted; each stem that may be heard alone. Corners the policy does not actually allow (e.g. muting one stem leaves
    too few audible) come back in the second list with the policy's reason.
    """
    draft = preview_manifest(manifest, policy)
    rules = draft.policy
    start = max(0.0, min(start_s, manifest.duration_s - 0.1))
    end = min(manifest.duration_s, start + max(0.1, length_s))
    base = Recipe.for_stems(
        draft.id,
        draft.pack_hash(),
        [stem.id for stem in draft.stems],
        region_start_s=start,
        region_end_s=None if end >= manifest.duration_s else end,
    )
    tempo_home = min(max(1.0, rules.tempo_ratio.low), rules.tempo_ratio.high)
    pitch_home = min(max(0.0, rules.pitch_semitones.low), rules.pitch_semitones.high)
    candidates: list[Extreme] = [
        Extreme(
            "Original",
            f"{_tempo_words(tempo_home)}, {_pitch_words(pitch_home)}",
            replace(base, tempo_ratio=tempo_home, pitch_semitones=pitch_home),
            "original",
        )
    ]
    seen = {(tempo_home, pitch_home)}
    for tempo, tempo_word in ((rules.tempo_ratio.low, "Slowest"), (rules.tempo_ratio.high, "Fastest")):
        for pitch, pitch_word in (
            (rules.pitch_semitones.low, "lowest key"),
            (rules.pitch_semitones.high, "highest key"),
        ):
            if (tempo, pitch) in seen:
                continue
            seen.add((tempo, pitch))
            if rules.tempo_ratio.low == rules.tempo_ratio.high:
                tempo_word = "Original tempo"
            if rules.pitch_semitones.low == rules.pitch_semitones.high:
                pitch_word = "original key"
            candidates.append(
                Extreme(
                    f"{tempo_word}, {pitch_word}",
                    f"{_tempo_words(tempo)}, {_pitch_words(pitch)}",
                    replace(base, tempo_ratio=tempo, pitch_semitones=pitch),
                    "corner",
                )
            )
    home = replace(base, tempo_ratio=tempo_home, pitch_semitones=pitch_home)
    for stem in draft.stems:
        candidates.append(
            Extreme(f"Without {stem.name}", f"{stem.role} muted", home.with_stem(stem.id, mute=True), "without")
        )
    for stem in draft.stems:
        candidates.append(
            Extreme(f"{stem.name} alone", f"{stem.role} soloed", home.with_stem(stem.id, solo=True), "alone")
        )

    allowed: list[Extreme] = []
    skipped: list[SkippedExtreme] = []
    for extreme in candidates:
        violations = rules.check(extreme.recipe, draft)
        if violations:
            skipped.append(SkippedExtreme(extreme.label, " ".join(v.message for v in violations)))
        else:
            allowed.append(extreme)
    return allowed, skipped


@dataclass(frozen=True)
class RenderedExtreme:
    extreme: Extreme
    audio: np.ndarray  # float32 (frames, 2)
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.audio) / self.sample_rate


def render_extreme(
    manifest: PackManifest,
    policy: Policy,
    stems: Mapping[str, Any],
    extreme: Extreme,
    *,
    cancel: threading.Event | Callable[[], bool] | None = None,
    progress: ProgressCallback | None = None,
) -> RenderedExtreme:
    """Render one extreme (loudness-normalised, so the corners can be compared by ear)."""
    from .audio.offline import render_to_array

    draft = preview_manifest(manifest, policy)
    rendered = render_to_array(draft, stems, extreme.recipe, progress=progress, cancel=cancel, workers=1)
    return RenderedExtreme(extreme=extreme, audio=rendered.audio, sample_rate=rendered.sample_rate)


def dominant_frequency(audio: np.ndarray, sample_rate: int, low_hz: float = 40.0, high_hz: float = 5000.0) -> float:
    """The frequency of the strongest spectral peak between `low_hz` and `high_hz` (parabolic interpolation)."""
    mono = np.asarray(audio, dtype=np.float64)
    if mono.ndim == 2:
        mono = mono.mean(axis=1)
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono))))
    freqs = np.fft.rfftfreq(len(mono), 1.0 / sample_rate)
    band = np.flatnonzero((freqs >= low_hz) & (freqs <= high_hz))
    peak = int(band[np.argmax(spectrum[band])])
    if 0 < peak < len(spectrum) - 1:
        a, b, c = np.log(spectrum[peak - 1 : peak + 2] + 1e-12)
        offset = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) != 0 else 0.0
        return float((peak + offset) * sample_rate / len(mono))
    return float(freqs[peak])


# -- playing clips in the real-time engine --------------------------------------------------------------------


class ClipSource:
    """A `realtime.BlockSource` over audio already in memory (an extreme, a submission): plays it once."""

    def __init__(self, audio: np.ndarray, sample_rate: int):
        data = np.asarray(audio, dtype=np.float32)
        if data.ndim == 1:
            data = data[:, None]
        if data.shape[1] == 1:
            data = np.repeat(data, 2, axis=1)
        self.audio = np.ascontiguousarray(data[:, :2])
        self.sample_rate = int(sample_rate)
        self._position = 0
        self.tempo_ratio = 1.0

    @property
    def position(self) -> float:
        return float(self._position)

    @property
    def output_position(self) -> int:
        return self._position

    @property
    def finished(self) -> bool:
        return self._position >= len(self.audio)

    @property
    def duration_s(self) -> float:
        return len(self.audio) / self.sample_rate

    def seek(self, original_frame: float) -> None:
        self._position = int(max(0, min(len(self.audio), original_frame)))

    def apply(self, command: realtime.Command) -> int:
        if isinstance(command, realtime.Stop):
            self._position = 0
        return 0

    def next_block(self, frames: int) -> tuple[np.ndarray, realtime.BlockInfo]:
        start = self._position
        block = np.zeros((frames, 2), dtype=np.float32)
        chunk = self.audio[start : start + frames]
        block[: len(chunk)] = chunk
        self._position = min(len(self.audio), start + frames)
        peak = float(np.max(np.abs(chunk))) if len(chunk) else 0.0
        return block, realtime.BlockInfo(original_frame=start, output_frame=start, master_peak=(peak, peak))


def read_clip(path: Path) -> tuple[np.ndarray, int]:
    """A submission's audio as float32 (frames, 2) for the player (WAV, FLAC, MP3 and OGG through libsndfile)."""
    try:
        audio, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError) as exc:
        raise ArtistError(f"{Path(path).name} cannot be played here ({exc}).") from None
    return ClipSource(audio, rate).audio, rate


# -- publish and review -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishResult:
    pack_id: str
    pack_hash: str
    policy_hash: str
    updated: bool  # True when the pack was already registered and this replaced it


POLICY_UPDATE_NOTE = (
    "A new policy applies to licence checks and grants from now on. Grants already issued keep the terms they were "
    "issued under (each names the policy it was checked against): a remix submitted with one is checked against "
    "that policy, not the new one. Submissions you have already reviewed keep their status."
)


def publish_pack(client: Any, pack_path: Path, keyring: Keyring) -> PublishResult:
    """Register a signed pack (its pack.json and public key, never the audio) with the rights service.

    The pack is opened and verified first, exactly as a fan's app will; the public key sent is the signer's, from this
    machine's keyring.
    """
    with open_pack(pack_path, keyring) as opened:
        manifest = opened.manifest
        signer = opened.signer
    if signer.is_demo:
        raise ArtistError(
            f"{Path(pack_path).name} is signed with the demo key, whose private half is public; sign it with your own "
            "publisher key before publishing it."
        )
    known = {info.id for info in client.packs()}
    info = client.register_pack(manifest, public_key_pem(signer.public_key))
    return PublishResult(info.id, info.pack_hash, info.policy_hash, updated=manifest.id in known)


def update_policy(client: Any, pack_id: str, policy: Policy) -> Any:
    """Replace the policy in force for a published pack (see POLICY_UPDATE_NOTE for what it changes)."""
    return client.update_policy(pack_id, policy.to_dict())


def fetch_submission_file(client: Any, submission_id: str, folder: Path) -> Path:
    """Download a submission's stored audio into `folder` (named after the submission, with its format's suffix), and
    for OGG its `.c2pa` sidecar beside it."""
    # `GET /v1/submissions/{id}/file` has no wrapper in RightsClient yet; its request plumbing (auth, retries, typed
    # errors) is reused rather than duplicated.
    response = client._request("GET", f"/v1/submissions/{submission_id}/file")
    media = response.headers.get("Content-Type", "").split(";")[0].strip()
    suffix = {"audio/wav": ".wav", "audio/x-wav": ".wav", "audio/flac": ".flac", "audio/mpeg": ".mp3"}.get(media)
    suffix = suffix or {"audio/ogg": ".ogg"}.get(media, ".wav")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{submission_id}{suffix}"
    target.write_bytes(response.content)
    if suffix == ".ogg":  # OGG keeps its C2PA record in a sidecar, which the service keeps beside it
        sidecar = client._request("GET", f"/v1/submissions/{submission_id}/sidecar")
        target.with_suffix(".c2pa").write_bytes(sidecar.content)
    return target


@dataclass(frozen=True)
class SubmissionDetails:
    submission: Any  # rights.client.Submission
    path: Path | None  # the downloaded audio (None: the service kept no file)
    lines: tuple[str, ...]  # the provenance in words (what `fanremix verify` prints)
    audio: np.ndarray | None = None
    sample_rate: int = 0
    remixer: str | None = None
    problem: str | None = None  # why there is no audio or no record


def inspect_submission(client: Any, submission: Any, folder: Path, *, decode: bool = True) -> SubmissionDetails:
    """Download a submission and explain its Content Credentials, with the service's CA as the trust anchor and
    its grant keys to check the grant."""
    from .cli_verify import describe
    from .provenance_flow import verify_file
    from .rights.c2pa import NoCredentialsError
    from .rights.identity import TrustAnchors

    if submission.status == "rejected":
        return SubmissionDetails(
            submission, None, (), problem="The service rejected this submission, so it did not keep the file."
        )
    path = fetch_submission_file(client, submission.id, folder)
    anchors = TrustAnchors.from_pem(client.keys().ca_certificate_pem, "this rights service's CA")
    lines: tuple[str, ...] = ()
    problem = None
    remixer = None
    try:
        result = verify_file(path, anchors, service_keys=client.keys().grant_keys)
        lines = tuple(describe(result))
        record = result.report.record
        if record is not None:
            remixer = record.remixer or (result.report.signer.common_name if result.report.signer else None)
    except NoCredentialsError as exc:
        problem = str(exc)
    audio, rate = read_clip(path) if decode else (None, 0)
    return SubmissionDetails(submission, path, lines, audio, rate, remixer, problem)


def review_submission(client: Any, submission_id: str, decision: str, note: str | None = None) -> Any:
    """Approve, reject (a note is required: the fan reads it) or take down a submission."""
    if decision not in ("approve", "reject", "take_down"):
        raise ArtistError(f"'{decision}' is not a review decision; use approve, reject or take_down.")
    if decision == "reject" and not (note and note.strip()):
        raise ArtistError("Say why you reject the remix: the fan sees your note.")
    return client.review(submission_id, decision, note.strip() if note else None)


@dataclass
class StemTable:
    """The builder's editable list: measured files with the roles and names the artist chose (GUI and CLI)."""

    stems: list[BuildStem] = field(default_factory=list)

    @classmethod
    def from_files(cls, files: Sequence[StemFile], roles: Mapping[str, str] | None = None) -> "StemTable":
        roles = roles or {}
        chosen = []
        for file in files:
            role = roles.get(file.path.name) or roles.get(file.path.stem) or file.role
            chosen.append(BuildStem(file=file, role=role, name=file.name))
        return cls(chosen)

    @property
    def files(self) -> list[StemFile]:
        return [stem.file for stem in self.stems]


def default_pack_destination(folder: Path, title: str) -> Path:
    slug = "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")
    while "--" in slug:
        slug = slug.replace("--", "-")
    return Path(folder) / f"{slug or 'pack'}{PACK_SUFFIX}"
