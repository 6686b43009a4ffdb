"""The artist's commands: `fanremix policy`, `fanremix stems`, `fanremix publish`, `fanremix review`, `fanremix artist`.

- `fanremix policy new --template NAME -o policy.json` writes a policy to edit or pass to `pack create --policy`;
  `fanremix policy show FILE` prints it in the words fans read.
- `fanremix stems FOLDER` measures a folder of stems: the roles guessed from the file names, every problem that would
  stop a pack (with what to do about it), and suggested BPM and key.
- `fanremix publish PACK` registers a signed pack with the rights service (as the signed-in publisher);
  `--policy FILE` then replaces the policy in force.
- `fanremix review` lists the submissions made from your packs; `--approve ID`, `--reject ID --note TEXT` and
  `--take-down ID` decide on one; `--download ID` saves its audio.
- `fanremix artist [PACK]` opens the desktop app in artist mode.

The work itself is in `fanremix.artist` (shared with the artist window).
"""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .artist import (
    POLICY_UPDATE_NOTE,
    SEVERITY_ERROR,
    ConformOptions,
    StemCheckError,
    StemFile,
    StemTable,
    analyse_stems,
    blocking,
    check_stems,
    conform_stems,
    fetch_submission_file,
    publish_pack,
    review_submission,
    scan_folder,
    target_sample_rate,
    update_policy,
)
from .cli import resample_arg
from .domain import policy_templates
from .domain.errors import FanRemixError
from .domain.policy import ROLES, Policy
from .rights.packfile import StemSource
from .workspace import Workspace

EXIT_PROBLEMS = 3  # the stems were examined and cannot be packed as they are
DECISIONS = {"approve": "approve", "reject": "reject", "take_down": "take_down"}


class ArtistCommandError(FanRemixError):
    """An artist command was called wrongly, or its input cannot be used."""


def _print(text: str = "") -> None:
    print(text, flush=True)


def _parse_roles(pairs: Sequence[str]) -> dict[str, str]:
    roles = {}
    for pair in pairs:
        name, sep, role = pair.partition("=")
        if not sep or role not in ROLES:
            raise ArtistCommandError(f"--role takes FILE=ROLE with ROLE one of {', '.join(ROLES)}, not '{pair}'.")
        roles[name] = role
    return roles


def _read_policy(path: str) -> Policy:
    try:
        return Policy.from_json(Path(path).read_bytes())
    except OSError as exc:
        raise ArtistCommandError(f"Cannot read the policy file {path}: {exc.strerror}.") from None


# -- policy ----------------------------------------------------------------------------------------------------


def cmd_policy_new(args: argparse.Namespace, workspace: Workspace) -> int:
    del workspace
    out = Path(args.output)
    if out.exists() and not args.force:
        raise ArtistCommandError(f"{out} already exists; pass --force to replace it.")
    policy = policy_templates.from_template(args.template, args.attribution)
    if args.uid:
        policy = policy.with_changes(uid=args.uid)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(policy.to_json() + "\n", "utf-8")
    _print(f"Wrote {out} (template '{args.template}', policy {policy.uid}). Fans will read:")
    for line in policy.describe_text().splitlines():
        _print(f"  {line}")
    return 0


def cmd_policy_show(args: argparse.Namespace, workspace: Workspace) -> int:
    del workspace
    policy = _read_policy(args.file)
    _print(f"Policy {policy.uid}:")
    for line in policy.describe_text().splitlines():
        _print(f"  {line}")
    return 0


# -- stems -----------------------------------------------------------------------------------------------------


def _describe_stems(files: Sequence[StemFile], table: StemTable) -> None:
    _print(f"{'file':<28} {'role':<7} {'rate':>7} {'ch':>2} {'length':>9} {'peak':>9}")
    for stem in table.stems:
        file = stem.file
        peak = f"{file.peak_db:.1f} dB" if file.peak > 0 else "silent"
        _print(
            f"{file.path.name[:28]:<28} {stem.role:<7} {file.sample_rate:>7} {file.channels:>2} "
            f"{file.duration_s:>8.2f}s {peak:>9}"
        )


