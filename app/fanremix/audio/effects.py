"""The effects registry: one table from effect kind to pedalboard class, its parameters and its presets.

Everything the app knows about an effect lives in `EFFECTS`: the GUI builds its knobs from `ParamSpec` (range,
default, unit, label, scale), the CLI and the GUI offer the named presets, the policy speaks of the same kind names,
and the render graph builds plugins with `build_plugin` / `build_chain`. A recipe names an effect by its exact
kind (``"Reverb"``, not ``"reverb"``): the policy compares kinds as written, so the engine accepts only the
canonical spelling; `find_kind` maps what a person typed to it.

A parameter a recipe leaves out takes its default, and each kind's defaults are its default preset, so a bare
``Effect("Reverb")`` sounds like the "Room" preset rather than doing nothing.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pedalboard

from fanremix.domain.recipe import Effect, ParamValue

from .errors import EffectError

# Cut-off and centre frequencies are kept below this fraction of the sample rate when a plugin is built: a filter
# tuned above Nyquist is unstable (pedalboard returns inf), and a 20 kHz setting is legitimate in a 44.1 kHz pack
# but not in a 32 kHz one.
MAX_FREQUENCY_OF_SAMPLE_RATE = 0.45


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of an effect kind, as the GUI shows it and the engine checks it."""

    name: str  # the pedalboard attribute
    label: str
    unit: str  # "dB", "Hz", "ms", "s", or "" for a 0–1 amount or a plain number
    minimum: float = 0.0
    maximum: float = 1.0
    default: float | str = 0.0
    choices: tuple[str, ...] = ()  # for a parameter that picks one of a few modes
    scale: str = "linear"  # "linear" or "log": how a knob should move
    is_frequency: bool = False

    @property
    def is_choice(self) -> bool:
        return bool(self.choices)

    def check(self, value: ParamValue, effect_label: str) -> float | str:
        """The value as the plugin takes it, or EffectError naming the effect, parameter, value and what is allowed."""
        where = f"{effect_label}: parameter '{self.name}' ({self.label})"
        if self.is_choice:
            if not isinstance(value, str) or value not in self.choices:
                raise EffectError(f"{where} is {value!r}; it must be one of {', '.join(self.choices)}.")
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise EffectError(f"{where} must be a number, not {value!r}.")
        number = float(value)
        if not math.isfinite(number) or not self.minimum <= number <= self.maximum:
            unit = f" {self.unit}" if self.unit else ""
            raise EffectError(
                f"{where} is {value!r}{unit}, outside its range {self.minimum:g} to {self.maximum:g}{unit}."
            )
        return number


@dataclass(frozen=True)
class Preset:
    name: str
    params: tuple[tuple[str, ParamValue], ...]

    @property
    def param_dict(self) -> dict[str, ParamValue]:
        return dict(self.params)


@dataclass(frozen=True)
class EffectSpec:
    kind: str
    label: str
    description: str
    plugin_class: type
    params: tuple[ParamSpec, ...]
    presets: tuple[Preset, ...]
    default_preset: str
    _by_name: dict[str, ParamSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {p.name: p for p in self.params})

    def param(self, name: str) -> ParamSpec:
        try:
            return self._by_name[name]
        except KeyError:
            raise EffectError(
                f"{self.kind} has no parameter '{name}'. Its parameters are: {', '.join(self._by_name)}."
            ) from None

    def preset(self, name: str) -> Preset:
        for preset in self.presets:
            if preset.name.lower() == name.lower():
                return preset
        raise EffectError(
            f"{self.kind} has no preset '{name}'. Its presets are: {', '.join(p.name for p in self.presets)}."
        )

    @property
    def preset_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.presets)

    @property
    def defaults(self) -> dict[str, float | str]:
        return {p.name: p.default for p in self.params}


# -- the table ------------------------------------------------------------------------------------------------------


def _amount(name: str, label: str, default: float, low: float = 0.0, high: float = 1.0) -> ParamSpec:
    return ParamSpec(name, label, "", low, high, default)


def _db(name: str, label: str, low: float, high: float, default: float) -> ParamSpec:
    return ParamSpec(name, label, "dB", low, high, default)


def _hz(name: str, label: str, default: float, low: float = 20.0, high: float = 20_000.0) -> ParamSpec:
    return ParamSpec(name, label, "Hz", low, high, default, scale="log", is_frequency=True)


