"""gunicorn settings for production; ``deploy/gunicorn.conf.py`` re-exports them.

Migrations run once in the master before workers fork, so workers never race on
the schema; each worker then builds its own app (and database pool) after the fork.
"""

from __future__ import annotations

import multiprocessing
import os

bind = os.environ.get("QC_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("QC_WORKERS", min(4, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("QC_THREADS", 4))
worker_class = "gthread"
timeout = 60
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"
# Gunicorn's own limit on request lines; the body limit is QC_MAX_BODY_BYTES.
limit_request_line = 8190


def on_starting(server) -> None:
    from qc_service.settings import Settings
    from qc_service.store import db

    settings = Settings.from_env()
    if settings.should_auto_migrate:
        engine = db.make_engine(settings.resolved_database_url)
        db.upgrade(engine)
        engine.dispose()
