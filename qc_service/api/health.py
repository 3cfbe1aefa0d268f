"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

from flask import Blueprint, Response, json

from qc_service.api.routing import context
from qc_service.store import db

health = Blueprint("health", __name__)


@health.get("/healthz")
def healthz() -> Response:
    """The process is up. Never touches the database, so a slow database does not get
    a healthy process restarted."""
    return Response(json.dumps({"status": "ok"}), mimetype="application/json")


@health.get("/readyz")
def readyz() -> Response:
    """The database answers and its schema is migrated: the process can take traffic."""
    engine = context().engine
    try:
        revision = db.current_revision(engine, raise_if_unreachable=True)
    except Exception as error:  # whatever the driver raises, the answer is "not ready"
        body = {"status": "unavailable", "database": f"unreachable: {type(error).__name__}"}
        return Response(json.dumps(body), status=503, mimetype="application/json")
    if revision != db.head_revision():
        body = {
            "status": "unavailable",
            "database": f"schema at {revision}, expected {db.head_revision()}: "
            "run `qc-service db upgrade`",
        }
        return Response(json.dumps(body), status=503, mimetype="application/json")
    return Response(
        json.dumps({"status": "ok", "database": "ok", "schema": revision}),
        mimetype="application/json",
    )
