"""Refitting a project: load its labels, run the models, publish the results.

A fit covers every attribute of a project and is published in one transaction,
so the service always answers from one complete fit; if anything fails on the way
the previous fit stays in service.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from qc_service.engine import krippendorff_alpha
from qc_service.errors import NotFound
from qc_service.schemas.results import JobOut
from qc_service.service.context import Context
from qc_service.service.dashboard import calibration
from qc_service.service.modeling import (
    AttributeFit,
    AttributeReliability,
    annotator_parameters,
    annotator_status,
    attribute_confused_pairs,
    attribute_reliability,
    confused_pairs,
    fit_attribute,
    known_values,
    model_summary,
)
from qc_service.service.status import Evidence, Policy, assess
from qc_service.store import db
from qc_service.store import fits as fit_store
from qc_service.store import jobs as job_store
from qc_service.store import projects as project_store
from qc_service.store import results as result_store
from qc_service.store.models import Attribute, Fit, Project

if TYPE_CHECKING:  # the scheduler runs fits: importing it here would be circular
    from qc_service.jobs.scheduler import Scheduler

log = logging.getLogger(__name__)


@dataclass
class FitOutput:
    fit: Fit
    results: fit_store.ResultColumns
    scores: list[dict]


def run_fit(ctx: Context, project_id: str, job_id: str | None = None) -> Fit:
    """Refit ``project_id`` and publish it; answers the published fit."""
    started = time.perf_counter()
    with db.session_scope(ctx.engine) as session:
        project = project_store.get_project(session, project_id)
        if project is None:
            raise NotFound(f"project {project_id!r} does not exist")
        attributes = project_store.list_attributes(session, project_id)
        loaded = [
            (
                attribute,
                fit_store.load_attribute_labels(
                    session, project_id, attribute.id, known_values(attribute)
                ),
                fit_store.load_gold(session, project_id, attribute.id),
            )
            for attribute in attributes
        ]
    loaded_at = time.perf_counter()
    output = compute_fit(project, loaded, job_id)
    output.fit.detail["timings"] = {
        "load_seconds": round(loaded_at - started, 4),
        "fit_seconds": round(time.perf_counter() - loaded_at, 4),
    }
    with db.session_scope(ctx.engine, write=True) as session:
        job_store.lock_project(session, project_id)
        current = fit_store.current_fit(session, project_id)
        if current is not None and current.revision > output.fit.revision:
            # A fit of newer data was published while this one ran (Celery workers
            # run in parallel): publishing this one would go back in time.
            log.info("fit of %s at revision %s superseded", project_id, output.fit.revision)
            return current
        fit_store.publish(session, output.fit, output.results, output.scores)
        result_store.reapply_verdicts(session, project_id)
    log.info("fit %s of %s published: %s", output.fit.id, project_id, output.fit.detail["timings"])
    return output.fit


def compute_fit(
    project: Project,
    loaded: list[tuple[Attribute, fit_store.AttributeLabels, list[tuple[int, str, str]]]],
    job_id: str | None = None,
) -> FitOutput:
    """The rows a fit publishes, from each attribute's labels and gold (no I/O)."""
    policy = Policy(project.target_confidence, project.min_labels, project.max_labels)
    fit = Fit(
        project_id=project.id,
        job_id=job_id,
        revision=project.revision,
        method=project.method,
        detail={"attributes": {}},
    )
    results: list[fit_store.ResultColumns] = []
    scores: list[dict] = []
    for attribute, data, gold in loaded:
        attribute_fit = fit_attribute(attribute, project.method, data, gold)
        if attribute_fit is None:
            continue
        rel = attribute_reliability(attribute_fit)
        statuses = [
            annotator_status(int(n), float(score), float(accuracy), rel.chance)
            for n, score, accuracy in zip(
                attribute_fit.labels_per_annotator, rel.spammer_score, rel.accuracy, strict=True
            )
        ]
        scores += _score_rows(project.id, attribute_fit, rel, statuses)
        attribute_results = _result_rows(policy, attribute_fit, rel, statuses, gold)
        results.append(attribute_results)
        fit.detail["attributes"][attribute.name] = _attribute_summary(
            attribute_fit, attribute_results
        )
    return FitOutput(fit, fit_store.ResultColumns.concat(results), scores)


def _posterior_view(fit: AttributeFit) -> tuple[np.ndarray, list[str], list[str], np.ndarray]:
    """Per item: distribution (matrix over ``keys``), stored label, confidence."""
    attribute = fit.attribute
    if attribute.kind == "multilabel":
        present = np.column_stack([p.estimator.posteriors_[:, 1] for p in fit.problems])
        sure = np.maximum(present, 1.0 - present)
        tags = attribute.values
        labels = [
            json.dumps([tag for tag, p in zip(tags, row, strict=True) if p > 0.5])
            for row in present
        ]
        return present, list(tags), labels, sure.min(axis=1)
    estimator = fit.problems[0].estimator
    values = attribute.values
    labels = [values[code] for code in estimator.labels_]
    return estimator.posteriors_, list(values), labels, estimator.confidence_


