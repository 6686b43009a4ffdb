"""The provenance record: what goes into a derivative's C2PA manifest, as plain data.

The record says what was used (the stem pack and the stems that are heard), what was done (the recipe), under which
licence (the pack's policy and the service's grant), and whether AI was involved. `fanremix.rights.c2pa` turns it
into a C2PA manifest and back; nothing here knows about C2PA's wire format or any file format.

Source type. IPTC's digital source type vocabulary (http://cv.iptc.org/newscodes/digitalsourcetype/) describes how
media came to be. A remix made in this app is existing media (the publisher's stems) changed by a person with
non-generative tools: gain, pan, mute, effects, time-stretch and pitch-shift are signal processing the fan directs.
That is `humanEdits`. It is not `trainedAlgorithmicMedia` (made by a generative model) nor
`compositeWithTrainedAlgorithmicMedia` (a mix in which at least one element came from a generative model). If an
AI-assisted feature is ever used on a derivative, `ai_assisted=True` switches the record to the latter.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .canonical import canonical_json
from .errors import FormatError, RecipeError
from .fields import FieldReader, is_finite_number
from .policy import Share
from .recipe import Recipe
from .versioning import migrate

if TYPE_CHECKING:
    from .stem_pack import PackManifest

PROVENANCE_FORMAT = 1
IPTC_SOURCE_TYPES = "http://cv.iptc.org/newscodes/digitalsourcetype/"
SOURCE_HUMAN_EDITS = IPTC_SOURCE_TYPES + "humanEdits"
SOURCE_COMPOSITE_WITH_AI = IPTC_SOURCE_TYPES + "compositeWithTrainedAlgorithmicMedia"
SOURCE_TYPE_WORDS = {
    SOURCE_HUMAN_EDITS: "No generative AI: a person remixed existing recordings with ordinary audio tools.",
    SOURCE_COMPOSITE_WITH_AI: "AI-assisted: at least one element of this remix was made with a generative AI model.",
}
EXPORT_FORMATS = ("wav", "flac", "mp3", "ogg")
_MIME_TYPES = {"wav": "audio/wav", "flac": "audio/flac", "mp3": "audio/mpeg", "ogg": "audio/ogg"}


class ProvenanceError(FormatError):
    """A provenance record is malformed, or a file's record is not one this app wrote."""


def mime_type(fmt: str) -> str:
    try:
        return _MIME_TYPES[fmt]
    except KeyError:
        raise ProvenanceError(
            f"'{fmt}' is not an export format with a provenance record. Formats: {', '.join(EXPORT_FORMATS)}."
        ) from None


@dataclass(frozen=True)
class ClaimGenerator:
    """The software that wrote the record."""

    name: str
    version: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version}


@dataclass(frozen=True)
class PackIngredient:
    """The parent ingredient: the signed stem pack the derivative was made from."""

    pack_id: str
    title: str
    artists: tuple[str, ...]
    isrc: str | None
    pack_hash: str
    publisher_key_id: str
    publisher_name: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "artists", tuple(self.artists))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.pack_id,
            "title": self.title,
            "artists": list(self.artists),
            "isrc": self.isrc,
            "hash": self.pack_hash,
            "publisher": {"key_id": self.publisher_key_id, "name": self.publisher_name},
        }

    @classmethod
    def from_dict(cls, data: Any) -> "PackIngredient":
        data = _object(data, "the pack ingredient")
        publisher = _object(data.get("publisher"), "the pack's publisher")
        artists = data.get("artists")
        if not isinstance(artists, list) or not all(isinstance(a, str) for a in artists):
            raise ProvenanceError("The pack ingredient's 'artists' must be a list of names.")
        return cls(
            pack_id=_text(data, "id", "the pack ingredient"),
            title=_text(data, "title", "the pack ingredient"),
            artists=tuple(artists),
            isrc=_optional_text(data, "isrc", "the pack ingredient"),
            pack_hash=_text(data, "hash", "the pack ingredient"),
            publisher_key_id=_text(publisher, "key_id", "the pack's publisher"),
            publisher_name=_text(publisher, "name", "the pack's publisher"),
        )


