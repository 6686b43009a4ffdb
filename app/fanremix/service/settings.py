"""The rights service's settings, declared once with their defaults."""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_UPLOAD_BYTES = 200 * 1024 * 1024  # 200 MiB: ten minutes of 48 kHz 24-bit stereo WAV is ~170 MB
DEFAULT_MAX_JSON_BYTES = 2 * 1024 * 1024  # a pack manifest is at most 1 MiB (see rights.packfile)


@dataclass(frozen=True)
class ServiceSettings:
    """Everything `create_app` needs. `database_url` is any SQLAlchemy URL; SQLite by default."""

    data_dir: Path
    database_url: str | None = None  # None: a SQLite file in data_dir
    name: str = "fanremix"  # the issuer named in grants and in the CA's certificate
    grant_lifetime: dt.timedelta = dt.timedelta(days=30)
    # API tokens stop working this long after they were issued (sign in again for a new one); revoking ends them now.
    token_lifetime: dt.timedelta = dt.timedelta(days=90)
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    max_json_bytes: int = DEFAULT_MAX_JSON_BYTES
    # Per account (or per client address before sign-in): a token bucket refilled at `rate_per_minute`, holding at
    # most `rate_burst` requests. In-memory, so with several workers each worker counts separately (see the docs).
    rate_per_minute: float = 120.0
    rate_burst: int = 60
    # Sign-up and sign-in attempts per client address (password guessing is the concern, not load).
    auth_rate_per_minute: float = 20.0
    auth_rate_burst: int = 10
    # Who may create publisher accounts by themselves. A platform turns this off and has an admin promote accounts.
    open_publisher_signup: bool = True
    # Whether a submission's C2PA record must chain to this service's CA (the default), or any valid chain is
    # enough. Turning it off is only for trying files signed with a local development identity.
    require_service_certificate: bool = True

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(Path(self.data_dir) / 'rights.sqlite3').resolve()}"

    @property
    def uploads_dir(self) -> Path:
        return Path(self.data_dir) / "uploads"

    @property
    def keys_dir(self) -> Path:
        return Path(self.data_dir) / "keys"

    @property
    def grant_key_path(self) -> Path:
        return self.keys_dir / "grant-signing.pem"

    @property
    def ca_dir(self) -> Path:
        return self.keys_dir / "ca"
