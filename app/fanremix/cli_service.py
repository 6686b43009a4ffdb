"""`fanremix serve`, `fanremix account …`, `fanremix submit`, `fanremix submissions` and `fanremix outbox`.

The rights service used is, in order: `--service URL`, the FANREMIX_SERVICE_URL environment variable, the URL saved
in `<config>/service.json` (`fanremix account use URL`), or else a local service started on demand (its database in
the user data folder) and stopped when the command ends, unless the desktop app already runs one.

The submit flow (also what the GUI's Submit dialog runs, via `submit_recipe`): check → grant → render and embed the
C2PA record with the grant inside → submit through the outbox → show the status.
"""

import argparse
import contextlib
import datetime as dt
import getpass
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .domain.errors import FanRemixError
from .domain.recipe import Recipe
from .passphrase import ask_passphrase
from .rights.client import (
    PolicyRefusedError,
    RightsClient,
    ServiceConfig,
    Submission,
    TokenStore,
)
from .rights.outbox import OutboxEntry, SubmitOutcome
from .submit_flow import STEP_WORDS, outbox_for, service_url, submit_recipe
from .workspace import Workspace

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg")
EXIT_REJECTED = 3  # the service examined the submission and rejected it (same code as a refused pack)
EXIT_QUEUED = 4  # the service could not be reached; the submission waits in the outbox
ProgressCallback = Callable[[str], None]


class ServiceCommandError(FanRemixError):
    """A service command was called wrongly, or its input cannot be used."""


def _print(text: str = "") -> None:
    print(text, flush=True)


# -- which service -----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def connect(workspace: Workspace, explicit: str | None = None) -> Iterator[RightsClient]:
    """A client of the service to use, signed in with the stored token; a local service lives as long as this."""
    config = ServiceConfig.load(workspace.paths.config)
    url = service_url(workspace, explicit)
    local = None
    if not url:
        from .local_service import ensure_local_service, register_demo_pack

        local = ensure_local_service(workspace)
        url = local.url
        with contextlib.suppress(FanRemixError):  # the demo pack is what a first-time user remixes
            register_demo_pack(url, workspace)
    store: Any = TokenStore(workspace.paths.config)
    if local is not None:
        from .local_service import LOCAL_TOKEN_KEY, FixedKeyTokenStore

        store = FixedKeyTokenStore(store, LOCAL_TOKEN_KEY)  # its port changes at every start; the account stays
    client = RightsClient(url, ca_bundle=config.ca_bundle, token_store=store)
    try:
        yield client
    finally:
        client.close()
        if local is not None and local.process is not None:
            local.clear_state()
            local.stop()


def _password(args: argparse.Namespace, confirm: bool = False) -> str:
    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass("Password: ")
    if confirm and getpass.getpass("Repeat the password: ") != password:
        raise ServiceCommandError("The passwords differ; nothing was changed.")
    return password


# -- serve -------------------------------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace, workspace: Workspace) -> int:
    from .service.__main__ import serve
    from .service.settings import ServiceSettings

    data = Path(args.data) if args.data else workspace.paths.data / "service"
    settings = ServiceSettings(
        data_dir=data,
        database_url=args.db,
        max_upload_bytes=int(args.max_upload_mb * 2**20),
        rate_per_minute=args.rate_per_minute,
        open_publisher_signup=not args.closed_publisher_signup,
        token_lifetime=dt.timedelta(days=args.token_lifetime_days),
    )
    if args.create_admin:
        from .service.admin import create_admin

        token = create_admin(settings, args.create_admin, _password(args, confirm=True))
        _print(f"Created the admin account '{args.create_admin}'. Its API token (shown once): {token}")
        return 0
    _print(
        f"Rights service on http://{args.host}:{args.port} (data in {data}; database {settings.resolved_database_url})"
    )
    serve(
        settings,
        args.host,
        args.port,
        workers=args.workers,
        proxy_headers=args.proxy_headers,
        forwarded_allow_ips=args.forwarded_allow_ips,
    )
    return 0


# -- accounts ----------------------------------------------------------------------------------------------------


def cmd_account_use(args: argparse.Namespace, workspace: Workspace) -> int:
    config = ServiceConfig(url=args.url.rstrip("/") if args.url != "local" else "", ca_bundle=args.ca_bundle)
    config.save(workspace.paths.config)
    _print(f"Using the rights service at {config.url}." if config.url else "Using the local rights service.")
    return 0