@dataclass(frozen=True)
class StemIngredient:
    """A component ingredient: one stem that is audible in the derivative."""

    stem_id: str
    name: str
    role: str
    sha256: str
    media_type: str = "audio/wav"  # the stem file's format inside the pack

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.stem_id,
            "name": self.name,
            "role": self.role,
            "sha256": self.sha256,
            "media_type": self.media_type,
        }

    @classmethod
    def from_dict(cls, data: Any) -> "StemIngredient":
        data = _object(data, "a stem ingredient")
        return cls(
            stem_id=_text(data, "id", "a stem ingredient"),
            name=_text(data, "name", "a stem ingredient"),
            role=_text(data, "role", "a stem ingredient"),
            sha256=_text(data, "sha256", "a stem ingredient"),
            media_type=_text(data, "media_type", "a stem ingredient"),
        )


@dataclass(frozen=True)
class RightsTerms:
    """The licence the derivative was made under: the custom `com.fanremix.rights` assertion.

    `grant` is the rights service's signed grant document exactly as the service returned it (None when the export
    was made without one, e.g. offline). It is carried, not interpreted, here: checking its signature needs the
    service's public key and belongs to the rights layer.
    """

    policy_uid: str
    policy_hash: str
    attribution: str | None
    revenue_split: tuple[Share, ...]
    platform: str
    distribute_outside_platform: bool
    commercial_use: bool
    grant: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "revenue_split", tuple(self.revenue_split))
        if self.grant is not None:
            if not isinstance(self.grant, Mapping):
                raise ProvenanceError("The grant must be a JSON object.")
            try:
                canonical_json(dict(self.grant))
            except (TypeError, ValueError) as exc:
                raise ProvenanceError(f"The grant cannot be stored as JSON: {exc}.") from None

    @property
    def distribution_words(self) -> str:
        if self.distribute_outside_platform:
            return "may be shared anywhere"
        return f"may be shared only on {self.platform}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": {"uid": self.policy_uid, "hash": self.policy_hash},
            "grant": None if self.grant is None else dict(self.grant),
            "attribution": self.attribution,
            "revenue_split": [share.to_dict() for share in self.revenue_split],
            "distribution": {"platform": self.platform, "outside_platform": self.distribute_outside_platform},
            "commercial_use": self.commercial_use,
        }

    @classmethod
    def from_dict(cls, data: Any) -> "RightsTerms":
        data = _object(data, "the rights assertion")
        policy = _object(data.get("policy"), "the rights assertion's policy")
        distribution = _object(data.get("distribution"), "the rights assertion's distribution")
        split = data.get("revenue_split", [])
        if not isinstance(split, list):
            raise ProvenanceError("The rights assertion's revenue split must be a list.")
        shares = []
        for item in split:
            item = _object(item, "a revenue share")
            percent = item.get("percent")
            if not is_finite_number(percent):  # JSON readers accept NaN and Infinity; a split may not
                raise ProvenanceError("A revenue share needs a finite number 'percent'.")
            shares.append(Share(party=_text(item, "party", "a revenue share"), percent=float(percent)))
        grant = data.get("grant")
        if grant is not None and not isinstance(grant, dict):
            raise ProvenanceError("The rights assertion's grant must be an object or null.")
        return cls(
            policy_uid=_text(policy, "uid", "the policy reference"),
            policy_hash=_text(policy, "hash", "the policy reference"),
            attribution=_optional_text(data, "attribution", "the rights assertion"),
            revenue_split=tuple(shares),
            platform=_text(distribution, "platform", "the distribution scope"),
            distribute_outside_platform=_flag(distribution, "outside_platform", "the distribution scope"),
            commercial_use=_flag(data, "commercial_use", "the rights assertion"),
            grant=grant,
        )


@dataclass(frozen=True)
class Action:
    """One C2PA action, as the record states it. `parameters` are JSON values."""

    action: str  # c2pa.opened, c2pa.edited, c2pa.transcoded
    parameters: Mapping[str, Any] = field(default_factory=dict)
    digital_source_type: str | None = None


