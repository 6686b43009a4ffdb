"""Hostile stem packs, written to disk: each builder makes one attack and names the error it must end in.

The builders share `Forge`, which knows a trusted publisher key and two small real stems, so an attack can be signed
(a publisher whose key is trusted can still ship a lying pack) or not (anyone can hand over a file).
"""

import hashlib
import io
import json
import os
import stat
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import soundfile

from fanremix.audio.errors import StemDecodeError
from fanremix.domain import policy_templates
from fanremix.domain.errors import (
    ArchiveTooLargeError,
    BadSignatureError,
    CorruptArchiveError,
    HashMismatchError,
    MissingFileError,
    PackSchemaError,
    StemFormatError,
    UnexpectedFileError,
    UnsafeArchiveError,
    UntrustedKeyError,
)
from fanremix.domain.stem_pack import PackManifest, Stem
from fanremix.rights.signing import PublisherKey

from . import zipcraft
from .zipcraft import deflated, stored

RATE = 44100
FRAMES = RATE // 4  # 0.25 s stems keep every case fast


def wav_bytes(audio: np.ndarray, rate: int = RATE, subtype: str = "PCM_16") -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, audio, rate, format="WAV", subtype=subtype)
    return buffer.getvalue()


def flac_bytes(audio: np.ndarray, rate: int = RATE) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, audio, rate, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def tone(frames: int = FRAMES, channels: int = 2, frequency: float = 220.0) -> np.ndarray:
    t = np.arange(frames) / RATE
    mono = 0.25 * np.sin(2 * np.pi * frequency * t)
    return np.stack([mono] * channels, axis=1)


@dataclass
class Forge:
    key: PublisherKey  # trusted on this machine
    folder: Path

    def stem(self, stem_id: str, data: bytes, *, file: str | None = None, role: str = "other", **declared) -> Stem:
        """A stem entry for `data`, its header read with soundfile unless `declared` says otherwise."""
        values = {"channels": 2, "frames": FRAMES}
        try:
            info = soundfile.info(io.BytesIO(data))
            values = {"channels": info.channels, "frames": info.frames}
        except Exception:  # not audio at all: the declared values stand
            pass
        values.update(declared)
        return Stem(
            id=stem_id,
            name=stem_id,
            role=role,
            file=file or f"{stem_id}.wav",
            sha256=hashlib.sha256(data).hexdigest(),
            channels=values["channels"],
            frames=values["frames"],
        )

    def manifest(self, stems: list[Stem], sample_rate: int = RATE, sign: bool = True) -> PackManifest:
        manifest = PackManifest(
            id="hostile",
            title="Hostile",
            artists=("Mallory",),
            isrc=None,
            bpm=120,
            key="A minor",
            sample_rate=sample_rate,
            rightsholders=(),
            stems=tuple(stems),
            policy=policy_templates.open_remix(),
        )
        return self.key.sign(manifest) if sign else manifest

    def good_members(self) -> dict[str, bytes]:
        """pack.json and two stems of a pack that opens: the base most attacks change one thing in."""
        drums, bass = wav_bytes(tone(frequency=110.0)), wav_bytes(tone(frequency=55.0))
        stems = [self.stem("drums", drums, role="drums"), self.stem("bass", bass, role="bass")]
        return {"pack.json": manifest_bytes(self.manifest(stems)), "drums.wav": drums, "bass.wav": bass}

    def signed_with(self, files: dict[str, bytes], **stem_overrides) -> dict[str, bytes]:
        """Re-sign pack.json for `files` (stems other than pack.json), as a trusted publisher who lies would."""
        stems = [self.stem(Path(name).stem, data, file=name, **stem_overrides) for name, data in files.items()]
        return {"pack.json": manifest_bytes(self.manifest(stems)), **files}

    def zip(self, name: str, files: dict[str, bytes]) -> Path:
        return zipcraft.write_zip(self.folder / name, [stored(n, d) for n, d in files.items()])


def manifest_bytes(manifest: PackManifest) -> bytes:
    return manifest.to_json().encode("utf-8")


@dataclass(frozen=True)
class Attack:
    name: str
    build: Callable[[Forge], Path]
    refused_with: type[Exception] | tuple[type[Exception], ...]
    what: str
    on_decode: bool = False  # the pack opens (its headers are consistent); decoding its audio must refuse it


