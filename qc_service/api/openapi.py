"""The OpenAPI document, generated from the endpoint registry and pydantic models, and
Swagger UI to read and try it at ``/api/v1/docs/`` (its assets ship in the
flask-swagger-ui wheel: the page works without the internet)."""

from __future__ import annotations

import re

from flask import Blueprint, Response, json
from flask_swagger_ui import get_swaggerui_blueprint
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

import qc_service
from qc_service.api.blueprint import api
from qc_service.api.routing import ENDPOINTS, Endpoint
from qc_service.schemas.common import Problem

_PROBLEMS = {
    "400": "Malformed request (bad JSON, batch over the limit)",
    "401": "Missing or unknown token",
    "403": "The token lacks the scope",
    "404": "No such project (or not this token's project)",
    "413": "Body over the size limit",
    "422": "A field is invalid; `errors` names each one",
}


def build_openapi() -> dict:
    models: set[type[BaseModel]] = {Problem}
    for ep in ENDPOINTS:
        models.update(m for m in (ep.body, ep.response, ep.query) if m is not None)
    ordered = sorted(models, key=lambda m: m.__name__)
    refs, schema = models_json_schema(
        [(m, "validation" if _is_request(m) else "serialization") for m in ordered],
        ref_template="#/components/schemas/{model}",
    )
    ref_of = {model: refs[(model, mode)] for (model, mode) in refs}

    paths: dict[str, dict] = {}
    for ep in ENDPOINTS:
        paths.setdefault(ep.openapi_path, {})[ep.method.lower()] = _operation(ep, ref_of)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "qc-service",
            "version": qc_service.__version__,
            "description": "Quality control for crowdsourced labels. Errors are RFC 9457 "
            "problem documents (`application/problem+json`) with a per-field `errors` list.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schema.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _is_request(model: type[BaseModel]) -> bool:
    return model.model_config.get("extra") == "forbid"


def _operation_id(ep: Endpoint) -> str:
    words = re.sub(r"[{}]", "", ep.openapi_path.removeprefix("/api/v1/")).replace("/", "_")
    return f"{ep.method.lower()}_{words}"


def _operation(ep: Endpoint, ref_of: dict) -> dict:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in ep.path_parameters
    ]
    if ep.query is not None:
        for name, info in ep.query.model_fields.items():
            parameters.append(
                {
                    "name": name,
                    "in": "query",
                    "required": info.is_required(),
                    "description": info.description or "",
                    "schema": ep.query.model_json_schema()["properties"][name],
                }
            )
    parameters += [
        {
            "name": header,
            "in": "header",
            "required": False,
            "description": text,
            "schema": {"type": "string"},
        }
        for header, text in ep.headers.items()
    ]
    success: dict = {"description": "OK"}
    if ep.response is not None:
        success["content"] = {"application/json": {"schema": ref_of[ep.response]}}
    responses = {str(ep.status): success}
    problem = {"application/problem+json": {"schema": ref_of[Problem]}}
    for code, text in _PROBLEMS.items():
        responses[code] = {"description": text, "content": problem}
    operation = {
        "summary": ep.summary,
        "description": ep.description,
        "tags": [ep.tag],
        "operationId": _operation_id(ep),
        "parameters": parameters,
        "responses": responses,
    }
    if ep.scope is not None:
        operation["security"] = [{"bearer": []}]
        operation["description"] += f"\n\nScope: `{ep.scope}` (or `admin`)."
    if ep.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref_of[ep.body]}},
        }
    return operation


@api.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 document of this API."""
    return Response(json.dumps(build_openapi()), mimetype="application/json")


def docs_blueprint() -> Blueprint:
    """Swagger UI over :func:`openapi_document`; "Authorize" takes a bearer token."""
    return get_swaggerui_blueprint(
        f"{api.url_prefix}/docs",
        f"{api.url_prefix}/openapi.json",
        config={"app_name": "qc-service API", "persistAuthorization": True},
        blueprint_name="api_docs",
    )
