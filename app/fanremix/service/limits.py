"""Rate limits, request size limits and security headers (plain ASGI, so uploads are counted as they stream)."""

import json
import math
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import ApiError

SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets by key (an account id, or a client address): `per_minute` refill, at most `burst` at once."""

    MAX_KEYS = 100_000  # forget idle buckets beyond this, so a flood of addresses cannot exhaust memory

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float:
        """Take one token for `key`; return 0 when allowed, else the seconds to wait."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self.MAX_KEYS:
                    self._prune(now)
                bucket = self._buckets[key] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate if self.rate > 0 else 60.0

    def check(self, key: str, what: str = "requests") -> None:
        wait = self.hit(key)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise ApiError(
                429,
                "rate_limited",
                f"Too many {what}; wait {seconds} s and try again.",
                headers={"Retry-After": str(seconds)},
            )

    def _prune(self, now: float) -> None:
        full_after = self.burst / self.rate if self.rate > 0 else 0.0
        for key in [k for k, b in self._buckets.items() if now - b.updated >= full_after]:
            del self._buckets[key]
        if len(self._buckets) >= self.MAX_KEYS:
            self._buckets.clear()


class _TooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    """Refuse bodies over the limit with 413, from Content-Length up front or by counting streamed bytes.

    `limit_for(scope)` gives the limit of a request (uploads get a bigger one than JSON calls).
    """

    def __init__(self, app: ASGIApp, limit_for: Callable[[Scope], int]):
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                if not value.isdigit():
                    await _send_error(send, 400, "request.bad", "The Content-Length header is not a number.")
                    return
                if int(value) > limit:
                    await _send_too_large(send, limit)
                    return
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # whatever the app says about the cut-off body, the answer is 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _TooLarge:
            pass
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await _send_too_large(send, limit)


async def _send_too_large(send: Send, limit: int) -> None:
    size = f"{limit / (1024 * 1024):.0f} MiB" if limit >= 1024 * 1024 else f"{limit} bytes"
    await _send_error(send, 413, "request.too_large", f"The request is larger than the {size} this service accepts.")


async def _send_error(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"code": code, "message": message}).encode("utf-8")
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers + list(SECURITY_HEADERS)})
    await send({"type": "http.response.body", "body": body})


class ControlCharacterMiddleware:
    """Refuses a path or query string holding a NUL or another control character (percent-encoded or not), before any
    route sees it. No id, name or filter of this service contains one, and PostgreSQL cannot even store a NUL in text:
    without this check `GET /v1/packs/a%00b` failed inside the database driver on PostgreSQL (500) while SQLite
    answered 404."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope.get("path", "")
            query = urllib.parse.unquote_to_bytes(scope.get("query_string", b"").replace(b"+", b" "))
            if _has_control(path.encode("utf-8", "surrogateescape")) or _has_control(query):
                await _send_error(
                    send, 400, "request.control_characters", "The address holds a control character (such as NUL)."
                )
                return
        await self.app(scope, receive, send)


def _has_control(data: bytes) -> bool:
    return any(byte < 0x20 or byte == 0x7F for byte in data)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", ())}
                extra = [(name, value) for name, value in SECURITY_HEADERS if name not in present]
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
