"""Annotator scores."""

from __future__ import annotations

from flask import Response, request

from qc_service.api.blueprint import api
from qc_service.api.routing import cached_json, context, endpoint
from qc_service.schemas.results import AnnotatorDetail, AnnotatorsPage, AnnotatorsQuery
from qc_service.service import annotators
from qc_service.service.auth import Principal


@endpoint(
    api,
    "GET",
    "/projects/<project>/annotators",
    summary="List annotator scores",
    tag="annotators",
    scope="read",
    query=AnnotatorsQuery,
    response=AnnotatorsPage,
    headers={"If-None-Match": "The ETag of an earlier answer: 304 while no new fit exists."},
)
def list_annotators(project: str, principal: Principal, query: AnnotatorsQuery):
    """Per annotator and attribute: ``n_labels``, ``accuracy`` with its 95 % credible
    interval, ``gold_accuracy``, ``agreement`` with the aggregate, ``spammer_score``,
    ``status`` (``ok``, ``probation``, ``suspected_spammer``) and the most confused
    value pairs. Sort with ``sort`` (by annotator id, or by a score; ``-`` highest
    first; ties by annotator id, then attribute); filter by ``attribute``, ``status``
    and ``annotator_prefix`` (ids starting with it, case-sensitive). Page with
    ``limit`` and ``cursor``: a cursor resumes after the last row shown and holds only
    for the sort and filters it was made with (422 otherwise). Answers carry an
    ``ETag``; polling with ``If-None-Match`` costs a 304 until the next fit."""
    ctx = context()
    etag = annotators.scores_etag(ctx, project, request.query_string)
    headers = {"ETag": f'"{etag}"', "Cache-Control": "no-cache"}
    if request.if_none_match.contains_weak(etag):
        return Response(status=304, headers=headers)
    return cached_json(
        ("annotators", project, etag),
        lambda: annotators.list_annotators(ctx, project, query),
        headers,
    )


@endpoint(
    api,
    "GET",
    "/projects/<project>/annotators/<path:annotator>",
    summary="Read one annotator's scores",
    tag="annotators",
    scope="read",
    response=AnnotatorDetail,
)
def get_annotator(project: str, annotator: str, principal: Principal):
    """The annotator's scores on every attribute, with soft confusion matrices."""
    return annotators.get_annotator(context(), project, annotator)
