import numpy as np
import pytest

from qc_service.engine import (
    DawidSkene,
    LabelArrays,
    MajorityVote,
    confusable_pairs,
    expected_calibration_error,
    krippendorff_alpha,
    reliability,
    spammer_score,
)
from qc_service.engine.dawid_skene import confusion_counts

from .conftest import load_dataset, synthetic


@pytest.mark.parametrize("cls", [DawidSkene, MajorityVote])
def test_reliability_separates_spammers(cls):
    labels, truth = synthetic(n_items=400, n_annotators=20, k=2, per_item=6, seed=4, spammers=0.3)
    est = cls().fit(labels)
    rel = reliability(est, labels, gold=truth)
    assert ((rel.accuracy_low <= rel.accuracy) & (rel.accuracy <= rel.accuracy_high)).all()
    assert rel.n_labels.sum() == labels.n_labels
    np.testing.assert_allclose(rel.confusion.sum(axis=2), 1.0)
    # spammer score tracks accuracy on gold
    order = np.argsort(rel.spammer_score)
    assert rel.gold_accuracy[order[:3]].mean() < rel.gold_accuracy[order[-3:]].mean()


def test_credible_interval_narrows_with_labels():
    labels, _ = synthetic(n_items=600, n_annotators=30, k=2, per_item=3, seed=6)
    rel = reliability(DawidSkene().fit(labels), labels)
    width = rel.accuracy_high - rel.accuracy_low
    few, many = np.argsort(rel.n_labels)[:5], np.argsort(rel.n_labels)[-5:]
    assert width[few].mean() > width[many].mean()


@pytest.mark.parametrize("k", [2, 5])
def test_credible_interval_matches_monte_carlo(k):
    """The interval is the 2.5 % and 97.5 % quantiles of sum_k prior_k * pi[k, k] with
    each confusion row Dirichlet(1 + soft counts): compare with 100,000 draws."""
    labels, _ = synthetic(n_items=500, n_annotators=40, k=k, per_item=4, seed=7)
    labels = LabelArrays.from_codes(  # a few annotators with almost no labels
        np.r_[labels.item, 0, 1, 2],
        np.r_[labels.annotator, 40, 40, 41],
        np.r_[labels.value, 0, 1, 0],
    )
    est = DawidSkene().fit(labels)
    rel = reliability(est, labels)
    alpha = confusion_counts(labels, est.posteriors_) + 1.0
    a_kk = np.diagonal(alpha, axis1=1, axis2=2)
    draws = np.random.default_rng(0).beta(
        a_kk, alpha.sum(axis=2) - a_kk, size=(100_000, *a_kk.shape)
    ) @ np.asarray(est.prior_)
    low, high = np.quantile(draws, [0.025, 0.975], axis=0)
    tolerance = np.where(rel.n_labels >= 12, 0.008, 0.025)
    assert (np.abs(rel.accuracy_low - low) < tolerance).all()
    assert (np.abs(rel.accuracy_high - high) < tolerance).all()
    assert (rel.n_labels < 12).sum() >= 2


def test_spammer_score_extremes():
    perfect = np.eye(3)[None]
    spam = np.tile([0.2, 0.5, 0.3], (3, 1))[None]
    np.testing.assert_allclose(spammer_score(np.concatenate([perfect, spam])), [1.0, 0.0])


def test_expected_calibration_error():
    assert expected_calibration_error(np.array([0.8] * 10), np.array([1] * 8 + [0] * 2)) < 1e-12
    assert np.isclose(expected_calibration_error(np.array([1.0, 1.0]), np.array([1, 0])), 0.5)


def test_krippendorff_alpha():
    agree = LabelArrays.from_codes([0, 0, 1, 1], [0, 1, 0, 1], [0, 0, 1, 1])
    assert np.isclose(krippendorff_alpha(agree), 1.0)
    disagree = LabelArrays.from_codes([0, 0, 1, 1], [0, 1, 0, 1], [0, 1, 1, 0])
    assert krippendorff_alpha(disagree) < 0
    # the textbook example (Krippendorff 2011, nominal, 4 coders, 12 units): 0.743
    table = [
        [1, 1, None, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2],
        [1, 2, 3, 4], [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [None, 5, 5, 5],
        [None, None, 1, 1], [None, None, 3, None],
    ]  # fmt: skip
    rows = [(u, c, v) for u, row in enumerate(table) for c, v in enumerate(row) if v is not None]
    item, coder, value = (np.array(x) for x in zip(*rows, strict=True))
    assert round(krippendorff_alpha(LabelArrays.from_codes(item, coder, value)), 3) == 0.743


def test_confusable_pairs_on_real_data():
    labels, _, _ = load_dataset("music_genre")
    pairs = confusable_pairs(labels, DawidSkene().fit(labels).posteriors_, top=3)
    assert len(pairs) == 3 and pairs[0][2] >= pairs[1][2] >= pairs[2][2] > 0
