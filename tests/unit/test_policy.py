import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import pytest

from fanremix.domain import policy_templates
from fanremix.domain.errors import PolicyError
from fanremix.domain.policy import Policy, Range, RoleRule, Share, Use
from fanremix.domain.recipe import Effect, Recipe
from fanremix.domain.stem_pack import PackManifest, Stem

SR = 44100


def manifest(policy: Policy, seconds: float = 90.0) -> PackManifest:
    stems = tuple(
        Stem(
            id=role,
            name=role.title(),
            role=role,
            file=f"{role}.flac",
            sha256="0" * 64,
            channels=2,
            frames=int(seconds * SR),
        )
        for role in ("vocals", "drums", "bass", "keys")
    )
    return PackManifest(
        id="song", title="Song", artists=("A",), isrc=None, bpm=120, key="A minor", sample_rate=SR,
        rightsholders=(), stems=stems, policy=policy,
    )  # fmt: skip


def strict_policy() -> Policy:
    return Policy(
        uid="urn:test",
        tempo_ratio=Range(0.8, 1.25),
        pitch_semitones=Range(-3, 3),
        allowed_effects=("Reverb", "Delay", "Distortion"),
        denied_effects=("Bitcrush",),
        role_rules=(
            RoleRule("vocals", may_solo=False, may_export_alone=False),
            RoleRule("drums", may_mute=False),
            RoleRule("bass", must_stay_audible=True),
        ),
        min_audible_stems=3,
        min_length_s=30,
        max_length_s=100,
        valid_from=dt.date(2026, 1, 1),
        valid_until=dt.date(2026, 12, 31),
        attribution="Credit me",
        revenue_split=(Share("Label", 60), Share("Fan", 40)),
    )


TODAY = dt.date(2026, 6, 1)


def base_recipe(pack: PackManifest) -> Recipe:
    return Recipe.for_stems(pack.id, pack.pack_hash(), [s.id for s in pack.stems])


def codes(policy: Policy, recipe: Recipe, pack: PackManifest, **kwargs) -> list[str]:
    return [v.code for v in policy.check(recipe, pack, today=kwargs.pop("today", TODAY), **kwargs)]


def test_a_plain_recipe_passes() -> None:
    policy = strict_policy()
    pack = manifest(policy)
    assert policy.check(base_recipe(pack), pack, today=TODAY, use=Use()) == []


@pytest.mark.parametrize(
    ("edit", "code", "words"),
    [
        (lambda r: replace(r, **{"pack_id": "other"}), "recipe.wrong_pack", "made for pack 'other'"),
        (lambda r: replace(r, **{"pack_hash": "x"}), "recipe.pack_changed", "different version"),
        (
            lambda r: replace(r, **{"stems": (*r.stems, r.stems[0].__class__("ghost"))}),
            "recipe.unknown_stem",
            "no stem 'ghost'",
        ),
        (lambda r: replace(r, **{"tempo_ratio": 0.5}), "tempo.below_min", "Tempo 0.50× is below the 0.80×"),
        (lambda r: replace(r, **{"tempo_ratio": 1.4}), "tempo.above_max", "Tempo 1.40× is above the 1.25×"),
        (lambda r: replace(r, **{"pitch_semitones": -5}), "pitch.below_min", "−5 semitones is lower"),
        (lambda r: replace(r, **{"pitch_semitones": 4}), "pitch.above_max", "+4 semitones is higher"),
        (lambda r: r.with_chain("keys", [Effect("Bitcrush")]), "effect.not_allowed", "Bitcrush effect on Keys"),
        (lambda r: r.with_chain("master", [Effect("Chorus")]), "effect.not_allowed", "Chorus effect on the master"),
        (lambda r: r.with_stem("vocals", solo=True).with_stem("bass", solo=True).with_stem("drums", solo=True),
         "role.solo_forbidden", "Vocals (vocals) may not be soloed"),
        (lambda r: r.with_stem("drums", mute=True), "role.mute_forbidden", "may not be muted"),
        (lambda r: r.with_stem("bass", gain_db=-80), "role.must_stay_audible", "must stay audible"),
        (lambda r: r.with_stem("drums", gain_db=-80).with_stem("bass", gain_db=-80).with_stem("keys", mute=True),
         "role.alone_forbidden", "vocals may not be heard on their own"),
        (lambda r: r.with_stem("keys", mute=True).with_stem("vocals", mute=True), "stems.too_few_audible",
         "Only 2 of the original stems"),
        (lambda r: replace(r, **{"region_end_s": 20.0}), "length.too_short", "would last 0:20"),
        (lambda r: replace(r, **{"tempo_ratio": 0.8, "region_start_s": 0.0}), "length.too_long",
         "allows at most 1:40"),
    ],
)  # fmt: skip
def test_each_violation_has_its_code_and_words(edit, code, words) -> None:
    policy = strict_policy()
    pack = manifest(policy)
    violations = policy.check(edit(base_recipe(pack)), pack, today=TODAY)
    found = {v.code: v.message for v in violations}
    assert code in found, violations
    assert words in found[code]


