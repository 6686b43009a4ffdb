"""`fanremix verify FILE`: check a remix's Content Credentials and say, in words, what they prove.

Exit status: 0 when the record is Trusted or Valid (and, with --pack, the audio matches); 3 when it is Invalid; 4 when
the record is intact but the audio does not match its recipe re-rendered from the pack; 1 for errors (no credentials,
unreadable pack...).
"""

import argparse
import json
from pathlib import Path
from typing import Any

from .domain.errors import FormatError
from .domain.music import format_isrc
from .domain.provenance import ProvenanceRecord
from .provenance_flow import Verification, verify_file
from .rights.c2pa import ValidationState, summarise_recipe
from .rights.identity import configured_trust_anchors, trust_anchor_folder
from .rights.packfile import open_pack
from .workspace import Workspace

EXIT_INVALID = 3
EXIT_AUDIO_MISMATCH = 4
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
    verify.set_defaults(handler=cmd_verify)


def cmd_verify(args: argparse.Namespace, workspace: Workspace) -> int:
    anchors = configured_trust_anchors(workspace.paths.config, [Path(p) for p in args.trust_anchor])
    if args.pack:
        with open_pack(Path(args.pack), workspace.keyring()) as pack:
            result = verify_file(Path(args.file), anchors, pack)
            policy_text = pack.manifest.policy.describe_text() if _pack_is_recorded(result, pack) else None
    else:
        result = verify_file(Path(args.file), anchors)
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
        lines.extend(_describe_record(record))
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


def _describe_record(record: ProvenanceRecord) -> list[str]:
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
    lines.append(_row("Grant", grant_status(record)))
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


def grant_status(record: ProvenanceRecord) -> str:
    """The grant in words. Its signature is checked by the rights service (and the client), not here."""
    grant = record.rights.grant
    if grant is None:
        return (
            "none: exported without a licence grant from the rights service "
            "(fine for listening; a platform asks for one)"
        )
    grant_id = grant.get("id") or grant.get("grant_id") or "without an id"
    text = f"grant {grant_id} is carried in the record"
    recipe_hash = grant.get("recipe_hash")
    if isinstance(recipe_hash, str):
        covers = recipe_hash == record.recipe_hash()
        text += "; it covers this recipe" if covers else "; it is for a DIFFERENT recipe than this file's"
    expires = grant.get("expires") or grant.get("expires_at")
    if expires:
        text += f"; expires {expires}"
    return text + " (its signature is checked by the rights service)"
