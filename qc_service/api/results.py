"""Aggregated results per item and attribute."""

from __future__ import annotations

from qc_service.api.blueprint import api
from qc_service.api.routing import cached_json, context, endpoint
from qc_service.schemas.results import ItemResults, ResultsPage, ResultsQuery
from qc_service.service import results
from qc_service.service.auth import Principal


@endpoint(
    api,
    "GET",
    "/projects/<project>/results",
    summary="List results",
    tag="results",
    scope="read",
    query=ResultsQuery,
    response=ResultsPage,
)
def list_results(project: str, principal: Principal, query: ResultsQuery):
    """Each item and attribute the current fit covers: ``label``, ``confidence``,
    ``distribution``, ``n_labels``, ``status``, ``flags`` and the ``fit`` version.
    Filter by ``attribute`` and ``status``; page with ``limit`` and ``cursor``."""
    ctx = context()
    key = ("results", project, results.results_version(ctx, project), query.model_dump_json())
    return cached_json(key, lambda: results.list_results(ctx, project, query))


@endpoint(
    api,
    "GET",
    "/projects/<project>/results/<path:item>",
    summary="Read one item's results",
    tag="results",
    scope="read",
    response=ItemResults,
)
def item_results(project: str, item: str, principal: Principal):
    """Every attribute of one item with its result, gold answer if any, and the labels
    behind it with each annotator's estimated accuracy and status."""
    return results.item_results(context(), project, item)
