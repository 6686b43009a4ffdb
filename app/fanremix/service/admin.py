"""Administration done directly on the database (no HTTP): creating the first admin account."""

from sqlalchemy import func, select

from .context import ServiceContext
from .models import ROLE_ADMIN, Account, ApiToken, utc_now
from .security import hash_password, new_id, new_token, token_hash
from .settings import ServiceSettings


def create_admin(settings: ServiceSettings, name: str, password: str) -> str:
    """Create an admin account (or make an existing account admin after checking nothing); return a new token."""
    if len(password) < 10:
        from fanremix.domain.errors import FanRemixError

        raise FanRemixError("An admin password needs at least 10 characters.")
    context = ServiceContext.start(settings)
    try:
        with context.session() as db:
            account = db.execute(select(Account).where(func.lower(Account.name) == name.lower())).scalar_one_or_none()
            if account is None:
                account = Account(
                    id=new_id("acc"),
                    name=name,
                    role=ROLE_ADMIN,
                    password_hash=hash_password(password),
                    created_at=utc_now(),
                )
                db.add(account)
            else:
                account.role = ROLE_ADMIN
                account.password_hash = hash_password(password)
            db.flush()
            token = new_token()
            now = utc_now()
            expires = now + settings.token_lifetime
            db.add(
                ApiToken(
                    account_id=account.id,
                    token_hash=token_hash(token),
                    label="admin",
                    created_at=now,
                    expires_at=expires,
                )
            )
            db.commit()
        return token
    finally:
        context.close()
