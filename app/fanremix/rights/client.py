"""The app's client of the rights service (the only module that imports `requests`).

Every call has a timeout. Connection errors, 429 and 5xx answers are retried with exponential backoff by urllib3's
`Retry`, which waits as long as a `Retry-After` header asks (capped at `MAX_RETRY_AFTER_S`). TLS certificates are
always verified; `ca_bundle` names the CA certificates to verify against instead of the usual public ones (for a
service whose certificate comes from a private CA). Failures become typed errors whose message a person can act on;
errors a later retry may cure carry `transient = True` (the outbox keeps those submissions for later).

The API token lives in the OS keyring (the `keyring` library); where no keyring backend exists it falls back to a
0600 file in the config folder, with a warning.
"""

import contextlib
import ipaddress
import json
import logging
import os
import threading
import time
import urllib.parse
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import keyring.errors
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from fanremix import __version__
from fanremix.domain.atomic import atomic_write_bytes
from fanremix.domain.errors import FanRemixError
from fanremix.domain.policy import PolicyViolationError, Use, Violation
from fanremix.domain.recipe import Recipe
from fanremix.domain.stem_pack import PackManifest

from .grants import Grant, GrantKeySet, verify_grant

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (5.0, 60.0)  # (connect, read) seconds; read is the longest silence between bytes, not the total
RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_RETRY_AFTER_S = 60.0
BODY_RETRIES = 4  # a response cut off mid-body (not covered by urllib3's Retry)
KEYRING_SERVICE = "fanremix-rights-service"
TOKEN_FILE = "service-tokens.json"
SERVICE_CONFIG_FILE = "service.json"
USER_AGENT = f"FanRemixStudio/{__version__}"


# -- errors ------------------------------------------------------------------------------------------------------


class ServiceError(FanRemixError):
    """The rights service could not do what was asked. `transient`: trying again later may work."""

    transient = False

    def __init__(self, message: str, *, status: int | None = None, code: str = "service.error"):
        super().__init__(message)
        self.status = status
        self.code = code


class OfflineError(ServiceError):
    """The service could not be reached (no network, refused, timed out) even after retries."""

    transient = True


class ServerError(ServiceError):
    """The service failed (5xx), or answered with something that is not its API."""

    transient = True


class RateLimitedError(ServiceError):
    transient = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class UnauthorisedError(ServiceError):
    """Not signed in, the token is no longer valid, or the account may not do this (401/403)."""


class NotFoundError(ServiceError):
    pass


class RequestRefusedError(ServiceError):
    """The service refused the request as it stands (bad input, a conflict, too large)."""


class PolicyRefusedError(ServiceError, PolicyViolationError):
    """The pack's policy does not allow the recipe; `violations` lists every reason."""

    def __init__(self, violations: list[Violation]):
        PolicyViolationError.__init__(self, violations)
        self.status = 422
        self.code = "policy.violation"


class SubmissionRejectedError(ServiceError):
    """The service verified the file and rejected it; `reasons` says why."""

    def __init__(self, submission: "Submission"):
        lines = "\n".join(f"  - {r.message} [{r.code}]" for r in submission.reasons) or "  - (no reason given)"
        super().__init__(f"The rights service rejected submission {submission.id}:\n{lines}", code="rejected")
        self.submission = submission
        self.reasons = submission.reasons


# -- results -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    role: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Account":
        return cls(id=str(data["id"]), name=str(data["name"]), role=str(data["role"]))


@dataclass(frozen=True)
class Reason:
    code: str
    message: str


