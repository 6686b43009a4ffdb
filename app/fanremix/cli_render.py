"""`fanremix recipe` and `fanremix render`: write a remix recipe from the command line, and render one to a file.

    fanremix recipe PACK -o recipe.json [--tempo R] [--pitch N] [--gain STEM=DB] [--pan STEM=P] [--mute STEM]
                    [--solo STEM] [--effect STEM=KIND[:PRESET]] [--region START:END] [--fade-in S] [--fade-out S]
                    [--loudness LUFS|off]
    fanremix render PACK RECIPE.json -o OUT [--format FORMAT] [--no-normalize] [--no-credentials] [--passphrase]
                    [--title TITLE]

STEM is a stem's id or name; `master` names the master chain in --effect. `render` signs the file with Content
Credentials (the record of the pack, the recipe and the licence; see docs/provenance.md) unless --no-credentials.
The cli module wires these in with `add_render_commands(sub)`; handlers take (args, workspace) and raise
FanRemixError subclasses, which the main entry point prints before exiting non-zero (3 when the pack's policy
refuses the recipe).
"""

import argparse
import hashlib
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from .audio import effects
from .audio.export import FORMATS, export_format
from .audio.offline import render_to_file
from .domain.atomic import atomic_write_bytes
from .domain.errors import FanRemixError
from .domain.recipe import DEFAULT_LOUDNESS_LUFS, MASTER, Effect, Recipe
from .domain.stem_pack import PackManifest
from .rights.packfile import open_pack, read_manifest_unverified
from .workspace import Workspace


class RenderOptionError(FanRemixError):
    """A `recipe` or `render` option is malformed or names something the pack does not have."""


# -- fanremix recipe -------------------------------------------------------------------------------------------------


def _split(value: str, option: str, shape: str) -> tuple[str, str]:
    name, sep, rest = value.partition("=")
    if not sep or not name or not rest:
        raise RenderOptionError(f"{option} takes {shape}, not '{value}'.")
    return name, rest


