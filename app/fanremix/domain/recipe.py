"""The recipe: the whole description of a derivative. The same pack plus the same recipe render the same audio."""

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .canonical import canonical_json, sha256_hex
from .errors import RecipeError
from .fields import is_finite_number
from .versioning import migrate

RECIPE_FORMAT = 1
DEFAULT_LOUDNESS_LUFS = -14.0  # integrated loudness Spotify normalises to
MASTER = "master"  # the name that addresses the master chain where a stem id is expected
ParamValue = float | int | bool | str


def _number(value: Any, where: str) -> float:
    if not is_finite_number(value):
        raise RecipeError(f"{where} must be a finite number, not {value!r}.")
    return float(value)


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise RecipeError(f"{where} must be true or false, not {value!r}.")
    return value


@dataclass(frozen=True)
class Effect:
    """One effect in a chain: its kind (see fanremix.audio.effects) and its parameters."""

    kind: str
    params: tuple[tuple[str, ParamValue], ...] = ()
    bypassed: bool = False
    preset: str | None = None  # the preset it started from, for display only

    def __post_init__(self) -> None:
        params = self.params
        if isinstance(params, Mapping):
            params = params.items()
        object.__setattr__(self, "params", tuple(sorted((str(k), v) for k, v in params)))

    @classmethod
    def of(cls, kind: str, **params: ParamValue) -> "Effect":
        return cls(kind=kind, params=tuple(params.items()))

    @property
    def param_dict(self) -> dict[str, ParamValue]:
        return dict(self.params)

    def with_param(self, name: str, value: ParamValue) -> "Effect":
        return replace(self, params=tuple({**self.param_dict, name: value}.items()))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "params": self.param_dict}
        if self.bypassed:
            data["bypassed"] = True
        if self.preset:
            data["preset"] = self.preset
        return data

    @classmethod
    def from_dict(cls, data: Any, where: str = "effect") -> "Effect":
        if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
            raise RecipeError(f"The {where} needs a 'kind' naming the effect.")
        params = data.get("params", {})
        if not isinstance(params, dict):
            raise RecipeError(f"The parameters of {where} must be an object of name: value.")
        for name, value in params.items():
            if isinstance(value, float) and not math.isfinite(value):
                raise RecipeError(f"Parameter '{name}' of {where} must be finite.")
            if not isinstance(value, int | float | bool | str):
                raise RecipeError(f"Parameter '{name}' of {where} has an unsupported value {value!r}.")
        preset = data.get("preset")
        return cls(
            kind=data["kind"],
            params=tuple(params.items()),
            bypassed=_flag(data.get("bypassed", False), f"'bypassed' of {where}"),
            preset=preset if isinstance(preset, str) else None,
        )


Chain = tuple[Effect, ...]


def _chain_from(data: Any, where: str) -> Chain:
    if not isinstance(data, list):
        raise RecipeError(f"The {where} must be a list of effects.")
    return tuple(Effect.from_dict(item, f"effect {i + 1} of {where}") for i, item in enumerate(data))


@dataclass(frozen=True)
class StemMix:
    """How one stem enters the mix. Pan is -1 (left) to +1 (right)."""

    stem_id: str
    gain_db: float = 0.0
    pan: float = 0.0
    mute: bool = False
    solo: bool = False
    chain: Chain = ()

    def __post_init__(self) -> None:
        # ints and floats hash differently in canonical JSON; store floats so code and JSON agree
        object.__setattr__(self, "gain_db", float(self.gain_db))
        object.__setattr__(self, "pan", float(self.pan))
        object.__setattr__(self, "chain", tuple(self.chain))

    def to_dict(self) -> dict[str, Any]:
        return {
            "stem": self.stem_id,
            "gain_db": self.gain_db,
            "pan": self.pan,
            "mute": self.mute,
            "solo": self.solo,
            "chain": [effect.to_dict() for effect in self.chain],
        }

    @classmethod
    def from_dict(cls, data: Any) -> "StemMix":
        if not isinstance(data, dict) or not isinstance(data.get("stem"), str):
            raise RecipeError("Each stem entry of the recipe needs a 'stem' id.")
        where = f"stem '{data['stem']}'"
        pan = _number(data.get("pan", 0.0), f"The pan of {where}")
        if not -1.0 <= pan <= 1.0:
            raise RecipeError(f"The pan of {where} is {pan}; it must be between -1 (left) and 1 (right).")
        return cls(
            stem_id=data["stem"],
            gain_db=_number(data.get("gain_db", 0.0), f"The gain of {where}"),
            pan=pan,
            mute=_flag(data.get("mute", False), f"'mute' of {where}"),
            solo=_flag(data.get("solo", False), f"'solo' of {where}"),
            chain=_chain_from(data.get("chain", []), f"chain of {where}"),
        )


