"""A loopback HTTP proxy that misbehaves on purpose: it drops connections (before and after the upstream saw the
request), cuts responses short, delays or stalls requests, and answers 500 or 429 of its own accord.

Every request draws one fate from a seeded random generator, so a run is repeatable. It only ever talks to the
upstream it was given (a service on 127.0.0.1) and listens on 127.0.0.1.
"""

import contextlib
import http.client
import random
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection", "host"}
# fate -> probability; whatever is left over is "forward" (pass the request through untouched)
DEFAULT_FATES = {
    "drop_before": 0.08,  # close the connection without forwarding: the service never saw it
    "drop_after": 0.08,  # forward, then close without answering: the service did the work, the client never hears
    "truncate": 0.04,  # forward, then send half the answer and close
    "error_500_before": 0.05,
    "error_500_after": 0.05,  # the service did the work, the client is told it failed
    "error_429": 0.05,
    "delay": 0.08,  # up to 0.15 s, then forward
    "stall": 0.02,  # longer than the client's read timeout, then forward: a late duplicate reaches the service
}


class FaultProxy:
    def __init__(
        self, upstream: str, *, seed: int = 7, fates: dict[str, float] | None = None, stall_s: float = 1.2
    ) -> None:
        parts = urlsplit(upstream)
        self.upstream_host, self.upstream_port = parts.hostname or "127.0.0.1", parts.port or 80
        self.fates = dict(DEFAULT_FATES if fates is None else fates)
        self.stall_s = stall_s
        self.counts: Counter[str] = Counter()
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "FaultProxy":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def draw(self) -> tuple[str, float]:
        with self._lock:
            roll = self._random.random()
            extra = self._random.random()
        fate = "forward"
        for name, probability in self.fates.items():
            if roll < probability:
                fate = name
                break
            roll -= probability
        with self._lock:
            self.counts[fate] += 1
        return fate, extra

    def forward(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes):
        connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=30)
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            connection.putheader("Host", f"{self.upstream_host}:{self.upstream_port}")
            for name, value in headers:
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            return response.status, response.reason, response.getheaders(), response.read()
        finally:
            connection.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fate, extra = proxy.draw()
                if fate == "drop_before":
                    self._drop()
                    return
                if fate == "error_500_before":
                    self._reply(500, "Internal Server Error", [], b'{"code":"proxy.error","message":"injected"}')
                    return
                if fate == "error_429":
                    wait = b"1" if extra < 0.1 else b"0"
                    headers = [("Retry-After", wait.decode())]
                    self._reply(429, "Too Many Requests", headers, b'{"code":"proxy.busy","message":"injected"}')
                    return
                if fate == "delay":
                    time.sleep(0.15 * extra)
                if fate == "stall":
                    time.sleep(proxy.stall_s)
                status, reason, headers, answer = proxy.forward(
                    self.command, self.path, list(self.headers.items()), body
                )
                if fate == "drop_after":
                    self._drop()
                elif fate == "error_500_after":
                    self._reply(500, "Internal Server Error", [], b'{"code":"proxy.error","message":"injected"}')
                elif fate == "truncate":
                    self._reply(status, reason, headers, answer, cut=True)
                else:
                    self._reply(status, reason, headers, answer)

            def _drop(self) -> None:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)

            def _reply(self, status, reason, headers, body: bytes, cut: bool = False) -> None:
                self.send_response_only(status, reason)
                for name, value in headers:
                    if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if cut:
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self._drop()
                    return
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        return Handler
