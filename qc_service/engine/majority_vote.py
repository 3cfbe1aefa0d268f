"""Majority vote, optionally weighted per annotator.

The baseline every other method is measured against, and the starting point of EM.
Posteriors are the (weighted) vote shares. Ties go to the lowest value code (the
first value in the encoder's order, which for crowd-kit-style integer labels is the
smallest label); ``tied_`` marks them, since on real data a tie is frequent and is
itself a reason to ask for another label.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qc_service.engine.base import BaseEstimator, check_gold, check_labels, clamp, soft_mv
from qc_service.engine.encoding import LabelArrays

__all__ = ["MajorityVote"]


class MajorityVote(BaseEstimator):
    """(Weighted) majority vote.

    Parameters
    ----------
    weights:
        One non-negative weight per annotator code, or None for one vote each.
        Annotators beyond the array (new ones, in ``predict_proba``) weigh the mean.
    """

    def __init__(self, weights: np.ndarray | None = None) -> None:
        self.weights = weights

    def _weights(self, n_annotators: int) -> np.ndarray | None:
        if self.weights is None:
            return None
        w = np.asarray(self.weights, dtype=float)
        if (w < 0).any():
            raise ValueError("weights must be non-negative")
        if len(w) < n_annotators:
            w = np.concatenate([w, np.full(n_annotators - len(w), w.mean() if len(w) else 1.0)])
        return w

    def fit(
        self, labels: LabelArrays, gold: np.ndarray | None = None, init: Any = None
    ) -> MajorityVote:
        """Count the votes; gold items are set to their answer. ``init`` is ignored."""
        check_labels(labels)
        gold = check_gold(gold, labels)
        weights = self._weights(labels.n_annotators)
        self.n_labels_per_annotator_ = np.bincount(
            labels.annotator, minlength=labels.n_annotators
        ).astype(float)
        counts = np.bincount(labels.value, minlength=labels.n_values).astype(float)
        self.prior_ = counts / counts.sum()
        self.posteriors_ = self.predict_proba(labels)
        clamp(self.posteriors_, gold)
        self._finish(self.posteriors_)
        self.log_likelihood_ = []
        self.n_iter_ = 0
        self.converged_ = True
        self.skill_ = self._agreement(labels, weights)
        return self

    def _agreement(self, labels: LabelArrays, weights: np.ndarray | None) -> np.ndarray:
        """Share of each annotator's labels that match the aggregate (crowd-kit's skills_)."""
        hits = np.bincount(
            labels.annotator,
            weights=(self.labels_[labels.item] == labels.value).astype(float),
            minlength=labels.n_annotators,
        )
        n = self.n_labels_per_annotator_
        return np.divide(hits, n, out=np.zeros_like(hits), where=n > 0)

    def predict_proba(self, labels: LabelArrays) -> np.ndarray:
        """Vote shares per item; items without votes get the value frequencies."""
        votes = soft_mv(labels, self._weights(labels.n_annotators))
        totals = votes.sum(axis=1, keepdims=True)
        prior = getattr(self, "prior_", np.full(labels.n_values, 1.0 / labels.n_values))
        fallback = np.broadcast_to(prior, votes.shape).copy()
        return np.divide(votes, totals, out=fallback, where=totals > 0)