@dataclass(frozen=True)
class Recipe:
    pack_id: str
    pack_hash: str
    stems: tuple[StemMix, ...]
    master: Chain = ()
    tempo_ratio: float = 1.0
    pitch_semitones: float = 0.0
    region_start_s: float = 0.0
    region_end_s: float | None = None  # None: to the end of the song
    fade_in_s: float = 0.0
    fade_out_s: float = 0.0
    loudness_lufs: float | None = DEFAULT_LOUDNESS_LUFS  # None: no normalisation
    app_version: str = ""
    format: int = field(default=RECIPE_FORMAT)

    def __post_init__(self) -> None:
        for name in ("tempo_ratio", "pitch_semitones", "region_start_s", "fade_in_s", "fade_out_s"):
            object.__setattr__(self, name, float(getattr(self, name)))
        for name in ("region_end_s", "loudness_lufs"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, float(getattr(self, name)))
        object.__setattr__(self, "stems", tuple(self.stems))
        object.__setattr__(self, "master", tuple(self.master))
        ids = [stem.stem_id for stem in self.stems]
        if len(set(ids)) != len(ids):
            raise RecipeError("The recipe names a stem more than once.")
        if not (self.tempo_ratio > 0 and math.isfinite(self.tempo_ratio)):
            raise RecipeError(f"The tempo ratio must be above zero, not {self.tempo_ratio}.")
        if self.region_start_s < 0:
            raise RecipeError("The region cannot start before the beginning of the song.")
        if self.region_end_s is not None and self.region_end_s <= self.region_start_s:
            raise RecipeError(
                f"The region ends ({self.region_end_s:g} s) before it starts ({self.region_start_s:g} s)."
            )
        if self.fade_in_s < 0 or self.fade_out_s < 0:
            raise RecipeError("Fades cannot be negative.")

    # -- construction and edits -------------------------------------------------------------------------
    @classmethod
    def for_stems(cls, pack_id: str, pack_hash: str, stem_ids: Iterable[str], **kwargs: Any) -> "Recipe":
        return cls(pack_id=pack_id, pack_hash=pack_hash, stems=tuple(StemMix(s) for s in stem_ids), **kwargs)

    def stem(self, stem_id: str) -> StemMix:
        for mix in self.stems:
            if mix.stem_id == stem_id:
                return mix
        raise RecipeError(f"The recipe has no stem '{stem_id}'.")

    def with_stem(self, stem_id: str, **changes: Any) -> "Recipe":
        self.stem(stem_id)  # raises for an unknown stem
        stems = tuple(replace(m, **changes) if m.stem_id == stem_id else m for m in self.stems)
        return replace(self, stems=stems)

    def with_chain(self, target: str, chain: Iterable[Effect]) -> "Recipe":
        if target == MASTER:
            return replace(self, master=tuple(chain))
        return self.with_stem(target, chain=tuple(chain))

    def chain_of(self, target: str) -> Chain:
        return self.master if target == MASTER else self.stem(target).chain

    def audible_stem_ids(self, silent_below_db: float = -60.0) -> tuple[str, ...]:
        """Stems that are heard: not muted, soloed when anything is soloed, and louder than `silent_below_db`."""
        any_solo = any(m.solo for m in self.stems)
        return tuple(
            m.stem_id for m in self.stems if not m.mute and (m.solo or not any_solo) and m.gain_db > silent_below_db
        )

    # -- JSON -------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "pack": {"id": self.pack_id, "hash": self.pack_hash},
            "stems": [m.to_dict() for m in self.stems],
            "master": [e.to_dict() for e in self.master],
            "tempo_ratio": self.tempo_ratio,
            "pitch_semitones": self.pitch_semitones,
            "region": {"start_s": self.region_start_s, "end_s": self.region_end_s},
            "fades": {"in_s": self.fade_in_s, "out_s": self.fade_out_s},
            "loudness_lufs": self.loudness_lufs,
            "app_version": self.app_version,
        }

    @classmethod
    def from_dict(cls, raw: Any) -> "Recipe":
        data = migrate(raw, kind="recipe", current=RECIPE_FORMAT, migrations=MIGRATIONS, error=RecipeError)
        pack = data.get("pack")
        if not isinstance(pack, dict) or not isinstance(pack.get("id"), str) or not isinstance(pack.get("hash"), str):
            raise RecipeError("The recipe must name its pack: {'pack': {'id': ..., 'hash': ...}}.")
        stems = data.get("stems")
        if not isinstance(stems, list):
            raise RecipeError("The recipe needs a 'stems' list.")
        region = data.get("region", {})
        fades = data.get("fades", {})
        if not isinstance(region, dict) or not isinstance(fades, dict):
            raise RecipeError("'region' and 'fades' must be objects.")
        end = region.get("end_s")
        loudness = data.get("loudness_lufs", DEFAULT_LOUDNESS_LUFS)
        return cls(
            pack_id=pack["id"],
            pack_hash=pack["hash"],
            stems=tuple(StemMix.from_dict(s) for s in stems),
            master=_chain_from(data.get("master", []), "master chain"),
            tempo_ratio=_number(data.get("tempo_ratio", 1.0), "The tempo ratio"),
            pitch_semitones=_number(data.get("pitch_semitones", 0.0), "The pitch shift"),
            region_start_s=_number(region.get("start_s", 0.0), "The region start"),
            region_end_s=None if end is None else _number(end, "The region end"),
            fade_in_s=_number(fades.get("in_s", 0.0), "The fade-in"),
            fade_out_s=_number(fades.get("out_s", 0.0), "The fade-out"),
            loudness_lufs=None if loudness is None else _number(loudness, "The loudness target"),
            app_version=str(data.get("app_version", "")),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> "Recipe":
        try:
            raw = json.loads(text)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nested too deeply
            raise RecipeError(f"The recipe is not valid JSON: {exc}.") from None
        return cls.from_dict(raw)

    def canonical_bytes(self) -> bytes:
        """What the hash and the grant cover. The app version is left out: it does not change the audio."""
        data = self.to_dict()
        del data["app_version"]
        return canonical_json(data)

    def recipe_hash(self) -> str:
        return sha256_hex(self.canonical_bytes())


MIGRATIONS: dict[int, Any] = {}
