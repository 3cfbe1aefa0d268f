"""Running one refit job: claim it, fit, record how it went."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable

from qc_service.service import fits, retention
from qc_service.service.context import Context
from qc_service.store import db
from qc_service.store import jobs as job_store
from qc_service.store import projects as project_store

log = logging.getLogger(__name__)


def seconds_until_due(ctx: Context, job_id: str) -> float | None:
    """How long a queued job should still wait for its debounce; None if it is no
    longer queued (done, running elsewhere, or gone)."""
    with db.session_scope(ctx.engine) as session:
        job = job_store.get_job(session, job_id)
        if job is None or job.state != "queued":
            return None
        return max(0.0, job.detail.get("due_at", 0.0) - time.time())


def execute(
    ctx: Context, job_id: str, changed_meanwhile: Callable[[str], None] | None = None
) -> bool:
    """Run a queued job if nobody else has claimed it; true if this call ran it.

    A failure is recorded on the job row and leaves the previous fit in service
    (the fit is published in one transaction, at the very end). When the project's
    data moved on while the fit ran, ``changed_meanwhile(project_id)`` asks for the
    next refit (the scheduler may have skipped queueing it; see ``scheduler``).
    """
    with db.session_scope(ctx.engine, write=True) as session:
        if not job_store.claim(session, job_id):
            return False
        project_id = job_store.get_job(session, job_id).project_id
    # Refit workers run wherever the service runs: a natural place for housekeeping.
    retention.prune_if_due(ctx)
    started = time.perf_counter()
    try:
        fit = fits.run_fit(ctx, project_id, job_id)
    except Exception as error:
        log.exception("refit job %s of %s failed", job_id, project_id)
        with db.session_scope(ctx.engine, write=True) as session:
            job_store.finish(
                session,
                job_id,
                "failed",
                {"seconds": round(time.perf_counter() - started, 4)},
                error=f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=5)}",
            )
        return True
    with db.session_scope(ctx.engine, write=True) as session:
        job_store.finish(
            session,
            job_id,
            "done",
            {
                "fit": fit.id,
                "superseded": fit.job_id != job_id,
                "seconds": round(time.perf_counter() - started, 4),
                "timings": fit.detail.get("timings", {}),
            },
        )
        behind = project_store.get_project(session, project_id).revision > fit.revision
    if behind and changed_meanwhile is not None:
        changed_meanwhile(project_id)
    return True