@dataclass(frozen=True)
class Submission:
    id: str
    status: str  # accepted, rejected, approved, taken_down
    reasons: tuple[Reason, ...]
    pack_id: str | None
    recipe_hash: str | None
    grant_id: str | None
    file_sha256: str
    account_id: str
    created_at: str
    updated_at: str
    review_note: str | None = None
    replayed: bool = False  # True when the service answered a resend with the submission it already had

    @property
    def accepted(self) -> bool:
        return self.status in ("accepted", "approved")

    def raise_if_rejected(self) -> "Submission":
        if self.status == "rejected":
            raise SubmissionRejectedError(self)
        return self

    @classmethod
    def from_json(cls, data: Mapping[str, Any], replayed: bool = False) -> "Submission":
        return cls(
            id=str(data["id"]),
            status=str(data["status"]),
            reasons=tuple(Reason(str(r["code"]), str(r["message"])) for r in data.get("reasons", [])),
            pack_id=data.get("pack_id"),
            recipe_hash=data.get("recipe_hash"),
            grant_id=data.get("grant_id"),
            file_sha256=str(data["file_sha256"]),
            account_id=str(data["account_id"]),
            created_at=str(data["created_at"]),
            updated_at=str(data["updated_at"]),
            review_note=data.get("review_note"),
            replayed=replayed,
        )


@dataclass(frozen=True)
class CheckResult:
    allowed: bool
    recipe_hash: str
    violations: tuple[Violation, ...]


@dataclass(frozen=True)
class ServiceKeys:
    issuer: str
    grant_keys: GrantKeySet
    ca_certificate_pem: bytes
    document: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IssuedCertificate:
    certificate_pem: bytes
    chain_pem: bytes
    ca_certificate_pem: bytes
    serial_number: str


@dataclass(frozen=True)
class PackInfo:
    id: str
    title: str
    pack_hash: str
    policy_hash: str
    retired: bool
    publisher_id: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "PackInfo":
        return cls(
            id=str(data["id"]),
            title=str(data["title"]),
            pack_hash=str(data["pack_hash"]),
            policy_hash=str(data["policy_hash"]),
            retired=bool(data["retired"]),
            publisher_id=str(data["publisher_id"]),
        )


# -- configuration and token storage -----------------------------------------------------------------------------


def check_service_url(url: str) -> str:
    """`url` if it is fit to send a token and remixes to: https, or plain http to this computer only (the local
    service). Raises FanRemixError saying why not."""
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise FanRemixError(f"The service address must look like https://rights.example.com, not '{url}'.")
    if parts.scheme == "http" and not _is_loopback(host):
        raise FanRemixError(
            f"'{url}' would send your sign-in token and your remixes unencrypted over the network. Use https://; plain "
            "http:// is only for a service on this computer (localhost, 127.0.0.1, ::1)."
        )
    return url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServiceConfig:
    """Which rights service the app uses. An empty URL means "the local service" (see fanremix.local_service)."""

    url: str = ""
    ca_bundle: str | None = None  # PEM file: the CAs this service's TLS certificate is checked against, instead of the
    # usual public ones (a private CA)

    def __post_init__(self) -> None:
        if self.url:
            check_service_url(self.url)

    @classmethod
    def load(cls, config_dir: Path) -> "ServiceConfig":
        path = Path(config_dir) / SERVICE_CONFIG_FILE
        try:
            data = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            raise FanRemixError(
                f"The service settings in {path} cannot be read ({exc}); fix or delete the file."
            ) from None
        return cls(url=str(data.get("url") or ""), ca_bundle=data.get("ca_bundle") or None)

    def save(self, config_dir: Path) -> None:
        data = {"url": self.url, "ca_bundle": self.ca_bundle}
        atomic_write_bytes(Path(config_dir) / SERVICE_CONFIG_FILE, json.dumps(data, indent=2).encode(), mode=0o644)


