"""Export with Content Credentials, and verify a file against its record (and optionally against its pack).

This is orchestration: it joins the audio layer (rendering, decoding) and the rights layer (C2PA), which may not
import each other.

Export: render the recipe to a temporary file, write the credit tags, sign the manifest over those final bytes, and
rename into place (see `fanremix.rights.c2pa.embed_provenance`). Nothing half-written or unsigned ever sits at the
destination.

Verify with a pack: the record carries the whole recipe, so the pack plus the recipe render the same audio again. The
re-render is compared with the file's decoded audio and the match is reported as the signal-to-noise ratio of the
difference: SNR = 10·log10(Σ reference² / Σ (reference − file)²), after aligning the two (lossy codecs add a delay).
Lossless files match a true re-render far above `MATCH_SNR_DB["flac"]`; a different recipe falls far below it.
"""

import math
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import APP_NAME, __version__
from .domain.atomic import owned_temp_prefix
from .domain.errors import FanRemixError
from .domain.policy import PolicyViolationError
from .domain.provenance import EXPORT_FORMATS, ProvenanceRecord
from .domain.recipe import Recipe
from .rights.c2pa import ProvenanceReport, SignedFile, embed_provenance, format_of, read_provenance
from .rights.grants import (
    ExpiredGrantError,
    ForgedGrantError,
    GrantError,
    GrantKeySet,
    GrantMismatchError,
    UnknownGrantKeyError,
    verify_grant,
)
from .rights.identity import FanIdentity, TrustAnchors
from .rights.packfile import OpenedPack

# Below these SNRs (dB) the file is reported as not matching the recipe. The reference is rendered in memory (float,
# no codec). On the demo pack a true re-render scores about 133 dB against a 24-bit export and 80 dB against a
# dithered 16-bit one; MP3 (V2 to 320 kbps) 36-45 dB and Vorbis 31-33 dB. A changed recipe (a stem's gain, a muted
# stem, another tempo) scores around 5 dB or less. Lossy files are a coarse check: a change smaller than the codec's
# own noise cannot be told apart from it.
MATCH_SNR_DB = {"wav": 40.0, "flac": 40.0, "mp3": 15.0, "ogg": 15.0}
MAX_ALIGN_FRAMES = 8192  # lossy decoders may add up to a few thousand frames of delay
PERFECT_SNR_DB = 200.0  # reported when the difference is exactly zero


class AudioComparisonError(FanRemixError):
    """The file's audio could not be compared with a re-render of its recipe."""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    sidecar: Path | None
    record: ProvenanceRecord
    signed: SignedFile
    render: Any = None  # the audio layer's RenderResult (loudness figures etc.)


@dataclass(frozen=True)
class AudioComparison:
    """How closely the file's audio matches the recipe re-rendered from the pack."""

    snr_db: float
    threshold_db: float
    matches: bool
    frames_compared: int
    offset_frames: int  # how far the file's audio was shifted to line up with the re-render
    rendered: bool = True  # False: nothing could be re-rendered (wrong pack, or no recipe); `note` says why
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "snr_db": None if math.isnan(self.snr_db) else round(self.snr_db, 2),
            "threshold_db": self.threshold_db,
            "matches": self.matches,
            "frames_compared": self.frames_compared,
            "offset_frames": self.offset_frames,
            "rendered": self.rendered,
            "note": self.note,
        }


# What checking the grant in a record found (`GrantCheck.status`)
GRANT_NONE = "none"  # exported without a grant
GRANT_GENUINE = "genuine"  # signed by a known rights service, for this recipe, not expired
GRANT_EXPIRED = "expired"  # genuine and for this recipe, but past its expiry (a new export needs a new grant)
GRANT_OTHER_RECIPE = "other_recipe"  # genuine, but issued for a different recipe: it does not cover this file
GRANT_FORGED = "forged"  # the signature does not match: altered, or never issued by that service
GRANT_UNKNOWN_KEY = "unknown_key"  # signed by a key no rights service known here publishes: not checked
GRANT_MALFORMED = "malformed"
GRANT_REFUSED = (GRANT_OTHER_RECIPE, GRANT_FORGED, GRANT_MALFORMED)  # the record claims a licence it does not have


