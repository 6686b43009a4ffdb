"""`fanremix verify FILE`: check a remix's Content Credentials and say, in words, what they prove.

Exit status: 0 when the record is Trusted or Valid (and, with --pack, the audio matches); 3 when it is Invalid; 4 when
the record is intact but the audio does not match its recipe re-rendered from the pack; 5 when the record is intact but
the licence grant in it is forged, malformed or for another recipe; 1 for errors (no credentials, unreadable pack...).

The grant's signature is checked offline against the grant keys of the rights services this app has used (kept in the
config folder's service-keys/ when the app or `fanremix submit` gets a grant) and any given with --service-keys.
"""

import argparse
import json
from pathlib import Path
from typing import Any

from .domain.errors import FormatError
from .domain.music import format_isrc
from .domain.provenance import ProvenanceRecord
from .passphrase import ask_passphrase
from .provenance_flow import (
    GRANT_EXPIRED,
    GRANT_FORGED,
    GRANT_GENUINE,
    GRANT_MALFORMED,
    GRANT_NONE,
    GRANT_OTHER_RECIPE,
    GRANT_REFUSED,
    GRANT_UNKNOWN_KEY,
    GrantCheck,
    Verification,
    verify_file,
)
from .rights.c2pa import ValidationState, summarise_recipe
from .rights.grants import known_service_keys
from .rights.identity import (
    IDENTITY_DIR,
    IdentityError,
    PassphraseRequiredError,
    configured_trust_anchors,
    create_fan_identity,
    fan_identity_exists,
    load_fan_identity,
    trust_anchor_folder,
)
from .rights.packfile import open_pack
from .workspace import Workspace

EXIT_INVALID = 3
EXIT_AUDIO_MISMATCH = 4
EXIT_GRANT_REFUSED = 5
LABEL_WIDTH = 14


def add_verify_commands(subparsers: Any) -> None:
    verify = subparsers.add_parser(
        "verify",
        help="check a remix's Content Credentials (C2PA): who, what, under which licence",
        description="Validate the C2PA record in FILE (or its .c2pa sidecar) and explain it.",
    )
    verify.add_argument("file", help="an exported remix (.wav, .flac, .mp3, or .ogg with its .c2pa sidecar)")
    verify.add_argument("--json", action="store_true", help="print the full result as JSON")
    verify.add_argument("--pack", help="re-render the recorded recipe from this pack and compare it with the audio")
    verify.add_argument(
        "--trust-anchor",
        action="append",
        default=[],
        metavar="PEM",
        help="also trust chains ending in this CA certificate (repeatable); the config folder's "
        "trust-anchors/ is always used",
    )
    verify.add_argument(
        "--service-keys",
        action="append",
        default=[],
        metavar="JSON",
        help="also accept grants signed with these rights-service keys (the body of the service's GET /v1/keys; "
        "repeatable); the keys of services this app has used are always known",
    )
    verify.set_defaults(handler=cmd_verify)


def add_identity_commands(subparsers: Any) -> None:
    identity = subparsers.add_parser(
        "identity",
        help="your signing identity for Content Credentials",
        description="The key and certificate chain that sign your exports (kept 0600 in the config folder).",
    ).add_subparsers(dest="identity_command", required=True)
    new = identity.add_parser("new", help="make a signing key (certified by the local development CA)")
    new.add_argument("--name", default="Fan Remix Studio user", help="the name your exports are signed with")
    new.add_argument("--email", help="an e-mail address for the certificate")
    new.add_argument("--passphrase", action="store_true", help="protect the key with a passphrase (asked for)")
    new.add_argument("--force", action="store_true", help="replace the existing identity (its key is lost)")
    new.set_defaults(handler=cmd_identity_new)
    show = identity.add_parser("show", help="show who your exports are signed as")
    show.add_argument("--passphrase", action="store_true", help="your signing key has a passphrase (asked for)")
    show.set_defaults(handler=cmd_identity_show)


def _print_identity(identity: Any, config_dir: Path) -> None:
    certificate = identity.certificate
    print(f"Signs as:      {identity.display_name}")
    print(f"Certified by:  {identity.issuer_name}" + (" (local development CA)" if identity.is_development else ""))
    print(f"Valid:         {certificate.not_valid_before_utc:%Y-%m-%d} to {certificate.not_valid_after_utc:%Y-%m-%d}")
    print(f"Kept in:       {config_dir / IDENTITY_DIR}", flush=True)


