"""Annotator scores: reliability per annotator and attribute, from the current fit."""

from __future__ import annotations

import hashlib
import json

from qc_service.errors import NotFound
from qc_service.schemas.results import AnnotatorAttribute, AnnotatorDetail, AnnotatorsQuery
from qc_service.service.context import Context
from qc_service.service.pagination import (
    NUMBER,
    bad_cursor,
    decode_cursor,
    encode_cursor,
    is_a,
)
from qc_service.service.results import attributes_of, read_filter
from qc_service.service.taxonomy import load_taxonomy
from qc_service.store import db
from qc_service.store import results as result_store


def scores_etag(ctx: Context, project_id: str, query_string: bytes) -> str:
    """An entity tag (unquoted) for an annotators answer: scores change only with a new fit, so
    the current fit's id and the query name the answer."""
    load_taxonomy(ctx, project_id)
    with db.read_scope(ctx.engine) as connection:
        fit_id = result_store.current_fit_id(connection, project_id)
    digest = hashlib.sha256(query_string).hexdigest()[:16]
    return f"fit-{fit_id or 0}-{digest}"


def _score_out(row) -> dict:
    """A score row as the fields of ``AnnotatorScoreOut``, in their JSON form."""
    return {
        "annotator": row.annotator,
        "attribute": row.attribute,
        "n_labels": row.n_labels,
        "accuracy": row.accuracy,
        "accuracy_interval": [row.accuracy_low, row.accuracy_high],
        "gold_accuracy": row.gold_accuracy,
        "n_gold": row.n_gold,
        "agreement": row.agreement,
        "spammer_score": row.spammer_score,
        "status": row.status,
        "confused_pairs": row.confused_pairs,
        "fit": row.fit_id,
    }


def _cursor_scope(query: AnnotatorsQuery) -> dict:
    """What a cursor is valid for: its sort and (as a short digest) its filters."""
    filters = json.dumps([query.attribute, query.status, query.annotator_prefix])
    return {"sort": query.sort, "filter": hashlib.sha256(filters.encode()).hexdigest()[:12]}


def _position(row, sort: str) -> list:
    """Where a row stands in ``sort``: what ``annotator_scores`` resumes after."""
    field, _ = result_store.SCORE_SORTS[sort]
    value = [] if field is None else [getattr(row, field)]
    return [*value, row.annotator_id, row.attribute_position]


def _resume_after(query: AnnotatorsQuery) -> tuple | None:
    """The position the query's cursor resumes after; 422 naming the cursor if it is
    not one of ours, or was made for another sort or other filters."""
    cursor = decode_cursor(query.cursor, {"sort": str, "filter": str, "after": list})
    if cursor is None:
        return None
    if {"sort": cursor["sort"], "filter": cursor["filter"]} != _cursor_scope(query):
        raise bad_cursor(
            "the cursor belongs to another sort or other filters: keep them, or start again"
            " without a cursor"
        )
    after = cursor["after"]
    field, _ = result_store.SCORE_SORTS[query.sort]
    if not (
        len(after) == (2 if field is None else 3)
        and all(is_a(value, NUMBER) for value in after)
        and all(is_a(key, int) for key in after[-2:])
    ):
        raise bad_cursor()
    return tuple(after)


def list_annotators(ctx: Context, project_id: str, query: AnnotatorsQuery) -> dict:
    """Scores page by page: the JSON form of ``AnnotatorsPage``. Keyset pagination: a
    cursor names the last row shown, so a page costs the same however deep it is."""
    after = _resume_after(query)
    attribute_id = read_filter(ctx, project_id, query.attribute)
    with db.read_scope(ctx.engine) as connection:
        rows = result_store.annotator_scores(
            connection,
            project_id,
            attribute_id=attribute_id,
            status=query.status,
            annotator_prefix=query.annotator_prefix,
            sort=query.sort,
            after=after,
            limit=query.limit + 1,
        )
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    cursor = {**_cursor_scope(query), "after": _position(rows[-1], query.sort)} if more else None
    return {
        "annotators": [_score_out(row) for row in rows],
        "next_cursor": encode_cursor(cursor) if cursor else None,
    }


def get_annotator(ctx: Context, project_id: str, annotator: str) -> AnnotatorDetail:
    with db.session_scope(ctx.engine) as session:
        attributes_of(session, project_id)
        annotator_id = result_store.annotator_id_of(session, project_id, annotator)
        if annotator_id is None:
            raise NotFound(f"annotator {annotator!r} has no labels in project {project_id!r}")
        rows = result_store.annotator_scores(
            session, project_id, annotator_id=annotator_id, with_confusion=True
        )
    if not rows:
        raise NotFound(f"annotator {annotator!r} has no scores yet: wait for the next fit")
    return AnnotatorDetail(
        annotator=annotator,
        attributes=[AnnotatorAttribute(**_score_out(row), confusion=row.confusion) for row in rows],
    )
