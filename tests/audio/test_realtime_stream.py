"""The engine on a real, paced PortAudio device: the JACK dummy driver that `make test` starts.

No physical sound card exists on CI machines; JACK's dummy backend is a real JACK server whose clock paces the
PortAudio callback exactly like a sound card would, so underflows here are real underflows. The engine's device
stream runs in PortAudio's blocking mode, whose layer over JACK does not pass JACK's xruns on; a second JACK client
(`XrunWatch`) hears them from the server itself.
"""

import contextlib
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from fanremix.audio.devices import scan_output_devices
from fanremix.audio.preview import open_preview
from fanremix.audio.realtime import Play, SetGain, SetPan, SetTempoKey
from fanremix.domain.recipe import Effect
from tests.audio.conftest import program

pytestmark = pytest.mark.realtime

SECONDS = 30.0
CHANGES_PER_SECOND = 20
LATENCY_BOUND_S = 0.300
CHAIN = (
    Effect.of("HighpassFilter", cutoff_frequency_hz=60.0),
    Effect.of("Compressor", threshold_db=-18.0, ratio=3.0),
    Effect.of("Chorus"),
    Effect.of("Delay", delay_seconds=0.25, mix=0.2),
    Effect.of("Reverb", room_size=0.5, wet_level=0.2),
    Effect.of("Gain", gain_db=-3.0),
)


class XrunWatch:
    """Counts the JACK server's xruns (any client missing its deadline) while it is open."""

    def __init__(self) -> None:
        import jack  # JACK-Client: talks to the running server; no process callback, so it adds no load

        self.count = 0
        self._client = jack.Client("fanremix-xrun-watch", no_start_server=True)
        self._client.set_xrun_callback(self._xrun)
        self.realtime = self._client.realtime
        self._client.activate()

    def _xrun(self, delay_usecs: float) -> None:
        self.count += 1

    def dsp_load(self) -> float:
        """The share of the block period the server's clients took to run, per JACK (0..1, smoothed by JACK)."""
        return self._client.cpu_load() / 100.0

    def close(self) -> None:
        self._client.deactivate()
        self._client.close()


@contextlib.contextmanager
def xrun_watch() -> Iterator[XrunWatch]:
    watch = XrunWatch()
    try:
        yield watch
    finally:
        watch.close()


def jack_device():
    scan = scan_output_devices()
    for device in scan.devices:
        if "JACK" in device.host_api:
            return device
    return None


@pytest.fixture
def eight_stem_pack(make_pack):
    roles = ("vocals", "drums", "bass", "keys", "guitar", "other", "keys", "other")
    stems = {f"stem{i}": (role, program(SECONDS + 4, seed=i)) for i, role in enumerate(roles)}
    return make_pack(stems, subtype="PCM_16")


def test_thirty_seconds_of_edits_play_without_a_single_dropout(eight_stem_pack) -> None:
    device = jack_device()
    if device is None:
        pytest.skip("no JACK output device: start the JACK dummy server (make test does) to run real-time tests")
    pack = eight_stem_pack
    recipe = pack.recipe(loudness_lufs=None)
    for stem in pack.manifest.stems:
        recipe = recipe.with_stem(stem.id, chain=CHAIN)
    stem_ids = [s.id for s in pack.manifest.stems]
    changes = [(1.1, 0.0), (1.1, 2.0), (0.9, 2.0), (0.9, -1.0), (1.05, -1.0)]
    latencies: list[float] = []
    with (
        xrun_watch() as xruns,
        open_preview(pack.manifest, pack.arrays, recipe, device=device.index, timing=True) as engine,
    ):
        assert engine.has_device, engine.device_state
        engine.send(Play())
        started = time.monotonic()
        rng = np.random.default_rng(0)
        next_tempo_change = 5.0
        tick = 0
        waiter = threading.Event()
        while (elapsed := time.monotonic() - started) < SECONDS:
            if changes and elapsed >= next_tempo_change:
                tempo, pitch = changes.pop(0)
                sent = time.monotonic()
                engine.send(SetTempoKey(tempo, pitch))
                while time.monotonic() - sent < 2.0:
                    state = engine.poll()
                    if state is not None and (state.tempo_ratio, state.pitch_semitones) == (tempo, pitch):
                        latencies.append(time.monotonic() - sent)
                        break
                    waiter.wait(0.002)
                else:
                    latencies.append(float("inf"))
                next_tempo_change += 5.0
                continue
            stem = stem_ids[tick % len(stem_ids)]
            if tick % 2:
                engine.send(SetGain(stem, float(rng.uniform(-12, 3))))
            else:
                engine.send(SetPan(stem, float(rng.uniform(-1, 1))))
            tick += 1
            waiter.wait(1 / CHANGES_PER_SECOND)
        stats = engine.stats
        played = engine.played_frames
    assert played > 0.9 * SECONDS * pack.manifest.sample_rate, "the device did not pace the stream"
    where = "real-time" if xruns.realtime else "ordinary (not real-time)"
    assert xruns.count == 0, f"the JACK server counted {xruns.count} xruns (it runs with {where} scheduling)"
    assert stats.underflows == 0, f"underflows at blocks {stats.underflow_at[: stats.underflows].tolist()}"
    assert stats.ring_underruns == 0, f"the ring ran dry {stats.ring_underruns} times (min fill {stats.min_fill})"
    assert tick >= SECONDS * CHANGES_PER_SECOND * 0.8 * 0.9  # the edits really were sent
    assert len(latencies) == 5
    assert max(latencies) <= LATENCY_BOUND_S, latencies