def cmd_account_register(args: argparse.Namespace, workspace: Workspace) -> int:
    password = _password(args, confirm=True)
    with connect(workspace, args.service) as client:
        account = client.register(args.name, password, role="publisher" if args.publisher else "fan")
        _print(f"Created the {account.role} account '{account.name}' ({account.id}) at {client.base_url}; signed in.")
    return 0


def cmd_account_login(args: argparse.Namespace, workspace: Workspace) -> int:
    password = _password(args)
    with connect(workspace, args.service) as client:
        account = client.login(args.name, password)
        _print(f"Signed in to {client.base_url} as {account.name} ({account.role}).")
    return 0


def cmd_account_logout(args: argparse.Namespace, workspace: Workspace) -> int:
    with connect(workspace, args.service) as client:
        client.logout()
        _print(f"Signed out of {client.base_url}.")
    return 0


def cmd_account_whoami(args: argparse.Namespace, workspace: Workspace) -> int:
    with connect(workspace, args.service) as client:
        account = client.me()
        _print(f"{account.name} ({account.role}, {account.id}) at {client.base_url}")
    return 0


# -- submit ------------------------------------------------------------------------------------------------------


def _load_recipe_and_pack(path: Path, pack: str | None) -> tuple[Recipe, Path]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ServiceCommandError(f"Cannot read {path}: {exc}.") from None
    pack_path = Path(pack) if pack else None
    if isinstance(data, dict) and data.get("kind") == "fanremix-project":  # a project saved by the desktop app
        recipe = Recipe.from_dict(data.get("recipe"))
        stored = (data.get("pack") or {}).get("path")
        if pack_path is None and stored:
            pack_path = (path.parent / stored) if not Path(stored).is_absolute() else Path(stored)
    else:
        recipe = Recipe.from_dict(data)
    if pack_path is None or not pack_path.exists():
        raise ServiceCommandError(f"Which pack is {path.name} for? Give it with --pack PACK.")
    return recipe, pack_path


def _show_submission(submission: Submission) -> int:
    _print(f"Submission {submission.id}: {submission.status.replace('_', ' ')}")
    for reason in submission.reasons:
        _print(f"  - {reason.message} [{reason.code}]")
    return EXIT_REJECTED if submission.status == "rejected" else 0


def _show_outcome(outcome: SubmitOutcome) -> int:
    if outcome.submission is not None:
        return _show_submission(outcome.submission)
    assert outcome.queued is not None
    _print(f"Not sent: {outcome.error}")
    _print(f"It waits in the outbox (key {outcome.queued.idempotency_key}); `fanremix outbox --send` sends it later.")
    return EXIT_QUEUED


def cmd_submit(args: argparse.Namespace, workspace: Workspace) -> int:
    source = Path(args.project_or_file)
    if not source.is_file():
        raise ServiceCommandError(f"{source} is not a file.")
    outbox = outbox_for(workspace)
    with connect(workspace, args.service) as client:
        if source.suffix.lower() in AUDIO_SUFFIXES:
            sidecar = source.with_suffix(".c2pa")
            outcome = outbox.submit(client, source, sidecar=sidecar if sidecar.is_file() else None)
            return _show_outcome(outcome)
        recipe, pack_path = _load_recipe_and_pack(source, args.pack)
        destination = Path(args.output) if args.output else source.with_suffix(f".{args.format}")
        passphrase = ask_passphrase("Signing key passphrase: ") if args.passphrase else None
        try:
            result = submit_recipe(
                client, outbox, workspace, pack_path, recipe, destination, fmt=args.format,
                step=lambda name: _print(STEP_WORDS[name]), passphrase=passphrase,
            )  # fmt: skip
        except PolicyRefusedError as refused:
            print(f"No grant: {refused.message}", file=sys.stderr)
            return EXIT_REJECTED
        _print(f"Exported {result.exported} with its grant and Content Credentials.")
        return _show_outcome(result.outcome)


def cmd_submissions(args: argparse.Namespace, workspace: Workspace) -> int:
    with connect(workspace, args.service) as client:
        items = client.submissions(status=args.status)
        if not items:
            _print("No submissions yet.")
        for item in items:
            _print(f"{item.id}  {item.status:<10}  {item.created_at[:19]}  pack {item.pack_id or '?'}")
            for reason in item.reasons:
                _print(f"    - {reason.message} [{reason.code}]")
    pending = outbox_for(workspace).entries()
    if pending:
        _print(f"{len(pending)} submission(s) wait in the outbox; `fanremix outbox --send` sends them.")
    return 0