def _options(args: argparse.Namespace, files: Sequence[StemFile]) -> ConformOptions:
    rate = None
    if args.resample:
        rate = target_sample_rate(files) if args.resample == "auto" else int(args.resample)
    return ConformOptions(sample_rate=rate, pad_to_longest=args.pad)


def cmd_stems(args: argparse.Namespace, workspace: Workspace) -> int:
    del workspace
    files = scan_folder(Path(args.folder))
    table = StemTable.from_files(files, _parse_roles(args.role))
    _describe_stems(files, table)
    problems = check_stems(files, _options(args, files))
    if problems:
        _print()
    for problem in problems:
        _print(f"{problem.severity.upper()}: {problem.message}")
        if problem.suggestion:
            _print(f"  → {problem.suggestion}")
    fixes = {p.fix for p in blocking(problems) if p.fix}
    if "resample" in fixes:
        _print("  (--resample auto resamples every stem to the rate most of them have)")
    if "pad" in fixes:
        _print("  (--pad pads the shorter stems with silence at the end)")
    if not args.no_analysis:
        analysis = analyse_stems(table.stems)
        _print()
        tempo = f"{analysis.tempo.bpm:g} BPM" if analysis.tempo else "no clear pulse"
        key = analysis.key.key.name if analysis.key else "no clear key"
        _print(f"Suggested BPM: {tempo}; suggested key: {key} (confirm them: these are estimates).")
    if blocking(problems):
        _print(f"\n{len(blocking(problems))} problem(s) stop a pack from being built.")
        return EXIT_PROBLEMS
    _print("\nThese stems can be packed.")
    return 0


def prepare_pack_stems(
    folder: Path,
    roles: dict[str, str],
    workdir: Path,
    *,
    resample: str | None = None,
    pad: bool = False,
    report: Any = _print,
) -> list[StemSource]:
    """For `fanremix pack create`: scan and check a folder of stems (WAV, FLAC, AIFF, MP3), print what was found, and
    return the stems to pack, converted in `workdir` where needed. Raises StemCheckError listing what to fix."""
    files = scan_folder(folder)
    unknown = set(roles) - {f.path.name for f in files} - {f.path.stem for f in files}
    if unknown:
        raise ArtistCommandError(f"--role names files that are not in {folder}: {', '.join(sorted(unknown))}.")
    table = StemTable.from_files(files, roles)
    options = ConformOptions(
        sample_rate=(target_sample_rate(files) if resample == "auto" else int(resample)) if resample else None,
        pad_to_longest=pad,
    )
    for problem in check_stems(files, options):
        if problem.severity != SEVERITY_ERROR:
            report(f"{problem.severity}: {problem.message} {problem.suggestion}".rstrip())
    return conform_stems(table.stems, options, workdir)


# -- publish and review ----------------------------------------------------------------------------------------


def cmd_publish(args: argparse.Namespace, workspace: Workspace) -> int:
    from .cli_service import connect

    policy = _read_policy(args.policy) if args.policy else None
    with connect(workspace, args.service) as client:
        result = publish_pack(client, Path(args.pack), workspace.keyring())
        verb = "Updated" if result.updated else "Published"
        _print(f"{verb} pack {result.pack_id} on {client.base_url}.")
        _print(f"  pack hash:   {result.pack_hash}")
        _print(f"  policy hash: {result.policy_hash}")
        if policy is not None:
            info = update_policy(client, result.pack_id, policy)
            _print(f"Policy in force is now {policy.uid} (hash {info.policy_hash}).")
            _print(f"  {POLICY_UPDATE_NOTE}")
    return 0


def _show(submission: Any) -> None:
    created = submission.created_at[:19].replace("T", " ")
    _print(f"{submission.id}  {submission.status:<10}  {created}  pack {submission.pack_id or '?'}")
    if submission.review_note:
        _print(f"    note: {submission.review_note}")
    for reason in submission.reasons:
        _print(f"    - {reason.message} [{reason.code}]")