def _ms(name: str, label: str, low: float, high: float, default: float) -> ParamSpec:
    return ParamSpec(name, label, "ms", low, high, default, scale="log")


def _spec(
    kind: str,
    label: str,
    description: str,
    plugin_class: type,
    params: Iterable[ParamSpec],
    presets: Mapping[str, Mapping[str, ParamValue]],
    default_preset: str,
) -> EffectSpec:
    """Build one row; the parameters' defaults are taken from the default preset, so the two cannot disagree."""
    params = tuple(params)
    preset_rows = tuple(Preset(name, tuple(sorted(values.items()))) for name, values in presets.items())
    chosen = dict(presets[default_preset])
    params = tuple(ParamSpec(**{**p.__dict__, "default": chosen[p.name]}) if p.name in chosen else p for p in params)
    return EffectSpec(kind, label, description, plugin_class, params, preset_rows, default_preset)


_LADDER_MODES = ("LPF12", "HPF12", "BPF12", "LPF24", "HPF24", "BPF24")

EFFECTS: dict[str, EffectSpec] = {
    spec.kind: spec
    for spec in (
        _spec(
            "Reverb",
            "Reverb",
            "Places the sound in a room, hall or plate.",
            pedalboard.Reverb,
            (
                _amount("room_size", "Room size", 0.5),
                _amount("damping", "Damping", 0.5),
                _amount("wet_level", "Wet level", 0.33),
                _amount("dry_level", "Dry level", 0.4),
                _amount("width", "Stereo width", 1.0),
                _amount("freeze_mode", "Freeze", 0.0),
            ),
            {
                "Room": {"room_size": 0.35, "damping": 0.6, "wet_level": 0.22, "dry_level": 0.8, "width": 0.8},
                "Hall": {"room_size": 0.85, "damping": 0.35, "wet_level": 0.35, "dry_level": 0.7, "width": 1.0},
                "Plate": {"room_size": 0.6, "damping": 0.15, "wet_level": 0.3, "dry_level": 0.75, "width": 1.0},
            },
            "Room",
        ),
        _spec(
            "Delay",
            "Delay",
            "Repeats the sound after a delay, with feedback for more echoes.",
            pedalboard.Delay,
            (
                ParamSpec("delay_seconds", "Delay time", "s", 0.001, 2.0, 0.5, scale="log"),
                _amount("feedback", "Feedback", 0.0, 0.0, 0.95),
                _amount("mix", "Mix", 0.5),
            ),
            {
                "Slapback": {"delay_seconds": 0.09, "feedback": 0.0, "mix": 0.3},
                "Echo": {"delay_seconds": 0.32, "feedback": 0.35, "mix": 0.3},
                "Long Echo": {"delay_seconds": 0.6, "feedback": 0.5, "mix": 0.35},
            },
            "Echo",
        ),
        _spec(
            "Chorus",
            "Chorus",
            "Thickens the sound with slightly detuned, moving copies.",
            pedalboard.Chorus,
            (
                ParamSpec("rate_hz", "Rate", "Hz", 0.01, 20.0, 1.0, scale="log"),
                _amount("depth", "Depth", 0.25),
                _ms("centre_delay_ms", "Centre delay", 1.0, 50.0, 7.0),
                _amount("feedback", "Feedback", 0.0, -0.95, 0.95),
                _amount("mix", "Mix", 0.5),
            ),
            {
                "Subtle": {"rate_hz": 0.8, "depth": 0.2, "centre_delay_ms": 7.0, "feedback": 0.0, "mix": 0.35},
                "Wide": {"rate_hz": 1.2, "depth": 0.4, "centre_delay_ms": 10.0, "feedback": 0.1, "mix": 0.5},
                "Vibrato": {"rate_hz": 5.0, "depth": 0.3, "centre_delay_ms": 3.0, "feedback": 0.0, "mix": 1.0},
            },
            "Subtle",
        ),
        _spec(
            "Phaser",
            "Phaser",
            "Sweeps notches through the spectrum for a swirling sound.",
            pedalboard.Phaser,
            (
                ParamSpec("rate_hz", "Rate", "Hz", 0.01, 20.0, 1.0, scale="log"),
                _amount("depth", "Depth", 0.5),
                _hz("centre_frequency_hz", "Centre frequency", 1300.0, 50.0, 10_000.0),
                _amount("feedback", "Feedback", 0.0, -0.95, 0.95),
                _amount("mix", "Mix", 0.5),
            ),
            {
                "Slow Sweep": {
                    "rate_hz": 0.3,
                    "depth": 0.6,
                    "centre_frequency_hz": 1000.0,
                    "feedback": 0.3,
                    "mix": 0.5,
                },
                "Fast": {"rate_hz": 2.5, "depth": 0.5, "centre_frequency_hz": 1300.0, "feedback": 0.2, "mix": 0.5},
                "Jet": {"rate_hz": 0.15, "depth": 1.0, "centre_frequency_hz": 800.0, "feedback": 0.8, "mix": 0.6},
            },
            "Slow Sweep",
        ),
        _spec(
            "Distortion",
            "Distortion",
            "Drives the sound into soft saturation.",
            pedalboard.Distortion,
            (_db("drive_db", "Drive", 0.0, 60.0, 25.0),),
            {"Warm": {"drive_db": 8.0}, "Crunch": {"drive_db": 18.0}, "Fuzz": {"drive_db": 35.0}},
            "Crunch",
        ),
        _spec(
            "Bitcrush",
            "Bitcrush",
            "Reduces the bit depth for a lo-fi, digital grit.",
            pedalboard.Bitcrush,
            (ParamSpec("bit_depth", "Bit depth", "bits", 1.0, 24.0, 8.0),),
            {"Lo-fi": {"bit_depth": 12.0}, "8-bit": {"bit_depth": 8.0}, "Crushed": {"bit_depth": 4.0}},
            "8-bit",
        ),
        _spec(
            "Clipping",
            "Hard clip",
            "Cuts off every peak above a threshold.",
            pedalboard.Clipping,
            (_db("threshold_db", "Threshold", -40.0, 0.0, -6.0),),
            {"Edge": {"threshold_db": -3.0}, "Hard": {"threshold_db": -9.0}, "Brutal": {"threshold_db": -18.0}},
            "Hard",
        ),
        _spec(
            "Compressor",
            "Compressor",
            "Evens out the level: turns down what rises above the threshold.",
            pedalboard.Compressor,
            (
                _db("threshold_db", "Threshold", -60.0, 0.0, 0.0),
                ParamSpec("ratio", "Ratio", ":1", 1.0, 20.0, 1.0, scale="log"),
                _ms("attack_ms", "Attack", 0.1, 200.0, 1.0),
                _ms("release_ms", "Release", 5.0, 2000.0, 100.0),
            ),
            {
                "Gentle": {"threshold_db": -18.0, "ratio": 2.0, "attack_ms": 15.0, "release_ms": 200.0},
                "Punchy": {"threshold_db": -22.0, "ratio": 4.0, "attack_ms": 5.0, "release_ms": 120.0},
                "Squash": {"threshold_db": -32.0, "ratio": 10.0, "attack_ms": 1.0, "release_ms": 60.0},
            },
            "Gentle",
        ),
        _spec(
            "Limiter",
            "Limiter",
            "Holds peaks under a threshold and raises the rest.",
            pedalboard.Limiter,
            (_db("threshold_db", "Threshold", -30.0, 0.0, -10.0), _ms("release_ms", "Release", 1.0, 1000.0, 100.0)),
            {
                "Safety": {"threshold_db": -1.0, "release_ms": 100.0},
                "Loud": {"threshold_db": -6.0, "release_ms": 60.0},
                "Smash": {"threshold_db": -12.0, "release_ms": 30.0},
            },
            "Loud",
        ),
        _spec(
            "NoiseGate",
            "Noise gate",
            "Silences the sound while it stays below a threshold.",
            pedalboard.NoiseGate,
            (
                _db("threshold_db", "Threshold", -100.0, 0.0, -100.0),
                ParamSpec("ratio", "Ratio", ":1", 1.0, 100.0, 10.0, scale="log"),
                _ms("attack_ms", "Attack", 0.1, 200.0, 1.0),
                _ms("release_ms", "Release", 5.0, 2000.0, 100.0),
            ),
            {
                "Gentle": {"threshold_db": -50.0, "ratio": 2.0, "attack_ms": 2.0, "release_ms": 150.0},
                "Tight": {"threshold_db": -35.0, "ratio": 10.0, "attack_ms": 1.0, "release_ms": 60.0},
                "Chop": {"threshold_db": -20.0, "ratio": 20.0, "attack_ms": 0.5, "release_ms": 30.0},
            },
            "Tight",
        ),
        _spec(
            "Gain",
            "Gain",
            "Turns the sound up or down.",
            pedalboard.Gain,
            (_db("gain_db", "Gain", -60.0, 24.0, 0.0),),
            {"Boost": {"gain_db": 6.0}, "Cut": {"gain_db": -6.0}},
            "Boost",
        ),
        _spec(
            "HighpassFilter",
            "High-pass filter",
            "Removes what lies below the cut-off frequency.",
            pedalboard.HighpassFilter,
            (_hz("cutoff_frequency_hz", "Cut-off", 50.0),),
            {
                "Rumble Cut": {"cutoff_frequency_hz": 80.0},
                "Thin": {"cutoff_frequency_hz": 300.0},
                "Telephone": {"cutoff_frequency_hz": 900.0},
            },
            "Thin",
        ),
        _spec(
            "LowpassFilter",
            "Low-pass filter",
            "Removes what lies above the cut-off frequency.",
            pedalboard.LowpassFilter,
            (_hz("cutoff_frequency_hz", "Cut-off", 50.0),),
            {
                "Warm": {"cutoff_frequency_hz": 8000.0},
                "Muffled": {"cutoff_frequency_hz": 1200.0},
                "Underwater": {"cutoff_frequency_hz": 400.0},
            },
            "Muffled",
        ),
        _spec(
            "HighShelfFilter",
            "High shelf",
            "Raises or lowers everything above the corner frequency.",
            pedalboard.HighShelfFilter,
            (
                _hz("cutoff_frequency_hz", "Corner", 440.0),
                _db("gain_db", "Gain", -24.0, 24.0, 0.0),
                ParamSpec("q", "Q", "", 0.1, 10.0, 0.7071, scale="log"),
            ),
            {
                "Air": {"cutoff_frequency_hz": 8000.0, "gain_db": 5.0, "q": 0.7071},
                "Dark": {"cutoff_frequency_hz": 3000.0, "gain_db": -8.0, "q": 0.7071},
            },
            "Air",
        ),
        _spec(
            "LowShelfFilter",
            "Low shelf",
            "Raises or lowers everything below the corner frequency.",
            pedalboard.LowShelfFilter,
            (
                _hz("cutoff_frequency_hz", "Corner", 440.0),
                _db("gain_db", "Gain", -24.0, 24.0, 0.0),
                ParamSpec("q", "Q", "", 0.1, 10.0, 0.7071, scale="log"),
            ),
            {
                "Warmth": {"cutoff_frequency_hz": 200.0, "gain_db": 5.0, "q": 0.7071},
                "Lean": {"cutoff_frequency_hz": 250.0, "gain_db": -8.0, "q": 0.7071},
            },
            "Warmth",
        ),
        _spec(
            "PeakFilter",
            "Peak EQ",
            "Raises or lowers a band around the centre frequency.",
            pedalboard.PeakFilter,
            (
                _hz("cutoff_frequency_hz", "Centre", 440.0),
                _db("gain_db", "Gain", -24.0, 24.0, 0.0),
                ParamSpec("q", "Q", "", 0.1, 20.0, 0.7071, scale="log"),
            ),
            {
                "Presence": {"cutoff_frequency_hz": 3000.0, "gain_db": 5.0, "q": 1.0},
                "Mud Cut": {"cutoff_frequency_hz": 300.0, "gain_db": -6.0, "q": 1.4},
                "Honk": {"cutoff_frequency_hz": 800.0, "gain_db": 6.0, "q": 2.0},
            },
            "Presence",
        ),
        _spec(
            "LadderFilter",
            "Ladder filter",
            "A resonant analogue-style filter (Moog ladder).",
            pedalboard.LadderFilter,
            (
                ParamSpec("mode", "Mode", "", default="LPF12", choices=_LADDER_MODES),
                _hz("cutoff_hz", "Cut-off", 200.0),
                _amount("resonance", "Resonance", 0.0),
                ParamSpec("drive", "Drive", "", 1.0, 20.0, 1.0, scale="log"),
            ),
            {
                "Acid": {"mode": "LPF24", "cutoff_hz": 900.0, "resonance": 0.7, "drive": 2.0},
                "Warm Low-pass": {"mode": "LPF12", "cutoff_hz": 3000.0, "resonance": 0.2, "drive": 1.0},
                "Band-pass": {"mode": "BPF12", "cutoff_hz": 1000.0, "resonance": 0.4, "drive": 1.0},
            },
            "Acid",
        ),
    )
}


