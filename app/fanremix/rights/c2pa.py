"""Content Credentials (C2PA) for exported remixes: build the manifest from a `ProvenanceRecord`, write credits into
ordinary tags, sign and embed atomically, and read a file back into a typed, validated report.

Where the manifest lives:
- WAV, FLAC and MP3: embedded in the file (c2pa-python writes a C2PA chunk / metadata block / ID3 frame).
- OGG: c2pa cannot embed into Ogg, so the manifest goes into a sidecar next to the audio, named like the file with
  the suffix `.c2pa` (`remix.ogg` -> `remix.c2pa`, the name C2PA tools look for). The sidecar's hard binding is a
  data hash over every byte of the .ogg file.
Either way the manifest binds the final bytes, so the credit tags are written first and never touched afterwards.

How the record maps onto the manifest:
- `title`, `claim_generator_info` (app name and version);
- parent ingredient (`parentOf`) = the stem pack; its `metadata["com.fanremix.pack"]` holds id, title, artists, ISRC,
  pack hash and publisher;
- component ingredients (`componentOf`) = the audible stems, each with `metadata["com.fanremix.stem"]` (id, name,
  role, sha256);
- `c2pa.actions.v2`: `c2pa.opened` (the pack), `c2pa.edited` (parameter `com.fanremix.recipe` = the full recipe, with
  the IPTC `digitalSourceType`), `c2pa.transcoded` (the export format);
- `com.fanremix.rights`: policy uid and hash, the grant, attribution, revenue split, distribution scope;
- `cawg.training-mining`: AI training, generative training, inference and data mining allowed or not, as the policy
  says.
"""

import contextlib
import json
import shutil
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO

import c2pa

from fanremix.domain.atomic import atomic_path, partial_file
from fanremix.domain.errors import FanRemixError
from fanremix.domain.provenance import (
    PROVENANCE_FORMAT,
    SOURCE_COMPOSITE_WITH_AI,
    SOURCE_HUMAN_EDITS,
    ProvenanceError,
    ProvenanceRecord,
    mime_type,
)

from .identity import DEV_CA_NAME, FanIdentity, TrustAnchors

RIGHTS_LABEL = "com.fanremix.rights"
TRAINING_LABEL = "cawg.training-mining"
ACTIONS_LABELS = ("c2pa.actions.v2", "c2pa.actions")
PACK_KEY = "com.fanremix.pack"
STEM_KEY = "com.fanremix.stem"
PARAMETER_PREFIX = "com.fanremix."
PACK_MEDIA_TYPE = "application/x-fanremix-pack"
PACK_LABEL = "fanremix-pack"
TRAINING_ENTRIES = ("cawg.ai_training", "cawg.ai_generative_training", "cawg.ai_inference", "cawg.data_mining")
EMBEDDED_FORMATS = ("wav", "flac", "mp3")
SIDECAR_FORMATS = ("ogg",)
SIDECAR_SUFFIX = ".c2pa"
SUFFIX_FORMATS = {".wav": "wav", ".wave": "wav", ".flac": "flac", ".mp3": "mp3", ".ogg": "ogg", ".oga": "ogg"}
UNREADABLE_CODE = "fanremix.manifest.unreadable"  # our code: the manifest store could not even be parsed

