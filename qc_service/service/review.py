"""The expert review queue: flagged items by priority, leases, verdicts.

Priority is the estimated probability that the published label is wrong: one minus
its confidence (for a multilabel attribute, one minus the probability that every tag
decision is right). For a conflict with a control answer it is the probability, by
the annotators' own evidence, that the control answer is wrong. So the queue puts
the items most likely to be wrong first, and an expert's hour fixes the most errors.
"""

from __future__ import annotations

from datetime import timedelta

from qc_service.errors import Conflict, FieldError, InvalidInput, NotFound
from qc_service.schemas.results import (
    ClaimIn,
    ClaimsOut,
    QueueEntry,
    QueueQuery,
    VerdictIn,
    VerdictOut,
)
from qc_service.service.context import Context
from qc_service.service.pagination import NUMBER, decode_cursor, encode_cursor
from qc_service.service.results import attribute_filter, attributes_of, read_filter, result_out
from qc_service.service.taxonomy import answer_of, check_answers
from qc_service.store import db
from qc_service.store import labels as label_store
from qc_service.store import projects as project_store
from qc_service.store import results as result_store
from qc_service.store.models import Verdict, utcnow

#: Rounds of (pick candidates, lease them) before a claim answers with fewer items
#: than asked: each round loses only the items a concurrent claimer took meanwhile.
_CLAIM_ROUNDS = 5


def _entry(row) -> dict:
    """A queue row as the fields of ``QueueEntry`` (``claim_expires_at`` a datetime,
    which the API's JSON encoder writes as pydantic would)."""
    return {
        **result_out(row),
        "claimed_by": row.claimed_by,
        "claim_expires_at": row.claim_expires_at,
    }


def queue_version(ctx: Context, project_id: str) -> tuple:
    """Names the state of the project's review queue: a page read at one version is the
    same page until the version changes."""
    with db.read_scope(ctx.engine) as connection:
        return result_store.queue_version(connection, project_id, utcnow())


def queue(ctx: Context, project_id: str, query: QueueQuery) -> dict:
    """A page of the queue: the JSON form of ``QueuePage``."""
    position = decode_cursor(query.cursor, {"priority": NUMBER, "id": int})
    attribute_id = read_filter(ctx, project_id, query.attribute)
    with db.read_scope(ctx.engine) as connection:
        rows = result_store.queue_page(
            connection,
            project_id,
            attribute_id=attribute_id,
            after=(position["priority"], position["id"]) if position else None,
            limit=query.limit + 1,
            now=utcnow(),
        )
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    cursor = encode_cursor({"priority": rows[-1].priority, "id": rows[-1].id}) if more else None
    return {"queue": [_entry(row) for row in rows], "next_cursor": cursor}


def claim(ctx: Context, project_id: str, request: ClaimIn) -> ClaimsOut:
    """Lease up to ``limit`` of the highest-priority unleased flagged items.

    Two reviewers claiming at once never get the same item: each lease is taken by one
    atomic conditional upsert, and on PostgreSQL the candidates are picked with
    ``FOR UPDATE SKIP LOCKED`` so concurrent claimers spread over different items.
    """
    now = utcnow()
    expires_at = now + timedelta(seconds=request.lease_seconds)
    leased: list[tuple[int, int]] = []
    with db.session_scope(ctx.engine, write=True) as session:
        attribute_id = attribute_filter(attributes_of(session, project_id), request.attribute)
        for _ in range(_CLAIM_ROUNDS):
            wanted = request.limit - len(leased)
            candidates = result_store.claim_candidates(
                session, project_id, attribute_id, now, wanted
            )
            for item_id, candidate_attribute in candidates:
                if result_store.take_lease(
                    session,
                    project_id,
                    item_id,
                    candidate_attribute,
                    request.reviewer,
                    now,
                    expires_at,
                ):
                    leased.append((item_id, candidate_attribute))
            if len(leased) >= request.limit or len(candidates) < wanted:
                break
    entries = []
    with db.session_scope(ctx.engine) as session:
        for item_id, leased_attribute in leased:
            for row in result_store.item_results(session, project_id, item_id):
                if row.attribute_id == leased_attribute:
                    entries.append(
                        QueueEntry(
                            **result_out(row),
                            claimed_by=request.reviewer,
                            claim_expires_at=expires_at,
                        )
                    )
    entries.sort(key=lambda entry: -entry.priority)
    return ClaimsOut(claims=entries)


def verdict(ctx: Context, project_id: str, item: str, request: VerdictIn) -> VerdictOut:
    """Record an expert's answer: it becomes gold (source ``verdict``), the item is
    ``reviewed`` at once, and the next fit learns from it."""
    now = utcnow()
    with db.session_scope(ctx.engine, write=True) as session:
        attributes = {a.name: a for a in attributes_of(session, project_id)}
        values, errors = check_answers(attributes, [(request.attribute, request.value)], "")
        if errors:
            pointers = {"/0/attribute": "/attribute", "/0/value": "/value"}
            errors = [FieldError(pointers.get(e.field, e.field), e.message) for e in errors]
            raise InvalidInput("the verdict does not fit the project's taxonomy", errors)
        attribute = attributes[request.attribute]
        item_id = result_store.item_id_of(session, project_id, item)
        if item_id is None:
            raise NotFound(f"item {item!r} does not exist in project {project_id!r}")
        lease = result_store.active_lease(session, project_id, item_id, attribute.id, now)
        if lease is not None and lease.reviewer != request.reviewer:
            raise Conflict(
                f"{lease.reviewer!r} holds the lease on this item until {lease.expires_at}"
            )
        label_store.upsert_gold(
            session,
            [
                {
                    "project_id": project_id,
                    "item_id": item_id,
                    "attribute_id": attribute.id,
                    "value": values[0],
                    "source": "verdict",
                    "created_at": now,
                }
            ],
        )
        result_store.record_verdict(
            session,
            Verdict(
                project_id=project_id,
                item_id=item_id,
                attribute_id=attribute.id,
                value=values[0],
                reviewer=request.reviewer,
                note=request.note,
                created_at=now,
            ),
        )
        project_store.bump_revision(session, project_id)
    ctx.changed(project_id)
    return VerdictOut(
        item=item,
        attribute=attribute.name,
        value=answer_of(attribute, values[0]),
        status="reviewed",
        reviewer=request.reviewer,
    )
