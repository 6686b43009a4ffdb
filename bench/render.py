"""Benchmark: the offline render against the pipeline a user would script with peer tools.

Ours: a 4-stem demo pack (`fanremix demo --seconds 180`), a 4-effect chain on every stem, tempo 1.1×, +2 semitones,
loudness normalisation to -14 LUFS with a -1 dBTP ceiling, FLAC 24-bit out, through `render_to_file`.
Peer, in the same run on the same stem files: `sox -m` to mix, `rubberband -3 -T 1.1 -p 2` (R3, the same engine),
`ffmpeg -af loudnorm=I=-14:TP=-1` to FLAC.

Each side runs in its own process, timed from the parent. Peak memory is measured so that no process inherits
another's: the demo pack is built in a child process of its own; our render's child reports its own high-water mark
(VmHWM in /proc/self/status, which starts afresh at exec); each peer tool runs under `/usr/bin/time -f %M`, whose
own few MiB are all a forked child starts from (without GNU time, the parent polls the tool's VmHWM instead). The
parent's wait4 figure (ru_maxrss) is not used: a child's ru_maxrss starts from the parent's peak at the fork, which
made both sides read the parent's 614 MiB.
Prints wall time, real-time factor, each side's peak memory against the decoded PCM size, the ratio ours/peer, our
per-stage breakdown, and ffmpeg's ebur128 reading of both outputs. Not a test: figures on a shared machine are
noisy, so `--runs N` repeats both sides and reports medians.

    .venv/bin/python bench/render.py [--seconds 180] [--runs 1] [--pack demo.fanpack] [--keep DIR] [--workers N]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

TEMPO = 1.1
SEMITONES = 2.0
TARGET_LUFS = -14.0
CHAINS = {  # four effects per stem, from the presets a fan would pick
    "drums": [("Compressor", "Punchy"), ("HighShelfFilter", "Air"), ("Reverb", "Room"), ("Gain", "Cut")],
    "bass": [
        ("HighpassFilter", "Rumble Cut"),
        ("Compressor", "Gentle"),
        ("LowShelfFilter", "Warmth"),
        ("Distortion", "Warm"),
    ],
    "keys": [("PeakFilter", "Mud Cut"), ("Chorus", "Wide"), ("Delay", "Echo"), ("Reverb", "Hall")],
    "lead": [("Compressor", "Gentle"), ("PeakFilter", "Presence"), ("Delay", "Slapback"), ("Reverb", "Plate")],
}


GNU_TIME = "/usr/bin/time"


@dataclass
class Measured:
    wall_s: float
    peak_rss_mb: float | None  # MiB
    method: str = ""
    time_mb: float | None = None  # what /usr/bin/time read, when the command also reported its own peak


def _vm_hwm_mib(pid: int | str) -> float | None:
    """The kernel's high-water mark of a process's resident set (VmHWM), in MiB; None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_measured(command: list[str], *, own_peak: bool = False) -> tuple[Measured, str]:
    """Run `command`, returning its wall time, its own peak RSS and its stdout.

    The peak comes from `/usr/bin/time -f %M` (GNU time is a small fresh process, so the command's ru_maxrss does not
    start from ours), or else from polling the command's VmHWM every 20 ms (it can miss growth in the last 20 ms).
    `own_peak`: the command reports its own peak on stdout; GNU time's reading is kept only as a cross-check.
    """
    with tempfile.NamedTemporaryFile(prefix="fanremix-bench-time-", suffix=".txt") as report:
        use_time = os.access(GNU_TIME, os.X_OK)
        full = [GNU_TIME, "-f", "%M", "-o", report.name, *command] if use_time else command
        peaks: list[float] = []
        started = time.perf_counter()
        process = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        poller = None
        if not own_peak and not use_time:

            def poll() -> None:
                while process.poll() is None:
                    value = _vm_hwm_mib(process.pid)
                    if value is not None:
                        peaks.append(value)
                    time.sleep(0.02)

            poller = threading.Thread(target=poll, daemon=True)
            poller.start()
        stdout, stderr = process.communicate()
        wall = time.perf_counter() - started
        if poller is not None:
            poller.join()
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr.decode(errors='replace')}")
        timed = int(Path(report.name).read_text().split()[-1]) / 1024 if use_time else None
        if own_peak:
            return Measured(wall, None, "VmHWM, reported by the child", timed), stdout.decode()
        if timed is not None:
            return Measured(wall, timed, "/usr/bin/time %M"), stdout.decode()
        return Measured(wall, max(peaks) if peaks else float("nan"), "VmHWM, polled every 20 ms"), stdout.decode()


