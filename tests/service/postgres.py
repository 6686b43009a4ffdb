"""A throw-away PostgreSQL server for the rights service's tests: its own cluster in a temp folder, on a free loopback
port, stopped and deleted afterwards. The service's deployment target is PostgreSQL; SQLite is only the default.

PostgreSQL refuses to run as root, so under root (CI, make test) the cluster belongs to the `postgres` user that
Debian's package creates and its programs are run through `runuser`."""

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from fanremix.local_service import free_port

USER = "fanremix"  # the database role the tests connect as (trust authentication, loopback only)
START_TIMEOUT_S = 60.0


class PostgresMissing(RuntimeError):
    """PostgreSQL's server programs are not installed (make test installs them: postgresql-15)."""


def server_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not found:
        raise PostgresMissing("No PostgreSQL server under /usr/lib/postgresql/*/bin.")
    return Path(found[-1]).parent


def _as_owner(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextlib.contextmanager
def temporary_postgres() -> Iterator[str]:
    """Start a cluster in a new temp folder and yield its SQLAlchemy URL (psycopg 3). The folder is made in the
    system temp folder, not under pytest's (that one is private to root, and the cluster runs as `postgres`)."""
    bin_dir = server_bin()
    folder = Path(tempfile.mkdtemp(prefix="fanremix-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(sockets, "postgres")
    log = folder / "postgres.log"
    subprocess.run(
        _as_owner([str(bin_dir / "initdb"), "-D", str(data), "-U", USER, "-A", "trust", "-E", "UTF8", "--no-sync"]),
        check=True,
        capture_output=True,
    )
    port = free_port()
    with log.open("ab") as handle:
        server = subprocess.Popen(
            _as_owner(
                [
                    str(bin_dir / "postgres"),
                    "-D",
                    str(data),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "-k",
                    str(sockets),
                    "-c",
                    "fsync=off",
                    "-c",
                    "max_connections=50",
                ]
            ),
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    url = f"postgresql+psycopg://{USER}@127.0.0.1:{port}/postgres"
    try:
        _wait_ready(port, server, log)
        yield url
    finally:
        server.terminate()  # SIGTERM: PostgreSQL's "smart" shutdown; the service has closed its connections
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _wait_ready(port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    import psycopg

    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"PostgreSQL exited at start:\n{log.read_text('utf-8', 'replace')[-2000:]}")
        try:
            psycopg.connect(f"host=127.0.0.1 port={port} user={USER} dbname=postgres", connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            time.sleep(0.2)
    raise RuntimeError(f"PostgreSQL did not accept connections:\n{log.read_text('utf-8', 'replace')[-2000:]}")
