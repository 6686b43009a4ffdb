"""Grants: the rights service's signed answer "recipe R on pack P is licensed to fan F, with these duties".

A grant is a JSON document signed with the service's Ed25519 key (the signature covers the canonical JSON of every
other field). Anyone holding the service's public key, as `GET /v1/keys` publishes it, can verify a grant offline:
the app before it exports, the service again when the file is submitted. Nothing here talks to the network; the
service issues grants with `GrantSigner`, and the client and the service both check them with `verify_grant`.
"""

import base64
import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from fanremix.domain.atomic import atomic_write_bytes
from fanremix.domain.canonical import canonical_json
from fanremix.domain.errors import FanRemixError, KeyringError
from fanremix.domain.fields import FieldReader, is_finite_number
from fanremix.domain.policy import Policy, Share, Use
from fanremix.domain.recipe import Recipe

from .signing import PublisherKey, key_id_of, load_public_key, public_key_pem

GRANT_FORMAT = 1
GRANT_TYPE = "fanremix.grant"
ALGORITHM = "ed25519"
DEFAULT_LIFETIME = dt.timedelta(days=30)
CLOCK_SKEW = dt.timedelta(minutes=5)  # a grant "issued" slightly in the future is a clock difference, not a forgery


class GrantError(FanRemixError):
    """A grant was refused. `code` is the machine-readable reason the service reports."""

    code = "grant.invalid"


class MalformedGrantError(GrantError):
    code = "grant.malformed"


class ForgedGrantError(GrantError):
    """The signature does not match the grant: it was changed after signing, or never signed by the service."""

    code = "grant.forged"


class UnknownGrantKeyError(GrantError):
    """The grant names a signing key the service does not publish."""

    code = "grant.unknown_key"


class ExpiredGrantError(GrantError):
    code = "grant.expired"


