"""The remix policy, shaped after W3C ODRL: a `derive` permission with constraints and duties, plus prohibitions.

`Policy.check(recipe, pack)` is the one implementation of "is this derivative allowed", used by the GUI, the CLI,
the license-check client and the rights service alike.
"""

import datetime as dt
import json
import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .canonical import canonical_json, sha256_hex
from .errors import FanRemixError, PolicyError
from .fields import is_finite_number
from .recipe import Recipe
from .versioning import migrate

if TYPE_CHECKING:
    from .stem_pack import PackManifest

POLICY_FORMAT = 1
ODRL_CONTEXT = "http://www.w3.org/ns/odrl.jsonld"
ROLES = ("vocals", "drums", "bass", "keys", "guitar", "other")
SILENT_BELOW_DB = -60.0  # a stem turned down below this counts as not audible
PLATFORM = "fanremix"


@dataclass(frozen=True)
class Range:
    low: float
    high: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.low > self.high:
            raise PolicyError(f"The range {self.low}..{self.high} is not a valid range.")
        object.__setattr__(self, "low", float(self.low))
        object.__setattr__(self, "high", float(self.high))

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True)
class RoleRule:
    """What fans may do with the stems of one role."""

    role: str
    may_solo: bool = True
    may_mute: bool = True
    may_export_alone: bool = True  # may this role be the only audible one in a derivative
    must_stay_audible: bool = False

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise PolicyError(f"'{self.role}' is not a stem role. Roles are: {', '.join(ROLES)}.")


@dataclass(frozen=True)
class Share:
    """One party's part of the revenue (the policy's compensate duty; grants and provenance records repeat it)."""

    party: str
    percent: float

    def to_dict(self) -> dict[str, Any]:
        return {"party": self.party, "percent": self.percent}


@dataclass(frozen=True)
class Violation:
    """One reason a recipe is not allowed: a machine code and a sentence a fan understands."""

    code: str
    message: str
    stem_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "stem": self.stem_id}


class PolicyViolationError(FanRemixError):
    """The recipe breaks the pack's policy; `violations` lists every reason."""

    def __init__(self, violations: "list[Violation]"):
        self.violations = list(violations)
        lines = "\n".join(f"  - {v.message} [{v.code}]" for v in self.violations)
        super().__init__(f"The pack's licence does not allow this remix:\n{lines}")


@dataclass(frozen=True)
class Use:
    """What the fan intends to do with the derivative; checked against the prohibitions."""

    distribution: str = PLATFORM  # "private", the platform's name, or "external"
    commercial: bool = False
    ai_training: bool = False