# What each C2PA validation status code means, in words a fan understands. Codes not listed fall back to the
# explanation c2pa gives. (Codes: C2PA specification, "Validation" chapter; c2pa-rs validation_status.rs.)
STATUS_MEANINGS = {
    "assertion.dataHash.mismatch": "The audio was changed after it was signed: its bytes no longer match the hash "
    "in the record.",
    "assertion.bmffHash.mismatch": "The audio was changed after it was signed: its bytes no longer match the hash "
    "in the record.",
    "assertion.boxesHash.mismatch": "The audio was changed after it was signed: its bytes no longer match the hash "
    "in the record.",
    "assertion.hashedURI.mismatch": "Part of the record (an assertion) was edited after signing.",
    "assertion.missing": "The record refers to an assertion that is no longer there: the record was edited.",
    "assertion.notRedacted": "The record claims something was redacted that is still present.",
    "assertion.cbor.invalid": "Part of the record is damaged and cannot be decoded.",
    "assertion.json.invalid": "Part of the record is damaged and cannot be decoded.",
    "assertion.action.ingredientMismatch": "An action refers to an ingredient the record does not contain.",
    "claim.missing": "The file holds a C2PA store but no claim: the record is incomplete.",
    "claim.malformed": "The record is damaged and cannot be decoded.",
    "claim.cbor.invalid": "The record is damaged and cannot be decoded.",
    "claim.hardBindings.missing": "The record does not bind to the audio bytes, so it proves nothing about them.",
    "claimSignature.mismatch": "The record's signature does not match its content: the record was edited after "
    "signing, or the signature was forged.",
    "claimSignature.missing": "The record is not signed.",
    "claimSignature.outsideValidity": "The record was signed outside the signing certificate's validity period.",
    "signingCredential.untrusted": "The signer's certificate does not chain to a trust anchor configured here, so "
    "who signed it is not vouched for.",
    "signingCredential.invalid": "The signing certificate is not fit for signing Content Credentials.",
    "signingCredential.revoked": "The signing certificate has been revoked by its issuer.",
    "signingCredential.expired": "The signing certificate had expired when the record was signed.",
    "algorithm.unsupported": "The record is signed with an algorithm this reader does not accept.",
    "manifest.inaccessible": "The record's manifest cannot be found or read.",
    "manifest.multipleParents": "The record names more than one parent, which C2PA forbids.",
    "general.error": "The record could not be validated.",
    UNREADABLE_CODE: "The Content Credentials in this file are damaged and cannot be read at all.",
}


class C2paSigningError(FanRemixError):
    """Signing or embedding the provenance record failed; nothing was written to the destination."""


class NoCredentialsError(FanRemixError):
    """The file carries no Content Credentials (and has no sidecar manifest)."""


class ValidationState(StrEnum):
    TRUSTED = "Trusted"
    VALID = "Valid"  # intact and correctly signed, but the signer does not chain to a configured anchor
    INVALID = "Invalid"


STATE_WORDS = {
    ValidationState.TRUSTED: "Trusted",
    ValidationState.VALID: "Valid but untrusted",
    ValidationState.INVALID: "Invalid",
}


@dataclass(frozen=True)
class StatusEntry:
    """One C2PA validation status: its code, what it means in words, and c2pa's own explanation."""

    code: str
    meaning: str
    explanation: str = ""
    url: str = ""

    @classmethod
    def from_c2pa(cls, entry: Mapping[str, Any]) -> "StatusEntry":
        code = str(entry.get("code", "general.error"))
        explanation = str(entry.get("explanation") or "")
        return cls(
            code=code,
            meaning=STATUS_MEANINGS.get(code, explanation or code),
            explanation=explanation,
            url=str(entry.get("url") or ""),
        )

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "meaning": self.meaning, "explanation": self.explanation, "url": self.url}


@dataclass(frozen=True)
class SignerInfo:
    """Who signed, from the signing certificate (as c2pa reports it; the chain itself is checked by c2pa)."""

    common_name: str
    organization: str  # the signer's organisation, if the certificate names one
    issuer: str  # the common name of the CA that issued the signing certificate
    serial_number: str
    algorithm: str
    signed_at: str | None = None
    valid_from: str | None = None
    valid_until: str | None = None

    @property
    def issued_by_development_ca(self) -> bool:
        return self.issuer == DEV_CA_NAME

    def to_dict(self) -> dict[str, Any]:
        return {
            "common_name": self.common_name,
            "organization": self.organization,
            "issuer": self.issuer,
            "issued_by_development_ca": self.issued_by_development_ca,
            "serial_number": self.serial_number,
            "algorithm": self.algorithm,
            "signed_at": self.signed_at,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
        }


