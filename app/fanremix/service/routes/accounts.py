"""Accounts and API tokens."""

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..deps import Context, CurrentAccount, Db, bearer, limit_anonymous, require_role
from ..errors import ApiError
from ..models import ROLE_ADMIN, ROLE_PUBLISHER, Account, ApiToken, utc_now
from ..schemas import AccountCreate, AccountOut, Login, RoleChange, TokenOut
from ..security import DUMMY_PASSWORD_HASH, check_password, hash_password, new_id, new_token, token_hash
from .common import account_out, error_responses

router = APIRouter(prefix="/v1", tags=["accounts"])


def _issue_token(db: Db, context: Context, account: Account, label: str) -> str:
    token = new_token()
    now = utc_now()
    expires = now + context.settings.token_lifetime
    db.add(
        ApiToken(account_id=account.id, token_hash=token_hash(token), label=label, created_at=now, expires_at=expires)
    )
    return token


@router.post(
    "/accounts",
    status_code=201,
    response_model=TokenOut,
    dependencies=[Depends(limit_anonymous)],
    responses=error_responses(403, 409, 422, 429),
)
def create_account(body: AccountCreate, db: Db, context: Context) -> TokenOut:
    """Create an account and return its first API token."""
    if body.role == ROLE_PUBLISHER and not context.settings.open_publisher_signup:
        raise ApiError(
            403, "accounts.publisher_signup_closed", "Publisher accounts are created by an administrator here."
        )
    taken = db.execute(select(Account.id).where(func.lower(Account.name) == body.name.lower())).first()
    if taken:
        raise ApiError(409, "accounts.name_taken", f"The name '{body.name}' is taken; choose another.")
    account = Account(
        id=new_id("acc"),
        name=body.name,
        role=body.role,
        password_hash=hash_password(body.password),
        created_at=utc_now(),
    )
    db.add(account)
    try:
        db.flush()
        token = _issue_token(db, context, account, "sign-up")
        db.commit()
    except IntegrityError:
        db.rollback()
        raise ApiError(409, "accounts.name_taken", f"The name '{body.name}' is taken; choose another.") from None
    return TokenOut(token=token, account=account_out(account))


@router.post(
    "/tokens",
    status_code=201,
    response_model=TokenOut,
    dependencies=[Depends(limit_anonymous)],
    responses=error_responses(401, 422, 429),
)
def sign_in(body: Login, db: Db, context: Context) -> TokenOut:
    """Exchange a name and password for a new API token."""
    account = db.execute(select(Account).where(func.lower(Account.name) == body.name.lower())).scalar_one_or_none()
    if not check_password(body.password, account.password_hash if account else DUMMY_PASSWORD_HASH) or account is None:
        raise ApiError(401, "auth.bad_credentials", "The name or the password is wrong.")
    token = _issue_token(db, context, account, "sign-in")
    db.commit()
    return TokenOut(token=token, account=account_out(account))


@router.delete("/tokens/current", status_code=204, responses=error_responses(401, 429))
def sign_out(
    account: CurrentAccount, db: Db, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Response:
    """Revoke the token this request was made with."""
    assert credentials is not None  # current_account refused the request otherwise
    token = db.execute(
        select(ApiToken).where(
            ApiToken.token_hash == token_hash(credentials.credentials), ApiToken.account_id == account.id
        )
    ).scalar_one()
    token.revoked_at = utc_now()
    db.commit()
    return Response(status_code=204)


@router.get("/accounts/me", response_model=AccountOut, responses=error_responses(401, 429))
def me(account: CurrentAccount) -> AccountOut:
    return account_out(account)


@router.patch("/accounts/{account_id}", response_model=AccountOut, responses=error_responses(401, 403, 404, 422, 429))
def change_role(account_id: str, body: RoleChange, account: CurrentAccount, db: Db) -> AccountOut:
    """Admins only: make an account a fan, a publisher or an admin."""
    require_role(account, ROLE_ADMIN, action="change roles")
    target = db.get(Account, account_id)
    if target is None:
        raise ApiError(404, "accounts.not_found", f"There is no account {account_id}.")
    target.role = body.role
    db.commit()
    return account_out(target)
