"""The `fanremix` command. With no sub-command it opens the desktop app.

Start-up is kept short: this module imports only the standard library and the domain's errors at first. The parser
is built in full only for the sub-command being run (see `COMMAND_GROUPS`), and handlers import what they use, so
`fanremix --version` and `fanremix --help` load neither the audio engine, the rights layer nor Qt.
"""

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .domain.errors import FanRemixError
from .domain.fields import is_finite_number
from .passphrase import ask_passphrase

if TYPE_CHECKING:
    from .domain.policy import Policy
    from .workspace import Workspace

EXIT_ERROR = 1
EXIT_REFUSED = 3  # a pack or recipe was examined and refused
EXIT_BROKEN_PIPE = 141  # as a shell reports a command ended by SIGPIPE
AUDIO_SUFFIXES = (".wav", ".flac")


class CliError(FanRemixError):
    """A mistake in how the command was called."""


def _print(text: str = "") -> None:
    print(text, flush=True)


# -- keys ---------------------------------------------------------------------------------------------------------


def cmd_keys_new(args: argparse.Namespace, workspace: "Workspace") -> int:
    from .rights.signing import PublisherKey

    out = Path(args.output) if args.output else workspace.default_key_path()
    if out.exists() and not args.force:
        raise CliError(f"{out} already exists; pass --force to replace it (the old key is lost).")
    passphrase = None
    if args.passphrase:
        passphrase = ask_passphrase("Passphrase for the new key: ")
    key = PublisherKey.generate()
    out.parent.mkdir(parents=True, exist_ok=True)
    public_path = key.save(out, passphrase)
    workspace.keyring().trust(key.public_key, name=args.name or out.stem, source=f"created on this machine ({out})")
    _print(f"Created publisher key {key.key_id}")
    _print(f"  private key: {out} (keep it secret)")
    _print(f"  public key:  {public_path} (give this to platforms and fans)")
    _print("  trusted on this machine, so packs you sign here open here.")
    return 0


def cmd_keys_trust(args: argparse.Namespace, workspace: "Workspace") -> int:
    key = workspace.keyring().trust_file(Path(args.public_key), name=args.name)
    _print(f"Trusted {key.key_id} ({key.name}).")
    return 0


def cmd_keys_list(args: argparse.Namespace, workspace: "Workspace") -> int:
    from .rights.keyring import TRUST_DEMO

    for key in workspace.keyring().trusted_keys():
        label = " [demo only]" if key.trust == TRUST_DEMO else ""
        _print(f"{key.key_id}  {key.name}{label}")
        _print(f"    {key.source}" + (f", {key.added}" if key.added else ""))
    return 0


# -- packs --------------------------------------------------------------------------------------------------------


def _parse_roles(pairs: Sequence[str]) -> dict[str, str]:
    roles = {}
    for pair in pairs:
        name, sep, role = pair.partition("=")
        if not sep:
            raise CliError(f"--role takes FILE=ROLE, not '{pair}'.")
        roles[name] = role
    return roles


def _load_policy(args: argparse.Namespace, attribution: str | None) -> "Policy":
    from .domain import policy_templates
    from .domain.policy import Policy

    if args.policy:
        try:
            return Policy.from_json(Path(args.policy).read_bytes())
        except OSError as exc:
            raise CliError(f"Cannot read the policy file {args.policy}: {exc.strerror}.") from None
    return policy_templates.from_template(args.policy_template, attribution)


