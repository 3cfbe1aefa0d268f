"""JSON for the dashboard's scripts, authenticated by the session cookie.

Each route is as thin as its API twin: authorise with the session's principal,
validate with the API's own models, call the same service function. Errors are
the API's problem documents.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import current_app, request
from pydantic import BaseModel
from werkzeug.wrappers import Response

from qc_service.api.routing import parse_json_body, render, validate
from qc_service.schemas.results import AnnotatorsQuery, ClaimIn, QueueQuery, VerdictIn
from qc_service.service import agreement, annotators, dashboard, fits, projects, results, review
from qc_service.web.blueprint import web
from qc_service.web.session import allows, context, current_principal, reviewer_name


def data(
    rule: str, scope: str, methods: tuple[str, ...] = ("GET",), *, or_scope: str | None = None
) -> Callable:
    """A JSON route of one project, for a principal with ``scope`` (or ``or_scope``)
    on it."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def handle(project: str, **kwargs: str) -> Response:
            principal = current_principal()
            if or_scope is None or not allows(principal, project, or_scope):
                principal.require(project, scope)
            return render(view(project=project, **kwargs), 200)

        web.add_url_rule(
            "/data/p/<project>" + rule, endpoint=view.__name__, view_func=handle, methods=methods
        )
        return handle

    return decorate


@data("/overview", "read")
def overview_data(project: str) -> dict:
    ctx = context()
    return {
        "project": projects.get_project(ctx, project).model_dump(mode="json"),
        "agreement": agreement.project_agreement(ctx, project).model_dump(mode="json"),
        "fit": dashboard.fit_overview(ctx, project),
    }


@data("/annotators", "read")
def annotators_data(project: str) -> BaseModel:
    query = validate(AnnotatorsQuery, request.args.to_dict(), "/query")
    return annotators.list_annotators(context(), project, query)


@data("/annotators/<path:annotator>", "read")
def annotator_data(project: str, annotator: str) -> BaseModel:
    return annotators.get_annotator(context(), project, annotator)


@data("/attributes/<attribute>", "read")
def attribute_data(project: str, attribute: str) -> dict:
    return dashboard.attribute_view(context(), project, attribute)


# A reviewer must see the labels behind the item they judge, even without ``read``.
@data("/items/<path:item>", "read", or_scope="review")
def item_data(project: str, item: str) -> BaseModel:
    return results.item_results(context(), project, item)


@data("/review/queue", "review")
def queue_data(project: str) -> BaseModel:
    return review.queue(context(), project, validate(QueueQuery, request.args.to_dict(), "/query"))


@data("/review/claim", "review", methods=("POST",))
def claim_data(project: str) -> BaseModel:
    """The signed-in reviewer claims a batch; their name comes from the session."""
    body = parse_json_body()
    if isinstance(body, dict):
        body = {**body, "reviewer": reviewer_name()}
    return review.claim(context(), project, validate(ClaimIn, body))


@data("/review/<path:item>/verdict", "review", methods=("POST",))
def verdict_data(project: str, item: str) -> BaseModel:
    body = parse_json_body()
    if isinstance(body, dict):
        body = {**body, "reviewer": reviewer_name()}
    return review.verdict(context(), project, item, validate(VerdictIn, body))


@data("/fits", "ingest", methods=("POST",))
def fit_data(project: str) -> BaseModel:
    return fits.start_fit(context(), current_app.extensions["qc_scheduler"], project)


@web.get("/data/jobs/<job>")
def job_data(job: str) -> Response:
    principal = current_principal()
    found = fits.get_job(context(), job)
    principal.require(found.project, "read")
    return Response(found.model_dump_json(), mimetype="application/json")
