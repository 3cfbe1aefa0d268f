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
  fold clamped; the held-out gold items' posteriors are calibrated (below) and the
  candidate is scored by the log-likelihood they give the gold answers, less one per
  calibration parameter (Akaike: calibration is fitted and scored on the same items),
  accuracy breaking ties. Gold is what the aggregate will be judged against, and the
  shared datasets show that label likelihood can prefer a model whose latent classes
  are not the gold classes (every reliability model is below majority vote on ducks
  and duchenne). A proper score rather than accuracy: with 50-300 gold items the
  candidates' accuracies differ by a few items, which is noise, and accuracy ignores
  how sure a model is of its mistakes. No gold item is scored by a fit that saw it.
- **Without gold**: each candidate is fitted on all sample labels but one fold
  (folds cut by a hash of the (item, annotator) codes) and scored by the
  log-probability it gives the held-out labels, P(value | the item's posterior from
  the other labels, the annotator's parameters). That is the model's own claim about
  what a new label will be, so a model too flexible for the data (confusion matrices
  from a handful of labels) or too rigid (everyone equally good) loses.

Calibration: posteriors are reported as ``(1 - floor) * softmax(log p / T + b) + floor
* prior``. The temperature T undoes evidence counted too often (EM posteriors are
over-confident when annotators' errors are correlated or their parameters rest on few
labels); the floor is the rate at which the truth differs from what the labels make
near certain; the class bias b (one per class, Gaussian prior N(0, ``bias_scale``^2)) is the
shift in log-odds a wrong class prior leaves behind (on ducks Dawid-Skene's prior is
.19/.81 where gold's is near .45/.55: no temperature fixes that). All three maximise
the likelihood of held-out gold when there is enough of it (the bias needs
``min_gold_per_class`` items per class on average and must pay for its K - 1
parameters); without, T maximises that of held-out labels, and the floor and the bias
are 0, because labels cannot measure them (a crowd that agrees on a wrong answer looks
like a right one; and labels only know classes as the model's own latent classes):
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

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from qc_service.engine.base import (
    BaseEstimator,
    EMEstimator,
    check_gold,
    check_labels,
    clamp,
    normalised,
)
from qc_service.engine.dawid_skene import DawidSkene
from qc_service.engine.encoding import LabelArrays
from qc_service.engine.glad import GLAD
from qc_service.engine.mace import MACE
from qc_service.engine.one_coin import OneCoin

__all__ = ["CANDIDATES", "Auto", "fold_of"]

#: Keys of ``Auto.selection_``: the rest of an ``init`` mapping is model parameters.
_SELECTION_KEYS = ("method", "temperature", "floor", "class_bias")

#: candidate name -> factory of an estimator with ``label_proba``
CANDIDATES: dict[str, Any] = {
    "majority_vote": lambda: OneCoin(pooled=True, fit_prior=False),
    "one_coin": OneCoin,
    "dawid_skene": DawidSkene,
    "glad": GLAD,
    "mace": MACE,
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


def _calibrated(
    log_posteriors: np.ndarray,
    prior: np.ndarray,
    temperature: float,
    floor: float,
    class_bias: np.ndarray | None = None,
) -> np.ndarray:
    """softmax(log p / T + class_bias), then a share ``floor`` of the mass given to the
    class prior (see the module docstring)."""
    logp = log_posteriors / temperature
    if class_bias is not None:
        logp = logp + class_bias
    logp -= logp.max(axis=1, keepdims=True)
    p = np.exp(logp)
    p /= p.sum(axis=1, keepdims=True)
    if floor > 0:
        p = (1.0 - floor) * p + floor * np.asarray(prior)  # one prior, or one per row
    return p


#: Convergence tolerance (per label) of the warm-started fold fits that calibrate at
#: full scale: 1e-6 (the models' default) moves T by < 0.01 at 1M labels for 1.6x the time.
CALIBRATION_TOL = 1e-5
#: Bounds of the calibration: temperature, and the share of mass given to the prior.
_T_BOUNDS = (0.5, 20.0)
_FLOOR_MAX = 0.5


#: (temperature, floor, class bias or None)
Calibration = tuple[float, float, "np.ndarray | None"]


def _fit_temperature(neg_ll: Callable[[float], float]) -> float:
    """The temperature minimising ``neg_ll(T)``."""
    # Imported here: scipy.optimize costs ~0.5 s at import, which every command-line
    # call and worker start would pay although only calibration needs it.
    from scipy.optimize import minimize_scalar

    res = minimize_scalar(lambda x: neg_ll(float(np.exp(x))), bounds=np.log(_T_BOUNDS),
                          method="bounded")  # fmt: skip
    return float(np.exp(res.x))


def _fit_gold_calibration(
    log_held: np.ndarray,
    prior: np.ndarray,
    truth: np.ndarray,
    with_floor: bool,
    with_bias: bool = False,
    bias_scale: float = 1.0,
) -> tuple[Calibration, float]:
    """The calibration maximising the likelihood of the gold answers ``truth`` given
    held-out posteriors (their logs, and the class prior of the fit behind each row),
    with a Gaussian prior ``N(0, bias_scale^2)`` on each class bias; and the negative
    log-likelihood it reaches (without the prior's term).

    The floor is 0 unless ``with_floor``, the bias None unless ``with_bias``. Every
    class has a bias; softmax ignores their sum, so the prior alone sets it (to 0).
    Exact gradients: with K biases and 10^5 gold items finite differences cost seconds.
    """
    from scipy.optimize import minimize

    rows = np.arange(len(truth))
    logits = log_held - log_held.max(axis=1, keepdims=True)
    prior_true = np.broadcast_to(prior, logits.shape)[rows, truth]
    n_floor, n_bias = int(with_floor), logits.shape[1] if with_bias else 0

    def unpack(x: np.ndarray) -> Calibration:
        bias = np.array(x[1 + n_floor :]) if with_bias else None
        return float(np.exp(x[0])), float(x[1]) if with_floor else 0.0, bias

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        t, floor, bias = unpack(x)
        p = normalised(logits / t if bias is None else logits / t + bias)[0]
        p_true = p[rows, truth]
        q = np.maximum((1.0 - floor) * p_true + floor * prior_true, 1e-300)
        weight = (1.0 - floor) * p_true / q
        d_u = p * weight[:, None]  # d(-log q) / d u, u = logits / T + bias
        d_u[rows, truth] -= weight
        grad = [-float((d_u * logits).sum()) / t]  # d u / d log T = -logits / T
        if with_floor:
            grad.append(-float(((prior_true - p_true) / q).sum()))
        value = -float(np.log(q).sum())
        if bias is not None:
            value += float(bias @ bias) / (2.0 * bias_scale**2)
            grad.extend(d_u.sum(axis=0) + bias / bias_scale**2)
        return value, np.array(grad)

    res = minimize(
        objective,
        x0=np.array([0.0, *[0.01] * n_floor, *[0.0] * n_bias]),
        jac=True,
        bounds=[np.log(_T_BOUNDS), *[(0.0, _FLOOR_MAX)] * n_floor, *[(None, None)] * n_bias],
        # not L-BFGS-B: scipy's calls a multi-threaded BLAS every iteration, which on a
        # busy machine costs ~3 ms a call for these few parameters (15x TNC's time)
        method="TNC",
    )
    params = unpack(res.x)
    bias = params[2]
    penalty = 0.0 if bias is None else float(bias @ bias) / (2.0 * bias_scale**2)
    return params, float(res.fun) - penalty


def _sample(
    labels: LabelArrays, gold: np.ndarray | None, max_labels: int, seed: int
) -> tuple[LabelArrays, np.ndarray]:
    """Whole items, gold ones first, then in hash order, up to ``max_labels`` labels;
    and which items were taken.

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
    return sample, take


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
        Calibrate the chosen posteriors (see the module docstring). Selection on gold
        scores calibrated posteriors either way.
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
    class_bias:
        When calibrating on gold, also try a bias per class (kept if it pays for its
        parameters; see the module docstring).
    min_gold_per_class:
        Held-out gold items per class, on average, needed to try the class bias.
    bias_scale:
        Standard deviation of the Gaussian prior on each class bias (log-odds).
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
        class_bias: bool = True,
        min_gold_per_class: int = 20,
        bias_scale: float = 1.0,
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
        self.class_bias = class_bias
        self.min_gold_per_class = min_gold_per_class
        self.bias_scale = bias_scale
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
        return {
            "method": self.method_,
            "temperature": self.temperature_,
            "floor": self.floor_,
            "class_bias": self.class_bias_.tolist(),
        }

    def fit(
        self,
        labels: LabelArrays,
        gold: np.ndarray | None = None,
        init: Any = None,
        control: np.ndarray | None = None,
    ) -> Auto:
        """Select on a sample (unless ``init`` carries a selection), fit the winner on all.

        ``init``: None; a fitted ``Auto`` (its method, calibration and parameters are
        reused: a warm refit); a mapping with ``method`` (and optionally
        ``temperature``, ``floor`` and the model's parameters); or a fitted candidate
        estimator, which only warm-starts the fit if selection picks the same model.

        ``control``: per item, whether its gold answer may choose and calibrate the
        model (None: every gold answer). Every gold answer clamps its item, but only
        gold on items picked independently of the labels (control items, a random
        audit) measures how right the posteriors are: experts' verdicts on the review
        queue are the items the last fit was least sure of, and a model chosen and
        calibrated on those is chosen for the hard cases (bench/review.py: on
        trec_rf10 such refits broke more labels than they fixed).
        """
        check_labels(labels)
        gold = check_gold(gold, labels)
        scored = gold
        if gold is not None and control is not None:
            control = np.asarray(control, dtype=bool)
            if control.shape != (labels.n_items,):
                raise ValueError(f"control must have one entry per item ({labels.n_items})")
            scored = np.where(control, gold, -1)
        reuse = self._reused_selection(init)
        from_sample, calibration = None, None
        if reuse is None:
            from_sample, calibration = self._select(labels, gold, scored)
        else:
            self.method_, self.temperature_, self.floor_, class_bias = reuse
            self.scores_ = {}
            self.selected_on_ = "init"
        model = _candidate(self.method_)
        warm = self._warm_params(init, model)
        self.estimator_ = model.fit(labels, gold, init=from_sample if warm is None else warm)
        if reuse is None:
            if self.calibrate and from_sample is not None:  # calibrate at full scale
                calibration = self._calibration(labels, gold, scored, self.estimator_)
            if not self.calibrate or calibration is None:
                calibration = (1.0, 0.0, None)
            self.temperature_, self.floor_, class_bias = calibration
        self.class_bias_ = (
            np.zeros(labels.n_values) if class_bias is None else np.asarray(class_bias, float)
        )
        posteriors = self._calibrated(self.estimator_.posteriors_)
        clamp(posteriors, gold)
        for attr in ("prior_", "log_likelihood_", "n_iter_", "converged_"):
            setattr(self, attr, getattr(self.estimator_, attr))
        self.n_labels_per_annotator_ = self.estimator_.n_labels_per_annotator_
        self._finish(posteriors)
        return self

    def _calibrated(self, posteriors: np.ndarray) -> np.ndarray:
        return _calibrated(
            _log(posteriors),
            self.estimator_.prior_,
            self.temperature_,
            self.floor_,
            self.class_bias_,
        )

    def _reused_selection(self, init: Any) -> tuple[str, float, float, Any] | None:
        if isinstance(init, Auto):
            return init.method_, init.temperature_, init.floor_, init.class_bias_
        if isinstance(init, Mapping) and "method" in init:
            method = str(init["method"])
            if method not in CANDIDATES:
                raise ValueError(f"init method {method!r} is not one of {list(CANDIDATES)}")
            return (
                method,
                float(init.get("temperature", 1.0)),
                float(init.get("floor", 0.0)),
                init.get("class_bias"),
            )
        return None

    @staticmethod
    def _warm_params(init: Any, model: BaseEstimator) -> Any:
        """The part of ``init`` that can warm-start ``model``, or None."""
        if isinstance(init, Auto):
            init = init.estimator_
        if isinstance(init, Mapping):
            params = {k: v for k, v in init.items() if k not in _SELECTION_KEYS}
            return params if all(n in params for n in type(model)._annotator_params) else None
        if isinstance(init, EMEstimator) and type(init) is type(model):
            # majority vote and one-coin are both OneCoin: only same settings carry over
            return init if init.get_params() == model.get_params() else None
        return None

    def _select(
        self, labels: LabelArrays, gold: np.ndarray | None, scored: np.ndarray | None
    ) -> tuple[dict | None, Calibration | None]:
        """Set ``method_``, ``scores_``, ``selected_on_``.

        Returns the winner's sample-fitted parameters and its calibration.
        When the sample is a strict part of the labels, the parameters warm-start the
        fit on all labels (a few iterations over the full data instead of dozens) and
        the calibration is None: it must be measured on fits of the full data, since
        annotators with ~30 sample labels are less certain than with thousands.
        """
        sample, take = _sample(labels, scored, self.select_max_labels, self.seed)
        sample_gold = None if gold is None else gold[take]
        sample_scored = None if scored is None else scored[take]
        names = self._candidates(sample)
        n_gold = 0 if sample_scored is None else int((sample_scored >= 0).sum())
        self.selected_on_ = "gold" if n_gold >= max(self.min_gold, self.n_folds) else "labels"
        if self.selected_on_ == "gold":
            scores, self.method_, calibration = self._score_on_gold(
                sample, sample_gold, sample_scored, names, tol=self.select_tol
            )
        else:
            scores, self.method_, calibration = self._score_on_labels(
                sample, sample_gold, names, tol=self.select_tol
            )
        self.scores_ = {name: s[0] for name, s in scores.items()}
        if sample.n_labels == labels.n_labels:
            return None, calibration
        # the sample coded items compactly; only annotator parameters carry over
        fitted = _candidate(self.method_, self.select_tol).fit(sample, sample_gold)
        return {n: fitted.fitted_params()[n] for n in (*fitted._annotator_params, "prior_")}, None

    def _calibration(
        self,
        labels: LabelArrays,
        gold: np.ndarray | None,
        scored: np.ndarray | None,
        fitted: EMEstimator,
    ) -> Calibration | None:
        """Calibration of ``name`` cross-fitted on all labels.

        The fold fits start from ``fitted``'s parameters, which saw the held-out
        labels, so they run to a tight tolerance (:data:`CALIBRATION_TOL`): EM then
        ends near the fold's own optimum, not next to the start (at 1M labels 3 x 10
        iterations instead of 3 x 26 from majority vote).
        """
        names, init = [self.method_], fitted.fitted_params()
        if self.selected_on_ == "gold":
            return self._score_on_gold(labels, gold, scored, names, init, CALIBRATION_TOL)[2]
        return self._score_on_labels(labels, gold, names, init, CALIBRATION_TOL)[2]

    def _score_on_gold(
        self,
        sample: LabelArrays,
        gold: np.ndarray,
        scored: np.ndarray,
        names: list[str],
        init: Any = None,
        tol: float | None = None,
    ) -> tuple[dict[str, tuple[float, ...]], str, Calibration]:
        """Cross-fitted, calibrated gold log-likelihood of each candidate (then
        accuracy), the best (the first of equals), and its calibration.

        Each candidate is fitted ``n_folds`` times with one fold of gold hidden; the
        hidden items' posteriors are its held-out predictions, on which its calibration
        is fitted (:meth:`_gold_calibration`). Only ``scored`` gold is held out and
        scored; the rest of ``gold`` clamps its items in every fold.
        """
        known = np.flatnonzero(scored >= 0)
        fold = (_mix(known, 1, self.seed) % np.uint64(self.n_folds)).astype(np.int64)
        truth = scored[known]
        scores: dict[str, tuple[float, ...]] = {}
        best, calibration = names[0], None
        for name in names:
            held = np.empty((len(known), sample.n_values))
            prior = np.empty((len(known), sample.n_values))
            for f in range(self.n_folds):
                train = gold.copy()
                train[known[fold == f]] = -1
                est = _candidate(name, tol).fit(sample, train, init=init)
                held[fold == f] = est.posteriors_[known[fold == f]]
                prior[fold == f] = est.prior_
            params, log_lik, correct = self._gold_calibration(_log(held), prior, truth)
            scores[name] = (log_lik, correct)
            if name == names[0] or scores[name] > scores[best]:
                best, calibration = name, params
        return scores, best, calibration

    def _gold_calibration(
        self, log_held: np.ndarray, prior: np.ndarray, truth: np.ndarray
    ) -> tuple[Calibration, float, float]:
        """The calibration of held-out posteriors that best predicts their gold, its
        log-likelihood per item less one per fitted parameter (Akaike), and the
        accuracy of the calibrated posteriors.

        T always, the floor if ``floor``; with ``class_bias`` and at least
        ``min_gold_per_class`` gold items per class (on average), a bias per class too,
        if it wins on that penalised likelihood. The penalty makes calibrations with
        different numbers of parameters, fitted and scored on the same items,
        comparable (candidates too); it is also how the bias has to earn its place: a
        shift of the classes' log-odds is what a wrong class prior leaves behind, and
        a temperature cannot undo it.
        """
        # a few numbers to fit: a bounded, evenly spread share of the items is plenty
        every = -(-len(truth) // self.select_max_labels)
        log_held, prior, truth = log_held[::every], prior[::every], truth[::every]
        k = log_held.shape[1]
        with_bias = self.class_bias and len(truth) >= self.min_gold_per_class * k
        best: tuple[Calibration, float] | None = None
        for bias in (False, True) if with_bias else (False,):
            params, neg_ll = _fit_gold_calibration(
                log_held, prior, truth, self.floor, bias, self.bias_scale
            )
            n_params = 1 + int(self.floor) + (k - 1 if bias else 0)  # biases: K - 1 free
            log_lik = (-neg_ll - n_params) / len(truth)
            if best is None or log_lik > best[1]:
                best = (params, log_lik)
        params, log_lik = best
        predicted = _calibrated(log_held, prior, *params).argmax(axis=1)
        return params, log_lik, float((predicted == truth).mean())

    def _score_on_labels(
        self,
        sample: LabelArrays,
        gold: np.ndarray | None,
        names: list[str],
        init: Any = None,
        tol: float | None = None,
    ) -> tuple[dict[str, tuple[float, ...]], str, Calibration | None]:
        """Held-out label log-likelihood per label of each candidate, the best (the
        first of equals), and its calibration (temperature only; None without
        held-out labels)."""
        folds = fold_of(sample, self.n_folds, self.seed)
        # calibration needs two numbers: a bounded, hashed share of the held-out labels
        keep_every = -(-sample.n_labels // self.select_max_labels)
        thinned = fold_of(sample, keep_every, self.seed + 1) == 0
        scores: dict[str, tuple[float, ...]] = {}
        best, best_parts = names[0], []
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
            if name == names[0] or scores[name] > scores[best]:
                best, best_parts = name, parts  # a loser's held-out arrays are let go
        if not (self.calibrate and best_parts):
            return scores, best, None

        def neg_ll(t: float) -> float:
            total = 0.0
            for log_posterior, likelihood, prior in best_parts:
                p = _calibrated(log_posterior, prior, t, 0.0)
                total -= float(_log((p * likelihood).sum(axis=1)).sum())
            return total

        return scores, best, (_fit_temperature(neg_ll), 0.0, None)

    def predict_proba(self, labels: LabelArrays) -> np.ndarray:
        """One E-step of the chosen model, calibrated like the fit."""
        return self._calibrated(self.estimator_.predict_proba(labels))

    def fitted_params(self) -> dict[str, np.ndarray]:
        """The chosen model's parameters (``selection_`` has the method and temperature)."""
        return self.estimator_.fitted_params()

    def annotator_params(self, code: int) -> dict[str, np.ndarray]:
        """One annotator's parameters in the chosen model."""
        return self.estimator_.annotator_params(code)

    def population_params(self) -> dict[str, np.ndarray]:
        """The chosen model's parameters for annotators it has not seen."""
        return self.estimator_.population_params()