# -- queries (what the GUI and the CLI use) -------------------------------------------------------------------------


def effect_kinds() -> tuple[str, ...]:
    return tuple(EFFECTS)


def effect_spec(kind: str) -> EffectSpec:
    try:
        return EFFECTS[kind]
    except KeyError:
        hint = ""
        canonical = find_kind(kind) if isinstance(kind, str) else None
        if canonical:
            hint = f" Did you mean '{canonical}'? Kinds are written exactly as listed."
        raise EffectError(f"Unknown effect kind '{kind}'.{hint} Known kinds: {', '.join(EFFECTS)}.") from None


def find_kind(name: str) -> str | None:
    """The canonical kind for what a person typed ("reverb", "high-pass filter"), or None."""
    wanted = "".join(c for c in name.lower() if c.isalnum())
    for spec in EFFECTS.values():
        if wanted in (
            "".join(c for c in spec.kind.lower() if c.isalnum()),
            "".join(c for c in spec.label.lower() if c.isalnum()),
        ):
            return spec.kind
    return None


def param_specs(kind: str) -> tuple[ParamSpec, ...]:
    return effect_spec(kind).params


def preset_names(kind: str) -> tuple[str, ...]:
    return effect_spec(kind).preset_names


def preset_effect(kind: str, preset: str | None = None) -> Effect:
    """An Effect carrying every parameter of the named preset (the kind's default preset when None)."""
    spec = effect_spec(kind)
    chosen = spec.preset(preset or spec.default_preset)
    return Effect(kind=spec.kind, params=chosen.params, preset=chosen.name)


