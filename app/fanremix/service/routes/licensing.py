"""Policy checks, grants, the service's public keys, and fans' C2PA signing certificates."""

import json

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from fastapi import APIRouter

from fanremix import __version__
from fanremix.domain.policy import Policy, Use, Violation
from fanremix.domain.recipe import Recipe
from fanremix.rights.grants import Grant
from fanremix.rights.identity import IdentityError, fingerprint

from ..database import current_revision
from ..deps import Context, CurrentAccount, Db
from ..errors import ApiError
from ..models import IssuedCertificate, IssuedGrant, Pack, utc_now
from ..schemas import (
    CertificateOut,
    CertificateRequest,
    CheckOut,
    CheckRequest,
    GrantKeyOut,
    GrantOut,
    Health,
    KeysOut,
    ViolationOut,
)
from .common import error_responses, pack_manifest, parse

router = APIRouter(prefix="/v1", tags=["licensing"])


def judge(db: Db, request: CheckRequest) -> tuple[Pack, Recipe, Policy, Use, list[Violation]]:
    """The one check behind /checks and /grants: the pack's current policy, via the app's own `Policy.check`."""
    pack = db.get(Pack, request.pack_id)
    if pack is None:
        raise ApiError(404, "pack.unknown", f"No pack '{request.pack_id}' is registered with this service.")
    recipe = parse("recipe", "recipe.invalid", lambda: Recipe.from_dict(request.recipe))
    policy = Policy.from_json(pack.policy_json)
    use = Use(
        distribution=request.use.distribution, commercial=request.use.commercial, ai_training=request.use.ai_training
    )
    violations = policy.check(recipe, pack_manifest(pack), use=use)
    if pack.retired:
        violations.insert(0, Violation("pack.retired", "The publisher has retired this pack: no new remixes of it."))
    return pack, recipe, policy, use, violations


def _violations_out(violations: list[Violation]) -> list[ViolationOut]:
    return [ViolationOut(code=v.code, message=v.message, stem=v.stem_id) for v in violations]


@router.get("/health", response_model=Health, tags=["service"], responses=error_responses())
def health(context: Context) -> Health:
    return Health(status="ok", version=__version__, schema_revision=current_revision(context.engine))


@router.get("/keys", response_model=KeysOut, tags=["service"], responses=error_responses())
def keys(context: Context) -> KeysOut:
    """The public keys that verify grants, and the CA certificate of fans' signing certificates."""
    return KeysOut(
        issuer=context.settings.name,
        grant_keys=[GrantKeyOut(**item) for item in context.signer.key_set().to_published()],
        ca_certificate_pem=context.ca.certificate_pem.decode("ascii"),
    )


@router.post("/checks", response_model=CheckOut, responses=error_responses(401, 404, 422, 429))
def check(body: CheckRequest, account: CurrentAccount, db: Db) -> CheckOut:
    """Every reason the recipe is not allowed on the pack (an empty list: it is allowed)."""
    del account
    pack, recipe, _policy, _use, violations = judge(db, body)
    return CheckOut(
        allowed=not violations,
        recipe_hash=recipe.recipe_hash(),
        policy_hash=pack.policy_hash,
        violations=_violations_out(violations),
    )


@router.post("/grants", status_code=201, response_model=GrantOut, responses=error_responses(401, 404, 422, 429))
def grant(body: CheckRequest, account: CurrentAccount, db: Db, context: Context) -> GrantOut:
    """A signed grant for this exact recipe, issued only when the check passes (422 `policy.violation` otherwise)."""
    pack, recipe, policy, use, violations = judge(db, body)
    if violations:
        raise ApiError(
            422,
            "policy.violation",
            "The pack's licence does not allow this remix: " + " ".join(v.message for v in violations),
            violations=[v.to_dict() for v in violations],
        )
    issued = Grant.for_recipe(
        fan_id=account.id,
        fan_name=account.name,
        recipe=recipe,
        policy=policy,
        pack_hash=pack.pack_hash,
        use=use,
        lifetime=context.settings.grant_lifetime,
        issuer=context.settings.name,
    )
    document = context.signer.sign(issued)
    db.add(
        IssuedGrant(
            id=issued.grant_id,
            account_id=account.id,
            pack_id=pack.id,
            recipe_hash=issued.recipe_hash,
            document_json=json.dumps(document, sort_keys=True),
            issued_at=issued.issued_at,
            expires_at=issued.expires_at,
        )
    )
    db.commit()
    return GrantOut(grant=document)


@router.post("/certificates", status_code=201, response_model=CertificateOut, responses=error_responses(401, 422, 429))
def certificate(body: CertificateRequest, account: CurrentAccount, db: Db, context: Context) -> CertificateOut:
    """Certify your C2PA signing key. The CSR's common name must be your account name: it is shown as the signer."""
    try:
        csr = x509.load_pem_x509_csr(body.csr_pem.encode("utf-8", "replace"))
    except ValueError:
        raise ApiError(422, "certificate.bad_csr", "csr_pem is not a PEM certificate signing request.") from None
    names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names or names[0].value != account.name:
        raise ApiError(
            422,
            "certificate.wrong_name",
            f"The request's common name must be your account name '{account.name}': it is what people see as the "
            "signer of your remixes.",
        )
    try:
        issued = context.ca.issue(csr)
    except IdentityError as exc:
        raise ApiError(422, "certificate.refused", exc.message) from None
    db.add(
        IssuedCertificate(
            serial=str(issued.serial_number),
            account_id=account.id,
            fingerprint=fingerprint(issued),
            subject=account.name,
            not_after=issued.not_valid_after_utc,
            created_at=utc_now(),
        )
    )
    db.commit()
    ca_pem = context.ca.certificate_pem.decode("ascii")
    return CertificateOut(
        certificate_pem=issued.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        chain_pem=context.ca.chain_for(issued).decode("ascii"),
        ca_certificate_pem=ca_pem,
        serial_number=str(issued.serial_number),
        not_after=issued.not_valid_after_utc,
    )