def cmd_identity_new(args: argparse.Namespace, workspace: Workspace) -> int:
    config_dir = workspace.paths.config
    if fan_identity_exists(config_dir) and not args.force:
        raise IdentityError(
            f"A signing identity already exists in {config_dir / IDENTITY_DIR}; pass --force to replace it (its key "
            "is lost, and with it the certificate the rights service issued for it)."
        )
    passphrase = ask_passphrase("Passphrase for the signing key: ") if args.passphrase else None
    identity = create_fan_identity(config_dir, args.name, email=args.email, passphrase=passphrase)
    print("Made a new signing identity" + (", protected by a passphrase." if passphrase else "."))
    _print_identity(identity, config_dir)
    return 0


def cmd_identity_show(args: argparse.Namespace, workspace: Workspace) -> int:
    config_dir = workspace.paths.config
    if not fan_identity_exists(config_dir):
        raise IdentityError("There is no signing identity yet: the first export makes one, or `fanremix identity new`.")
    passphrase = ask_passphrase("Signing key passphrase: ") if args.passphrase else None
    try:
        identity = load_fan_identity(config_dir, passphrase)
    except PassphraseRequiredError:
        raise IdentityError("The signing key is protected by a passphrase: add --passphrase.") from None
    _print_identity(identity, config_dir)
    return 0


def cmd_verify(args: argparse.Namespace, workspace: Workspace) -> int:
    anchors = configured_trust_anchors(workspace.paths.config, [Path(p) for p in args.trust_anchor])
    keys = known_service_keys(workspace.paths.config, [Path(p) for p in args.service_keys])
    if args.pack:
        with open_pack(Path(args.pack), workspace.keyring()) as pack:
            result = verify_file(Path(args.file), anchors, pack, keys)
            policy_text = pack.manifest.policy.describe_text() if _pack_is_recorded(result, pack) else None
    else:
        result = verify_file(Path(args.file), anchors, service_keys=keys)
        policy_text = None
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False), flush=True)
    else:
        for line in describe(result, anchors_folder=trust_anchor_folder(workspace.paths.config), policy=policy_text):
            print(line, flush=True)
    if result.report.state == ValidationState.INVALID:
        return EXIT_INVALID
    if result.comparison is not None and not result.comparison.matches:
        return EXIT_AUDIO_MISMATCH
    if result.grant is not None and result.grant.status in GRANT_REFUSED:
        return EXIT_GRANT_REFUSED
    return 0


def _pack_is_recorded(result: Verification, pack: Any) -> bool:
    record = result.report.record
    return record is not None and record.pack.pack_hash == pack.manifest.pack_hash()


def _row(label: str, text: str) -> str:
    return f"{label + ':':<{LABEL_WIDTH}} {text}"


def _more(text: str) -> str:
    return " " * (LABEL_WIDTH + 1) + text


def describe(result: Verification, *, anchors_folder: Path | None = None, policy: str | None = None) -> list[str]:
    """The verification in words, one line per item (the `fanremix verify` output; the GUI shows the same)."""
    report = result.report
    lines = []
    where = "embedded in the file" if report.location == "embedded" else f"in the sidecar {report.sidecar.name}"
    lines.append(_row("File", f"{report.path.name if report.path else '(stream)'} (Content Credentials {where})"))
    lines.append(_row("Validation", report.state_words))
    if report.state == ValidationState.TRUSTED:
        lines.append(_more("The record is intact, the audio is the audio that was signed, and the signer's"))
        lines.append(_more("certificate chains to a trust anchor configured here."))
    elif report.state == ValidationState.VALID:
        lines.append(_more("The record is intact and the audio is the audio that was signed, but:"))
    else:
        lines.append(_more("Do not rely on this record:"))
    for reason in report.reasons:
        lines.append(_more(f"- {reason}"))
    if report.state == ValidationState.VALID and anchors_folder is not None:
        lines.append(_more(f"(Trust anchors: PEM files in {anchors_folder}, or --trust-anchor PEM.)"))
    signer = report.signer
    if signer is not None:
        organization = f", {signer.organization}" if signer.organization else ""
        lines.append(_row("Signed by", f"{signer.common_name or 'unknown'}{organization} ({signer.algorithm})"))
        lines.append(_more(f"certificate issued by {signer.issuer or 'an unknown CA'}"))
        if signer.valid_from and signer.valid_until:
            lines.append(_more(f"certificate valid {signer.valid_from[:10]} to {signer.valid_until[:10]}"))
        if signer.signed_at:
            lines.append(_more(f"signed at {signer.signed_at}"))
        if signer.issued_by_development_ca:
            lines.append(_more("This is the app's local development CA: no platform trusts it."))
    record = report.record
    if record is None:
        lines.append(_row("Record", report.record_error or "not readable"))
    else:
        lines.extend(_describe_record(record, result.grant))
    for warning in result.warnings:
        lines.append(_row("Warning", warning))
    if policy:
        lines.append(_row("Pack policy", "(from the pack given with --pack)"))
        lines.extend(_more(line) for line in policy.splitlines())
    if result.comparison is not None:
        comparison = result.comparison
        if not comparison.rendered:
            lines.append(_row("Audio check", "NOT DONE: " + comparison.note))
        else:
            verdict = "MATCH" if comparison.matches else "MISMATCH"
            lines.append(
                _row(
                    "Audio check",
                    f"{verdict}: SNR {comparison.snr_db:.1f} dB against a fresh render "
                    f"(a match needs at least {comparison.threshold_db:g} dB)",
                )
            )
            lines.append(_more(comparison.note))
    return lines


