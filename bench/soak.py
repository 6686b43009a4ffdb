"""Soak: the real app window previewing on the JACK dummy device for 30 minutes while its parameters are automated.

    scripts/with-jack.sh .venv/bin/python bench/soak.py [--minutes 30]

The main window runs offscreen (QT_QPA_PLATFORM=offscreen) with the engine on JACK, loops the demo song, and an
automation timer on the GUI thread makes 20 edits a second through the session (what the mixer calls): fader moves on
every stem, pans, a mute or solo now and then, an effect added and its parameter swept, and a tempo or key change
every 30 s. It prints, per minute and at the end:

- underflows (the JACK server's xruns and PortAudio's output underflows, plus ring underruns): target 0;
- memory: resident size, sampled every 5 s; growth is the last minute's median against the second minute's
  (the first is warm-up): target flat within 5%. The app keeps every edit in its undo history (no limit), so
  36,000 automated edits grow it by design; `--undo-limit N` caps the history to tell that apart from a leak;
- GUI-thread stalls: a 10 ms precise timer records the gaps between its ticks; gaps over 50 ms: target 0.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

STALL_MS = 50.0
TICK_MS = 10
EDIT_INTERVAL_MS = 50
TEMPO_KEY_EVERY_S = 30.0
RSS_EVERY_S = 5.0


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--song-seconds", type=float, default=60.0)
    parser.add_argument(
        "--undo-limit", type=int, default=0, help="cap the session's undo history (0: as the app ships, unlimited)"
    )
    args = parser.parse_args()

    from PySide6.QtCore import Qt, QTimer

    from fanremix.audio.devices import scan_output_devices
    from fanremix.demo import make_demo_pack
    from fanremix.domain.recipe import Effect
    from fanremix.gui.app import create_application
    from fanremix.gui.main_window import MainWindow
    from fanremix.gui.settings import GuiSettings
    from fanremix.workspace import Workspace

    jack = [d for d in scan_output_devices().devices if "JACK" in d.host_api]
    if not jack:
        print("No JACK output device; run under scripts/with-jack.sh", file=sys.stderr)
        return 2
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for the tests' xrun watch
    from tests.audio.test_realtime_stream import XrunWatch

    xruns = XrunWatch()  # PortAudio's JACK blocking layer does not report the server's xruns; the server does
    temp = Path(tempfile.mkdtemp(prefix="fanremix-soak-"))
    for name in ("CONFIG", "DATA", "CACHE"):
        os.environ[f"FANREMIX_{name}_DIR"] = str(temp / name.lower())
    pack = temp / "song.fanpack"
    make_demo_pack(pack, seconds=args.song_seconds)

    app = create_application([sys.argv[0]])
    settings = GuiSettings(output_device=jack[0].name)
    window = MainWindow(Workspace.from_environment(), settings=settings, use_device=True)
    window.resize(1280, 800)
    window.show()

    duration = args.minutes * 60
    state = {
        "started": 0.0,
        "last_tick": 0.0,
        "edits": 0,
        "refused": 0,
        "next_tempo": TEMPO_KEY_EVERY_S,
        "counters": (0, 0),
    }
    stalls: list[tuple[float, float]] = []  # (seconds into the run, gap in ms)
    dropouts: list[tuple[float, int, int, float]] = []  # (seconds in, underflows, underruns, s since a tempo change)
    rss: list[tuple[float, int]] = []
    minute_lines: list[str] = []

    def tick() -> None:
        now = time.perf_counter()
        gap = (now - state["last_tick"]) * 1000
        state["last_tick"] = now
        if gap > STALL_MS:
            stalls.append((now - state["started"], gap))

    def counters() -> tuple[int, int]:
        stats = window.session.engine.stats
        return stats.underflows + xruns.count, stats.ring_underruns

    def edit() -> None:
        session = window.session
        stems = session.stem_ids
        n = state["edits"]
        state["edits"] += 1
        elapsed = time.perf_counter() - state["started"]
        stem = stems[n % len(stems)]
        done = True
        if elapsed >= state["next_tempo"]:
            state["next_tempo"] += TEMPO_KEY_EVERY_S
            low, high = session.tempo_range
            pitch_low, pitch_high = session.pitch_range
            step = int(elapsed // TEMPO_KEY_EVERY_S) % 4
            tempo = (1.0, min(1.1, high), max(0.9, low), 1.0)[step]
            pitch = (0.0, min(2.0, pitch_high), max(-2.0, pitch_low), 0.0)[step]
            done = session.set_tempo(tempo) & session.set_pitch(pitch)
        elif n % 97 == 0:
            done = session.toggle_mute(stem)
        elif n % 211 == 0:
            done = session.toggle_solo(stem)
            QTimer.singleShot(2000, lambda s=stem: session.set_solo(s, False))
        elif n % 503 == 0 and not session.chain(stem):
            done = session.add_effect(stem, Effect.of("Reverb", room_size=0.5))
        elif n % 2 == 0:
            done = session.set_gain(stem, -12.0 + 12.0 * ((n // len(stems)) % 20) / 20)
            if n % 40 == 0:
                session.seal()  # the fader is let go
        else:
            done = session.set_pan(stem, -1.0 + 2.0 * ((n * 7) % 21) / 20)
        state["refused"] += not done

    def sample() -> None:
        elapsed = time.perf_counter() - state["started"]
        rss.append((elapsed, rss_bytes()))
        now = counters()
        if now != state["counters"]:  # when dropouts happen, and what the machine was doing then
            since_tempo = elapsed - (state["next_tempo"] - TEMPO_KEY_EVERY_S)
            dropouts.append((elapsed, now[0] - state["counters"][0], now[1] - state["counters"][1], since_tempo))
            state["counters"] = now
        if elapsed >= len(minute_lines) * 60 + 60:
            underflows, underruns = counters()
            load = os.getloadavg()[0]
            line = (
                f"minute {len(minute_lines) + 1:>3}: load {load:4.1f}, RSS {rss[-1][1] / 1e6:7.1f} MB, "
                f"underflows {underflows}, ring underruns {underruns}, stalls > {STALL_MS:g} ms so far {len(stalls)}, "
                f"edits {state['edits']}"
            )
            minute_lines.append(line)
            print(line, flush=True)
        if elapsed >= duration:
            finish()

    watchdog = QTimer()
    watchdog.setTimerType(Qt.TimerType.PreciseTimer)
    watchdog.setInterval(TICK_MS)
    watchdog.timeout.connect(tick)
    automation = QTimer()
    automation.setInterval(EDIT_INTERVAL_MS)
    automation.timeout.connect(edit)
    sampler = QTimer()
    sampler.setInterval(int(RSS_EVERY_S * 1000))
    sampler.timeout.connect(sample)
    result = {"code": 1}

    def finish() -> None:
        for timer in (watchdog, automation, sampler):
            timer.stop()
        underflows, underruns = counters()
        warm = [value for at, value in rss if 60 <= at < 120] or [rss[0][1]]
        last = [value for at, value in rss if at >= rss[-1][0] - 60]
        growth = statistics.median(last) / statistics.median(warm) - 1
        worst = max((gap for _, gap in stalls), default=0.0)
        print(f"\nSoak: {args.minutes:g} min on {jack[0].label}, {state['edits']} edits ({state['refused']} refused)")
        print(f"  underflows: {underflows}, ring underruns: {underruns} (target 0)")
        print(
            f"  memory: {statistics.median(warm) / 1e6:.1f} MB in minute 2 -> {statistics.median(last) / 1e6:.1f} MB "
            f"in the last minute: {growth:+.1%} (target within 5%)"
        )
        print(f"  GUI-thread stalls over {STALL_MS:g} ms: {len(stalls)} (worst {worst:.0f} ms; target 0)")
        for at, gap in stalls[:10]:
            print(f"    at {at:7.1f} s: {gap:.0f} ms")
        for at, under, ring, since in dropouts[:20]:
            print(f"  dropouts in the 5 s before {at:7.1f} s: {under} underflows, {ring} ring underruns "
                  f"({since:.0f} s after the last tempo/key change)")  # fmt: skip
        passed = underflows + underruns == 0 and abs(growth) <= 0.05 and not stalls
        print("result:", "PASS" if passed else "FAIL", flush=True)
        result["code"] = 0 if passed else 1
        window.discard_and_close()
        app.quit()

    def loaded(session) -> None:
        if args.undo_limit:  # to tell the undo history's growth from a leak (see the module docstring)
            session.undo_stack.setUndoLimit(args.undo_limit)
        window.set_loop(True)
        window.toggle_play()
        state["started"] = state["last_tick"] = time.perf_counter()
        for timer in (watchdog, automation, sampler):
            timer.start()
        print(f"Playing {args.song_seconds:g} s of the demo song in a loop on {jack[0].label} for {args.minutes:g} min")

    window.session_loaded.connect(loaded)
    window.load_failed.connect(lambda error: (print(f"could not open the pack: {error}"), app.exit(2)))
    window.open_path(pack)
    app.exec()
    return result["code"]


if __name__ == "__main__":
    sys.exit(main())