@dataclass(frozen=True)
class ProvenanceReport:
    """What reading a file's Content Credentials found."""

    state: ValidationState
    location: str  # "embedded" or "sidecar"
    failures: tuple[StatusEntry, ...] = ()
    informational: tuple[StatusEntry, ...] = ()
    signer: SignerInfo | None = None
    record: ProvenanceRecord | None = None
    record_error: str | None = None  # why the manifest could not be read as a Fan Remix Studio record
    manifest_label: str | None = None
    anchors: tuple[str, ...] = ()  # names of the trust anchors the check used
    path: Path | None = None
    sidecar: Path | None = None

    @property
    def state_words(self) -> str:
        return STATE_WORDS[self.state]

    @property
    def recipe_hash(self) -> str | None:
        return None if self.record is None else self.record.recipe_hash()

    @property
    def reasons(self) -> list[str]:
        """Why the state is not Trusted, in words (empty when Trusted)."""
        valid = self.state == ValidationState.VALID  # then an untrusted signer is the only failure
        untrusted = "signingCredential.untrusted"
        entries = [(entry.meaning, entry.code) for entry in self.failures]
        if valid and untrusted not in (code for _meaning, code in entries):
            entries.append((STATUS_MEANINGS[untrusted], untrusted))
        intact = " (The record itself is intact.)"
        reasons = [f"{meaning}{intact if valid and code == untrusted else ''} [{code}]" for meaning, code in entries]
        if valid and not self.anchors:
            reasons.append("No trust anchors are configured on this machine.")
        return reasons

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "state_words": self.state_words,
            "location": self.location,
            "path": None if self.path is None else str(self.path),
            "sidecar": None if self.sidecar is None else str(self.sidecar),
            "reasons": self.reasons,
            "failures": [entry.to_dict() for entry in self.failures],
            "informational": [entry.to_dict() for entry in self.informational],
            "signer": None if self.signer is None else self.signer.to_dict(),
            "manifest_label": self.manifest_label,
            "trust_anchors": list(self.anchors),
            "recipe_hash": self.recipe_hash,
            "record": None if self.record is None else self.record.to_dict(),
            "record_error": self.record_error,
        }


@dataclass(frozen=True)
class SignedFile:
    path: Path
    sidecar: Path | None
    manifest_bytes: int
    sign_seconds: float


# -- formats -----------------------------------------------------------------------------------------------------


def format_of(path: Path) -> str | None:
    return SUFFIX_FORMATS.get(Path(path).suffix.lower())


def sidecar_path(path: Path) -> Path:
    """Where the sidecar manifest of `path` lives: same name, suffix `.c2pa` (what C2PA readers look for)."""
    return Path(path).with_suffix(SIDECAR_SUFFIX)


def uses_sidecar(fmt: str) -> bool:
    return fmt in SIDECAR_FORMATS


# -- manifest ----------------------------------------------------------------------------------------------------


def _prefixed(parameters: Mapping[str, Any]) -> dict[str, Any]:
    return {PARAMETER_PREFIX + key: value for key, value in parameters.items()}


def _unprefixed(parameters: Any) -> dict[str, Any]:
    if not isinstance(parameters, Mapping):  # a signer may write anything here; not ours, so nothing of ours
        return {}
    return {
        key[len(PARAMETER_PREFIX) :]: value for key, value in parameters.items() if key.startswith(PARAMETER_PREFIX)
    }


def _stem_label(stem_id: str) -> str:
    return f"fanremix-stem-{stem_id}"


def build_manifest(record: ProvenanceRecord) -> dict[str, Any]:
    """The C2PA manifest definition (c2pa-python's JSON) for `record`."""
    pack = record.pack
    ingredients: list[dict[str, Any]] = [
        {
            "title": f"{pack.title} — stem pack {pack.pack_id}",
            "format": PACK_MEDIA_TYPE,
            "relationship": "parentOf",
            "label": PACK_LABEL,
            "instance_id": f"urn:fanremix:pack:{pack.pack_id}:sha256:{pack.pack_hash}",
            "description": f"Stem pack '{pack.pack_id}' by {', '.join(pack.artists)}, signed by {pack.publisher_name}.",
            "metadata": {PACK_KEY: pack.to_dict()},
        }
    ]
    for stem in record.stems:
        ingredients.append(
            {
                "title": f"{stem.name} ({stem.role} stem of {pack.pack_id})",
                "format": stem.media_type,
                "relationship": "componentOf",
                "label": _stem_label(stem.stem_id),
                "instance_id": f"urn:fanremix:stem:{pack.pack_id}:{stem.stem_id}:sha256:{stem.sha256}",
                "metadata": {STEM_KEY: stem.to_dict()},
            }
        )
    agent = {"name": record.generator.name, "version": record.generator.version}
    actions = []
    for action in record.actions():
        entry: dict[str, Any] = {
            "action": action.action,
            "softwareAgent": agent,
            "parameters": _prefixed(action.parameters),
        }
        if action.action == "c2pa.opened":
            entry["parameters"]["ingredientIds"] = [PACK_LABEL]
            entry["description"] = f"Opened the signed stem pack “{pack.title}” ({pack.pack_id})."
        elif action.action == "c2pa.edited":
            entry["parameters"]["ingredientIds"] = [_stem_label(stem.stem_id) for stem in record.stems]
            entry["description"] = "Remixed the stems: " + summarise_recipe(record)
        elif action.action == "c2pa.transcoded":
            entry["description"] = f"Exported as {record.export_format.upper()}."
        if action.digital_source_type:
            entry["digitalSourceType"] = action.digital_source_type
        actions.append(entry)
    rights = {"record_format": PROVENANCE_FORMAT, **record.rights.to_dict(), "remixer": record.remixer}
    use = "allowed" if record.ai_training_allowed else "notAllowed"
    return {
        "claim_generator_info": [agent],
        "title": record.title,
        "format": record.mime_type,
        "ingredients": ingredients,
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": actions}},
            {"label": RIGHTS_LABEL, "data": rights},
            {"label": TRAINING_LABEL, "data": {"entries": {name: {"use": use} for name in TRAINING_ENTRIES}}},
        ],
    }