def _wrong(fit: AttributeFit) -> np.ndarray:
    """Per item: the probability that the published label is wrong (every tag
    decision right, for multilabel)."""
    if fit.attribute.kind == "multilabel":
        present = np.column_stack([p.estimator.posteriors_[:, 1] for p in fit.problems])
        return 1.0 - np.maximum(present, 1.0 - present).prod(axis=1)
    return 1.0 - fit.problems[0].estimator.confidence_


def _gold_conflicts(fit: AttributeFit) -> tuple[np.ndarray, np.ndarray]:
    """Per item: whether the annotators' own answer differs from gold, and the
    probability (by the annotators' evidence) that the gold answer is wrong."""
    conflict = np.zeros(len(fit.item_ids), dtype=bool)
    gold_right = np.ones(len(fit.item_ids))
    for problem in fit.problems:
        known = np.flatnonzero((problem.gold >= 0) & (fit.labels_per_item > 0))
        crowd = problem.unclamped[known]
        conflict[known] |= crowd.argmax(axis=1) != problem.gold[known]
        gold_right[known] *= crowd[np.arange(len(known)), problem.gold[known]]
    return conflict, 1.0 - gold_right


def _result_rows(
    policy: Policy,
    fit: AttributeFit,
    rel: AttributeReliability,
    statuses: list[str],
    gold: list[tuple[int, str, str]],
) -> fit_store.ResultColumns:
    """Status, flags and review priority of every item of one attribute.

    The priority orders the review queue, most likely wrong first. It is the model's
    probability that the published label is wrong: ``1 - confidence`` (for multilabel,
    1 - P(every tag decision right)); for an item in conflict with a control answer,
    the probability by the annotators' own evidence that the gold answer is wrong; 0
    once reviewed. Monotone transforms of the posterior (``auto``'s tempering) leave
    the order as it is; the alternatives measured on the shared datasets (vote share,
    entropy, other models' P(wrong), posteriors integrated over the uncertainty of
    the annotator parameters, leave-one-label-out) did not order errors better on
    average, and neither does the expected change of labels from reviewing an item:
    with verdicts refitted as gold, one verdict more changes another item's label for
    almost no item, so that expectation is the item's own P(wrong): see
    bench/RESULTS.md.
    """
    distribution, keys, labels, confidence = _posterior_view(fit)
    wrong = _wrong(fit)
    conflict, gold_wrong = _gold_conflicts(fit)
    labels_of = fit.problems[0].labels
    per_item = np.maximum(fit.labels_per_item, 1)
    spammer = np.array([status == "suspected_spammer" for status in statuses], dtype=float)
    suspect_share = (
        np.bincount(labels_of.item, weights=spammer[labels_of.annotator], minlength=len(per_item))
        / per_item
    )
    annotator_accuracy = (
        np.bincount(
            labels_of.item, weights=rel.accuracy[labels_of.annotator], minlength=len(per_item)
        )
        / per_item
    )
    gold_items = np.array([item_id for item_id, _, _ in gold], dtype=np.int64)
    from_verdict = np.array([source == "verdict" for _, _, source in gold], dtype=bool)
    reviewed = np.isin(fit.item_ids, gold_items[from_verdict])
    gold_conflict = conflict & np.isin(fit.item_ids, gold_items[~from_verdict])
    assessment = assess(
        policy,
        confidence,
        fit.labels_per_item,
        Evidence(
            reviewed=reviewed,
            gold_conflict=gold_conflict,
            suspect_share=suspect_share,
            annotator_accuracy=np.where(fit.labels_per_item > 0, annotator_accuracy, np.nan),
        ),
    )
    priority = np.where(reviewed, 0.0, np.where(gold_conflict, gold_wrong, wrong))
    flag_json = {flags: json.dumps(list(flags)) for flags in set(assessment.flags)}
    n = len(fit.item_ids)
    return fit_store.ResultColumns(
        attribute_id=np.full(n, fit.attribute.id, dtype=np.int64),
        item_id=fit.item_ids.astype(np.int64),
        label=labels,
        confidence=np.asarray(confidence, dtype=float),
        distribution=fit_store.distribution_json(keys, distribution),
        n_labels=fit.labels_per_item.astype(np.int64),
        status=assessment.status,
        flags=[flag_json[flags] for flags in assessment.flags],
        priority=priority,
    )


