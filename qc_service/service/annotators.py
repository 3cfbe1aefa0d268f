"""Annotator scores: reliability per annotator and attribute, from the current fit."""

from __future__ import annotations

import hashlib

from qc_service.errors import NotFound
from qc_service.schemas.results import AnnotatorAttribute, AnnotatorDetail, AnnotatorsQuery
from qc_service.service.context import Context
from qc_service.service.pagination import decode_cursor, encode_cursor
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


def list_annotators(ctx: Context, project_id: str, query: AnnotatorsQuery) -> dict:
    """Scores page by page: the JSON form of ``AnnotatorsPage``. The cursor is an offset
    into the sorted list, valid while the fit stays the same (a refit re-ranks
    annotators anyway)."""
    position = decode_cursor(query.cursor, ("offset",))
    offset = int(position["offset"]) if position else 0
    attribute_id = read_filter(ctx, project_id, query.attribute)
    with db.read_scope(ctx.engine) as connection:
        rows = result_store.annotator_scores(
            connection,
            project_id,
            attribute_id=attribute_id,
            status=query.status,
            sort=query.sort,
            offset=offset,
            limit=query.limit + 1,
        )
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return {
        "annotators": [_score_out(row) for row in rows],
        "next_cursor": encode_cursor({"offset": offset + len(rows)}) if more else None,
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