def cmd_outbox(args: argparse.Namespace, workspace: Workspace) -> int:
    outbox = outbox_for(workspace)
    if args.drop:
        entry = outbox.find(args.drop)
        outbox.remove(entry)
        _print(f"Dropped {entry.label} ({entry.entry_id}) from the outbox; it will not be sent.")
        return 0
    entries: list[OutboxEntry] = outbox.entries()
    for entry in entries:
        problem = f" — last try: {entry.last_error}" if entry.last_error else ""
        _print(f"{entry.entry_id}  {entry.label}  (tries: {entry.attempts}){problem}")
    if not entries:
        _print("The outbox is empty.")
        return 0
    if not args.send:
        return 0
    with connect(workspace, args.service) as client:
        report = outbox.flush(client)
    for _entry, submission in report.sent:
        _show_submission(submission)
    for entry, error in report.failed:
        _print(f"{entry.label}: {error}")
    _print(f"{len(report.sent)} sent, {report.remaining} still waiting.")
    return 0 if report.remaining == 0 else EXIT_QUEUED


# -- parser ------------------------------------------------------------------------------------------------------


def add_service_commands(subparsers: Any) -> None:
    """Add the rights-service commands to the `fanremix` parser's sub-commands."""
    serve = subparsers.add_parser("serve", help="run the rights service")
    serve.add_argument("--db", help="SQLAlchemy database URL (default: SQLite in --data)")
    serve.add_argument("--data", help="folder for the database, uploads and keys (default: in the user data folder)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (use PostgreSQL for more than one)")
    serve.add_argument("--proxy-headers", action="store_true", help="trust X-Forwarded-* from --forwarded-allow-ips")
    serve.add_argument("--forwarded-allow-ips", default=None)
    serve.add_argument("--max-upload-mb", type=float, default=200.0)
    serve.add_argument("--rate-per-minute", type=float, default=120.0, help="requests per account per minute")
    serve.add_argument("--closed-publisher-signup", action="store_true", help="only admins create publishers")
    serve.add_argument("--token-lifetime-days", type=float, default=90.0, help="API tokens expire after this long")
    serve.add_argument("--create-admin", metavar="NAME", help="create an admin account, print its token, and exit")
    serve.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    serve.set_defaults(handler=cmd_serve)

    account = subparsers.add_parser("account", help="your account on the rights service")
    commands = account.add_subparsers(dest="account_command", required=True)
    use = commands.add_parser("use", help="choose the rights service ('local' for the built-in one)")
    use.add_argument("url")
    use.add_argument("--ca-bundle", help="PEM file of the CA that signed the service's TLS certificate")
    use.set_defaults(handler=cmd_account_use)
    for name, handler, text in (
        ("register", cmd_account_register, "create an account and sign in"),
        ("login", cmd_account_login, "sign in"),
    ):
        parser = commands.add_parser(name, help=text)
        parser.add_argument("name")
        parser.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
        parser.add_argument("--service", help="rights service URL (default: configured, else local)")
        if name == "register":
            parser.add_argument("--publisher", action="store_true", help="a publisher (artist or label) account")
        parser.set_defaults(handler=handler)
    for name, handler, text in (
        ("logout", cmd_account_logout, "sign out and forget the token"),
        ("whoami", cmd_account_whoami, "show the signed-in account"),
    ):
        parser = commands.add_parser(name, help=text)
        parser.add_argument("--service")
        parser.set_defaults(handler=handler)

    submit = subparsers.add_parser("submit", help="submit a remix: an exported file, or a project/recipe to export")
    submit.add_argument("project_or_file", help="an exported .wav/.flac/.mp3/.ogg, a .fanremix project or a recipe")
    submit.add_argument("--pack", help="the pack a recipe is for (a project remembers it)")
    submit.add_argument("--format", default="wav", choices=("wav", "flac", "mp3", "ogg"))
    submit.add_argument("-o", "--output", help="where to write the export (default: beside the project)")
    submit.add_argument("--passphrase", action="store_true", help="your signing key has a passphrase (asked for)")
    submit.add_argument("--service")
    submit.set_defaults(handler=cmd_submit)

    submissions = subparsers.add_parser("submissions", help="list your submissions and their status")
    submissions.add_argument("--status", choices=("accepted", "rejected", "approved", "taken_down"))
    submissions.add_argument("--service")
    submissions.set_defaults(handler=cmd_submissions)

    outbox = subparsers.add_parser("outbox", help="submissions waiting to be sent")
    outbox.add_argument("--send", action="store_true", help="try to send them now")
    outbox.add_argument("--drop", metavar="ID", help="take one out without sending it (its id from the list)")
    outbox.add_argument("--service")
    outbox.set_defaults(handler=cmd_outbox)
