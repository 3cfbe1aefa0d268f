"""RFC 9457 problem documents for every error a client can meet."""

from __future__ import annotations

import logging

from flask import Flask, Response, json
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from qc_service.errors import FieldError, ServiceError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


def problem_response(
    status: int, title: str, detail: str, errors: list[FieldError] | None = None
) -> Response:
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "errors": [error.as_dict() for error in errors or []],
    }
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)


def field_errors(error: ValidationError, prefix: str = "") -> list[FieldError]:
    """Pydantic's errors with their location written as a JSON pointer."""
    found = []
    for item in error.errors(include_url=False):
        location = [str(part) for part in item["loc"]]
        # A union (e.g. a label value) reports each branch under the branch's type
        # name; the client wants the field, not our type names.
        location = [part for part in location if not _is_type_name(part)]
        pointer = prefix + "/" + "/".join(location) if location else prefix or "/"
        found.append(FieldError(pointer, item["msg"]))
    return found


def _is_type_name(part: str) -> bool:
    return part in {"str", "int", "bool", "list[constrained-str]", "constrained-str"} or (
        part.startswith(("list[", "function-"))
    )


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service_error(error: ServiceError) -> Response:
        return problem_response(error.status, error.title, error.detail, error.errors)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        detail = error.description or error.name
        if error.code == 413:
            detail = (
                f"the request body is larger than {app.config['MAX_CONTENT_LENGTH']} bytes"
                " (QC_MAX_BODY_BYTES)"
            )
            return problem_response(
                413, "Payload too large", detail, [FieldError("/", "send a smaller batch")]
            )
        return problem_response(error.code or 500, error.name, detail)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error", exc_info=error)
        return problem_response(
            500, "Internal server error", "the service failed; the error is in its log"
        )
