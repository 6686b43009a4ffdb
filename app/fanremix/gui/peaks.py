"""Waveform overviews: per-stem min/max peaks in a fixed number of bins, computed on a worker and cached on disk.

The cache key is the stem's sha256 (from the signed manifest) and the bin count, so a cached overview can never
belong to different audio. Runs on a worker thread: numpy only, no Qt.
"""

import contextlib
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from fanremix.domain.atomic import atomic_path
from fanremix.domain.stem_pack import PackManifest

OVERVIEW_BINS = 2048
PEAKS_FOLDER = "peaks"


def compute_peaks(audio: np.ndarray, bins: int = OVERVIEW_BINS) -> np.ndarray:
    """(bins, 2) float32 of (min, max) over both channels; frames are spread evenly over the bins."""
    mono = audio if audio.ndim == 1 else audio.reshape(audio.shape[0], -1)
    frames = mono.shape[0]
    out = np.zeros((bins, 2), dtype=np.float32)
    if frames == 0:
        return out
    edges = np.linspace(0, frames, bins + 1).astype(np.int64)
    edges[-1] = frames
    starts = edges[:-1]
    nonempty = edges[1:] > starts
    low = np.minimum.reduceat(mono.min(axis=1) if mono.ndim == 2 else mono, starts[nonempty])
    high = np.maximum.reduceat(mono.max(axis=1) if mono.ndim == 2 else mono, starts[nonempty])
    out[nonempty, 0] = low
    out[nonempty, 1] = high
    return out


def cache_path(cache_folder: Path, sha256: str, bins: int) -> Path:
    return Path(cache_folder) / PEAKS_FOLDER / f"{sha256}-{bins}.npy"


def load_or_compute_peaks(
    manifest: PackManifest,
    stems: Mapping[str, np.ndarray],
    cache_folder: Path | None,
    bins: int = OVERVIEW_BINS,
    cancelled: Callable[[], bool] = lambda: False,
) -> dict[str, np.ndarray]:
    """Peaks for every stem, read from the cache when present and written to it when computed."""
    result: dict[str, np.ndarray] = {}
    for stem in manifest.stems:
        if cancelled():
            break
        path = cache_path(cache_folder, stem.sha256, bins) if cache_folder is not None else None
        peaks = None
        if path is not None and path.is_file():
            with contextlib.suppress(OSError, ValueError):
                loaded = np.load(path, allow_pickle=False)
                if loaded.shape == (bins, 2) and loaded.dtype == np.float32:
                    peaks = loaded
        if peaks is None:
            peaks = compute_peaks(stems[stem.id], bins)
            if path is not None:
                with contextlib.suppress(OSError), atomic_path(path) as temp, open(temp, "wb") as handle:
                    np.save(handle, peaks, allow_pickle=False)
        result[stem.id] = peaks
    return result