class GrantMismatchError(GrantError):
    """A genuine grant, but for another fan, pack or recipe."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def format_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_time(text: Any, where: str) -> dt.datetime:
    if not isinstance(text, str):
        raise MalformedGrantError(f"The grant's {where} must be a date and time, not {text!r}.")
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedGrantError(f"The grant's {where} '{text}' is not an ISO 8601 date and time.") from None
    if moment.tzinfo is None:
        raise MalformedGrantError(f"The grant's {where} '{text}' has no time zone.")
    return moment


@dataclass(frozen=True)
class Grant:
    """The content of a grant (everything but the signature)."""

    grant_id: str
    fan_id: str
    fan_name: str
    pack_id: str
    pack_hash: str
    recipe_hash: str
    policy_uid: str
    policy_hash: str
    issued_at: dt.datetime
    expires_at: dt.datetime
    use: Use = field(default_factory=Use)
    attribution: str | None = None
    revenue_split: tuple[Share, ...] = ()
    issuer: str = "fanremix"
    format: int = GRANT_FORMAT

    @classmethod
    def for_recipe(
        cls,
        *,
        fan_id: str,
        fan_name: str,
        recipe: Recipe,
        policy: Policy,
        pack_hash: str,
        use: Use | None = None,
        now: dt.datetime | None = None,
        lifetime: dt.timedelta = DEFAULT_LIFETIME,
        issuer: str = "fanremix",
    ) -> "Grant":
        """The grant for `recipe` under `policy`, its duties copied from the policy. Check the recipe first."""
        issued = (now or utc_now()).replace(microsecond=0)
        return cls(
            grant_id="grt_" + uuid.uuid4().hex,
            fan_id=fan_id,
            fan_name=fan_name,
            pack_id=recipe.pack_id,
            pack_hash=pack_hash,
            recipe_hash=recipe.recipe_hash(),
            policy_uid=policy.uid,
            policy_hash=policy.policy_hash(),
            issued_at=issued,
            expires_at=issued + lifetime,
            use=use or Use(),
            attribution=policy.attribution,
            revenue_split=tuple(policy.revenue_split),
            issuer=issuer,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "type": GRANT_TYPE,
            "id": self.grant_id,
            "issuer": self.issuer,
            "fan": {"id": self.fan_id, "name": self.fan_name},
            "pack": {"id": self.pack_id, "hash": self.pack_hash},
            "recipe_hash": self.recipe_hash,
            "policy": {"uid": self.policy_uid, "hash": self.policy_hash},
            "use": {
                "distribution": self.use.distribution,
                "commercial": self.use.commercial,
                "ai_training": self.use.ai_training,
            },
            "duties": {
                "attribution": self.attribution,
                "revenue_split": [s.to_dict() for s in self.revenue_split],
            },
            "issued_at": format_time(self.issued_at),
            "expires_at": format_time(self.expires_at),
        }

    @classmethod
    def from_dict(cls, data: Any) -> "Grant":
        if not isinstance(data, Mapping):
            raise MalformedGrantError("A grant must be a JSON object.")
        if data.get("type") != GRANT_TYPE:
            raise MalformedGrantError("This is not a Fan Remix grant (its 'type' is not fanremix.grant).")
        if data.get("format") != GRANT_FORMAT:
            raise MalformedGrantError(
                f"The grant uses format {data.get('format')!r}; this app reads format {GRANT_FORMAT}. "
                "Update Fan Remix Studio."
            )
        fan, pack, policy = _object(data, "fan"), _object(data, "pack"), _object(data, "policy")
        use, duties = _object(data, "use"), _object(data, "duties")
        split = duties.get("revenue_split", [])
        if not isinstance(split, list):
            raise MalformedGrantError("The grant's revenue split must be a list.")
        shares = []
        for item in split:
            if not isinstance(item, Mapping) or isinstance(item.get("percent"), bool):
                raise MalformedGrantError("Each revenue share in the grant needs a party and a percent.")
            if not is_finite_number(item.get("percent")):  # JSON readers accept NaN and Infinity; a split may not
                raise MalformedGrantError("Each revenue share in the grant needs a finite number 'percent'.")
            shares.append(Share(party=str(item.get("party", "")), percent=float(item["percent"])))
        attribution = duties.get("attribution")
        if attribution is not None and not isinstance(attribution, str):
            raise MalformedGrantError("The grant's attribution must be text or null.")
        for flag in ("commercial", "ai_training"):
            if not isinstance(use.get(flag), bool):
                raise MalformedGrantError(f"The grant's use '{flag}' must be true or false.")
        return cls(
            grant_id=_text(data, "id"),
            issuer=_text(data, "issuer"),
            fan_id=_text(fan, "id"),
            fan_name=_text(fan, "name"),
            pack_id=_text(pack, "id"),
            pack_hash=_text(pack, "hash"),
            recipe_hash=_text(data, "recipe_hash"),
            policy_uid=_text(policy, "uid"),
            policy_hash=_text(policy, "hash"),
            use=Use(
                distribution=_text(use, "distribution"), commercial=use["commercial"], ai_training=use["ai_training"]
            ),
            attribution=attribution,
            revenue_split=tuple(shares),
            issued_at=parse_time(data.get("issued_at"), "issue time"),
            expires_at=parse_time(data.get("expires_at"), "expiry time"),
        )


def signing_bytes(document: Mapping[str, Any]) -> bytes:
    """What the service signs: the canonical JSON of the grant without its signature."""
    body = {key: value for key, value in document.items() if key != "signature"}
    return canonical_json(body)


@dataclass(frozen=True)
class ServicePublicKey:
    """One grant-signing key the service publishes."""

    key_id: str
    public_key: Ed25519PublicKey

    def to_dict(self) -> dict[str, str]:
        return {
            "key_id": self.key_id,
            "algorithm": ALGORITHM,
            "public_key_pem": public_key_pem(self.public_key).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, data: Any) -> "ServicePublicKey":
        if not isinstance(data, Mapping) or data.get("algorithm") != ALGORITHM:
            raise KeyringError("The service published a grant key that is not an Ed25519 key.")
        pem = data.get("public_key_pem")
        if not isinstance(pem, str):
            raise KeyringError("The service published a grant key without its public key.")
        public_key = load_public_key(pem.encode("ascii"), "the service's grant key")
        key_id = key_id_of(public_key)
        if data.get("key_id") != key_id:
            raise KeyringError(f"The service's grant key is labelled {data.get('key_id')!r} but its id is {key_id}.")
        return cls(key_id=key_id, public_key=public_key)


class GrantKeySet:
    """The service public keys a verifier trusts, by key id."""

    def __init__(self, keys: Iterable[ServicePublicKey | Ed25519PublicKey]):
        self._keys: dict[str, Ed25519PublicKey] = {}
        for key in keys:
            if isinstance(key, ServicePublicKey):
                self._keys[key.key_id] = key.public_key
            else:
                self._keys[key_id_of(key)] = key

    @classmethod
    def from_published(cls, document: Any) -> "GrantKeySet":
        """From the body of `GET /v1/keys`."""
        if not isinstance(document, Mapping) or not isinstance(document.get("grant_keys"), list):
            raise KeyringError("The service's key list has no 'grant_keys'.")
        return cls(ServicePublicKey.from_dict(item) for item in document["grant_keys"])

    def entries(self) -> list[ServicePublicKey]:
        return [ServicePublicKey(key_id, key) for key_id, key in sorted(self._keys.items())]

    def to_published(self) -> list[dict[str, str]]:
        return [entry.to_dict() for entry in self.entries()]

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(sorted(self._keys))

    def find(self, key_id: str) -> Ed25519PublicKey:
        try:
            return self._keys[key_id]
        except KeyError:
            raise UnknownGrantKeyError(
                f"The grant is signed by key {key_id}, which this rights service does not use: it was not issued "
                "by this service."
            ) from None


# -- the service keys known on this machine -----------------------------------------------------------------------

SERVICE_KEYS_DIR = "service-keys"  # in the config folder: grant keys of the rights services this app has used


def remember_service_keys(config_dir: Path, keys: GrantKeySet, issuer: str = "") -> None:
    """Keep `keys` (fetched from a rights service) so that grants can be checked offline later, e.g. by `verify`.
    One file per key, written atomically; a key already kept is rewritten with the same content."""
    folder = Path(config_dir) / SERVICE_KEYS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for entry in keys.to_published():
        name = entry["key_id"].replace(":", "-") + ".json"
        document = {**entry, "issuer": issuer}
        atomic_write_bytes(folder / name, json.dumps(document, indent=2, sort_keys=True).encode("utf-8"))


def known_service_keys(config_dir: Path, extra: Iterable[Path] = ()) -> GrantKeySet:
    """The grant keys kept by `remember_service_keys`, plus those in `extra` files (each the body of a service's
    `GET /v1/keys`). A kept file that cannot be read is skipped; an `extra` file that cannot be read is an error."""
    found: list[ServicePublicKey] = []
    folder = Path(config_dir) / SERVICE_KEYS_DIR
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        try:
            found.append(ServicePublicKey.from_dict(json.loads(path.read_text("utf-8"))))
        except (OSError, ValueError, KeyringError):
            continue
    for path in extra:
        try:
            document = json.loads(Path(path).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise KeyringError(f"Cannot read the service keys {path}: {exc}.") from None
        found.extend(GrantKeySet.from_published(document).entries())
    return GrantKeySet(found)


class GrantSigner:
    """The service's private grant-signing key."""

    def __init__(self, key: PublisherKey, issuer: str = "fanremix"):
        self._key = key
        self.issuer = issuer

    @classmethod
    def generate(cls, issuer: str = "fanremix") -> "GrantSigner":
        return cls(PublisherKey.generate(), issuer)

    @classmethod
    def load_or_create(cls, path: Path, issuer: str = "fanremix") -> "GrantSigner":
        """Load the key at `path`, creating it (0600) when it does not exist yet.

        Several workers may start at once: the key is written to a private temp name and hard-linked into place, so
        exactly one key wins and every worker loads that one.
        """
        path = Path(path)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
            PublisherKey.generate().save(temp)
            try:
                try:
                    path.hardlink_to(temp)
                    Path(str(temp) + ".pub").replace(Path(str(path) + ".pub"))
                except FileExistsError:
                    pass
            finally:
                temp.unlink(missing_ok=True)
                Path(str(temp) + ".pub").unlink(missing_ok=True)
        return cls(PublisherKey.load(path), issuer)

    @property
    def key_id(self) -> str:
        return self._key.key_id

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._key.public_key

    def key_set(self) -> GrantKeySet:
        return GrantKeySet([self.public_key])

    def sign(self, grant: Grant) -> dict[str, Any]:
        document = grant.to_dict()
        value = self._key.private_key.sign(signing_bytes(document))
        document["signature"] = {
            "algorithm": ALGORITHM,
            "key_id": self.key_id,
            "value": base64.b64encode(value).decode("ascii"),
        }
        return document


