"""Export formats and the encoders behind them.

WAV and FLAC go through soundfile (libsndfile), with our own quantisation so that the bits are known: 16-bit
output gets TPDF dither from a fixed seed (the same render always gives the same file), 24-bit output is rounded,
both are clipped rather than wrapped. MP3 (LAME) and Ogg Vorbis go through pedalboard.io.AudioFile. Writing is
chunked so that a render can be cancelled while it is encoded; callers write to a temporary path (see
fanremix.domain.atomic) and rename it only once everything succeeded. `read_back` decodes a written file as a
player would, so that what lossy encoding did to the peaks can be measured on the file itself.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile
from pedalboard.io import AudioFile

from .errors import ExportError, RenderCancelled

_CHUNK = 1 << 16
_DITHER_SEED = 0x5EED_F00D


@dataclass(frozen=True)
class ExportFormat:
    name: str  # what --format takes
    label: str
    suffix: str
    container: str  # "wav", "flac", "mp3" or "ogg"
    bits: int | None = None  # PCM bits (32 = float for WAV)
    quality: str | None = None  # the encoder's quality setting, for lossy formats

    @property
    def lossy(self) -> bool:
        return self.container in ("mp3", "ogg")


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("wav16", "WAV, 16-bit", ".wav", "wav", bits=16),
        ExportFormat("wav24", "WAV, 24-bit", ".wav", "wav", bits=24),
        ExportFormat("wav32f", "WAV, 32-bit float", ".wav", "wav", bits=32),
        ExportFormat("flac16", "FLAC, 16-bit", ".flac", "flac", bits=16),
        ExportFormat("flac24", "FLAC, 24-bit", ".flac", "flac", bits=24),
        ExportFormat("mp3-v0", "MP3, VBR V0", ".mp3", "mp3", quality="V0"),
        ExportFormat("mp3-v2", "MP3, VBR V2", ".mp3", "mp3", quality="V2"),
        ExportFormat("mp3-320", "MP3, 320 kbps", ".mp3", "mp3", quality="320 kbps"),
        ExportFormat("ogg", "Ogg Vorbis, about 192 kbps", ".ogg", "ogg", quality="192 kbps"),
    )
}
DEFAULT_FOR_SUFFIX = {".wav": "wav24", ".flac": "flac24", ".mp3": "mp3-v2", ".ogg": "ogg"}


def export_format(name: str | None, destination: str | Path | None = None) -> ExportFormat:
    """The format called `name`, or the one the destination's suffix implies when `name` is None."""
    if name is None:
        suffix = Path(destination or "").suffix.lower()
        if suffix not in DEFAULT_FOR_SUFFIX:
            raise ExportError(
                f"Cannot tell the format from '{Path(destination or '').name}'. Use a .wav, .flac, .mp3 or .ogg name, "
                f"or name a format: {', '.join(FORMATS)}."
            )
        return FORMATS[DEFAULT_FOR_SUFFIX[suffix]]
    try:
        return FORMATS[name.lower()]
    except KeyError:
        raise ExportError(f"Unknown export format '{name}'. Formats: {', '.join(FORMATS)}.") from None


def _quantise(block: np.ndarray, bits: int, rng: np.random.Generator | None) -> np.ndarray:
    """(frames, channels) float32 -> integer PCM (int16 for 16 bits, int32 holding 24 bits), clipped."""
    if bits == 16:
        scaled = block.astype(np.float64) * 32768.0
        if rng is not None:  # TPDF dither: the sum of two uniform ±½ LSB values
            scaled += rng.random(block.shape) - rng.random(block.shape)
        return np.clip(np.round(scaled), -32768, 32767).astype(np.int16)
    scaled = np.round(block.astype(np.float64) * 8_388_608.0)
    return (np.clip(scaled, -8_388_608, 8_388_607).astype(np.int32)) << 8  # libsndfile keeps the top 24 bits


def write_audio(
    audio: np.ndarray,
    sample_rate: int,
    path: str | Path,
    fmt: ExportFormat,
    *,
    is_cancelled: Callable[[], bool] | None = None,
    progress: Callable[[float], None] | None = None,
) -> None:
    """Encode channels-first (2, frames) float32 audio to `path` in `fmt`. Raises RenderCancelled or ExportError."""
    channels, frames = audio.shape
    path = Path(path)

    def chunks():
        for start in range(0, frames, _CHUNK):
            if is_cancelled and is_cancelled():
                raise RenderCancelled()
            yield start, min(frames, start + _CHUNK)
            if progress:
                progress(min(frames, start + _CHUNK) / frames)

    try:
        if fmt.lossy:
            if path.suffix.lower() != fmt.suffix:  # pedalboard picks the encoder from the file name
                raise ExportError(f"{fmt.label} must be written to a '{fmt.suffix}' file, not '{path.name}'.")
            with AudioFile(str(path), "w", sample_rate, channels, quality=fmt.quality) as out:
                for start, stop in chunks():
                    out.write(np.ascontiguousarray(audio[:, start:stop]))
            return
        subtype = {16: "PCM_16", 24: "PCM_24", 32: "FLOAT"}[fmt.bits or 24]
        rng = np.random.default_rng(_DITHER_SEED) if fmt.bits == 16 else None
        with soundfile.SoundFile(
            str(path), "w", samplerate=sample_rate, channels=channels, subtype=subtype, format=fmt.container.upper()
        ) as out:
            for start, stop in chunks():
                block = np.ascontiguousarray(audio[:, start:stop].T)
                out.write(block if fmt.bits == 32 else _quantise(block, fmt.bits or 24, rng))
    except (RenderCancelled, ExportError):
        raise
    except (OSError, RuntimeError, ValueError, soundfile.LibsndfileError) as exc:
        raise ExportError(f"Could not write {fmt.label} to {path}: {exc}") from None


def read_back(path: str | Path, *, is_cancelled: Callable[[], bool] | None = None) -> tuple[np.ndarray, int]:
    """Decode an exported file to (frames, channels) float32 and its sample rate, as a player would.

    libsndfile trims an MP3's encoder delay and padding (LAME's gapless header), so the frames line up with the
    render. Raises RenderCancelled or ExportError.
    """
    blocks: list[np.ndarray] = []
    try:
        with soundfile.SoundFile(str(path)) as decoded:
            rate = decoded.samplerate
            for block in decoded.blocks(blocksize=_CHUNK, dtype="float32", always_2d=True):
                if is_cancelled and is_cancelled():
                    raise RenderCancelled()
                blocks.append(block)
            channels = decoded.channels
    except RenderCancelled:
        raise
    except (OSError, RuntimeError, ValueError, soundfile.LibsndfileError) as exc:
        raise ExportError(f"Could not read back {path} to check it: {exc}") from None
    if not blocks:
        return np.zeros((0, channels), dtype=np.float32), rate
    return np.concatenate(blocks), rate
