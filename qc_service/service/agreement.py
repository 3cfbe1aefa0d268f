"""Inter-annotator agreement: Krippendorff's alpha and the per-attribute summary."""

from __future__ import annotations

import numpy as np

from qc_service.engine.base import soft_mv
from qc_service.engine.encoding import LabelArrays
from qc_service.schemas.results import AgreementOut, AttributeAgreement
from qc_service.service.context import Context
from qc_service.service.results import attributes_of
from qc_service.store import db
from qc_service.store import fits as fit_store
from qc_service.store import results as result_store


def nominal_alpha(labels: LabelArrays) -> float | None:
    """Krippendorff's alpha for nominal data; None when fewer than two items have two
    labels or every label is the same value (alpha is undefined then).

    From the coincidence matrix ``o[c, k] = sum_u n_uc (n_uk - [c == k]) / (m_u - 1)``
    over items ``u`` with ``m_u >= 2`` labels: alpha = 1 - (n - 1) D_o / D_e.
    """
    counts = soft_mv(labels)
    per_item = counts.sum(axis=1)
    pairable = per_item >= 2
    if pairable.sum() < 2:
        return None
    counts, per_item = counts[pairable], per_item[pairable]
    weight = 1.0 / (per_item - 1.0)
    coincidence = (counts * weight[:, None]).T @ counts
    coincidence -= np.diag((counts * weight[:, None]).sum(axis=0))
    marginals = coincidence.sum(axis=1)
    n = marginals.sum()
    expected = n * n - (marginals**2).sum()
    if expected <= 0:
        return None
    observed = n - np.trace(coincidence)
    return float(1.0 - (n - 1.0) * observed / expected)


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
