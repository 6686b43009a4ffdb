"""Stem packs on disk: build a signed .fanpack, and open one as untrusted input.

A `.fanpack` is a zip with `pack.json` and the stem files (WAV or FLAC) side by side; an unpacked folder with the
same files is accepted too. Opening checks, in order: the archive's structure (no absolute paths, `..`, links,
duplicates; bounded sizes and compression ratios), pack.json's schema, the signature against trusted keys, that
the files are exactly those pack.json names, every stem's sha256, and every stem's audio header.
"""

import contextlib
import hashlib
import io
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import soundfile

from fanremix.domain.atomic import atomic_path, owned_temp_prefix
from fanremix.domain.errors import (
    ArchiveTooLargeError,
    CorruptArchiveError,
    HashMismatchError,
    MissingFileError,
    PackError,
    StemFormatError,
    UnexpectedFileError,
    UnsafeArchiveError,
    UnsignedPackError,
)
from fanremix.domain.music import normalise_isrc
from fanremix.domain.policy import Policy
from fanremix.domain.stem_pack import (
    MANIFEST_NAME,
    MAX_CHANNELS,
    MAX_SAMPLE_RATE,
    MAX_STEMS,
    MIN_SAMPLE_RATE,
    PackManifest,
    Rightsholder,
    Stem,
)

from .keyring import Keyring, TrustedKey
from .signing import PublisherKey, verify_signature

# Bounds on untrusted archives. Stems are stored uncompressed (FLAC is already compressed), so a high ratio means
# something is wrong; small members (pack.json) may compress well.
MAX_MEMBERS = MAX_STEMS + 1
MAX_MANIFEST_BYTES = 1 << 20  # 1 MiB
MAX_MEMBER_BYTES = 2 << 30  # 2 GiB: one hour of 192 kHz stereo 32-bit PCM is 5.5 GB, of 48 kHz 24-bit 1 GB
MAX_TOTAL_BYTES = 8 << 30  # 8 GiB
MAX_COMPRESSION_RATIO = 100  # uncompressed / compressed, for members above RATIO_EXEMPT_BYTES
RATIO_EXEMPT_BYTES = 1 << 20
LENGTH_TOLERANCE_S = 0.05  # stems may differ in length by up to 50 ms; shorter ones are padded with silence
PACK_SUFFIX = ".fanpack"
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed, so the same stems and manifest give the same bytes
_CHUNK = 1 << 20
ProgressCallback = Callable[[str, float], None]


@dataclass
class OpenedPack:
    """A verified pack: its manifest, where its stems are, and who signed it. Close it to remove temp files."""

    manifest: PackManifest
    root: Path
    signer: TrustedKey
    source: Path
    _temp_dir: Path | None = None

    def stem_path(self, stem_id: str) -> Path:
        return self.root / self.manifest.stem(stem_id).file

    @property
    def stem_paths(self) -> dict[str, Path]:
        return {stem.id: self.root / stem.file for stem in self.manifest.stems}

    def close(self) -> None:
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    def __enter__(self) -> "OpenedPack":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_pack(
    path: str | Path, keyring: Keyring, *, workdir: Path | None = None, progress: ProgressCallback | None = None
) -> OpenedPack:
    """Open and verify a .fanpack (zip) or an unpacked pack folder. Raises a PackError subclass on refusal."""
    source = Path(path)
    report = progress or (lambda stage, fraction: None)
    if source.is_dir():
        names = _folder_members(source)
        manifest = _read_manifest((source / MANIFEST_NAME).read_bytes() if MANIFEST_NAME in names else None)
        signer = _verify(manifest, keyring, names)
        _check_stems(manifest, source, report)
        return OpenedPack(manifest=manifest, root=source, signer=signer, source=source)
    if not source.is_file():
        raise PackError(f"{source}: no such pack file or folder.")
    temp = Path(tempfile.mkdtemp(prefix=owned_temp_prefix("fanremix-pack-"), dir=workdir))
    try:
        with _open_zip(source) as archive:
            members = _safe_members(archive, source)
            manifest_info = members.get(MANIFEST_NAME)
            if manifest_info is not None and manifest_info.file_size > MAX_MANIFEST_BYTES:
                raise ArchiveTooLargeError(f"{source}: pack.json is larger than {MAX_MANIFEST_BYTES} bytes.")
            manifest = _read_manifest(
                None if manifest_info is None else _read_member(archive, manifest_info, source, MAX_MANIFEST_BYTES)
            )
            signer = _verify(manifest, keyring, set(members))
            total = sum(members[stem.file].file_size for stem in manifest.stems) or 1
            done = 0
            for stem in manifest.stems:
                info = members[stem.file]
                _extract_member(archive, info, temp / stem.file, source)
                done += info.file_size
                report("extract", done / total)
        _check_stems(manifest, temp, report)
        return OpenedPack(manifest=manifest, root=temp, signer=signer, source=source, _temp_dir=temp)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise


