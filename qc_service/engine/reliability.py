"""Per-annotator reliability from any fitted estimator.

Confusion counts are soft: each of an annotator's labels adds P(true value) of its
item to row ``true``, column ``given``. They are what Dawid-Skene's M-step sees, and
they exist for every method, so this works whether the model had confusion
matrices, skills, or just votes.

Accuracy is the expected probability of a right answer under the class prior,
sum_k prior_k * pi[k, k]. Its 95 % credible interval comes from Dirichlet posteriors of
the confusion rows (uniform prior plus the soft counts): each diagonal entry is then
Beta distributed, independently across rows, and their prior-weighted sum is
approximated by the Beta distribution of the same mean and variance, whose quantiles
are exact to compute. It replaced 1,000 Monte Carlo draws (a third of a second per
million labels) and is closer to the exact quantiles than they were: off by 0.001
on average and at most 0.006 from a dozen labels per annotator on (the draws: 0.005
and 0.016), by up to 0.02 below that, where the interval spans most of [0, 1].

The spammer score is Raykar & Yu's (2012): the distance of the confusion matrix from
the nearest rank-one matrix (all rows equal: the answer ignores the truth),
0 for a pure spammer, 1 for a perfect annotator on two values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaincinv

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


def _accuracy_interval(
    alpha: np.ndarray, weights: np.ndarray, mass: float
) -> tuple[np.ndarray, np.ndarray]:
    """Central credible interval of sum_k weights_k * pi[k, k] for each first-axis
    entry of ``alpha`` (Dirichlet parameters of the rows of pi, [n, K, K]), by the
    moment-matched Beta approximation (see the module docstring)."""
    a_kk = np.diagonal(alpha, axis1=1, axis2=2)
    total = alpha.sum(axis=2)
    # Beta marginal of each diagonal entry of a Dirichlet row: Beta(a_kk, total - a_kk)
    mean = (a_kk / total) @ weights
    variance = (a_kk * (total - a_kk) / (total**2 * (total + 1))) @ weights**2
    spread = mean * (1.0 - mean)
    # no variance with a single value, whose pi[0, 0] is 1 for sure
    certain = variance <= 0.0
    size = np.where(certain, 1.0, spread / np.where(certain, 1.0, variance) - 1.0)
    a, b = mean * size, (1.0 - mean) * size
    tail = (1.0 - mass) / 2.0
    low, high = (np.where(certain, mean, betaincinv(a, b, q)) for q in (tail, 1.0 - tail))
    return low, high


def reliability(
    estimator: BaseEstimator,
    labels: LabelArrays,
    gold: np.ndarray | None = None,
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

    n_a = labels.n_annotators
    low, high = _accuracy_interval(alpha, prior, 0.95)

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