def _describe_record(record: ProvenanceRecord, grant: GrantCheck | None) -> list[str]:
    pack = record.pack
    lines = [
        _row("Title", record.title),
        _row("Made with", f"{record.generator.name} {record.generator.version}"),
        _row("Remixer", record.remixer or "not stated (see 'Signed by')"),
    ]
    isrc = f", ISRC {_isrc(pack.isrc)}" if pack.isrc else ""
    lines.append(_row("Source pack", f"“{pack.title}” by {', '.join(pack.artists)} (pack {pack.pack_id}{isrc})"))
    lines.append(_more(f"pack hash {pack.pack_hash}"))
    lines.append(_more(f"published by {pack.publisher_name} (key {pack.publisher_key_id})"))
    stems = ", ".join(f"{stem.name} ({stem.role})" for stem in record.stems) or "none"
    lines.append(_row("Stems heard", stems))
    lines.append(_row("What was done", summarise_recipe(record)))
    lines.append(_more(f"recipe hash {record.recipe_hash()}; exported as {record.export_format.upper()}"))
    rights = record.rights
    lines.append(_row("Licence", f"policy {rights.policy_uid}"))
    lines.append(_more(f"policy hash {rights.policy_hash}"))
    if rights.attribution:
        lines.append(_more(f"credit required: “{rights.attribution}”"))
    if rights.revenue_split:
        split = ", ".join(f"{share.party} {share.percent:g}%" for share in rights.revenue_split)
        lines.append(_more(f"revenue split: {split}"))
    lines.append(_more(f"this remix {rights.distribution_words}"))
    lines.append(_more("commercial use allowed" if rights.commercial_use else "no commercial use"))
    lines.append(_row("Grant", grant_status(grant or GrantCheck(GRANT_NONE))))
    lines.append(_row("AI", record.ai_disclosure))
    lines.append(_more(f"IPTC digital source type: {record.digital_source_type.rsplit('/', 1)[-1]}"))
    lines.append(
        _more(
            "AI training and data mining on this file: "
            + ("allowed by the pack's policy" if record.ai_training_allowed else "not allowed (pack policy)")
        )
    )
    return lines


def _isrc(text: str) -> str:
    try:
        return format_isrc(text)
    except FormatError:
        return f"{text} (not a well-formed ISRC)"


GRANT_WORDS = {
    GRANT_GENUINE: "genuine: signed by the rights service, for exactly this recipe",
    GRANT_EXPIRED: "genuine and for this recipe, but EXPIRED",
    GRANT_OTHER_RECIPE: "REFUSED: genuine, but it does not cover this file",
    GRANT_FORGED: "FORGED",
    GRANT_MALFORMED: "REFUSED: not a well-formed grant",
    GRANT_UNKNOWN_KEY: "NOT CHECKED",
}


def grant_status(check: GrantCheck) -> str:
    """The grant in words: whether there is one, and what checking its signature found."""
    if check.status == GRANT_NONE:
        return (
            "none: exported without a licence grant from the rights service "
            "(fine for listening; a platform asks for one)"
        )
    text = f"grant {check.grant_id or 'without an id'}: {GRANT_WORDS[check.status]}"
    if check.detail:
        text += f": {check.detail.rstrip('.')}"
    if check.expires and check.status in (GRANT_GENUINE, GRANT_UNKNOWN_KEY):
        text += f"; expires {check.expires}"
    return text
