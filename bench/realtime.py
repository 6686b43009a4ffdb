"""Real-time preview benchmark: 60 s on the JACK dummy device with 8 stems, a 6-effect chain on each, 20 edits
per second and a tempo or key change every 5 s. Prints callback cost, render headroom, ring fill, change-to-audible
latencies and underflows.

    .venv/bin/python bench/realtime.py [--seconds 60]

Needs a running JACK server (`scripts/with-jack.sh .venv/bin/python bench/realtime.py` starts the dummy one).
The peer figure is the device itself: the block period every number is compared with.
"""

import argparse
import hashlib
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np

from fanremix.audio.demo_song import render_demo_song
from fanremix.audio.devices import scan_output_devices
from fanremix.audio.preview import open_preview
from fanremix.audio.realtime import Play, SetGain, SetPan, SetTempoKey
from fanremix.domain import policy_templates
from fanremix.domain.recipe import Recipe
from fanremix.domain.stem_pack import PackManifest, Stem

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for the test's effect chain
from tests.audio.test_realtime_stream import CHAIN, xrun_watch  # the same load as the real-stream test

BLOCK = 512


def eight_stems(seconds: float) -> tuple[PackManifest, dict[str, np.ndarray]]:
    """The demo song's four stems plus four variants (delayed by one beat), as an in-memory 8-stem pack."""
    song = render_demo_song(seconds)
    beat = round(song.sample_rate * 60 / song.bpm)
    arrays: dict[str, np.ndarray] = {}
    stems = []
    for copy in (0, 1):
        for stem in song.stems:
            audio = stem.audio if copy == 0 else np.roll(stem.audio, beat, axis=0) * np.float32(0.7)
            stem_id = f"{stem.id}{copy}"
            arrays[stem_id] = np.ascontiguousarray(audio)
            digest = hashlib.sha256(arrays[stem_id].tobytes()).hexdigest()
            stems.append(Stem(stem_id, f"{stem.name} {copy}", stem.role, f"{stem_id}.flac", digest, 2, len(audio)))
    manifest = PackManifest(
        id="bench-8", title=song.title, artists=song.artists, isrc=None, bpm=song.bpm, key=song.key,
        sample_rate=song.sample_rate, rightsholders=(), stems=tuple(stems), policy=policy_templates.open_remix(),
    )  # fmt: skip
    return manifest, arrays


def wait_until(condition, timeout: float) -> float | None:
    """Seconds until condition() holds, polled every 1 ms, or None."""
    started = time.monotonic()
    event = threading.Event()
    while (elapsed := time.monotonic() - started) < timeout:
        if condition():
            return elapsed
        event.wait(0.001)
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    jack = [d for d in scan_output_devices().devices if "JACK" in d.host_api]
    if not jack:
        print("No JACK output device; run under scripts/with-jack.sh", file=sys.stderr)
        return 2
    manifest, arrays = eight_stems(args.seconds + 10)
    recipe = Recipe.for_stems(manifest.id, manifest.pack_hash(), arrays, loudness_lufs=None)
    for stem_id in arrays:
        recipe = recipe.with_stem(stem_id, chain=CHAIN)
    rate = manifest.sample_rate
    period = BLOCK / rate
    gain_latency: list[float] = []
    stretched_gain_latency: list[float] = []
    tempo_latency: list[float] = []
    dsp: list[float] = []  # JACK's DSP load: the time its clients' callbacks took, as a share of the period
    changes = [(1.1, 0.0), (1.1, 2.0), (0.9, 2.0), (0.9, -1.0), (1.0, 0.0)] * 10
    latest = {"state": None}

    def heard(serial: int) -> bool:
        state = engine.poll() or latest["state"]
        latest["state"] = state
        return state is not None and state.edit_serial >= serial

    with (
        xrun_watch() as xruns,
        open_preview(manifest, arrays, recipe, device=jack[0].index, block_frames=BLOCK, timing=True) as engine,
    ):
        engine.send(Play())
        rng = np.random.default_rng(0)
        ids = list(arrays)
        started = time.monotonic()
        next_change = 5.0
        tick = 0
        pause = threading.Event()
        tempo = (1.0, 0.0)
        while (elapsed := time.monotonic() - started) < args.seconds:
            if elapsed >= next_change:
                tempo = changes.pop(0)
                serial = engine.send(SetTempoKey(*tempo))
                took = wait_until(lambda s=serial: heard(s), 2.0)
                tempo_latency.append(took if took is not None else float("inf"))
                next_change += 5.0
                continue
            dsp.append(xruns.dsp_load())
            stem = ids[tick % len(ids)]
            command = SetGain(stem, float(rng.uniform(-12, 3))) if tick % 2 else SetPan(stem, float(rng.uniform(-1, 1)))
            serial = engine.send(command)
            # measure one gain edit in ten, so the edit rate stays at 20/s; not in the first half second, while the
            # stream still plays the silence PortAudio queued when it opened
            if tick % 10 == 1 and elapsed >= 0.5:
                took = wait_until(lambda s=serial: heard(s), 1.0)
                (gain_latency if tempo == (1.0, 0.0) else stretched_gain_latency).append(took or float("inf"))
            tick += 1
            pause.wait(max(0.0, started + tick / 20 - time.monotonic()))  # 20 edits per second on average
        stats = engine.stats
        played = engine.played_frames
    load = np.array(dsp[20:] or [0.0])
    render = np.array(stats.render_ns, dtype=np.float64) / 1e9
    fills = np.array(stats.fills or [0])
    print(f"Real-time preview: {args.seconds:.0f} s on {jack[0].label}, block {BLOCK} ({period * 1000:.1f} ms), "
          f"8 stems x 6 effects, {tick / args.seconds:.1f} edits/s, tempo/key change every 5 s")  # fmt: skip
    print(f"  frames played: {played} (expected {args.seconds * rate:.0f}); JACK server scheduling: "
          f"{'real-time' if xruns.realtime else 'ordinary'}")  # fmt: skip
    p50, p99, worst = np.percentile(load, 50), np.percentile(load, 99), load.max()
    print(
        f"  callback duration (PortAudio's C callback; JACK's DSP load = its clients' callback time / block period, "
        f"sampled every 50 ms): p50 {p50:.2%}, p99 {p99:.2%}, max {worst:.2%}"
    )
    headroom = stats.render_frames / rate / render.sum()
    alone, chunk = period / np.median(render), period / render.max()
    print(f"  render headroom: {headroom:.1f}x real time overall (a plain block: {alone:.0f}x; "
          f"the block that runs a Rubber Band chunk: {chunk:.2f}x)")  # fmt: skip
    print(f"  ring fill: min {stats.min_fill} frames, median {int(np.median(fills))} frames")
    print(f"  gain change -> audible: median {statistics.median(gain_latency) * 1000:.0f} ms, "
          f"max {max(gain_latency) * 1000:.0f} ms (target <= 50 ms; {len(gain_latency)} edits at tempo 1)")  # fmt: skip
    if stretched_gain_latency:
        median, worst = statistics.median(stretched_gain_latency), max(stretched_gain_latency)
        print(f"  gain change -> audible while stretching: median {median * 1000:.0f} ms, max {worst * 1000:.0f} ms")
    print(f"  tempo/key change -> audible: median {statistics.median(tempo_latency) * 1000:.0f} ms, "
          f"max {max(tempo_latency) * 1000:.0f} ms (target <= 300 ms)")  # fmt: skip
    print(f"  underflows: {xruns.count} xruns counted by the JACK server, {stats.underflows} reported by PortAudio; "
          f"ring underruns: {stats.ring_underruns}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
