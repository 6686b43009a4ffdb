"""The shapes of requests and responses: the OpenAPI document is built from these, and the client follows it."""

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._'-]{1,79}$"
PACK_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"

Role = Literal["fan", "publisher", "admin"]
Status = Literal["accepted", "rejected", "approved", "taken_down"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccountCreate(Strict):
    name: str = Field(pattern=NAME_PATTERN, description="Shown as the remixer or publisher; unique.")
    password: str = Field(min_length=10, max_length=256)
    role: Literal["fan", "publisher"] = "fan"


class Login(Strict):
    name: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=256)


class RoleChange(Strict):
    role: Role


class AccountOut(BaseModel):
    id: str
    name: str
    role: Role
    created_at: dt.datetime


class TokenOut(BaseModel):
    token: str = Field(description="Send as 'Authorization: Bearer <token>'. Shown only once.")
    account: AccountOut


class PackRegistration(Strict):
    manifest: dict[str, Any] = Field(description="The signed pack.json (no audio).")
    public_key_pem: str = Field(max_length=4096, description="The publisher's Ed25519 public key (PEM).")


class PolicyUpdate(Strict):
    policy: dict[str, Any] = Field(description="The new ODRL-shaped policy.")


class PackOut(BaseModel):
    id: str
    title: str
    artists: list[str]
    publisher_id: str
    key_id: str
    pack_hash: str
    policy: dict[str, Any]
    policy_hash: str
    retired: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class IntendedUse(Strict):
    distribution: str = Field(default="fanremix", max_length=80, description="'private', the platform, or 'external'.")
    commercial: bool = False
    ai_training: bool = False


class CheckRequest(Strict):
    pack_id: str = Field(pattern=PACK_ID_PATTERN)
    recipe: dict[str, Any]
    use: IntendedUse = IntendedUse()


class ViolationOut(BaseModel):
    code: str
    message: str
    stem: str | None = None


class CheckOut(BaseModel):
    allowed: bool
    recipe_hash: str
    policy_hash: str
    violations: list[ViolationOut]


class GrantOut(BaseModel):
    grant: dict[str, Any] = Field(description="The signed grant; verify it with a key from GET /v1/keys.")


class GrantKeyOut(BaseModel):
    key_id: str
    algorithm: Literal["ed25519"]
    public_key_pem: str


class KeysOut(BaseModel):
    issuer: str
    grant_keys: list[GrantKeyOut]
    ca_certificate_pem: str = Field(description="The CA that issues fans' C2PA signing certificates.")


class CertificateRequest(Strict):
    csr_pem: str = Field(max_length=16384, description="A PEM CSR for a P-256 key; its common name is your name.")


class CertificateOut(BaseModel):
    certificate_pem: str
    chain_pem: str = Field(description="Your certificate, then the CA's: what a C2PA signer needs.")
    ca_certificate_pem: str
    serial_number: str
    not_after: dt.datetime


class Reason(BaseModel):
    code: str
    message: str


class SubmissionOut(BaseModel):
    id: str
    status: Status
    reasons: list[Reason]
    pack_id: str | None
    recipe_hash: str | None
    grant_id: str | None
    file_sha256: str
    file_size: int
    media_type: str
    account_id: str
    review_note: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class SubmissionList(BaseModel):
    submissions: list[SubmissionOut]


class Review(Strict):
    decision: Literal["approve", "reject", "take_down"]
    note: str | None = Field(default=None, max_length=2000)


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    schema_revision: str | None
