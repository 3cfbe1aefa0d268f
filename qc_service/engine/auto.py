"""``auto``: pick the model that best predicts labels it has not seen.

The choice uses only the labels themselves: each candidate is fitted on all labels
but one fold (folds are cut by a hash of the (item, annotator) codes, so row order
does not matter) and scored by the log-probability it gives the held-out labels,
P(value | the item's posterior from the other labels, the annotator's parameters).
That is the model's own claim about what a new label will be, so a model that is too
flexible for the data (confusion matrices fitted from a handful of labels) or too
rigid (everyone equally good) loses. Majority vote competes as a one-coin model with
one skill shared by everyone and a uniform prior, whose labels are majority vote's.

The winner is refitted on all labels. Its posteriors are then tempered,
softmax(log p / T), with the T that maximised the same held-out likelihood: EM
posteriors are over-confident when annotators' errors are correlated, and held-out
labels measure by how much, without any gold. Gold passed to ``fit`` clamps items,
as for every method; it is not used to choose.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar

from qc_service.engine.base import BaseEstimator, EMEstimator, check_gold, check_labels, clamp
from qc_service.engine.dawid_skene import DawidSkene
from qc_service.engine.encoding import LabelArrays
from qc_service.engine.glad import GLAD
from qc_service.engine.one_coin import OneCoin

__all__ = ["CANDIDATES", "Auto", "fold_of"]

#: candidate name -> factory of an estimator with ``label_proba``
CANDIDATES: dict[str, Any] = {
    "majority_vote": lambda: OneCoin(pooled=True, fit_prior=False),
    "one_coin": OneCoin,
    "dawid_skene": DawidSkene,
    "glad": GLAD,
}


def fold_of(labels: LabelArrays, n_folds: int, seed: int = 0) -> np.ndarray:
    """Fold of each label from a hash of its (item, annotator) codes: order-free."""
    h = (labels.item.astype(np.uint64) * np.uint64(2654435761)) ^ (
        (labels.annotator.astype(np.uint64) + np.uint64(seed)) * np.uint64(40503)
    )
    h ^= h >> np.uint64(15)
    h *= np.uint64(2246822519)
    h ^= h >> np.uint64(13)
    return (h % np.uint64(n_folds)).astype(np.int64)


def _tempered(posteriors: np.ndarray, temperature: float) -> np.ndarray:
    logp = np.log(np.maximum(posteriors, 1e-300)) / temperature
    logp -= logp.max(axis=1, keepdims=True)
    p = np.exp(logp)
    return p / p.sum(axis=1, keepdims=True)


class Auto(BaseEstimator):
    """Choose among ``candidates`` by cross-validated held-out label likelihood.

    Parameters
    ----------
    candidates:
        Names from :data:`CANDIDATES`. GLAD is only tried up to ``glad_max_labels``
        labels, because its M-step is the costliest.
    n_folds:
        Number of folds; each candidate is fitted this many times plus once.
    calibrate:
        Temper the chosen posteriors (see the module docstring).
    """

    def __init__(
        self,
        candidates: tuple[str, ...] = ("majority_vote", "one_coin", "dawid_skene", "glad"),
        n_folds: int = 5,
        calibrate: bool = True,
        glad_max_labels: int = 50_000,
        seed: int = 0,
    ) -> None:
        self.candidates = candidates
        self.n_folds = n_folds
        self.calibrate = calibrate
        self.glad_max_labels = glad_max_labels
        self.seed = seed

    def _candidates(self, labels: LabelArrays) -> list[str]:
        unknown = set(self.candidates) - CANDIDATES.keys()
        if unknown:
            raise ValueError(f"unknown candidates {sorted(unknown)}; use {list(CANDIDATES)}")
        return [
            c for c in self.candidates if c != "glad" or labels.n_labels <= self.glad_max_labels
        ]

    def fit(self, labels: LabelArrays, gold: np.ndarray | None = None, init: Any = None) -> Auto:
        """Score every candidate by held-out likelihood, refit the best, temper it."""
        check_labels(labels)
        gold = check_gold(gold, labels)
        names = self._candidates(labels)
        folds = fold_of(labels, self.n_folds, self.seed)
        self.scores_: dict[str, float] = {}
        held_out: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
        for name in names:
            total, parts = 0.0, []
            for f in range(self.n_folds):
                test = folds == f
                if not test.any() or test.all():
                    continue
                est = CANDIDATES[name]().fit(labels.subset(~test), gold)
                test_labels = labels.subset(test)
                total += float(np.log(np.maximum(est.label_proba(test_labels), 1e-300)).sum())
                parts.append((est, test_labels))
            self.scores_[name] = total / labels.n_labels
            held_out[name] = parts
        self.method_ = max(names, key=lambda n: (self.scores_[n], -names.index(n)))
        init_est = init.estimator_ if isinstance(init, Auto) else init
        if isinstance(init_est, EMEstimator) and not isinstance(
            init_est, type(CANDIDATES[self.method_]())
        ):
            init_est = None  # parameters of another model cannot warm-start this one
        self.estimator_ = CANDIDATES[self.method_]().fit(labels, gold, init=init_est)
        self.temperature_ = 1.0
        if self.calibrate and held_out[self.method_]:
            self.temperature_ = self._fit_temperature(held_out[self.method_])
        posteriors = _tempered(self.estimator_.posteriors_, self.temperature_)
        clamp(posteriors, gold)
        for attr in ("prior_", "log_likelihood_", "n_iter_", "converged_"):
            setattr(self, attr, getattr(self.estimator_, attr))
        self._finish(posteriors)
        return self

    @staticmethod
    def _fit_temperature(parts: list) -> float:
        """The T in [0.5, 10] maximising held-out label likelihood of tempered posteriors."""

        def neg_ll(log_t: float) -> float:
            total = 0.0
            for est, test in parts:
                original = est.posteriors_
                est.posteriors_ = _tempered(original, float(np.exp(log_t)))
                total -= float(np.log(np.maximum(est.label_proba(test), 1e-300)).sum())
                est.posteriors_ = original
            return total

        res = minimize_scalar(neg_ll, bounds=(np.log(0.5), np.log(10.0)), method="bounded")
        return float(np.exp(res.x))

    def predict_proba(self, labels: LabelArrays) -> np.ndarray:
        """One E-step of the chosen model, tempered like the fit."""
        return _tempered(self.estimator_.predict_proba(labels), self.temperature_)

    def fitted_params(self) -> dict[str, np.ndarray]:
        """The chosen model's parameters."""
        return self.estimator_.fitted_params()

    def annotator_params(self, code: int) -> dict[str, np.ndarray]:
        """One annotator's parameters in the chosen model."""
        return self.estimator_.annotator_params(code)

    def population_params(self) -> dict[str, np.ndarray]:
        """The chosen model's parameters for annotators it has not seen."""
        return self.estimator_.population_params()
