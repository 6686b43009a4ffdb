"""Pack registration by publishers: the signed manifest and policy (never the audio)."""

import json

from fastapi import APIRouter, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fanremix.domain.errors import PackError
from fanremix.domain.policy import Policy
from fanremix.domain.stem_pack import PackManifest
from fanremix.rights.signing import key_id_of, load_public_key, public_key_pem, verify_signature

from ..deps import CurrentAccount, Db, require_role
from ..errors import ApiError
from ..models import ROLE_ADMIN, ROLE_PUBLISHER, Account, Pack, PackPolicy, PublisherKey, utc_now
from ..schemas import PackOut, PackRegistration, PolicyUpdate
from .common import error_responses, pack_out, parse

router = APIRouter(prefix="/v1/packs", tags=["packs"])


def owned_pack(db: Db, account: Account, pack_id: str, action: str) -> Pack:
    pack = db.get(Pack, pack_id)
    if pack is None:
        raise ApiError(404, "pack.unknown", f"No pack '{pack_id}' is registered with this service.")
    if account.role != ROLE_ADMIN and pack.publisher_id != account.id:
        raise ApiError(403, "pack.not_yours", f"Only the publisher who registered pack '{pack_id}' may {action}.")
    return pack


def keep_policy(db: Db, pack_id: str, policy_json: str, policy_hash: str, previous_hash: str | None) -> None:
    """Add the policy now in force to the pack's policies, unless it is the one that was (grants name it by hash)."""
    if policy_hash != previous_hash:
        db.add(PackPolicy(pack_id=pack_id, policy_hash=policy_hash, policy_json=policy_json, created_at=utc_now()))


@router.post("", status_code=201, response_model=PackOut, responses=error_responses(401, 403, 409, 413, 422, 429))
def register_pack(body: PackRegistration, account: CurrentAccount, db: Db, response: Response) -> PackOut:
    """Register a signed pack, or a new version of one you registered before (201 new, 200 updated)."""
    require_role(account, ROLE_PUBLISHER, action="register packs")
    manifest = parse("pack manifest", "pack.invalid", lambda: PackManifest.from_dict(body.manifest))
    public_key = parse(
        "public key",
        "pack.invalid_key",
        lambda: load_public_key(body.public_key_pem.encode("utf-8", "replace"), "the public key"),
    )
    if manifest.signature is None:
        raise ApiError(422, "pack.unsigned", "The manifest carries no signature; sign the pack before registering it.")
    key_id = key_id_of(public_key)
    if manifest.signature.key_id != key_id:
        raise ApiError(
            422,
            "pack.key_mismatch",
            f"The pack is signed by key {manifest.signature.key_id}, but the public key sent is {key_id}.",
        )
    try:
        verify_signature(manifest, public_key)
    except PackError as exc:
        raise ApiError(422, "pack.bad_signature", exc.message) from None
    owner = db.get(PublisherKey, key_id)
    if owner is not None and owner.account_id != account.id:
        raise ApiError(403, "pack.key_not_yours", f"Key {key_id} is registered to another publisher.")
    existing = db.get(Pack, manifest.id)
    if existing is not None and existing.publisher_id != account.id:
        raise ApiError(409, "pack.id_taken", f"Another publisher registered a pack with the id '{manifest.id}'.")
    now = utc_now()
    if owner is None:
        db.add(
            PublisherKey(
                key_id=key_id, account_id=account.id, public_key_pem=public_key_pem(public_key).decode(), created_at=now
            )
        )
    policy = manifest.policy
    fields = {
        "key_id": key_id,
        "manifest_json": json.dumps(manifest.to_dict(), sort_keys=True),
        "pack_hash": manifest.pack_hash(),
        "policy_json": json.dumps(policy.to_dict(), sort_keys=True),
        "policy_hash": policy.policy_hash(),
        "retired": False,
        "updated_at": now,
    }
    previous_hash = None if existing is None else existing.policy_hash
    if existing is None:
        pack = Pack(id=manifest.id, publisher_id=account.id, created_at=now, **fields)
        db.add(pack)
    else:
        pack = existing
        for name, value in fields.items():
            setattr(pack, name, value)
        response.status_code = 200
    keep_policy(db, pack.id, pack.policy_json, pack.policy_hash, previous_hash)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise ApiError(
            409, "pack.id_taken", f"The pack id '{manifest.id}' was registered at the same moment."
        ) from None
    return pack_out(pack)


@router.get("", response_model=list[PackOut], responses=error_responses(401, 429))
def list_packs(account: CurrentAccount, db: Db) -> list[PackOut]:
    """Publishers see their own packs; fans see every pack that is not retired; admins see all."""
    query = select(Pack).order_by(Pack.created_at, Pack.id)
    if account.role == ROLE_PUBLISHER:
        query = query.where(Pack.publisher_id == account.id)
    elif account.role != ROLE_ADMIN:
        query = query.where(Pack.retired.is_(False))
    return [pack_out(pack) for pack in db.execute(query).scalars()]


@router.get("/{pack_id}", response_model=PackOut, responses=error_responses(401, 404, 429))
def get_pack(pack_id: str, account: CurrentAccount, db: Db) -> PackOut:
    del account
    pack = db.get(Pack, pack_id)
    if pack is None:
        raise ApiError(404, "pack.unknown", f"No pack '{pack_id}' is registered with this service.")
    return pack_out(pack)


@router.put("/{pack_id}/policy", response_model=PackOut, responses=error_responses(401, 403, 404, 422, 429))
def update_policy(pack_id: str, body: PolicyUpdate, account: CurrentAccount, db: Db) -> PackOut:
    """Replace the policy in force. New checks and grants are judged by it; a remix made with a grant issued
    before keeps the terms of the policy that grant names."""
    pack = owned_pack(db, account, pack_id, "change its policy")
    policy = parse("policy", "policy.invalid", lambda: Policy.from_dict(body.policy))
    previous_hash = pack.policy_hash
    pack.policy_json = json.dumps(policy.to_dict(), sort_keys=True)
    pack.policy_hash = policy.policy_hash()
    keep_policy(db, pack.id, pack.policy_json, pack.policy_hash, previous_hash)
    pack.updated_at = utc_now()
    db.commit()
    return pack_out(pack)


@router.post("/{pack_id}/retire", response_model=PackOut, responses=error_responses(401, 403, 404, 429))
def retire_pack(pack_id: str, account: CurrentAccount, db: Db) -> PackOut:
    """Stop licensing remixes of the pack: no new grants, and submissions are rejected."""
    pack = owned_pack(db, account, pack_id, "retire it")
    pack.retired = True
    pack.updated_at = utc_now()
    db.commit()
    return pack_out(pack)
