"""Storing labels, gold and retractions: all of a batch or none of it, each event once.

Every way in (``POST /labels``, ``POST /gold``, platform webhooks, the ``import``
command) goes through :func:`_ingest`, so they share one transaction discipline,
one taxonomy check and one duplicate rule.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from qc_service.errors import FieldError, InvalidInput
from qc_service.events import EventBatch, Retraction
from qc_service.schemas.labels import EventIngestResult, GoldIn, GoldResult, IngestResult
from qc_service.service.context import Context, KeyIds
from qc_service.service.live import touched_statuses
from qc_service.service.taxonomy import check_answers, load_taxonomy
from qc_service.store import db
from qc_service.store import labels as label_store
from qc_service.store import projects as project_store
from qc_service.store.models import Annotator, Attribute, Item, Project, utcnow

log = logging.getLogger(__name__)

#: Attempts at a batch whose insert lost a race with a concurrent batch carrying
#: the same event ids or keys; the retry sees the winner's rows and skips them.
_ATTEMPTS = 3


class LabelLike(Protocol):
    """A label as posted (``LabelIn``) or parsed from a platform (``LabelEvent``)."""

    item: str
    annotator: str
    attribute: str
    value: object
    id: str | None
    created_at: object


class GoldLike(Protocol):
    item: str
    attribute: str
    value: object


class Remembered(Protocol):
    """Where a request that must take effect once (an ``Idempotency-Key``, a webhook
    delivery id) keeps its answer. Both methods run inside the batch's transaction."""

    def find(self, session: Session) -> str | None:
        """The stored answer (JSON) of an earlier delivery; raises if it conflicts."""
        ...

    def save(self, session: Session, answer: str) -> None: ...


Result = TypeVar("Result", bound=IngestResult)


def request_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


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
    remembered = (
        None
        if idempotency_key is None
        else IdempotencyKey(project_id, idempotency_key, body_hash or "")
    )
    return _ingest(
        ctx, project_id, IngestResult, labels=labels, source=source, remembered=remembered
    )


def ingest_events(
    ctx: Context,
    project_id: str,
    batch: EventBatch,
    *,
    source: str,
    remembered: Remembered | None = None,
    report_items: bool = True,
) -> tuple[EventIngestResult, bool]:
    """Store a platform's event batch in one transaction; answer (result, replayed).

    Retractions are applied first, then labels, then gold, so one batch can withdraw
    an annotation and carry its new version (Label Studio's ``ANNOTATION_UPDATED``).
    ``report_items=False`` leaves ``items`` empty: bulk imports do not need the
    status of every touched item, and computing it would cost a query per batch.
    """
    return _ingest(
        ctx,
        project_id,
        EventIngestResult,
        labels=batch.labels,
        gold=batch.gold,
        retractions=batch.retractions,
        skipped=batch.skipped,
        source=source,
        remembered=remembered,
        report_items=report_items,
    )


def add_gold(
    ctx: Context, project_id: str, gold: Sequence[GoldIn], source: str = "control"
) -> GoldResult:
    """Store known answers; a newer answer for the same (item, attribute) replaces the old."""
    result, _ = _ingest(
        ctx, project_id, EventIngestResult, gold=gold, gold_source=source, report_items=False
    )
    return GoldResult(accepted=result.gold)


class IdempotencyKey:
    """A client's ``Idempotency-Key``: the same key and body answer the first answer."""

    def __init__(self, project_id: str, key: str, body_hash: str) -> None:
        self.project_id = project_id
        self.key = key
        self.body_hash = body_hash

    def find(self, session: Session) -> str | None:
        stored = label_store.find_idempotent_request(session, self.project_id, self.key)
        if stored is None:
            return None
        if stored.request_hash != self.body_hash:
            raise InvalidInput(
                "this Idempotency-Key was used before with a different body",
                [FieldError("/headers/Idempotency-Key", "use a new key for a different request")],
            )
        return stored.body

    def save(self, session: Session, answer: str) -> None:
        label_store.save_idempotent_request(
            session, self.project_id, self.key, self.body_hash, 200, answer
        )


def _ingest(
    ctx: Context,
    project_id: str,
    result_type: type[Result],
    *,
    labels: Sequence[LabelLike] = (),
    gold: Sequence[GoldLike] = (),
    retractions: Sequence[Retraction] = (),
    skipped: dict[str, int] | None = None,
    source: str = "api",
    gold_source: str = "control",
    remembered: Remembered | None = None,
    report_items: bool = True,
) -> tuple[Result, bool]:
    """The one write path: check every answer against the taxonomy, then store the
    whole batch in one transaction, or nothing. Answers (result, replayed)."""
    project, attributes = load_taxonomy(ctx, project_id)
    label_values, label_errors = check_answers(
        attributes, [(label.attribute, label.value) for label in labels], "/labels"
    )
    gold_values, gold_errors = check_answers(
        attributes, [(answer.attribute, answer.value) for answer in gold], "/gold"
    )
    errors = label_errors + gold_errors
    if errors:
        raise InvalidInput(f"{len(errors)} answer(s) do not fit the project's taxonomy", errors)

    for attempt in range(1, _ATTEMPTS + 1):
        try:
            keys = _KeyIds(ctx.key_ids, project.id)
            with db.session_scope(ctx.engine, write=True) as session:
                if remembered is not None:
                    stored = remembered.find(session)
                    if stored is not None:
                        return result_type.model_validate_json(stored), True
                counts = _store_batch(
                    session,
                    keys,
                    project,
                    attributes,
                    _Answers(labels, label_values, gold, gold_values, retractions),
                    source,
                    gold_source,
                    report_items,
                )
                result = result_type.model_validate({**counts, "skipped": skipped or {}})
                if remembered is not None:
                    remembered.save(session, result.model_dump_json())
            keys.committed()
            break
        except IntegrityError:
            if attempt == _ATTEMPTS:
                raise
            log.info("ingest into %s lost a race (attempt %d); retrying", project_id, attempt)
    if counts["accepted"] or counts["gold"] or counts["retracted"]:
        ctx.changed(project_id)
    return result, False


