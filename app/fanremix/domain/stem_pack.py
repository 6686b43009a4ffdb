"""The stem pack manifest (pack.json): metadata, stems, policy and the publisher's signature."""

import json
import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

from .canonical import canonical_json, sha256_hex
from .errors import FormatError, PackSchemaError, PolicyError
from .fields import FieldReader, is_number
from .music import MusicalKey, normalise_isrc
from .policy import ROLES, Policy
from .versioning import migrate

PACK_FORMAT = 1
MANIFEST_NAME = "pack.json"
MAX_STEMS = 64
MAX_SAMPLE_RATE = 192_000
MIN_SAMPLE_RATE = 8_000
MAX_CHANNELS = 2
_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
_STEM_FILE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,120}\.(wav|flac)$", re.IGNORECASE)


@dataclass(frozen=True)
class Stem:
    id: str
    name: str
    role: str
    file: str
    sha256: str
    channels: int
    frames: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "file": self.file,
            "sha256": self.sha256,
            "channels": self.channels,
            "frames": self.frames,
        }


@dataclass(frozen=True)
class Rightsholder:
    name: str
    role: str  # e.g. "artist", "label", "publisher", "songwriter"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role}


@dataclass(frozen=True)
class Signature:
    key_id: str
    value: str  # base64 of the Ed25519 signature over PackManifest.signing_bytes()
    algorithm: str = "ed25519"

    def to_dict(self) -> dict[str, Any]:
        return {"algorithm": self.algorithm, "key_id": self.key_id, "value": self.value}


