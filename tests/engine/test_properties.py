"""Property tests: the output is a function of the labels, not of how they are coded."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qc_service.engine import MACE, DawidSkene, LabelArrays, MajorityVote, OneCoin

from .conftest import synthetic

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
METHODS = st.sampled_from([MajorityVote, DawidSkene, OneCoin, MACE])


@st.composite
def label_sets(draw):
    seed = draw(st.integers(0, 10_000))
    k = draw(st.integers(2, 4))
    labels, _ = synthetic(
        n_items=draw(st.integers(5, 40)), n_annotators=8, k=k, per_item=3, seed=seed
    )
    return labels, np.random.default_rng(seed)


def permuted(labels, pi, pa, pv):
    return LabelArrays(
        pi[labels.item],
        pa[labels.annotator],
        pv[labels.value],
        labels.n_items,
        labels.n_annotators,
        labels.n_values,
    )


@SETTINGS
@given(label_sets(), METHODS)
def test_posteriors_are_distributions(data, cls):
    labels, _ = data
    p = cls().fit(labels).posteriors_
    assert (p >= 0).all() and np.allclose(p.sum(axis=1), 1.0)


@SETTINGS
@given(label_sets(), METHODS)
def test_relabelling_permutes_the_output(data, cls):
    labels, rng = data
    pi = rng.permutation(labels.n_items)
    pa = rng.permutation(labels.n_annotators)
    pv = rng.permutation(labels.n_values)
    order = rng.permutation(labels.n_labels)  # row order too
    base = cls(**({} if cls is MajorityVote else {"tol": 1e-10})).fit(labels)
    moved = cls(**({} if cls is MajorityVote else {"tol": 1e-10})).fit(
        permuted(labels.subset(order), pi, pa, pv)
    )
    expected = np.empty_like(base.posteriors_)
    expected[np.ix_(pi, pv)] = base.posteriors_
    np.testing.assert_allclose(moved.posteriors_, expected, atol=1e-6)


def doubled(labels):
    return LabelArrays(
        np.concatenate([labels.item, labels.item]),
        np.concatenate([labels.annotator, labels.annotator + labels.n_annotators]),
        np.concatenate([labels.value, labels.value]),
        labels.n_items,
        2 * labels.n_annotators,
        labels.n_values,
    )


@SETTINGS
@given(label_sets())
def test_duplicating_every_annotator_keeps_majority_vote(data):
    labels, _ = data
    once, twice = MajorityVote().fit(labels), MajorityVote().fit(doubled(labels))
    np.testing.assert_array_equal(once.labels_, twice.labels_)
    np.testing.assert_allclose(once.posteriors_, twice.posteriors_)


@pytest.mark.parametrize("cls", [DawidSkene, OneCoin, MACE])
def test_duplicating_every_annotator_keeps_em_labels(cls):
    """Not exact for EM: squaring every item's likelihood sharpens the posteriors, which
    moves the M-step; on items the model is not torn about the labels stay."""
    labels, _ = synthetic(n_items=300, seed=3)
    once, twice = cls().fit(labels), cls().fit(doubled(labels))
    clear = once.confidence_ > 0.6
    assert (once.labels_[clear] == twice.labels_[clear]).mean() > 0.98
