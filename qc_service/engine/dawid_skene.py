"""Dawid-Skene with Dirichlet smoothing, gold clamping and warm start.

Each annotator has a full confusion matrix ``confusion_[a, true, given]``. Plain
maximum likelihood trusts an annotator with three labels as much as one with three
thousand, which is why crowd-kit's Dawid-Skene can fall below majority vote when most
annotators give only a few labels. Here every row of every confusion matrix gets a
Dirichlet prior centred on the population's confusion row with total weight
``smoothing`` (pseudo-labels), so a sparse annotator is pulled towards the crowd, and
a prolific one is hardly moved. ``smoothing=0`` is the original algorithm.

Fully vectorised over the label arrays with ``np.bincount``: memory is a few arrays of
length n_labels plus n_items x K and n_annotators x K x K; never items x annotators.
"""

from __future__ import annotations

import numpy as np

from qc_service.engine.base import EPS, EMEstimator
from qc_service.engine.encoding import LabelArrays

__all__ = ["DawidSkene", "confusion_counts"]


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


class DawidSkene(EMEstimator):
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
        counts = confusion_counts(labels, posteriors)
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
        log_conf = np.log(np.maximum(confusion, EPS))
        k, v = log_conf.shape[1], log_conf.shape[2]
        pair = labels.annotator * v + labels.value
        out = np.empty((k, labels.n_items))
        for t in range(k):
            out[t] = np.bincount(
                labels.item, weights=log_conf[:, t, :].ravel()[pair], minlength=labels.n_items
            )
        return out.T

    def _accept_init(self, params: dict[str, np.ndarray], labels: LabelArrays) -> None:
        shape = np.shape(params.get("confusion_"))
        if len(shape) != 3 or shape[1:] != (labels.n_values, labels.n_values):
            raise ValueError("init confusion_ must be n_annotators x n_values x n_values")
        super()._accept_init(params, labels)

    def label_proba(self, labels: LabelArrays) -> np.ndarray:
        """P(each label's value | the item's posterior), for held-out likelihood."""
        confusion = self._extended("confusion_", labels.n_annotators)
        out = np.zeros(labels.n_labels)
        for t in range(confusion.shape[1]):
            out += self.posteriors_[labels.item, t] * confusion[labels.annotator, t, labels.value]
        return out
