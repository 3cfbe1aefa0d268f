"""The HTTP API: thin views that parse, authorise, call the service layer, serialise."""

from flask import Flask

from qc_service.api import (  # noqa: F401 - register the endpoints
    agreement,
    annotators,
    fits,
    labels,
    openapi,
    platforms,
    projects,
    results,
    review,
)
from qc_service.api.blueprint import api
from qc_service.api.health import health
from qc_service.api.metrics import instrument, metrics
from qc_service.api.openapi import docs_blueprint
from qc_service.api.problems import register_error_handlers


def register(app: Flask) -> None:
    app.register_blueprint(api)
    app.register_blueprint(docs_blueprint())
    app.register_blueprint(health)
    app.register_blueprint(metrics)
    instrument(app)
    register_error_handlers(app)
