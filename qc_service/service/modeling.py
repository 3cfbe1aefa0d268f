"""The engine seen from the service: one attribute's labels in, posteriors and
per-annotator reliability out.

An attribute is one or more *problems*: a categorical or binary attribute is one
problem over its values; a multilabel attribute is one binary problem per tag
(binary relevance), each with its own annotator parameters. Items and annotators
are coded once per attribute (sorted row ids), so every problem shares the coding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import beta as beta_distribution

from qc_service.engine.base import BaseEstimator
from qc_service.engine.dawid_skene import DawidSkene, confusion_counts
from qc_service.engine.encoding import LabelArrays
from qc_service.engine.glad import GLAD
from qc_service.engine.majority_vote import MajorityVote
from qc_service.engine.one_coin import OneCoin
from qc_service.store.fits import AttributeLabels
from qc_service.store.models import Attribute

#: The engine's own estimators. Methods a project may name but the engine does not
#: serve yet (crowd-kit's zoo) fall back to ``dawid_skene``; the fit records that.
ESTIMATORS: dict[str, type[BaseEstimator]] = {
    "majority_vote": MajorityVote,
    "dawid_skene": DawidSkene,
    "one_coin": OneCoin,
    "glad": GLAD,
}
DEFAULT_METHOD = "dawid_skene"

#: Fewer labels than this on an attribute: the annotator is on ``probation``.
PROBATION_LABELS = 10
#: An annotator whose answers carry less than this share of the information a
#: perfect annotator's do (chance-corrected balanced accuracy) is a suspected spammer.
SPAMMER_DISCRIMINATION = 0.2
#: Confused value pairs worth reporting: at least this rate and this many labels.
CONFUSION_MIN_RATE = 0.1
CONFUSION_MIN_COUNT = 2.0


def resolve_method(requested: str) -> str:
    return requested if requested in ESTIMATORS else DEFAULT_METHOD


def new_estimator(method: str) -> BaseEstimator:
    return ESTIMATORS[resolve_method(method)]()


@dataclass
class Problem:
    """One estimation problem of an attribute (the attribute itself, or one tag)."""

    key: str
    values: list[str]
    labels: LabelArrays
    gold: np.ndarray
    estimator: BaseEstimator
    #: Posteriors ignoring gold (one E-step with the fitted parameters): what the
    #: annotators alone say, used to detect conflicts with gold.
    unclamped: np.ndarray
    confusion: np.ndarray


@dataclass
class AttributeFit:
    attribute: Attribute
    method: str
    item_ids: np.ndarray
    annotator_ids: np.ndarray
    labels_per_item: np.ndarray
    labels_per_annotator: np.ndarray
    problems: list[Problem] = field(default_factory=list)


def problem_values(attribute: Attribute) -> list[tuple[str, list[str]]]:
    """(problem key, value names) of each problem of ``attribute``."""
    if attribute.kind == "multilabel":
        return [(tag, [f"not {tag}", tag]) for tag in attribute.values]
    return [("", list(attribute.values))]


def value_codes(attribute: Attribute, stored: list[str]) -> dict[str, np.ndarray]:
    """Per problem, the value code of each distinct stored value (see ``problem_values``)."""
    if attribute.kind == "multilabel":
        sets = [set(json.loads(value)) for value in stored]
        return {
            tag: np.array([int(tag in tags) for tags in sets], dtype=np.int64)
            for tag in attribute.values
        }
    index = {value: code for code, value in enumerate(attribute.values)}
    return {"": np.array([index[value] for value in stored], dtype=np.int64)}


def fit_attribute(
    attribute: Attribute,
    method: str,
    data: AttributeLabels,
    gold: list[tuple[int, str, str]],
) -> AttributeFit | None:
    """Fit every problem of one attribute; None when it has neither labels nor gold."""
    gold_item_ids = np.array([item_id for item_id, _, _ in gold], dtype=np.int64)
    item_ids = np.union1d(data.item_ids, gold_item_ids)
    if len(data.item_ids) == 0:
        return None
    annotator_ids = np.unique(data.annotator_ids)
    item = np.searchsorted(item_ids, data.item_ids)
    annotator = np.searchsorted(annotator_ids, data.annotator_ids)
    codes = value_codes(attribute, data.values)
    gold_codes = value_codes(attribute, [value for _, value, _ in gold]) if gold else {}
    gold_rows = np.searchsorted(item_ids, gold_item_ids)
    resolved = resolve_method(method)
    result = AttributeFit(
        attribute=attribute,
        method=resolved,
        item_ids=item_ids,
        annotator_ids=annotator_ids,
        labels_per_item=np.bincount(item, minlength=len(item_ids)),
        labels_per_annotator=np.bincount(annotator, minlength=len(annotator_ids)),
    )
    for key, values in problem_values(attribute):
        labels = LabelArrays(
            item,
            annotator,
            codes[key][data.value_codes],
            len(item_ids),
            len(annotator_ids),
            len(values),
        )
        gold_array = np.full(len(item_ids), -1, dtype=np.int64)
        if gold:
            gold_array[gold_rows] = gold_codes[key]
        estimator = new_estimator(resolved).fit(labels, gold=gold_array)
        unclamped = estimator.predict_proba(labels)
        result.problems.append(
            Problem(
                key=key,
                values=values,
                labels=labels,
                gold=gold_array,
                estimator=estimator,
                unclamped=unclamped,
                confusion=confusion_counts(labels, estimator.posteriors_),
            )
        )
    return result


def annotator_parameters(problem: Problem, code: int) -> dict[str, list]:
    """The estimator's learned parameters for one annotator code, as JSON-able lists."""
    return {
        name: np.asarray(getattr(problem.estimator, name))[code].tolist()
        for name in type(problem.estimator)._annotator_params
    }


