"""Start-up time: from process start to the main window shown with the demo pack loaded (target: median ≤ 1.5 s).

Each run starts a fresh Python process that calls `fanremix.gui.launch.launch(None, workspace)` exactly as the
`fanremix` command does; with FANREMIX_STARTUP_MARK set, the app prints a time stamp once the loaded window has been
painted, then quits. The clock starts just before the process is spawned, so interpreter start-up and imports count.

    .venv/bin/python bench/startup.py [--runs 7] [--audio]

The demo pack is made once beforehand (the first run of a real install makes it on a worker; that is timed
separately and printed too). User folders go to a temporary directory. Without --audio the engine runs on its
silent output (this machine has no sound card); with it, PortAudio is opened as a real run would.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = (
    "import sys\n"
    "from fanremix.gui.launch import launch\n"
    "from fanremix.workspace import Workspace\n"
    "sys.exit(launch(None, Workspace.from_environment(), use_device={use_device}))\n"
)
SHOWN = "FANREMIX_WINDOW_SHOWN"  # the window shows the verified pack: mixer, licence, tempo/key
READY = "FANREMIX_WINDOW_READY"  # ... and its stems are decoded: Play works


def run_once(env: dict[str, str], use_device: bool, timeout: float = 120.0) -> tuple[float, float]:
    """(seconds to the window showing the verified pack, seconds to its audio being ready to play)."""
    started = time.time()
    result = subprocess.run(
        [sys.executable, "-c", CHILD.format(use_device=use_device)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    marks = {}
    for line in result.stdout.splitlines():
        if line.startswith((SHOWN, READY)):
            name, stamp = line.split()
            marks[name] = float(stamp) - started
    if READY not in marks or SHOWN not in marks:
        raise RuntimeError(
            f"the app did not report a loaded window (exit {result.returncode}):\n{result.stderr[-2000:]}"
        )
    return marks[SHOWN], marks[READY]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--audio", action="store_true", help="open the audio device (PortAudio) as a real run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fanremix-startup-") as root:
        env = dict(os.environ)
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        for name in ("CONFIG", "DATA", "CACHE"):
            env[f"FANREMIX_{name}_DIR"] = str(Path(root) / name.lower())
        env["FANREMIX_STARTUP_MARK"] = "1"
        first = run_once(env, args.audio)  # no demo pack yet: made on a worker during this run
        runs = [run_once(env, args.audio) for _ in range(args.runs)]
    print(f"platform: {env['QT_QPA_PLATFORM']}, audio device: {'on' if args.audio else 'off (silent output)'}")
    print(f"first run (makes the 90 s demo pack): shown {first[0]:.2f} s, playable {first[1]:.2f} s")
    for index, label in ((0, "window shows the demo pack"), (1, "demo pack decoded, Play works")):
        times = [run[index] for run in runs]
        print(
            f"{label:32s} median {statistics.median(times):.2f} s  min {min(times):.2f} s  max {max(times):.2f} s"
            f"  ({', '.join(f'{t:.2f}' for t in times)})"
        )
    median = statistics.median(run[1] for run in runs)
    print(f"target ≤ 1.50 s to a playable window: {'met' if median <= 1.5 else 'NOT met'} (median {median:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
