"""Dawid-Skene with Dirichlet smoothing, gold clamping and warm start.

Each annotator has a full confusion matrix ``confusion_[a, true, given]``. Plain
maximum likelihood trusts an annotator with three labels as much as one with three
thousand, which is why crowd-kit's Dawid-Skene can fall below majority vote when most
annotators give only a few labels. Here every row of every confusion matrix gets a
Dirichlet prior centred on the population's confusion row with total weight
``smoothing`` (pseudo-labels), so a sparse annotator is pulled towards the crowd, and
a prolific one is hardly moved. ``smoothing=0`` is the original algorithm.

Fully vectorised: each EM iteration is two products with the sparse items x
(annotator, value) count matrix (:func:`pair_matrix`); memory is that matrix (about
12 bytes per label) plus n_items x K and n_annotators x K x K; never items x annotators.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import scipy.sparse as sp

from qc_service.engine.base import EPS, EMEstimator
from qc_service.engine.encoding import LabelArrays

__all__ = ["DawidSkene", "PairMatrixEM", "confusion_counts", "pair_matrix"]


def confusion_counts(labels: LabelArrays, posteriors: np.ndarray) -> np.ndarray:
    """Soft confusion counts ``[a, true, given]``: sum of P(true) over a's labels given."""
    k, v = posteriors.shape[1], labels.n_values
    pair = labels.annotator * v + labels.value
    counts = np.empty((labels.n_annotators, k, v))
    for t in range(k):
        counts[:, t, :] = np.bincount(
            pair, weights=posteriors[labels.item, t], minlength=labels.n_annotators * v
        ).reshape(labels.n_annotators, v)
    return counts


def pair_matrix(labels: LabelArrays) -> sp.csr_matrix:
    """Items x (annotator, value) label counts, column ``annotator * n_values + value``.

    Both halves of an EM iteration are products with it: ``C.T @ posteriors`` gives the
    soft confusion counts, ``C @ log_confusion`` each item's log-likelihood. The
    products stream the labels once in C, where a ``bincount`` per class gathers them
    K times at random: three to eight times less CPU at 1M labels.
    """
    pair = labels.annotator * labels.n_values + labels.value
    return sp.csr_matrix(
        (np.ones(labels.n_labels), (labels.item, pair)),
        shape=(labels.n_items, labels.n_annotators * labels.n_values),
    )


class PairMatrixEM(EMEstimator):
    """EM whose per-label sums are products with :func:`pair_matrix`, which
    :meth:`fit` builds once instead of once per half-iteration."""

    def fit(self, labels: LabelArrays, gold: np.ndarray | None = None, init: Any = None) -> Self:
        """EM (see :meth:`EMEstimator.fit`) with the labels' pair matrix built once."""
        self._fit_pairs = (labels, pair_matrix(labels))
        try:
            super().fit(labels, gold, init)
        finally:
            del self._fit_pairs
        return self

    def _pairs(self, labels: LabelArrays) -> sp.csr_matrix:
        cached = getattr(self, "_fit_pairs", None)
        return cached[1] if cached is not None and cached[0] is labels else pair_matrix(labels)


class DawidSkene(PairMatrixEM):
    """Dawid-Skene EM.

    Parameters
    ----------
    smoothing:
        Weight (in pseudo-labels) of the Dirichlet prior pulling each confusion row
        towards the population's; 0 disables it.
    prior_smoothing:
        Pseudo-count added to every class when estimating the class prior.
    max_iter, tol:
        Stop after ``max_iter`` iterations or when the log-likelihood moves by less
        than ``tol`` per label.
    """

    _annotator_params = ("confusion_",)

    def __init__(
        self,
        smoothing: float = 4.0,
        prior_smoothing: float = 1.0,
        max_iter: int = 200,
        tol: float = 1e-6,
    ) -> None:
        self.smoothing = smoothing
        self.prior_smoothing = prior_smoothing
        self.max_iter = max_iter
        self.tol = tol

    def _m_step(self, labels: LabelArrays, posteriors: np.ndarray) -> None:
        k, v = posteriors.shape[1], labels.n_values
        counts = (self._pairs(labels).T @ posteriors).reshape(labels.n_annotators, v, k)
        counts = counts.transpose(0, 2, 1).copy()
        if self.smoothing > 0:
            pooled = counts.sum(axis=0)
            rows = pooled.sum(axis=1, keepdims=True)
            population = np.divide(
                pooled, rows, out=np.full_like(pooled, 1.0 / labels.n_values), where=rows > 0
            )
            counts += self.smoothing * population
        counts = np.maximum(counts, EPS)
        self.confusion_ = counts / counts.sum(axis=2, keepdims=True)

    def _item_log_lik(self, labels: LabelArrays) -> np.ndarray:
        confusion = self._extended("confusion_", labels.n_annotators)
        log_conf = np.log(np.maximum(confusion, EPS))  # [annotator, true, given]
        by_pair = log_conf.transpose(0, 2, 1).reshape(-1, log_conf.shape[1])
        return np.asarray(self._pairs(labels) @ by_pair)

    def _accept_init(self, params: dict[str, np.ndarray], labels: LabelArrays) -> None:
        shape = np.shape(params.get("confusion_"))
        if len(shape) != 3 or shape[1:] != (labels.n_values, labels.n_values):
            raise ValueError("init confusion_ must be n_annotators x n_values x n_values")
        super()._accept_init(params, labels)

    def label_likelihood(self, labels: LabelArrays) -> np.ndarray:
        """P(each label's value | true value t), labels x K: its annotator's confusion column."""
        confusion = self._extended("confusion_", labels.n_annotators)
        return confusion[labels.annotator, :, labels.value]