class TokenStore:
    """API tokens by service URL: in the OS keyring, or a 0600 JSON file in `config_dir` when there is none.

    `backend`: a keyring backend to use; None picks the system's (`system_keyring()`); pass `False` to use
    only the file.
    """

    def __init__(self, config_dir: Path, backend: keyring.backend.KeyringBackend | bool | None = None):
        self.file = Path(config_dir) / TOKEN_FILE
        if backend is False:
            self._backend = None
        else:
            chosen = backend if isinstance(backend, keyring.backend.KeyringBackend) else system_keyring()
            self._backend = chosen if _usable(chosen) else None
        self._warned = False

    @property
    def uses_keyring(self) -> bool:
        return self._backend is not None

    def get(self, url: str) -> str | None:
        if self._backend is not None:
            try:
                token = self._backend.get_password(KEYRING_SERVICE, url)
                if token:
                    return token
            except keyring.errors.KeyringError as exc:
                self._fall_back(exc)
        return self._read_file().get(url)

    def set(self, url: str, token: str) -> None:
        if self._backend is not None:
            try:
                self._backend.set_password(KEYRING_SERVICE, url, token)
                self._write_file_without(url)
                return
            except keyring.errors.KeyringError as exc:
                self._fall_back(exc)
        self._warn_file()
        tokens = self._read_file()
        tokens[url] = token
        self._write_file(tokens)

    def delete(self, url: str) -> None:
        if self._backend is not None:
            try:
                self._backend.delete_password(KEYRING_SERVICE, url)
            except keyring.errors.PasswordDeleteError:
                pass
            except keyring.errors.KeyringError as exc:
                self._fall_back(exc)
        self._write_file_without(url)

    def _fall_back(self, exc: Exception) -> None:
        log.warning("The OS keyring failed (%s); API tokens go to %s instead.", exc, self.file)
        self._backend = None

    def _warn_file(self) -> None:
        if not self._warned:
            log.warning(
                "No OS keyring is available: the API token is stored in %s (readable by your user only).", self.file
            )
            self._warned = True

    def _read_file(self) -> dict[str, str]:
        try:
            data = json.loads(self.file.read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _write_file(self, tokens: dict[str, str]) -> None:
        self.file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.file, json.dumps(tokens, indent=2).encode("utf-8"), mode=0o600)

    def _write_file_without(self, url: str) -> None:
        tokens = self._read_file()
        if url in tokens:
            del tokens[url]
            self._write_file(tokens)


_keyring_choice = threading.Lock()


def system_keyring() -> keyring.backend.KeyringBackend:
    """The OS keyring backend (`keyring.get_keyring()`), chosen once per process whichever thread asks first.

    `keyring` chooses its backend lazily and without a lock: two workers making their first `TokenStore` at the same
    moment (the GUI's connect and sign-in jobs do) could each build and install a backend object of their own, and a
    backend that keeps state in the process would then lose the token saved through the object that lost the race.
    """
    with _keyring_choice:
        return keyring.get_keyring()


def _usable(backend: keyring.backend.KeyringBackend) -> bool:
    """False for keyring's "fail" and "null" backends (priority below 1), i.e. when no real keyring exists."""
    try:
        return float(backend.priority) >= 1
    except Exception:  # a backend whose priority itself fails (e.g. no D-Bus) is not usable
        return False


# -- retries -----------------------------------------------------------------------------------------------------


class _Retry(Retry):
    """urllib3's Retry, with the wait a server may ask for via Retry-After capped at MAX_RETRY_AFTER_S."""

    def get_retry_after(self, response: Any) -> float | None:
        value = super().get_retry_after(response)
        return None if value is None else min(value, MAX_RETRY_AFTER_S)


def default_retry(total: int = 6, backoff_factor: float = 0.5, backoff_max: float = 15.0) -> Retry:
    """Retry connection errors, read errors, 429 and 5xx on every method (our POSTs are safe to repeat: submissions
    carry an Idempotency-Key, and a repeated grant or certificate request only issues another)."""
    return _Retry(
        total=total,
        connect=total,
        read=total,
        status=total,
        other=0,
        backoff_factor=backoff_factor,
        backoff_max=backoff_max,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=None,
        respect_retry_after_header=True,
        raise_on_status=False,
    )


def _cautious(retry: Retry) -> Retry:
    """For requests that must not run twice (creating an account): retry only when the request never got through."""
    return retry.new(read=0, status_forcelist=(429, 503), allowed_methods=None)


# -- the client --------------------------------------------------------------------------------------------------