ATTACKS: list[Attack] = []


def attack(name: str, refused_with: type[Exception] | tuple[type[Exception], ...], what: str, on_decode: bool = False):
    def register(build: Callable[[Forge], Path]) -> Callable[[Forge], Path]:
        ATTACKS.append(Attack(name, build, refused_with, what, on_decode))
        return build

    return register


# -- zip bombs --------------------------------------------------------------------------------------------------


@attack("bomb-high-ratio", ArchiveTooLargeError, "a stem that inflates 1 GiB of zeros from 1 MiB (1000:1)")
def _bomb_ratio(forge: Forge) -> Path:
    files = forge.good_members()
    stream = zipcraft.zero_bomb_stream(1024)
    bomb = zipcraft.Entry("drums.wav", stream, zipcraft.DEFLATED, uncompressed_size=1 << 30, declared_crc=0)
    entries = [stored("pack.json", files["pack.json"]), bomb, stored("bass.wav", files["bass.wav"])]
    return zipcraft.write_zip(forge.folder / "bomb-ratio.fanpack", entries)


@attack(
    "bomb-lying-header",
    (ArchiveTooLargeError, CorruptArchiveError),
    "pack.json declares 900 bytes but inflates to 1 GiB",
)
def _bomb_lying(forge: Forge) -> Path:
    files = forge.good_members()
    bomb = zipcraft.Entry(
        "pack.json", zipcraft.zero_bomb_stream(1024), zipcraft.DEFLATED, uncompressed_size=900, declared_crc=0
    )
    entries = [bomb, stored("drums.wav", files["drums.wav"]), stored("bass.wav", files["bass.wav"])]
    return zipcraft.write_zip(forge.folder / "bomb-lying.fanpack", entries)


