"""Inter-annotator agreement per attribute, as the current fit summarised it."""

from __future__ import annotations

from qc_service.schemas.results import AgreementOut, AttributeAgreement
from qc_service.service.context import Context
from qc_service.service.results import attributes_of
from qc_service.store import db
from qc_service.store import fits as fit_store
from qc_service.store import results as result_store


def project_agreement(ctx: Context, project_id: str) -> AgreementOut:
    """Per attribute, from the current fit: alpha, the aggregate's estimated accuracy,
    the most confused value pairs; and the statuses as they are now (verdicts
    included)."""
    with db.session_scope(ctx.engine) as session:
        attributes = attributes_of(session, project_id)
        fit = fit_store.current_fit(session, project_id)
        counts = result_store.status_counts(session, project_id)
    if fit is None:
        return AgreementOut(fit=None, attributes=[])
    out = []
    for attribute in attributes:
        summary = fit.detail["attributes"].get(attribute.name)
        if summary is None:
            continue
        out.append(
            AttributeAgreement(
                attribute=attribute.name,
                alpha=summary["alpha"],
                estimated_accuracy=summary["estimated_accuracy"],
                statuses=counts.get(attribute.id, {}),
                confused_pairs=summary["confused_pairs"],
                n_items=summary["n_items"],
                n_labels=summary["n_labels"],
                n_annotators=summary["n_annotators"],
                method=summary["method"],
            )
        )
    return AgreementOut(fit=fit.id, attributes=out)
