"""Deterministic synthesiser for the built-in demo stem pack.

The app needs a song it is free to ship: no sample libraries, no recordings, nothing whose rights we
would have to track. So the demo is an original tune rendered from code at start-up: a 110 BPM pop
groove in A minor over an i–VI–III–VII progression (Am–F–C–G, one chord per bar), split into four
stems (drums, bass, chords, lead) exactly as a licensed stem pack would be.

Everything is a pure function of ``(seconds, sample_rate)``: noise comes from fixed-seed generators,
notes are rendered in a fixed order and nothing runs on threads, so two renders are bit-identical.
Notes are synthesised whole with numpy vector ops (never a Python loop per sample), each oscillator
is rendered once per pitch and timbre and shared by every note that uses it, and the only long
convolutions run in float32; a 90 s render takes about two seconds on a small 2-core machine.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass

import numpy as np
from scipy import fft as sp_fft
from scipy import signal

TITLE = "Lanterns Over Glass"
ARTISTS: tuple[str, ...] = ("The Fan Remix House Band",)
BPM = 110.0
KEY = "A minor"
# i–VI–III–VII in A minor. Exposed so tests and the UI can name the chord under the playhead.
PROGRESSION: tuple[str, ...] = ("Am", "F", "C", "G")

_STEPS_PER_BAR = 16  # sixteenth-note grid
_TWO_PI = 2.0 * math.pi
_END_TAIL_S = 1.5  # the closing chord needs at least this long to ring out
_RENDER_PAD_S = 4.0  # notes may ring past the last frame; render into a longer buffer, then cut
_MIX_PEAK_LIMIT = 0.68  # just under -3 dBFS for the sum of all stems
# Stem balance (drums, bass, keys, lead), set by loudness measurement: lead about 2 LU above the
# drums, keys lowest; the summed 90 s mix then peaks near -4 dBFS without the safety scale below.
_STEM_GAINS = (0.28, 0.32, 0.5, 0.16)

# Bass roots (MIDI): A1, F1, C2, G1 — low enough to sit under the chords, close enough to move smoothly.
_BASS_ROOTS = (33, 29, 36, 31)
# Close voicings with common tones held between chords (A and C stay put from Am to F, etc.).
_VOICINGS = ((57, 60, 64), (57, 60, 65), (55, 60, 64), (55, 59, 62))
_PAD_LOW_ROOTS = (45, 41, 48, 43)

# Fixed seeds: one per noise source, so changing one voice never shifts another's noise.
_SEED_KICK, _SEED_SNARE, _SEED_HAT, _SEED_TOM, _SEED_CRASH = 11, 23, 37, 41, 53
_SEED_GROOVE, _SEED_REVERB, _SEED_BREATH = 67, 71, 83


@dataclass(frozen=True)
class DemoStem:
    id: str  # "drums", "bass", "keys", "lead"
    name: str  # human-readable label for the mixer strip
    role: str  # "drums", "bass", "keys", "vocals" (the lead stands in for a vocal)
    audio: np.ndarray  # float32, shape (frames, 2)


@dataclass(frozen=True)
class DemoSong:
    title: str
    artists: tuple[str, ...]
    bpm: float
    key: str
    sample_rate: int
    stems: tuple[DemoStem, ...]


# --------------------------------------------------------------------------------------------------
# Arrangement
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Bar:
    index: int  # absolute bar number from the start of the song
    section: str  # "intro", "verse", "chorus", "break", "outro", "end" (final hit), "tail" (ring-out)
    bar_in_section: int
    section_bars: int
    chord: int  # index into PROGRESSION

    @property
    def is_last_of_section(self) -> bool:
        return self.bar_in_section == self.section_bars - 1


# The first 36 bars are a classic pop form; long renders then cycle through a second half so a
# benchmark-length render still changes every 8 bars instead of looping one phrase.
_HEAD_SECTIONS = (("intro", 4), ("verse", 8), ("chorus", 8), ("verse", 8), ("chorus", 8))
_LOOP_SECTIONS = (("break", 4), ("verse", 8), ("chorus", 8), ("chorus", 8))


def _section_stream() -> Iterator[tuple[str, int]]:
    yield from _HEAD_SECTIONS
    while True:
        yield from _LOOP_SECTIONS


def _plan(total_frames: int, sample_rate: int) -> list[_Bar]:
    """Lay sections over the bars of a render of ``total_frames``.

    Long renders get a proper ending: an outro groove, then a final Am hit on a downbeat that rings
    into the fade. Short renders (tests, previews) just play the form from the top and fade.
    """
    bar_s = 240.0 / BPM
    total_s = total_frames / sample_rate
    cover = max(1, math.ceil(total_frames / (bar_s * sample_rate)))
    sections: list[tuple[str, int]] = []
    end_bar = math.floor((total_s - _END_TAIL_S) / bar_s)
    if end_bar >= 12:
        # Prefer ending on a bar that completes the 4-chord cycle, unless that leaves a long tail.
        aligned = end_bar - end_bar % 4
        if total_s - aligned * bar_s <= 4.5:
            end_bar = aligned
        used = 0
        for name, length in _section_stream():
            if used + length > end_bar - 4:
                break
            sections.append((name, length))
            used += length
        sections.append(("outro", end_bar - used))
        sections.append(("end", 1))
        sections.append(("tail", cover - end_bar - 1))
    else:
        used = 0
        for name, length in _section_stream():
            if used >= cover:
                break
            sections.append((name, length))
            used += length

    bars: list[_Bar] = []
    for name, length in sections:
        for i in range(length):
            index = len(bars)
            chord = 0 if name in ("end", "tail") else index % len(PROGRESSION)
            bars.append(_Bar(index, name, i, length, chord))
    return bars[:cover]


# --------------------------------------------------------------------------------------------------
# Small DSP helpers
# --------------------------------------------------------------------------------------------------


def _midi_hz(midi: float) -> float:
    return 440.0 * 2.0 ** ((midi - 69.0) / 12.0)


def _envelope(n_gate: int, n_release: int, sr: int, attack_s: float, decay_s: float, sustain: float) -> np.ndarray:
    """Attack/decay/sustain while the gate is open, then a raised-cosine release to exactly zero.

    Every pitched note goes through this, so no note starts or stops on a step (no clicks).
    """
    n = n_gate + n_release
    t = np.arange(n) / sr
    env = sustain + (1.0 - sustain) * np.exp(-t / decay_s)
    attack = np.clip(t / attack_s, 0.0, 1.0)
    env *= 0.5 - 0.5 * np.cos(np.pi * attack)
    if n_release > 0:
        r = np.arange(n_release) / n_release
        env[n_gate:] *= 0.5 + 0.5 * np.cos(np.pi * r)
    return env


def _tail_fade(x: np.ndarray, sr: int, seconds: float = 0.005) -> np.ndarray:
    """Force a one-shot to end on silence, even if its decay has not quite reached zero."""
    n = min(len(x), max(1, int(seconds * sr)))
    ramp = 0.5 + 0.5 * np.cos(np.pi * np.arange(1, n + 1) / n)
    x[-n:] *= ramp if x.ndim == 1 else ramp[:, None]
    return x


def _sos(kind: str, freq: float | tuple[float, float], sr: int, order: int) -> np.ndarray:
    # Corner frequencies are written for 44.1/48 kHz; at low sample rates they are pulled below
    # Nyquist (keeping a band at least an octave wide) instead of making the filter design fail.
    top = 0.45 * sr
    if isinstance(freq, tuple):
        high = min(freq[1], top)
        wn: float | tuple[float, float] = (min(freq[0], 0.5 * high), high)
    else:
        wn = min(freq, top)
    return signal.butter(order, wn, btype=kind, output="sos", fs=sr)


def _filter(x: np.ndarray, kind: str, freq: float | tuple[float, float], sr: int, order: int = 2) -> np.ndarray:
    return signal.sosfilt(_sos(kind, freq, sr, order), x, axis=0)


def _pan(mono: np.ndarray, pan: float) -> np.ndarray:
    """Constant-power pan, pan in [-1, 1]."""
    angle = (pan + 1.0) * math.pi / 4.0
    return np.stack((mono * math.cos(angle), mono * math.sin(angle)), axis=1)


def _add(buf: np.ndarray, start: int, x: np.ndarray, gain: float = 1.0) -> None:
    if start >= len(buf) or gain == 0.0:
        return
    n = min(len(x), len(buf) - start)
    if x.ndim == 1 and buf.ndim == 2:
        buf[start : start + n] += gain * x[:n, None]
    else:
        buf[start : start + n] += gain * x[:n]


_TABLE_SIZE = 4096


def _wavetable(amps: np.ndarray, phases: np.ndarray | float = 0.0) -> np.ndarray:
    """One band-limited cycle built additively from harmonic amplitudes (index 0 = fundamental).

    Looking a note up in a table costs the same however many harmonics it has, and the caller picks
    how many harmonics fit below Nyquist, so the oscillator never aliases.
    """
    ks = np.arange(1, len(amps) + 1)
    theta = _TWO_PI * np.arange(_TABLE_SIZE + 1) / _TABLE_SIZE
    return np.sin(np.outer(theta, ks) + ks * phases) @ amps


def _table_osc(table: np.ndarray, cycles: np.ndarray) -> np.ndarray:
    """Read ``table`` at ``cycles`` (running phase in cycles, any size), linearly interpolated."""
    pos = (cycles - np.floor(cycles)) * _TABLE_SIZE
    i = pos.astype(np.intp)
    frac = pos - i
    return table[i] + frac * (table[i + 1] - table[i])


@dataclass(frozen=True)
class _Grid:
    sr: int
    step_frames: float  # one sixteenth note in frames (fractional: onsets are rounded, never drift)
    total: int  # frames in the final stems
    buffer: int  # frames in the working buffers (total plus room for ringing notes)

    def frame(self, bar: int, step: float) -> int:
        return round((bar * _STEPS_PER_BAR + step) * self.step_frames)

    def frames(self, steps: float) -> int:
        return max(1, round(steps * self.step_frames))


# --------------------------------------------------------------------------------------------------
# Drum voices (public so tests can check each voice's spectrum in isolation)
# --------------------------------------------------------------------------------------------------


def synth_kick(sample_rate: int = 44100, seed: int = _SEED_KICK) -> np.ndarray:
    """Mono kick: a sine swept from 150 Hz down to 48 Hz (the "boom"), plus a 1 ms filtered click."""
    sr = sample_rate
    n = int(0.42 * sr)
    t = np.arange(n) / sr
    freq = 48.0 + 102.0 * np.exp(-t / 0.03)
    body = np.sin(_TWO_PI * np.cumsum(freq) / sr)
    amp = np.exp(-t / 0.2) * np.clip(t / 0.0015, 0.0, 1.0)
    # Gentle saturation thickens the body without raising its pitch much.
    body = np.tanh(1.6 * body * amp) / math.tanh(1.6)
    rng = np.random.default_rng(seed)
    click = _filter(rng.standard_normal(n), "bandpass", (1500.0, 5000.0), sr) * np.exp(-t / 0.0012)
    x = body + 0.1 * click
    return _tail_fade(x / np.max(np.abs(x)), sr)


def synth_snare(sample_rate: int = 44100, seed: int = _SEED_SNARE) -> np.ndarray:
    """Mono snare: two damped drum-head modes for the body, band-passed noise for the wires."""
    sr = sample_rate
    n = int(0.3 * sr)
    t = np.arange(n) / sr
    drop = 1.0 + 0.12 * np.exp(-t / 0.01)  # the head is tighter for an instant after the stick hits
    body = np.sin(_TWO_PI * np.cumsum(185.0 * drop) / sr) + 0.55 * np.sin(_TWO_PI * np.cumsum(330.0 * drop) / sr)
    body *= np.exp(-t / 0.055)
    rng = np.random.default_rng(seed)
    wires = _filter(rng.standard_normal(n), "bandpass", (700.0, 9000.0), sr, order=2)
    wires *= np.exp(-t / 0.11)
    x = 0.55 * body + 0.45 * wires
    x *= np.clip(t / 0.0008, 0.0, 1.0)
    x = _filter(x, "highpass", 120.0, sr, order=1)
    return _tail_fade(x / np.max(np.abs(x)), sr)


def synth_hat(sample_rate: int = 44100, seed: int = _SEED_HAT, open_: bool = False) -> np.ndarray:
    """Mono hi-hat: high-passed noise with a short (closed) or longer (open) decay."""
    sr = sample_rate
    decay = 0.16 if open_ else 0.028
    n = int((0.5 if open_ else 0.1) * sr)
    t = np.arange(n) / sr
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(n)
    # Metallic shimmer: a few square waves at inharmonic ratios, like the oscillators of a drum machine.
    metal = sum(_square(f, t, p, sr) for f, p in ((317.0, 0.1), (465.0, 1.3), (571.0, 2.2)))
    x = _filter(noise + 0.3 * metal, "highpass", 7000.0, sr, order=4)
    x = x * np.exp(-t / decay) * np.clip(t / 0.0005, 0.0, 1.0)
    return _tail_fade(x / np.max(np.abs(x)), sr)


def _square(freq: float, t: np.ndarray, phase: float, sr: int) -> np.ndarray:
    """Band-limited square wave: odd harmonics at 1/k, stopping short of Nyquist so nothing aliases."""
    out = np.zeros_like(t)
    for k in range(1, int(0.45 * sr / freq) + 1, 2):
        out += np.sin(k * (_TWO_PI * freq * t + phase)) / k
    return out * (4.0 / math.pi)


def _synth_tom(sr: int, hz: float, seed: int) -> np.ndarray:
    n = int(0.5 * sr)
    t = np.arange(n) / sr
    freq = hz * (1.0 + 0.45 * np.exp(-t / 0.04))
    body = np.sin(_TWO_PI * np.cumsum(freq) / sr) * np.exp(-t / 0.2)
    rng = np.random.default_rng(seed)
    skin = _filter(rng.standard_normal(n), "bandpass", (400.0, 3000.0), sr) * np.exp(-t / 0.02)
    x = (body + 0.12 * skin) * np.clip(t / 0.001, 0.0, 1.0)
    return _tail_fade(x / np.max(np.abs(x)), sr)


def _synth_crash(sr: int, seed: int) -> np.ndarray:
    n = int(2.2 * sr)
    t = np.arange(n) / sr
    rng = np.random.default_rng(seed)
    # Independent noise per channel makes the cymbal wide without phasey panning.
    noise = _filter(rng.standard_normal((n, 2)), "highpass", 3500.0, sr, order=2)
    sizzle = _filter(noise, "bandpass", (6000.0, 12000.0), sr)
    x = (noise + 0.8 * sizzle) * (np.exp(-t / 0.7) * np.clip(t / 0.002, 0.0, 1.0))[:, None]
    return _tail_fade(x / np.max(np.abs(x)), sr)


# --------------------------------------------------------------------------------------------------
# Pitched voices
# --------------------------------------------------------------------------------------------------


# Each pitched instrument is split into an oscillator (timbre over time, independent of how long the
# key is held) and an envelope (gate + release). An oscillator is rendered once per pitch and timbre
# at the longest length any note needs, and shorter notes use its prefix: the parts repeat a lot, so
# this is where most of the render time is saved.


def _bass_osc(midi: int, bright: float, n: int, sr: int) -> np.ndarray:
    """Plucky resonant-low-pass saw, built additively so it is band-limited by construction.

    Each harmonic is weighted by the magnitude response of a 2-pole resonant low-pass whose cutoff
    falls after the attack; that is the classic synth-bass "pluck" with no per-sample filter loop.
    """
    f0 = _midi_hz(midi)
    q = 1.4
    k_max = max(1, min(48, int(0.45 * sr / f0), int(6000.0 / f0)))
    ks = np.arange(1, k_max + 1)

    def harmonic_gains(cutoff: np.ndarray) -> np.ndarray:  # (harmonic, time)
        x = np.outer(ks * f0, 1.0 / cutoff)
        return 1.0 / (ks[:, None] * np.sqrt((1.0 - x * x) ** 2 + (x / q) ** 2))

    def cutoff_at(t: np.ndarray) -> np.ndarray:
        return f0 * 2.2 + bright * 1800.0 * np.exp(-t / 0.07) + 150.0

    # The filter envelope has settled after half a second; from there on the tone is static and one
    # wavetable cycle reproduces it exactly, so only the pluck itself is synthesised partial by partial.
    n_pluck = min(n, int(0.5 * sr))
    t = np.arange(n_pluck) / sr
    phase = _TWO_PI * f0 * t
    # Gains on a coarse time grid (the cutoff glides slowly) also tell us when each harmonic has
    # faded below -80 dB, so we stop synthesising it there: high harmonics only live in the attack.
    coarse = np.arange(0, n_pluck, 64)
    gains = harmonic_gains(cutoff_at(coarse / sr))
    alive = gains >= 1e-4
    out = np.empty(n)
    pluck = out[:n_pluck]
    pluck[:] = 0.6 * np.sin(phase)  # sub reinforcement keeps the root solid on small speakers
    for k, g_row, a_row in zip(ks, gains, alive, strict=True):
        if not a_row.any():
            continue
        m = min(n_pluck, (int(np.nonzero(a_row)[0][-1]) + 2) * 64)
        pluck[:m] += np.interp(np.arange(m), coarse, g_row) * np.sin(k * phase[:m])
    if n > n_pluck:
        amps = harmonic_gains(cutoff_at(np.array([coarse[-1] / sr])))[:, 0]
        amps[0] += 0.6
        cycles = f0 * np.arange(n_pluck, n) / sr
        out[n_pluck:] = _table_osc(_wavetable(amps), cycles)
    return np.tanh(0.8 * out)


def _ep_voice(freq: float, t: np.ndarray, sr: int, bright: float) -> np.ndarray:
    """Electric-piano-like FM voice: the modulation index decays, so the strike is brighter than the tail."""
    index = (0.5 + 1.5 * bright) * np.exp(-t / 0.3) + 0.45
    carrier = _TWO_PI * freq * t
    tone = np.sin(carrier + index * np.sin(carrier))
    if freq * 15.0 < 0.45 * sr:
        # The "tine": a second FM pair with a 14:1 modulator, gone within ~50 ms. It puts a short
        # metallic bark around the 13th-15th partials on every strike, the electric-piano signature.
        bark = np.exp(-t / 0.045)
        tone += 0.3 * bright * bark * np.sin(carrier + 1.2 * bark * np.sin(14.0 * carrier))
    # Piano-like: loud strike that settles, higher notes settling faster.
    return tone * (0.45 + 0.55 * np.exp(-t * freq / 300.0))


def _ep_osc(midi: int, bright: float, n: int, sr: int) -> np.ndarray:
    """Two EP voices detuned by ±6 cents, one leaning to each side: a slight, mono-safe stereo spread."""
    t = np.arange(n) / sr
    f = _midi_hz(midi)
    left = _ep_voice(f * 2 ** (-6 / 1200), t, sr, bright)
    right = _ep_voice(f * 2 ** (6 / 1200), t, sr, bright)
    # Low notes lean left and high notes right, like a piano seen from the player's seat.
    lean = float(np.clip((midi - 60) / 24.0, -0.3, 0.3))
    return np.stack(((0.75 - 0.25 * lean) * left + 0.25 * right, 0.25 * left + (0.75 + 0.25 * lean) * right), 1)


def _pad_osc(midi: int, _timbre: None, n: int, sr: int) -> np.ndarray:
    """Warm pad: three detuned soft saws (10 harmonics each) spread left, centre, right."""
    t = np.arange(n) / sr
    f0 = _midi_hz(midi)
    k_max = max(1, min(10, int(0.4 * sr / (f0 * 1.01))))
    amps = 1.0 / np.arange(1, k_max + 1) ** 1.6
    out = np.zeros((n, 2))
    for cents, start, pan in ((-9.0, 0.0, -0.7), (0.0, 2.1, 0.0), (9.0, 4.2, 0.7)):
        out += _pan(_table_osc(_wavetable(amps, start), f0 * 2 ** (cents / 1200) * t), pan)
    return out / 3.0


# Formant centres/bandwidths (Hz) for a few sung vowels; the lead cycles through them syllable by
# syllable so it reads as a voice rather than an oscillator.
_VOWELS = {
    "a": ((800.0, 80.0, 1.0), (1150.0, 90.0, 0.5), (2900.0, 120.0, 0.25)),
    "e": ((400.0, 70.0, 1.0), (1600.0, 80.0, 0.45), (2700.0, 120.0, 0.3)),
    "o": ((450.0, 70.0, 1.0), (800.0, 80.0, 0.6), (2830.0, 100.0, 0.12)),
    "u": ((325.0, 50.0, 1.0), (700.0, 60.0, 0.3), (2530.0, 170.0, 0.08)),
}


def _lead_osc(midi: int, vowel: str, n: int, sr: int, breath: np.ndarray) -> np.ndarray:
    """Sung-vowel stand-in: a glottal-like harmonic source shaped by vowel formants, with a small
    scoop into pitch, delayed vibrato, and a touch of breath noise on the onset."""
    t = np.arange(n) / sr
    f0 = _midi_hz(midi)
    # Singers land slightly flat and slide up; vibrato only blooms on held notes.
    scoop = -0.35 * np.exp(-t / 0.04)
    vib_amount = np.clip((t - 0.18) / 0.3, 0.0, 1.0) * 0.28
    semis = scoop + vib_amount * np.sin(_TWO_PI * 5.3 * t)
    cycles = np.cumsum(f0 * 2.0 ** (semis / 12.0)) / sr
    k_max = max(1, min(40, int(0.42 * sr / (f0 * 1.03)), int(7500.0 / f0)))
    ks = np.arange(1, k_max + 1)
    fk = ks * f0
    formants = _VOWELS[vowel]
    shape = 0.06 + sum(g / (1.0 + ((fk - fc) / (0.5 * bw)) ** 2) for fc, bw, g in formants)
    # Widen each formant's influence a little so harmonics between peaks are not lost entirely.
    shape += sum(0.35 * g / (1.0 + ((fk - fc) / (2.5 * bw)) ** 2) for fc, bw, g in formants)
    # Source tilt plus a steep roll-off above ~5 kHz, where a voice has little left but breath.
    amps = shape / ks**0.7 / (1.0 + (fk / 5000.0) ** 4)
    amps /= np.sqrt(np.sum(amps**2))  # equal loudness whatever the vowel and pitch
    out = _table_osc(_wavetable(amps), cycles)
    m = min(n, len(breath))
    out[:m] += breath[:m] * (0.12 * np.exp(-t[:m] / 0.05) + 0.04 * np.exp(-t[:m] / 0.12))
    return out


@dataclass(frozen=True)
class _Note:
    start: int  # frame
    pitch: int  # MIDI
    timbre: Hashable  # whatever else the oscillator needs (brightness, vowel)
    n_gate: int  # frames the key is held
    level: float


@dataclass(frozen=True)
class _Voice:
    osc: Callable[[int, Hashable, int, int], np.ndarray]  # (pitch, timbre, frames, sr) -> audio
    attack_s: float
    decay_s: float
    sustain: float
    release_s: float


_BASS = _Voice(_bass_osc, 0.003, 0.3, 0.6, 0.025)
_EP = _Voice(_ep_osc, 0.004, 0.5, 0.55, 0.14)
_PAD = _Voice(_pad_osc, 0.35, 1.0, 1.0, 0.5)
_LEAD_ENV = (0.03, 0.25, 0.8, 0.08)


def _play(notes: list[_Note], voice: _Voice, sr: int, out: np.ndarray) -> None:
    """Render ``notes`` into ``out``: one oscillator per (pitch, timbre), one envelope per gate length."""
    n_rel = int(voice.release_s * sr)
    longest: dict[tuple[int, Hashable], int] = {}
    for note in notes:
        key = (note.pitch, note.timbre)
        longest[key] = max(longest.get(key, 0), note.n_gate + n_rel)
    oscs = {key: voice.osc(key[0], key[1], n, sr) for key, n in longest.items()}
    # Notes struck together with the same gate (a chord) share one envelope pass and one mix-in.
    groups: dict[tuple[int, int], list[_Note]] = {}
    for note in notes:
        groups.setdefault((note.start, note.n_gate), []).append(note)
    envs: dict[int, np.ndarray] = {}
    for (start, n_gate), chord in groups.items():
        env = envs.get(n_gate)
        if env is None:
            env = _envelope(n_gate, n_rel, sr, voice.attack_s, voice.decay_s, voice.sustain)
            envs[n_gate] = env
        acc = chord[0].level * oscs[(chord[0].pitch, chord[0].timbre)][: len(env)]
        for note in chord[1:]:
            acc += note.level * oscs[(note.pitch, note.timbre)][: len(env)]
        acc *= env if acc.ndim == 1 else env[:, None]
        _add(out, start, acc)


# --------------------------------------------------------------------------------------------------
# Patterns: (step, length in steps, value, velocity); steps are sixteenths within the bar
# --------------------------------------------------------------------------------------------------

_BASS_PATTERNS = {
    "whole": ((0, 15, 0, 0.85),),
    "verse": ((0, 3, 0, 1.0), (3, 3, 0, 0.7), (6, 2, 12, 0.75), (8, 3, 0, 0.95), (11, 3, 0, 0.7), (14, 2, 12, 0.7)),
    "chorus": (
        (0, 2, 0, 1.0),
        (2, 2, 0, 0.7),
        (4, 2, 12, 0.85),
        (6, 2, 0, 0.75),
        (8, 2, 0, 0.95),
        (10, 2, 7, 0.7),
        (12, 2, 12, 0.85),
        (14, 2, 0, 0.75),
    ),
}
_BASS_FOR_SECTION = {"intro": "whole", "verse": "verse", "chorus": "chorus", "break": "whole", "outro": "verse"}
_BASS_BRIGHT = {"intro": 0.25, "verse": 0.6, "chorus": 1.0, "break": 0.3, "outro": 0.5, "end": 0.6}

# Keys comping rhythms: (step, length, velocity).
_KEYS_PATTERNS = {
    "whole": ((0, 16, 0.75),),
    "verse": ((0, 5, 0.85), (6, 3, 0.6), (10, 5, 0.7)),
    "chorus": ((0, 3, 0.9), (3, 3, 0.65), (6, 4, 0.75), (10, 2, 0.65), (12, 4, 0.8)),
}
_KEYS_FOR_SECTION = {"intro": "whole", "verse": "verse", "chorus": "chorus", "break": "whole", "outro": "whole"}
_PAD_SECTIONS = {"chorus", "break", "outro", "end"}

# Melodies: (bar in phrase, beat, length in beats, MIDI note). Chord tones on strong beats, passing
# tones between, rests at phrase ends so the "singer" breathes.
_INTRO_HOOK = (
    (0, 1.0, 0.5, 64), (0, 1.5, 0.5, 67), (0, 2.0, 2.0, 69),
    (1, 0.0, 1.0, 72), (1, 1.0, 2.5, 69),
    (2, 1.0, 0.5, 64), (2, 1.5, 0.5, 67), (2, 2.0, 2.0, 72),
    (3, 0.0, 1.0, 71), (3, 1.0, 2.5, 67),
)  # fmt: skip
_VERSE_MELODY = (
    (0, 0.5, 0.5, 64), (0, 1.0, 0.5, 69), (0, 1.5, 0.5, 69), (0, 2.0, 0.5, 71), (0, 2.5, 1.0, 72),
    (1, 0.0, 1.0, 69), (1, 1.0, 0.5, 67), (1, 1.5, 1.5, 65),
    (2, 0.5, 0.5, 64), (2, 1.0, 0.5, 67), (2, 1.5, 0.5, 67), (2, 2.0, 0.5, 69), (2, 2.5, 1.0, 67),
    (3, 0.0, 0.5, 67), (3, 0.5, 0.5, 69), (3, 1.0, 2.0, 71),
    (4, 0.5, 0.5, 64), (4, 1.0, 0.5, 69), (4, 1.5, 0.5, 69), (4, 2.0, 0.5, 71), (4, 2.5, 0.5, 72),
    (4, 3.0, 1.0, 76),
    (5, 0.0, 1.5, 72), (5, 1.5, 0.5, 69), (5, 2.0, 1.5, 65),
    (6, 0.5, 0.5, 64), (6, 1.0, 0.5, 67), (6, 1.5, 0.5, 72), (6, 2.0, 1.0, 71), (6, 3.0, 0.5, 69),
    (7, 0.0, 2.5, 67), (7, 3.0, 0.5, 71), (7, 3.5, 0.5, 74),
)  # fmt: skip
_CHORUS_MELODY = (
    (0, 0.0, 1.5, 76), (0, 1.5, 0.5, 74), (0, 2.0, 1.0, 72), (0, 3.0, 1.0, 69),
    (1, 0.0, 0.5, 69), (1, 0.5, 0.5, 72), (1, 1.0, 1.0, 77), (1, 2.0, 1.0, 76), (1, 3.0, 1.0, 72),
    (2, 0.0, 1.5, 76), (2, 1.5, 0.5, 74), (2, 2.0, 1.0, 72), (2, 3.0, 1.0, 67),
    (3, 0.0, 0.5, 67), (3, 0.5, 0.5, 71), (3, 1.0, 1.0, 74), (3, 2.0, 2.0, 71),
    (4, 0.0, 1.5, 76), (4, 1.5, 0.5, 74), (4, 2.0, 1.0, 72), (4, 3.0, 1.0, 69),
    (5, 0.0, 0.5, 69), (5, 0.5, 0.5, 72), (5, 1.0, 1.0, 77), (5, 2.0, 1.0, 76), (5, 3.0, 1.0, 72),
    (6, 0.0, 1.5, 79), (6, 1.5, 0.5, 76), (6, 2.0, 1.0, 74), (6, 3.0, 1.0, 72),
    (7, 0.0, 1.0, 74), (7, 1.0, 2.5, 71),
)  # fmt: skip
_MELODY_FOR_SECTION = {
    "intro": (_INTRO_HOOK, 4, ("u", "o"), 0.7),
    "verse": (_VERSE_MELODY, 8, ("a", "e", "a", "o"), 0.85),
    "chorus": (_CHORUS_MELODY, 8, ("a", "o", "a", "e"), 1.0),
    "break": (_INTRO_HOOK, 4, ("o", "u"), 0.75),
    "outro": (_INTRO_HOOK, 4, ("o", "a"), 0.8),
}


# --------------------------------------------------------------------------------------------------
# Stem renderers
# --------------------------------------------------------------------------------------------------


def _drum_hits(bar: _Bar, rng: np.random.Generator) -> list[tuple[str, float, float]]:
    """The groove for one bar as (voice, step, velocity), with fills on phrase ends."""
    hits: list[tuple[str, float, float]] = []
    s = bar.section
    fill = bar.is_last_of_section and bar.section_bars >= 4 and s != "outro"
    turnaround = s in ("verse", "chorus") and bar.bar_in_section == 3

    if s == "tail":
        return []
    if s == "end":
        return [("crash", 0, 1.0), ("kick", 0, 1.0), ("snare", 0, 0.7)]

    if bar.bar_in_section == 0 and (s in ("chorus", "outro") or (s == "verse" and bar.index > 8)):
        hits.append(("crash", 0, 0.9))

    # Kick and snare.
    if s == "intro":
        kicks, snares = [0, 8], ([12] if bar.bar_in_section >= 2 else [])
    elif s == "break":
        kicks, snares = [0], []
    elif s == "outro":
        kicks, snares = [0, 10], [8]  # half-time feel winds the song down
    elif s == "chorus":
        kicks, snares = [0, 3, 8, 10], [4, 12]
    else:
        kicks, snares = [0, 7, 10], [4, 12]
    if turnaround:
        kicks = [*kicks, 14]
    for k in kicks:
        hits.append(("kick", k, 1.0 if k in (0, 8) else 0.8))
    for sn in snares:
        hits.append(("snare", sn, 0.95))
    if s in ("verse", "chorus") and bar.bar_in_section % 2 == 1:
        hits.append(("snare", 14, 0.22))  # ghost note: keeps the backbeat from sounding programmed
    if s == "verse":
        hits.append(("snare", 7, 0.15))

    # Hats: eighths in most sections, sixteenths in the chorus, accents on the beat.
    hat_step = 1 if s == "chorus" else 2
    hat_level = {"intro": 0.55, "break": 0.5, "outro": 0.7}.get(s, 0.8)
    for step in range(0, _STEPS_PER_BAR, hat_step):
        accent = 1.0 if step % 4 == 0 else (0.7 if step % 2 == 0 else 0.45)
        if (s == "chorus" or turnaround) and step == 14:
            hits.append(("open_hat", step, 0.6 * hat_level))
            continue
        hits.append(("hat", step, hat_level * accent))

    if fill:
        # Drop the back half of the bar and play a fill that leads into the next section.
        hits = [h for h in hits if h[1] < 8]
        if s == "intro" or s == "break":
            for i, step in enumerate(range(8, 16)):
                hits.append(("snare", step, 0.3 + 0.09 * i))
            hits.append(("kick", 8, 0.9))
        else:
            for step, voice, vel in (
                (8, "tom_hi", 0.85),
                (9, "tom_hi", 0.6),
                (10, "tom_mid", 0.85),
                (11, "tom_mid", 0.6),
                (12, "tom_lo", 0.9),
                (13, "tom_lo", 0.7),
                (14, "snare", 0.9),
                (15, "snare", 1.0),
            ):
                hits.append((voice, step, vel))
            hits.append(("kick", 8, 0.9))

    # Humanise velocity only (timing stays on the grid so stems line up sample-exactly).
    return [(v, st, float(vel * (1.0 + 0.08 * rng.standard_normal()))) for v, st, vel in hits]


def _render_drums(plan: list[_Bar], grid: _Grid, ir: np.ndarray) -> np.ndarray:
    sr = grid.sr
    hats = [_pan(synth_hat(sr, _SEED_HAT + i), 0.3) for i in range(8)]
    snare = synth_snare(sr)
    # (stereo one-shot, level); panned once here rather than on every hit.
    voices = {
        "kick": (_pan(synth_kick(sr), 0.0), 1.0),
        "snare": (_snare_with_room(snare, ir), 0.7),
        "open_hat": (_pan(synth_hat(sr, _SEED_HAT + 100, open_=True), 0.3), 0.3),
        "tom_hi": (_pan(_synth_tom(sr, 175.0, _SEED_TOM), 0.35), 0.45),
        "tom_mid": (_pan(_synth_tom(sr, 131.0, _SEED_TOM + 1), 0.0), 0.5),
        "tom_lo": (_pan(_synth_tom(sr, 98.0, _SEED_TOM + 2), -0.35), 0.55),
    }
    crash = _synth_crash(sr, _SEED_CRASH)
    dry = np.zeros((grid.buffer, 2))
    rng = np.random.default_rng(_SEED_GROOVE)
    hat_index = 0
    for bar in plan:
        for voice, step, vel in _drum_hits(bar, rng):
            start = grid.frame(bar.index, step)
            if voice == "crash":
                _add(dry, start, crash, 0.22 * vel)
            elif voice == "hat":
                # Rotate through noise variants so repeated hats are not sample-identical.
                _add(dry, start, hats[hat_index % len(hats)], 0.27 * vel)
                hat_index += 1
            else:
                x, level = voices[voice]
                _add(dry, start, x, level * vel)
    return dry


def _render_bass(plan: list[_Bar], grid: _Grid) -> np.ndarray:
    notes: list[_Note] = []
    for bar in plan:
        if bar.section == "tail":
            continue
        root = _BASS_ROOTS[bar.chord]
        bright = _BASS_BRIGHT[bar.section]
        if bar.section == "end":
            pattern = ((0, (grid.total - grid.frame(bar.index, 0)) / grid.step_frames - 4, 0, 1.0),)
        else:
            pattern = _BASS_PATTERNS[_BASS_FOR_SECTION[bar.section]]
            if bar.is_last_of_section and bar.section_bars >= 4 and bar.section != "intro":
                # Turnaround into the next section: the last eighth jumps to the fifth.
                pattern = (*pattern[:-1], (14, 2, 7, 0.8))
        for step, length, offset, vel in pattern:
            notes.append(
                _Note(grid.frame(bar.index, step), root + offset, bright, grid.frames(length * 0.9), 0.5 * vel)
            )
    out = np.zeros(grid.buffer)  # the bass is mono, as it would be on a record
    _play(notes, _BASS, grid.sr, out)
    return out


def _render_keys(plan: list[_Bar], grid: _Grid) -> np.ndarray:
    sr = grid.sr
    ep: list[_Note] = []
    pad: list[_Note] = []
    for bar in plan:
        if bar.section == "tail":
            continue
        voicing = _VOICINGS[bar.chord]
        bright = 0.9 if bar.section == "chorus" else 0.55
        bar_start = grid.frame(bar.index, 0)
        if bar.section == "end":
            pattern = ((0, (grid.total - bar_start) / grid.step_frames - 6, 0.9),)
        else:
            pattern = _KEYS_PATTERNS[_KEYS_FOR_SECTION[bar.section]]
        for step, length, vel in pattern:
            n_gate = grid.frames(length * 0.92)
            start = grid.frame(bar.index, step)
            for i, midi in enumerate(voicing):
                # Top voice a touch louder so the chord has a melody line of its own.
                level = 0.15 * vel * (1.15 if i == len(voicing) - 1 else 1.0)
                ep.append(_Note(start, midi, bright, n_gate, level))
        if bar.section in _PAD_SECTIONS:
            if bar.section == "end":
                n_gate = max(1, grid.total - bar_start - int(0.6 * sr))
            else:
                n_gate = grid.frames(_STEPS_PER_BAR - 1)
            for midi in (_PAD_LOW_ROOTS[bar.chord], *voicing):
                pad.append(_Note(bar_start, midi, None, n_gate, 0.1))
    out = np.zeros((grid.buffer, 2))
    _play(ep, _EP, sr, out)
    _play(pad, _PAD, sr, out)
    return out


def _render_lead(plan: list[_Bar], grid: _Grid) -> np.ndarray:
    sr = grid.sr
    rng = np.random.default_rng(_SEED_BREATH)
    # Breath noise lives where sibilance and air do in a real voice (2-9 kHz); it is only audible in
    # the first few tens of milliseconds of a note, so one short buffer serves every note.
    breath = _filter(rng.standard_normal(int(0.5 * sr)), "bandpass", (2000.0, 9000.0), sr)
    breath = _tail_fade(breath / np.max(np.abs(breath)), sr, 0.05)
    notes: list[_Note] = []
    for bar in plan:
        if bar.section == "tail":
            continue
        bar_start = grid.frame(bar.index, 0)
        if bar.section == "end":
            notes.append(_Note(bar_start, 69, "a", max(1, grid.total - bar_start - int(0.4 * sr)), 0.85))
            continue
        melody, phrase_bars, vowels, level = _MELODY_FOR_SECTION[bar.section]
        phrase_bar = bar.bar_in_section % phrase_bars
        for i, (mbar, beat, beats, midi) in enumerate(melody):
            if mbar != phrase_bar:
                continue
            # Downbeats a little stronger, like a singer leaning on the stressed syllable.
            accent = 1.0 if beat == int(beat) else 0.85
            start = grid.frame(bar.index, beat * 4)
            notes.append(_Note(start, midi, vowels[i % len(vowels)], grid.frames(beats * 4 * 0.9), level * accent))
    voice = _Voice(lambda m, v, n, r: _lead_osc(m, v, n, r, breath), *_LEAD_ENV)
    out = np.zeros(grid.buffer)
    _play(notes, voice, sr, out)
    return out


def _reverb_ir(sr: int) -> np.ndarray:
    """Stereo room impulse: decorrelated noise with an exponential decay (RT60 about 1.4 s) that gets
    darker as it decays, after a short pre-delay."""
    rng = np.random.default_rng(_SEED_REVERB)
    n = int(1.6 * sr)
    t = np.arange(n) / sr
    noise = rng.standard_normal((n, 2))
    dark = _filter(noise, "lowpass", 2500.0, sr)
    fade = np.exp(-t / 0.3)[:, None]
    ir = (fade * noise + (1.0 - fade) * dark) * (10.0 ** (-3.0 * t / 1.4))[:, None]
    ir = _tail_fade(ir, sr, 0.05)
    ir = np.concatenate((np.zeros((int(0.018 * sr), 2)), ir))
    return ir / np.sqrt(np.sum(ir**2, axis=0))


def _snare_with_room(snare: np.ndarray, ir: np.ndarray) -> np.ndarray:
    """Only the snare gets room on the drum bus. Reverb is linear, so convolving the one-shot once is
    the same as reverberating every hit, at a fraction of the cost of convolving the whole stem."""
    out = 0.12 * signal.fftconvolve(snare[:, None], ir, axes=0)  # ends on silence: both inputs do
    out[: len(snare)] += _pan(snare, 0.05)
    return out


def _add_reverb(out: np.ndarray, mono: np.ndarray, ir: np.ndarray, send: float) -> None:
    """Add ``send`` times the stereo reverb of ``mono`` to ``out`` (same length as ``mono``).

    Overlap-add in blocks of ~6 s keeps memory flat however long the render is (one whole-song FFT
    convolution would need several hundred MB for 90 s). float32 is plenty for a reverb tail and
    makes the FFTs much faster.
    """
    n, m = len(mono), len(ir)
    block = 1 << 18
    nfft = sp_fft.next_fast_len(block + m - 1, real=True)
    spectrum = sp_fft.rfft(ir.astype(np.float32), nfft, axis=0)
    for start in range(0, n, block):
        segment = mono[start : start + block].astype(np.float32)
        wet = sp_fft.irfft(sp_fft.rfft(segment, nfft)[:, None] * spectrum, nfft, axis=0)
        end = min(n, start + len(segment) + m - 1)
        out[start:end] += send * wet[: end - start]


def _ping_pong(mono: np.ndarray, delay: int, feedback: float, repeats: int) -> np.ndarray:
    """Dotted-eighth echoes alternating left/right: widens the lead without moving it off centre."""
    out = np.zeros((len(mono), 2))
    for r in range(1, repeats + 1):
        shift = r * delay
        if shift >= len(mono):
            break
        out[shift:, r % 2] += feedback**r * mono[:-shift]
    return out


# --------------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------------


def render_demo_song(seconds: float = 90.0, sample_rate: int = 44100) -> DemoSong:
    """Render the demo song as four time-aligned stereo float32 stems of ``round(seconds * sample_rate)``
    frames each. Pure and deterministic: the same arguments always give bit-identical audio."""
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int | np.integer):
        raise TypeError(f"sample_rate must be an integer, got {sample_rate!r}")
    if not 8000 <= sample_rate <= 192000:
        raise ValueError(f"sample_rate must be in [8000, 192000], got {sample_rate!r}")
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"seconds must be positive and finite, got {seconds!r}")
    sr = int(sample_rate)
    total = round(seconds * sr)
    if total < 1:
        raise ValueError(f"seconds={seconds!r} is shorter than one frame")
    grid = _Grid(sr, 60.0 / BPM / 4.0 * sr, total, total + int(_RENDER_PAD_S * sr))
    plan = _plan(total, sr)

    ir = _reverb_ir(sr)
    fade_in = min(total, max(1, int(0.005 * sr)))
    fade_out = min(total, max(1, int(min(_END_TAIL_S, 0.25 * total / sr) * sr)))
    ramp_in = (0.5 - 0.5 * np.cos(np.pi * np.arange(fade_in) / fade_in))[:, None]
    ramp_out = (0.5 + 0.5 * np.cos(np.pi * np.arange(1, fade_out + 1) / fade_out))[:, None]

    def finish(stereo: np.ndarray, gain: float) -> np.ndarray:
        """Cut to length, apply the stem gain and the fades (a few ms in, since the first hit is on frame 0,
        and a longer one out, since a render may stop mid-phrase), and convert to float32."""
        y = np.empty((total, 2), dtype=np.float32)
        np.multiply(stereo[:total], gain, out=y, casting="same_kind")
        y[:fade_in] *= ramp_in
        y[total - fade_out :] *= ramp_out
        return y

    # Stems are finished one at a time so only one float64 working set is alive at once.
    drums = _render_drums(plan, grid, ir)
    finals = [finish(drums, _STEM_GAINS[0])]
    del drums

    bass_mono = _filter(_render_bass(plan, grid), "highpass", 28.0, sr)  # nothing musical below the lowest note
    finals.append(finish(np.broadcast_to((math.sqrt(0.5) * bass_mono)[:, None], (grid.buffer, 2)), _STEM_GAINS[1]))
    del bass_mono

    keys = _render_keys(plan, grid)
    _add_reverb(keys, keys.mean(axis=1), ir, 0.28)
    finals.append(finish(keys, _STEM_GAINS[2]))
    del keys

    # A lead needs to sit in front: dry in the centre, echoes and room behind it.
    lead_dry = _render_lead(plan, grid)
    lead = _ping_pong(_filter(lead_dry, "bandpass", (300.0, 5000.0), sr), round(3 * grid.step_frames), 0.35, 4)
    lead *= 0.22
    _add_reverb(lead, lead_dry, ir, 0.2)
    lead += math.sqrt(0.5) * lead_dry[:, None]
    del lead_dry
    finals.append(finish(lead, _STEM_GAINS[3]))
    del lead

    # Safety net only: the fixed gains are set so this does not engage at the default length. It keeps
    # the summed mix (what listeners hear before remixing) below -3 dBFS whatever the length.
    mix_peak = 0.0
    for i in range(0, total, 1 << 16):
        chunk = finals[0][i : i + (1 << 16)].astype(np.float64)
        for y in finals[1:]:
            chunk += y[i : i + (1 << 16)]
        mix_peak = max(mix_peak, float(np.max(np.abs(chunk))))
    if mix_peak > _MIX_PEAK_LIMIT:
        for y in finals:
            y *= np.float32(_MIX_PEAK_LIMIT / mix_peak)

    meta = (
        ("drums", "Drums", "drums"),
        ("bass", "Bass", "bass"),
        ("keys", "Chords", "keys"),
        ("lead", "Lead (vocal stand-in)", "vocals"),
    )
    stems = tuple(
        DemoStem(id=i, name=name, role=role, audio=x) for (i, name, role), x in zip(meta, finals, strict=True)
    )
    return DemoSong(title=TITLE, artists=ARTISTS, bpm=BPM, key=KEY, sample_rate=sr, stems=stems)
