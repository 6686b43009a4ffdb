import json

import pytest

from fanremix.domain.errors import RecipeError
from fanremix.domain.recipe import MASTER, Effect, Recipe, StemMix


def full_recipe() -> Recipe:
    return Recipe(
        pack_id="p",
        pack_hash="h" * 64,
        stems=(
            StemMix("vocals", gain_db=-3.5, pan=-0.25, chain=(Effect.of("Reverb", room_size=0.8, wet_level=0.3),)),
            StemMix("drums", mute=True),
            StemMix(
                "bass", solo=True, chain=(Effect.of("Compressor", threshold_db=-20), Effect("Gain", bypassed=True))
            ),
        ),
        master=(Effect.of("Limiter", threshold_db=-1.0, release_ms=100, preset="Safe"),),
        tempo_ratio=1.1,
        pitch_semitones=-2,
        region_start_s=10,
        region_end_s=70.5,
        fade_in_s=1,
        fade_out_s=2.5,
        loudness_lufs=-16,
        app_version="0.1.0",
    )


def test_recipe_round_trips_through_json_exactly() -> None:
    recipe = full_recipe()
    again = Recipe.from_json(recipe.to_json())
    assert again == recipe
    assert again.to_dict() == recipe.to_dict()
    assert again.recipe_hash() == recipe.recipe_hash()


def test_recipe_hash_is_stable_and_sensitive() -> None:
    recipe = full_recipe()
    assert recipe.recipe_hash() == full_recipe().recipe_hash()
    assert recipe.with_stem("vocals", gain_db=-3.4).recipe_hash() != recipe.recipe_hash()
    # the app version does not change the audio, so it does not change the hash
    assert Recipe.from_dict({**recipe.to_dict(), "app_version": "9"}).recipe_hash() == recipe.recipe_hash()


def test_ints_and_floats_hash_alike() -> None:
    a = Recipe.for_stems("p", "h", ["a"], tempo_ratio=1)
    b = Recipe.for_stems("p", "h", ["a"], tempo_ratio=1.0)
    assert a.recipe_hash() == b.recipe_hash()


def test_no_normalisation_round_trips() -> None:
    recipe = Recipe.for_stems("p", "h", ["a"], loudness_lufs=None)
    assert Recipe.from_json(recipe.to_json()).loudness_lufs is None


def test_edits_return_new_recipes() -> None:
    recipe = full_recipe()
    louder = recipe.with_stem("drums", gain_db=6.0)
    assert louder.stem("drums").gain_db == 6.0 and recipe.stem("drums").gain_db == 0.0
    assert recipe.with_chain(MASTER, ()).master == ()
    with pytest.raises(RecipeError, match="no stem 'nope'"):
        recipe.with_stem("nope", gain_db=1)


def test_audible_stems_follow_mute_solo_and_silence() -> None:
    recipe = Recipe.for_stems("p", "h", ["a", "b", "c"])
    assert recipe.audible_stem_ids() == ("a", "b", "c")
    assert recipe.with_stem("a", mute=True).audible_stem_ids() == ("b", "c")
    assert recipe.with_stem("b", solo=True).audible_stem_ids() == ("b",)
    assert recipe.with_stem("c", gain_db=-90).audible_stem_ids() == ("a", "b")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format=99), "format 99"),
        (lambda d: d.pop("format"), "format"),
        (lambda d: d.update(pack="x"), "must name its pack"),
        (lambda d: d.update(tempo_ratio=0), "above zero"),
        (lambda d: d.update(tempo_ratio="fast"), "finite number"),
        (lambda d: d["stems"][0].update(pan=2), "between -1"),
        (lambda d: d["stems"][0].update(mute="yes"), "true or false"),
        (lambda d: d["stems"].append(dict(d["stems"][0])), "more than once"),
        (lambda d: d.update(region={"start_s": 5, "end_s": 1}), "before it starts"),
        (lambda d: d["master"].append({"params": {}}), "kind"),
    ],
)
def test_malformed_recipes_raise_typed_errors(change, message) -> None:
    data = json.loads(full_recipe().to_json())
    change(data)
    with pytest.raises(RecipeError, match=message):
        Recipe.from_dict(data)


def test_bad_json_is_a_recipe_error() -> None:
    with pytest.raises(RecipeError, match="not valid JSON"):
        Recipe.from_json("{nope")


def test_migration_hook_upgrades_old_formats(monkeypatch) -> None:
    from fanremix.domain import recipe as recipe_module

    monkeypatch.setattr(recipe_module, "RECIPE_FORMAT", 2)
    monkeypatch.setitem(recipe_module.MIGRATIONS, 1, lambda d: {**d, "tempo_ratio": d.get("tempo_ratio", 1.0)})
    upgraded = recipe_module.migrate(
        full_recipe().to_dict(), kind="recipe", current=2, migrations=recipe_module.MIGRATIONS
    )
    assert upgraded["format"] == 2