def test_validity_dates() -> None:
    policy = strict_policy()
    pack = manifest(policy)
    assert codes(policy, base_recipe(pack), pack, today=dt.date(2025, 12, 31)) == ["policy.not_yet_valid"]
    assert codes(policy, base_recipe(pack), pack, today=dt.date(2027, 1, 1)) == ["policy.expired"]


def test_prohibited_uses() -> None:
    policy = strict_policy()
    pack = manifest(policy)
    recipe = base_recipe(pack)
    assert codes(policy, recipe, pack, use=Use(distribution="external")) == ["use.distribution_prohibited"]
    assert codes(policy, recipe, pack, use=Use(commercial=True)) == ["use.commercial_prohibited"]
    assert codes(policy, recipe, pack, use=Use(ai_training=True)) == ["use.ai_training_prohibited"]
    open_policy = policy_templates.open_remix()
    assert codes(open_policy, recipe, manifest(open_policy), use=Use(distribution="external")) == [
        "recipe.pack_changed"
    ]


def test_bypassed_effects_are_not_violations() -> None:
    policy = strict_policy()
    pack = manifest(policy)
    assert codes(policy, base_recipe(pack).with_chain("keys", [Effect("Bitcrush", bypassed=True)]), pack) == []


def test_every_code_is_covered_by_these_tests() -> None:
    import inspect
    import re

    from fanremix.domain import policy as module

    declared = set(re.findall(r'Violation\(\s*"([a-z_.]+)"', inspect.getsource(module)))
    tested = set(re.findall(r'"([a-z]+\.[a-z_]+)"', Path(__file__).read_text("utf-8")))
    assert declared <= tested, declared - tested


@pytest.mark.parametrize("name", sorted(policy_templates.TEMPLATES))
def test_policies_round_trip(name) -> None:
    policy = policy_templates.from_template(name)
    assert Policy.from_json(policy.to_json()) == policy
    assert Policy.from_dict(json.loads(json.dumps(strict_policy().to_dict()))) == strict_policy()


def test_policy_json_is_odrl_shaped() -> None:
    data = strict_policy().to_dict()
    assert data["@context"] == "http://www.w3.org/ns/odrl.jsonld"
    assert data["permission"][0]["action"] == "derive"
    assert {d["action"] for d in data["permission"][0]["duty"]} == {"attribute", "compensate"}
    assert {p["action"] for p in data["prohibition"]} == {"distribute", "commercialize", "fanremix:aiTraining"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"revenue_split": (Share("a", 60), Share("b", 30))}, "adds up to 90%"),
        ({"tempo_ratio": Range(0, 1)}, "above zero"),
        ({"allowed_effects": ("Reverb",), "denied_effects": ("Reverb",)}, "both allowed and denied"),
        ({"min_length_s": 100, "max_length_s": 10}, "shortest allowed length"),
        ({"role_rules": (RoleRule("vocals"), RoleRule("vocals"))}, "more than one rule"),
    ],
)
def test_contradictory_policies_are_refused(kwargs, message) -> None:
    with pytest.raises(PolicyError, match=message):
        Policy(uid="x", **kwargs)


def test_unknown_constraint_is_refused() -> None:
    data = strict_policy().to_dict()
    data["permission"][0]["constraint"].append({"leftOperand": "moonPhase", "operator": "eq", "rightOperand": 1})
    with pytest.raises(PolicyError, match="Unknown policy constraint"):
        Policy.from_dict(data)


def test_policy_in_words() -> None:
    words = policy_templates.demo().describe()
    assert "Change the tempo from 0.80× to 1.25×." in words["allows"]
    assert "Soloing the vocals." in words["prohibits"]
    assert any("Credit" in line for line in words["requires"])
