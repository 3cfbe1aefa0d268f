"""gunicorn settings for production; ``deploy/gunicorn.conf.py`` re-exports them.

Migrations run once in the master before workers fork, so workers never race on
the schema; each worker then builds its own app (and database pool) after the fork.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import shutil
import tempfile

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

    _prepare_metrics_folder()
    _share_session_secret()

    settings = Settings.from_env()
    if settings.should_auto_migrate:
        engine = db.make_engine(settings.resolved_database_url)
        db.upgrade(engine)
        engine.dispose()


def _prepare_metrics_folder() -> None:
    """Workers share their Prometheus counters through files in one folder; it must
    start empty, or a restart would resurrect the old process's counts."""
    folder = os.environ.setdefault(
        "PROMETHEUS_MULTIPROC_DIR", os.path.join(tempfile.gettempdir(), "qc-service-metrics")
    )
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)


def _share_session_secret() -> None:
    """Dashboard sessions are signed with ``QC_SECRET_KEY``. Without one, each worker
    would draw its own random key and a user signed in on one worker would be signed
    out by the next; a key drawn here, before the fork, is inherited by every worker."""
    if not os.environ.get("QC_SECRET_KEY"):
        os.environ["QC_SECRET_KEY"] = secrets.token_hex(32)


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
