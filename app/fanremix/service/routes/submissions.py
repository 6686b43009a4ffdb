"""Submissions: an exported file with its embedded record, sent with an Idempotency-Key; then status and review."""

import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Annotated, BinaryIO

from fastapi import APIRouter, File, Header, Query, Response, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from ..context import ServiceContext
from ..deps import Context, CurrentAccount, Db
from ..errors import ApiError
from ..models import (
    ROLE_ADMIN,
    ROLE_PUBLISHER,
    STATUS_ACCEPTED,
    STATUS_APPROVED,
    STATUS_REJECTED,
    STATUS_TAKEN_DOWN,
    Account,
    Pack,
    Submission,
    utc_now,
)
from ..schemas import Reason, Review, Status, SubmissionList, SubmissionOut
from ..verification import detect_format, verify_submission
from .common import error_responses

router = APIRouter(prefix="/v1/submissions", tags=["submissions"])

IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$"
_MEDIA_TYPES = {"wav": "audio/wav", "flac": "audio/flac", "mp3": "audio/mpeg", "ogg": "audio/ogg"}
_CHUNK = 1 << 20
# review decision -> (statuses it may follow, the status it leads to)
_TRANSITIONS = {
    "approve": ({STATUS_ACCEPTED, STATUS_APPROVED}, STATUS_APPROVED),
    "reject": ({STATUS_ACCEPTED, STATUS_APPROVED}, STATUS_REJECTED),
    "take_down": ({STATUS_ACCEPTED, STATUS_APPROVED, STATUS_TAKEN_DOWN}, STATUS_TAKEN_DOWN),
}


