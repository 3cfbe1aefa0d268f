"""The application factory."""

from __future__ import annotations

import logging
import secrets

from flask import Flask

from qc_service import api, web
from qc_service.jobs import make_scheduler
from qc_service.service import Context
from qc_service.service.auth import seed_admin_token
from qc_service.settings import Settings
from qc_service.store import db


def create_app(config: dict | None = None, settings: Settings | None = None) -> Flask:
    """Build the service.

    ``settings`` default to the environment (see ``qc_service.settings``); ``config``
    is merged into Flask's own config (tests use it for ``TESTING``).
    """
    settings = settings or Settings.from_env()
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        SECRET_KEY=settings.secret_key or secrets.token_hex(32),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        JSON_SORT_KEYS=False,
    )
    app.config.update(config or {})

    engine = db.make_engine(settings.resolved_database_url)
    if settings.should_auto_migrate:
        db.upgrade(engine)
    ctx = Context(settings=settings, engine=engine)
    app.extensions["qc"] = ctx
    if settings.admin_token:
        seed_admin_token(ctx, settings.admin_token)

    scheduler = make_scheduler(ctx)
    ctx.on_change.append(scheduler.changed)
    app.extensions["qc_scheduler"] = scheduler
    scheduler.start()

    api.register(app)
    web.register(app)
    return app
