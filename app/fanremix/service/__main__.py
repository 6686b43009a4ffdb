"""`python -m fanremix.service --data DIR [--db URL] [--host H] [--port N]`: what `fanremix serve` runs."""

import argparse
import dataclasses
import datetime as dt
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .settings import ServiceSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

SETTINGS_ENV = "FANREMIX_SERVICE_SETTINGS"


def serve(
    settings: ServiceSettings,
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    workers: int = 1,
    proxy_headers: bool = False,
    forwarded_allow_ips: str | None = None,
    log_level: str = "info",
) -> None:
    """Run the service with uvicorn until interrupted. With several workers, each migrates under a lock at start."""
    import uvicorn

    from .app import create_app

    if workers > 1:
        # uvicorn needs an import string to start worker processes; they rebuild the settings from the environment.
        os.environ[SETTINGS_ENV] = settings_to_json(settings)
        uvicorn.run(
            "fanremix.service.__main__:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=proxy_headers,
            forwarded_allow_ips=forwarded_allow_ips,
            log_level=log_level,
        )
        return
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level=log_level,
    )


def settings_to_json(settings: ServiceSettings) -> str:
    values = dataclasses.asdict(settings)
    values["data_dir"] = str(settings.data_dir)
    values["grant_lifetime"] = settings.grant_lifetime.total_seconds()
    values["token_lifetime"] = settings.token_lifetime.total_seconds()
    return json.dumps(values)


def settings_from_json(text: str) -> ServiceSettings:
    values = json.loads(text)
    values["data_dir"] = Path(values["data_dir"])
    values["grant_lifetime"] = dt.timedelta(seconds=values["grant_lifetime"])
    values["token_lifetime"] = dt.timedelta(seconds=values["token_lifetime"])
    return ServiceSettings(**values)


def app_from_environment() -> "FastAPI":
    """The app a uvicorn worker process builds (see `serve` with several workers)."""
    from .app import create_app

    return create_app(settings_from_json(os.environ[SETTINGS_ENV]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fanremix.service", description="Run the rights service.")
    parser.add_argument("--data", required=True, help="folder for the database, uploads and the service's keys")
    parser.add_argument("--db", help="SQLAlchemy database URL (default: SQLite in --data)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rate-per-minute", type=float, default=ServiceSettings.rate_per_minute)
    parser.add_argument("--rate-burst", type=int, default=ServiceSettings.rate_burst)
    parser.add_argument("--auth-rate-per-minute", type=float, default=ServiceSettings.auth_rate_per_minute)
    parser.add_argument("--auth-rate-burst", type=int, default=ServiceSettings.auth_rate_burst)
    parser.add_argument("--max-upload-mb", type=float, default=ServiceSettings.max_upload_bytes / 2**20)
    parser.add_argument(
        "--token-lifetime-days", type=float, default=ServiceSettings.token_lifetime.total_seconds() / 86400
    )
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    settings = ServiceSettings(
        data_dir=Path(args.data),
        database_url=args.db,
        rate_per_minute=args.rate_per_minute,
        rate_burst=args.rate_burst,
        auth_rate_per_minute=args.auth_rate_per_minute,
        auth_rate_burst=args.auth_rate_burst,
        max_upload_bytes=int(args.max_upload_mb * 2**20),
        token_lifetime=dt.timedelta(days=args.token_lifetime_days),
    )
    serve(settings, args.host, args.port, workers=args.workers, log_level=args.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
