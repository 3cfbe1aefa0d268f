"""Quality measures: accuracy, calibration, agreement, confusable value pairs."""

from __future__ import annotations

import numpy as np

from qc_service.engine.encoding import LabelArrays

__all__ = ["accuracy", "confusable_pairs", "expected_calibration_error", "krippendorff_alpha"]


def accuracy(predicted: np.ndarray, gold: np.ndarray) -> float:
    """Share of gold items (gold >= 0) whose predicted value is the gold one; nan if none."""
    predicted, gold = np.asarray(predicted), np.asarray(gold)
    known = gold >= 0
    return float((predicted[known] == gold[known]).mean()) if known.any() else float("nan")


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, n_bins: int = 10
) -> float:
    """ECE: bin-size-weighted mean |confidence - accuracy| over equal-width bins.

    Tells whether "confidence 0.9" really means right nine times out of ten, which is
    what the service's ``target_confidence`` relies on.
    """
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    if len(confidence) == 0:
        return float("nan")
    bins = np.minimum((confidence * n_bins).astype(np.int64), n_bins - 1)
    conf_sum = np.bincount(bins, weights=confidence, minlength=n_bins)
    hit_sum = np.bincount(bins, weights=correct, minlength=n_bins)
    return float(np.abs(conf_sum - hit_sum).sum() / len(confidence))


def _coincidences(labels: LabelArrays) -> np.ndarray:
    """Krippendorff's coincidence matrix: pairs of values within items, 1/(m-1) each."""
    k = labels.n_values
    per_item = (
        np.bincount(labels.item * k + labels.value, minlength=labels.n_items * k)
        .reshape(labels.n_items, k)
        .astype(float)
    )
    m = per_item.sum(axis=1)
    pairable = m >= 2
    counts, m = per_item[pairable], m[pairable]
    weighted = counts / (m - 1)[:, None]
    return weighted.T @ counts - np.diag(weighted.sum(axis=0))


def krippendorff_alpha(labels: LabelArrays) -> float:
    """Krippendorff's alpha for nominal data (1 = perfect agreement, 0 = chance).

    Items with a single label carry no information about agreement and are skipped;
    nan when there is nothing to compare or a single value is ever used.
    """
    o = _coincidences(labels)
    n = o.sum()
    if n <= 1:
        return float("nan")
    marg = o.sum(axis=1)
    observed = n - np.trace(o)
    expected = (n * n - (marg**2).sum()) / (n - 1)
    return float(1.0 - observed / expected) if expected > 0 else float("nan")


def confusable_pairs(
    labels: LabelArrays, posteriors: np.ndarray, top: int = 5
) -> list[tuple[int, int, float]]:
    """The value pairs annotators mix up most: (true, given, share of true's labels).

    From soft confusion counts pooled over annotators (P(true) x given), so it works
    with any method's posteriors; pairs are sorted by share, then codes.
    """
    k = labels.n_values
    counts = np.zeros((k, k))
    for t in range(posteriors.shape[1]):
        counts[t] = np.bincount(labels.value, weights=posteriors[labels.item, t], minlength=k)
    rows = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    pairs = [(t, g, float(share[t, g])) for t in range(k) for g in range(k) if t != g]
    pairs.sort(key=lambda p: (-p[2], p[0], p[1]))
    return [p for p in pairs if p[2] > 0][:top]
