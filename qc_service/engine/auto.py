"""``auto``: pick the model that best predicts what it has not seen, cheaply.

The choice is made on a bounded, seeded sample of whole items (at most
``select_max_labels`` labels, items taken in the order of a hash of their code so the
sample does not depend on row order), then the chosen model is fitted once on all
labels. Selection therefore costs about the same at 100k and at 10M labels, and a warm
refit can skip it altogether: pass the previous ``Auto`` (or ``{**auto.fitted_params(),
**auto.selection_}``) as ``init``.

How candidates are scored on the sample:

- **With gold** (``gold=`` has at least ``min_gold`` labelled items in the sample):
  cross-fitted over the gold items. Each candidate is fitted with all gold but one
  fold clamped and scored on the held-out gold items' posteriors: accuracy first,
  log-loss to break ties. Gold is what the aggregate will be judged against, and the
  shared datasets show that label likelihood can prefer a model whose latent classes
  are not the gold classes (every reliability model is below majority vote on ducks
  and duchenne). The calibration is then fitted on the same held-out gold posteriors
  (cross-fitted: no gold item is scored by a fit that saw it).
- **Without gold**: each candidate is fitted on all sample labels but one fold
  (folds cut by a hash of the (item, annotator) codes) and scored by the
  log-probability it gives the held-out labels, P(value | the item's posterior from
  the other labels, the annotator's parameters). That is the model's own claim about
  what a new label will be, so a model too flexible for the data (confusion matrices
  from a handful of labels) or too rigid (everyone equally good) loses.

Calibration: posteriors are reported as ``(1 - floor) * softmax(log p / T) + floor *
prior``. The temperature T undoes evidence counted too often (EM posteriors are
over-confident when annotators' errors are correlated or their parameters rest on few
labels); the floor is the rate at which the truth differs from what the labels make
near certain. Both maximise the likelihood of held-out gold when there is enough of
it; without, T maximises that of held-out labels and the floor is 0, because labels
cannot measure it (a crowd that agrees on a wrong answer looks like a right one):
on the shared datasets 3-5 % of the items Dawid-Skene puts above 0.99 are wrong against
gold (rte, sentiment, temp), 40 % on ducks, and without gold this stays miscalibrated.
When selection ran on a sample, the calibration is cross-fitted again on all labels
(fold fits warm-started from the full fit): annotators have more labels there than in
the sample, so their posteriors are sharper and need a different T.

Majority vote competes as a one-coin model with one skill shared by everyone and a
uniform prior, whose labels are majority vote's. Gold items are clamped after
calibration, as for every method.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

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


def _candidate(name: str, tol: float | None = None) -> EMEstimator:
    """A fresh candidate; ``tol`` (None: the model's own) loosens convergence for the
    selection fits."""
    est = CANDIDATES[name]()
    if tol is not None:
        est.tol = tol
    return est


def _mix(a: np.ndarray, b: np.ndarray | int, seed: int) -> np.ndarray:
    """A well-mixed 64-bit hash of two integer arrays (order-free fold and sample keys)."""
    h = (np.asarray(a).astype(np.uint64) * np.uint64(2654435761)) ^ (
        (np.asarray(b).astype(np.uint64) + np.uint64(seed)) * np.uint64(40503)
    )
    h ^= h >> np.uint64(15)
    h *= np.uint64(2246822519)
    h ^= h >> np.uint64(13)
    return h


def fold_of(labels: LabelArrays, n_folds: int, seed: int = 0) -> np.ndarray:
    """Fold of each label from a hash of its (item, annotator) codes: order-free."""
    return (_mix(labels.item, labels.annotator, seed) % np.uint64(n_folds)).astype(np.int64)


def _log(posteriors: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(posteriors, 1e-300))


def _tempered(log_posteriors: np.ndarray, temperature: float) -> np.ndarray:
    logp = log_posteriors / temperature
    logp -= logp.max(axis=1, keepdims=True)
    p = np.exp(logp)
    return p / p.sum(axis=1, keepdims=True)


def _calibrated(
    log_posteriors: np.ndarray, prior: np.ndarray, temperature: float, floor: float
) -> np.ndarray:
    """softmax(log p / T), then a share ``floor`` of the mass given to the class prior
    (see the module docstring)."""
    p = _tempered(log_posteriors, temperature)
    if floor > 0:
        p = (1.0 - floor) * p + floor * np.asarray(prior)  # one prior, or one per row
    return p


#: Convergence tolerance (per label) of the warm-started fold fits that calibrate at
#: full scale: 1e-6 (the models' default) moves T by < 0.01 at 1M labels for 1.6x the time.
CALIBRATION_TOL = 1e-5
#: Bounds of the calibration: temperature, and the share of mass given to the prior.
_T_BOUNDS = (0.5, 20.0)
_FLOOR_MAX = 0.5


def _fit_calibration(neg_ll: Any, with_floor: bool) -> tuple[float, float]:
    """(T, floor) minimising ``neg_ll(T, floor)``; floor 0 unless ``with_floor``."""
    # Imported here: scipy.optimize costs ~0.5 s at import, which every command-line
    # call and worker start would pay although only calibration needs it.
    from scipy.optimize import minimize, minimize_scalar

    log_t = (np.log(_T_BOUNDS[0]), np.log(_T_BOUNDS[1]))
    if not with_floor:
        res = minimize_scalar(lambda x: neg_ll(float(np.exp(x)), 0.0), bounds=log_t,
                              method="bounded")  # fmt: skip
        return float(np.exp(res.x)), 0.0
    res = minimize(
        lambda x: neg_ll(float(np.exp(x[0])), float(x[1])),
        x0=np.array([0.0, 0.01]),
        bounds=[log_t, (0.0, _FLOOR_MAX)],
        method="L-BFGS-B",
    )
    return float(np.exp(res.x[0])), float(res.x[1])


def _sample(
    labels: LabelArrays, gold: np.ndarray | None, max_labels: int, seed: int
) -> tuple[LabelArrays, np.ndarray | None]:
    """Whole items, gold ones first, then in hash order, up to ``max_labels`` labels.

    Item codes are renumbered compactly so the fits on the sample do not carry arrays
    the size of the full item set.
    """
    per_item = np.bincount(labels.item, minlength=labels.n_items)
    if labels.n_labels <= max_labels:
        take = np.ones(labels.n_items, dtype=bool)
    else:
        key = _mix(np.arange(labels.n_items), 0, seed)
        is_gold = np.zeros(labels.n_items, bool) if gold is None else gold >= 0
        order = np.lexsort((key, ~is_gold))  # gold items first: they score the candidates
        cum = np.cumsum(per_item[order])
        take = np.zeros(labels.n_items, dtype=bool)
        take[order[: max(int(np.searchsorted(cum, max_labels, side="right")), 1)]] = True
    take &= per_item > 0
    new_code = np.cumsum(take) - 1
    rows = take[labels.item]
    sample = LabelArrays(
        new_code[labels.item[rows]],
        labels.annotator[rows],
        labels.value[rows],
        int(take.sum()),
        labels.n_annotators,
        labels.n_values,
    )
    return sample, (None if gold is None else gold[take])


class Auto(BaseEstimator):
    """Choose among ``candidates`` on a bounded sample, fit the winner on everything.

    Parameters
    ----------
    candidates:
        Names from :data:`CANDIDATES`. GLAD is only tried when the sample has at most
        ``glad_max_labels`` labels, because its M-step is the costliest.
    n_folds:
        Folds of the cross-fit; each candidate is fitted this many times on the sample.
    calibrate:
        Calibrate the chosen posteriors (temperature; see the module docstring).
    floor:
        When calibrating on gold, also fit the floor (the share of mass given back to
        the class prior). Held-out labels cannot measure it: fitted on them it only
        blurs posteriors that are right (synthetic 100k labels: ECE 0.025 -> 0.057).
    select_max_labels:
        Size bound of the selection sample, in labels.
    select_tol:
        Convergence tolerance (log-likelihood change per label) of the selection fits:
        ranking candidates does not need the last digits of a converged fit.
    min_gold:
        Gold items (with labels, in the sample) needed to select and calibrate on gold.
    seed:
        Seeds the sample and the folds.
    """

    def __init__(
        self,
        candidates: tuple[str, ...] = ("majority_vote", "one_coin", "dawid_skene", "glad"),
        n_folds: int = 3,
        calibrate: bool = True,
        floor: bool = True,
        glad_max_labels: int = 30_000,
        select_max_labels: int = 30_000,
        select_tol: float = 1e-4,
        min_gold: int = 30,
        seed: int = 0,
    ) -> None:
        self.candidates = candidates
        self.n_folds = n_folds
        self.calibrate = calibrate
        self.floor = floor
        self.glad_max_labels = glad_max_labels
        self.select_max_labels = select_max_labels
        self.select_tol = select_tol
        self.min_gold = min_gold
        self.seed = seed

    def _candidates(self, sample: LabelArrays) -> list[str]:
        unknown = set(self.candidates) - CANDIDATES.keys()
        if unknown:
            raise ValueError(f"unknown candidates {sorted(unknown)}; use {list(CANDIDATES)}")
        return [
            c for c in self.candidates if c != "glad" or sample.n_labels <= self.glad_max_labels
        ]

    @property
    def selection_(self) -> dict[str, Any]:
        """The chosen method and calibration; pass them back in ``init`` to skip selection."""
        return {"method": self.method_, "temperature": self.temperature_, "floor": self.floor_}

    def fit(self, labels: LabelArrays, gold: np.ndarray | None = None, init: Any = None) -> Auto:
        """Select on a sample (unless ``init`` carries a selection), fit the winner on all.

        ``init``: None; a fitted ``Auto`` (its method, calibration and parameters are
        reused: a warm refit); a mapping with ``method`` (and optionally
        ``temperature``, ``floor`` and the model's parameters); or a fitted candidate
        estimator, which only warm-starts the fit if selection picks the same model.
        """
        check_labels(labels)
        gold = check_gold(gold, labels)
        reuse = self._reused_selection(init)
        from_sample, evidence = None, None
        if reuse is None:
            from_sample, evidence = self._select(labels, gold)
        else:
            self.method_, self.temperature_, self.floor_ = reuse
            self.scores_ = {}
            self.selected_on_ = "init"
        model = _candidate(self.method_)
        warm = self._warm_params(init, model)
        self.estimator_ = model.fit(labels, gold, init=from_sample if warm is None else warm)
        if reuse is None:
            self.temperature_, self.floor_ = 1.0, 0.0
            if self.calibrate:
                if evidence is None:  # selected on a sample: calibrate at full scale
                    evidence = self._evidence(labels, gold, self.method_, self.estimator_)
                if evidence is not None:
                    on_gold = self.floor and self.selected_on_ == "gold"
                    self.temperature_, self.floor_ = _fit_calibration(evidence, on_gold)
        posteriors = _calibrated(
            _log(self.estimator_.posteriors_),
            self.estimator_.prior_,
            self.temperature_,
            self.floor_,
        )
        clamp(posteriors, gold)
        for attr in ("prior_", "log_likelihood_", "n_iter_", "converged_"):
            setattr(self, attr, getattr(self.estimator_, attr))
        self.n_labels_per_annotator_ = self.estimator_.n_labels_per_annotator_
        self._finish(posteriors)
        return self

    def _reused_selection(self, init: Any) -> tuple[str, float, float] | None:
        if isinstance(init, Auto):
            return init.method_, init.temperature_, init.floor_
        if isinstance(init, Mapping) and "method" in init:
            method = str(init["method"])
            if method not in CANDIDATES:
                raise ValueError(f"init method {method!r} is not one of {list(CANDIDATES)}")
            return method, float(init.get("temperature", 1.0)), float(init.get("floor", 0.0))
        return None

    @staticmethod
    def _warm_params(init: Any, model: BaseEstimator) -> Any:
        """The part of ``init`` that can warm-start ``model``, or None."""
        if isinstance(init, Auto):
            init = init.estimator_
        if isinstance(init, Mapping):
            params = {k: v for k, v in init.items() if k not in ("method", "temperature", "floor")}
            return params if all(n in params for n in type(model)._annotator_params) else None
        if isinstance(init, EMEstimator) and type(init) is type(model):
            # majority vote and one-coin are both OneCoin: only same settings carry over
            return init if init.get_params() == model.get_params() else None
        return None

    def _select(self, labels: LabelArrays, gold: np.ndarray | None) -> tuple[dict | None, Any]:
        """Set ``method_``, ``scores_``, ``selected_on_``.

        Returns the winner's sample-fitted parameters and its calibration evidence.
        When the sample is a strict part of the labels, the parameters warm-start the
        fit on all labels (a few iterations over the full data instead of dozens) and
        the evidence is None: calibration must be measured on fits of the full data,
        since annotators with ~30 sample labels are less certain than with thousands.
        """
        sample, sample_gold = _sample(labels, gold, self.select_max_labels, self.seed)
        names = self._candidates(sample)
        n_gold = 0 if sample_gold is None else int((sample_gold >= 0).sum())
        self.selected_on_ = "gold" if n_gold >= max(self.min_gold, self.n_folds) else "labels"
        score = self._score_on_gold if self.selected_on_ == "gold" else self._score_on_labels
        scores, self.method_, evidence = score(sample, sample_gold, names, tol=self.select_tol)
        self.scores_ = {name: s[0] for name, s in scores.items()}
        if sample.n_labels == labels.n_labels:
            return None, evidence
        # the sample coded items compactly; only annotator parameters carry over
        fitted = _candidate(self.method_, self.select_tol).fit(sample, sample_gold)
        return {n: fitted.fitted_params()[n] for n in (*fitted._annotator_params, "prior_")}, None

    def _evidence(
        self, labels: LabelArrays, gold: np.ndarray | None, name: str, fitted: EMEstimator
    ) -> Any:
        """Calibration loss of ``name`` cross-fitted on all labels.

        The fold fits start from ``fitted``'s parameters, which saw the held-out
        labels, so they run to a tight tolerance (:data:`CALIBRATION_TOL`): EM then
        ends near the fold's own optimum, not next to the start (at 1M labels 3 x 10
        iterations instead of 3 x 26 from majority vote).
        """
        score = self._score_on_gold if self.selected_on_ == "gold" else self._score_on_labels
        return score(labels, gold, [name], fitted.fitted_params(), tol=CALIBRATION_TOL)[2]

    def _score_on_gold(
        self,
        sample: LabelArrays,
        gold: np.ndarray,
        names: list[str],
        init: Any = None,
        tol: float | None = None,
    ) -> tuple[dict[str, tuple[float, ...]], str, Any]:
        """Cross-fitted gold accuracy (then log-loss) of each candidate, the best (the
        first of equals), and its calibration loss."""
        known = np.flatnonzero(gold >= 0)
        fold = (_mix(known, 1, self.seed) % np.uint64(self.n_folds)).astype(np.int64)
        scores: dict[str, tuple[float, ...]] = {}
        best, evidence = names[0], None
        for name in names:
            held = np.empty((len(known), sample.n_values))
            prior = np.empty((len(known), sample.n_values))
            for f in range(self.n_folds):
                train = gold.copy()
                train[known[fold == f]] = -1
                est = _candidate(name, tol).fit(sample, train, init=init)
                held[fold == f] = est.posteriors_[known[fold == f]]
                prior[fold == f] = est.prior_
            truth = gold[known]
            correct = float((held.argmax(axis=1) == truth).mean())
            held = _log(held)
            log_loss = float(held[np.arange(len(truth)), truth].mean())
            scores[name] = (correct, log_loss)

            def neg_ll(
                t: float, floor: float, held: np.ndarray = held, prior: np.ndarray = prior,
                truth: np.ndarray = truth,
            ) -> float:  # fmt: skip
                p = _calibrated(held, prior, t, floor)[np.arange(len(truth)), truth]
                return -float(_log(p).sum())

            if name == names[0] or scores[name] > scores[best]:
                best, evidence = name, neg_ll  # a loser's held-out arrays are let go
        return scores, best, evidence

    def _score_on_labels(
        self,
        sample: LabelArrays,
        gold: np.ndarray | None,
        names: list[str],
        init: Any = None,
        tol: float | None = None,
    ) -> tuple[dict[str, tuple[float, ...]], str, Any]:
        """Held-out label log-likelihood per label of each candidate, the best (the
        first of equals), and its calibration loss."""
        folds = fold_of(sample, self.n_folds, self.seed)
        # calibration needs two numbers: a bounded, hashed share of the held-out labels
        keep_every = -(-sample.n_labels // self.select_max_labels)
        thinned = fold_of(sample, keep_every, self.seed + 1) == 0
        scores: dict[str, tuple[float, ...]] = {}
        best, evidence = names[0], None
        for name in names:
            total, parts = 0.0, []
            for f in range(self.n_folds):
                test = folds == f
                if not test.any() or test.all():
                    continue
                est = _candidate(name, tol).fit(sample.subset(~test), gold, init=init)
                test_labels = sample.subset(test)
                likelihood = est.label_likelihood(test_labels)
                posterior = est.posteriors_[test_labels.item]
                total += float(_log((posterior * likelihood).sum(axis=1)).sum())
                # float32 logs (nothing underflows): these labels x K arrays are the
                # largest thing auto keeps on small sets
                rows = thinned[test]
                log_posterior = _log(posterior[rows]).astype(np.float32)
                parts.append((log_posterior, likelihood[rows].astype(np.float32), est.prior_))
            scores[name] = (total / sample.n_labels,)

            def neg_ll(t: float, floor: float, parts: list = parts) -> float:
                total = 0.0
                for log_posterior, likelihood, prior in parts:
                    p = _calibrated(log_posterior, prior, t, floor)
                    total -= float(_log((p * likelihood).sum(axis=1)).sum())
                return total

            if name == names[0] or scores[name] > scores[best]:
                best, evidence = name, (neg_ll if parts else None)
        return scores, best, evidence

    def predict_proba(self, labels: LabelArrays) -> np.ndarray:
        """One E-step of the chosen model, calibrated like the fit."""
        return _calibrated(
            _log(self.estimator_.predict_proba(labels)),
            self.estimator_.prior_,
            self.temperature_,
            self.floor_,
        )

    def fitted_params(self) -> dict[str, np.ndarray]:
        """The chosen model's parameters (``selection_`` has the method and temperature)."""
        return self.estimator_.fitted_params()

    def annotator_params(self, code: int) -> dict[str, np.ndarray]:
        """One annotator's parameters in the chosen model."""
        return self.estimator_.annotator_params(code)

    def population_params(self) -> dict[str, np.ndarray]:
        """The chosen model's parameters for annotators it has not seen."""
        return self.estimator_.population_params()