def resolve_params(effect: Effect, where: str | None = None) -> dict[str, float | str]:
    """Every parameter of `effect`, checked, with defaults filled in. Raises EffectError naming what is wrong."""
    spec = effect_spec(effect.kind)
    label = spec.kind if where is None else f"{spec.kind} on {where}"
    values: dict[str, float | str] = dict(spec.defaults)
    for name, value in effect.params:
        try:
            param = spec.param(name)
        except EffectError as exc:
            raise EffectError(f"{label}: {exc}") from None
        values[name] = param.check(value, label)
    return values


def validate_chain(effects: Iterable[Effect], where: str | None = None) -> None:
    for effect in effects:
        resolve_params(effect, where)


# -- building plugins ----------------------------------------------------------------------------------------------


def _plugin_value(spec: ParamSpec, value: float | str, sample_rate: float | None) -> object:
    if spec.is_choice:
        return getattr(pedalboard.LadderFilter.Mode, str(value))  # the only enumerated parameter
    if spec.is_frequency and sample_rate:
        return min(float(value), MAX_FREQUENCY_OF_SAMPLE_RATE * sample_rate)
    return value


def apply_params(plugin: object, effect: Effect, sample_rate: float | None = None, where: str | None = None) -> None:
    """Set every parameter of `effect` on an existing plugin of the same kind (its internal state is kept)."""
    spec = effect_spec(effect.kind)
    if not isinstance(plugin, spec.plugin_class):
        raise EffectError(f"Cannot apply {effect.kind} parameters to a {type(plugin).__name__} plugin.")
    for name, value in resolve_params(effect, where).items():
        setattr(plugin, name, _plugin_value(spec.param(name), value, sample_rate))


def build_plugin(effect: Effect, sample_rate: float | None = None, where: str | None = None) -> pedalboard.Plugin:
    """A new pedalboard plugin for `effect`. With `sample_rate`, frequencies are kept below Nyquist."""
    spec = effect_spec(effect.kind)
    plugin = spec.plugin_class()
    apply_params(plugin, effect, sample_rate, where)
    return plugin


def build_chain(
    effects: Iterable[Effect], sample_rate: float | None = None, where: str | None = None
) -> pedalboard.Pedalboard:
    """A Pedalboard of the effects in order; bypassed effects are left out (they are checked all the same)."""
    plugins = []
    for effect in effects:
        plugin = build_plugin(effect, sample_rate, where)
        if not effect.bypassed:
            plugins.append(plugin)
    return pedalboard.Pedalboard(plugins)


def active_kinds(effects: Iterable[Effect]) -> tuple[str, ...]:
    """The kinds a built chain holds, in order: what decides whether a chain can be updated in place."""
    return tuple(effect.kind for effect in effects if not effect.bypassed)