@dataclass(frozen=True)
class Policy:
    uid: str
    tempo_ratio: Range = Range(1.0, 1.0)
    pitch_semitones: Range = Range(0.0, 0.0)
    allowed_effects: tuple[str, ...] | None = None  # None: every effect kind not denied
    denied_effects: tuple[str, ...] = ()
    role_rules: tuple[RoleRule, ...] = ()
    min_audible_stems: int = 1
    min_length_s: float | None = None
    max_length_s: float | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    attribution: str | None = None  # duty: attribute, with this credit text
    revenue_split: tuple[Share, ...] = ()  # duty: compensate; percentages sum to 100
    distribute_outside_platform: bool = False  # False: prohibited
    commercial_use: bool = False  # False: prohibited
    ai_training: bool = False  # False: prohibited
    platform: str = PLATFORM
    format: int = field(default=POLICY_FORMAT)

    def __post_init__(self) -> None:
        if self.tempo_ratio.low <= 0:
            raise PolicyError("The lowest tempo ratio must be above zero.")
        if self.revenue_split:
            total = sum(share.percent for share in self.revenue_split)
            if abs(total - 100.0) > 1e-6:
                raise PolicyError(f"The revenue split adds up to {total:g}%, not 100%.")
            if any(share.percent < 0 for share in self.revenue_split):
                raise PolicyError("A revenue share cannot be negative.")
        roles = [rule.role for rule in self.role_rules]
        if len(set(roles)) != len(roles):
            raise PolicyError("The policy has more than one rule for the same role.")
        if self.min_audible_stems < 0:
            raise PolicyError("The minimum number of audible stems cannot be negative.")
        if self.min_length_s is not None and self.max_length_s is not None and self.min_length_s > self.max_length_s:
            raise PolicyError("The shortest allowed length is longer than the longest.")
        if self.valid_from and self.valid_until and self.valid_from > self.valid_until:
            raise PolicyError("The policy stops being valid before it starts.")
        overlap = set(self.allowed_effects or ()) & set(self.denied_effects)
        if overlap:
            raise PolicyError(f"Effects both allowed and denied: {', '.join(sorted(overlap))}.")

    # -- queries the GUI uses to bound its controls -----------------------------------------------------
    def rule_for(self, role: str) -> RoleRule:
        for rule in self.role_rules:
            if rule.role == role:
                return rule
        return RoleRule(role=role)

    def effect_allowed(self, kind: str) -> bool:
        if kind in self.denied_effects:
            return False
        return self.allowed_effects is None or kind in self.allowed_effects

    # -- the check ----------------------------------------------------------------------------------------
    def check(
        self,
        recipe: Recipe,
        pack: "PackManifest",
        *,
        today: dt.date | None = None,
        use: Use | None = None,
    ) -> list[Violation]:
        """Every reason `recipe` on `pack` is not allowed under this policy; empty when it is allowed."""
        found: list[Violation] = []
        add = found.append
        if recipe.pack_id != pack.id:
            add(Violation("recipe.wrong_pack", f"This recipe was made for pack '{recipe.pack_id}', not '{pack.id}'."))
        elif recipe.pack_hash != pack.pack_hash():
            add(
                Violation(
                    "recipe.pack_changed",
                    "This recipe was made for a different version of this pack. Open it again with the current pack.",
                )
            )
        roles = {stem.id: stem for stem in pack.stems}
        for mix in recipe.stems:
            if mix.stem_id not in roles:
                add(Violation("recipe.unknown_stem", f"The pack has no stem '{mix.stem_id}'.", mix.stem_id))

        tempo = recipe.tempo_ratio
        if tempo < self.tempo_ratio.low:
            add(
                Violation(
                    "tempo.below_min", f"Tempo {tempo:.2f}× is below the {self.tempo_ratio.low:.2f}× this pack allows."
                )
            )
        elif tempo > self.tempo_ratio.high:
            add(
                Violation(
                    "tempo.above_max", f"Tempo {tempo:.2f}× is above the {self.tempo_ratio.high:.2f}× this pack allows."
                )
            )
        pitch = recipe.pitch_semitones
        if pitch < self.pitch_semitones.low:
            add(
                Violation(
                    "pitch.below_min",
                    f"A key change of {_semitones(pitch)} is lower than the {_semitones(self.pitch_semitones.low)} "
                    "this pack allows.",
                )
            )
        elif pitch > self.pitch_semitones.high:
            add(
                Violation(
                    "pitch.above_max",
                    f"A key change of {_semitones(pitch)} is higher than the {_semitones(self.pitch_semitones.high)} "
                    "this pack allows.",
                )
            )

        for target, chain in [(m.stem_id, m.chain) for m in recipe.stems] + [("master", recipe.master)]:
            where = "the master" if target == "master" else _stem_name(roles, target)
            for effect in chain:
                if not effect.bypassed and not self.effect_allowed(effect.kind):
                    add(
                        Violation(
                            "effect.not_allowed",
                            f"The {effect.kind} effect on {where} is not allowed by this pack.",
                            None if target == "master" else target,
                        )
                    )

        audible = recipe.audible_stem_ids(SILENT_BELOW_DB)
        for mix in recipe.stems:
            stem = roles.get(mix.stem_id)
            if stem is None:
                continue
            rule = self.rule_for(stem.role)
            name = stem.name
            if mix.solo and not rule.may_solo:
                add(Violation("role.solo_forbidden", f"{name} ({stem.role}) may not be soloed in this pack.", stem.id))
            if mix.mute and not rule.may_mute:
                add(Violation("role.mute_forbidden", f"{name} ({stem.role}) may not be muted in this pack.", stem.id))
            if rule.must_stay_audible and mix.stem_id not in audible:
                add(
                    Violation(
                        "role.must_stay_audible", f"{name} ({stem.role}) must stay audible in the remix.", stem.id
                    )
                )
        audible_roles = {roles[s].role for s in audible if s in roles}
        if len(audible_roles) == 1:
            (only_role,) = audible_roles
            if not self.rule_for(only_role).may_export_alone:
                add(
                    Violation(
                        "role.alone_forbidden",
                        f"The {only_role} may not be heard on their own; keep another stem audible.",
                    )
                )
        if len(audible) < self.min_audible_stems:
            add(
                Violation(
                    "stems.too_few_audible",
                    f"Only {len(audible)} of the original stems can be heard; this pack asks for at least "
                    f"{self.min_audible_stems}.",
                )
            )

        length = output_length_s(recipe, pack)
        if self.min_length_s is not None and length < self.min_length_s:
            add(
                Violation(
                    "length.too_short",
                    f"The remix would last {_duration(length)}; "
                    f"this pack asks for at least {_duration(self.min_length_s)}.",
                )
            )
        if self.max_length_s is not None and length > self.max_length_s:
            add(
                Violation(
                    "length.too_long",
                    f"The remix would last {_duration(length)}; "
                    f"this pack allows at most {_duration(self.max_length_s)}.",
                )
            )

        today = today or dt.date.today()
        if self.valid_from and today < self.valid_from:
            add(Violation("policy.not_yet_valid", f"Remixing this pack opens on {self.valid_from.isoformat()}."))
        if self.valid_until and today > self.valid_until:
            add(Violation("policy.expired", f"Remixing this pack closed on {self.valid_until.isoformat()}."))

        if use is not None:
            if use.distribution not in ("private", self.platform) and not self.distribute_outside_platform:
                add(
                    Violation(
                        "use.distribution_prohibited",
                        f"This pack's remixes may only be shared on {self.platform}, not elsewhere.",
                    )
                )
            if use.commercial and not self.commercial_use:
                add(Violation("use.commercial_prohibited", "Commercial use of remixes of this pack is prohibited."))
            if use.ai_training and not self.ai_training:
                add(
                    Violation("use.ai_training_prohibited", "Using this pack or its remixes to train AI is prohibited.")
                )
        return found

    # -- words --------------------------------------------------------------------------------------------
    def describe(self) -> dict[str, list[str]]:
        """The policy in words, as fans see it: what it allows, requires and prohibits."""
        allows = [
            f"Change the tempo from {self.tempo_ratio.low:.2f}× to {self.tempo_ratio.high:.2f}×.",
            f"Change the key from {_semitones(self.pitch_semitones.low)} to {_semitones(self.pitch_semitones.high)}.",
        ]
        if self.allowed_effects is None and not self.denied_effects:
            allows.append("Use any effect.")
        elif self.allowed_effects is None:
            allows.append(f"Use any effect except {', '.join(self.denied_effects)}.")
        else:
            allows.append(f"Use these effects: {', '.join(self.allowed_effects) or 'none'}.")
        requires: list[str] = []
        prohibits: list[str] = []
        for rule in self.role_rules:
            if not rule.may_solo:
                prohibits.append(f"Soloing the {rule.role}.")
            if not rule.may_mute:
                prohibits.append(f"Muting the {rule.role}.")
            if not rule.may_export_alone:
                prohibits.append(f"Releasing the {rule.role} on their own.")
            if rule.must_stay_audible:
                requires.append(f"The {rule.role} stay audible.")
        if self.min_audible_stems > 1:
            requires.append(f"At least {self.min_audible_stems} of the original stems stay audible.")
        if self.min_length_s is not None:
            requires.append(f"The remix lasts at least {_duration(self.min_length_s)}.")
        if self.max_length_s is not None:
            requires.append(f"The remix lasts at most {_duration(self.max_length_s)}.")
        if self.attribution:
            requires.append(f"Credit: “{self.attribution}”.")
        if self.revenue_split:
            split = ", ".join(f"{share.party} {share.percent:g}%" for share in self.revenue_split)
            requires.append(f"Revenue is shared: {split}.")
        if self.valid_from or self.valid_until:
            start = self.valid_from.isoformat() if self.valid_from else "now"
            end = self.valid_until.isoformat() if self.valid_until else "further notice"
            requires.append(f"Remixes are made between {start} and {end}.")
        if not self.distribute_outside_platform:
            prohibits.append(f"Sharing remixes outside {self.platform}.")
        if not self.commercial_use:
            prohibits.append("Commercial use.")
        if not self.ai_training:
            prohibits.append("Training AI on the stems or the remixes.")
        return {"allows": allows, "requires": requires, "prohibits": prohibits}

    def describe_text(self) -> str:
        words = self.describe()
        lines: list[str] = []
        for heading, key in (("Allowed", "allows"), ("Required", "requires"), ("Prohibited", "prohibits")):
            lines.append(f"{heading}:")
            lines.extend(f"  - {item}" for item in words[key] or ["nothing more"])
        return "\n".join(lines)

    # -- ODRL-shaped JSON ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        constraints: list[dict[str, Any]] = [
            _constraint("tempoRatio", "gteq", self.tempo_ratio.low),
            _constraint("tempoRatio", "lteq", self.tempo_ratio.high),
            _constraint("pitchSemitones", "gteq", self.pitch_semitones.low),
            _constraint("pitchSemitones", "lteq", self.pitch_semitones.high),
            _constraint("audibleStems", "gteq", self.min_audible_stems),
        ]
        if self.allowed_effects is not None:
            constraints.append(_constraint("effectKind", "isAnyOf", list(self.allowed_effects)))
        if self.denied_effects:
            constraints.append(_constraint("effectKind", "isNoneOf", list(self.denied_effects)))
        if self.min_length_s is not None:
            constraints.append(_constraint("outputLength", "gteq", self.min_length_s, unit="s"))
        if self.max_length_s is not None:
            constraints.append(_constraint("outputLength", "lteq", self.max_length_s, unit="s"))
        if self.valid_from:
            constraints.append(_constraint("dateTime", "gteq", self.valid_from.isoformat()))
        if self.valid_until:
            constraints.append(_constraint("dateTime", "lteq", self.valid_until.isoformat()))
        for rule in self.role_rules:
            constraints.append(
                {
                    "leftOperand": "stemRole",
                    "operator": "eq",
                    "rightOperand": rule.role,
                    "fanremix:maySolo": rule.may_solo,
                    "fanremix:mayMute": rule.may_mute,
                    "fanremix:mayExportAlone": rule.may_export_alone,
                    "fanremix:mustStayAudible": rule.must_stay_audible,
                }
            )
        duties: list[dict[str, Any]] = []
        if self.attribution:
            duties.append({"action": "attribute", "fanremix:credit": self.attribution})
        if self.revenue_split:
            duties.append(
                {
                    "action": "compensate",
                    "fanremix:split": [s.to_dict() for s in self.revenue_split],
                }
            )
        prohibitions: list[dict[str, Any]] = []
        if not self.distribute_outside_platform:
            prohibitions.append({"action": "distribute", "constraint": [_constraint("platform", "neq", self.platform)]})
        if not self.commercial_use:
            prohibitions.append({"action": "commercialize"})
        if not self.ai_training:
            prohibitions.append({"action": "fanremix:aiTraining"})
        return {
            "format": self.format,
            "@context": ODRL_CONTEXT,
            "@type": "Offer",
            "uid": self.uid,
            "permission": [{"action": "derive", "constraint": constraints, "duty": duties}],
            "prohibition": prohibitions,
        }

    @classmethod
    def from_dict(cls, raw: Any) -> "Policy":
        data = migrate(raw, kind="policy", current=POLICY_FORMAT, migrations=MIGRATIONS, error=PolicyError)
        uid = data.get("uid")
        if not isinstance(uid, str) or not uid:
            raise PolicyError("The policy needs a 'uid'.")
        permissions = data.get("permission")
        if not isinstance(permissions, list):
            raise PolicyError("The policy needs a 'permission' list.")
        derive = [p for p in permissions if isinstance(p, dict) and p.get("action") == "derive"]
        if len(derive) != 1:
            raise PolicyError("The policy needs exactly one 'derive' permission.")
        values: dict[str, Any] = {"uid": uid}
        bounds: dict[str, dict[str, float]] = {"tempoRatio": {}, "pitchSemitones": {}}
        role_rules: list[RoleRule] = []
        constraints = derive[0].get("constraint", [])
        if not isinstance(constraints, list):
            raise PolicyError("The 'constraint' of the derive permission must be a list.")
        for item in constraints:
            if not isinstance(item, dict):
                raise PolicyError("Each constraint must be an object.")
            left, op, right = item.get("leftOperand"), item.get("operator"), item.get("rightOperand")
            if not isinstance(left, str) or not isinstance(op, str):
                raise PolicyError("Each constraint needs a 'leftOperand' and an 'operator' given as text.")
            where = f"constraint {left} {op}"
            if left in bounds and op in ("gteq", "lteq"):
                bounds[left][op] = _policy_number(right, where)
            elif left == "audibleStems" and op == "gteq":
                values["min_audible_stems"] = int(_policy_number(right, where))
            elif left == "effectKind" and op in ("isAnyOf", "isNoneOf"):
                if not isinstance(right, list) or not all(isinstance(k, str) for k in right):
                    raise PolicyError(f"The {where} needs a list of effect kinds.")
                values["allowed_effects" if op == "isAnyOf" else "denied_effects"] = tuple(right)
            elif left == "outputLength" and op in ("gteq", "lteq"):
                values["min_length_s" if op == "gteq" else "max_length_s"] = _policy_number(right, where)
            elif left == "dateTime" and op in ("gteq", "lteq"):
                values["valid_from" if op == "gteq" else "valid_until"] = _policy_date(right, where)
            elif left == "stemRole" and op == "eq":
                role_rules.append(
                    RoleRule(
                        role=str(right),
                        may_solo=_policy_flag(item.get("fanremix:maySolo", True), where),
                        may_mute=_policy_flag(item.get("fanremix:mayMute", True), where),
                        may_export_alone=_policy_flag(item.get("fanremix:mayExportAlone", True), where),
                        must_stay_audible=_policy_flag(item.get("fanremix:mustStayAudible", False), where),
                    )
                )
            else:
                raise PolicyError(f"Unknown policy constraint: {left} {op}.")
        for left, name in (("tempoRatio", "tempo_ratio"), ("pitchSemitones", "pitch_semitones")):
            if set(bounds[left]) != {"gteq", "lteq"}:
                raise PolicyError(f"The policy needs both a lowest and a highest {left}.")
            values[name] = Range(bounds[left]["gteq"], bounds[left]["lteq"])
        values["role_rules"] = tuple(role_rules)
        duties = derive[0].get("duty", [])
        if not isinstance(duties, list):
            raise PolicyError("The 'duty' list of the derive permission must be a list.")
        for duty in duties:
            action = duty.get("action") if isinstance(duty, dict) else None
            if action == "attribute":
                credit = duty.get("fanremix:credit")
                if not isinstance(credit, str) or not credit.strip():
                    raise PolicyError("The attribute duty needs the credit text.")
                values["attribution"] = credit
            elif action == "compensate":
                split = duty.get("fanremix:split")
                if not isinstance(split, list):
                    raise PolicyError("The compensate duty needs a revenue split.")
                values["revenue_split"] = tuple(
                    Share(party=str(s.get("party", "")), percent=_policy_number(s.get("percent"), "revenue share"))
                    for s in split
                    if isinstance(s, dict)
                )
            else:
                raise PolicyError(f"Unknown duty: {action}.")
        prohibited = set()
        prohibitions = data.get("prohibition", [])
        if not isinstance(prohibitions, list):
            raise PolicyError("'prohibition' must be a list.")
        for item in prohibitions:
            action = item.get("action") if isinstance(item, dict) else None
            if action == "distribute":
                prohibited.add("distribute")
                where = item.get("constraint", [])
                if not isinstance(where, list):
                    raise PolicyError("The 'constraint' of the distribute prohibition must be a list.")
                for constraint in where:
                    if isinstance(constraint, dict) and constraint.get("leftOperand") == "platform":
                        values["platform"] = str(constraint.get("rightOperand", PLATFORM))
            elif action in ("commercialize", "fanremix:aiTraining"):
                prohibited.add(action)
            else:
                raise PolicyError(f"Unknown prohibition: {action}.")
        values["distribute_outside_platform"] = "distribute" not in prohibited
        values["commercial_use"] = "commercialize" not in prohibited
        values["ai_training"] = "fanremix:aiTraining" not in prohibited
        try:
            return cls(**values)
        except (TypeError, ValueError) as exc:
            raise PolicyError(f"The policy is not valid: {exc}.") from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> "Policy":
        try:
            raw = json.loads(text)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nested too deeply
            raise PolicyError(f"The policy is not valid JSON: {exc}.") from None
        return cls.from_dict(raw)

    def policy_hash(self) -> str:
        return sha256_hex(canonical_json(self.to_dict()))

    def with_changes(self, **changes: Any) -> "Policy":
        return replace(self, **changes)


