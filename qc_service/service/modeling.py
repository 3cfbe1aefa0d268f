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

from qc_service.engine import (
    METHODS,
    BaseEstimator,
    LabelArrays,
    Reliability,
    confusable_pairs,
    make_estimator,
    reliability,
)
from qc_service.engine.auto import CANDIDATES, Auto
from qc_service.engine.dawid_skene import confusion_counts
from qc_service.store.fits import AttributeLabels
from qc_service.store.models import Attribute

#: Fewer labels than this on an attribute: the annotator is on ``probation``.
PROBATION_LABELS = 10
#: Raykar & Yu's spammer score (the engine's: 0 for an answer that ignores the truth, 1
#: for a perfect annotator) below this: a suspected spammer. For symmetric errors it is
#: the square of the chance-corrected accuracy, so 0.04 means answers carry less than
#: a fifth of the information a perfect annotator's do. With few labels over many
#: values the score's sampling noise exceeds this (a random answerer with ~40 labels
#: over 6 values scores ~0.14), so such spammers stay ``ok`` until they have more.
#: The API reports one minus it, so that its ``spammer_score`` grows with suspicion.
SPAMMER_DISCRIMINATION = 0.04
#: Confused value pairs worth reporting: at least this rate and this many labels.
CONFUSION_MIN_RATE = 0.1
CONFUSION_MIN_COUNT = 2.0


@dataclass
class Problem:
    """One estimation problem of an attribute (the attribute itself, or one tag)."""

    key: str
    values: list[str]
    labels: LabelArrays
    gold: np.ndarray
    estimator: BaseEstimator
    #: Posteriors ignoring gold: what the annotators alone say, used to detect
    #: conflicts with gold.
    unclamped: np.ndarray
    #: Soft confusion counts [annotator, true, given].
    confusion: np.ndarray
    reliability: Reliability


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


def known_values(attribute: Attribute) -> list[str] | None:
    """Every value a stored label of ``attribute`` can have, when there are few (a
    multilabel attribute stores any set of its tags: None)."""
    return None if attribute.kind == "multilabel" else list(attribute.values)


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


def streams(method: str) -> bool:
    """Whether ``method`` can score new labels with a fit's parameters (one E-step);
    crowd-kit's models cannot, so ingest answers vote shares for them until the refit."""
    return hasattr(make_estimator(method), "predict_proba")


def _fit_problem(
    method: str,
    key: str,
    values: list[str],
    labels: LabelArrays,
    gold: np.ndarray,
    control: np.ndarray,
) -> Problem:
    estimator = make_estimator(method)
    # only auto chooses and calibrates a model on gold: on control gold alone
    chosen_on = {"control": control} if isinstance(estimator, Auto) else {}
    estimator.fit(labels, gold=gold, **chosen_on)
    if not (gold >= 0).any():
        unclamped = estimator.posteriors_
    elif streams(method):
        unclamped = estimator.predict_proba(labels)
    else:  # crowd-kit only clamps gold after fitting: a fit without it is what the crowd says
        unclamped = make_estimator(method).fit(labels).posteriors_
    return Problem(
        key=key,
        values=values,
        labels=labels,
        gold=gold,
        estimator=estimator,
        unclamped=unclamped,
        confusion=confusion_counts(labels, estimator.posteriors_),
        reliability=reliability(estimator, labels, gold),
    )


def fit_attribute(
    attribute: Attribute,
    method: str,
    data: AttributeLabels,
    gold: list[tuple[int, str, str]],
) -> AttributeFit | None:
    """Fit every problem of one attribute; None when it has neither labels nor gold."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}")
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
    # gold given as such (control items) is a sample of the items; verdicts are not
    control = np.zeros(len(item_ids), dtype=bool)
    control[gold_rows] = [source != "verdict" for _, _, source in gold]
    result = AttributeFit(
        attribute=attribute,
        method=method,
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
        result.problems.append(_fit_problem(method, key, values, labels, gold_array, control))
    return result


def model_summary(problem: Problem) -> dict:
    """What a streaming E-step needs besides each annotator's parameters: the prior,
    the population-average parameters (for annotators the fit has not seen) and, for
    ``auto``, the model it chose and its calibration (temperature, floor, class bias)."""
    estimator = problem.estimator
    summary = {
        "prior": np.asarray(estimator.prior_).tolist(),
        "population": {
            name: np.asarray(value).tolist()
            for name, value in estimator.population_params().items()
        },
    }
    if hasattr(estimator, "selection_"):
        summary["chosen"] = estimator.selection_["method"]
        summary["temperature"] = estimator.selection_["temperature"]
        summary["floor"] = estimator.selection_["floor"]
        summary["class_bias"] = estimator.selection_["class_bias"]
    return summary


def annotator_parameters(problem: Problem, code: int) -> dict[str, list]:
    """The estimator's learned parameters for one annotator code, as JSON-able lists."""
    return {
        name: np.asarray(value).tolist()
        for name, value in problem.estimator.annotator_params(code).items()
    }