@dataclass(frozen=True)
class _Answers:
    """A checked batch: each label and gold answer with its stored value."""

    labels: Sequence[LabelLike]
    label_values: list[str]
    gold: Sequence[GoldLike]
    gold_values: list[str]
    retractions: Sequence[Retraction]


class _KeyIds:
    """Item and annotator ids for one attempt at a batch: the ids this process
    remembers, and the database for the others, which are remembered once the batch
    has committed (a rollback takes back the rows it created)."""

    def __init__(self, cache: KeyIds, project_id: str) -> None:
        self.cache = cache
        self.project_id = project_id
        self.fetched: list[tuple[str, dict[str, int]]] = []

    def ensure(
        self, session: Session, model: type[Item] | type[Annotator], keys: Iterable[str]
    ) -> dict[str, int]:
        wanted = set(keys)
        table = model.__tablename__
        ids = self.cache.known(table, self.project_id, wanted)
        if len(ids) < len(wanted):
            fetched = label_store.ensure_keys(
                session, model, self.project_id, wanted.difference(ids)
            )
            self.fetched.append((table, fetched))
            ids.update(fetched)
        return ids

    def committed(self) -> None:
        for table, ids in self.fetched:
            self.cache.remember(table, self.project_id, ids)


def _store_batch(
    session: Session,
    keys: _KeyIds,
    project: Project,
    attributes: dict[str, Attribute],
    batch: _Answers,
    source: str,
    gold_source: str,
    report_items: bool,
) -> dict:
    touched: list[tuple[int, int]] = []
    retracted: list[tuple[int, int]] = []
    if batch.retractions:
        retracted = label_store.retract_labels(
            session,
            project.id,
            (retraction.label_id for retraction in batch.retractions),
            keep=(label.id for label in batch.labels if label.id is not None),
        )
        touched.extend(retracted)
    item_ids = keys.ensure(
        session,
        Item,
        [label.item for label in batch.labels] + [answer.item for answer in batch.gold],
    )
    attribute_ids = {name: attribute.id for name, attribute in attributes.items()}
    accepted = _store_labels(session, keys, project.id, attribute_ids, batch, item_ids, source)
    if report_items:
        touched.extend(
            (item_ids[label.item], attribute_ids[label.attribute]) for label in batch.labels
        )
    if batch.gold:
        touched.extend(_store_gold(session, project.id, attributes, batch, item_ids, gold_source))
    if accepted or batch.gold or retracted:
        project_store.bump_revision(session, project.id)
    statuses = []
    if report_items and touched:
        item_keys = {item_id: key for key, item_id in item_ids.items()}
        # Items touched only by a retraction are not in the batch: look their keys up.
        item_keys.update(
            label_store.item_keys(
                session, project.id, {item for item, _ in touched if item not in item_keys}
            )
        )
        statuses = touched_statuses(
            session, project, {a.id: a for a in attributes.values()}, item_keys, touched
        )
    return {
        "accepted": accepted,
        "duplicates": len(batch.labels) - accepted,
        "items": statuses,
        "gold": len(batch.gold),
        "retracted": len(retracted),
    }


def _store_labels(
    session: Session,
    keys: _KeyIds,
    project_id: str,
    attribute_ids: dict[str, int],
    batch: _Answers,
    item_ids: dict[str, int],
    source: str,
) -> int:
    if not batch.labels:
        return 0
    annotator_ids = keys.ensure(session, Annotator, (label.annotator for label in batch.labels))
    rows = []
    in_batch: set[str] = set()
    for label, value in zip(batch.labels, batch.label_values, strict=True):
        if label.id is not None:
            if label.id in in_batch:
                continue
            in_batch.add(label.id)
        rows.append(
            label_store.NewLabel(
                item_ids[label.item],
                annotator_ids[label.annotator],
                attribute_ids[label.attribute],
                value,
                label.id,
                label.created_at,
            )
        )
    return label_store.insert_new_labels(session, project_id, source, rows, utcnow())


def _store_gold(
    session: Session,
    project_id: str,
    attributes: dict[str, Attribute],
    batch: _Answers,
    item_ids: dict[str, int],
    source: str,
) -> list[tuple[int, int]]:
    now = utcnow()
    # The last answer for an (item, attribute) in the batch wins, as a later batch would.
    rows = {
        (item_ids[answer.item], attributes[answer.attribute].id): {
            "project_id": project_id,
            "item_id": item_ids[answer.item],
            "attribute_id": attributes[answer.attribute].id,
            "value": value,
            "source": source,
            "created_at": now,
        }
        for answer, value in zip(batch.gold, batch.gold_values, strict=True)
    }
    label_store.upsert_gold(session, list(rows.values()))
    return list(rows)