@dataclass(frozen=True)
class GrantCheck:
    status: str
    grant_id: str = ""
    detail: str = ""  # why, in words, for every status but genuine
    expires: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "grant_id": self.grant_id, "detail": self.detail, "expires": self.expires}


def check_grant(record: ProvenanceRecord, keys: GrantKeySet) -> GrantCheck:
    """Check the grant a record carries, offline, against the grant keys of the rights services known here."""
    document = record.rights.grant
    if document is None:
        return GrantCheck(GRANT_NONE)
    grant_id = str(document.get("id") or document.get("grant_id") or "")
    expires = str(document.get("expires_at") or document.get("expires") or "")
    try:
        verify_grant(document, keys, recipe_hash=record.recipe_hash())
    except UnknownGrantKeyError:
        signature = document.get("signature")
        key_id = signature.get("key_id") if isinstance(signature, Mapping) else None
        detail = (
            f"it is signed by key {key_id}, which no rights service known here publishes, so its signature was not "
            "checked (pass that service's keys with --service-keys FILE, the body of its GET /v1/keys)"
        )
        return GrantCheck(GRANT_UNKNOWN_KEY, grant_id, detail, expires)
    except ExpiredGrantError as exc:
        return GrantCheck(GRANT_EXPIRED, grant_id, exc.message, expires)
    except GrantMismatchError as exc:
        return GrantCheck(GRANT_OTHER_RECIPE, grant_id, exc.message, expires)
    except ForgedGrantError as exc:
        return GrantCheck(GRANT_FORGED, grant_id, exc.message, expires)
    except GrantError as exc:
        return GrantCheck(GRANT_MALFORMED, grant_id, exc.message, expires)
    return GrantCheck(GRANT_GENUINE, grant_id, "", expires)


@dataclass(frozen=True)
class Verification:
    report: ProvenanceReport
    comparison: AudioComparison | None = None
    warnings: tuple[str, ...] = field(default=())
    grant: GrantCheck | None = None  # None: the file has no record to take a grant from

    def to_dict(self) -> dict[str, Any]:
        data = self.report.to_dict()
        data["audio_comparison"] = None if self.comparison is None else self.comparison.to_dict()
        data["grant_check"] = None if self.grant is None else self.grant.to_dict()
        data["warnings"] = list(self.warnings)
        return data


# -- rendering (the audio layer) ---------------------------------------------------------------------------------

Renderer = Callable[[OpenedPack, Recipe, Path, str], Any]


def _render_with(progress: Any = None, cancel: Any = None) -> Renderer:
    """The app's renderer, writing `fmt` (a container such as "flac", or a format name such as "flac16")."""
    from .audio.offline import render_to_file

    def render(opened: OpenedPack, recipe: Recipe, destination: Path, fmt: str) -> Any:
        chosen = None if fmt in EXPORT_FORMATS else fmt  # a bare container: the renderer's default for the suffix
        return render_to_file(
            opened.manifest, opened.stem_paths, recipe, destination, chosen, progress=progress, cancel=cancel
        )

    return render


def _reference_audio(opened: OpenedPack, recipe: Recipe) -> tuple[np.ndarray, int]:
    """The recipe rendered in memory as float32 (frames, channels): no quantisation, no codec."""
    from .audio.offline import render_to_array

    rendered = render_to_array(opened.manifest, opened.stem_paths, recipe)
    return np.asarray(rendered.audio, dtype=np.float32), int(rendered.sample_rate)


def container_of(fmt: str) -> str:
    """ "flac16" -> "flac": the file type a renderer format name writes (containers map to themselves)."""
    if fmt in EXPORT_FORMATS:
        return fmt
    from .audio.export import export_format

    return export_format(fmt).container


