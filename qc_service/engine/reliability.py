"""Per-annotator reliability from any fitted estimator.

Confusion counts are soft: each of an annotator's labels adds P(true value) of its
item to row ``true``, column ``given``. They are what Dawid-Skene's M-step sees, and
they exist for every method, so this works whether the model had confusion
matrices, skills, or just votes.

Accuracy is the expected probability of a right answer under the class prior,
sum_k prior_k * pi[k, k]. Its 95 % credible interval comes from Dirichlet posteriors of
the confusion rows (uniform prior plus the soft counts), by Monte Carlo with a fixed
seed so the figures are reproducible.

The spammer score is Raykar & Yu's (2012): the distance of the confusion matrix from
the nearest rank-one matrix (all rows equal: the answer ignores the truth),
0 for a pure spammer, 1 for a perfect annotator on two values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qc_service.engine.base import BaseEstimator
from qc_service.engine.dawid_skene import confusion_counts
from qc_service.engine.encoding import LabelArrays

__all__ = ["Reliability", "reliability", "spammer_score"]


@dataclass(frozen=True)
class Reliability:
    """Arrays over annotator codes (first axis)."""

    n_labels: np.ndarray
    accuracy: np.ndarray
    accuracy_low: np.ndarray
    accuracy_high: np.ndarray
    confusion: np.ndarray  # n_annotators x K x K, rows: true value, sum to 1
    spammer_score: np.ndarray
    agreement: np.ndarray  # share of labels equal to the aggregated label
    gold_accuracy: np.ndarray  # share right on gold items; nan without gold


def spammer_score(confusion: np.ndarray) -> np.ndarray:
    """Raykar & Yu's score: sum over unordered row pairs of ||row_k - row_l||^2 / (K(K-1)).

    Zero when all rows are equal (the answer does not depend on the truth).
    """
    c = np.asarray(confusion, dtype=float)
    k = c.shape[-1]
    if k < 2:
        return np.zeros(c.shape[0])
    diff = c[:, :, None, :] - c[:, None, :, :]
    return (diff**2).sum(axis=(1, 2, 3)) / 2.0 / (k * (k - 1))


def reliability(
    estimator: BaseEstimator,
    labels: LabelArrays,
    gold: np.ndarray | None = None,
    n_samples: int = 1000,
    seed: int = 0,
) -> Reliability:
    """Reliability of each annotator in ``labels`` under a fitted ``estimator``."""
    posteriors = estimator.posteriors_
    prior = np.asarray(estimator.prior_, dtype=float)
    counts = confusion_counts(labels, posteriors)
    alpha = counts + 1.0  # Dirichlet posterior of each row under a uniform prior
    confusion = getattr(estimator, "confusion_", None)
    if confusion is None or confusion.shape != counts.shape:
        confusion = alpha / alpha.sum(axis=2, keepdims=True)
    diag = np.diagonal(confusion, axis1=1, axis2=2)
    accuracy = diag @ prior

    rng = np.random.default_rng(seed)
    n_a, k = labels.n_annotators, labels.n_values
    # Beta marginal of each diagonal entry of a Dirichlet row: Beta(a_kk, sum - a_kk)
    a_kk = np.diagonal(alpha, axis1=1, axis2=2)
    rest = alpha.sum(axis=2) - a_kk
    draws = rng.beta(a_kk[None], rest[None], size=(n_samples, n_a, k)) @ prior
    low, high = np.quantile(draws, [0.025, 0.975], axis=0)

    n_labels = np.bincount(labels.annotator, minlength=n_a)
    agree = np.bincount(
        labels.annotator,
        weights=(estimator.labels_[labels.item] == labels.value).astype(float),
        minlength=n_a,
    )
    gold_acc = np.full(n_a, np.nan)
    if gold is not None:
        g = np.asarray(gold)[labels.item]
        on_gold = g >= 0
        n_gold = np.bincount(labels.annotator[on_gold], minlength=n_a)
        right = np.bincount(
            labels.annotator[on_gold],
            weights=(labels.value[on_gold] == g[on_gold]).astype(float),
            minlength=n_a,
        )
        gold_acc = np.divide(right, n_gold, out=gold_acc, where=n_gold > 0)
    return Reliability(
        n_labels=n_labels,
        accuracy=accuracy,
        accuracy_low=low,
        accuracy_high=high,
        confusion=confusion,
        spammer_score=spammer_score(confusion),
        agreement=np.divide(agree, n_labels, out=np.full(n_a, np.nan), where=n_labels > 0),
        gold_accuracy=gold_acc,
    )