def summarise_recipe(record: ProvenanceRecord) -> str:
    """The recipe in one line of words: what a listener needs to know was done."""
    recipe = record.recipe
    names = {stem.stem_id: stem.name for stem in record.stems}
    parts = []
    audible = [names.get(s, s) for s in recipe.audible_stem_ids()]
    silent = [m.stem_id for m in recipe.stems if m.stem_id not in recipe.audible_stem_ids()]
    parts.append(f"{len(audible)} stem(s) heard ({', '.join(audible) or 'none'})")
    if silent:
        parts.append(f"{len(silent)} left out ({', '.join(silent)})")
    levels = [f"{names.get(m.stem_id, m.stem_id)} {m.gain_db:+g} dB" for m in recipe.stems if m.gain_db and not m.mute]
    if levels:
        parts.append("levels " + ", ".join(levels))
    panned = [f"{names.get(m.stem_id, m.stem_id)} {m.pan:+.2f}" for m in recipe.stems if m.pan and not m.mute]
    if panned:
        parts.append("pan " + ", ".join(panned))
    effects = [
        f"{names.get(m.stem_id, m.stem_id)}: {', '.join(e.kind for e in m.chain if not e.bypassed)}"
        for m in recipe.stems
        if any(not e.bypassed for e in m.chain)
    ]
    master = [e.kind for e in recipe.master if not e.bypassed]
    if master:
        effects.append(f"master: {', '.join(master)}")
    if effects:
        parts.append("effects " + "; ".join(effects))
    if recipe.tempo_ratio != 1.0:
        parts.append(f"tempo ×{recipe.tempo_ratio:.3g}")
    if recipe.pitch_semitones:
        parts.append(f"key {recipe.pitch_semitones:+g} semitones")
    if recipe.region_start_s or recipe.region_end_s is not None:
        end = "end" if recipe.region_end_s is None else f"{recipe.region_end_s:g} s"
        parts.append(f"region {recipe.region_start_s:g} s to {end}")
    if recipe.fade_in_s or recipe.fade_out_s:
        parts.append(f"fades {recipe.fade_in_s:g} s in / {recipe.fade_out_s:g} s out")
    parts.append(
        "no loudness normalisation" if recipe.loudness_lufs is None else f"normalised to {recipe.loudness_lufs:g} LUFS"
    )
    return "; ".join(parts) + "."


def _exact_recipe(edited: Mapping[str, Any]) -> Any:
    """The recipe as written: from its JSON text when present (exact floats), else the structured copy."""
    text = edited.get("recipe_json")
    if isinstance(text, str):
        try:
            return json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: nested too deeply
            raise ProvenanceError("The recipe text in the record is not valid JSON.") from None
    return edited.get("recipe")