def cmd_pack_create(args: argparse.Namespace, workspace: "Workspace") -> int:
    from .cli_artist import prepare_pack_stems
    from .rights.packfile import PackMetadata, build_pack
    from .rights.signing import PublisherKey

    folder = Path(args.stem_dir)
    if not folder.is_dir():
        raise CliError(f"{folder} is not a folder of stems.")
    meta: dict = {}
    if args.meta:
        try:
            meta = json.loads(Path(args.meta).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise CliError(f"Cannot read the metadata file {args.meta}: {exc}.") from None
        _check_meta(meta, args.meta)
    for field in ("title", "bpm", "isrc", "id"):
        value = getattr(args, field)
        if value is not None:
            meta[field] = value
    if args.artist:
        meta["artists"] = args.artist
    if args.key_name:
        meta["key"] = args.key_name
    missing = [f for f in ("title", "artists", "bpm", "key") if not meta.get(f)]
    if missing:
        raise CliError(f"Missing metadata: {', '.join(missing)}. Give --meta FILE or the matching flags.")
    roles = _parse_roles(args.role)
    key_path = Path(args.key)
    passphrase = ask_passphrase("Key passphrase: ") if args.passphrase else None
    key = PublisherKey.load(key_path, passphrase)
    artists = meta["artists"] if isinstance(meta["artists"], list) else [meta["artists"]]
    metadata = PackMetadata(
        id=meta.get("id") or _slug(meta["title"]),
        title=meta["title"],
        artists=tuple(artists),
        bpm=float(meta["bpm"]),
        key=meta["key"],
        isrc=meta.get("isrc"),
    )
    policy = _load_policy(args, meta.get("attribution") or f"Original: “{meta['title']}” by {', '.join(artists)}")
    out = Path(args.output)
    workspace.paths.cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fanremix-pack-", dir=workspace.paths.cache) as temp:
        sources = prepare_pack_stems(folder, roles, Path(temp), resample=args.resample, pad=args.pad)
        manifest = build_pack(sources, metadata, policy, key, out)
    _print(f"Wrote {out}: {len(manifest.stems)} stems, signed by {key.key_id}.")
    for stem in manifest.stems:
        _print(f"  {stem.id:<16} {stem.role:<7} {stem.file}")
    return 0


# The metadata file's fields and what each must be (the flags are typed by the parser).
_META_FIELDS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "id": ("text", lambda v: isinstance(v, str)),
    "title": ("text", lambda v: isinstance(v, str)),
    "artists": (
        "a name or a list of names",
        lambda v: isinstance(v, str) or (isinstance(v, list) and all(isinstance(a, str) for a in v)),
    ),
    "bpm": ("a number of beats per minute", lambda v: is_finite_number(v) and v > 0),
    "key": ("text such as 'A minor'", lambda v: isinstance(v, str)),
    "isrc": ("text or null", lambda v: v is None or isinstance(v, str)),
    "attribution": ("text", lambda v: isinstance(v, str)),
}


def _check_meta(meta: Any, source: str) -> None:
    if not isinstance(meta, dict):
        raise CliError(f"The metadata file {source} must hold a JSON object (title, artists, bpm, key, ...).")
    for name, (kind, valid) in _META_FIELDS.items():
        if name in meta and not valid(meta[name]):
            raise CliError(f"The metadata file {source}: '{name}' must be {kind}, not {json.dumps(meta[name])}.")


def resample_arg(text: str) -> str:
    """The parser's type for `--resample`: 'auto' or a sample rate in Hz, checked before any audio is touched."""
    if text != "auto" and not (text.isdigit() and 8000 <= int(text) <= 192000):
        raise argparse.ArgumentTypeError(f"'auto' or a sample rate from 8000 to 192000 Hz, not '{text}'")
    return text


def _slug(text: str) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")
    while "--" in slug:
        slug = slug.replace("--", "-")
    return slug[:64] or "pack"


def _print_manifest(manifest) -> None:
    from .domain.music import format_isrc

    _print(f"{manifest.title} — {', '.join(manifest.artists)}")
    _print(f"  pack id:  {manifest.id}")
    if manifest.isrc:
        _print(f"  ISRC:     {format_isrc(manifest.isrc)}")
    _print(f"  tempo:    {manifest.bpm:g} BPM, key {manifest.key}")
    minutes, seconds = divmod(manifest.duration_s, 60)
    _print(f"  length:   {int(minutes)}:{seconds:04.1f} at {manifest.sample_rate} Hz")
    if manifest.rightsholders:
        _print("  rights:   " + ", ".join(f"{r.name} ({r.role})" for r in manifest.rightsholders))
    _print(f"  stems ({len(manifest.stems)}):")
    for stem in manifest.stems:
        channels = "stereo" if stem.channels == 2 else "mono"
        _print(f"    {stem.id:<12} {stem.name:<24} {stem.role:<7} {channels:<6} {stem.file}")
    _print(f"  policy {manifest.policy.uid}:")
    for line in manifest.policy.describe_text().splitlines():
        _print(f"    {line}")


def cmd_pack_verify(args: argparse.Namespace, workspace: "Workspace") -> int:
    from .domain.errors import PackError
    from .rights.packfile import open_pack

    try:
        with open_pack(Path(args.pack), workspace.keyring()) as pack:
            _print_manifest(pack.manifest)
            _print(f"  pack hash: {pack.manifest.pack_hash()}")
            demo = " — DEMO KEY: anyone can sign with it; not a real rightsholder" if pack.signer.is_demo else ""
            _print(f"Signature: valid, by {pack.signer.name} ({pack.signer.key_id}){demo}")
            _print("Stems: all present, hashes match, audio headers match pack.json.")
    except PackError as exc:
        print(f"REFUSED ({type(exc).__name__}): {exc}", file=sys.stderr)
        return EXIT_REFUSED
    return 0