def submission_out(row: Submission) -> SubmissionOut:
    return SubmissionOut(
        id=row.id,
        status=row.status,  # type: ignore[arg-type]
        reasons=[Reason(**reason) for reason in json.loads(row.reasons_json)],
        pack_id=row.pack_id,
        recipe_hash=row.recipe_hash,
        grant_id=row.grant_id,
        file_sha256=row.file_sha256,
        file_size=row.file_size,
        media_type=row.media_type,
        account_id=row.account_id,
        review_note=row.review_note,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _receive(source: BinaryIO, folder: Path) -> tuple[Path, str, int]:
    """Copy an upload into `folder` (fsynced), hashing it on the way. Returns the path, sha256 and size."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f".incoming-{uuid.uuid4().hex}"
    digest = hashlib.sha256()
    size = 0
    with path.open("wb") as out:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return path, digest.hexdigest(), size


def _store(context: ServiceContext, incoming: Path, sha256: str, suffix: str) -> str:
    """Move a verified upload to its content-addressed name under uploads/; return that name."""
    name = f"{sha256[:2]}/{sha256}{suffix}"
    target = context.settings.uploads_dir / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        incoming.unlink(missing_ok=True)  # the same bytes are stored already
    else:
        os.replace(incoming, target)
    return name


def _existing(db: Db, account: Account, key: str) -> Submission | None:
    return db.execute(
        select(Submission).where(Submission.account_id == account.id, Submission.idempotency_key == key)
    ).scalar_one_or_none()


def _replay(existing: Submission, sha256: str, response: Response) -> SubmissionOut:
    if existing.file_sha256 != sha256:
        raise ApiError(
            422,
            "idempotency.key_reused",
            "This Idempotency-Key was already used for a different file. Use a new key for a new submission.",
        )
    response.status_code = 200
    response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/v1/submissions/{existing.id}"
    return submission_out(existing)


@router.post(
    "",
    status_code=201,
    response_model=SubmissionOut,
    responses={
        200: {"model": SubmissionOut, "description": "A resend with the same Idempotency-Key: the same submission."},
        **error_responses(401, 413, 422, 429),
        415: {"model": Reason, "description": "The file is not WAV, FLAC, MP3 or OGG."},
    },
)
def submit(
    account: CurrentAccount,
    db: Db,
    context: Context,
    response: Response,
    idempotency_key: Annotated[
        str,
        Header(
            alias="Idempotency-Key",
            pattern=IDEMPOTENCY_KEY_PATTERN,
            description="Chosen by the client, unique per submission; a resend with the same key returns the same "
            "submission.",
        ),
    ],
    file: Annotated[UploadFile, File(description="The exported audio with its embedded C2PA record.")],
    sidecar: Annotated[UploadFile | None, File(description="The .c2pa sidecar, for OGG files.")] = None,
) -> SubmissionOut:
    """Submit an exported remix. Every check runs on the server; the answer says accepted or rejected, and why."""
    incoming_dir = context.settings.uploads_dir / ".incoming"
    path, sha256, size = _receive(file.file, incoming_dir)
    sidecar_path: Path | None = None
    try:
        with path.open("rb") as handle:
            fmt = detect_format(handle.read(12))
        if fmt is None:
            raise ApiError(
                415, "submission.unsupported_format", "The file is not WAV, FLAC, MP3 or OGG audio; export it again."
            )
        existing = _existing(db, account, idempotency_key)
        if existing is not None:
            return _replay(existing, sha256, response)
        sidecar_bytes = None
        sidecar_sha = ""
        if sidecar is not None:
            sidecar_path, sidecar_sha, _ = _receive(sidecar.file, incoming_dir)
            sidecar_bytes = sidecar_path.read_bytes()
        verdict = verify_submission(context, db, account, path, fmt, sidecar_bytes)
        stored = stored_sidecar = None
        if verdict.accepted:  # rejected files are not kept: the service never hosts what it refused
            stored = _store(context, path, sha256, f".{fmt}")
            if sidecar_path is not None:  # under its own hash: the same audio may come with another record
                stored_sidecar = _store(context, sidecar_path, sidecar_sha, ".c2pa")
        record = verdict.record
        now = utc_now()
        row = Submission(
            id=f"sub_{uuid.uuid4().hex[:24]}",
            account_id=account.id,
            idempotency_key=idempotency_key,
            file_sha256=sha256,
            file_size=size,
            media_type=_MEDIA_TYPES[fmt],
            stored_name=stored,
            sidecar_name=stored_sidecar,
            pack_id=record.recipe.pack_id[:64] if record else None,
            recipe_hash=record.recipe.recipe_hash() if record else None,
            grant_id=verdict.grant.grant_id[:40] if verdict.grant else None,
            status=STATUS_ACCEPTED if verdict.accepted else STATUS_REJECTED,
            reasons_json=json.dumps(verdict.reasons),
            created_at=now,
            updated_at=now,
        )
        db.add(row)
        try:
            db.commit()
        except IntegrityError:  # the same key arrived twice at once; the other request created the row
            db.rollback()
            existing = _existing(db, account, idempotency_key)
            if existing is None:
                raise
            return _replay(existing, sha256, response)
        response.headers["Location"] = f"/v1/submissions/{row.id}"
        return submission_out(row)
    finally:
        path.unlink(missing_ok=True)
        if sidecar_path is not None:
            sidecar_path.unlink(missing_ok=True)


def _visible(query: Select, account: Account) -> Select:
    """Fans see their own submissions; publishers those made from their packs; admins all."""
    if account.role == ROLE_ADMIN:
        return query
    if account.role == ROLE_PUBLISHER:
        own_packs = select(Pack.id).where(Pack.publisher_id == account.id)
        return query.where((Submission.pack_id.in_(own_packs)) | (Submission.account_id == account.id))
    return query.where(Submission.account_id == account.id)


def _find(db: Db, account: Account, submission_id: str) -> Submission:
    row = db.execute(_visible(select(Submission).where(Submission.id == submission_id), account)).scalar_one_or_none()
    if row is None:  # the same answer whether it does not exist or is someone else's: ids leak nothing
        raise ApiError(404, "submission.not_found", f"There is no submission {submission_id} that you can see.")
    return row


@router.get("", response_model=SubmissionList, responses=error_responses(401, 422, 429))
def list_submissions(
    account: CurrentAccount,
    db: Db,
    status: Annotated[Status | None, Query(description="Only submissions with this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> SubmissionList:
    query = _visible(select(Submission), account)
    if status is not None:
        query = query.where(Submission.status == status)
    query = query.order_by(Submission.created_at.desc(), Submission.id).limit(limit).offset(offset)
    return SubmissionList(submissions=[submission_out(row) for row in db.execute(query).scalars()])


@router.get("/{submission_id}", response_model=SubmissionOut, responses=error_responses(401, 404, 429))
def get_submission(submission_id: str, account: CurrentAccount, db: Db) -> SubmissionOut:
    return submission_out(_find(db, account, submission_id))


@router.get(
    "/{submission_id}/file",
    response_class=FileResponse,
    responses={200: {"content": {"audio/*": {}}, "description": "The stored audio."}, **error_responses(401, 404, 429)},
)
def get_submission_file(submission_id: str, account: CurrentAccount, db: Db, context: Context) -> FileResponse:
    row = _find(db, account, submission_id)
    if row.stored_name is None:
        raise ApiError(404, "submission.no_file", "This submission was rejected, so its file was not kept.")
    return FileResponse(context.settings.uploads_dir / row.stored_name, media_type=row.media_type)


@router.get(
    "/{submission_id}/sidecar",
    response_class=FileResponse,
    responses={
        200: {"content": {"application/c2pa": {}}, "description": "The C2PA record kept beside an OGG file."},
        **error_responses(401, 404, 429),
    },
)
def get_submission_sidecar(submission_id: str, account: CurrentAccount, db: Db, context: Context) -> FileResponse:
    """The `.c2pa` sidecar an OGG submission came with (formats that embed their record have none)."""
    row = _find(db, account, submission_id)
    if row.sidecar_name is None:
        raise ApiError(404, "submission.no_sidecar", "This submission has no separate C2PA record: it is in the file.")
    return FileResponse(context.settings.uploads_dir / row.sidecar_name, media_type="application/c2pa")


@router.post(
    "/{submission_id}/review", response_model=SubmissionOut, responses=error_responses(401, 403, 404, 409, 422, 429)
)
def review(submission_id: str, body: Review, account: CurrentAccount, db: Db) -> SubmissionOut:
    """The pack's publisher (or an admin) approves, rejects or takes down a submission."""
    row = _find(db, account, submission_id)
    pack = db.get(Pack, row.pack_id) if row.pack_id else None
    if account.role != ROLE_ADMIN and (pack is None or pack.publisher_id != account.id):
        raise ApiError(403, "submission.not_your_pack", "Only the publisher of the pack may review this submission.")
    allowed_from, target = _TRANSITIONS[body.decision]
    if row.status not in allowed_from:
        raise ApiError(
            409,
            "submission.bad_transition",
            f"A submission that is {row.status.replace('_', ' ')} cannot be given the decision '{body.decision}'.",
        )
    row.status = target
    row.review_note = body.note
    row.reviewed_by = account.id
    row.updated_at = utc_now()
    if body.decision == "reject":
        reasons = json.loads(row.reasons_json)
        reasons.append({"code": "review.rejected", "message": body.note or "The publisher rejected this remix."})
        row.reasons_json = json.dumps(reasons)
    db.commit()
    return submission_out(row)
