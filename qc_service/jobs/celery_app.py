"""The Celery application: refit tasks for ``qc-service worker``.

Start a worker with ``qc-service worker`` (or ``celery -A qc_service.jobs.celery_app
worker``); it reads ``QC_BROKER_URL`` and ``DATABASE_URL`` like the service does.
"""

from __future__ import annotations

from functools import cache

from celery import Celery

from qc_service.jobs import runner
from qc_service.service.context import Context
from qc_service.settings import Settings
from qc_service.store import db

settings = Settings.from_env()
app = Celery("qc_service", broker=settings.broker_url or None)
app.conf.update(
    task_ignore_result=True,
    # A refit acknowledged only once done is re-run if its worker dies mid-way.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
)


@cache
def worker_context() -> Context:
    """One engine per worker process, made on first use (after the fork)."""
    worker_settings = Settings.from_env()
    return Context(
        settings=worker_settings, engine=db.make_engine(worker_settings.resolved_database_url)
    )


@app.task(name="qc_service.refit", bind=True)
def refit(self, job_id: str) -> None:
    """Run a queued refit once its debounce has passed; later changes may have pushed
    it back, so the task re-sends itself until the job is due."""
    ctx = worker_context()
    wait = runner.seconds_until_due(ctx, job_id)
    if wait is None:
        return
    if wait > 0:
        self.apply_async((job_id,), countdown=wait)
        return
    from qc_service.jobs.scheduler import CeleryScheduler  # it imports this module

    runner.execute(ctx, job_id, CeleryScheduler(ctx).changed)
