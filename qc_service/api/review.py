"""The expert review queue."""

from __future__ import annotations

from qc_service.api.blueprint import api
from qc_service.api.routing import cached_json, context, endpoint
from qc_service.schemas.results import (
    ClaimIn,
    ClaimsOut,
    QueuePage,
    QueueQuery,
    VerdictIn,
    VerdictOut,
)
from qc_service.service import review
from qc_service.service.auth import Principal


@endpoint(
    api,
    "GET",
    "/projects/<project>/review/queue",
    summary="Read the review queue",
    tag="review",
    scope="review",
    query=QueueQuery,
    response=QueuePage,
)
def review_queue(project: str, principal: Principal, query: QueueQuery):
    """Flagged items, most likely wrong first: ``priority`` is the estimated
    probability that the published label is wrong (for a conflict with a control
    answer, that the control answer is wrong). Each entry says why it is flagged and
    who holds a lease on it."""
    ctx = context()
    key = ("queue", project, review.queue_version(ctx, project), query.model_dump_json())
    return cached_json(key, lambda: review.queue(ctx, project, query))


@endpoint(
    api,
    "POST",
    "/projects/<project>/review/claim",
    summary="Lease queue items to a reviewer",
    tag="review",
    scope="review",
    body=ClaimIn,
    response=ClaimsOut,
)
def claim(project: str, principal: Principal, body: ClaimIn):
    """Lease up to ``limit`` of the highest-priority unleased items to ``reviewer`` for
    ``lease_seconds``. Concurrent claims never lease the same item twice."""
    return review.claim(context(), project, body)


@endpoint(
    api,
    "POST",
    "/projects/<project>/review/<path:item>/verdict",
    summary="Record a verdict",
    tag="review",
    scope="review",
    body=VerdictIn,
    response=VerdictOut,
)
def verdict(project: str, item: str, principal: Principal, body: VerdictIn):
    """The expert's answer for one attribute of the item. It becomes gold (the next fit
    learns from it) and the item is ``reviewed`` at once. 409 if another reviewer holds
    the lease."""
    return review.verdict(context(), project, item, body)
