"""What every request handler shares: settings, the database, the service's keys and the rate limiters."""

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from fanremix.rights.grants import GrantSigner
from fanremix.rights.identity import CertificateAuthority, TrustAnchors

from .database import make_engine, migrate, session_factory
from .limits import RateLimiter
from .settings import ServiceSettings

CA_ORGANIZATION = "Fan Remix rights service"


@dataclass
class ServiceContext:
    settings: ServiceSettings
    engine: Engine
    sessions: sessionmaker[Session]
    signer: GrantSigner
    ca: CertificateAuthority
    limiter: RateLimiter
    auth_limiter: RateLimiter

    @classmethod
    def start(cls, settings: ServiceSettings) -> "ServiceContext":
        """Open the database (migrating it to the newest schema) and load or create the service's keys."""
        data_dir = Path(settings.data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        settings.uploads_dir.mkdir(parents=True, exist_ok=True)
        settings.keys_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(settings.keys_dir, 0o700)
        engine = make_engine(settings.resolved_database_url)
        with _file_lock(data_dir / ".migrate.lock"):  # workers on one machine migrate one at a time (PostgreSQL
            migrate(engine)  # workers on several machines also take an advisory lock, see migrations/env.py)
        return cls(
            settings=settings,
            engine=engine,
            sessions=session_factory(engine),
            signer=GrantSigner.load_or_create(settings.grant_key_path, issuer=settings.name),
            ca=load_or_create_ca(settings.ca_dir, f"{settings.name} fan signing CA"),
            limiter=RateLimiter(settings.rate_per_minute, settings.rate_burst),
            auth_limiter=RateLimiter(settings.auth_rate_per_minute, settings.auth_rate_burst),
        )

    @property
    def ca_anchors(self) -> TrustAnchors:
        return TrustAnchors.from_pem(self.ca.certificate_pem, "this rights service's CA")

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def load_or_create_ca(folder: Path, common_name: str) -> CertificateAuthority:
    """The service's CA, created on first start. Several workers may start at once: the CA is written to a private
    folder and renamed into place, so one CA wins and every worker loads it."""
    folder = Path(folder)
    if not folder.is_dir():
        staging = Path(tempfile.mkdtemp(prefix=".ca-", dir=folder.parent))
        try:
            CertificateAuthority.create(common_name, CA_ORGANIZATION).save(staging)
            os.chmod(staging, 0o700)
            with contextlib.suppress(OSError):  # another worker renamed its CA into place first
                staging.rename(folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return CertificateAuthority.load(folder)