def _objects(value: Any) -> list[dict[str, Any]]:
    """The objects in a list from the manifest; anything else there (written by whoever signed it) is ignored."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def record_from_manifest(manifest: Mapping[str, Any]) -> ProvenanceRecord:
    """Parse the active manifest (as c2pa-python's Reader reports it) back into a record. Raises ProvenanceError."""
    generators = _objects(manifest.get("claim_generator_info"))
    generator = next((g for g in generators if "name" in g), None)
    if generator is None:
        raise ProvenanceError("The manifest names no claim generator.")
    ingredients = _objects(manifest.get("ingredients"))
    packs = [
        i["metadata"][PACK_KEY]
        for i in ingredients
        if i.get("relationship") == "parentOf" and isinstance(i.get("metadata"), dict) and PACK_KEY in i["metadata"]
    ]
    if len(packs) != 1:
        raise ProvenanceError("The manifest has no Fan Remix Studio stem pack as its parent ingredient.")
    stems = [
        i["metadata"][STEM_KEY]
        for i in ingredients
        if i.get("relationship") == "componentOf" and isinstance(i.get("metadata"), dict) and STEM_KEY in i["metadata"]
    ]
    assertions = {
        a["label"]: a.get("data") for a in _objects(manifest.get("assertions")) if isinstance(a.get("label"), str)
    }
    actions_data = next((assertions[label] for label in ACTIONS_LABELS if label in assertions), None)
    if not isinstance(actions_data, dict):
        raise ProvenanceError("The manifest has no actions assertion.")
    actions = {a["action"]: a for a in _objects(actions_data.get("actions")) if isinstance(a.get("action"), str)}
    for required in ("c2pa.opened", "c2pa.edited", "c2pa.transcoded"):
        if required not in actions:
            raise ProvenanceError(f"The manifest has no '{required}' action.")
    edited = _unprefixed(actions["c2pa.edited"].get("parameters") or {})
    transcoded = _unprefixed(actions["c2pa.transcoded"].get("parameters") or {})
    source_type = actions["c2pa.edited"].get("digitalSourceType")
    if source_type not in (SOURCE_HUMAN_EDITS, SOURCE_COMPOSITE_WITH_AI):
        raise ProvenanceError(f"The edit's digital source type {source_type!r} is not one this app writes.")
    rights = assertions.get(RIGHTS_LABEL)
    if not isinstance(rights, dict):
        raise ProvenanceError(f"The manifest has no '{RIGHTS_LABEL}' assertion.")
    training = assertions.get(TRAINING_LABEL)
    entries = training.get("entries") if isinstance(training, dict) else None
    if not isinstance(entries, dict) or not isinstance(entries.get("cawg.ai_training"), dict):
        raise ProvenanceError(f"The manifest has no '{TRAINING_LABEL}' assertion.")
    record = ProvenanceRecord.from_dict(
        {
            "format": rights.get("record_format"),
            "title": manifest.get("title"),
            "generator": {"name": generator.get("name"), "version": generator.get("version")},
            "pack": packs[0],
            "stems": stems,
            "recipe": _exact_recipe(edited),
            "export_format": transcoded.get("format"),
            "rights": {key: value for key, value in rights.items() if key not in ("record_format", "remixer")},
            "ai_training_allowed": entries["cawg.ai_training"].get("use") == "allowed",
            "ai_assisted": source_type == SOURCE_COMPOSITE_WITH_AI,
            "remixer": rights.get("remixer"),
        }
    )
    stated = edited.get("recipe_hash")
    if stated is not None and stated != record.recipe_hash():
        raise ProvenanceError("The recipe hash stated in the record does not match the recipe it carries.")
    return record


# -- tags --------------------------------------------------------------------------------------------------------


def credit_tags(record: ProvenanceRecord) -> dict[str, str]:
    """The credits as plain key: value pairs (Vorbis comment names; ID3 frames are mapped from these)."""
    location = "sidecar .c2pa file" if uses_sidecar(record.export_format) else "embedded"
    tags = {
        "TITLE": record.title,
        "ARTIST": ", ".join(record.pack.artists),
        "COMMENT": record.credits_text(),
        "LICENSE": record.licence_summary(),
        "ENCODER": f"{record.generator.name} {record.generator.version}",
        "FANREMIX_PACK": f"{record.pack.pack_id} sha256:{record.pack.pack_hash}",
        "FANREMIX_RECIPE_SHA256": record.recipe_hash(),
        "CONTENT_CREDENTIALS": f"C2PA, {location}",
    }
    if record.remixer:
        tags["REMIXER"] = record.remixer
    return tags


def write_credit_tags(path: Path, record: ProvenanceRecord) -> None:
    """Write the human-readable credits into `path`'s ordinary tags: Vorbis comments (FLAC, OGG), ID3 (MP3, WAV)."""
    import mutagen
    from mutagen import flac, id3, mp3, oggvorbis, wave

    tags = credit_tags(record)
    fmt = record.export_format
    try:
        if fmt in ("flac", "ogg"):
            audio = flac.FLAC(path) if fmt == "flac" else oggvorbis.OggVorbis(path)
            if audio.tags is None:
                audio.add_tags()
            for key, value in tags.items():
                audio[key] = [value]
            audio.save()
            return
        container = mp3.MP3(path) if fmt == "mp3" else wave.WAVE(path)
        if container.tags is None:
            container.add_tags()
        frames = container.tags
        frames.add(id3.TIT2(encoding=id3.Encoding.UTF8, text=[tags["TITLE"]]))
        frames.add(id3.TPE1(encoding=id3.Encoding.UTF8, text=[tags["ARTIST"]]))
        frames.add(id3.COMM(encoding=id3.Encoding.UTF8, lang="eng", desc="", text=[tags["COMMENT"]]))
        frames.add(id3.USER(encoding=id3.Encoding.UTF8, lang="eng", text=tags["LICENSE"]))
        frames.add(id3.TSSE(encoding=id3.Encoding.UTF8, text=[tags["ENCODER"]]))
        if "REMIXER" in tags:
            frames.add(id3.TPE4(encoding=id3.Encoding.UTF8, text=[tags["REMIXER"]]))
        for key in ("LICENSE", "FANREMIX_PACK", "FANREMIX_RECIPE_SHA256", "CONTENT_CREDENTIALS"):
            frames.add(id3.TXXX(encoding=id3.Encoding.UTF8, desc=key, text=[tags[key]]))
        container.save()
    except mutagen.MutagenError as exc:
        raise C2paSigningError(f"Could not write the credits into {path.name}: {exc}.") from None


def read_credit_tags(path: Path) -> dict[str, str]:
    """The credit tags as written by `write_credit_tags` (keys as in `credit_tags`); empty when there are none."""
    import mutagen
    from mutagen import id3

    try:
        audio = mutagen.File(path)
    except mutagen.MutagenError:
        return {}
    if audio is None or audio.tags is None:
        return {}
    if isinstance(audio.tags, id3.ID3):
        frames = audio.tags
        found: dict[str, str] = {}
        for key, frame_id in (("TITLE", "TIT2"), ("ARTIST", "TPE1"), ("ENCODER", "TSSE"), ("REMIXER", "TPE4")):
            if frame_id in frames:
                found[key] = str(frames[frame_id].text[0])
        comments = frames.getall("COMM")
        if comments:
            found["COMMENT"] = str(comments[0].text[0])
        for frame in frames.getall("TXXX"):
            found[frame.desc] = str(frame.text[0])
        return found
    return {key.upper(): values[0] for key, values in audio.tags.as_dict().items() if values}


# -- signing -----------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _signer(identity: FanIdentity) -> Iterator[c2pa.Signer]:
    info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, identity.chain_pem, identity.private_key_pem(), None)
    try:
        signer = c2pa.Signer.from_info(info)
    except c2pa.C2paError as exc:
        raise C2paSigningError(f"The signing identity '{identity.display_name}' was refused: {exc}.") from None
    with signer:
        yield signer


