"""Job rows: queueing a refit at most once per project, and claiming it atomically."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from qc_service.store.models import Job, Project, utcnow


def get_job(session: Session, job_id: str) -> Job | None:
    return session.get(Job, job_id)


def queued_job(session: Session, project_id: str) -> Job | None:
    query = select(Job).where(Job.project_id == project_id, Job.state == "queued")
    return session.scalar(query)


def queue_job(session: Session, project_id: str, detail: dict) -> tuple[Job, bool]:
    """The project's queued refit, created with ``detail`` if there is none; answers
    (job, created).

    Two callers racing to create one meet on the ``uq_job_queued_fit`` index: the
    loser's insert fails inside a savepoint and it answers the winner's job.
    """
    job = queued_job(session, project_id)
    if job is not None:
        return job, False
    job = Job(id=str(uuid.uuid4()), project_id=project_id, kind="fit", state="queued")
    job.detail = dict(detail)
    try:
        with session.begin_nested():
            session.add(job)
        return job, True
    except IntegrityError:
        session.expunge(job)
        job = queued_job(session, project_id)
        if job is None:  # the winner's job started already: queue a new one behind it
            return queue_job(session, project_id, detail)
        return job, False


def set_detail(session: Session, job: Job, **values: object) -> None:
    job.detail = {**job.detail, **values}
    session.flush()


def queued_jobs(session: Session) -> list[Job]:
    """Every queued refit, any project (there is at most one per project)."""
    return list(session.scalars(select(Job).where(Job.state == "queued")))


def fail_abandoned(session: Session, project_id: str, after_seconds: float) -> int:
    """Fail the project's jobs still ``running`` that started ``after_seconds`` ago:
    their process died (a live one finishes or fails its job). Answers how many."""
    started_before = utcnow() - timedelta(seconds=after_seconds)
    statement = (
        update(Job)
        .where(
            Job.project_id == project_id,
            Job.state == "running",
            Job.started_at < started_before,
        )
        .values(state="failed", finished_at=utcnow(), error="abandoned: its worker stopped")
    )
    return session.execute(statement).rowcount


def claim(session: Session, job_id: str) -> bool:
    """Move a queued job to running; false if someone else took it first."""
    statement = (
        update(Job)
        .where(Job.id == job_id, Job.state == "queued")
        .values(state="running", started_at=utcnow())
    )
    return session.execute(statement).rowcount == 1


def finish(
    session: Session, job_id: str, state: str, detail: dict, error: str | None = None
) -> None:
    job = session.get(Job, job_id)
    job.state = state
    job.finished_at = utcnow()
    job.error = error
    job.detail = {**job.detail, **detail}


def lock_project(session: Session, project_id: str) -> None:
    """Serialise publishers of one project (PostgreSQL row lock; SQLite's write lock
    already serialises every writer)."""
    session.execute(select(Project.id).where(Project.id == project_id).with_for_update())