def _gold_accuracy(fit: AttributeFit) -> tuple[np.ndarray, np.ndarray]:
    """Per annotator: share of their gold-item answers that match gold (the engine's,
    averaged over tags; nan without gold), and on how many gold items they answered.
    Every tag of an item shares its gold, so the nans line up across tags."""
    labels, gold = fit.problems[0].labels, fit.problems[0].gold
    n_gold = np.bincount(labels.annotator[gold[labels.item] >= 0], minlength=len(fit.annotator_ids))
    return np.mean([problem.reliability.gold_accuracy for problem in fit.problems], axis=0), n_gold


def _score_rows(
    project_id: str, fit: AttributeFit, rel: AttributeReliability, statuses: list[str]
) -> list[dict]:
    gold_accuracy, n_gold = _gold_accuracy(fit)
    rows = []
    for code, annotator_id in enumerate(fit.annotator_ids.tolist()):
        pairs: list[dict] = []
        for problem in fit.problems:
            pairs += confused_pairs(problem.values, problem.confusion[code])
        pairs.sort(key=lambda pair: (-pair["rate"], -pair["count"]))
        rows.append(
            {
                "project_id": project_id,
                "attribute_id": fit.attribute.id,
                "annotator_id": annotator_id,
                "n_labels": int(fit.labels_per_annotator[code]),
                "accuracy": float(rel.accuracy[code]),
                "accuracy_low": float(rel.accuracy_low[code]),
                "accuracy_high": float(rel.accuracy_high[code]),
                "agreement": float(rel.agreement[code]),
                "gold_accuracy": None
                if np.isnan(gold_accuracy[code])
                else float(gold_accuracy[code]),
                "n_gold": int(n_gold[code]),
                "spammer_score": float(rel.spammer_score[code]),
                "status": statuses[code],
                "confusion": {
                    problem.key: {
                        "values": problem.values,
                        "counts": np.round(problem.confusion[code], 3).tolist(),
                    }
                    for problem in fit.problems
                },
                "confused_pairs": pairs[:3],
                "params": {
                    problem.key: annotator_parameters(problem, code) for problem in fit.problems
                },
            }
        )
    return rows


def _attribute_summary(fit: AttributeFit, results: fit_store.ResultColumns) -> dict:
    pairs = [pair for problem in fit.problems for pair in attribute_confused_pairs(problem)]
    pairs.sort(key=lambda pair: (-pair["rate"], -pair["count"]))
    labelled = results.n_labels > 0
    alphas = [krippendorff_alpha(problem.labels) for problem in fit.problems]
    alphas = [a for a in alphas if not np.isnan(a)]
    return {
        "method": fit.method,
        "n_labels": int(fit.labels_per_item.sum()),
        "n_items": len(fit.item_ids),
        "n_annotators": len(fit.annotator_ids),
        "alpha": float(np.mean(alphas)) if alphas else None,
        "estimated_accuracy": float(np.mean(1.0 - results.priority[labelled]))
        if labelled.any()
        else None,
        "confused_pairs": pairs[:5],
        "calibration": calibration(fit),
        "problems": {
            problem.key: {
                "values": problem.values,
                "confusion": np.round(problem.confusion.sum(axis=0), 2).tolist(),
                **model_summary(problem),
                "log_likelihood": float(problem.estimator.log_likelihood_[-1])
                if problem.estimator.log_likelihood_
                else None,
                "n_iter": int(problem.estimator.n_iter_),
                "converged": bool(problem.estimator.converged_),
            }
            for problem in fit.problems
        },
    }


def job_out(job) -> JobOut:
    return JobOut(
        id=job.id,
        project=job.project_id,
        kind=job.kind,
        state=job.state,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        error=job.error,
        detail=job.detail,
    )


def start_fit(ctx: Context, scheduler: Scheduler, project_id: str) -> JobOut:
    """Queue a refit to run now (joining one already queued); answers its job."""
    with db.session_scope(ctx.engine) as session:
        if not project_store.project_exists(session, project_id):
            raise NotFound(f"project {project_id!r} does not exist")
    job = scheduler.run_now(project_id)
    return get_job(ctx, job.id)


def get_job(ctx: Context, job_id: str) -> JobOut:
    with db.session_scope(ctx.engine) as session:
        job = job_store.get_job(session, job_id)
    if job is None:
        raise NotFound(f"job {job_id!r} does not exist")
    return job_out(job)


def last_fit(session, project_id: str) -> dict | None:
    """The current fit, for the project document."""
    fit = fit_store.current_fit(session, project_id)
    if fit is None:
        return None
    return {
        "id": fit.id,
        "created_at": fit.created_at.isoformat(),
        "revision": fit.revision,
        "method": fit.method,
        "timings": fit.detail.get("timings", {}),
        "attributes": {
            name: {key: summary[key] for key in ("method", "n_labels", "n_items", "alpha")}
            for name, summary in fit.detail.get("attributes", {}).items()
        },
    }
