"""Helpers the routes share."""

import json
from collections.abc import Callable
from typing import Any, TypeVar

from fanremix.domain.errors import FanRemixError
from fanremix.domain.stem_pack import PackManifest

from ..errors import ApiError, ErrorBody
from ..models import Account, Pack
from ..schemas import AccountOut, PackOut

T = TypeVar("T")

_DESCRIPTIONS = {
    400: "The request is malformed (e.g. a control character in the address).",
    401: "No valid API token was sent.",
    403: "The account may not do this.",
    404: "Not found (or not yours to see).",
    409: "Conflicts with what exists.",
    413: "The request body is too large.",
    422: "The request is not valid.",
    429: "Too many requests; see Retry-After.",
}


# Any request may get these, before it reaches a route: a control character in the address, a body over the limit
ANY_REQUEST = (400, 413)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    every = sorted({*ANY_REQUEST, *statuses})
    return {status: {"model": ErrorBody, "description": _DESCRIPTIONS[status]} for status in every}


def account_out(account: Account) -> AccountOut:
    return AccountOut(id=account.id, name=account.name, role=account.role, created_at=account.created_at)  # type: ignore[arg-type]


def pack_manifest(pack: Pack) -> PackManifest:
    return PackManifest.from_json(pack.manifest_json)


def pack_out(pack: Pack) -> PackOut:
    manifest = pack_manifest(pack)
    return PackOut(
        id=pack.id,
        title=manifest.title,
        artists=list(manifest.artists),
        publisher_id=pack.publisher_id,
        key_id=pack.key_id,
        pack_hash=pack.pack_hash,
        policy=json.loads(pack.policy_json),
        policy_hash=pack.policy_hash,
        retired=pack.retired,
        created_at=pack.created_at,
        updated_at=pack.updated_at,
    )


def parse(what: str, code: str, build: Callable[[], T]) -> T:
    """Run a domain parser on untrusted JSON; any refusal (or a shape it did not expect) is a 422 with `code`."""
    try:
        return build()
    except FanRemixError as exc:
        raise ApiError(422, code, exc.message) from None
    except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
        raise ApiError(422, code, f"The {what} is not valid: {type(exc).__name__}: {exc}.") from None