@dataclass(frozen=True)
class ProvenanceRecord:
    title: str
    generator: ClaimGenerator
    pack: PackIngredient
    stems: tuple[StemIngredient, ...]  # the audible stems, in recipe order
    recipe: Recipe
    export_format: str  # wav, flac, mp3 or ogg
    rights: RightsTerms
    ai_training_allowed: bool  # from the pack's policy; the training/data-mining assertion follows it
    ai_assisted: bool = False  # True only when an AI-assisted feature shaped the audio
    remixer: str | None = None  # the fan's display name; the signing certificate names them too
    format: int = field(default=PROVENANCE_FORMAT)

    def __post_init__(self) -> None:
        object.__setattr__(self, "stems", tuple(self.stems))
        if self.export_format not in EXPORT_FORMATS:
            mime_type(self.export_format)  # raises with the list of formats
        if not self.title.strip():
            raise ProvenanceError("The record needs a title.")
        if self.recipe.pack_id != self.pack.pack_id:
            raise ProvenanceError(
                f"The recipe is for pack '{self.recipe.pack_id}', but the record names pack '{self.pack.pack_id}'."
            )

    # -- construction -----------------------------------------------------------------------------------------
    @classmethod
    def for_export(
        cls,
        manifest: "PackManifest",
        recipe: Recipe,
        export_format: str,
        *,
        publisher_key_id: str,
        publisher_name: str,
        app_name: str,
        app_version: str,
        grant: Mapping[str, Any] | None = None,
        title: str | None = None,
        remixer: str | None = None,
        ai_assisted: bool = False,
    ) -> "ProvenanceRecord":
        """The record for exporting `recipe` on the pack `manifest` (the caller passes what the domain cannot know)."""
        audible = recipe.audible_stem_ids()
        stems = []
        for stem_id in audible:
            try:
                stem = manifest.stem(stem_id)
            except KeyError:
                raise RecipeError(
                    f"The recipe uses stem '{stem_id}', which pack '{manifest.id}' does not have."
                ) from None
            media_type = "audio/flac" if stem.file.lower().endswith(".flac") else "audio/wav"
            stems.append(
                StemIngredient(
                    stem_id=stem.id, name=stem.name, role=stem.role, sha256=stem.sha256, media_type=media_type
                )
            )
        policy = manifest.policy
        rights = RightsTerms(
            policy_uid=policy.uid,
            policy_hash=policy.policy_hash(),
            attribution=policy.attribution,
            revenue_split=tuple(policy.revenue_split),
            platform=policy.platform,
            distribute_outside_platform=policy.distribute_outside_platform,
            commercial_use=policy.commercial_use,
            grant=grant,
        )
        pack = PackIngredient(
            pack_id=manifest.id,
            title=manifest.title,
            artists=manifest.artists,
            isrc=manifest.isrc,
            pack_hash=manifest.pack_hash(),
            publisher_key_id=publisher_key_id,
            publisher_name=publisher_name,
        )
        return cls(
            title=title or f"{manifest.title} (fan remix)",
            generator=ClaimGenerator(app_name, app_version),
            pack=pack,
            stems=tuple(stems),
            recipe=recipe,
            export_format=export_format,
            rights=rights,
            ai_training_allowed=policy.ai_training,
            ai_assisted=ai_assisted,
            remixer=remixer,
        )

    # -- what the manifest states -----------------------------------------------------------------------------
    @property
    def digital_source_type(self) -> str:
        return SOURCE_COMPOSITE_WITH_AI if self.ai_assisted else SOURCE_HUMAN_EDITS

    @property
    def ai_disclosure(self) -> str:
        return SOURCE_TYPE_WORDS[self.digital_source_type]

    @property
    def mime_type(self) -> str:
        return mime_type(self.export_format)

    def recipe_hash(self) -> str:
        return self.recipe.recipe_hash()

    def actions(self) -> tuple[Action, ...]:
        """opened (the pack), edited (the full recipe), transcoded (the export format), in that order."""
        return (
            Action("c2pa.opened", {"pack": self.pack.pack_id, "pack_hash": self.pack.pack_hash}),
            Action(
                "c2pa.edited",
                {
                    "recipe": self.recipe.to_dict(),
                    # The manifest store does not keep every float bit for bit (-0.15000000000000002 came back
                    # rounded), so the exact recipe also travels as JSON text; readers parse that one.
                    "recipe_json": self.recipe.to_json(),
                    "recipe_hash": self.recipe_hash(),
                },
                digital_source_type=self.digital_source_type,
            ),
            Action("c2pa.transcoded", {"format": self.export_format, "mime_type": self.mime_type}),
        )

    def credits_text(self) -> str:
        """Human-readable credits for the file's ordinary tags (a player shows these; the manifest is the proof)."""
        artists = ", ".join(self.pack.artists)
        lines = [f"Remix of “{self.pack.title}” by {artists}."]
        if self.remixer:
            lines.append(f"Remixed by {self.remixer}.")
        if self.rights.attribution:
            credit = self.rights.attribution.strip()
            lines.append(f"Credit: {credit}" + ("" if credit.endswith((".", "!", "?", "”", '"')) else "."))
        if self.pack.isrc:
            lines.append(f"Original recording ISRC {self.pack.isrc}.")
        lines.append(f"Licence: {self.rights.policy_uid}; this remix {self.rights.distribution_words}.")
        lines.append(self.ai_disclosure)
        lines.append(
            f"Made with {self.generator.name} {self.generator.version}; Content Credentials (C2PA) record the "
            "stems, the recipe and the licence."
        )
        return " ".join(lines)

    def licence_summary(self) -> str:
        parts = [f"policy {self.rights.policy_uid}", self.rights.distribution_words]
        parts.append("commercial use allowed" if self.rights.commercial_use else "no commercial use")
        parts.append("AI training allowed" if self.ai_training_allowed else "no AI training")
        return "; ".join(parts)

    # -- JSON -------------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "title": self.title,
            "generator": self.generator.to_dict(),
            "pack": self.pack.to_dict(),
            "stems": [stem.to_dict() for stem in self.stems],
            "recipe": self.recipe.to_dict(),
            "export_format": self.export_format,
            "rights": self.rights.to_dict(),
            "ai_training_allowed": self.ai_training_allowed,
            "ai_assisted": self.ai_assisted,
            "digital_source_type": self.digital_source_type,
            "remixer": self.remixer,
        }

    @classmethod
    def from_dict(cls, raw: Any) -> "ProvenanceRecord":
        data = migrate(
            raw, kind="provenance record", current=PROVENANCE_FORMAT, migrations=MIGRATIONS, error=ProvenanceError
        )
        generator = _object(data.get("generator"), "the claim generator")
        stems = data.get("stems")
        if not isinstance(stems, list):
            raise ProvenanceError("The record needs a 'stems' list.")
        try:
            recipe = Recipe.from_dict(data.get("recipe"))
        except RecipeError as exc:
            raise ProvenanceError(f"The recipe in the record is not valid: {exc}") from None
        record = cls(
            title=_text(data, "title", "the record"),
            generator=ClaimGenerator(
                name=_text(generator, "name", "the claim generator"),
                version=_text(generator, "version", "the claim generator"),
            ),
            pack=PackIngredient.from_dict(data.get("pack")),
            stems=tuple(StemIngredient.from_dict(s) for s in stems),
            recipe=recipe,
            export_format=_text(data, "export_format", "the record"),
            rights=RightsTerms.from_dict(data.get("rights")),
            ai_training_allowed=_flag(data, "ai_training_allowed", "the record"),
            ai_assisted=_flag(data, "ai_assisted", "the record"),
            remixer=_optional_text(data, "remixer", "the record"),
        )
        stated = data.get("digital_source_type")
        if stated is not None and stated != record.digital_source_type:
            raise ProvenanceError(
                f"The record's source type {stated} contradicts its AI flag (ai_assisted={record.ai_assisted})."
            )
        return record


MIGRATIONS: dict[int, Any] = {}


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProvenanceError(f"{where[0].upper()}{where[1:]} must be an object.")
    return value


def _fields(where: str) -> FieldReader:
    return FieldReader(lambda key, kind: ProvenanceError(f"'{key}' of {where} must be {kind}."))


def _text(data: dict[str, Any], key: str, where: str) -> str:
    return _fields(where).text(data, key)


def _optional_text(data: dict[str, Any], key: str, where: str) -> str | None:
    return _fields(where).optional_text(data, key)


def _flag(data: dict[str, Any], key: str, where: str) -> bool:
    return _fields(where).flag(data, key)
