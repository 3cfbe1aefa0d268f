"""GLAD (Whitehill et al., 2009): annotator ability and item difficulty.

P(annotator a gives the true value of item i) = sigmoid(alpha_[a] * exp(beta_[i])),
wrong answers spread evenly over the other values. ``alpha_`` is ability (negative =
adversarial), ``exp(beta_)`` is the item's easiness. Gaussian priors N(1, 1) on alpha
and on beta, as crowd-kit has them.

crowd-kit's implementation is pandas, with a K-times melted frame and conjugate
gradients; here the M-step is alternating 1-D Newton steps on alpha and beta, whose
gradients and curvatures are ``np.bincount`` sums over the label arrays, which is what
makes it fast.
"""

from __future__ import annotations

import numpy as np

from qc_service.engine.base import EMEstimator, right_wrong_likelihood
from qc_service.engine.encoding import LabelArrays

__all__ = ["GLAD"]

#: Largest change of one alpha or beta per Newton step: keeps early steps, taken from
#: majority-vote posteriors, from overshooting into a flat region of the sigmoid.
_MAX_STEP = 2.0
#: Newton sweeps of the first M-step of a cold start.
_COLD_SWEEPS = 10


class GLAD(EMEstimator):
    """GLAD EM.

    Parameters
    ----------
    alpha_prior_mean, beta_prior_mean:
        Means of the unit-variance Gaussian priors on abilities and log-easiness.
    fit_prior:
        Learn the class prior. Off by default, as in the paper and crowd-kit: with
        symmetric errors a learned prior can absorb the majority value and collapse.
    m_step_max_iter:
        Alternating Newton sweeps (alpha, then beta) per M-step. Each starts from the
        previous M-step's values, so a partial M-step (generalised EM) is enough.
    prior_smoothing, max_iter, tol:
        As for :class:`~qc_service.engine.dawid_skene.DawidSkene`.
    """

    _annotator_params = ("alpha_",)
    _item_params = ("beta_",)

    def __init__(
        self,
        alpha_prior_mean: float = 1.0,
        beta_prior_mean: float = 1.0,
        fit_prior: bool = False,
        m_step_max_iter: int = 2,
        prior_smoothing: float = 1.0,
        max_iter: int = 100,
        tol: float = 1e-6,
    ) -> None:
        self.alpha_prior_mean = alpha_prior_mean
        self.beta_prior_mean = beta_prior_mean
        self.fit_prior = fit_prior
        self.m_step_max_iter = m_step_max_iter
        self.prior_smoothing = prior_smoothing
        self.max_iter = max_iter
        self.tol = tol

    def _beta(self, n_items: int) -> np.ndarray:
        beta = getattr(self, "beta_", np.empty(0))
        if len(beta) >= n_items:
            return beta[:n_items]
        return np.concatenate([beta, np.full(n_items - len(beta), self.beta_prior_mean)])

    def _log_right_wrong(
        self, labels: LabelArrays, alpha: np.ndarray, beta: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per label: x = alpha*exp(beta), log P(right), log P(a given wrong value)."""
        x = alpha[labels.annotator] * np.exp(beta[labels.item])
        # softplus(x) = max(x, 0) + log1p(exp(-|x|)); np.logaddexp(0, x) is much slower
        soft = np.log1p(np.exp(-np.abs(x)))
        log_right = -(np.maximum(-x, 0.0) + soft)
        log_wrong = -(np.maximum(x, 0.0) + soft) - np.log(max(labels.n_values - 1, 1))
        return x, log_right, log_wrong

    def _item_log_lik(self, labels: LabelArrays) -> np.ndarray:
        alpha = self._extended("alpha_", labels.n_annotators)
        _, log_right, log_wrong = self._log_right_wrong(labels, alpha, self._beta(labels.n_items))
        k = labels.n_values
        out = np.bincount(labels.item, weights=log_wrong, minlength=labels.n_items)
        out = np.repeat(out[:, None], k, axis=1)
        out.ravel()[:] += np.bincount(
            labels.item * k + labels.value,
            weights=log_right - log_wrong,
            minlength=labels.n_items * k,
        )
        return out

    def _m_step(self, labels: LabelArrays, posteriors: np.ndarray) -> None:
        """Alternating 1-D Newton steps: abilities given difficulties, then the reverse.

        Given the item parameters, the expected log-likelihood separates into one
        1-D problem per annotator (and vice versa), whose gradient and curvature are
        per-label sums gathered with ``np.bincount``. One damped Newton step per block
        and sweep raises the objective (generalised EM) at the cost of about two
        passes over the labels, where a joint L-BFGS M-step needs 10-20.
        """
        n_a = labels.n_annotators
        right = posteriors[labels.item, labels.value]  # P(this label is the true value)
        cold = not hasattr(self, "alpha_")
        alpha = getattr(self, "alpha_", np.full(n_a, self.alpha_prior_mean))
        beta = self._beta(labels.n_items)
        # from the prior means, a couple of sweeps leave abilities so far from the
        # majority vote's that EM can slide into the label-flipped optimum
        for _ in range(_COLD_SWEEPS if cold else self.m_step_max_iter):
            easiness = np.exp(beta)[labels.item]
            x = alpha[labels.annotator] * easiness
            p = 1.0 / (1.0 + np.exp(-x))
            # alpha: Q is concave in each alpha_a (curvature -sum p(1-p)e^2b - 1 < 0)
            grad = np.bincount(labels.annotator, (right - p) * easiness, n_a)
            grad -= alpha - self.alpha_prior_mean
            curv = np.bincount(labels.annotator, p * (1.0 - p) * easiness**2, n_a) + 1.0
            alpha = alpha + np.clip(grad / curv, -_MAX_STEP, _MAX_STEP)
            x = alpha[labels.annotator] * easiness
            p = 1.0 / (1.0 + np.exp(-x))
            # beta: not concave in general; Newton where the curvature is negative
            # enough, else a gradient step of length at most _MAX_STEP
            resid = (right - p) * x
            grad = np.bincount(labels.item, resid, labels.n_items) - (beta - self.beta_prior_mean)
            curv = np.bincount(labels.item, p * (1.0 - p) * x**2 - resid, labels.n_items) + 1.0
            beta = beta + np.clip(grad / np.maximum(curv, 1.0), -_MAX_STEP, _MAX_STEP)
        self.alpha_ = alpha
        self.beta_ = beta

    def label_likelihood(self, labels: LabelArrays) -> np.ndarray:
        """P(each label's value | true value t), labels x K."""
        alpha = self._extended("alpha_", labels.n_annotators)
        _, log_right, log_wrong = self._log_right_wrong(labels, alpha, self._beta(labels.n_items))
        return right_wrong_likelihood(labels, np.exp(log_right), np.exp(log_wrong))