def population_parameters(problem: Problem) -> dict[str, list]:
    """Label-weighted average parameters, for annotators the fit has not seen."""
    estimator = problem.estimator
    return {
        name: np.asarray(estimator._population(name)).tolist()
        for name in type(estimator)._annotator_params
    }


def estimator_from_parameters(
    method: str, prior: list[float], rows: list[dict[str, list]]
) -> BaseEstimator:
    """A fitted estimator rebuilt from stored parameters, annotator code = row index,
    ready for ``predict_proba`` (one E-step) on labels coded the same way."""
    estimator = new_estimator(method)
    estimator.prior_ = np.asarray(prior, dtype=float)
    for name in type(estimator)._annotator_params:
        setattr(estimator, name, np.array([row[name] for row in rows], dtype=float))
    estimator.n_labels_per_annotator_ = np.ones(len(rows))
    return estimator


@dataclass
class Reliability:
    """Per annotator code of one attribute, summed over its problems."""

    accuracy: np.ndarray
    accuracy_low: np.ndarray
    accuracy_high: np.ndarray
    agreement: np.ndarray
    spammer_score: np.ndarray


def reliability(fit: AttributeFit) -> Reliability:
    """Accuracy (expected share of correct labels under the model) with a 95 % Beta
    credible interval, agreement with the aggregate, and a spammer score.

    The spammer score is one minus the chance-corrected balanced accuracy of the
    annotator's soft confusion matrix: 1 for someone whose answer does not depend on
    the true value (a constant or random answerer), 0 for a perfect annotator.
    """
    n_annotators = len(fit.annotator_ids)
    correct = np.zeros(n_annotators)
    total = np.zeros(n_annotators)
    agree = np.zeros(n_annotators)
    discrimination = np.zeros(n_annotators)
    for problem in fit.problems:
        diagonal = np.einsum("akk->a", problem.confusion)
        correct += diagonal
        total += problem.confusion.sum(axis=(1, 2))
        labels = problem.labels
        hits = problem.estimator.labels_[labels.item] == labels.value
        agree += np.bincount(labels.annotator, weights=hits, minlength=n_annotators)
        k = len(problem.values)
        # One pseudo-label per cell keeps rows of rarely seen true values from
        # deciding the score on their own.
        smoothed = problem.confusion + 1.0 / k
        rates = smoothed / smoothed.sum(axis=2, keepdims=True)
        balanced = np.einsum("akk->a", rates) / k
        discrimination += (balanced - 1.0 / k) / (1.0 - 1.0 / k)
    discrimination /= len(fit.problems)
    wrong = np.maximum(total - correct, 0.0)
    low = beta_distribution.ppf(0.025, correct + 1.0, wrong + 1.0)
    high = beta_distribution.ppf(0.975, correct + 1.0, wrong + 1.0)
    safe_total = np.maximum(total, 1.0)
    return Reliability(
        accuracy=correct / safe_total,
        accuracy_low=low,
        accuracy_high=high,
        agreement=agree / safe_total,
        spammer_score=np.clip(1.0 - discrimination, 0.0, 1.0),
    )


def annotator_status(n_labels: int, spammer_score: float) -> str:
    if n_labels < PROBATION_LABELS:
        return "probation"
    if spammer_score >= 1.0 - SPAMMER_DISCRIMINATION:
        return "suspected_spammer"
    return "ok"


def confused_pairs(values: list[str], confusion: np.ndarray, limit: int = 3) -> list[dict]:
    """The most frequent confusions in a [true, given] count matrix, largest rate first."""
    rows = confusion.sum(axis=1, keepdims=True)
    rates = np.divide(confusion, rows, out=np.zeros_like(confusion), where=rows > 0)
    pairs = []
    for true, given in zip(*np.nonzero(~np.eye(len(values), dtype=bool)), strict=True):
        rate, count = float(rates[true, given]), float(confusion[true, given])
        if rate >= CONFUSION_MIN_RATE and count >= CONFUSION_MIN_COUNT:
            pairs.append(
                {
                    "true": values[true],
                    "given": values[given],
                    "rate": round(rate, 4),
                    "count": round(count, 2),
                    "text": f"labels {values[true]} as {values[given]} in {rate:.0%} of cases",
                }
            )
    pairs.sort(key=lambda pair: (-pair["rate"], -pair["count"]))
    return pairs[:limit]
