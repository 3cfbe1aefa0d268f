"""Refits and their jobs."""

from __future__ import annotations

from flask import current_app

from qc_service.api.blueprint import api
from qc_service.api.routing import context, endpoint
from qc_service.schemas.results import JobOut
from qc_service.service import fits
from qc_service.service.auth import Principal


@endpoint(
    api,
    "POST",
    "/projects/<project>/fits",
    summary="Start a refit now",
    tag="fits",
    scope="ingest",
    response=JobOut,
    status=202,
)
def start_fit(project: str, principal: Principal):
    """Queue a refit of every attribute to run as soon as a worker is free. If one is
    queued already (changes schedule refits on their own), that job is answered."""
    job = fits.start_fit(context(), current_app.extensions["qc_scheduler"], project)
    return job, 202, {"Location": f"/api/v1/jobs/{job.id}"}


@endpoint(
    api, "GET", "/jobs/<job>", summary="Read a job", tag="fits", scope="read", response=JobOut
)
def get_job(job: str, principal: Principal):
    """A refit job: ``queued``, ``running``, ``done`` (``detail.fit`` is the fit it
    published) or ``failed`` (``error`` says why; the previous fit stays in service)."""
    found = fits.get_job(context(), job)
    principal.require(found.project, "read")
    return found
