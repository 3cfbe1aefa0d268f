"""What every estimator shares: input checks, the result attributes and the EM loop.

Estimators follow scikit-learn habits: hyper-parameters in ``__init__``, ``fit``
returns ``self``, learned attributes end in ``_``. Every fitted estimator has

- ``posteriors_`` (n_items x n_values, rows sum to 1; an item with no label gets the
  class prior),
- ``labels_``: the argmax of each row. Ties go to the lowest value code, i.e. the
  first value in the encoder's order; ``tied_`` marks the rows where the top two
  posteriors are equal, because a tie is a signal worth reporting, not a label,
- ``confidence_`` (the top posterior), ``prior_`` (class prior),
- ``log_likelihood_`` (history, one entry per iteration), ``n_iter_``, ``converged_``.

Annotator parameters are public through ``fitted_params()`` (all annotators, for a
warm start), ``annotator_params(code)`` (one annotator) and ``population_params()``
(what an annotator the fit has not seen gets), all keyed by parameter name.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import numpy as np

from qc_service.engine.encoding import LabelArrays

__all__ = [
    "TIE_TOL",
    "BaseEstimator",
    "EMEstimator",
    "check_gold",
    "check_labels",
    "right_wrong_likelihood",
    "soft_mv",
]

#: Two posteriors closer than this are a tie.
TIE_TOL = 1e-9
#: Floor for probabilities before a log, as crowd-kit does (1e-10), so log never sees 0.
EPS = 1e-10


def check_labels(labels: LabelArrays) -> None:
    """Refuse input no method can aggregate, with a message that says why."""
    if not isinstance(labels, LabelArrays):
        raise TypeError(f"expected LabelArrays, got {type(labels).__name__}")
    if labels.n_labels == 0:
        raise ValueError("no labels to aggregate: the input is empty")
    if labels.n_values < 1:
        raise ValueError("n_values must be at least 1")


def check_gold(gold: np.ndarray | None, labels: LabelArrays) -> np.ndarray | None:
    """Gold as an int array of length n_items (-1 = unknown), or None if it has no entry."""
    if gold is None:
        return None
    gold = np.asarray(gold, dtype=np.int64)
    if gold.shape != (labels.n_items,):
        raise ValueError(f"gold must have shape ({labels.n_items},), got {gold.shape}")
    if gold.max(initial=-1) >= labels.n_values or gold.min(initial=-1) < -1:
        raise ValueError(f"gold values must be -1 (unknown) or in [0, {labels.n_values})")
    return gold if (gold >= 0).any() else None


def soft_mv(labels: LabelArrays, weights: np.ndarray | None = None) -> np.ndarray:
    """Item x value vote totals (optionally weighted per annotator), not normalised."""
    w = None if weights is None else np.asarray(weights, dtype=float)[labels.annotator]
    counts = np.bincount(
        labels.item * labels.n_values + labels.value,
        weights=w,
        minlength=labels.n_items * labels.n_values,
    )
    return counts.reshape(labels.n_items, labels.n_values).astype(float)


def _row_reduce(ufunc: np.ufunc, matrix: np.ndarray) -> np.ndarray:
    """``ufunc.reduce`` along rows, as a column, one value column at a time.

    With many rows and a few columns numpy's own ``reduce(axis=1)`` runs a tiny inner
    loop per row and is about ten times slower than K whole-column operations.
    """
    out = matrix[:, 0].copy()
    for j in range(1, matrix.shape[1]):
        ufunc(out, matrix[:, j], out=out)
    return out[:, None]


def normalised(log_joint: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``exp(log_joint)`` normalised, and the log of each row's total (a column).

    One ``exp`` pass: the same max-shifted exponentials give both. (scipy's
    ``logsumexp`` spends most of its time in array-API dispatch at these shapes.)
    """
    top = _row_reduce(np.maximum, log_joint)
    top[~np.isfinite(top)] = 0.0
    shifted = np.exp(log_joint - top)
    totals = _row_reduce(np.add, shifted)
    shifted /= totals
    return shifted, top + np.log(totals)


def clamp(posteriors: np.ndarray, gold: np.ndarray | None) -> np.ndarray:
    """Replace the rows of gold items by the one-hot gold answer (in place)."""
    if gold is not None:
        known = gold >= 0
        posteriors[known] = 0.0
        posteriors[known, gold[known]] = 1.0
    return posteriors


def right_wrong_likelihood(labels: LabelArrays, right: np.ndarray, wrong: np.ndarray) -> np.ndarray:
    """Labels x K likelihoods of a symmetric-error model: ``right`` in each label's own
    value column, ``wrong`` elsewhere (one value per label each)."""
    out = np.repeat(np.asarray(wrong, dtype=float)[:, None], labels.n_values, axis=1)
    out[np.arange(labels.n_labels), labels.value] = right
    return out


