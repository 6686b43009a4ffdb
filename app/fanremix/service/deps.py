"""Request dependencies: the shared context, a database session, and the signed-in account."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from .context import ServiceContext
from .errors import ApiError
from .models import ROLE_ADMIN, Account, ApiToken, utc_now
from .security import token_hash

bearer = HTTPBearer(auto_error=False, description="An API token from POST /v1/accounts or POST /v1/tokens.")


def get_context(request: Request) -> ServiceContext:
    return request.app.state.context


Context = Annotated[ServiceContext, Depends(get_context)]


def get_db(context: Context) -> Iterator[Session]:
    with context.session() as session:
        yield session


Db = Annotated[Session, Depends(get_db)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def limit_anonymous(request: Request, context: Context) -> None:
    """Sign-up and sign-in are limited per client address (they are where passwords get guessed)."""
    context.auth_limiter.check("address:" + client_address(request), "sign-in attempts")


def current_account(
    context: Context,
    db: Db,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Account:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise ApiError(
            401,
            "auth.required",
            "Sign in first: send your API token as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    found = db.execute(
        select(Account, ApiToken)
        .join(ApiToken, ApiToken.account_id == Account.id)
        .where(ApiToken.token_hash == token_hash(credentials.credentials), ApiToken.revoked_at.is_(None))
    ).one_or_none()
    row = None if found is None else found[0]
    if found is not None:
        token = found[1]
        expires = token.expires_at or token.created_at + context.settings.token_lifetime
        if utc_now() >= expires:
            raise ApiError(
                401,
                "auth.token_expired",
                f"This API token expired on {expires:%Y-%m-%d %H:%M} UTC. Sign in again for a new one.",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
    if row is None:
        raise ApiError(
            401,
            "auth.invalid_token",
            "This API token is not valid (it was revoked, or never existed). Sign in again.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    context.limiter.check("account:" + row.id)
    return row


CurrentAccount = Annotated[Account, Depends(current_account)]


def require_role(account: Account, *roles: str, action: str) -> None:
    """Admins may do anything; everyone else needs one of `roles`."""
    if account.role != ROLE_ADMIN and account.role not in roles:
        wanted = " or ".join(roles)
        raise ApiError(
            403, "auth.wrong_role", f"Only a {wanted} account may {action}; yours is a {account.role} account."
        )
