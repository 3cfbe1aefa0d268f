"""Agreement and export."""

from __future__ import annotations

from flask import Response, stream_with_context

from qc_service.api.blueprint import api
from qc_service.api.routing import context, endpoint
from qc_service.schemas.results import AgreementOut, ExportQuery
from qc_service.service import agreement, export
from qc_service.service.auth import Principal


@endpoint(
    api,
    "GET",
    "/projects/<project>/agreement",
    summary="Agreement per attribute",
    tag="results",
    scope="read",
    response=AgreementOut,
)
def project_agreement(project: str, principal: Principal):
    """Per attribute: Krippendorff's alpha, the estimated accuracy of the aggregate,
    how many items are in each status, and the most confused value pairs."""
    return agreement.project_agreement(context(), project)


@endpoint(
    api,
    "GET",
    "/projects/<project>/export",
    summary="Export aggregated labels",
    tag="results",
    scope="read",
    query=ExportQuery,
)
def export_results(project: str, principal: Principal, query: ExportQuery):
    """One row per item and attribute (``csv``, ``jsonl`` or ``parquet``), streamed."""
    ctx = context()
    attribute_id = export.check_export(ctx, project, query)
    body = export.stream_export(ctx, project, query, attribute_id)
    filename = f"{project}-results.{query.format}"
    return Response(
        stream_with_context(body),
        mimetype=export.MEDIA_TYPES[query.format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
