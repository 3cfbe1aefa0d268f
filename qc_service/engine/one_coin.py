"""One-coin Dawid-Skene: a single accuracy per annotator.

An annotator answers the true value with probability ``skill_[a]`` and any other
value uniformly otherwise. Far fewer parameters than full confusion matrices, so it
is steadier when annotators give few labels; a Beta prior centred on the population
accuracy (weight ``smoothing``) steadies it further.
"""

from __future__ import annotations

import numpy as np

from qc_service.engine.base import EPS, EMEstimator, right_wrong_likelihood
from qc_service.engine.encoding import LabelArrays

__all__ = ["OneCoin"]


class OneCoin(EMEstimator):
    """One-coin EM.

    Parameters
    ----------
    smoothing:
        Weight in pseudo-labels of the Beta prior pulling each skill towards the
        population's accuracy; 0 disables it.
    pooled:
        One skill shared by everyone. With ``fit_prior=False`` (uniform class prior)
        its labels are exactly majority vote's, with calibrated confidences: it is
        majority vote seen as a model, which ``auto`` can compare with the others.
    fit_prior:
        Learn the class prior (else uniform).
    prior_smoothing, max_iter, tol:
        As for :class:`~qc_service.engine.dawid_skene.DawidSkene`.
    """

    _annotator_params = ("skill_",)

    def __init__(
        self,
        smoothing: float = 2.0,
        pooled: bool = False,
        fit_prior: bool = True,
        prior_smoothing: float = 1.0,
        max_iter: int = 200,
        tol: float = 1e-6,
    ) -> None:
        self.smoothing = smoothing
        self.pooled = pooled
        self.fit_prior = fit_prior
        self.prior_smoothing = prior_smoothing
        self.max_iter = max_iter
        self.tol = tol

    def _m_step(self, labels: LabelArrays, posteriors: np.ndarray) -> None:
        correct = np.bincount(
            labels.annotator,
            weights=posteriors[labels.item, labels.value],
            minlength=labels.n_annotators,
        )
        n = self.n_labels_per_annotator_
        population = correct.sum() / max(n.sum(), EPS)
        if self.pooled:
            self.skill_ = np.full(labels.n_annotators, np.clip(population, EPS, 1 - EPS))
            return
        skill = (correct + self.smoothing * population) / np.maximum(n + self.smoothing, EPS)
        self.skill_ = np.clip(skill, EPS, 1 - EPS)

    def _item_log_lik(self, labels: LabelArrays) -> np.ndarray:
        skill = self._extended("skill_", labels.n_annotators)
        k = labels.n_values
        log_right = np.log(skill)
        log_wrong = np.log1p(-skill) - np.log(max(k - 1, 1))
        out = np.bincount(
            labels.item, weights=log_wrong[labels.annotator], minlength=labels.n_items
        )
        out = np.repeat(out[:, None], k, axis=1)
        out.ravel()[:] += np.bincount(
            labels.item * k + labels.value,
            weights=(log_right - log_wrong)[labels.annotator],
            minlength=labels.n_items * k,
        )
        return out

    def label_likelihood(self, labels: LabelArrays) -> np.ndarray:
        """P(each label's value | true value t), labels x K."""
        skill = self._extended("skill_", labels.n_annotators)[labels.annotator]
        return right_wrong_likelihood(labels, skill, (1.0 - skill) / max(labels.n_values - 1, 1))