def read_manifest_unverified(path: str | Path) -> PackManifest:
    """Only pack.json, with the archive-safety and schema checks but no signature check (for `pack info`)."""
    source = Path(path)
    if source.is_dir():
        names = _folder_members(source)
        return _read_manifest((source / MANIFEST_NAME).read_bytes() if MANIFEST_NAME in names else None)
    with _open_zip(source) as archive:
        members = _safe_members(archive, source)
        info = members.get(MANIFEST_NAME)
        return _read_manifest(None if info is None else _read_member(archive, info, source, MAX_MANIFEST_BYTES))


# -- building -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StemSource:
    path: Path
    role: str
    name: str | None = None
    id: str | None = None


@dataclass(frozen=True)
class PackMetadata:
    id: str
    title: str
    artists: tuple[str, ...]
    bpm: float
    key: str
    isrc: str | None = None
    rightsholders: tuple[Rightsholder, ...] = ()


def describe_stem_file(path: Path) -> tuple[int, int, int]:
    """(sample rate, channels, frames) of an audio file, or a StemFormatError naming it."""
    try:
        info = soundfile.info(str(path))
    except (RuntimeError, soundfile.LibsndfileError) as exc:
        raise StemFormatError(f"{path.name}: cannot be read as audio ({exc}).") from None
    return info.samplerate, info.channels, info.frames


def stem_id_from_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "._-" else "-" for c in name.lower()).strip("-._")
    return cleaned[:64] or "stem"


def build_pack(
    stems: Sequence[StemSource],
    metadata: PackMetadata,
    policy: Policy,
    key: PublisherKey,
    destination: Path,
    progress: ProgressCallback | None = None,
) -> PackManifest:
    """Write a signed .fanpack with the given stem files (WAV or FLAC, copied as they are)."""
    report = progress or (lambda stage, fraction: None)
    if not stems:
        raise PackError("A pack needs at least one stem.")
    entries: list[Stem] = []
    rates = set()
    used_ids: set[str] = set()
    for index, source in enumerate(stems):
        if source.path.suffix.lower() not in (".wav", ".flac"):
            raise StemFormatError(f"{source.path.name}: stems must be WAV or FLAC files.")
        rate, channels, frames = describe_stem_file(source.path)
        rates.add(rate)
        stem_id = source.id or stem_id_from_name(source.path.stem)
        while stem_id in used_ids:
            stem_id = f"{stem_id}-{index}"
        used_ids.add(stem_id)
        entries.append(
            Stem(
                id=stem_id,
                name=source.name or source.path.stem,
                role=source.role,
                file=f"{stem_id}{source.path.suffix.lower()}",
                sha256=_sha256_file(source.path),
                channels=channels,
                frames=frames,
            )
        )
        report("hash", (index + 1) / len(stems))
    if len(rates) != 1:
        raise StemFormatError(
            f"The stems have different sample rates ({', '.join(f'{r} Hz' for r in sorted(rates))}); "
            "resample them to one rate first."
        )
    manifest = PackManifest(
        id=metadata.id,
        title=metadata.title,
        artists=metadata.artists,
        isrc=normalise_isrc(metadata.isrc) if metadata.isrc else None,  # pack.json keeps the 12-character form
        bpm=metadata.bpm,
        key=metadata.key,
        sample_rate=rates.pop(),
        rightsholders=metadata.rightsholders,
        stems=tuple(entries),
        policy=policy,
    )
    _check_lengths(manifest)
    signed = key.sign(manifest)
    with atomic_path(destination, suffix=".tmp") as temp, zipfile.ZipFile(temp, "w") as archive:
        _write_member(archive, MANIFEST_NAME, signed.to_json().encode("utf-8"), zipfile.ZIP_DEFLATED)
        for index, (source, stem) in enumerate(zip(stems, signed.stems, strict=True)):
            info = _zip_info(stem.file, zipfile.ZIP_STORED)
            with source.path.open("rb") as src, archive.open(info, "w") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
            report("write", (index + 1) / len(stems))
    return signed