class RightsClient:
    """A rights service at `base_url`, as one signed-in account (or none)."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        ca_bundle: str | os.PathLike[str] | None = None,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retry: Retry | None = None,
        token_store: TokenStore | None = None,
    ):
        check_service_url(base_url)
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.token_store = token_store
        self._token = token if token is not None else (token_store.get(self.base_url) if token_store else None)
        retry = retry or default_retry()
        self._session = self._make_session(retry, ca_bundle)
        self._cautious_session = self._make_session(_cautious(retry), ca_bundle)
        self._keys: ServiceKeys | None = None

    @staticmethod
    def _make_session(retry: Retry, ca_bundle: str | os.PathLike[str] | None) -> requests.Session:
        session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.headers["User-Agent"] = USER_AGENT
        session.headers["Accept"] = "application/json"
        session.verify = str(ca_bundle) if ca_bundle else True  # never False: TLS is always verified
        session.trust_env = False  # no proxy or netrc from the environment decides where tokens go
        return session

    def close(self) -> None:
        self._session.close()
        self._cautious_session.close()

    def __enter__(self) -> "RightsClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------------------------------------------
    @property
    def token(self) -> str | None:
        return self._token

    @property
    def signed_in(self) -> bool:
        return bool(self._token)

    def _set_token(self, token: str | None) -> None:
        self._token = token
        if self.token_store is not None:
            if token:
                self.token_store.set(self.base_url, token)
            else:
                self.token_store.delete(self.base_url)

    def _request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        auth: bool = True,
        cautious: bool = False,
    ) -> requests.Response:
        all_headers = dict(headers or {})
        if auth:
            if not self._token:
                raise UnauthorisedError(
                    "You are not signed in to the rights service. Sign in (`fanremix account login`) and try again.",
                    code="auth.required",
                )
            all_headers["Authorization"] = f"Bearer {self._token}"
        session = self._cautious_session if cautious else self._session
        url = self.base_url + path
        # urllib3 retries failures up to the response headers; a body cut off after them surfaces here instead, so
        # those are retried in this loop (not for `cautious` requests, which must not run twice).
        attempts = 1 if cautious else 1 + BODY_RETRIES
        for attempt in range(attempts):
            if files is not None:
                for item in files.values():
                    if hasattr(item[1], "seek"):
                        item[1].seek(0)
            try:
                response = self._send(session, method, url, json_body, files, all_headers, params)
                break
            except requests.exceptions.ChunkedEncodingError as exc:
                if attempt + 1 >= attempts:
                    raise OfflineError(
                        f"The connection to the rights service at {self.base_url} kept breaking ({_root(exc)}); "
                        "try again later.",
                        code="offline",
                    ) from None
                time.sleep(min(0.1 * 2**attempt, 2.0))
        if response.status_code >= 400:
            raise self._error(response)
        return response

    def _send(
        self,
        session: requests.Session,
        method: str,
        url: str,
        json_body: Any,
        files: Any,
        headers: dict[str, str],
        params: Mapping[str, Any] | None,
    ) -> requests.Response:
        try:
            return session.request(
                method, url, json=json_body, files=files, headers=headers, params=params, timeout=self.timeout
            )
        except requests.exceptions.SSLError as exc:
            raise ServiceError(
                f"The rights service at {self.base_url} has a TLS certificate this app does not trust ({_root(exc)}). "
                "If it uses a private CA, configure its CA bundle.",
                code="tls.untrusted",
            ) from None
        except requests.exceptions.RetryError as exc:
            raise self._retries_exhausted(exc) from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            raise OfflineError(
                f"Cannot reach the rights service at {self.base_url} ({_root(exc)}). Check your connection; "
                "submissions wait in the outbox and are sent when the service is back.",
                code="offline",
            ) from None

    def _retries_exhausted(self, exc: requests.exceptions.RetryError) -> ServiceError:
        text = str(exc)
        if "429" in text:
            return RateLimitedError(
                "The rights service is busy with too many requests from you; try again in a minute.",
                status=429,
                code="rate_limited",
            )
        return ServerError(
            f"The rights service at {self.base_url} kept failing ({_root(exc)}); try again later.", code="server.error"
        )

    def _error(self, response: requests.Response) -> ServiceError:
        status = response.status_code
        try:
            body = response.json()
            code, message = str(body["code"]), str(body["message"])
        except (ValueError, KeyError, TypeError):
            body, code, message = {}, f"http.{status}", ""
        if status == 422 and code == "policy.violation":
            violations = [
                Violation(code=str(v.get("code")), message=str(v.get("message")), stem_id=v.get("stem"))
                for v in body.get("violations", [])
                if isinstance(v, dict)
            ]
            return PolicyRefusedError(violations)
        if status >= 500:
            return ServerError(
                message or f"The rights service failed (HTTP {status}); try again later.", status=status, code=code
            )
        if status == 429:
            retry_after = response.headers.get("Retry-After")
            return RateLimitedError(
                message or "Too many requests; try again in a minute.",
                status=status,
                code=code,
                retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
            )
        if status == 401:
            return UnauthorisedError(
                (message or "The rights service did not accept your sign-in.") + " Sign in again.",
                status=status,
                code=code,
            )
        if status == 403:
            return UnauthorisedError(message or "Your account may not do this.", status=status, code=code)
        if status == 404:
            return NotFoundError(message or "Not found.", status=status, code=code)
        if not message:
            return ServerError(
                f"The rights service answered HTTP {status} without an explanation.", status=status, code=code
            )
        return RequestRefusedError(message, status=status, code=code)

    @staticmethod
    def _json(response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ServerError(
                f"The rights service answered HTTP {response.status_code} with something that is not JSON.",
                status=response.status_code,
            ) from None

    # -- service -------------------------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return self._json(self._request("GET", "/v1/health", auth=False))

    def keys(self, refresh: bool = False) -> ServiceKeys:
        """The service's grant-verification keys and CA certificate (fetched once per client)."""
        if self._keys is None or refresh:
            document = self._json(self._request("GET", "/v1/keys", auth=False))
            self._keys = ServiceKeys(
                issuer=str(document.get("issuer", "")),
                grant_keys=GrantKeySet.from_published(document),
                ca_certificate_pem=str(document.get("ca_certificate_pem", "")).encode("ascii"),
                document=document,
            )
        return self._keys

    # -- accounts ------------------------------------------------------------------------------------------------
    def register(self, name: str, password: str, role: str = "fan") -> Account:
        """Create an account and sign in as it (the token is stored)."""
        body = {"name": name, "password": password, "role": role}
        data = self._json(self._request("POST", "/v1/accounts", json_body=body, auth=False, cautious=True))
        self._set_token(data["token"])
        return Account.from_json(data["account"])

    def login(self, name: str, password: str) -> Account:
        data = self._json(
            self._request("POST", "/v1/tokens", json_body={"name": name, "password": password}, auth=False)
        )
        self._set_token(data["token"])
        return Account.from_json(data["account"])

    def logout(self) -> None:
        if self._token:
            with contextlib.suppress(UnauthorisedError):  # already invalid: forgetting it is all that is left
                self._request("DELETE", "/v1/tokens/current")
        self._set_token(None)

    def me(self) -> Account:
        return Account.from_json(self._json(self._request("GET", "/v1/accounts/me")))

    def set_role(self, account_id: str, role: str) -> Account:
        return Account.from_json(
            self._json(self._request("PATCH", f"/v1/accounts/{account_id}", json_body={"role": role}))
        )

    # -- packs ---------------------------------------------------------------------------------------------------
    def register_pack(self, manifest: PackManifest, public_key_pem: bytes) -> PackInfo:
        body = {"manifest": manifest.to_dict(), "public_key_pem": public_key_pem.decode("ascii")}
        return PackInfo.from_json(self._json(self._request("POST", "/v1/packs", json_body=body)))

    def packs(self) -> list[PackInfo]:
        return [PackInfo.from_json(item) for item in self._json(self._request("GET", "/v1/packs"))]

    def pack(self, pack_id: str) -> dict[str, Any]:
        return self._json(self._request("GET", f"/v1/packs/{pack_id}"))

    def update_policy(self, pack_id: str, policy: Mapping[str, Any]) -> PackInfo:
        response = self._request("PUT", f"/v1/packs/{pack_id}/policy", json_body={"policy": dict(policy)})
        return PackInfo.from_json(self._json(response))

    def retire_pack(self, pack_id: str) -> PackInfo:
        return PackInfo.from_json(self._json(self._request("POST", f"/v1/packs/{pack_id}/retire")))

    # -- licensing -----------------------------------------------------------------------------------------------
    @staticmethod
    def _check_body(recipe: Recipe, use: Use | None) -> dict[str, Any]:
        use = use or Use()
        return {
            "pack_id": recipe.pack_id,
            "recipe": recipe.to_dict(),
            "use": {"distribution": use.distribution, "commercial": use.commercial, "ai_training": use.ai_training},
        }

    def check(self, recipe: Recipe, use: Use | None = None) -> CheckResult:
        data = self._json(self._request("POST", "/v1/checks", json_body=self._check_body(recipe, use)))
        violations = tuple(
            Violation(code=str(v["code"]), message=str(v["message"]), stem_id=v.get("stem")) for v in data["violations"]
        )
        return CheckResult(allowed=bool(data["allowed"]), recipe_hash=str(data["recipe_hash"]), violations=violations)

    def grant(self, recipe: Recipe, use: Use | None = None) -> dict[str, Any]:
        """A signed grant for exactly `recipe`, verified here with the service's published keys before it is used.

        Raises PolicyRefusedError (with every violation) when the policy does not allow the recipe.
        """
        data = self._json(self._request("POST", "/v1/grants", json_body=self._check_body(recipe, use)))
        document = data["grant"]
        verify_grant(
            document, self.keys().grant_keys, pack_id=recipe.pack_id, pack_hash=recipe.pack_hash,
            recipe_hash=recipe.recipe_hash(),
        )  # fmt: skip
        return document

    def verify_grant(self, document: Mapping[str, Any], recipe: Recipe | None = None) -> Grant:
        """Check a grant against this service's keys (offline once the keys are fetched)."""
        return verify_grant(document, self.keys().grant_keys, recipe_hash=recipe.recipe_hash() if recipe else None)

    def request_certificate(self, csr_pem: bytes) -> IssuedCertificate:
        data = self._json(self._request("POST", "/v1/certificates", json_body={"csr_pem": csr_pem.decode("ascii")}))
        return IssuedCertificate(
            certificate_pem=data["certificate_pem"].encode("ascii"),
            chain_pem=data["chain_pem"].encode("ascii"),
            ca_certificate_pem=data["ca_certificate_pem"].encode("ascii"),
            serial_number=str(data["serial_number"]),
        )

    # -- submissions ---------------------------------------------------------------------------------------------
    def submit(self, path: Path, idempotency_key: str | None = None, sidecar: Path | None = None) -> Submission:
        """Upload an exported file. Resending with the same `idempotency_key` returns the same submission.

        Returns the submission whatever its status; `raise_if_rejected()` turns a rejection into an error.
        """
        path = Path(path)
        key = idempotency_key or new_idempotency_key()
        with path.open("rb") as audio:
            files: dict[str, Any] = {"file": (path.name, audio, "application/octet-stream")}
            if sidecar is not None:
                files["sidecar"] = (Path(sidecar).name, Path(sidecar).read_bytes(), "application/c2pa")
            response = self._request("POST", "/v1/submissions", files=files, headers={"Idempotency-Key": key})
        replayed = response.headers.get("Idempotent-Replayed") == "true"
        return Submission.from_json(self._json(response), replayed=replayed)

    def submission(self, submission_id: str) -> Submission:
        return Submission.from_json(self._json(self._request("GET", f"/v1/submissions/{submission_id}")))

    def submissions(self, status: str | None = None, limit: int = 100, offset: int = 0) -> list[Submission]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if status:
            params["status"] = status
        data = self._json(self._request("GET", "/v1/submissions", params=params))
        return [Submission.from_json(item) for item in data["submissions"]]

    def review(self, submission_id: str, decision: str, note: str | None = None) -> Submission:
        body = {"decision": decision, "note": note}
        return Submission.from_json(
            self._json(self._request("POST", f"/v1/submissions/{submission_id}/review", json_body=body))
        )


def new_idempotency_key() -> str:
    return "sub-" + uuid.uuid4().hex


def _root(exc: BaseException) -> str:
    """The innermost cause of a requests/urllib3 error, in a few words."""
    for _depth in range(10):
        inner = exc.__cause__ or exc.__context__
        reason = getattr(exc, "reason", None)
        if isinstance(reason, BaseException):
            inner = reason
        if inner is None or inner is exc:
            break
        exc = inner
    text = str(exc) or type(exc).__name__
    return text if len(text) < 160 else text[:157] + "…"
