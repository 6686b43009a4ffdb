"""The effects registry: every kind the issue lists, wired parameters, audible presets, and clear errors."""

import numpy as np
import pedalboard
import pytest

from fanremix.audio import effects
from fanremix.audio.errors import EffectError
from fanremix.domain.recipe import Effect
from tests.audio.conftest import SAMPLE_RATE, program

ISSUE_KINDS = {
    "Reverb",
    "Delay",
    "Chorus",
    "Phaser",
    "Distortion",
    "Bitcrush",
    "Clipping",
    "Compressor",
    "Limiter",
    "NoiseGate",
    "Gain",
    "HighpassFilter",
    "LowpassFilter",
    "HighShelfFilter",
    "LowShelfFilter",
    "PeakFilter",
    "LadderFilter",
}


@pytest.fixture(scope="module")
def material() -> np.ndarray:
    return np.ascontiguousarray(program(2.0).T)  # channels-first, as pedalboard takes it


def residual_db(processed: np.ndarray, reference: np.ndarray) -> float:
    """How much `processed` differs from `reference`, relative to the reference's energy, in dB."""
    difference = float(np.sum((processed.astype(np.float64) - reference) ** 2))
    return 10 * np.log10(difference / float(np.sum(reference.astype(np.float64) ** 2)) + 1e-30)


def run(chain: list[Effect], audio: np.ndarray) -> np.ndarray:
    return effects.build_chain(chain, SAMPLE_RATE)(audio, SAMPLE_RATE)


def test_the_table_covers_exactly_the_kinds_the_issue_lists() -> None:
    assert set(effects.effect_kinds()) == ISSUE_KINDS


@pytest.mark.parametrize("kind", sorted(ISSUE_KINDS))
def test_every_parameter_of_every_kind_changes_the_signal_measurably(kind: str, material: np.ndarray) -> None:
    base = Effect(kind)
    reference = run([base], material)
    assert residual_db(reference, material) > -80, f"{kind} with its defaults does nothing"
    for param in effects.param_specs(kind):
        if param.is_choice:
            value = next(choice for choice in param.choices if choice != param.default)
        else:  # move the knob to whichever end is further from its default
            far_high = abs(param.maximum - param.default) > abs(param.minimum - param.default)
            value = param.maximum if far_high else param.minimum
        moved = run([base.with_param(param.name, value)], material)
        assert residual_db(moved, reference) > -60, f"{kind}.{param.name} = {value} changes nothing"


@pytest.mark.parametrize("kind", sorted(ISSUE_KINDS))
def test_the_default_preset_changes_the_signal_audibly(kind: str, material: np.ndarray) -> None:
    effect = effects.preset_effect(kind)
    assert effect.preset == effects.effect_spec(kind).default_preset
    # a difference 40 dB below the signal (1 % in amplitude) is the least we call audible
    assert residual_db(run([effect], material), material) > -40


def test_every_preset_is_valid_complete_and_named_for_people() -> None:
    for kind in effects.effect_kinds():
        spec = effects.effect_spec(kind)
        assert len(spec.presets) >= 2, kind
        assert spec.default_preset in spec.preset_names
        for name in spec.preset_names:
            effect = effects.preset_effect(kind, name.lower())  # preset names match without regard to case
            assert effect.preset == name
            resolved = effects.resolve_params(effect)
            assert set(resolved) == {p.name for p in spec.params}
        for param in spec.params:
            assert param.label and param.unit is not None
            if not param.is_choice:
                assert param.minimum <= param.default <= param.maximum, f"{kind}.{param.name}"


def test_named_presets_from_the_issue_exist() -> None:
    assert {"Room", "Hall", "Plate"} <= set(effects.preset_names("Reverb"))
    assert {"Slapback", "Echo"} <= set(effects.preset_names("Delay"))


def test_a_bare_effect_sounds_like_its_default_preset(material: np.ndarray) -> None:
    bare = run([Effect("Reverb")], material)
    preset = run([effects.preset_effect("Reverb")], material)
    assert np.array_equal(bare, preset)


def test_build_chain_keeps_the_order_and_leaves_bypassed_effects_out(material: np.ndarray) -> None:
    chain = [Effect.of("Gain", gain_db=-6.0), Effect("Reverb", bypassed=True), Effect.of("Clipping", threshold_db=-20)]
    board = effects.build_chain(chain, SAMPLE_RATE)
    assert [type(p) for p in board] == [pedalboard.Gain, pedalboard.Clipping]
    expected = pedalboard.Pedalboard([pedalboard.Gain(-6.0), pedalboard.Clipping(-20.0)])(material, SAMPLE_RATE)
    assert np.array_equal(board(material, SAMPLE_RATE), expected)