def _zip_info(name: str, compression: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = compression
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    return info


def _write_member(archive: zipfile.ZipFile, name: str, data: bytes, compression: int) -> None:
    archive.writestr(_zip_info(name, compression), data)


# -- checks -----------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _open_zip(source: Path) -> Iterator[zipfile.ZipFile]:
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:  # e.g. "zip file version"
        raise CorruptArchiveError(f"{source.name}: not a readable .fanpack (zip) file: {exc}.") from None
    with archive:
        yield archive


def _safe_members(archive: zipfile.ZipFile, source: Path) -> dict[str, zipfile.ZipInfo]:
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ArchiveTooLargeError(f"{source.name}: holds {len(infos)} files; a pack holds at most {MAX_MEMBERS}.")
    members: dict[str, zipfile.ZipInfo] = {}
    folded: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        _check_member_name(name, source)
        mode = info.external_attr >> 16
        kind = stat.S_IFMT(mode)
        if kind == stat.S_IFLNK:
            raise UnsafeArchiveError(f"{source.name}: '{name}' is a symbolic link; packs may not contain links.")
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise UnsafeArchiveError(f"{source.name}: '{name}' is not a regular file.")
        if info.is_dir():
            raise UnexpectedFileError(f"{source.name}: '{name}' is a folder; a pack's files sit at its top level.")
        if name in members or name.lower() in folded:
            raise UnsafeArchiveError(f"{source.name}: '{name}' appears more than once in the archive.")
        if info.file_size > MAX_MEMBER_BYTES:
            raise ArchiveTooLargeError(
                f"{source.name}: '{name}' unpacks to {info.file_size} bytes; the limit is {MAX_MEMBER_BYTES}."
            )
        if info.file_size > RATIO_EXEMPT_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
            raise ArchiveTooLargeError(
                f"{source.name}: '{name}' is compressed {info.file_size / max(info.compress_size, 1):.0f}:1; "
                f"more than {MAX_COMPRESSION_RATIO}:1 is refused as a possible zip bomb."
            )
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise ArchiveTooLargeError(f"{source.name}: unpacks to more than {MAX_TOTAL_BYTES} bytes.")
        members[name] = info
        folded.add(name.lower())
    return members


def _check_member_name(name: str, source: Path) -> None:
    problem = None
    if not name or "\x00" in name:
        problem = "has an empty or invalid name"
    elif name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        problem = "has an absolute path"
    elif "\\" in name:
        problem = "uses backslashes in its path"
    elif ".." in PurePosixPath(name).parts:
        problem = "points outside the pack with '..'"
    if problem:
        raise UnsafeArchiveError(f"{source.name}: the member '{name}' {problem}; the pack is refused.")


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, source: Path, limit: int) -> bytes:
    buffer = io.BytesIO()
    _copy_member(archive, info, buffer, source, limit)
    return buffer.getvalue()


def _extract_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, source: Path) -> None:
    with target.open("wb") as handle:
        _copy_member(archive, info, handle, source, MAX_MEMBER_BYTES)


def _copy_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, out: io.RawIOBase, source: Path, limit: int) -> None:
    """Copy a member, counting the bytes really produced: headers can lie about sizes."""
    written = 0
    expected = info.file_size
    try:
        with archive.open(info) as member:
            while chunk := member.read(_CHUNK):
                written += len(chunk)
                if written > min(limit, expected):
                    raise ArchiveTooLargeError(
                        f"{source.name}: '{info.filename}' unpacks to more bytes than its header declares."
                    )
                try:
                    out.write(chunk)
                except OSError as exc:
                    raise PackError(f"Could not unpack '{info.filename}' of {source.name}: {exc.strerror}.") from None
    except (zipfile.BadZipFile, EOFError, zlib.error, OSError, ValueError) as exc:  # OSError: seeks to bad offsets
        raise CorruptArchiveError(f"{source.name}: '{info.filename}' is damaged ({exc}).") from None
    except NotImplementedError as exc:
        raise CorruptArchiveError(
            f"{source.name}: '{info.filename}' uses an unsupported compression ({exc})."
        ) from None
    except RuntimeError as exc:  # encrypted members
        raise CorruptArchiveError(f"{source.name}: '{info.filename}' cannot be read ({exc}).") from None


