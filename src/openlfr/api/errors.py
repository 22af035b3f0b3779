"""One error envelope for every failure: ``{"error": {"code", "message", "details"}}``.

Codes are stable (clients switch on them); messages are for people. Domain errors keep their
``OpenLFRError.code``. Validation details never echo the submitted input (it may hold a password).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from openlfr.auth.errors import (
    AccountInvalidError,
    CompetenceInvalidError,
    PermissionDeniedError,
    SessionSecretError,
)
from openlfr.deployments.calibrations import CalibrationError
from openlfr.errors import ImageDecodeError, OpenLFRError, TooSoonError
from openlfr.store.errors import ConflictError, MediaKeyError, NotFoundError, StorageError

log = logging.getLogger(__name__)


class ApiError(HTTPException):
    """An HTTP-level failure with a stable code. An HTTPException subclass, so FastAPI passes it through
    unchanged even when raised while a request body is being read."""

    code = "error"
    status = 400

    def __init__(
        self,
        message: str,
        *,
        details: Any = None,
        headers: Mapping[str, str] | None = None,
        code: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(status or self.status, detail=message, headers=dict(headers) if headers else None)
        self.message = message
        self.details = details
        if code is not None:
            self.code = code


class NotAuthenticatedError(ApiError):
    code, status = "not_authenticated", 401

    def __init__(self, message: str = "log in or send a valid API token") -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class InvalidCredentialsError(ApiError):
    code, status = "invalid_credentials", 401


class ForbiddenError(ApiError):
    code, status = "forbidden", 403


class CsrfError(ApiError):
    code, status = "csrf_failed", 403


class RateLimitedError(ApiError):
    code, status = "rate_limited", 429

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            f"too many failed logins: try again in {retry_after_s} s",
            details={"retry_after_s": retry_after_s},
            headers={"Retry-After": str(retry_after_s)},
        )


class PayloadTooLargeError(ApiError):
    code, status = "payload_too_large", 413


class UnsupportedMediaError(ApiError):
    code, status = "unsupported_media_type", 415


# Codes for errors Starlette/FastAPI raise themselves (unknown route, wrong method, unreadable body).
_STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
}

# Domain errors by class (subclasses keep their own, more precise, code).
_DOMAIN_STATUS: Sequence[tuple[type[OpenLFRError], int]] = (
    (NotFoundError, 404),
    (PermissionDeniedError, 403),
    (ConflictError, 409),
    (AccountInvalidError, 422),
    (CompetenceInvalidError, 422),
    (CalibrationError, 422),
    (ImageDecodeError, 422),
    (StorageError, 503),
    (MediaKeyError, 503),
    (SessionSecretError, 503),
)


def envelope(
    status: int, code: str, message: str, details: Any = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(body, status_code=status, headers=dict(headers) if headers else None)


def domain_status(exc: OpenLFRError) -> int:
    for cls, status in _DOMAIN_STATUS:
        if isinstance(exc, cls):
            return status
    return 400


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if isinstance(exc, ApiError):
        return envelope(exc.status_code, exc.code, exc.message, exc.details, exc.headers)
    code = _STATUS_CODES.get(exc.status_code, "http_error")
    phrase = HTTPStatus(exc.status_code).phrase if exc.status_code in HTTPStatus._value2member_map_ else "Error"
    message = exc.detail if isinstance(exc.detail, str) and exc.detail else phrase
    return envelope(exc.status_code, code, message, None, exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "")),
            "type": error.get("type"),
        }
        for error in exc.errors()
    ]
    return envelope(422, "validation_failed", "the request is not valid", details)


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OpenLFRError)
    if isinstance(exc, TooSoonError):
        wait = {"retry_after_s": exc.retry_after_s}
        return envelope(429, exc.code, str(exc), wait, {"Retry-After": str(exc.retry_after_s)})
    status = domain_status(exc)
    if status >= 500:
        log.error("service unavailable: [%s] %s", exc.code, exc)
        return envelope(status, exc.code, "a storage component is unavailable; see the server log")
    return envelope(status, exc.code, str(exc))


RETRY_AFTER_S = 30


async def _database_error(_request: Request, exc: Exception) -> JSONResponse:
    """The database could not do its work (disk full, I/O error, connection lost, locked): the service is
    unavailable, not broken — 503 with a stable code, never a 500."""
    from openlfr.store.db import storage_failure

    problem = storage_failure(exc)
    code = "storage_full" if problem == "full" else "storage_unavailable"
    log.error("database unavailable: [%s] %s", code, str(getattr(exc, "orig", exc))[:300])
    message = (
        "the server's storage is full: nothing was saved; try again once space is freed"
        if problem == "full"
        else "the database is unavailable: nothing was saved; try again later"
    )
    return envelope(503, code, message, None, {"Retry-After": str(RETRY_AFTER_S)})


def internal_error() -> JSONResponse:
    return envelope(500, "internal_error", "internal error; see the server log")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OpenLFRError, _domain_error)
    app.add_exception_handler(OperationalError, _database_error)