class BaseEstimator:
    """Parameter handling and the result attributes common to all methods."""

    posteriors_: np.ndarray
    labels_: np.ndarray
    confidence_: np.ndarray
    tied_: np.ndarray
    prior_: np.ndarray
    log_likelihood_: list[float]
    n_iter_: int
    converged_: bool

    #: names of learned arrays indexed by annotator on their first axis
    _annotator_params: tuple[str, ...] = ()
    #: names of learned arrays indexed by item (dropped at the start of every fit)
    _item_params: tuple[str, ...] = ()

    def get_params(self) -> dict[str, Any]:
        """The constructor's hyper-parameters (scikit-learn style)."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _finish(self, posteriors: np.ndarray) -> None:
        """Set posteriors_, labels_ (lowest code wins ties), confidence_ and tied_."""
        posteriors = np.asarray(posteriors, dtype=float)
        self.posteriors_ = posteriors
        self.labels_ = np.argmax(posteriors, axis=1)  # first maximum: the lowest value code
        self.confidence_ = posteriors[np.arange(len(posteriors)), self.labels_]
        if posteriors.shape[1] > 1:
            top2 = np.partition(posteriors, -2, axis=1)[:, -2:]
            self.tied_ = (top2[:, 1] - top2[:, 0]) <= TIE_TOL
        else:
            self.tied_ = np.zeros(len(posteriors), dtype=bool)

    def fitted_params(self) -> dict[str, np.ndarray]:
        """The learned annotator (and item) parameters and prior, for a later warm start."""
        return {
            name: getattr(self, name)
            for name in (*self._annotator_params, *self._item_params, "prior_")
            if hasattr(self, name)
        }

    def annotator_params(self, code: int) -> dict[str, np.ndarray]:
        """One annotator's learned parameters, by name (empty for methods without any).

        ``code`` is the annotator's code in the fitted labels. Each value has the shape
        of one row of ``fitted_params()[name]`` (a K x K confusion matrix for
        Dawid-Skene, a scalar for one-coin's skill and GLAD's alpha).
        """
        self._check_fitted()
        return {name: np.asarray(getattr(self, name)[code]) for name in self._annotator_params}

    def population_params(self) -> dict[str, np.ndarray]:
        """The parameters the fit uses for an annotator it has not seen, by name.

        Same names and per-annotator shapes as :meth:`annotator_params`: the
        label-weighted average over the fitted annotators. ``predict_proba`` and
        ``reindexed`` give these to annotator codes beyond (or mapped outside) the fit.
        Empty for methods without annotator parameters (majority vote).
        """
        self._check_fitted()
        return {name: self._population(name) for name in self._annotator_params}

    def _check_fitted(self) -> None:
        if not hasattr(self, "prior_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted yet")

    def reindexed(self, annotator_map: np.ndarray) -> dict[str, np.ndarray]:
        """Fitted parameters moved to a new annotator coding, for ``fit(init=...)``.

        ``annotator_map[new_code]`` is the old code or -1 (see
        :func:`~qc_service.engine.encoding.align`); unseen annotators get the
        label-weighted population average.
        """
        annotator_map = np.asarray(annotator_map, dtype=np.int64)
        out = self.fitted_params()
        for name in self._annotator_params:
            old = out[name]
            new = old[np.clip(annotator_map, 0, None)] if len(old) else old
            new = np.array(new, dtype=float, copy=True)
            new[annotator_map < 0] = self._population(name)
            out[name] = new
        return out

    def _population(self, name: str) -> np.ndarray:
        """Label-weighted average of an annotator parameter (for annotators never seen)."""
        values = getattr(self, name)
        w = getattr(self, "n_labels_per_annotator_", None)
        if w is None or len(w) != len(values) or w.sum() == 0:
            return values.mean(axis=0)
        return np.tensordot(w / w.sum(), values, axes=1)

    def _init_params(self, init: Any) -> dict[str, np.ndarray] | None:
        if init is None:
            return None
        if isinstance(init, BaseEstimator):
            return init.fitted_params()
        if isinstance(init, Mapping):
            return dict(init)
        raise TypeError("init must be a fitted estimator, a dict of its parameters, or None")


class EMEstimator(BaseEstimator):
    """EM over latent true values, for models with per-annotator parameters.

    Subclasses define ``_m_step(labels, posteriors) -> None`` (sets the parameters),
    ``_item_log_lik(labels) -> (n_items, K)`` (log P(an item's labels | true value)),
    ``label_likelihood(labels) -> (n_labels, K)`` (P(a label | true value)), and may
    check a warm start's shapes in ``_accept_init``. One iteration is an
    M-step followed by an E-step, so the final ``posteriors_`` always agree with the
    final parameters and ``n_iter`` iterations here correspond to crowd-kit's
    ``n_iter`` (same initial majority vote, same order of steps).
    """

    max_iter: int
    tol: float
    prior_smoothing: float

    def _m_step(self, labels: LabelArrays, posteriors: np.ndarray) -> None:
        raise NotImplementedError

    def _item_log_lik(self, labels: LabelArrays) -> np.ndarray:
        raise NotImplementedError

    def label_likelihood(self, labels: LabelArrays) -> np.ndarray:
        """P(each label's value | true value t) under the fitted parameters, labels x K."""
        raise NotImplementedError

    def label_proba(self, labels: LabelArrays) -> np.ndarray:
        """P(each label's value | its item's posterior): held-out labels' likelihood,
        for labels the fit did not see on items it did."""
        return (self.posteriors_[labels.item] * self.label_likelihood(labels)).sum(axis=1)

    def _accept_init(self, params: dict[str, np.ndarray], labels: LabelArrays) -> None:
        """Take a warm start's annotator parameters; unknown annotators get their average."""
        for name in self._annotator_params:
            if name not in params:
                raise ValueError(f"init lacks {name}")
            values = np.asarray(params[name], dtype=float)
            if len(values) > labels.n_annotators:
                raise ValueError(f"init {name} has more annotators than the labels")
            setattr(self, name, values)
            setattr(self, name, self._extended(name, labels.n_annotators))
        for name in self._item_params:  # kept only if the item coding is unchanged
            if name in params and len(params[name]) == labels.n_items:
                setattr(self, name, np.asarray(params[name], dtype=float))

    def _update_prior(self, posteriors: np.ndarray, labelled: np.ndarray) -> None:
        """Class prior: mean posterior over labelled items, plus pseudo-counts.

        Uniform instead when the estimator has ``fit_prior=False``.
        """
        k = posteriors.shape[1]
        if not getattr(self, "fit_prior", True):
            self.prior_ = np.full(k, 1.0 / k)
            return
        counts = (posteriors if labelled.all() else posteriors[labelled]).sum(axis=0)
        counts = counts + self.prior_smoothing
        total = counts.sum()
        self.prior_ = counts / total if total > 0 else np.full(k, 1.0 / k)

    def _e_step(self, labels: LabelArrays, gold: np.ndarray | None) -> tuple[np.ndarray, float]:
        """Posteriors under the current parameters, and the data's log-likelihood."""
        log_joint = self._item_log_lik(labels) + np.log(np.maximum(self.prior_, EPS))
        posteriors, norm = normalised(log_joint)
        ll = float(norm.sum())
        if gold is not None:
            known = np.flatnonzero(gold >= 0)
            ll += float((log_joint[known, gold[known]] - norm[known, 0]).sum())
            clamp(posteriors, gold)
        return posteriors, ll

    def fit(
        self,
        labels: LabelArrays,
        gold: np.ndarray | None = None,
        init: Any = None,
    ) -> EMEstimator:
        """Run EM from majority vote (or from ``init``'s parameters) until converged.

        Convergence: the log-likelihood changes by less than ``tol`` per label.
        Gold items are clamped to their answer in every E-step, so they teach the
        annotator parameters like a control task would.
        """
        check_labels(labels)
        gold = check_gold(gold, labels)
        labelled = np.bincount(labels.item, minlength=labels.n_items) > 0
        if gold is not None:
            labelled |= gold >= 0
        self.n_labels_per_annotator_ = np.bincount(
            labels.annotator, minlength=labels.n_annotators
        ).astype(float)
        params = self._init_params(init)
        for name in (*self._annotator_params, *self._item_params):
            self.__dict__.pop(name, None)  # a refit starts afresh unless init says otherwise
        self.log_likelihood_ = []
        if params is None:
            votes = soft_mv(labels)
            totals = votes.sum(axis=1, keepdims=True)
            posteriors = np.divide(
                votes, totals, out=np.full_like(votes, 1.0 / labels.n_values), where=totals > 0
            )
            clamp(posteriors, gold)
        else:
            self._accept_init(params, labels)
            if "prior_" in params and len(params["prior_"]) == labels.n_values:
                self.prior_ = np.asarray(params["prior_"], dtype=float)
            else:
                self.prior_ = np.full(labels.n_values, 1.0 / labels.n_values)
            posteriors, ll = self._e_step(labels, gold)
            self.log_likelihood_.append(ll)
        self.converged_ = False
        self.n_iter_ = 0
        for _ in range(self.max_iter):
            self._update_prior(posteriors, labelled)
            self._m_step(labels, posteriors)
            posteriors, ll = self._e_step(labels, gold)
            self.n_iter_ += 1
            previous = self.log_likelihood_[-1] if self.log_likelihood_ else None
            self.log_likelihood_.append(ll)
            if previous is not None and abs(ll - previous) < self.tol * labels.n_labels:
                self.converged_ = True
                break
        self._finish(posteriors)
        return self

    def predict_proba(self, labels: LabelArrays) -> np.ndarray:
        """One E-step with the fitted parameters on ``labels``.

        For streaming updates: pass just the labels of the items touched since the
        fit. Annotator codes beyond the fitted ones get population-average parameters;
        items without labels get the prior.
        """
        self._check_fitted()
        if labels.n_values != len(self.prior_):
            raise ValueError(f"expected {len(self.prior_)} values, got {labels.n_values}")
        log_joint = self._item_log_lik(labels) + np.log(np.maximum(self.prior_, EPS))
        return normalised(log_joint)[0]

    def _extended(self, name: str, n_annotators: int) -> np.ndarray:
        """An annotator parameter padded with the population average up to n_annotators."""
        values = getattr(self, name)
        extra = n_annotators - len(values)
        if extra <= 0:
            return values
        pad = np.broadcast_to(self._population(name), (extra, *values.shape[1:]))
        return np.concatenate([values, pad])