@dataclass(frozen=True)
class PackManifest:
    id: str
    title: str
    artists: tuple[str, ...]
    isrc: str | None
    bpm: float
    key: str
    sample_rate: int
    rightsholders: tuple[Rightsholder, ...]
    stems: tuple[Stem, ...]
    policy: Policy
    signature: Signature | None = None
    format: int = field(default=PACK_FORMAT)

    def __post_init__(self) -> None:
        object.__setattr__(self, "artists", tuple(self.artists))
        object.__setattr__(self, "rightsholders", tuple(self.rightsholders))
        object.__setattr__(self, "stems", tuple(self.stems))
        object.__setattr__(self, "bpm", float(self.bpm))
        self._validate()

    def _validate(self) -> None:
        def fail(message: str) -> None:
            raise PackSchemaError(f"pack.json: {message}")

        if not _ID_PATTERN.match(self.id):
            fail(f"the pack id '{self.id}' must be 1–64 letters, digits, '.', '_' or '-'.")
        if not self.title.strip():
            fail("the title is empty.")
        if not self.artists or not all(a.strip() for a in self.artists):
            fail("at least one artist is needed.")
        if self.isrc is not None:
            try:
                normalise_isrc(self.isrc)
            except FormatError as exc:
                fail(str(exc))
        if not (math.isfinite(self.bpm) and 20 <= self.bpm <= 400):
            fail(f"the BPM {self.bpm:g} is outside 20–400.")
        try:
            MusicalKey.parse(self.key)
        except FormatError as exc:
            fail(str(exc))
        if not MIN_SAMPLE_RATE <= self.sample_rate <= MAX_SAMPLE_RATE:
            fail(f"the sample rate {self.sample_rate} Hz is outside {MIN_SAMPLE_RATE}–{MAX_SAMPLE_RATE} Hz.")
        if not 1 <= len(self.stems) <= MAX_STEMS:
            fail(f"a pack holds 1 to {MAX_STEMS} stems, not {len(self.stems)}.")
        ids, files = set(), set()
        for stem in self.stems:
            where = f"stem '{stem.id}'"
            if not _ID_PATTERN.match(stem.id) or stem.id == "master":
                fail(f"{where}: the id must be 1–64 letters, digits, '.', '_' or '-' (and not 'master').")
            if stem.id in ids:
                fail(f"{where} appears twice.")
            ids.add(stem.id)
            if not _STEM_FILE_PATTERN.match(stem.file):
                fail(f"{where}: the file '{stem.file}' must be a plain .wav or .flac name with no folders.")
            if stem.file.lower() in files or stem.file.lower() == MANIFEST_NAME:
                fail(f"{where}: the file '{stem.file}' is used twice.")
            files.add(stem.file.lower())
            if stem.role not in ROLES:
                fail(f"{where}: the role '{stem.role}' is not one of {', '.join(ROLES)}.")
            if not _SHA256_PATTERN.match(stem.sha256):
                fail(f"{where}: sha256 must be 64 lowercase hex digits.")
            if not 1 <= stem.channels <= MAX_CHANNELS:
                fail(f"{where}: {stem.channels} channels; stems are mono or stereo.")
            if stem.frames <= 0 or stem.frames > self.sample_rate * 3600:
                fail(f"{where}: {stem.frames} frames is not a length between 0 and one hour.")

    # -- derived values -----------------------------------------------------------------------------------
    @property
    def duration_s(self) -> float:
        return max(stem.frames for stem in self.stems) / self.sample_rate

    @property
    def musical_key(self) -> MusicalKey:
        return MusicalKey.parse(self.key)

    def stem(self, stem_id: str) -> Stem:
        for stem in self.stems:
            if stem.id == stem_id:
                return stem
        raise KeyError(stem_id)

    def find_stem(self, id_or_name: str) -> Stem | None:
        """A stem by id, or by name ignoring case."""
        for stem in self.stems:
            if stem.id == id_or_name:
                return stem
        for stem in self.stems:
            if stem.name.lower() == id_or_name.lower():
                return stem
        return None

    def signing_bytes(self) -> bytes:
        """What the publisher signs: the canonical JSON of everything except the signature."""
        data = self.to_dict()
        data.pop("signature", None)
        return canonical_json(data)

    def pack_hash(self) -> str:
        """Identifies this exact pack: the signed manifest, which pins every stem by its sha256."""
        return sha256_hex(canonical_json(self.to_dict()))

    def with_signature(self, signature: Signature | None) -> "PackManifest":
        return replace(self, signature=signature)

    # -- JSON -------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": self.format,
            "id": self.id,
            "title": self.title,
            "artists": list(self.artists),
            "isrc": self.isrc,
            "bpm": self.bpm,
            "key": self.key,
            "sample_rate": self.sample_rate,
            "rightsholders": [r.to_dict() for r in self.rightsholders],
            "stems": [s.to_dict() for s in self.stems],
            "policy": self.policy.to_dict(),
        }
        if self.signature is not None:
            data["signature"] = self.signature.to_dict()
        return data

    @classmethod
    def from_dict(cls, raw: Any) -> "PackManifest":
        data = migrate(raw, kind="pack.json", current=PACK_FORMAT, migrations=MIGRATIONS, error=PackSchemaError)
        try:
            stems = tuple(
                Stem(
                    id=_text(s, "id"),
                    name=_text(s, "name"),
                    role=_text(s, "role"),
                    file=_text(s, "file"),
                    sha256=_text(s, "sha256"),
                    channels=_integer(s, "channels"),
                    frames=_integer(s, "frames"),
                )
                for s in _list(data, "stems")
            )
            rightsholders = tuple(
                Rightsholder(name=_text(r, "name"), role=_text(r, "role")) for r in _list(data, "rightsholders")
            )
            signature = data.get("signature")
            if signature is not None:
                if not isinstance(signature, dict):
                    raise PackSchemaError("pack.json: 'signature' must be an object.")
                signature = Signature(
                    key_id=_text(signature, "key_id"),
                    value=_text(signature, "value"),
                    algorithm=_text(signature, "algorithm"),
                )
            artists = _list(data, "artists")
            if not all(isinstance(a, str) for a in artists):
                raise PackSchemaError("pack.json: 'artists' must be a list of names.")
            isrc = data.get("isrc")
            if isrc is not None and not isinstance(isrc, str):
                raise PackSchemaError("pack.json: 'isrc' must be text or null.")
            bpm = data.get("bpm")
            if not is_number(bpm):
                raise PackSchemaError("pack.json: 'bpm' must be a number.")
            policy = Policy.from_dict(data.get("policy"))
            return cls(
                id=_text(data, "id"),
                title=_text(data, "title"),
                artists=tuple(artists),
                isrc=isrc,
                bpm=bpm,
                key=_text(data, "key"),
                sample_rate=_integer(data, "sample_rate"),
                rightsholders=rightsholders,
                stems=stems,
                policy=policy,
                signature=signature,
            )
        except PolicyError as exc:
            raise PackSchemaError(f"pack.json: the policy is not valid. {exc}") from None

    @classmethod
    def from_json(cls, text: str | bytes) -> "PackManifest":
        try:
            raw = json.loads(text)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nested too deeply
            raise PackSchemaError(f"pack.json is not valid JSON: {exc}.") from None
        return cls.from_dict(raw)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False)


_fields = FieldReader(lambda name, kind: PackSchemaError(f"pack.json: '{name}' must be {kind}."))
_text, _integer, _list = _fields.text, _fields.whole_number, _fields.array


def guess_role(file_name: str) -> str:
    """Guess a stem's role from its file name ("Lead Vox.wav" -> vocals)."""
    name = file_name.lower()
    hints = (
        ("vocals", ("vox", "vocal", "voice", "sing", "lead", "choir", "acapella")),
        ("drums", ("drum", "kick", "snare", "hat", "perc", "beat", "cymbal", "tom")),
        ("bass", ("bass", "sub", "808")),
        ("keys", ("key", "piano", "synth", "pad", "chord", "organ", "rhodes")),
        ("guitar", ("guitar", "gtr")),
    )
    for role, words in hints:
        if any(word in name for word in words):
            return role
    return "other"


MIGRATIONS: dict[int, Any] = {}
