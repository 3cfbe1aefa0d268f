"""Storing labels and gold: all of a batch or none of it, each event once."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.exc import IntegrityError

from qc_service.errors import FieldError, InvalidInput, NotFound
from qc_service.schemas.labels import GoldIn, GoldResult, IngestResult
from qc_service.service.context import Context
from qc_service.service.live import touched_statuses
from qc_service.service.taxonomy import check_answers
from qc_service.store import db
from qc_service.store import labels as label_store
from qc_service.store import projects as project_store
from qc_service.store.models import Annotator, Attribute, Item, Project, utcnow

log = logging.getLogger(__name__)

#: Attempts at a batch whose insert lost a race with a concurrent batch carrying
#: the same event ids or keys; the retry sees the winner's rows and skips them.
_ATTEMPTS = 3


class LabelLike(Protocol):
    item: str
    annotator: str
    attribute: str
    value: object
    id: str | None
    created_at: object


def request_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _load_taxonomy(ctx: Context, project_id: str) -> tuple[Project, dict[str, Attribute]]:
    taxonomy = ctx.taxonomies.get_or_load(project_id, lambda: _read_taxonomy(ctx, project_id))
    if taxonomy is None:
        raise NotFound(f"project {project_id!r} does not exist")
    return taxonomy


def _read_taxonomy(ctx: Context, project_id: str) -> tuple[Project, dict[str, Attribute]] | None:
    with db.session_scope(ctx.engine) as session:
        project = project_store.get_project(session, project_id)
        if project is None:
            return None
        attributes = project_store.list_attributes(session, project_id)
    return project, {a.name: a for a in attributes}


def ingest_labels(
    ctx: Context,
    project_id: str,
    labels: Sequence[LabelLike],
    *,
    source: str = "api",
    idempotency_key: str | None = None,
    body_hash: str | None = None,
) -> tuple[IngestResult, bool]:
    """Store a batch of labels atomically; answer (result, replayed).

    ``replayed`` is true when ``idempotency_key`` was seen before with the same body:
    the stored answer is returned and nothing is written.
    """
    project, attributes = _load_taxonomy(ctx, project_id)
    values, errors = check_answers(
        attributes, [(label.attribute, label.value) for label in labels], "/labels"
    )
    if errors:
        raise InvalidInput(f"{len(errors)} label(s) do not fit the project's taxonomy", errors)

    for attempt in range(1, _ATTEMPTS + 1):
        try:
            with db.session_scope(ctx.engine, write=True) as session:
                if idempotency_key is not None:
                    replay = _replay(session, project_id, idempotency_key, body_hash)
                    if replay is not None:
                        return replay, True
                result = _store_batch(session, project, attributes, labels, values, source)
                if idempotency_key is not None:
                    label_store.save_idempotent_request(
                        session,
                        project_id,
                        idempotency_key,
                        body_hash or "",
                        200,
                        result.model_dump_json(),
                    )
            break
        except IntegrityError:
            if attempt == _ATTEMPTS:
                raise
            log.info("ingest into %s lost a race (attempt %d); retrying", project_id, attempt)
    if result.accepted:
        ctx.changed(project_id)
    return result, False


def _replay(session, project_id: str, key: str, body_hash: str | None) -> IngestResult | None:
    stored = label_store.find_idempotent_request(session, project_id, key)
    if stored is None:
        return None
    if stored.request_hash != (body_hash or ""):
        raise InvalidInput(
            "this Idempotency-Key was used before with a different body",
            [FieldError("/headers/Idempotency-Key", "use a new key for a different request")],
        )
    return IngestResult.model_validate_json(stored.body)


def _store_batch(
    session,
    project: Project,
    attributes: dict[str, Attribute],
    labels: Sequence[LabelLike],
    values: list[str],
    source: str,
) -> IngestResult:
    item_ids = label_store.ensure_keys(session, Item, project.id, (lb.item for lb in labels))
    annotator_ids = label_store.ensure_keys(
        session, Annotator, project.id, (lb.annotator for lb in labels)
    )
    received_at = utcnow()
    rows = []
    touched = []
    in_batch: set[str] = set()
    for label, value in zip(labels, values, strict=True):
        attribute = attributes[label.attribute]
        touched.append((item_ids[label.item], attribute.id))
        if label.id is not None:
            if label.id in in_batch:
                continue
            in_batch.add(label.id)
        rows.append(
            label_store.label_row(
                project.id,
                item_ids[label.item],
                annotator_ids[label.annotator],
                attribute.id,
                value,
                label.id,
                source,
                label.created_at,
                received_at,
            )
        )
    accepted = label_store.insert_new_labels(session, rows)
    if accepted:
        project_store.bump_revision(session, project.id)
    item_keys = {item_id: key for key, item_id in item_ids.items()}
    statuses = touched_statuses(
        session, project, {a.id: a for a in attributes.values()}, item_keys, touched
    )
    return IngestResult(accepted=accepted, duplicates=len(labels) - accepted, items=statuses)


def add_gold(
    ctx: Context, project_id: str, gold: Sequence[GoldIn], source: str = "control"
) -> GoldResult:
    """Store known answers; a newer answer for the same (item, attribute) replaces the old."""
    _, attributes = _load_taxonomy(ctx, project_id)
    values, errors = check_answers(attributes, [(g.attribute, g.value) for g in gold], "/gold")
    if errors:
        raise InvalidInput(f"{len(errors)} gold answer(s) do not fit the taxonomy", errors)
    with db.session_scope(ctx.engine, write=True) as session:
        item_ids = label_store.ensure_keys(session, Item, project_id, (g.item for g in gold))
        now = utcnow()
        rows = {
            (item_ids[g.item], attributes[g.attribute].id): {
                "project_id": project_id,
                "item_id": item_ids[g.item],
                "attribute_id": attributes[g.attribute].id,
                "value": value,
                "source": source,
                "created_at": now,
            }
            for g, value in zip(gold, values, strict=True)
        }
        label_store.upsert_gold(session, list(rows.values()))
        project_store.bump_revision(session, project_id)
    ctx.changed(project_id)
    return GoldResult(accepted=len(gold))