def ebur128(path: Path) -> tuple[float, float]:
    command = ["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128=framelog=verbose:peak=true"]
    output = subprocess.run([*command, "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    summary = output[output.rindex("Summary:") :]
    integrated = float(summary.split("I:")[1].split("LUFS")[0])
    peak = float(summary.split("True peak:")[1].split("Peak:")[1].split("dBFS")[0])
    return integrated, peak


# -- our side, in a child process ---------------------------------------------------------------------------------


def child(manifest_json: Path, stem_dir: Path, recipe_json: Path, out: Path, workers: int | None) -> None:
    from fanremix.audio.offline import render_to_file
    from fanremix.domain.recipe import Recipe
    from fanremix.domain.stem_pack import PackManifest

    baseline_mb = _vm_hwm_mib("self")  # interpreter + numpy, scipy, pedalboard and the engine, before the render
    manifest = PackManifest.from_json(manifest_json.read_bytes())
    recipe = Recipe.from_json(recipe_json.read_bytes())
    stem_paths = {stem.id: stem_dir / stem.file for stem in manifest.stems}
    started = time.perf_counter()
    result = render_to_file(manifest, stem_paths, recipe, out, "flac24", workers=workers)
    render_s = time.perf_counter() - started
    print(
        json.dumps(
            {
                "render_s": render_s,
                "timings": result.timings,
                "loudness": result.loudness.to_dict(),
                "duration_s": result.duration_s,
                "baseline_mb": baseline_mb,
                "peak_mb": _vm_hwm_mib("self"),  # this process's own high-water mark, threads included
            }
        )
    )


# -- the parent ---------------------------------------------------------------------------------------------------


def prepare(args: argparse.Namespace, work: Path):
    from fanremix.audio import effects
    from fanremix.domain.recipe import Recipe
    from fanremix.rights.packfile import open_pack
    from fanremix.workspace import Workspace

    pack_path = Path(args.pack) if args.pack else work / f"demo-{args.seconds:g}s.fanpack"
    if not pack_path.exists():
        # in a process of its own: synthesising 180 s of four stems peaks at several hundred MiB, which would
        # otherwise stay this process's high-water mark
        print(f"Making the demo pack ({args.seconds:g} s) …", flush=True)
        build = (
            "import sys; from fanremix.demo import make_demo_pack; "
            "make_demo_pack(sys.argv[1], seconds=float(sys.argv[2]))"
        )
        subprocess.run([sys.executable, "-c", build, str(pack_path), repr(args.seconds)], check=True)
    opened = open_pack(pack_path, Workspace.from_environment().keyring(), workdir=work)
    manifest = opened.manifest
    recipe = Recipe.for_stems(
        manifest.id,
        manifest.pack_hash(),
        [s.id for s in manifest.stems],
        tempo_ratio=TEMPO,
        pitch_semitones=SEMITONES,
        loudness_lufs=TARGET_LUFS,
    )
    for index, stem in enumerate(manifest.stems):
        chain = CHAINS.get(stem.id) or list(CHAINS.values())[index % len(CHAINS)]
        recipe = recipe.with_chain(stem.id, tuple(effects.preset_effect(kind, preset) for kind, preset in chain))
    (work / "pack.json").write_text(manifest.to_json())
    (work / "recipe.json").write_text(recipe.to_json())
    return opened, manifest


def ours(work: Path, stem_dir: Path, workers: int | None) -> tuple[Measured, dict]:
    out = work / "ours.flac"
    command = [sys.executable, __file__, "--workers", str(workers or 0), "--child", str(work / "pack.json")]
    measured, stdout = run_measured([*command, str(stem_dir), str(work / "recipe.json"), str(out)], own_peak=True)
    data = json.loads(stdout.strip().splitlines()[-1])
    measured.peak_rss_mb = data["peak_mb"]
    return measured, data


def peer(work: Path, stem_files: list[Path]) -> dict[str, Measured]:
    mixed, stretched, out = work / "peer-mix.wav", work / "peer-stretched.wav", work / "peer.flac"
    steps = {
        "sox -m": ["sox", "-m", *map(str, stem_files), "-e", "floating-point", "-b", "32", str(mixed)],
        "rubberband -3": ["rubberband", "-3", "-T", str(TEMPO), "-p", f"{SEMITONES:g}", str(mixed), str(stretched)],
        "ffmpeg loudnorm": [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(stretched),
            "-af",
            f"loudnorm=I={TARGET_LUFS:g}:TP=-1",
            "-ar",
            "44100",
            "-c:a",
            "flac",
            "-sample_fmt",
            "s32",
            "-bits_per_raw_sample",
            "24",
            str(out),
        ],
    }
    return {name: run_measured(command)[0] for name, command in steps.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="length of the generated demo song")
    parser.add_argument("--pack", help="use this pack instead of generating the demo")
    parser.add_argument("--runs", type=int, default=1, help="repeat both sides and report medians")
    parser.add_argument("--keep", help="keep the work files in this folder")
    parser.add_argument("--workers", type=int, help="threads for our render (default: every core)")
    parser.add_argument("--child", nargs=4, metavar=("MANIFEST", "STEMS", "RECIPE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*(Path(p) for p in args.child), args.workers or None)
        return
    for tool in ("sox", "rubberband", "ffmpeg"):
        if shutil.which(tool) is None:
            raise SystemExit(f"The peer pipeline needs {tool}; install it first.")

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="fanremix-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        opened, manifest = prepare(args, work)
        stem_files = [opened.root / stem.file for stem in manifest.stems]
        frames = max(stem.frames for stem in manifest.stems)
        pcm_mb = len(manifest.stems) * frames * 2 * 4 / 1e6  # float32 stereo, as the engine holds them
        pcm_mib = pcm_mb * 1e6 / 2**20
        seconds = frames / manifest.sample_rate
        ours_runs, peer_runs = [], []
        for run in range(args.runs):
            ours_runs.append(ours(work, opened.root, args.workers))
            peer_runs.append(peer(work, stem_files))
            print(
                f"run {run + 1}: ours {ours_runs[-1][0].wall_s:.2f} s, "
                f"peer {sum(m.wall_s for m in peer_runs[-1].values()):.2f} s",
                flush=True,
            )
        opened.close()
        report(args, manifest, seconds, pcm_mb, pcm_mib, ours_runs, peer_runs, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def report(args, manifest, seconds, pcm_mb, pcm_mib, ours_runs, peer_runs, work: Path) -> None:
    median = statistics.median
    ours_wall = median(m.wall_s for m, _ in ours_runs)
    ours_render = median(d["render_s"] for _, d in ours_runs)
    ours_peak = max(m.peak_rss_mb for m, _ in ours_runs)  # MiB, the child's own VmHWM
    baseline = median(d["baseline_mb"] for _, d in ours_runs)
    peer_steps = {name: median(run[name].wall_s for run in peer_runs) for name in peer_runs[0]}
    peer_step_peaks = {name: max(run[name].peak_rss_mb for run in peer_runs) for name in peer_runs[0]}
    peer_wall = sum(peer_steps.values())
    peer_peak = max(peer_step_peaks.values())  # the steps run one after another: the pipeline's peak is the largest
    peer_method = next(iter(peer_runs[0].values())).method
    stages = {name: median(d["timings"].get(name, 0.0) for _, d in ours_runs) for name in ours_runs[0][1]["timings"]}
    total = stages.pop("total", ours_render)
    loud = ours_runs[-1][1]["loudness"]
    out_seconds = ours_runs[-1][1]["duration_s"]

    print()
    print(
        f"Benchmark: {len(manifest.stems)} stems × {seconds:.1f} s at {manifest.sample_rate} Hz "
        f"(decoded PCM {pcm_mib:.0f} MiB), tempo {TEMPO}×, {SEMITONES:+g} semitones, 4 effects per stem, "
        f"{TARGET_LUFS:g} LUFS / -1 dBTP, FLAC 24-bit; {args.runs} run(s), medians; {os.cpu_count()} cores, "
        f"our workers: {args.workers or os.cpu_count()}"
    )
    print()
    print(f"{'':24}{'wall':>9}{'× real time':>13}{'peak RSS':>12}{'× PCM':>8}")
    print(
        f"{'ours (process)':24}{ours_wall:8.2f}s{seconds / ours_wall:12.1f}×{ours_peak:9.0f} MiB"
        f"{ours_peak / pcm_mib:7.2f}×"
    )
    print(f"{'  render_to_file':24}{ours_render:8.2f}s{seconds / ours_render:12.1f}×")
    print(
        f"{'peer (sox+rb+ffmpeg)':24}{peer_wall:8.2f}s{seconds / peer_wall:12.1f}×{peer_peak:9.0f} MiB"
        f"{peer_peak / pcm_mib:7.2f}×"
    )
    for name, wall in peer_steps.items():
        print(f"{'  ' + name:24}{wall:8.2f}s{'':13}{peer_step_peaks[name]:9.0f} MiB")
    timed = [m.time_mb for m, _ in ours_runs if m.time_mb is not None]
    check = f", /usr/bin/time read {max(timed):.0f} MiB" if timed else ""
    print(f"(peak RSS: ours is the render process's own VmHWM{check}; the peer's by {peer_method})")
    print()
    ratio = ours_wall / peer_wall
    print(f"ratio ours/peer (whole processes): {ratio:.2f}   (target <= 0.8: {'met' if ratio <= 0.8 else 'NOT met'})")
    print(f"ratio ours/peer (render_to_file):  {ours_render / peer_wall:.2f}")
    print(
        f"peak memory, ours: {ours_peak:.0f} MiB = {ours_peak / pcm_mib:.2f}× the decoded PCM ({pcm_mib:.0f} MiB; "
        f"3× = {3 * pcm_mib:.0f} MiB, target <= 3×: {'met' if ours_peak <= 3 * pcm_mib else 'NOT met'}); "
        f"{ours_peak - baseline:.0f} MiB above the {baseline:.0f} MiB interpreter + libraries baseline"
    )
    print(
        f"peak memory, peer: {peer_peak:.0f} MiB = {peer_peak / pcm_mib:.2f}× the decoded PCM; "
        f"ours/peer {ours_peak / peer_peak:.2f}"
    )
    print()
    print("our stages (render_to_file):")
    for name, value in sorted(stages.items(), key=lambda item: -item[1]):
        print(f"  {name:<10}{value:7.2f} s  {100 * value / total:5.1f} %")
    print(f"  {'total':<10}{total:7.2f} s")
    print()
    ours_i, ours_tp = ebur128(work / "ours.flac")
    peer_i, peer_tp = ebur128(work / "peer.flac")
    print(
        f"ours: {out_seconds:.3f} s out; engine reads {loud['integrated_lufs']:.2f} LUFS, "
        f"{loud['true_peak_dbtp']:.2f} dBTP; ffmpeg ebur128 reads I {ours_i:.1f} LUFS, TP {ours_tp:.1f} dBTP"
    )
    print(f"peer: ffmpeg ebur128 reads I {peer_i:.1f} LUFS, TP {peer_tp:.1f} dBTP")


if __name__ == "__main__":
    main()
