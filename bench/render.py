"""Benchmark: the offline render against the pipeline a user would script with peer tools.

Ours: a 4-stem demo pack (`fanremix demo --seconds 180`), a 4-effect chain on every stem, tempo 1.1×, +2 semitones,
loudness normalisation to -14 LUFS with a -1 dBTP ceiling, FLAC 24-bit out, through `render_to_file`.
Peer, in the same run on the same stem files: `sox -m` to mix, `rubberband -3 -T 1.1 -p 2` (R3, the same engine),
`ffmpeg -af loudnorm=I=-14:TP=-1` to FLAC.

Each side runs in its own process, timed from the parent; peak memory is the child's peak resident set (wait4).
Prints wall time, real-time factor, peak memory against the decoded PCM size, the ratio ours/peer, our per-stage
breakdown, and ffmpeg's ebur128 reading of both outputs. Not a test: figures on a shared machine are noisy, so
`--runs N` repeats both sides and reports medians.

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


@dataclass
class Measured:
    wall_s: float
    peak_rss_mb: float


def run_measured(command: list[str], **kwargs) -> tuple[Measured, str]:
    """Run `command`, returning its wall time, its own peak RSS and its stdout."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)
    stdout = process.stdout.read() if process.stdout else b""
    stderr = process.stderr.read() if process.stderr else b""
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr.decode(errors='replace')}")
    return Measured(wall, usage.ru_maxrss / 1024), stdout.decode()


def ebur128(path: Path) -> tuple[float, float]:
    command = ["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128=framelog=verbose:peak=true"]
    output = subprocess.run([*command, "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    summary = output[output.rindex("Summary:") :]
    integrated = float(summary.split("I:")[1].split("LUFS")[0])
    peak = float(summary.split("True peak:")[1].split("Peak:")[1].split("dBFS")[0])
    return integrated, peak


# -- our side, in a child process ---------------------------------------------------------------------------------


def child(manifest_json: Path, stem_dir: Path, recipe_json: Path, out: Path, workers: int | None) -> None:
    import resource

    from fanremix.audio.offline import render_to_file
    from fanremix.domain.recipe import Recipe
    from fanremix.domain.stem_pack import PackManifest

    baseline_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
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
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


# -- the parent ---------------------------------------------------------------------------------------------------


def prepare(args: argparse.Namespace, work: Path):
    from fanremix.audio import effects
    from fanremix.demo import make_demo_pack
    from fanremix.domain.recipe import Recipe
    from fanremix.rights.packfile import open_pack
    from fanremix.workspace import Workspace

    pack_path = Path(args.pack) if args.pack else work / f"demo-{args.seconds:g}s.fanpack"
    if not pack_path.exists():
        print(f"Making the demo pack ({args.seconds:g} s) …", flush=True)
        make_demo_pack(pack_path, seconds=args.seconds)
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
    measured, stdout = run_measured([*command, str(stem_dir), str(work / "recipe.json"), str(out)])
    return measured, json.loads(stdout.strip().splitlines()[-1])


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
    ours_peak = max(m.peak_rss_mb for m, _ in ours_runs)  # MiB, from ru_maxrss
    baseline = median(d["baseline_mb"] for _, d in ours_runs)
    peer_steps = {name: median(run[name].wall_s for run in peer_runs) for name in peer_runs[0]}
    peer_wall = sum(peer_steps.values())
    peer_peak = max(m.peak_rss_mb for run in peer_runs for m in run.values())
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
    print(f"{'':24}{'wall':>9}{'× real time':>13}{'peak RSS':>12}")
    print(f"{'ours (process)':24}{ours_wall:8.2f}s{seconds / ours_wall:12.1f}×{ours_peak:9.0f} MiB")
    print(f"{'  render_to_file':24}{ours_render:8.2f}s{seconds / ours_render:12.1f}×")
    print(f"{'peer (sox+rb+ffmpeg)':24}{peer_wall:8.2f}s{seconds / peer_wall:12.1f}×{peer_peak:9.0f} MiB")
    for name, wall in peer_steps.items():
        print(f"{'  ' + name:24}{wall:8.2f}s")
    print()
    ratio = ours_wall / peer_wall
    print(f"ratio ours/peer (whole processes): {ratio:.2f}   (target <= 0.8: {'met' if ratio <= 0.8 else 'NOT met'})")
    print(f"ratio ours/peer (render_to_file):  {ours_render / peer_wall:.2f}")
    print(
        f"peak memory: {ours_peak:.0f} MiB = {ours_peak / pcm_mib:.2f}× the decoded PCM "
        f"(target <= 3×: {'met' if ours_peak <= 3 * pcm_mib else 'NOT met'}); "
        f"{ours_peak - baseline:.0f} MiB above the {baseline:.0f} MiB interpreter + libraries baseline"
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