@attack(
    "bomb-lying-stem-header",
    (ArchiveTooLargeError, CorruptArchiveError),
    "a signed stem's header under-declares its inflated size",
)
def _bomb_lying_stem(forge: Forge) -> Path:
    files = forge.good_members()
    real = deflated("drums.wav", files["drums.wav"])
    liar = replace(real, uncompressed_size=len(files["drums.wav"]) // 2)  # inflates to twice what it declares
    entries = [stored("pack.json", files["pack.json"]), liar, stored("bass.wav", files["bass.wav"])]
    return zipcraft.write_zip(forge.folder / "bomb-lying-stem.fanpack", entries)


@attack("bomb-nested", StemFormatError, "a signed stem that is itself a zip of zips (42.zip style)")
def _bomb_nested(forge: Forge) -> Path:
    inner = zipcraft.write_zip(forge.folder / "inner.zip", [deflated("zeros.bin", bytes(16 << 20))])
    level = inner.read_bytes()
    for depth in range(4):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for copy in range(8):
                archive.writestr(f"layer{depth}-{copy}.zip", level)
        level = buffer.getvalue()
    files = forge.signed_with({"drums.wav": level}, channels=2, frames=FRAMES)
    return forge.zip("bomb-nested.fanpack", files)


@attack("bomb-nested-pack", MissingFileError, "a .fanpack whose only member is another .fanpack")
def _bomb_nested_pack(forge: Forge) -> Path:
    inner = forge.zip("inner.fanpack", forge.good_members())
    return forge.zip("nested.fanpack", {"inner.fanpack": inner.read_bytes()})


@attack("bomb-overlapping", ArchiveTooLargeError, "65 entries share one compressed body, declaring 65 GiB in all")
def _bomb_overlap(forge: Forge) -> Path:
    body = zipcraft.zero_bomb_stream(16)
    first = zipcraft.Entry("s0.wav", body, zipcraft.DEFLATED, declared_size=1 << 30, declared_compressed=12 << 20)
    entries = [first] + [replace(first, name=f"s{i}.wav", share_offset_with=0) for i in range(1, 65)]
    return zipcraft.write_zip(forge.folder / "overlap.fanpack", entries)


@attack("bomb-total-size", ArchiveTooLargeError, "65 stored members whose headers declare 1 GiB each")
def _bomb_total(forge: Forge) -> Path:
    entries = [
        zipcraft.Entry(f"s{i}.wav", b"RIFF", declared_size=1 << 30, declared_compressed=1 << 30) for i in range(65)
    ]
    return zipcraft.write_zip(forge.folder / "total.fanpack", entries)


# -- names, links and duplicates -----------------------------------------------------------------------------------


def _with_member(forge: Forge, file_name: str, name: str, data: bytes = b"x", **entry) -> Path:
    files = forge.good_members()
    entries = [stored(n, d) for n, d in files.items()] + [stored(name, data, **entry)]
    return zipcraft.write_zip(forge.folder / file_name, entries)


for _index, (_name, _problem) in enumerate(
    [
        ("../evil.wav", "a member named ../evil.wav"),
        ("a/../../evil.wav", "a member named a/../../evil.wav"),
        ("/etc/cron.d/evil", "an absolute member name"),
        ("C:/Windows/evil.dll", "a drive-letter member name"),
        ("..\\evil.wav", "a member with a backslash path"),
        ("", "a member with an empty name"),
    ]
):

    def _traversal(forge: Forge, name: str = _name, index: int = _index) -> Path:
        return _with_member(forge, f"traversal-{index}.fanpack", name)

    attack(f"traversal-{_index}", UnsafeArchiveError, _problem)(_traversal)


@attack("symlink-member", UnsafeArchiveError, "a member that is a symbolic link to /etc/passwd")
def _symlink(forge: Forge) -> Path:
    return _with_member(forge, "symlink.fanpack", "extra.wav", b"/etc/passwd", mode=stat.S_IFLNK | 0o777)


@attack("symlink-replacing-stem", UnsafeArchiveError, "a stem name that is a symbolic link")
def _symlink_stem(forge: Forge) -> Path:
    files = forge.good_members()
    entries = [stored("pack.json", files["pack.json"]), stored("drums.wav", files["drums.wav"])]
    entries.append(stored("bass.wav", b"../../.ssh/id_ed25519", mode=stat.S_IFLNK | 0o777))
    return zipcraft.write_zip(forge.folder / "symlink-stem.fanpack", entries)


@attack("device-member", UnsafeArchiveError, "a member marked as a character device")
def _device(forge: Forge) -> Path:
    return _with_member(forge, "device.fanpack", "tty.wav", b"", mode=stat.S_IFCHR | 0o666)


@attack("folder-member", UnexpectedFileError, "a folder entry in the archive")
def _folder(forge: Forge) -> Path:
    return _with_member(forge, "folder.fanpack", "stems/", b"", mode=stat.S_IFDIR | 0o755)


@attack("duplicate-pack-json", UnsafeArchiveError, "two pack.json members (the verifier and the reader could differ)")
def _dup_manifest(forge: Forge) -> Path:
    files = forge.good_members()
    evil = files["pack.json"].replace(b'"Hostile"', b'"Evil"')
    return _with_member(forge, "dup-manifest.fanpack", "pack.json", evil)


@attack("duplicate-stem-casefold", UnsafeArchiveError, "DRUMS.WAV next to drums.wav")
def _dup_case(forge: Forge) -> Path:
    return _with_member(forge, "dup-case.fanpack", "DRUMS.WAV", b"x")


@attack("too-many-members", ArchiveTooLargeError, "10,000 members")
def _many_members(forge: Forge) -> Path:
    entries = [stored(f"s{i}.wav", b"") for i in range(10_000)]
    return zipcraft.write_zip(forge.folder / "many.fanpack", entries)


# -- pack.json ------------------------------------------------------------------------------------------------------


def _stems_json(count: int) -> list[dict]:
    sha = "0" * 64
    return [
        {"id": f"s{i}", "name": "s", "role": "other", "file": f"s{i}.wav", "sha256": sha, "channels": 2, "frames": 1}
        for i in range(count)
    ]


def _manifest_dict(forge: Forge) -> dict:
    return json.loads(forge.good_members()["pack.json"])


@attack("manifest-10000-stems", ArchiveTooLargeError, "pack.json naming 10,000 stems (1.4 MB)")
def _ten_thousand(forge: Forge) -> Path:
    data = {**_manifest_dict(forge), "stems": _stems_json(10_000)}
    return forge.zip("ten-thousand.fanpack", {"pack.json": json.dumps(data).encode()})


@attack("manifest-10000-stems-compact", PackSchemaError, "10,000 stems squeezed under the 1 MiB pack.json limit")
def _ten_thousand_compact(forge: Forge) -> Path:
    stems = [{"id": f"s{i}", "name": "s", "role": "other", "file": f"s{i}.wav", "sha256": "", "channels": 2,
              "frames": 1} for i in range(10_000)]  # fmt: skip
    data = {**_manifest_dict(forge), "stems": stems}
    text = json.dumps(data, separators=(",", ":")).encode()
    assert len(text) < 1 << 20
    return forge.zip("ten-thousand-compact.fanpack", {"pack.json": text})


@attack("manifest-deep-nesting", PackSchemaError, "pack.json nested 100,000 arrays deep")
def _deep(forge: Forge) -> Path:
    return forge.zip("deep.fanpack", {"pack.json": b"[" * 100_000 + b"]" * 100_000})


@attack("manifest-huge-number", PackSchemaError, "a sample rate with 100,000 digits")
def _huge_number(forge: Forge) -> Path:
    text = forge.good_members()["pack.json"].replace(b'"sample_rate": 44100', b'"sample_rate": ' + b"9" * 100_000)
    return forge.zip("huge-number.fanpack", {"pack.json": text})


@attack("manifest-absurd-rate", PackSchemaError, "pack.json declares 4,294,967,295 Hz")
def _absurd_rate(forge: Forge) -> Path:
    data = {**_manifest_dict(forge), "sample_rate": 4_294_967_295}
    return forge.zip("absurd-rate.fanpack", {"pack.json": json.dumps(data).encode()})


@attack("manifest-absurd-channels", PackSchemaError, "a stem declaring 65,535 channels")
def _absurd_channels(forge: Forge) -> Path:
    data = _manifest_dict(forge)
    data["stems"][0]["channels"] = 65_535
    return forge.zip("absurd-channels.fanpack", {"pack.json": json.dumps(data).encode()})


@attack("manifest-not-utf8", PackSchemaError, "pack.json that is not UTF-8")
def _not_utf8(forge: Forge) -> Path:
    return forge.zip("not-utf8.fanpack", {"pack.json": b"\xff\xfe{\x00}\x00"})


@attack("manifest-nan", PackSchemaError, "NaN and Infinity in pack.json")
def _nan(forge: Forge) -> Path:
    text = forge.good_members()["pack.json"].replace(b'"bpm": 120.0', b'"bpm": NaN')
    return forge.zip("nan.fanpack", {"pack.json": text})


# -- stem audio -----------------------------------------------------------------------------------------------------


def _patch_wav_fmt(data: bytes, *, channels: int | None = None, rate: int | None = None) -> bytes:
    raw = bytearray(data)
    fmt = raw.find(b"fmt ")
    if channels is not None:
        struct.pack_into("<H", raw, fmt + 10, channels)
    if rate is not None:
        struct.pack_into("<I", raw, fmt + 12, rate)
    return bytes(raw)


@attack("stem-absurd-rate", StemFormatError, "a signed WAV whose header says 4,000,000,000 Hz")
def _stem_rate(forge: Forge) -> Path:
    data = _patch_wav_fmt(wav_bytes(tone()), rate=4_000_000_000)
    return forge.zip("stem-rate.fanpack", forge.signed_with({"drums.wav": data}, channels=2, frames=FRAMES))


@attack("stem-1-hz", StemFormatError, "a signed WAV whose header says 1 Hz")
def _stem_one_hz(forge: Forge) -> Path:
    data = _patch_wav_fmt(wav_bytes(tone()), rate=1)
    return forge.zip("stem-1hz.fanpack", forge.signed_with({"drums.wav": data}, channels=2, frames=FRAMES))


@attack("stem-absurd-channels", StemFormatError, "a signed WAV whose header says 4,096 channels")
def _stem_channels(forge: Forge) -> Path:
    data = _patch_wav_fmt(wav_bytes(tone()), channels=4096)
    return forge.zip("stem-channels.fanpack", forge.signed_with({"drums.wav": data}, channels=2, frames=FRAMES))


@attack("stem-zero-channels", StemFormatError, "a signed WAV whose header says 0 channels")
def _stem_no_channels(forge: Forge) -> Path:
    data = _patch_wav_fmt(wav_bytes(tone()), channels=0)
    return forge.zip("stem-0ch.fanpack", forge.signed_with({"drums.wav": data}, channels=2, frames=FRAMES))


@attack("stem-not-audio", StemFormatError, "a signed stem that is an ELF binary")
def _stem_elf(forge: Forge) -> Path:
    data = b"\x7fELF" + os.urandom(4096)
    return forge.zip("stem-elf.fanpack", forge.signed_with({"drums.wav": data}, channels=2, frames=FRAMES))


def _flac_claiming(frames: int, rate: int = 192_000) -> bytes:
    """A real 0.1 s FLAC whose STREAMINFO claims `frames` frames at `rate` Hz (libsndfile believes it)."""
    data = bytearray(flac_bytes(tone(frames=RATE // 10), rate=RATE))
    info = 4 + 4  # "fLaC", then the STREAMINFO block header
    packed = int.from_bytes(data[info + 10 : info + 18], "big")
    rate_bits, channel_bits, depth_bits = packed >> 44, (packed >> 41) & 0x7, (packed >> 36) & 0x1F
    assert rate_bits == RATE
    packed = (rate << 44) | (channel_bits << 41) | (depth_bits << 36) | frames
    data[info + 10 : info + 18] = packed.to_bytes(8, "big")
    return bytes(data)


@attack("stem-flac-claims-an-hour", StemDecodeError, "signed 0.1 s FLACs whose headers claim 1 h at 192 kHz", True)
def _flac_liar(forge: Forge) -> Path:
    hour = 192_000 * 3600
    files = {"drums.flac": _flac_claiming(hour), "bass.flac": _flac_claiming(hour)}
    stems = [forge.stem(Path(n).stem, d, file=n, channels=2, frames=hour) for n, d in files.items()]
    text = manifest_bytes(forge.manifest(stems, sample_rate=192_000))
    return forge.zip("flac-hour.fanpack", {"pack.json": text, **files})


@attack("stem-nan-inf", StemDecodeError, "signed float WAV stems holding NaN and infinity", True)
def _nan_stems(forge: Forge) -> Path:
    audio = tone().astype(np.float32)
    audio[100, 0] = np.nan
    audio[200:, 1] = np.inf
    files = {"drums.wav": wav_bytes(audio, subtype="FLOAT"), "bass.wav": wav_bytes(-np.abs(audio), subtype="DOUBLE")}
    return forge.zip("nan-stems.fanpack", forge.signed_with(files))


# -- signatures over content that does not match -------------------------------------------------------------------


@attack("signed-frames-mismatch", StemFormatError, "a valid signature over pack.json declaring other frame counts")
def _frames_lie(forge: Forge) -> Path:
    data = wav_bytes(tone())
    return forge.zip("frames-lie.fanpack", forge.signed_with({"drums.wav": data}, frames=FRAMES * 2))


@attack("signed-rate-mismatch", StemFormatError, "a valid signature over pack.json declaring 48 kHz for 44.1 kHz")
def _rate_lie(forge: Forge) -> Path:
    data = wav_bytes(tone())
    stems = [forge.stem("drums", data)]
    return forge.zip(
        "rate-lie.fanpack", {"pack.json": manifest_bytes(forge.manifest(stems, 48_000)), "drums.wav": data}
    )


@attack("signed-stems-swapped", HashMismatchError, "valid signature; the two stems' bytes swapped in the archive")
def _swapped(forge: Forge) -> Path:
    files = forge.good_members()
    files["drums.wav"], files["bass.wav"] = files["bass.wav"], files["drums.wav"]
    return forge.zip("swapped.fanpack", files)


@attack("signature-from-another-pack", BadSignatureError, "a genuine signature copied from another pack")
def _copied_signature(forge: Forge) -> Path:
    files = forge.good_members()
    data = json.loads(files["pack.json"])
    data["title"] = "Same signature, other song"
    files["pack.json"] = json.dumps(data).encode()
    return forge.zip("copied-signature.fanpack", files)


@attack("signature-key-id-traversal", UntrustedKeyError, "a key id that walks out of the keyring folder")
def _key_id_traversal(forge: Forge) -> Path:
    files = forge.good_members()
    data = json.loads(files["pack.json"])
    # a trust entry the attacker managed to leave somewhere predictable, for their own key
    planted = forge.folder / "planted.json"
    attacker = PublisherKey.generate()
    from fanremix.rights.signing import public_key_pem

    planted.write_text(
        json.dumps({"key_id": attacker.key_id, "name": "Trusted Label", "public_key_pem": public_key_pem(
            attacker.public_key).decode()})
    )  # fmt: skip
    manifest = PackManifest.from_dict({**data, "signature": None})
    signed = attacker.sign(manifest).to_dict()
    signed["signature"]["key_id"] = "../" * 12 + str(planted.with_suffix(""))[1:]
    files["pack.json"] = json.dumps(signed).encode()
    return forge.zip("key-id-traversal.fanpack", files)


@attack("not-a-zip", CorruptArchiveError, "random bytes")
def _random(forge: Forge) -> Path:
    path = forge.folder / "random.fanpack"
    path.write_bytes(os.urandom(8192))
    return path


@attack("empty-file", CorruptArchiveError, "an empty file")
def _empty(forge: Forge) -> Path:
    path = forge.folder / "empty.fanpack"
    path.write_bytes(b"")
    return path


@attack("truncated-zip", CorruptArchiveError, "a pack cut off in the middle")
def _truncated(forge: Forge) -> Path:
    whole = forge.zip("whole.fanpack", forge.good_members()).read_bytes()
    path = forge.folder / "truncated.fanpack"
    path.write_bytes(whole[: len(whole) // 2])
    return path


@attack("unsupported-compression", CorruptArchiveError, "pack.json compressed with an unknown method (99, AES)")
def _aes(forge: Forge) -> Path:
    files = forge.good_members()
    entries = [replace(stored("pack.json", files["pack.json"]), method=99)]
    entries += [stored(n, d) for n, d in files.items() if n != "pack.json"]
    return zipcraft.write_zip(forge.folder / "aes.fanpack", entries)


@attack("encrypted-member", CorruptArchiveError, "pack.json flagged as encrypted")
def _encrypted(forge: Forge) -> Path:
    files = forge.good_members()
    entries = [replace(stored("pack.json", files["pack.json"]), flags=0x1)]
    entries += [stored(n, d) for n, d in files.items() if n != "pack.json"]
    return zipcraft.write_zip(forge.folder / "encrypted.fanpack", entries)


@attack("bad-crc", CorruptArchiveError, "pack.json whose CRC does not match")
def _bad_crc(forge: Forge) -> Path:
    files = forge.good_members()
    entries = [replace(stored("pack.json", files["pack.json"]), declared_crc=0xDEADBEEF)]
    entries += [stored(n, d) for n, d in files.items() if n != "pack.json"]
    return zipcraft.write_zip(forge.folder / "bad-crc.fanpack", entries)


# -- unpacked folders ------------------------------------------------------------------------------------------------


def _folder_pack(forge: Forge, name: str) -> Path:
    folder = forge.folder / name
    folder.mkdir()
    for member, data in forge.good_members().items():
        (folder / member).write_bytes(data)
    return folder


@attack("folder-hard-link", UnsafeArchiveError, "an unpacked pack whose stem is a hard link")
def _folder_hard_link(forge: Forge) -> Path:
    folder = _folder_pack(forge, "hard-link")
    outside = forge.folder / "outside.wav"
    outside.write_bytes((folder / "bass.wav").read_bytes())
    (folder / "bass.wav").unlink()
    os.link(outside, folder / "bass.wav")
    return folder


@attack("folder-symlinked-manifest", UnsafeArchiveError, "an unpacked pack whose pack.json is a symbolic link")
def _folder_symlink(forge: Forge) -> Path:
    folder = _folder_pack(forge, "symlinked-manifest")
    (folder / "pack.json").rename(forge.folder / "real-pack.json")
    (folder / "pack.json").symlink_to(forge.folder / "real-pack.json")
    return folder


@attack("folder-fifo", UnsafeArchiveError, "an unpacked pack holding a FIFO (reading it would block for ever)")
def _folder_fifo(forge: Forge) -> Path:
    folder = _folder_pack(forge, "fifo")
    os.mkfifo(folder / "extra.wav")
    return folder


@attack("folder-10000-files", ArchiveTooLargeError, "an unpacked pack folder holding 10,000 files")
def _folder_many(forge: Forge) -> Path:
    folder = _folder_pack(forge, "many-files")
    for index in range(10_000):
        (folder / f"s{index}.wav").touch()
    return folder
