"""Every failure answers with a JSON body `{"code": ..., "message": ...}` (plus details for some codes)."""

import logging
from typing import Any

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("fanremix.service")


class ErrorBody(BaseModel):
    code: str
    message: str


class ApiError(Exception):
    """Raise from a route to answer with `status` and the JSON error body."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.extra = extra

    def response(self) -> JSONResponse:
        return JSONResponse(
            {"code": self.code, "message": self.message, **self.extra}, status_code=self.status, headers=self.headers
        )


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status, headers=headers)


_HTTP_CODES = {
    400: ("request.bad", "The request is not valid."),
    401: ("auth.required", "Sign in first: send your API token as 'Authorization: Bearer <token>'."),
    403: ("auth.forbidden", "Your account may not do this."),
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This address does not accept this method."),
    413: ("request.too_large", "The request is too large."),
    415: ("request.unsupported_media_type", "The request's content type is not accepted here."),
}


def _describe_validation(exc: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    details = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "request"
        details.append({"field": location, "problem": str(error.get("msg", "invalid"))})
    summary = "; ".join(f"{d['field']}: {d['problem']}" for d in details[:5]) or "the request is not valid"
    return f"The request is not valid: {summary}.", details


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        message, details = _describe_validation(exc)
        return JSONResponse({"code": "request.invalid", "message": message, "errors": details}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, default = _HTTP_CODES.get(exc.status_code, (f"http.{exc.status_code}", "The request failed."))
        message = exc.detail if isinstance(exc.detail, str) and exc.detail not in ("Not Found", "") else default
        if exc.status_code == 400 and "parsing the body" in message:
            message = "The request body could not be read: send JSON, or a multipart form for uploads."
        return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(sqlalchemy.exc.DataError)
    async def _unstorable(request: Request, _exc: sqlalchemy.exc.DataError) -> JSONResponse:
        # PostgreSQL refuses some values SQLite stores (a NUL in text, a number out of range): the request's fault
        log.info("a value the database cannot store, on %s %s", request.method, request.url.path)
        return error_response(
            422, "request.unstorable", "The request holds a value that cannot be stored (for example a NUL character)."
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "server.error", "The rights service failed unexpectedly; try again later.")
