"""Decode a pack's stems into the graph's working format: float32, shape (frames, 2), all the same length.

Mono stems are copied to both channels (the pan law then places them); shorter stems are padded with silence to
the longest, which pack loading allows within a small tolerance. Decoding writes straight into one preallocated
array per stem, and stems are decoded on a few threads (libsndfile runs without the GIL).
"""

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import soundfile

from fanremix.domain.stem_pack import PackManifest

from .errors import StemDecodeError

CHANNELS = 2
_FLOAT_SUBTYPES = ("FLOAT", "DOUBLE")
_READ_FRAMES = 1 << 18


def stem_order(manifest: PackManifest) -> tuple[str, ...]:
    """The order stems are summed in: the pack's own order, so every render adds them the same way."""
    return tuple(stem.id for stem in manifest.stems)


def song_frames(manifest: PackManifest) -> int:
    return max(stem.frames for stem in manifest.stems)


def decode_stem(path: Path, frames: int, sample_rate: int, name: str | None = None) -> np.ndarray:
    """One stem as float32 (frames, 2), padded with silence (or cut) to `frames`."""
    label = name or Path(path).name
    try:
        out = np.zeros((frames, CHANNELS), dtype=np.float32)
    except MemoryError:
        raise StemDecodeError(
            f"{label}: decoding {frames} frames needs {frames * CHANNELS * 4 / 1e9:.1f} GB of memory, more than this "
            "machine can give."
        ) from None
    try:
        with soundfile.SoundFile(str(path)) as source:
            if source.samplerate != sample_rate:
                raise StemDecodeError(
                    f"{label}: recorded at {source.samplerate} Hz, but the pack plays at {sample_rate} Hz."
                )
            if source.channels not in (1, 2):
                raise StemDecodeError(f"{label}: has {source.channels} channels; stems are mono or stereo.")
            wanted = min(frames, source.frames)
            subtype = source.subtype
            if source.channels == 2:
                got = source.read(wanted, dtype="float32", out=out[:wanted])
                count = len(got)
            else:
                count = 0
                while count < wanted:
                    block = source.read(min(_READ_FRAMES, wanted - count), dtype="float32", always_2d=True)
                    if not len(block):
                        break
                    out[count : count + len(block)] = block  # broadcasts the mono channel to both sides
                    count += len(block)
    except (RuntimeError, soundfile.LibsndfileError) as exc:
        raise StemDecodeError(f"{label}: cannot be decoded ({exc}).") from None
    if count < wanted:
        raise StemDecodeError(f"{label}: ended after {count} of {wanted} frames; the file is truncated.")
    if subtype in _FLOAT_SUBTYPES and not _all_finite(out[:count]):  # integer PCM cannot hold NaN or infinity
        raise StemDecodeError(f"{label}: holds NaN or infinite samples, which are not audio; the stem is refused.")
    return out


def _all_finite(audio: np.ndarray) -> bool:
    """In blocks, so the check needs a few MB however long the stem is."""
    return all(np.isfinite(audio[start : start + _READ_FRAMES]).all() for start in range(0, len(audio), _READ_FRAMES))


def decode_paths(
    manifest: PackManifest, stem_paths: Mapping[str, Path], workers: int | None = None
) -> dict[str, np.ndarray]:
    """The stems named in `stem_paths` (by stem id), decoded to float32 (frames, 2) arrays of the song's length."""
    frames = song_frames(manifest)
    files = {stem.id: stem.file for stem in manifest.stems}
    unknown = [stem_id for stem_id in stem_paths if stem_id not in files]
    if unknown:
        raise StemDecodeError(f"The pack has no stem(s) {', '.join(unknown)}.")
    jobs = [(stem_id, Path(path), files[stem_id]) for stem_id, path in stem_paths.items()]
    workers = max(1, min(len(jobs), workers or os.cpu_count() or 1))

    def decode(job: tuple[str, Path, str]) -> np.ndarray:
        return decode_stem(job[1], frames, manifest.sample_rate, job[2])

    if workers == 1:
        arrays = [decode(job) for job in jobs]
    else:
        with ThreadPoolExecutor(workers, thread_name_prefix="fanremix-decode") as pool:
            arrays = list(pool.map(decode, jobs))
    return {job[0]: array for job, array in zip(jobs, arrays, strict=True)}


def decode_stems(
    manifest: PackManifest, stem_paths: Mapping[str, Path], workers: int | None = None
) -> dict[str, np.ndarray]:
    """Every stem of the pack, by stem id, as float32 (frames, 2) arrays of the song's length."""
    missing = [stem.id for stem in manifest.stems if stem.id not in stem_paths]
    if missing:
        raise StemDecodeError(f"No audio file was given for the stem(s): {', '.join(missing)}.")
    return decode_paths(manifest, {stem.id: stem_paths[stem.id] for stem in manifest.stems}, workers)


def as_stereo(audio: np.ndarray, frames: int | None = None) -> np.ndarray:
    """An array already in memory in the working format: float32 (frames, 2), padded or cut to `frames`."""
    data = np.asarray(audio, dtype=np.float32)
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2 or data.shape[1] not in (1, 2):
        raise StemDecodeError(f"Stem audio must have shape (frames, 1 or 2), not {data.shape}.")
    length = data.shape[0] if frames is None else frames
    if data.shape[1] == CHANNELS and data.shape[0] == length and data.flags.c_contiguous:
        return data
    out = np.zeros((length, CHANNELS), dtype=np.float32)
    count = min(length, data.shape[0])
    out[:count] = data[:count]
    return out
