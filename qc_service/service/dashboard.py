"""What the dashboard shows beyond the public API: how a fit went (convergence,
timings), each attribute's value confusion across the project, and a reliability
diagram of confidence against accuracy on gold. All of it is computed once per fit
(``calibration``, called by ``fits``) and read back from the fit's summary here.
"""

from __future__ import annotations

import numpy as np

from qc_service.errors import NotFound
from qc_service.service.context import Context
from qc_service.service.modeling import AttributeFit
from qc_service.service.results import attributes_of
from qc_service.store import db
from qc_service.store import fits as fit_store
from qc_service.store import projects as project_store
from qc_service.store import results as result_store

#: Equal-width confidence bins of the reliability diagram, from 1/k (chance) up to 1.
CALIBRATION_BINS = 10


def calibration(fit: AttributeFit) -> list[dict]:
    """Reliability diagram bins over the gold items that have labels.

    The confidence is the posterior *without* gold (what the annotators alone say):
    with gold the model is certain of the gold items by construction, and the diagram
    would only show that. Multilabel attributes pool their tag decisions.
    """
    confidence: list[np.ndarray] = []
    correct: list[np.ndarray] = []
    for problem in fit.problems:
        known = np.flatnonzero((problem.gold >= 0) & (fit.labels_per_item > 0))
        crowd = problem.unclamped[known]
        confidence.append(crowd.max(axis=1))
        correct.append(crowd.argmax(axis=1) == problem.gold[known])
    confidences, hits = np.concatenate(confidence), np.concatenate(correct)
    if len(confidences) == 0:
        return []
    edges = np.linspace(0.0, 1.0, CALIBRATION_BINS + 1)
    which = np.clip(np.searchsorted(edges, confidences, side="right") - 1, 0, CALIBRATION_BINS - 1)
    bins = []
    for index in range(CALIBRATION_BINS):
        inside = which == index
        if inside.any():
            bins.append(
                {
                    "low": float(edges[index]),
                    "high": float(edges[index + 1]),
                    "n": int(inside.sum()),
                    "confidence": round(float(confidences[inside].mean()), 4),
                    "accuracy": round(float(hits[inside].mean()), 4),
                }
            )
    return bins


def fit_overview(ctx: Context, project_id: str) -> dict | None:
    """The current fit: when, how long, and per attribute the method and whether every
    one of its problems converged. None before the first fit."""
    with db.session_scope(ctx.engine) as session:
        attributes_of(session, project_id)
        fit = fit_store.current_fit(session, project_id)
    if fit is None:
        return None
    timings = fit.detail.get("timings", {})
    return {
        "id": fit.id,
        "created_at": fit.created_at.isoformat(),
        "method": fit.method,
        "seconds": round(sum(timings.values()), 3) if timings else None,
        "attributes": {
            name: {
                "method": summary["method"],
                "converged": all(p["converged"] for p in summary["problems"].values()),
                "iterations": max((p["n_iter"] for p in summary["problems"].values()), default=0),
            }
            for name, summary in fit.detail.get("attributes", {}).items()
        },
    }


def attribute_view(ctx: Context, project_id: str, attribute: str) -> dict:
    """One attribute across the project: status counts, soft confusion between its
    values (summed over annotators, [true][given]) and the reliability diagram."""
    with db.session_scope(ctx.engine) as session:
        attributes = {a.name: a for a in attributes_of(session, project_id)}
        if attribute not in attributes:
            raise NotFound(f"project {project_id!r} has no attribute {attribute!r}")
        fit = fit_store.current_fit(session, project_id)
        statuses = result_store.status_counts(session, project_id).get(attributes[attribute].id, {})
    summary = (fit.detail.get("attributes", {}) if fit else {}).get(attribute)
    view = {
        "attribute": attribute,
        "kind": attributes[attribute].kind,
        "values": attributes[attribute].values,
        "statuses": statuses,
        "fit": fit.id if fit else None,
        "confusion": None,
        "calibration": None,
        "confused_pairs": [],
        "alpha": None,
        "estimated_accuracy": None,
    }
    if summary is not None:
        view.update(
            confusion={
                key: {"values": problem["values"], "counts": problem["confusion"]}
                for key, problem in summary["problems"].items()
                if "confusion" in problem  # fits published before the dashboard lack it
            },
            calibration=summary.get("calibration"),
            confused_pairs=summary["confused_pairs"],
            alpha=summary["alpha"],
            estimated_accuracy=summary["estimated_accuracy"],
        )
    return view


def project_ids(ctx: Context, limit: int = 500) -> list[dict]:
    """Projects a service-wide admin may pick from, newest first."""
    with db.session_scope(ctx.engine) as session:
        return [
            {"id": project.id, "name": project.name}
            for project in project_store.list_projects(session, limit)
        ]
