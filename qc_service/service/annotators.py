"""Annotator scores: reliability per annotator and attribute, from the current fit."""

from __future__ import annotations

import hashlib

from qc_service.errors import NotFound
from qc_service.schemas.results import (
    AnnotatorAttribute,
    AnnotatorDetail,
    AnnotatorScoreOut,
    AnnotatorsPage,
    AnnotatorsQuery,
)
from qc_service.service.context import Context
from qc_service.service.pagination import decode_cursor, encode_cursor
from qc_service.service.results import attribute_filter, attributes_of
from qc_service.store import db
from qc_service.store import fits as fit_store
from qc_service.store import results as result_store


def scores_etag(ctx: Context, project_id: str, query_string: bytes) -> str:
    """An entity tag (unquoted) for an annotators answer: scores change only with a new fit, so
    the current fit's id and the query name the answer."""
    with db.session_scope(ctx.engine) as session:
        attributes_of(session, project_id)
        fit = fit_store.current_fit(session, project_id)
    digest = hashlib.sha256(query_string).hexdigest()[:16]
    return f"fit-{fit.id if fit else 0}-{digest}"


def _score_out(row) -> dict:
    score = row.AnnotatorScore
    return {
        "annotator": row.annotator,
        "attribute": row.attribute,
        "n_labels": score.n_labels,
        "accuracy": score.accuracy,
        "accuracy_interval": (score.accuracy_low, score.accuracy_high),
        "gold_accuracy": score.gold_accuracy,
        "n_gold": score.n_gold,
        "agreement": score.agreement,
        "spammer_score": score.spammer_score,
        "status": score.status,
        "confused_pairs": score.confused_pairs,
        "fit": score.fit_id,
    }


def list_annotators(ctx: Context, project_id: str, query: AnnotatorsQuery) -> AnnotatorsPage:
    """Scores page by page. The cursor is an offset into the sorted list, valid while
    the fit stays the same (a refit re-ranks annotators anyway)."""
    position = decode_cursor(query.cursor, ("offset",))
    offset = int(position["offset"]) if position else 0
    with db.session_scope(ctx.engine) as session:
        attributes = attributes_of(session, project_id)
        rows = result_store.annotator_scores(
            session,
            project_id,
            attribute_id=attribute_filter(attributes, query.attribute),
            status=query.status,
            sort=query.sort,
            offset=offset,
            limit=query.limit + 1,
        )
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return AnnotatorsPage(
        annotators=[AnnotatorScoreOut(**_score_out(row)) for row in rows],
        next_cursor=encode_cursor({"offset": offset + len(rows)}) if more else None,
    )


def get_annotator(ctx: Context, project_id: str, annotator: str) -> AnnotatorDetail:
    with db.session_scope(ctx.engine) as session:
        attributes_of(session, project_id)
        annotator_id = result_store.annotator_id_of(session, project_id, annotator)
        if annotator_id is None:
            raise NotFound(f"annotator {annotator!r} has no labels in project {project_id!r}")
        rows = result_store.annotator_scores(session, project_id, annotator_id=annotator_id)
    if not rows:
        raise NotFound(f"annotator {annotator!r} has no scores yet: wait for the next fit")
    return AnnotatorDetail(
        annotator=annotator,
        attributes=[
            AnnotatorAttribute(**_score_out(row), confusion=row.AnnotatorScore.confusion)
            for row in rows
        ],
    )