def cmd_pack_info(args: argparse.Namespace, workspace: "Workspace") -> int:
    from .rights.packfile import read_manifest_unverified

    manifest = read_manifest_unverified(Path(args.pack))
    _print_manifest(manifest)
    signer = manifest.signature.key_id if manifest.signature else "unsigned"
    _print(f"Signature: {signer} (not checked; use `fanremix pack verify`)")
    return 0


def cmd_demo(args: argparse.Namespace, workspace: "Workspace") -> int:
    from .demo import make_demo_pack

    out = Path(args.output)
    manifest = make_demo_pack(out, seconds=args.seconds)
    _print(f"Wrote the demo pack {out} ({out.stat().st_size / 1e6:.1f} MB)")
    _print_manifest(manifest)
    return 0


def cmd_gui(args: argparse.Namespace, workspace: "Workspace") -> int:
    """Open the desktop app: with the pack or project given, or with the built-in demo pack."""
    if getattr(args, "artist_mode", False):
        from .gui.artist.launch import launch_artist

        return launch_artist(args.pack, workspace, use_device=not args.no_audio)
    from .gui.launch import launch  # Qt is loaded only when the window is wanted

    return launch(args.pack, workspace, use_device=not args.no_audio)


# -- parser -------------------------------------------------------------------------------------------------------


def _add_gui_command(sub: Any) -> None:
    gui = sub.add_parser("gui", help="open the desktop app (the default)")
    gui.add_argument("pack", nargs="?", help="a .fanpack or .fanremix project to open instead of the demo")
    gui.add_argument("--no-audio", action="store_true", help="do not open an audio device (silent preview)")
    gui.set_defaults(handler=cmd_gui)


def _add_key_commands(sub: Any) -> None:
    keys = sub.add_parser("keys", help="publisher keys").add_subparsers(dest="keys_command", required=True)
    new = keys.add_parser("new", help="create a publisher key pair and trust it here")
    new.add_argument("-o", "--output", help="private key file (default: in the config folder)")
    new.add_argument("--name", help="a name for the key in the keyring")
    new.add_argument("--passphrase", action="store_true", help="protect the key with a passphrase (asked for)")
    new.add_argument("--force", action="store_true", help="replace an existing key file")
    new.set_defaults(handler=cmd_keys_new)
    trust = keys.add_parser("trust", help="trust another publisher's public key")
    trust.add_argument("public_key")
    trust.add_argument("--name")
    trust.set_defaults(handler=cmd_keys_trust)
    keys.add_parser("list", help="show trusted keys").set_defaults(handler=cmd_keys_list)


def _add_pack_commands(sub: Any) -> None:
    from .domain import policy_templates

    pack = sub.add_parser("pack", help="stem packs").add_subparsers(dest="pack_command", required=True)
    create = pack.add_parser("create", help="build and sign a .fanpack from a folder of stems")
    create.add_argument("stem_dir")
    create.add_argument("--key", required=True, help="publisher private key file")
    create.add_argument("--passphrase", action="store_true", help="the key has a passphrase (asked for)")
    create.add_argument("-o", "--output", required=True)
    create.add_argument("--meta", help="metadata JSON: title, artists, bpm, key, isrc, id, attribution")
    create.add_argument("--id")
    create.add_argument("--title")
    create.add_argument("--artist", action="append", help="repeat for several artists")
    create.add_argument("--isrc")
    create.add_argument("--bpm", type=float)
    create.add_argument("--key-name", help="musical key, e.g. 'A minor'")
    policy = create.add_mutually_exclusive_group()
    policy.add_argument("--policy", help="policy JSON file")
    policy.add_argument("--policy-template", default="demo", choices=sorted(policy_templates.TEMPLATES))
    create.add_argument("--role", action="append", default=[], metavar="FILE=ROLE", help="override a guessed role")
    create.add_argument(
        "--resample", type=resample_arg, metavar="RATE", help="resample to RATE Hz ('auto': the rate most stems have)"
    )
    create.add_argument("--pad", action="store_true", help="pad shorter stems with silence at the end")
    create.set_defaults(handler=cmd_pack_create)
    verify = pack.add_parser("verify", help="check a pack's safety, signature and stems")
    verify.add_argument("pack")
    verify.set_defaults(handler=cmd_pack_verify)
    info = pack.add_parser("info", help="show a pack's metadata without verifying it")
    info.add_argument("pack")
    info.set_defaults(handler=cmd_pack_info)


def _add_render_commands(sub: Any) -> None:
    from .cli_render import add_render_commands

    add_render_commands(sub)


def _add_verify_commands(sub: Any) -> None:
    from .cli_verify import add_identity_commands, add_verify_commands

    add_verify_commands(sub)
    add_identity_commands(sub)


def _add_service_commands(sub: Any) -> None:
    from .cli_service import add_service_commands

    add_service_commands(sub)


