"""Refit scheduling: cheap repeated changes, abandoned jobs, a quiet worker thread
while the database is away, and follow-up refits for data that arrived mid-fit."""

from __future__ import annotations

import itertools
import logging
import time
from datetime import timedelta

from qc_service.jobs import runner
from qc_service.jobs import scheduler as scheduler_module
from qc_service.jobs.scheduler import ThreadScheduler
from qc_service.service import fits
from qc_service.service.context import Context
from qc_service.store import db
from qc_service.store import jobs as job_store
from qc_service.store import projects as project_store
from qc_service.store.models import Job, utcnow
from tests.conftest import ADMIN, make_settings, project_spec


def queued(ctx, project_id: str) -> Job:
    with db.session_scope(ctx.engine) as session:
        return job_store.queued_job(session, project_id)


def test_repeated_changes_skip_writes_that_would_not_move_the_refit(app, client, monkeypatch):
    assert client.post("/api/v1/projects", json=project_spec(), headers=ADMIN).status_code == 201
    ctx, scheduler = app.extensions["qc"], app.extensions["qc_scheduler"]
    object.__setattr__(ctx.settings, "refit_debounce_seconds", 40.0)
    clock = [time.time()]
    monkeypatch.setattr(scheduler_module.time, "time", lambda: clock[0])
    writes = []
    original = job_store.set_detail
    monkeypatch.setattr(
        job_store, "set_detail", lambda *a, **k: (writes.append(k), original(*a, **k))
    )
    scheduler.changed("shirts")
    first = queued(ctx, "shirts").detail["due_at"]
    clock[0] += 5.0  # would push the refit back by 5 s: less than a quarter of 40
    scheduler.changed("shirts")
    assert writes == [] and queued(ctx, "shirts").detail["due_at"] == first
    clock[0] += 6.0  # 11 s now: worth a write
    scheduler.changed("shirts")
    assert queued(ctx, "shirts").detail["due_at"] == clock[0] + 40.0
    assert len(writes) == 1


def test_a_job_left_running_by_a_dead_process_fails_when_the_next_is_queued(app, client):
    assert client.post("/api/v1/projects", json=project_spec(), headers=ADMIN).status_code == 201
    ctx, scheduler = app.extensions["qc"], app.extensions["qc_scheduler"]
    started = utcnow() - timedelta(seconds=scheduler_module.ABANDONED_AFTER_SECONDS + 60)
    recent = utcnow()
    with db.session_scope(ctx.engine, write=True) as session:
        session.add(Job(id="dead", project_id="shirts", state="running", started_at=started))
        session.add(Job(id="alive", project_id="shirts", state="running", started_at=recent))
    scheduler.changed("shirts")
    with db.session_scope(ctx.engine) as session:
        dead, alive = job_store.get_job(session, "dead"), job_store.get_job(session, "alive")
        assert dead.state == "failed" and dead.error.startswith("abandoned")
        assert alive.state == "running"


def test_worker_thread_warns_once_per_outage_and_backs_off(tmp_path, caplog, monkeypatch):
    url = f"sqlite:///{tmp_path}/missing/db.sqlite"  # its folder does not exist
    ctx = Context(settings=make_settings(url), engine=db.make_engine(url))
    attempts = []
    scheduler = ThreadScheduler(ctx)
    original = scheduler._run_due_jobs

    def counted():
        attempts.append(time.monotonic())
        return original()

    monkeypatch.setattr(scheduler, "_run_due_jobs", counted)
    monkeypatch.setattr(ThreadScheduler, "idle_seconds", 2.0)
    with caplog.at_level(logging.WARNING, logger="qc_service.jobs.scheduler"):
        scheduler.start()
        scheduler._thread.join(timeout=10)
    assert not scheduler._thread or not scheduler._thread.is_alive()
    warnings = [r for r in caplog.records if "cannot read the job table" in r.message]
    assert len(warnings) == 1
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert len(attempts) <= 4 and gaps == sorted(gaps)  # 0.5, 1, 2 s: growing


def test_data_that_arrived_during_a_fit_gets_a_follow_up_refit(app, client, monkeypatch):
    assert client.post("/api/v1/projects", json=project_spec(), headers=ADMIN).status_code == 201
    labels = [{"item": "i", "annotator": "a", "attribute": "shade", "value": "white"}]
    client.post("/api/v1/projects/shirts/labels", json={"labels": labels}, headers=ADMIN)
    ctx = app.extensions["qc"]
    real = fits.compute_fit

    def with_a_write_meanwhile(*args, **kwargs):
        with db.session_scope(ctx.engine, write=True) as session:
            project_store.bump_revision(session, "shirts")
        return real(*args, **kwargs)

    monkeypatch.setattr(fits, "compute_fit", with_a_write_meanwhile)
    with db.session_scope(ctx.engine) as session:
        job = job_store.queued_job(session, "shirts")  # queued by the ingest, not yet due
    follow_ups: list[str] = []
    assert runner.execute(ctx, job.id, follow_ups.append)
    assert follow_ups == ["shirts"]
    follow_ups.clear()
    monkeypatch.setattr(fits, "compute_fit", real)
    with db.session_scope(ctx.engine, write=True) as session:
        again, _ = job_store.queue_job(session, "shirts", {"due_at": time.time() + 3600})
    assert runner.execute(ctx, again.id, follow_ups.append)
    assert follow_ups == []  # nothing changed during that one