def test_a_bypassed_effect_is_still_checked() -> None:
    with pytest.raises(EffectError, match="room_size"):
        effects.build_chain([Effect("Reverb", params=(("room_size", 3.0),), bypassed=True)])


def test_unknown_kind_names_the_kinds_and_suggests_the_spelling() -> None:
    with pytest.raises(EffectError) as caught:
        effects.build_plugin(Effect("reverb"))
    message = str(caught.value)
    assert "Unknown effect kind 'reverb'" in message
    assert "Did you mean 'Reverb'" in message
    assert "LadderFilter" in message
    with pytest.raises(EffectError, match="Unknown effect kind 'Flanger'"):
        effects.build_plugin(Effect("Flanger"))


def test_unknown_parameter_names_the_effect_and_its_parameters() -> None:
    with pytest.raises(EffectError) as caught:
        effects.build_chain([Effect.of("Delay", delay_ms=300)], where="stem 'vocals'")
    message = str(caught.value)
    assert "Delay on stem 'vocals'" in message
    assert "no parameter 'delay_ms'" in message
    assert "delay_seconds" in message


@pytest.mark.parametrize(
    ("effect", "fragments"),
    [
        (Effect.of("Reverb", room_size=1.5), ["Reverb", "room_size", "1.5", "0 to 1"]),
        (Effect.of("Compressor", ratio=0.5), ["Compressor", "ratio", "0.5", "1 to 20"]),
        (
            Effect.of("HighpassFilter", cutoff_frequency_hz=5.0),
            ["HighpassFilter", "cutoff_frequency_hz", "5", "20 to 20000 Hz"],
        ),
        (Effect.of("Delay", feedback=1.0), ["Delay", "feedback", "0 to 0.95"]),
        (Effect.of("Gain", gain_db=float("nan")), ["Gain", "gain_db", "nan"]),
        (Effect.of("Gain", gain_db=True), ["Gain", "gain_db", "must be a number"]),
        (Effect.of("Gain", gain_db="loud"), ["Gain", "gain_db", "must be a number"]),
        (Effect.of("LadderFilter", mode="notch"), ["LadderFilter", "mode", "'notch'", "LPF24"]),
    ],
)
def test_out_of_range_or_mistyped_values_are_refused_with_the_range(effect: Effect, fragments: list[str]) -> None:
    with pytest.raises(EffectError) as caught:
        effects.build_plugin(effect)
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_unknown_preset_lists_the_presets() -> None:
    with pytest.raises(EffectError, match=r"Reverb has no preset 'Cave'.*Room, Hall, Plate"):
        effects.preset_effect("Reverb", "Cave")


def test_find_kind_accepts_what_people_type() -> None:
    assert effects.find_kind("reverb") == "Reverb"
    assert effects.find_kind("High-pass filter") == "HighpassFilter"
    assert effects.find_kind("noise gate") == "NoiseGate"
    assert effects.find_kind("flanger") is None


def test_frequencies_stay_below_nyquist_in_a_low_sample_rate_pack() -> None:
    plugin = effects.build_plugin(Effect.of("LowpassFilter", cutoff_frequency_hz=20_000.0), sample_rate=32_000)
    assert plugin.cutoff_frequency_hz == pytest.approx(0.45 * 32_000)
    noise = np.random.default_rng(3).standard_normal((2, 32_000)).astype(np.float32) * 0.1
    assert np.isfinite(plugin(noise, 32_000)).all()


def test_apply_params_retunes_a_plugin_and_keeps_its_state(material: np.ndarray) -> None:
    reverb = effects.build_plugin(effects.preset_effect("Reverb", "Hall"))
    reverb(material[:, :22050], SAMPLE_RATE, reset=False)
    effects.apply_params(reverb, effects.preset_effect("Reverb", "Hall").with_param("wet_level", 0.5))
    assert reverb.wet_level == pytest.approx(0.5)
    tail = reverb(np.zeros((2, 4410), dtype=np.float32), SAMPLE_RATE, reset=False)
    assert np.max(np.abs(tail)) > 1e-3  # the hall is still ringing: nothing was reset
    with pytest.raises(EffectError, match="Cannot apply Delay parameters"):
        effects.apply_params(reverb, Effect("Delay"))
