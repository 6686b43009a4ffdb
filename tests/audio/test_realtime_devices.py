"""Device-level behaviour of the engine: a device that cannot run at the pack's rate, and a device that goes away."""

import threading
import time

import numpy as np
import pytest

from fanremix.audio.preview import open_preview
from fanremix.audio.realtime import Pause, Play, TransportState
from fanremix.domain import policy_templates
from fanremix.domain.recipe import Recipe
from fanremix.domain.stem_pack import PackManifest, Stem
from tests.audio.test_realtime_stream import jack_device


def pack_at(rate: int, seconds: float = 4.0) -> tuple[PackManifest, dict[str, np.ndarray]]:
    """An in-memory two-stem pack at `rate` (the engine needs no files)."""
    t = np.arange(round(seconds * rate)) / rate
    arrays = {
        "keys": np.stack([0.2 * np.sin(2 * np.pi * 440 * t)] * 2, axis=1).astype(np.float32),
        "bass": np.stack([0.2 * np.sin(2 * np.pi * 110 * t)] * 2, axis=1).astype(np.float32),
    }
    stems = tuple(Stem(k, k.title(), k, f"{k}.wav", "0" * 64, 2, len(a)) for k, a in arrays.items())
    manifest = PackManifest(
        id="rate-test", title="Rates", artists=("T",), isrc=None, bpm=100, key="A minor", sample_rate=rate,
        rightsholders=(), stems=stems, policy=policy_templates.open_remix(),
    )  # fmt: skip
    return manifest, arrays


def recipe_for(manifest: PackManifest) -> Recipe:
    return Recipe.for_stems(manifest.id, manifest.pack_hash(), [s.id for s in manifest.stems], loudness_lufs=None)


def wait_for(engine, condition, timeout: float = 10.0) -> TransportState:
    """Poll the engine's mailbox until `condition(state)` holds."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while time.monotonic() < deadline:
        state = engine.poll()
        if state is not None and condition(state):
            return state
        pause.wait(0.005)
    raise AssertionError("the engine never reached the expected state")


def test_a_pack_at_another_rate_is_resampled_and_paced_by_the_device_clock() -> None:
    manifest, arrays = pack_at(48000)
    with open_preview(manifest, arrays, recipe_for(manifest), use_device=False, device_rate=44100) as engine:
        assert engine.device_rate == 44100
        engine.send(Play())
        started = time.monotonic()
        state = wait_for(engine, lambda s: s.playing and s.original_s >= 1.0)
        elapsed = time.monotonic() - started
        # one second of the 48 kHz song took about a second of 44.1 kHz device time: resampled, not sped up
        assert 0.8 < elapsed < 1.6, elapsed
        assert state.master_peak[0] > 0.1
        assert engine.stats.ring_underruns == 0


@pytest.mark.realtime
def test_the_jack_device_plays_a_48k_pack_by_resampling() -> None:
    device = jack_device()
    if device is None:
        pytest.skip("no JACK output device: start the JACK dummy server (make test does) to run real-time tests")
    manifest, arrays = pack_at(48000)
    with open_preview(manifest, arrays, recipe_for(manifest), device=device.index) as engine:
        assert engine.has_device and engine.device_rate == 44100  # the dummy server runs at 44.1 kHz only
        assert "resampling 48000 → 44100 Hz" in engine.device_state
        engine.send(Play())
        wait_for(engine, lambda s: s.playing and s.original_s >= 1.5)
        assert engine.stats.underflows == 0 and engine.stats.ring_underruns == 0


@pytest.mark.realtime
def test_a_device_that_goes_away_is_reported_and_playback_stops() -> None:
    """PortAudio ends a stream whose device disappeared; aborting the stream from outside does exactly that here
        (a JACK dummy device cannot be unplugged). PortAudio's JACK blocking layer lets the queued audio play out
        before an abort returns, so the engine is paused first. (A write to a stream that stopped without a word is
    caught too: the ring reports the device gone; see PortAudioRing.)"""
    device = jack_device()
    if device is None:
        pytest.skip("no JACK output device: start the JACK dummy server (make test does) to run real-time tests")
    manifest, arrays = pack_at(44100)
    with open_preview(manifest, arrays, recipe_for(manifest), device=device.index) as engine:
        engine.send(Play())
        wait_for(engine, lambda s: s.playing and s.original_s > 0.2)
        engine.send(Pause())
        wait_for(engine, lambda s: not s.playing)
        with engine.stream_lock:  # as the engine does: never stop one PortAudio stream from two threads at once
            engine._stream.abort()  # PortAudio says the stream ended (its finished callback)
        state = wait_for(engine, lambda s: s.device_state == "the audio device went away; playback stopped")
        assert not state.playing
        assert not engine.has_device
        engine.send(Play())  # the null output takes over: the session goes on without sound
        assert wait_for(engine, lambda s: s.playing and s.original_s > 0.5).device_state.startswith("the audio")