def _decode(path: Path) -> tuple[np.ndarray, int]:
    """Audio as float32 (frames, channels) and its sample rate."""
    fmt = format_of(path)
    try:
        if fmt in ("wav", "flac"):
            import soundfile

            audio, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
            return audio, int(rate)
        from pedalboard.io import AudioFile

        with AudioFile(str(path)) as handle:
            audio = handle.read(handle.frames)
            return np.ascontiguousarray(audio.T, dtype=np.float32), int(handle.samplerate)
    except Exception as exc:  # decoders raise many types; all mean "cannot decode this file"
        raise AudioComparisonError(f"Could not decode {path.name} to compare it: {exc}.") from None


# -- export ------------------------------------------------------------------------------------------------------


def export_with_provenance(
    opened_pack: OpenedPack,
    recipe: Recipe,
    destination: Path,
    fmt: str,
    identity: FanIdentity,
    grant: Mapping[str, Any] | None = None,
    *,
    title: str | None = None,
    remixer: str | None = None,
    ai_assisted: bool = False,
    progress: Callable[[str, float], None] | None = None,
    cancel: Any = None,
    render: Renderer | None = None,
) -> ExportResult:
    """Render `recipe` on the pack, tag it, sign a C2PA record into it (sidecar for OGG) and put it at `destination`.

    `fmt` is a container (wav, flac, mp3, ogg: the renderer's default quality for it) or one of the renderer's format
    names (wav16, flac24, mp3-v0, ...). The policy is checked first and a violating recipe is refused with every
    reason. Loudness normalisation follows the recipe (`loudness_lufs`), never a separate switch, so that the
    pack and the recorded recipe always render the same audio again. `render` replaces the renderer (tests use it
    to sign audio that is not what the record says).
    """
    destination = Path(destination)
    container = container_of(fmt)
    manifest = opened_pack.manifest
    violations = manifest.policy.check(recipe, manifest)
    if violations:
        raise PolicyViolationError(violations)
    record = ProvenanceRecord.for_export(
        manifest,
        recipe,
        container,
        publisher_key_id=opened_pack.signer.key_id,
        publisher_name=opened_pack.signer.name,
        app_name=APP_NAME,
        app_version=__version__,
        grant=grant,
        title=title,
        remixer=remixer or identity.display_name,
        ai_assisted=ai_assisted,
    )
    renderer = render or _render_with(progress, cancel)
    with tempfile.TemporaryDirectory(prefix=owned_temp_prefix("fanremix-export-")) as folder:
        rendered = Path(folder) / f"render.{container}"
        render_result = renderer(opened_pack, recipe, rendered, fmt)
        signed = embed_provenance(rendered, destination, record, identity)
    return ExportResult(path=signed.path, sidecar=signed.sidecar, record=record, signed=signed, render=render_result)


# -- verify ------------------------------------------------------------------------------------------------------


def verify_file(
    path: Path,
    anchors: TrustAnchors | None = None,
    pack: OpenedPack | None = None,
    service_keys: GrantKeySet | None = None,
) -> Verification:
    """Validate `path`'s Content Credentials and check the grant in them against `service_keys` (the rights services
    known here); with `pack`, also re-render the recorded recipe and compare the audio."""
    report = read_provenance(Path(path), anchors)
    warnings = []
    record = report.record
    if record is not None and record.recipe.pack_hash != record.pack.pack_hash:
        warnings.append("The recipe in the record was made for a different version of the pack than it names.")
    comparison = None
    if pack is not None and record is None:
        comparison = _not_rendered(
            format_of(Path(path)) or "mp3",
            "The file carries no Fan Remix Studio record, so there is no recipe to re-render.",
        )
    elif pack is not None and record is not None:
        comparison = compare_with_pack(Path(path), record, pack)
    grant = None if record is None else check_grant(record, service_keys or GrantKeySet([]))
    return Verification(report=report, comparison=comparison, warnings=tuple(warnings), grant=grant)


