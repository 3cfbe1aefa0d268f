"""When refits run: debounced after changes, coalesced to one queued job per project.

A change queues the project's refit ``refit_debounce_seconds`` later; further changes
push it back (trailing debounce) but never more than ``MAX_DEBOUNCE_FACTOR`` times
the debounce after the first, so a steady stream of labels still gets refits.

Pushing back is a write to the job row, and every accepted ingest batch is a change:
under concurrent ingest into one project those writes would queue up on that one
row. So each process remembers the due time it last wrote, and skips the write when
the new due time would move it by less than ``PUSH_FRACTION`` of the debounce. The
refit then runs at most that much earlier than a strict trailing debounce would run
it; labels that arrive while it runs bump the project's revision, and the runner
queues a follow-up refit when the fit it published is older than the data.

A job left ``running`` by a process that died is failed (``abandoned``) when the
project's next refit is queued, once it has run longer than ``ABANDONED_AFTER_SECONDS``.
"""

from __future__ import annotations

import logging
import threading
import time

from qc_service.jobs import runner
from qc_service.service.context import Context
from qc_service.store import db
from qc_service.store import jobs as job_store
from qc_service.store.models import Job

log = logging.getLogger(__name__)

#: A queued refit waits at most this many debounce periods after the first change.
MAX_DEBOUNCE_FACTOR = 10
#: A change that would push the queued refit back by less than this share of the
#: debounce does not write.
PUSH_FRACTION = 0.25
#: A refit running longer than this is taken for abandoned by a dead process (a
#: million labels take seconds).
ABANDONED_AFTER_SECONDS = 15 * 60
#: The worker thread's longest wait between attempts while the database is away.
MAX_BACKOFF_SECONDS = 30.0


class Scheduler:
    """Queues refits as job rows and gets them run."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        #: project -> (due_at, latest_due_at) of the queued refit this process last wrote
        self._due: dict[str, tuple[float, float]] = {}

    def changed(self, project_id: str) -> None:
        """The project's data changed: refit after the debounce."""
        debounce = self.ctx.settings.refit_debounce_seconds
        now = time.time()
        remembered = self._due.get(project_id)
        if remembered is not None:
            due, latest = remembered
            wanted = min(now + debounce, latest)
            if due > now and wanted - due < PUSH_FRACTION * debounce:
                return  # queued already, and not worth a write to push back
        self._dispatch(self._queue(project_id, debounce))

    def run_now(self, project_id: str) -> Job:
        """Refit as soon as a worker is free; answers the (possibly shared) job."""
        job = self._queue(project_id, 0.0)
        self._dispatch(job)
        return job

    def _queue(self, project_id: str, delay: float) -> Job:
        now = time.time()
        debounce = self.ctx.settings.refit_debounce_seconds
        with db.session_scope(self.ctx.engine, write=True) as session:
            job, created = job_store.queue_job(
                session,
                project_id,
                {"due_at": now + delay, "latest_due_at": now + debounce * MAX_DEBOUNCE_FACTOR},
            )
            if created:
                job_store.fail_abandoned(session, project_id, ABANDONED_AFTER_SECONDS)
            else:
                due = job.detail["due_at"]
                due = now if delay == 0 else min(max(due, now + delay), job.detail["latest_due_at"])
                job_store.set_detail(session, job, due_at=due)
            self._due[project_id] = (job.detail["due_at"], job.detail["latest_due_at"])
        return job

    def start(self) -> None:
        """Begin running jobs already queued (by an earlier process, say)."""

    def stop(self) -> None:
        """Stop running jobs in this process (the app is going away)."""

    def _dispatch(self, job: Job) -> None:
        """Make sure a worker will run ``job`` when it is due."""
        raise NotImplementedError


class ThreadScheduler(Scheduler):
    """Runs refits in one daemon thread of this process.

    The thread polls the job table, so it also runs jobs queued by sibling
    processes (gunicorn workers sharing the database). It stops after
    ``idle_seconds`` without a queued job and starts again on the next change.
    """

    poll_seconds = 0.5
    idle_seconds = 5.0

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def _dispatch(self, job: Job) -> None:
        self.start()
        self._wake.set()

    def start(self) -> None:
        with self._lock:
            if self._stopped:
                return
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="qc-refit", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        """Let the thread finish the job it runs, then end; no thread starts again.

        Without this a discarded app's thread polls on for ``idle_seconds`` and may
        run jobs that belong to whoever uses the database next (tests do)."""
        with self._lock:
            self._stopped = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout=60)

    def _loop(self) -> None:
        idle_since = time.monotonic()
        backoff = 0.0
        while not self._stopped:
            self._wake.clear()
            try:
                wait = self._run_due_jobs()
                backoff = 0.0
            except Exception as error:  # the database is away: back off, idle, then stop
                if backoff == 0.0:  # once per outage, not once per attempt
                    log.warning("refit scheduler: cannot read the job table: %s", error)
                backoff = min(max(2 * backoff, self.poll_seconds), MAX_BACKOFF_SECONDS)
                if time.monotonic() - idle_since > self.idle_seconds:
                    with self._lock:
                        if not self._wake.is_set():
                            self._thread = None
                            return
                self._wake.wait(backoff)
                continue
            if wait is None:
                if time.monotonic() - idle_since > self.idle_seconds:
                    with self._lock:
                        if not self._wake.is_set():
                            self._thread = None
                            return
                wait = self.poll_seconds
            else:
                idle_since = time.monotonic()
            self._wake.wait(min(wait, self.poll_seconds))

    def _run_due_jobs(self) -> float | None:
        """Run every due job; answers seconds until the next one, None if none queued."""
        with db.session_scope(self.ctx.engine) as session:
            queued = [
                (job.id, job.detail.get("due_at", 0.0)) for job in job_store.queued_jobs(session)
            ]
        if not queued:
            return None
        now = time.time()
        for job_id, due_at in sorted(queued, key=lambda pair: pair[1]):
            if due_at <= now:
                runner.execute(self.ctx, job_id, self.changed)
        return 0.0 if any(due <= now for _, due in queued) else min(d for _, d in queued) - now


class CeleryScheduler(Scheduler):
    """Sends refits to Celery workers; the task waits out the debounce itself."""

    def __init__(self, ctx: Context) -> None:
        from qc_service.jobs.celery_app import app

        super().__init__(ctx)
        # The service's settings may differ from the environment the Celery app
        # module read at import (tests, embedding): they name the broker.
        app.conf.broker_url = ctx.settings.broker_url

    def _dispatch(self, job: Job) -> None:
        from qc_service.jobs.celery_app import refit

        countdown = max(0.0, job.detail["due_at"] - time.time())
        refit.apply_async((job.id,), countdown=countdown)


def make_scheduler(ctx: Context) -> Scheduler:
    if ctx.settings.broker_url:
        return CeleryScheduler(ctx)
    return ThreadScheduler(ctx)