def verify_grant(
    document: Any,
    keys: GrantKeySet,
    *,
    now: dt.datetime | None = None,
    fan_id: str | None = None,
    pack_id: str | None = None,
    pack_hash: str | None = None,
    recipe_hash: str | None = None,
) -> Grant:
    """Check a grant offline and return its content; raise a `GrantError` subclass saying why it is refused.

    The signature is checked first, so nothing a forger wrote is trusted. Each of `fan_id`, `pack_id`, `pack_hash`
    and `recipe_hash` that is given must match the grant.
    """
    if not isinstance(document, Mapping):
        raise MalformedGrantError("A grant must be a JSON object.")
    signature = document.get("signature")
    if not isinstance(signature, Mapping) or not isinstance(signature.get("value"), str):
        raise ForgedGrantError("The grant carries no signature, so it was not issued by the rights service.")
    if signature.get("algorithm") != ALGORITHM:
        raise ForgedGrantError(f"The grant is signed with {signature.get('algorithm')!r}; grants use ed25519.")
    public_key = keys.find(str(signature.get("key_id")))
    try:
        public_key.verify(base64.b64decode(signature["value"], validate=True), signing_bytes(document))
    except (InvalidSignature, ValueError, TypeError):
        raise ForgedGrantError(
            "The grant's signature does not match its content: it was altered after the rights service issued it, "
            "or it was never issued by this service."
        ) from None
    grant = Grant.from_dict(document)
    moment = now or utc_now()
    if moment >= grant.expires_at:
        raise ExpiredGrantError(
            f"The grant expired on {format_time(grant.expires_at)}. Ask for a new grant and export again."
        )
    if grant.issued_at - CLOCK_SKEW > moment:
        raise MalformedGrantError(f"The grant claims to be issued in the future ({format_time(grant.issued_at)}).")
    if fan_id is not None and grant.fan_id != fan_id:
        raise GrantMismatchError(
            "grant.wrong_fan", f"The grant was issued to {grant.fan_name} ({grant.fan_id}), not to this account."
        )
    if pack_id is not None and grant.pack_id != pack_id:
        raise GrantMismatchError("grant.wrong_pack", f"The grant is for pack '{grant.pack_id}', not '{pack_id}'.")
    if pack_hash is not None and grant.pack_hash != pack_hash:
        raise GrantMismatchError(
            "grant.wrong_pack",
            "The grant is for a different version of this pack than the one the remix was made from.",
        )
    if recipe_hash is not None and grant.recipe_hash != recipe_hash:
        raise GrantMismatchError(
            "grant.wrong_recipe",
            "The grant was issued for a different recipe than the one this remix was made with: a grant covers only "
            "the exact recipe it was asked for.",
        )
    return grant


_fields = FieldReader(lambda name, kind: MalformedGrantError(f"The grant's '{name}' must be {kind}."))
_object, _text = _fields.mapping, _fields.text
