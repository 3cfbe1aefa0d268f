"""crowd-kit's categorical zoo behind our estimator interface.

crowd-kit (and pandas with it) is imported only when one of these is fitted, so the
service does not pay for it unless a project picks such a method. Codes go in as
integers and come back as posteriors over our value codes.

crowd-kit 1.4's Wawa and ZeroBasedSkill call scikit-learn's ``check_is_fitted``, which
from scikit-learn 1.6 asks the estimator for ``__sklearn_tags__``; crowd-kit's classes
do not inherit scikit-learn's ``BaseEstimator``, so from 1.8 (where the old fallback
is gone) they crash. :func:`_with_sklearn_tags` subclasses them with the default tags
scikit-learn's own ``BaseEstimator`` would give; nothing else changes.

crowd-kit 1.4's MACE keeps each worker's spam distribution in sorted (worker, label)
order but reads it back in order of first appearance, so unless the two orders agree
annotators get each other's parameters and the output depends on the row order. The
adapter therefore hands every method rows in one canonical order with annotators and
values numbered by first appearance, which makes the two orders the same.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from qc_service.engine.base import BaseEstimator, check_gold, check_labels, clamp
from qc_service.engine.encoding import LabelArrays

__all__ = ["CROWDKIT_METHODS", "CrowdKit"]

#: our name -> crowd-kit class name
CROWDKIT_METHODS: dict[str, str] = {
    "crowdkit_mace": "MACE",
    "wawa": "Wawa",
    "zero_based_skill": "ZeroBasedSkill",
    "kos": "KOS",
    "mmsr": "MMSR",
    "crowdkit_dawid_skene": "DawidSkene",
    "crowdkit_one_coin": "OneCoinDawidSkene",
    "crowdkit_glad": "GLAD",
    "crowdkit_majority_vote": "MajorityVote",
}


def _with_sklearn_tags(cls: type) -> type:
    """``cls`` plus the ``__sklearn_tags__`` scikit-learn >= 1.6 expects of estimators."""

    def __sklearn_tags__(self: Any) -> Any:
        from sklearn.base import BaseEstimator as SkBase

        return SkBase.__sklearn_tags__(self)

    return type(cls.__name__, (cls,), {"__sklearn_tags__": __sklearn_tags__})


@cache
def crowdkit_class(name: str) -> type:
    """The crowd-kit class for one of our names, patched where needed (imports crowd-kit)."""
    from crowdkit import aggregation

    cls = getattr(aggregation, CROWDKIT_METHODS[name])
    if not hasattr(cls, "__sklearn_tags__"):
        cls = _with_sklearn_tags(cls)
    return cls


class CrowdKit(BaseEstimator):
    """A crowd-kit aggregator by our name, e.g. ``CrowdKit("crowdkit_mace", n_iter=50)``.

    Extra keyword arguments go to the crowd-kit constructor. KOS is binary only.
    No warm start, no ``predict_proba``: crowd-kit's models do not expose one E-step.
    Methods that give only labels (KOS, MMSR's labels) get one-hot posteriors.
    """

    def __init__(self, method: str, **params: Any) -> None:
        if method not in CROWDKIT_METHODS:
            raise ValueError(f"unknown crowd-kit method {method!r}; use {list(CROWDKIT_METHODS)}")
        self.method = method
        self.params = params

    def get_params(self) -> dict[str, Any]:
        """The method name and the crowd-kit constructor's arguments."""
        return {"method": self.method, **self.params}

    def fit(
        self, labels: LabelArrays, gold: np.ndarray | None = None, init: Any = None
    ) -> CrowdKit:
        """Fit crowd-kit on the codes; gold clamps the output (crowd-kit's models ignore it)."""
        import pandas as pd

        check_labels(labels)
        gold = check_gold(gold, labels)
        if self.method == "kos" and labels.n_values != 2:
            raise ValueError("kos handles two values only")
        canonical = np.lexsort((labels.value, labels.annotator, labels.item))
        workers = pd.factorize(labels.annotator[canonical])[0]
        values, value_codes = pd.factorize(labels.value[canonical])
        data = pd.DataFrame({"task": labels.item[canonical], "worker": workers, "label": values})
        model = crowdkit_class(self.method)(**self.params)
        self.model_ = model
        k = labels.n_values
        posteriors = np.full((labels.n_items, k), np.nan)
        probas = None
        if hasattr(model, "fit_predict_proba"):
            try:
                probas = model.fit_predict_proba(data)
            except NotImplementedError:
                probas = None
        if probas is not None:
            probas = probas.reindex(columns=range(len(value_codes)), fill_value=0.0).fillna(0.0)
            rows = probas.index.to_numpy(dtype=np.int64)
            posteriors[rows] = 0.0
            posteriors[np.ix_(rows, value_codes)] = probas.to_numpy(dtype=float)
        else:
            predicted = model.fit_predict(data)
            rows = predicted.index.to_numpy(dtype=np.int64)
            posteriors[rows] = 0.0
            posteriors[rows, value_codes[predicted.to_numpy(dtype=np.int64)]] = 1.0
        counts = np.bincount(labels.value, minlength=k).astype(float)
        self.prior_ = counts / counts.sum()
        missing = np.isnan(posteriors).any(axis=1)
        posteriors[missing] = self.prior_
        posteriors /= posteriors.sum(axis=1, keepdims=True)
        clamp(posteriors, gold)
        self._finish(posteriors)
        history = getattr(model, "loss_history_", None)
        self.log_likelihood_ = [float(x) for x in history] if history else []
        self.n_iter_ = len(self.log_likelihood_)
        self.converged_ = True
        return self