def _number(text: str, option: str, value: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise RenderOptionError(f"{option} '{value}': '{text}' is not a number.") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise RenderOptionError(f"{option} '{value}': '{text}' is not a finite number.")
    return number


def _stem_id(manifest: PackManifest, name: str, option: str) -> str:
    stem = manifest.find_stem(name)
    if stem is None:
        known = ", ".join(f"{s.id} ({s.name})" for s in manifest.stems)
        raise RenderOptionError(f"{option}: the pack has no stem '{name}'. Its stems are: {known}.")
    return stem.id


def _effect(spec_text: str) -> Effect:
    kind_text, _, preset = spec_text.partition(":")
    kind = effects.find_kind(kind_text)
    if kind is None:
        raise RenderOptionError(
            f"--effect: unknown effect '{kind_text}'. Effects: {', '.join(effects.effect_kinds())}."
        )
    return effects.preset_effect(kind, preset or None)


def parse_region(text: str) -> tuple[float, float | None]:
    """'START:END' in seconds; either side may be left out ('30:' runs to the end, ':45' starts at 0)."""
    start_text, sep, end_text = text.partition(":")
    if not sep:
        raise RenderOptionError(f"--region takes START:END in seconds (e.g. 12.5:42), not '{text}'.")
    start = _number(start_text, "--region", text) if start_text.strip() else 0.0
    end = _number(end_text, "--region", text) if end_text.strip() else None
    return start, end


def build_recipe(manifest: PackManifest, args: argparse.Namespace) -> Recipe:
    """The recipe the `recipe` command's options describe, for `manifest`."""
    loudness: float | None = DEFAULT_LOUDNESS_LUFS
    if args.loudness is not None:
        if args.loudness.lower() in ("off", "none"):
            loudness = None
        else:
            loudness = _number(args.loudness, "--loudness", args.loudness)
    region_start, region_end = parse_region(args.region) if args.region else (0.0, None)
    recipe = Recipe.for_stems(
        manifest.id,
        manifest.pack_hash(),
        [stem.id for stem in manifest.stems],
        tempo_ratio=args.tempo,
        pitch_semitones=args.pitch,
        region_start_s=region_start,
        region_end_s=region_end,
        fade_in_s=args.fade_in,
        fade_out_s=args.fade_out,
        loudness_lufs=loudness,
    )
    for value in args.gain:
        name, db = _split(value, "--gain", "STEM=DB")
        recipe = recipe.with_stem(_stem_id(manifest, name, "--gain"), gain_db=_number(db, "--gain", value))
    for value in args.pan:
        name, pan = _split(value, "--pan", "STEM=P (-1 left … 1 right)")
        number = _number(pan, "--pan", value)
        if not -1.0 <= number <= 1.0:
            raise RenderOptionError(f"--pan '{value}': pan runs from -1 (left) to 1 (right).")
        recipe = recipe.with_stem(_stem_id(manifest, name, "--pan"), pan=number)
    for name in args.mute:
        recipe = recipe.with_stem(_stem_id(manifest, name, "--mute"), mute=True)
    for name in args.solo:
        recipe = recipe.with_stem(_stem_id(manifest, name, "--solo"), solo=True)
    for value in args.effect:
        name, spec_text = _split(value, "--effect", "STEM=KIND[:PRESET]")
        target = MASTER if name.lower() == MASTER else _stem_id(manifest, name, "--effect")
        recipe = recipe.with_chain(target, (*recipe.chain_of(target), _effect(spec_text)))
    return recipe


def _describe_chain(chain: tuple[Effect, ...]) -> str:
    return ", ".join(f"{e.kind}" + (f" ({e.preset})" if e.preset else "") for e in chain) or "no effects"


def cmd_recipe(args: argparse.Namespace, workspace: Workspace) -> int:
    manifest = read_manifest_unverified(Path(args.pack))
    recipe = build_recipe(manifest, args)
    out = Path(args.output)
    atomic_write_bytes(out, (recipe.to_json() + "\n").encode("utf-8"))
    print(f"Wrote the recipe {out} for “{manifest.title}” ({manifest.id})", flush=True)
    for mix in recipe.stems:
        flags = " ".join(flag for flag, on in (("muted", mix.mute), ("solo", mix.solo)) if on)
        print(
            f"  {mix.stem_id:<12} {mix.gain_db:+6.2f} dB  pan {mix.pan:+.2f}  {flags:<10} {_describe_chain(mix.chain)}"
        )
    print(f"  master: {_describe_chain(recipe.master)}")
    end = "end" if recipe.region_end_s is None else f"{recipe.region_end_s:g} s"
    target = "off" if recipe.loudness_lufs is None else f"{recipe.loudness_lufs:g} LUFS"
    print(
        f"  tempo {recipe.tempo_ratio:g}×, key {recipe.pitch_semitones:+g} semitones, "
        f"region {recipe.region_start_s:g} s – {end}, loudness {target}"
    )
    violations = manifest.policy.check(recipe, manifest)
    if violations:
        print("warning: this pack's licence would refuse this recipe:", file=sys.stderr)
        for violation in violations:
            print(f"  - {violation.message} [{violation.code}]", file=sys.stderr)
    return 0


# -- fanremix render -------------------------------------------------------------------------------------------------


class ProgressBar:
    """A one-line progress bar on a terminal: stage name, bar, percentage."""

    WIDTH = 30

    def __init__(self, stream: TextIO, min_interval_s: float = 0.1):
        self.stream = stream
        self.min_interval_s = min_interval_s
        self.shown = ""
        self.last = -float("inf")

    def __call__(self, stage: str, fraction: float) -> None:
        now = time.monotonic()
        filled = int(self.WIDTH * fraction)
        line = f"\r{stage:<9} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {fraction * 100:5.1f}%"
        if line != self.shown and (now - self.last >= self.min_interval_s or fraction >= 1.0):
            self.stream.write(line)
            self.stream.flush()
            self.shown, self.last = line, now

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def _read_recipe(path: Path) -> Recipe:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RenderOptionError(f"Cannot read the recipe {path}: {exc.strerror}.") from None
    return Recipe.from_json(data)


def _minutes(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60.0)
    return f"{int(minutes)}:{rest:06.3f}"


def _figure(value: float | None, unit: str) -> str:
    if value is None:
        return "not measurable (silent or under 0.4 s)"
    return f"{value:.1f} {unit}"


def cmd_render(args: argparse.Namespace, workspace: Workspace) -> int:
    recipe = _read_recipe(Path(args.recipe))
    fmt = export_format(args.format, args.output)  # a bad format or name fails before the pack is opened
    if args.no_normalize:  # said in the recipe, so that the record's recipe renders this very audio again
        recipe = replace(recipe, loudness_lufs=None)
    identity = None
    if not args.no_credentials:  # unlock (or make) the signing identity before any time goes into rendering
        from .passphrase import ask_passphrase
        from .rights.identity import ensure_fan_identity

        passphrase = ask_passphrase("Signing key passphrase: ") if args.passphrase else None
        identity = ensure_fan_identity(workspace.paths.config, passphrase=passphrase)
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    try:
        with open_pack(Path(args.pack), workspace.keyring()) as pack:
            if identity is None:
                result = render_to_file(
                    pack.manifest, pack.stem_paths, recipe, Path(args.output), fmt, progress=bar, normalize=True
                )
            else:
                from .provenance_flow import export_with_provenance

                exported = export_with_provenance(
                    pack, recipe, Path(args.output), fmt.name, identity, title=args.title, progress=bar
                )
                result = replace(exported.render, path=exported.path)
    finally:
        if bar:
            bar.finish()
    report = result.loudness
    target = "" if report.target_lufs is None else f" (target {report.target_lufs:g} LUFS)"
    print(f"Wrote {result.path} ({result.format.label}, {result.sample_rate} Hz, {_minutes(result.duration_s)})")
    print(f"  integrated loudness: {_figure(report.integrated_lufs, 'LUFS')}{target}")
    print(f"  true peak:           {report.true_peak_dbtp:.1f} dBTP")
    print(f"  duration:            {result.duration_s:.3f} s")
    if identity is None:
        print(f"  sha256:              {result.sha256}", flush=True)
        print(
            "warning: written WITHOUT Content Credentials (--no-credentials): it carries no record of what it is made "
            "from or under which licence, and the rights service will not accept it.",
            file=sys.stderr,
        )
        return 0
    with exported.path.open("rb") as signed:
        print(f"  sha256:              {hashlib.file_digest(signed, 'sha256').hexdigest()} (the signed file)")
    if exported.sidecar is not None:
        print(f"  Content Credentials: in the sidecar {exported.sidecar.name}; keep it with the file")
    print(f"  Content Credentials: signed by {identity.signer_words}; check with `fanremix verify`", flush=True)
    return 0


# -- wiring ------------------------------------------------------------------------------------------------------------


def add_render_commands(subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `recipe` and `render` to the `fanremix` command's sub-commands."""
    recipe = subparsers.add_parser("recipe", help="write a remix recipe (JSON) for a pack, for scripts and batches")
    recipe.add_argument("pack", help="the .fanpack (or unpacked pack folder) the recipe is for")
    recipe.add_argument("-o", "--output", required=True, help="the recipe file to write")
    recipe.add_argument("--tempo", type=float, default=1.0, metavar="R", help="tempo ratio (1.1 = 10%% faster)")
    recipe.add_argument("--pitch", type=float, default=0.0, metavar="N", help="key change in semitones")
    recipe.add_argument("--gain", action="append", default=[], metavar="STEM=DB", help="a stem's gain in dB")
    recipe.add_argument("--pan", action="append", default=[], metavar="STEM=P", help="a stem's pan, -1 to 1")
    recipe.add_argument("--mute", action="append", default=[], metavar="STEM", help="mute a stem")
    recipe.add_argument("--solo", action="append", default=[], metavar="STEM", help="solo a stem")
    recipe.add_argument(
        "--effect",
        action="append",
        default=[],
        metavar="STEM=KIND[:PRESET]",
        help="add an effect to a stem's chain ('master' for the master chain), e.g. vocals=Reverb:Hall",
    )
    recipe.add_argument("--region", metavar="START:END", help="the part of the song to use, in seconds")
    recipe.add_argument("--fade-in", type=float, default=0.0, metavar="S", help="fade-in, seconds")
    recipe.add_argument("--fade-out", type=float, default=0.0, metavar="S", help="fade-out, seconds")
    recipe.add_argument(
        "--loudness", metavar="LUFS", help=f"integrated loudness target (default {DEFAULT_LOUDNESS_LUFS:g}; 'off')"
    )
    recipe.set_defaults(handler=cmd_recipe)

    render = subparsers.add_parser("render", help="render a recipe to an audio file")
    render.add_argument("pack", help="the .fanpack (or unpacked pack folder)")
    render.add_argument("recipe", help="the recipe JSON")
    render.add_argument("-o", "--output", required=True, help="the audio file to write")
    render.add_argument(
        "--format",
        choices=sorted(FORMATS),
        help="output format (default: from the file name: .wav 24-bit, .flac 24-bit, .mp3 V2, .ogg)",
    )
    render.add_argument(
        "--no-normalize",
        action="store_true",
        help="skip loudness normalisation and limiting (the recorded recipe says so too)",
    )
    render.add_argument(
        "--no-credentials",
        action="store_true",
        help="do not sign the file with Content Credentials (it then cannot be verified or submitted)",
    )
    render.add_argument("--passphrase", action="store_true", help="your signing key has a passphrase (asked for)")
    render.add_argument("--title", help="the remix's title in its record (default: from the pack)")
    render.set_defaults(handler=cmd_render)