def compare_with_pack(path: Path, record: ProvenanceRecord, pack: OpenedPack) -> AudioComparison:
    fmt = format_of(path) or record.export_format
    threshold = MATCH_SNR_DB.get(fmt, MATCH_SNR_DB["mp3"])
    manifest = pack.manifest
    if manifest.id != record.pack.pack_id or manifest.pack_hash() != record.pack.pack_hash:
        return _not_rendered(
            fmt,
            f"The pack given ({manifest.id}, hash {manifest.pack_hash()[:12]}…) is not the one the record names "
            f"({record.pack.pack_id}, hash {record.pack.pack_hash[:12]}…); nothing was re-rendered.",
        )
    reference, reference_rate = _reference_audio(pack, record.recipe)
    audio, rate = _decode(Path(path))
    if rate != reference_rate:
        raise AudioComparisonError(
            f"{Path(path).name} is at {rate} Hz but the recipe renders at {reference_rate} Hz; they cannot be compared."
        )
    snr, offset, frames = snr_db(reference, audio)
    matches = snr >= threshold
    note = (
        f"The audio matches the recipe re-rendered from pack {manifest.id}."
        if matches
        else f"The audio does NOT match the recipe re-rendered from pack {manifest.id}: it is not what the record says."
    )
    return AudioComparison(
        snr_db=snr, threshold_db=threshold, matches=matches, frames_compared=frames, offset_frames=offset, note=note
    )


def _not_rendered(fmt: str, note: str) -> AudioComparison:
    threshold = MATCH_SNR_DB.get(fmt, MATCH_SNR_DB["mp3"])
    return AudioComparison(
        snr_db=float("nan"),
        threshold_db=threshold,
        matches=False,
        frames_compared=0,
        offset_frames=0,
        rendered=False,
        note=note,
    )


def snr_db(reference: np.ndarray, audio: np.ndarray, max_offset: int = MAX_ALIGN_FRAMES) -> tuple[float, int, int]:
    """SNR (dB) of `audio` against `reference`, after the best alignment within ±max_offset frames.

    Returns (snr, offset, frames compared). A channel-count difference is an automatic mismatch (-inf).
    """
    reference = np.asarray(reference, dtype=np.float64)
    audio = np.asarray(audio, dtype=np.float64)
    if reference.ndim == 1:
        reference = reference[:, None]
    if audio.ndim == 1:
        audio = audio[:, None]
    if reference.shape[1] != audio.shape[1] or not len(reference) or not len(audio):
        return float("-inf"), 0, 0
    offset = _best_offset(reference.mean(axis=1), audio.mean(axis=1), max_offset)
    shifted = audio[offset:] if offset >= 0 else np.concatenate([np.zeros((-offset, audio.shape[1])), audio])
    frames = max(len(reference), len(shifted))
    ref = np.zeros((frames, reference.shape[1]))
    ref[: len(reference)] = reference
    got = np.zeros_like(ref)
    got[: min(frames, len(shifted))] = shifted[:frames]
    signal = float(np.sum(ref**2))
    noise = float(np.sum((ref - got) ** 2))
    if noise == 0.0:
        return PERFECT_SNR_DB, offset, frames
    if signal == 0.0:
        return float("-inf"), offset, frames
    return 10.0 * math.log10(signal / noise), offset, frames


def _best_offset(reference: np.ndarray, audio: np.ndarray, max_offset: int) -> int:
    """The shift s that best lines up audio[s:] with reference, by cross-correlation over ±max_offset frames."""
    length = min(len(reference), len(audio), 10 * 48000)  # the first 10 s are plenty to find a codec delay
    if length < 16:
        return 0
    a, b = reference[:length], audio[: length + max_offset]
    size = 1 << math.ceil(math.log2(len(a) + len(b)))
    correlation = np.fft.irfft(np.fft.rfft(b, size) * np.conj(np.fft.rfft(a, size)), size)
    lags = np.concatenate([np.arange(0, max_offset + 1), np.arange(-max_offset, 0)])
    values = np.concatenate([correlation[: max_offset + 1], correlation[size - max_offset :]])
    return int(lags[int(np.argmax(values))])
