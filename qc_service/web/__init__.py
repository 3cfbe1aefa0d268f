"""The dashboard: pages for project leads and reviewers, served under ``/ui``.

Pages are HTML shells; their ES modules (``static/``) fetch JSON from session-
authenticated routes under ``/ui/data`` that call the same service functions as the
API, and draw the charts as SVG. Everything is served by the service itself.
"""

from __future__ import annotations

from flask import Flask, redirect, url_for
from werkzeug.wrappers import Response

from qc_service.web import data, pages  # noqa: F401 - register the routes
from qc_service.web.blueprint import web
from qc_service.web.session import SessionInterface


def register(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.register_blueprint(web)

    @app.get("/")
    def root() -> Response:
        return redirect(url_for("web.home"))