def _folder_members(folder: Path) -> set[str]:
    names = set()
    for count, entry in enumerate(folder.iterdir(), 1):
        if count > MAX_MEMBERS:
            raise ArchiveTooLargeError(
                f"{folder.name}: holds more than {MAX_MEMBERS} files; a pack holds at most that."
            )
        if entry.is_symlink():
            raise UnsafeArchiveError(f"{folder.name}: '{entry.name}' is a symbolic link; packs may not contain links.")
        if entry.is_dir():
            raise UnexpectedFileError(
                f"{folder.name}: '{entry.name}' is a folder; a pack's files sit at its top level."
            )
        if not entry.is_file():
            raise UnsafeArchiveError(f"{folder.name}: '{entry.name}' is not a regular file.")
        if entry.stat().st_nlink > 1:
            raise UnsafeArchiveError(f"{folder.name}: '{entry.name}' is a hard link; copy the file in instead.")
        names.add(entry.name)
    return names


def _read_manifest(data: bytes | None) -> PackManifest:
    if data is None:
        raise MissingFileError("The pack has no pack.json, so it is not a stem pack.")
    if len(data) > MAX_MANIFEST_BYTES:
        raise ArchiveTooLargeError(f"pack.json is larger than {MAX_MANIFEST_BYTES} bytes.")
    return PackManifest.from_json(data)


def _verify(manifest: PackManifest, keyring: Keyring, names: set[str]) -> TrustedKey:
    if manifest.signature is None:
        raise UnsignedPackError("pack.json carries no signature; only signed packs can be opened.")
    signer = keyring.find(manifest.signature.key_id)
    verify_signature(manifest, signer.public_key)
    expected = {stem.file for stem in manifest.stems}
    missing = sorted(expected - names)
    if missing:
        raise MissingFileError(f"pack.json names {', '.join(missing)}, but the pack does not contain it.")
    extra = sorted(names - expected - {MANIFEST_NAME})
    if extra:
        raise UnexpectedFileError(f"The pack contains {', '.join(extra)}, which pack.json does not name.")
    return signer


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _check_stems(manifest: PackManifest, root: Path, report: ProgressCallback) -> None:
    for index, stem in enumerate(manifest.stems):
        path = root / stem.file
        actual = _sha256_file(path)
        if actual != stem.sha256:
            raise HashMismatchError(
                f"{stem.file}: its content does not match pack.json (sha256 {actual[:12]}…, expected "
                f"{stem.sha256[:12]}…). The stem was changed after the pack was signed."
            )
        rate, channels, frames = describe_stem_file(path)
        if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE or not 1 <= channels <= MAX_CHANNELS:
            raise StemFormatError(f"{stem.file}: {rate} Hz with {channels} channels is not a usable stem.")
        if rate != manifest.sample_rate:
            raise StemFormatError(
                f"{stem.file}: recorded at {rate} Hz, but the pack declares {manifest.sample_rate} Hz."
            )
        if channels != stem.channels or frames != stem.frames:
            raise StemFormatError(
                f"{stem.file}: holds {channels} channel(s) and {frames} frames, but pack.json declares "
                f"{stem.channels} and {stem.frames}."
            )
        report("verify", (index + 1) / len(manifest.stems))
    _check_lengths(manifest)


def _check_lengths(manifest: PackManifest) -> None:
    longest = max(manifest.stems, key=lambda s: s.frames)
    shortest = min(manifest.stems, key=lambda s: s.frames)
    gap = (longest.frames - shortest.frames) / manifest.sample_rate
    if gap > LENGTH_TOLERANCE_S:
        raise StemFormatError(
            f"{shortest.file} is {gap:.3f} s shorter than {longest.file}; stems must be time-aligned and of "
            f"equal length (within {LENGTH_TOLERANCE_S * 1000:.0f} ms). Pad the shorter stems with silence."
        )