def embed_provenance(source: Path, destination: Path, record: ProvenanceRecord, identity: FanIdentity) -> SignedFile:
    """Tag, sign and write `source` (rendered audio, left untouched) to `destination`, atomically.

    The credits are written into a temporary copy, the manifest is signed over those final bytes into a second
    temporary file beside the destination, and only then is it renamed into place. For OGG the sidecar is renamed into
    place first, then the audio, so the audio never appears without its manifest. On any failure nothing is left at
    the destination.
    """
    source, destination = Path(source), Path(destination)
    fmt = record.export_format
    if format_of(destination) not in (fmt, None):
        raise C2paSigningError(f"{destination.name} does not end in .{fmt}, the format the record states.")
    destination.parent.mkdir(parents=True, exist_ok=True)
    definition = json.dumps(build_manifest(record))
    sidecar = sidecar_path(destination) if uses_sidecar(fmt) else None
    with partial_file(destination.parent, f".{fmt}") as tagged:
        shutil.copyfile(source, tagged)
        write_credit_tags(tagged, record)
        with atomic_path(destination) as signed, _signer(identity) as signer, c2pa.Builder(definition) as builder:
            if sidecar is not None:
                builder.set_no_embed()
            started = time.perf_counter()
            try:
                with tagged.open("rb") as src, signed.open("w+b") as dst:
                    manifest_bytes = builder.sign(signer, record.mime_type, src, dst)
            except c2pa.C2paError as exc:
                raise C2paSigningError(f"Could not sign {destination.name}: {exc}.") from None
            seconds = time.perf_counter() - started
            if sidecar is not None:
                if not manifest_bytes:
                    raise C2paSigningError(f"Signing {destination.name} produced no sidecar manifest.")
                with atomic_path(sidecar) as side:
                    side.write_bytes(manifest_bytes)
        return SignedFile(path=destination, sidecar=sidecar, manifest_bytes=len(manifest_bytes), sign_seconds=seconds)