def output_length_s(recipe: Recipe, pack: "PackManifest") -> float:
    """How long the derivative lasts: the region, in the original timeline, divided by the tempo ratio."""
    song = pack.duration_s
    end = song if recipe.region_end_s is None else min(recipe.region_end_s, song)
    return max(0.0, end - recipe.region_start_s) / recipe.tempo_ratio


def _constraint(left: str, operator: str, right: Any, unit: str | None = None) -> dict[str, Any]:
    constraint = {"leftOperand": left, "operator": operator, "rightOperand": right}
    if unit:
        constraint["unit"] = unit
    return constraint


def _policy_number(value: Any, where: str) -> float:
    if not is_finite_number(value):
        raise PolicyError(f"The {where} needs a number, not {value!r}.")
    return float(value)


def _policy_flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise PolicyError(f"The {where} needs true or false, not {value!r}.")
    return value


def _policy_date(value: Any, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise PolicyError(f"The {where} needs a date like 2026-12-31, not {value!r}.") from None


def _semitones(value: float) -> str:
    sign = "+" if value > 0 else ("−" if value < 0 else "±")
    amount = abs(value)
    unit = "semitone" if amount == 1 else "semitones"
    return f"{sign}{amount:g} {unit}"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}"


def _stem_name(stems: dict[str, Any], stem_id: str) -> str:
    stem = stems.get(stem_id)
    return stem.name if stem is not None else stem_id


MIGRATIONS: dict[int, Any] = {}
