"""Server-side verification of a submitted file: its C2PA record, the grant inside it, and the policy now in force.

Each failed check becomes a reason `{code, message}`; a submission with any reason is rejected. The checks:
- the record is present, intact (audio and manifest unchanged since signing) and signed by a certificate that chains
  to this service's CA and was issued to the submitting account;
- the grant in the record is genuine (signed by this service), unexpired, issued to the submitting account, and for
  the pack and the exact recipe the record states;
- the pack is registered and not retired, and the policy the grant was issued under allows the recipe. A policy
  update applies to new grants only: a remix made with an earlier grant keeps that grant's policy (the current policy
  judges a remix without a valid grant, or one whose grant names a policy this service did not keep).
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fanremix.domain.policy import Policy
from fanremix.domain.provenance import ProvenanceRecord
from fanremix.rights.c2pa import NoCredentialsError, ValidationState, read_provenance_stream
from fanremix.rights.grants import Grant, GrantError, verify_grant

from .context import ServiceContext
from .models import Account, IssuedCertificate, Pack, PackPolicy
from .routes.common import pack_manifest

# C2PA failure codes that mean "the audio bytes changed after signing" (the hard binding no longer matches).
_AUDIO_CHANGED = ("assertion.dataHash.mismatch", "assertion.bmffHash.mismatch", "assertion.boxesHash.mismatch")


@dataclass
class Verdict:
    reasons: list[dict[str, str]] = field(default_factory=list)
    record: ProvenanceRecord | None = None
    grant: Grant | None = None

    def add(self, code: str, message: str) -> None:
        self.reasons.append({"code": code, "message": message})

    @property
    def accepted(self) -> bool:
        return not self.reasons


def detect_format(head: bytes) -> str | None:
    """The audio format from the file's first bytes (the upload's name and declared type are not trusted)."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0):
        return "mp3"
    return None


def verify_submission(
    context: ServiceContext,
    db: Session,
    account: Account,
    path: Path,
    fmt: str,
    sidecar: bytes | None,
) -> Verdict:
    verdict = Verdict()
    record = _check_record(context, db, account, path, fmt, sidecar, verdict)
    if record is None:
        return verdict
    verdict.record = record
    recipe = record.recipe
    if recipe.pack_hash != record.pack.pack_hash:
        verdict.add("record.inconsistent", "The record's recipe was made for a different pack than the record names.")
    document: Any = record.rights.grant
    if document is None:
        verdict.add("grant.missing", "The record carries no grant: ask the rights service for one and export again.")
    else:
        try:
            verdict.grant = verify_grant(
                document,
                context.signer.key_set(),
                fan_id=account.id,
                pack_id=recipe.pack_id,
                pack_hash=recipe.pack_hash,
                recipe_hash=recipe.recipe_hash(),
            )
        except GrantError as exc:
            verdict.add(exc.code, exc.message)
    pack = db.get(Pack, recipe.pack_id)
    if pack is None:
        verdict.add("pack.unknown", f"Pack '{recipe.pack_id}' is not registered with this service.")
        return verdict
    if pack.retired:
        verdict.add("pack.retired", "The publisher has retired this pack: remixes of it are no longer accepted.")
    use = verdict.grant.use if verdict.grant is not None else None
    policy_json = _policy_json(db, pack, verdict.grant)
    for violation in Policy.from_json(policy_json).check(recipe, pack_manifest(pack), use=use):
        verdict.add(violation.code, violation.message)
    return verdict


def _policy_json(db: Session, pack: Pack, grant: Grant | None) -> str:
    """The policy that judges the remix: the one its (verified) grant was issued under, else the one in force."""
    if grant is None or grant.policy_hash == pack.policy_hash:
        return pack.policy_json
    kept = db.execute(
        select(PackPolicy.policy_json)
        .where(PackPolicy.pack_id == pack.id, PackPolicy.policy_hash == grant.policy_hash)
        .limit(1)
    ).scalar_one_or_none()
    return kept if kept is not None else pack.policy_json


def _check_record(
    context: ServiceContext,
    db: Session,
    account: Account,
    path: Path,
    fmt: str,
    sidecar: bytes | None,
    verdict: Verdict,
) -> ProvenanceRecord | None:
    try:
        with path.open("rb") as stream:
            report = read_provenance_stream(stream, fmt, context.ca_anchors, sidecar_bytes=sidecar)
    except NoCredentialsError:
        verdict.add(
            "record.missing", "The file carries no Content Credentials: export it from Fan Remix Studio with a grant."
        )
        return None
    codes = {entry.code for entry in report.failures}
    if codes & set(_AUDIO_CHANGED):
        verdict.add(
            "record.audio_altered", "The audio was changed after it was signed: it is not what the record describes."
        )
    if report.state == ValidationState.INVALID:
        other = [entry for entry in report.failures if entry.code not in _AUDIO_CHANGED]
        if other or not codes & set(_AUDIO_CHANGED):
            details = " ".join(f"{entry.meaning} [{entry.code}]" for entry in other) or "The record is not valid."
            verdict.add("record.invalid", details)
    elif report.state == ValidationState.VALID and context.settings.require_service_certificate:
        verdict.add(
            "record.untrusted_signer",
            "The record is signed with a certificate this service did not issue. Get your signing certificate from "
            "this service (sign in, then export again).",
        )
    if report.record is None:
        verdict.add("record.unreadable", report.record_error or "The record is not a Fan Remix Studio record.")
        return None
    if report.state == ValidationState.TRUSTED and context.settings.require_service_certificate:
        serial = report.signer.serial_number if report.signer else ""
        issued = db.get(IssuedCertificate, serial) if serial else None
        if issued is None or issued.account_id != account.id:
            verdict.add(
                "record.wrong_signer",
                "The record was signed with another account's certificate; sign your remixes with your own.",
            )
    return report.record


def reasons_json(verdict: Verdict) -> str:
    return json.dumps(verdict.reasons)
