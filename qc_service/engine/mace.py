"""MACE (Hovy et al., 2013, "Learning Whom to Trust with MACE"): competence and spam.

Each annotator either knows the answer and gives it, with probability
``competence_[a]``, or spams: draws a value from their own ``spam_[a]`` distribution,
whatever the truth. So P(value v | true t) = competence [v = t] + (1 - competence)
spam[v]. Unlike one-coin, a spammer's errors need not be uniform (someone who always
answers "yes" has spam mass on "yes"); unlike Dawid-Skene, an annotator has K
parameters, not K x K, which is what keeps it steady when annotators give few labels.

Fitted by variational Bayes, the paper's recommended variant: a Beta prior on each
competence and a symmetric Dirichlet prior on each spam distribution, whose posteriors
are updated from the expected counts of known and spammed labels; the E-step uses
the geometric means exp(E[log parameter]). Those do not sum to one, but their
shortfall is the same whatever the true value, so the parameters are stored
normalised (a proper P(value | true)) and give exactly the same posteriors; they are
what ``label_likelihood`` and ``predict_proba`` use. ``variational=False`` is plain EM
with the priors' pseudo-counts added (posterior means instead of geometric means).

crowd-kit runs 10 random restarts of 50 iterations each on pandas group-bys (its
restarts share one seed, so all ten are the same run). Here EM starts once from
majority vote, like the other estimators, and each iteration is two products with the
sparse items x (annotator, value) count matrix, as for Dawid-Skene: a label's
likelihood depends only on its annotator and value.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import digamma

from qc_service.engine.base import EPS, right_wrong_likelihood
from qc_service.engine.dawid_skene import PairMatrixEM
from qc_service.engine.encoding import LabelArrays

__all__ = ["MACE"]

#: Competence assumed before the first M-step of a cold start (spam uniform): it only
#: splits the majority-vote posteriors' first expected counts into known and spammed.
_COLD_COMPETENCE = 0.5


class MACE(PairMatrixEM):
    """MACE by variational Bayes (or EM).

    Parameters
    ----------
    competence_prior:
        (a, b) of the Beta prior on each competence: pseudo-counts of known and of
        spammed labels. The default Beta(0.5, 0.5) (crowd-kit's) leans to the ends: an
        annotator tends to be either trustworthy or a spammer.
    spam_prior:
        Pseudo-count per value of the symmetric Dirichlet prior on each spam
        distribution. The default 10 (crowd-kit's) keeps an annotator's spam close to
        uniform until they have spammed a few dozen labels.
    variational:
        Variational Bayes (the paper's recommended variant); else EM with the priors'
        pseudo-counts.
    fit_prior:
        Learn the class prior. Off by default, as in the paper and crowd-kit: a spam
        distribution can already absorb a value everyone over-uses. With strongly
        unbalanced classes that absorption discounts right answers too (on a set
        with 88 % of items in one class: 0.833 accuracy off, 0.931 on).
    prior_smoothing, max_iter, tol:
        As for :class:`~qc_service.engine.dawid_skene.DawidSkene`.
    """

    _annotator_params = ("competence_", "spam_")

    def __init__(
        self,
        competence_prior: tuple[float, float] = (0.5, 0.5),
        spam_prior: float = 10.0,
        variational: bool = True,
        fit_prior: bool = False,
        prior_smoothing: float = 1.0,
        max_iter: int = 100,
        tol: float = 1e-6,
    ) -> None:
        self.competence_prior = competence_prior
        self.spam_prior = spam_prior
        self.variational = variational
        self.fit_prior = fit_prior
        self.prior_smoothing = prior_smoothing
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, labels: LabelArrays, gold: np.ndarray | None = None, init: Any = None) -> MACE:
        """EM (see :class:`PairMatrixEM`), once the priors are checked."""
        known, spammed = self.competence_prior
        if min(known, spammed, self.spam_prior) <= 0:
            raise ValueError("competence_prior and spam_prior must be positive")
        return super().fit(labels, gold, init)

    def _right_wrong(self, n_annotators: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """n_annotators x K: P(value v | true value v) and P(value v | any other true value).

        Both depend on the annotator and the value only, so every per-label sum of EM is
        a product with the items x (annotator, value) pair matrix, as for Dawid-Skene.
        """
        if hasattr(self, "competence_"):
            competence = self._extended("competence_", n_annotators)
            spam = self._extended("spam_", n_annotators)
        else:  # cold start: the first M-step
            competence = np.full(n_annotators, _COLD_COMPETENCE)
            spam = np.full((n_annotators, k), 1.0 / k)
        wrong = (1.0 - competence)[:, None] * spam
        return competence[:, None] + wrong, wrong

    def _m_step(self, labels: LabelArrays, posteriors: np.ndarray) -> None:
        """Expected known and spammed labels per annotator (and spammed per value),
        then the posterior of each competence and spam distribution."""
        n_a, k = labels.n_annotators, labels.n_values
        right, wrong = self._right_wrong(n_a, k)
        # [annotator * K + given, true]: sum of P(true) over the annotator's labels given
        counts = self._pairs(labels).T @ posteriors
        given = np.tile(np.arange(k), n_a)
        n_given = counts.sum(axis=1).reshape(n_a, k)
        given_is_true = counts[np.arange(n_a * k), given].reshape(n_a, k)
        # a label is known only if its value is the truth: P(true = v) * P(known | v, v)
        known = given_is_true * (right - wrong) / np.maximum(right, EPS)
        known_counts = known.sum(axis=1)
        spam_counts = np.maximum(n_given - known, 0.0)
        spammed_counts = spam_counts.sum(axis=1)
        a, b = self.competence_prior
        if self.variational:
            total = digamma(known_counts + spammed_counts + a + b)
            log_known = digamma(known_counts + a) - total
            log_spammed = digamma(spammed_counts + b) - total
            spam = np.exp(
                digamma(spam_counts + self.spam_prior)
                - digamma(spammed_counts + k * self.spam_prior)[:, None]
            )
            shortfall = spam.sum(axis=1)
            # P(v | t) is proportional to known [v = t] + spammed * spam[v] for every t
            competence = 1.0 / (1.0 + np.exp(log_spammed - log_known) * shortfall)
            spam /= shortfall[:, None]
        else:
            competence = (known_counts + a) / (known_counts + spammed_counts + a + b)
            spam = spam_counts + self.spam_prior
            spam /= spam.sum(axis=1, keepdims=True)
        self.competence_ = np.clip(competence, EPS, 1.0 - EPS)
        self.spam_ = np.maximum(spam, EPS)

    def _item_log_lik(self, labels: LabelArrays) -> np.ndarray:
        n_a, k = labels.n_annotators, labels.n_values
        right, wrong = self._right_wrong(n_a, k)
        log_right, log_wrong = np.log(np.maximum(right, EPS)), np.log(np.maximum(wrong, EPS))
        # [annotator * K + given, true]: log P(given | true)
        by_pair = np.repeat(log_wrong.reshape(-1, 1), k, axis=1)
        by_pair[np.arange(n_a * k), np.tile(np.arange(k), n_a)] = log_right.ravel()
        return np.asarray(self._pairs(labels) @ by_pair)

    def _accept_init(self, params: dict[str, np.ndarray], labels: LabelArrays) -> None:
        if np.ndim(params.get("spam_")) != 2 or np.shape(params["spam_"])[1] != labels.n_values:
            raise ValueError("init spam_ must be n_annotators x n_values")
        super()._accept_init(params, labels)

    def label_likelihood(self, labels: LabelArrays) -> np.ndarray:
        """P(each label's value | true value t), labels x K."""
        right, wrong = self._right_wrong(labels.n_annotators, labels.n_values)
        at = (labels.annotator, labels.value)
        return right_wrong_likelihood(labels, right[at], wrong[at])

    @property
    def confusion_(self) -> np.ndarray:
        """The confusion matrices the model implies, ``[annotator, true, given]``:
        competence on the diagonal plus the spam distribution in every row (what
        :func:`~qc_service.engine.reliability.reliability` reports)."""
        if not hasattr(self, "competence_"):
            raise AttributeError("confusion_")
        k = self.spam_.shape[1]
        spammed = (1.0 - self.competence_)[:, None, None] * self.spam_[:, None, :]
        return spammed + self.competence_[:, None, None] * np.eye(k)
