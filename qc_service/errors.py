"""Errors the service layer raises; the API renders them as RFC 9457 problems.

They carry no HTTP machinery so that the service layer and the command line can
use them too; ``qc_service.api.problems`` maps each to a status code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One thing wrong with one field. ``field`` is a JSON pointer into the request."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class ServiceError(Exception):
    """Base of every error a client can cause. ``status`` is the HTTP status to use."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class InvalidInput(ServiceError):
    status = 422
    title = "Invalid input"


class BadRequest(ServiceError):
    status = 400
    title = "Bad request"


class NotFound(ServiceError):
    status = 404
    title = "Not found"


class Conflict(ServiceError):
    status = 409
    title = "Conflict"


class Unauthorized(ServiceError):
    status = 401
    title = "Unauthorized"


class Forbidden(ServiceError):
    status = 403
    title = "Forbidden"


class PayloadTooLarge(ServiceError):
    status = 413
    title = "Payload too large"