def estimator_from_parameters(method: str, model: dict, rows: list[dict[str, list]]):
    """A fitted estimator rebuilt from a stored ``model_summary`` and per-annotator
    parameters (annotator code = row index), ready for ``predict_proba`` (one E-step)
    on labels coded the same way."""
    # auto's candidates are its own models (its majority vote is a pooled one-coin,
    # whose posteriors are not vote shares), not the methods of the same name
    chosen = model.get("chosen")
    estimator = make_estimator(method) if chosen is None else CANDIDATES[chosen]()
    estimator.prior_ = np.asarray(model["prior"], dtype=float)
    for name in model["population"]:
        setattr(estimator, name, np.array([row[name] for row in rows], dtype=float))
    estimator.n_labels_per_annotator_ = np.ones(len(rows))
    if chosen is None:
        return estimator
    auto = make_estimator("auto")
    auto.estimator_, auto.temperature_ = estimator, model["temperature"]
    # fits stored before auto had a floor or a class bias: none
    auto.floor_ = model.get("floor", 0.0)
    auto.class_bias_ = np.asarray(model.get("class_bias", np.zeros(len(estimator.prior_))))
    return auto


@dataclass
class AttributeReliability:
    """Per annotator code of one attribute; a multilabel attribute averages its tags."""

    accuracy: np.ndarray
    accuracy_low: np.ndarray
    accuracy_high: np.ndarray
    agreement: np.ndarray
    #: One minus Raykar & Yu's score: 0 for a perfect annotator, 1 for one whose
    #: answers ignore the truth.
    spammer_score: np.ndarray
    #: Accuracy of an annotator answering at random (averaged over the problems).
    chance: float


def attribute_reliability(fit: AttributeFit) -> AttributeReliability:
    """The engine's per-problem reliability, averaged over the problems."""

    def mean(name: str) -> np.ndarray:
        return np.mean([getattr(p.reliability, name) for p in fit.problems], axis=0)

    return AttributeReliability(
        accuracy=mean("accuracy"),
        accuracy_low=mean("accuracy_low"),
        accuracy_high=mean("accuracy_high"),
        agreement=np.nan_to_num(mean("agreement")),
        spammer_score=np.clip(1.0 - mean("spammer_score"), 0.0, 1.0),
        chance=float(np.mean([1.0 / len(p.values) for p in fit.problems])),
    )


def annotator_status(n_labels: int, spammer_score: float, accuracy: float, chance: float) -> str:
    """``probation`` with too few labels; ``suspected_spammer`` when the answers carry
    (almost) no information about the truth, or are right less often than chance (an
    adversary: informative once flipped, as Raykar & Yu's score sees it, but harmful
    to every aggregate that does not flip them); else ``ok``."""
    if n_labels < PROBATION_LABELS:
        return "probation"
    if 1.0 - spammer_score < SPAMMER_DISCRIMINATION or accuracy < chance:
        return "suspected_spammer"
    return "ok"


def _pair(values: list[str], true: int, given: int, rate: float, count: float) -> dict | None:
    """One confusion worth reporting, or None below the reporting thresholds."""
    if rate < CONFUSION_MIN_RATE or count < CONFUSION_MIN_COUNT:
        return None
    return {
        "true": values[true],
        "given": values[given],
        "rate": round(rate, 4),
        "count": round(count, 2),
        "text": f"labels {values[true]} as {values[given]} in {rate:.0%} of cases",
    }


def confused_pairs(values: list[str], confusion: np.ndarray, limit: int = 3) -> list[dict]:
    """One annotator's most frequent confusions from its [true, given] soft counts,
    largest rate first."""
    rows = confusion.sum(axis=1, keepdims=True)
    rates = np.divide(confusion, rows, out=np.zeros_like(confusion), where=rows > 0)
    pairs = [
        _pair(values, true, given, float(rates[true, given]), float(confusion[true, given]))
        for true, given in zip(*np.nonzero(~np.eye(len(values), dtype=bool)), strict=True)
    ]
    found = [pair for pair in pairs if pair is not None]
    found.sort(key=lambda pair: (-pair["rate"], -pair["count"]))
    return found[:limit]


def attribute_confused_pairs(problem: Problem, limit: int = 5) -> list[dict]:
    """The value pairs all annotators together mix up most (the engine's
    ``confusable_pairs``), with their soft counts."""
    pooled = problem.confusion.sum(axis=0)
    pairs = [
        _pair(problem.values, true, given, rate, float(pooled[true, given]))
        for true, given, rate in confusable_pairs(
            problem.labels, problem.estimator.posteriors_, top=limit
        )
    ]
    return [pair for pair in pairs if pair is not None]
