"""The FastAPI application of the reference rights service."""

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.types import Scope

from fanremix import __version__

from .context import ServiceContext
from .errors import install_error_handlers
from .limits import BodySizeLimitMiddleware, ControlCharacterMiddleware, SecurityHeadersMiddleware
from .routes import accounts, licensing, packs, submissions
from .settings import ServiceSettings

DESCRIPTION = """The reference rights service of Fan Remix Studio: accounts, pack registration, policy checks, signed
grants, fans' C2PA signing certificates, and submissions verified on the server. Every error answers with
`{"code", "message"}`. Authenticate with `Authorization: Bearer <token>`."""


def create_app(settings: ServiceSettings, context: ServiceContext | None = None) -> FastAPI:
    """The app for `settings`. The database is migrated and the keys are loaded when this is called, so a
    misconfiguration fails at start, not on the first request."""
    return _build(settings, context or ServiceContext.start(settings))


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document, without opening any database (for tools and tests that only need the contract)."""
    return _build(ServiceSettings(data_dir=Path(".")), None).openapi()


def _build(settings: ServiceSettings, context: ServiceContext | None) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if context is not None:
            context.close()

    app = FastAPI(
        title="Fan Remix rights service",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,  # the interactive docs load scripts from a CDN; the service serves only its own JSON
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.context = context
    install_error_handlers(app)

    def limit_for(scope: Scope) -> int:
        if scope.get("method") == "POST" and scope.get("path", "").rstrip("/") == "/v1/submissions":
            return settings.max_upload_bytes
        return settings.max_json_bytes

    app.add_middleware(BodySizeLimitMiddleware, limit_for=limit_for)
    app.add_middleware(ControlCharacterMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    for module in (licensing, accounts, packs, submissions):
        app.include_router(module.router)
    return app