# -- reading -----------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _context(anchors: TrustAnchors) -> Iterator[c2pa.Context | None]:
    if not anchors:
        yield None  # c2pa's default: no anchors, so nothing is "Trusted"
        return
    with (
        c2pa.Settings.from_dict({"trust": {"trust_anchors": anchors.pem}}) as settings,
        c2pa.Context(settings=settings) as context,
    ):
        yield context


def read_provenance_stream(
    stream: BinaryIO,
    fmt: str | None,
    anchors: TrustAnchors | None = None,
    *,
    sidecar_bytes: bytes | None = None,
) -> ProvenanceReport:
    """Validate the Content Credentials of the audio in `stream` (e.g. an upload). `sidecar_bytes` for OGG.

    Raises NoCredentialsError when there are none; a damaged store is reported as Invalid, not raised.
    """
    anchors = anchors or TrustAnchors.none()
    location = "sidecar" if sidecar_bytes is not None else "embedded"
    media = mime_type(fmt) if fmt else None
    if sidecar_bytes is None and fmt is not None and uses_sidecar(fmt):
        raise NoCredentialsError(f"{fmt.upper()} files carry Content Credentials only in a sidecar .c2pa file.")
    with _context(anchors) as context:
        try:
            if sidecar_bytes is not None:
                reader = c2pa.Reader(media, stream, sidecar_bytes, context=context)
            else:
                reader = c2pa.Reader.try_create(media, stream, None, context=context)
        except c2pa.C2paError.NotSupported:
            raise NoCredentialsError("This kind of file cannot carry embedded Content Credentials.") from None
        except c2pa.C2paError as exc:
            return ProvenanceReport(
                state=ValidationState.INVALID,
                location=location,
                failures=(StatusEntry(UNREADABLE_CODE, STATUS_MEANINGS[UNREADABLE_CODE], str(exc)),),
                anchors=tuple(anchors.names()),
            )
        if reader is None:
            raise NoCredentialsError("This file carries no Content Credentials (no C2PA manifest).")
        with reader:
            try:
                store = json.loads(reader.json())
            except (c2pa.C2paError, ValueError, RecursionError) as exc:  # what a signer wrote can nest too deeply
                return ProvenanceReport(
                    state=ValidationState.INVALID,
                    location=location,
                    failures=(StatusEntry(UNREADABLE_CODE, STATUS_MEANINGS[UNREADABLE_CODE], str(exc)[:300]),),
                    anchors=tuple(anchors.names()),
                )
            try:
                certificate = _certificate_info(json.loads(reader.crjson()), store.get("active_manifest"))
            except (c2pa.C2paError, ValueError, RecursionError, AttributeError):
                certificate = {}
    return _report(store, location, anchors, certificate)


def _certificate_info(crjson: Mapping[str, Any], label: str | None) -> dict[str, Any]:
    """The signing certificate's subject, issuer and validity, from c2pa's crJSON report of the active manifest."""
    manifests = [m for m in crjson.get("manifests") or [] if isinstance(m, dict)]
    active = next((m for m in manifests if m.get("label") == label), None)
    signature = active.get("signature") if active else None
    info = signature.get("certificateInfo") if isinstance(signature, dict) else None
    return info if isinstance(info, dict) else {}


