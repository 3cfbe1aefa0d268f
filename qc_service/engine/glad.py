"""GLAD (Whitehill et al., 2009): annotator ability and item difficulty.

P(annotator a gives the true value of item i) = sigmoid(alpha_[a] * exp(beta_[i])),
wrong answers spread evenly over the other values. ``alpha_`` is ability (negative =
adversarial), ``exp(beta_)`` is the item's easiness. Gaussian priors N(1, 1) on alpha
and on beta, as crowd-kit has them.

crowd-kit's implementation is pandas, with a K-times melted frame and conjugate
gradients; here the M-step is L-BFGS over (alpha, beta) with an analytical gradient
computed by ``np.bincount`` over the label arrays, which is what makes it fast.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from qc_service.engine.base import EMEstimator
from qc_service.engine.encoding import LabelArrays

__all__ = ["GLAD"]


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
        L-BFGS iterations per M-step. It warm-starts from the previous M-step, so a
        partial M-step (generalised EM) is enough and much cheaper than a full one.
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
        m_step_max_iter: int = 10,
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
        n_a = labels.n_annotators
        right = posteriors[labels.item, labels.value]  # P(this label is the true value)
        alpha0 = getattr(self, "alpha_", np.full(n_a, self.alpha_prior_mean))
        x0 = np.concatenate([alpha0, self._beta(labels.n_items)])

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            alpha, beta = theta[:n_a], theta[n_a:]
            x, log_right, log_wrong = self._log_right_wrong(labels, alpha, beta)
            # elementwise sums: a BLAS dot spins up threads and is slower at these sizes
            q = (right * log_right).sum() + ((1.0 - right) * log_wrong).sum()
            q -= 0.5 * ((alpha - self.alpha_prior_mean) ** 2).sum()
            q -= 0.5 * ((beta - self.beta_prior_mean) ** 2).sum()
            resid = right - np.exp(log_right)  # dQ/dx per label
            easiness = np.exp(beta[labels.item])
            grad_alpha = np.bincount(labels.annotator, weights=resid * easiness, minlength=n_a) - (
                alpha - self.alpha_prior_mean
            )
            grad_beta = np.bincount(labels.item, weights=resid * x, minlength=labels.n_items) - (
                beta - self.beta_prior_mean
            )
            return -q, -np.concatenate([grad_alpha, grad_beta])

        result = minimize(
            objective,
            x0,
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": self.m_step_max_iter},
        )
        self.alpha_ = result.x[:n_a].copy()
        self.beta_ = result.x[n_a:].copy()

    def label_proba(self, labels: LabelArrays) -> np.ndarray:
        """P(each label's value | the item's posterior), for held-out likelihood."""
        alpha = self._extended("alpha_", labels.n_annotators)
        _, log_right, log_wrong = self._log_right_wrong(labels, alpha, self._beta(labels.n_items))
        p = self.posteriors_[labels.item, labels.value]
        return p * np.exp(log_right) + (1.0 - p) * np.exp(log_wrong)
