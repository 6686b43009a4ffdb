"""The service's tables (SQLAlchemy 2.0). Kept portable: SQLite for one machine, PostgreSQL for deployment.

The schema is versioned by the Alembic migrations in `migrations/`; change both together.
"""

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROLE_FAN = "fan"
ROLE_PUBLISHER = "publisher"
ROLE_ADMIN = "admin"
ROLES = (ROLE_FAN, ROLE_PUBLISHER, ROLE_ADMIN)

STATUS_ACCEPTED = "accepted"  # every check passed; waiting for the publisher's review
STATUS_REJECTED = "rejected"  # a check failed, or the publisher rejected it
STATUS_APPROVED = "approved"  # the publisher approved it
STATUS_TAKEN_DOWN = "taken_down"  # approved or accepted before, withdrawn by the publisher
STATUSES = (STATUS_ACCEPTED, STATUS_REJECTED, STATUS_APPROVED, STATUS_TAKEN_DOWN)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Stored as naive UTC (SQLite keeps no zone), read back as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: object) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: object) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the bearer token
    label: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # None for tokens issued before tokens expired (revision 0002): those end `token_lifetime` after `created_at`
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)


class PublisherKey(Base):
    """An Ed25519 pack-signing key and the publisher account that owns it (first registration wins)."""

    __tablename__ = "publisher_keys"

    key_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    public_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now)


class Pack(Base):
    """A registered stem pack: its signed manifest (no audio) and the policy now in force.

    `policy_json` starts as the manifest's policy; the publisher may replace it later. New checks and grants use the
    current policy against the registered manifest; a submission is judged by the policy its grant was issued under
    (`PackPolicy` keeps every policy a pack has had).
    """

    __tablename__ = "packs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    publisher_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    key_id: Mapped[str] = mapped_column(String(40))
    manifest_json: Mapped[str] = mapped_column(Text)
    pack_hash: Mapped[str] = mapped_column(String(64))
    policy_json: Mapped[str] = mapped_column(Text)
    policy_hash: Mapped[str] = mapped_column(String(64))
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now)


class PackPolicy(Base):
    """Every policy a pack has had, so a grant keeps the terms it was issued under after the publisher changes them.

    A row is added when a pack is registered and whenever its policy changes; rows are never changed. The same
    policy may appear twice (two requests at once): its hash identifies it, and equal hashes mean equal policies.
    """

    __tablename__ = "pack_policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pack_id: Mapped[str] = mapped_column(ForeignKey("packs.id", ondelete="CASCADE"), index=True)
    policy_hash: Mapped[str] = mapped_column(String(64))
    policy_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now)


class IssuedGrant(Base):
    """A record of each grant issued (the signature, not this table, is what makes a grant genuine)."""

    __tablename__ = "grants"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    pack_id: Mapped[str] = mapped_column(String(64), index=True)
    recipe_hash: Mapped[str] = mapped_column(String(64))
    document_json: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class IssuedCertificate(Base):
    """A fan signing certificate this service's CA issued, so a submission's signer can be tied to an account."""

    __tablename__ = "certificates"

    serial: Mapped[str] = mapped_column(String(64), primary_key=True)  # hex
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(100), unique=True)
    subject: Mapped[str] = mapped_column(String(255))
    not_after: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now)


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("account_id", "idempotency_key", name="uq_submission_idempotency"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    file_sha256: Mapped[str] = mapped_column(String(64))
    file_size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(40))
    stored_name: Mapped[str | None] = mapped_column(String(200), nullable=True)  # under uploads/, when kept
    sidecar_name: Mapped[str | None] = mapped_column(String(200), nullable=True)  # its .c2pa record (OGG), when kept
    pack_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    recipe_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    grant_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    reasons_json: Mapped[str] = mapped_column(Text, default="[]")
    review_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utc_now)