def read_provenance(path: Path, anchors: TrustAnchors | None = None) -> ProvenanceReport:
    """Validate a file's Content Credentials: embedded, or in its `.c2pa` sidecar (OGG, or any file that has one)."""
    path = Path(path)
    if not path.is_file():
        raise NoCredentialsError(f"{path}: no such file.")
    fmt = format_of(path)
    sidecar = sidecar_path(path)
    has_sidecar = sidecar.is_file() and path.suffix.lower() != SIDECAR_SUFFIX
    with path.open("rb") as stream:
        if fmt is None or not uses_sidecar(fmt):  # unknown suffixes: let c2pa detect the format from the bytes
            try:
                report = read_provenance_stream(stream, fmt, anchors)
                return _with_paths(report, path, None)
            except NoCredentialsError:
                # A sidecar beside a WAV, FLAC or MP3 is another file's (remix.ogg's remix.c2pa next to remix.wav):
                # this app embeds the record in those formats, so one without it simply has none.
                if not has_sidecar or fmt is not None:
                    raise NoCredentialsError(
                        f"{path.name} carries no Content Credentials (no C2PA manifest)."
                    ) from None
                stream.seek(0)
        if not has_sidecar:
            raise NoCredentialsError(
                f"{path.name} carries no Content Credentials: no embedded manifest and no sidecar {sidecar.name}."
            )
        report = read_provenance_stream(stream, fmt, anchors, sidecar_bytes=sidecar.read_bytes())
    return _with_paths(report, path, sidecar)


def _with_paths(report: ProvenanceReport, path: Path, sidecar: Path | None) -> ProvenanceReport:
    return replace(report, path=path, sidecar=sidecar)


def _entries(items: Any) -> tuple[StatusEntry, ...]:
    return tuple(StatusEntry.from_c2pa(item) for item in items or [] if isinstance(item, dict))


def _report(
    store: Mapping[str, Any], location: str, anchors: TrustAnchors, certificate: Mapping[str, Any]
) -> ProvenanceReport:
    state_text = store.get("validation_state")
    results = store.get("validation_results") or {}
    active = results.get("activeManifest") or {}
    failures = list(_entries(active.get("failure")))
    informational = _entries(active.get("informational"))
    for delta in results.get("ingredientDeltas") or []:
        if isinstance(delta, dict):
            failures.extend(_entries((delta.get("validationDeltas") or {}).get("failure")))
    if not results and store.get("validation_status"):  # older c2pa report shape
        failures.extend(_entries(store.get("validation_status")))
    try:
        state = ValidationState(state_text)
    except ValueError:
        state = ValidationState.INVALID
        failures.append(StatusEntry("general.error", f"The validator reported an unknown state {state_text!r}."))
    label = store.get("active_manifest")
    manifest = (store.get("manifests") or {}).get(label) if label else None
    signer = None
    record = None
    record_error = None
    if isinstance(manifest, dict):
        info = manifest.get("signature_info") or {}
        issuer = certificate.get("issuer") if isinstance(certificate.get("issuer"), dict) else {}
        validity = certificate.get("validity") if isinstance(certificate.get("validity"), dict) else {}
        signer = SignerInfo(
            common_name=str(info.get("common_name") or ""),
            organization=str(info.get("issuer") or ""),  # c2pa calls the signer's organisation "issuer"
            issuer=str(issuer.get("CN") or issuer.get("O") or ""),
            serial_number=str(info.get("cert_serial_number") or ""),
            algorithm=str(info.get("alg") or "").upper(),
            signed_at=info.get("time"),
            valid_from=validity.get("notBefore"),
            valid_until=validity.get("notAfter"),
        )
        try:
            record = record_from_manifest(manifest)
        except ProvenanceError as exc:
            record_error = f"These Content Credentials were not written by Fan Remix Studio, or are damaged: {exc}"
    else:
        record_error = "The manifest store has no active manifest."
        if state != ValidationState.INVALID:
            state = ValidationState.INVALID
    return ProvenanceReport(
        state=state,
        location=location,
        failures=tuple(failures),
        informational=informational,
        signer=signer,
        record=record,
        record_error=record_error,
        manifest_label=label,
        anchors=tuple(anchors.names()),
    )


def read_bytes_with_sidecar(path: Path) -> tuple[bytes, bytes | None]:
    """A file's bytes and its sidecar's (if any): what an upload sends."""
    path = Path(path)
    sidecar = sidecar_path(path)
    return path.read_bytes(), (sidecar.read_bytes() if sidecar.is_file() else None)
