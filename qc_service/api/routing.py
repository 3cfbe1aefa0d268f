"""Declaring an endpoint once: its route, auth, request and response models.

``@endpoint`` registers the Flask view and records what the OpenAPI document needs,
so the document is generated from the same models that validate requests.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import orjson
from flask import Blueprint, Response, current_app, request
from pydantic import BaseModel, ValidationError

from qc_service.api.problems import field_errors, problem_response
from qc_service.errors import BadRequest, FieldError, InvalidInput
from qc_service.service import Context
from qc_service.service.auth import Principal, authenticate


@dataclass
class Endpoint:
    method: str
    rule: str
    summary: str
    description: str
    tag: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    scope: str | None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def openapi_path(self) -> str:
        return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", self.rule)

    @property
    def path_parameters(self) -> list[str]:
        return re.findall(r"<(?:\w+:)?(\w+)>", self.rule)


ENDPOINTS: list[Endpoint] = []


def context() -> Context:
    return current_app.extensions["qc"]


def parse_json_body() -> object:
    raw = request.get_data()
    if not raw:
        raise BadRequest("the request has no body", [FieldError("/", "send a JSON document")])
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadRequest(
            "the body is not valid JSON", [FieldError("/", f"malformed JSON: {error}")]
        ) from None


def validate(model: type[BaseModel], data: object, prefix: str = "") -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        errors = field_errors(error, prefix)
        raise InvalidInput(f"{len(errors)} field(s) are invalid", errors) from None


def endpoint(
    blueprint: Blueprint,
    method: str,
    rule: str,
    *,
    summary: str,
    tag: str,
    scope: str | None,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
    before_validation: Callable[[object], None] | None = None,
) -> Callable:
    """Register a view. The view receives the path parameters, plus ``principal``
    (when ``scope`` is set), ``body`` and ``query`` (validated models), and returns a
    response model, a (model, status, headers) tuple, or a Flask ``Response``.

    ``before_validation`` sees the parsed JSON first: cheap whole-request checks (a
    batch over the size limit) answer before thousands of items are validated.
    """

    def decorate(view: Callable) -> Callable:
        ENDPOINTS.append(
            Endpoint(
                method=method,
                rule=blueprint.url_prefix + rule if blueprint.url_prefix else rule,
                summary=summary,
                description=(view.__doc__ or "").strip(),
                tag=tag,
                body=body,
                query=query,
                response=response,
                status=status,
                scope=scope,
                headers=headers or {},
            )
        )

        @functools.wraps(view)
        def handle(**path: str) -> Response:
            kwargs: dict[str, object] = dict(path)
            if scope is not None:
                principal: Principal = authenticate(context(), request.headers.get("Authorization"))
                principal.require(path.get("project"), scope)
                kwargs["principal"] = principal
            if query is not None:
                kwargs["query"] = validate(query, request.args.to_dict(), "/query")
            if body is not None:
                data = parse_json_body()
                if before_validation is not None:
                    before_validation(data)
                kwargs["body"] = validate(body, data)
            return render(view(**kwargs), status)

        blueprint.add_url_rule(rule, endpoint=view.__name__, view_func=handle, methods=[method])
        return handle

    return decorate


def to_json(document: object) -> bytes:
    """JSON for an answer built as plain dicts and lists, written as pydantic's
    ``model_dump_json`` writes the model it stands for (datetimes in RFC 3339 with
    ``Z`` for UTC, NaN as null), at a fraction of the cost."""
    return orjson.dumps(document, option=orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS)


def cached_json(
    key: Hashable, build: Callable[[], object], headers: dict[str, str] | None = None
) -> Response:
    """A 200 answer from the process's page cache, built and encoded on a miss. The key
    must name the version of the data the answer shows (``PageCache``)."""
    body = context().pages.get_or_render(key, lambda: to_json(build()))
    return Response(body, mimetype="application/json", headers=headers)


def render(result: object, default_status: int) -> Response:
    if isinstance(result, Response):
        return result
    status, extra_headers = default_status, {}
    if isinstance(result, tuple):
        result, status, extra_headers = result
    payload = result.model_dump_json() if isinstance(result, BaseModel) else to_json(result)
    return Response(payload, status=status, mimetype="application/json", headers=extra_headers)


__all__ = [
    "ENDPOINTS",
    "Endpoint",
    "cached_json",
    "context",
    "endpoint",
    "problem_response",
    "validate",
]