def cmd_review(args: argparse.Namespace, workspace: Workspace) -> int:
    from .cli_service import connect

    decisions = [(d, getattr(args, d)) for d in DECISIONS if getattr(args, d)]
    if len(decisions) > 1:
        raise ArtistCommandError("Give one of --approve, --reject or --take-down at a time.")
    if args.note and not decisions:
        raise ArtistCommandError("--note goes with --approve, --reject or --take-down.")
    with connect(workspace, args.service) as client:
        if args.download:
            folder = Path(args.output) if args.output else Path.cwd()
            path = fetch_submission_file(client, args.download, folder)
            _print(f"Saved {path}; `fanremix verify {path}` explains its Content Credentials.")
            return 0
        if decisions:
            decision, submission_id = decisions[0]
            submission = review_submission(client, submission_id, DECISIONS[decision], args.note)
            _print(f"Submission {submission.id} is now {submission.status.replace('_', ' ')}.")
            return 0
        items = client.submissions(status=args.status)
        if not items:
            _print("No submissions from your packs yet." if not args.status else f"No {args.status} submissions.")
        for item in items:
            _show(item)
    return 0


def cmd_artist(args: argparse.Namespace, workspace: Workspace) -> int:
    """Open the desktop app in artist mode (Qt is loaded only now)."""
    from .gui.artist.launch import launch_artist

    return launch_artist(args.pack, workspace, use_device=not args.no_audio)


# -- parser ----------------------------------------------------------------------------------------------------


def add_artist_commands(subparsers: Any) -> None:
    """Add the artist's commands to the `fanremix` parser's sub-commands."""
    policy = subparsers.add_parser("policy", help="remix policies: start one from a template, show one in words")
    commands = policy.add_subparsers(dest="policy_command", required=True)
    new = commands.add_parser("new", help="write a policy from a template")
    new.add_argument("--template", required=True, choices=sorted(policy_templates.TEMPLATES))
    new.add_argument("-o", "--output", required=True, help="the policy JSON file to write")
    new.add_argument("--attribution", help="the credit line fans' remixes carry")
    new.add_argument("--uid", help="the policy's id (default: the template's)")
    new.add_argument("--force", action="store_true", help="replace an existing file")
    new.set_defaults(handler=cmd_policy_new)
    show = commands.add_parser("show", help="print a policy in the words fans read")
    show.add_argument("file")
    show.set_defaults(handler=cmd_policy_show)

    stems = subparsers.add_parser("stems", help="check a folder of stems before packing it")
    stems.add_argument("folder")
    stems.add_argument("--role", action="append", default=[], metavar="FILE=ROLE", help="override a guessed role")
    stems.add_argument(
        "--resample", type=resample_arg, metavar="RATE", help="resample to RATE Hz ('auto': the rate most stems have)"
    )
    stems.add_argument("--pad", action="store_true", help="pad shorter stems with silence at the end")
    stems.add_argument("--no-analysis", action="store_true", help="skip the BPM and key suggestions")
    stems.set_defaults(handler=cmd_stems)

    publish = subparsers.add_parser("publish", help="register a signed pack with the rights service")
    publish.add_argument("pack")
    publish.add_argument("--policy", help="then replace the policy in force with this policy file")
    publish.add_argument("--service", help="rights service URL (default: configured, else local)")
    publish.set_defaults(handler=cmd_publish)

    review = subparsers.add_parser("review", help="list and decide on submissions made from your packs")
    review.add_argument("--status", choices=("accepted", "rejected", "approved", "taken_down"))
    review.add_argument("--approve", metavar="ID")
    review.add_argument("--reject", metavar="ID")
    review.add_argument("--take-down", dest="take_down", metavar="ID")
    review.add_argument("--note", help="why (required with --reject: the fan reads it)")
    review.add_argument("--download", metavar="ID", help="save the submission's audio")
    review.add_argument("-o", "--output", help="folder for --download (default: here)")
    review.add_argument("--service", help="rights service URL (default: configured, else local)")
    review.set_defaults(handler=cmd_review)

    artist = subparsers.add_parser("artist", help="open the desktop app in artist mode")
    artist.add_argument("pack", nargs="?", help="a .fanpack to open")
    artist.add_argument("--no-audio", action="store_true", help="do not open an audio device")
    artist.set_defaults(handler=cmd_artist)


def main(argv: Sequence[str] | None = None) -> int:
    """The artist commands on their own (for tests and until they are part of `fanremix`)."""
    parser = argparse.ArgumentParser(prog="fanremix")
    add_artist_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return args.handler(args, Workspace.from_environment())
    except StemCheckError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    except FanRemixError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