def _add_artist_commands(sub: Any) -> None:
    from .cli_artist import add_artist_commands

    add_artist_commands(sub)


DEMO_SECONDS_RANGE = (1.0, 3600.0)


def _demo_seconds(text: str) -> float:
    low, high = DEMO_SECONDS_RANGE
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not low <= seconds <= high:  # also refuses NaN
        raise argparse.ArgumentTypeError(f"the song length is {low:g} to {high:g} seconds, not '{text}'")
    return seconds


def _add_demo_command(sub: Any) -> None:
    demo = sub.add_parser("demo", help="write the built-in demo stem pack")
    demo.add_argument("-o", "--output", default="demo.fanpack")
    demo.add_argument("--seconds", type=_demo_seconds, default=90.0, help="song length (default 90)")
    demo.set_defaults(handler=cmd_demo)


# The sub-commands in the order --help lists them: each group's commands with their help lines, and the function that
# adds the group to the parser (importing the module that defines it). The help lines must be those the groups give
# (tests/unit/test_cli_startup.py compares the two).
COMMAND_GROUPS: tuple[tuple[dict[str, str], Callable[[Any], None]], ...] = (
    ({"gui": "open the desktop app (the default)"}, _add_gui_command),
    ({"keys": "publisher keys"}, _add_key_commands),
    ({"pack": "stem packs"}, _add_pack_commands),
    (
        {
            "recipe": "write a remix recipe (JSON) for a pack, for scripts and batches",
            "render": "render a recipe to an audio file",
        },
        _add_render_commands,
    ),
    (
        {
            "verify": "check a remix's Content Credentials (C2PA): who, what, under which licence",
            "identity": "your signing identity for Content Credentials",
        },
        _add_verify_commands,
    ),
    (
        {
            "serve": "run the rights service",
            "account": "your account on the rights service",
            "submit": "submit a remix: an exported file, or a project/recipe to export",
            "submissions": "list your submissions and their status",
            "outbox": "submissions waiting to be sent",
        },
        _add_service_commands,
    ),
    (
        {
            "policy": "remix policies: start one from a template, show one in words",
            "stems": "check a folder of stems before packing it",
            "publish": "register a signed pack with the rights service",
            "review": "list and decide on submissions made from your packs",
            "artist": "open the desktop app in artist mode",
        },
        _add_artist_commands,
    ),
    ({"demo": "write the built-in demo stem pack"}, _add_demo_command),
)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The `fanremix` parser. Given the arguments it is for, only the group of the sub-command they run is built in
    full: the others are listed by name and help line alone, and their modules are not imported."""
    parser = argparse.ArgumentParser(prog="fanremix", description="Fan Remix Studio: remix licensed stems.")
    parser.add_argument("--version", action="version", version=f"fanremix {__version__}")
    parser.add_argument("--artist", dest="artist_mode", action="store_true", help="open the app in artist mode")
    parser.set_defaults(handler=cmd_gui, pack=None, no_audio=False, artist_mode=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    command = None if argv is None else _command_in(argv)
    for commands, add_group in COMMAND_GROUPS:
        if argv is None or command in commands:
            add_group(sub)
        else:
            for name, text in commands.items():
                sub.add_parser(name, help=text)  # never chosen: `command` is not one of these
    return parser


def _command_in(argv: Sequence[str]) -> str | None:
    """The sub-command `argv` runs: its first word that is not an option (the top-level options take no value)."""
    words = iter(argv)
    for word in words:
        if word == "--":
            return next(words, None)
        if not word.startswith("-"):
            return word
    return None


OPENABLE_SUFFIXES = (".fanpack", ".fanremix")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0].lower().endswith(OPENABLE_SUFFIXES):  # `fanremix song.fanpack`, as a file manager runs it
        argv = ["gui", *argv]
    args = build_parser(argv).parse_args(argv)
    from .domain.atomic import clean_up_after_killed_runs
    from .workspace import Workspace

    handler: Callable[[argparse.Namespace, Workspace], int] = args.handler
    clean_up_after_killed_runs()  # partial exports and work folders a killed run left behind
    try:
        return handler(args, Workspace.from_environment())
    except FanRemixError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED if _is_refusal(exc) else EXIT_ERROR
    except BrokenPipeError:  # `fanremix ... | head`: the reader has gone, which is not an error of ours
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except OSError as exc:  # a file or folder named on the command line cannot be read or written
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _is_refusal(exc: FanRemixError) -> bool:
    """A recipe examined and refused by the pack's policy (as `submit` reports a refused grant)."""
    from .domain.policy import PolicyViolationError

    return isinstance(exc, PolicyViolationError)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's own flush at exit does not raise the broken pipe again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
