"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

from flask import Blueprint, Response, json
from sqlalchemy import text

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
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = db.current_revision(engine)
    except Exception as error:
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
