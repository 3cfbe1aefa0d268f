"""``auto``: selection on a bounded sample, reuse of a selection, selection on gold."""

from __future__ import annotations

import numpy as np
import pytest

from qc_service.engine import Auto, DawidSkene, LabelArrays, expected_calibration_error
from qc_service.engine.auto import _calibrated, _fit_gold_calibration, _sample

from .conftest import synthetic


def test_sample_takes_whole_items_gold_first_and_is_bounded():
    labels, _ = synthetic(n_items=400, per_item=5)
    gold = np.full(labels.n_items, -1)
    gold[[7, 300, 399]] = 0
    sample, taken = _sample(labels, gold, max_labels=500, seed=0)
    assert sample.n_labels == 500 and sample.n_items == 100  # whole items of 5 labels
    assert (gold[taken] >= 0).sum() == 3  # every gold item made it in
    assert np.bincount(sample.item, minlength=sample.n_items).min() == 5
    # a different seed draws other items
    other, _ = _sample(labels, None, max_labels=500, seed=1)
    assert other.n_labels == 500
    assert not np.array_equal(np.sort(other.value), np.sort(sample.value)) or not np.array_equal(
        other.annotator, sample.annotator
    )


def test_selects_on_a_sample_and_fits_the_winner_on_all_labels():
    labels, truth = synthetic(n_items=1500, n_annotators=40, per_item=5, seed=3)
    auto = Auto(select_max_labels=2000).fit(labels)
    assert auto.selected_on_ == "labels" and set(auto.scores_) <= {
        "majority_vote", "one_coin", "dawid_skene", "glad"
    }  # fmt: skip
    assert auto.estimator_.n_labels_per_annotator_.sum() == labels.n_labels
    full = Auto().fit(labels)  # selection on everything picks the same model here
    assert auto.method_ == full.method_
    assert (auto.labels_ == full.labels_).mean() > 0.98
    assert (auto.labels_ == truth).mean() > 0.85


def test_warm_refit_reuses_the_selection():
    labels, _ = synthetic()
    first = Auto().fit(labels)
    for init in (first, {**first.fitted_params(), **first.selection_}):
        again = Auto().fit(labels, init=init)
        assert again.selected_on_ == "init" and again.scores_ == {}
        assert again.selection_ == first.selection_
        assert again.n_iter_ <= 3  # warm-started from the previous parameters
        assert (again.labels_ == first.labels_).mean() > 0.99


def test_with_gold_selects_what_predicts_held_out_gold():
    # gold names the classes differently from the annotators (true value t is
    # answered as t by good annotators but recorded in gold as t + 1): majority vote
    # can never match gold, Dawid-Skene with the other gold clamped learns the mapping
    labels, truth = synthetic(n_items=600, spammers=0.0, seed=5)
    shifted = (truth + 1) % labels.n_values
    gold = np.full(labels.n_items, -1)
    gold[:150] = shifted[:150]
    auto = Auto(candidates=("majority_vote", "dawid_skene")).fit(labels, gold=gold)
    assert auto.selected_on_ == "gold"
    assert auto.method_ == "dawid_skene"
    # scores: held-out gold log-likelihood per item, after calibration
    assert auto.scores_["dawid_skene"] > np.log(0.8) > np.log(0.5) > auto.scores_["majority_vote"]
    assert (auto.labels_[150:] == shifted[150:]).mean() > 0.8
    # without gold the same data are aggregated in the annotators' own classes
    assert (Auto().fit(labels).labels_ == truth).mean() > 0.8


def test_a_fitted_candidate_warm_starts_only_its_own_model():
    labels, _ = synthetic()
    ds = DawidSkene().fit(labels)
    auto = Auto(candidates=("dawid_skene",)).fit(labels, init=ds)
    assert auto.estimator_.n_iter_ <= 3


def _ece(auto: Auto, truth: np.ndarray, items: np.ndarray) -> float:
    right = auto.labels_[items] == truth[items]
    return expected_calibration_error(auto.confidence_[items], right)


def test_floor_calibrates_a_crowd_that_agrees_on_wrong_answers():
    # on a tenth of the items every annotator gives the same wrong value: the labels
    # are near unanimous there, so only gold can tell how often that happens
    labels, truth = synthetic(n_items=1500, spammers=0.0, seed=7)
    tricky = (np.random.default_rng(1).random(labels.n_items) < 0.1)[labels.item]
    value = np.where(tricky, (truth[labels.item] + 1) % labels.n_values, labels.value)
    labels = LabelArrays(labels.item, labels.annotator, value, labels.n_items,
                         labels.n_annotators, labels.n_values)  # fmt: skip
    gold = np.full(labels.n_items, -1)
    gold[:500] = truth[:500]
    unseen = np.arange(500, labels.n_items)  # scored against the truth gold did not give
    with_floor = Auto().fit(labels, gold=gold)
    without = Auto(floor=False).fit(labels, gold=gold)
    assert with_floor.selected_on_ == "gold" and 0.05 < with_floor.floor_ < 0.3
    assert without.floor_ == 0.0
    assert _ece(with_floor, truth, unseen) < 0.05 < 0.1 < _ece(without, truth, unseen)
    # the streaming E-step is calibrated like the fit
    np.testing.assert_allclose(
        with_floor.predict_proba(labels)[unseen], with_floor.posteriors_[unseen], atol=1e-3
    )
    # held-out labels cannot see it: without gold, temperature only
    assert Auto().fit(labels).floor_ == 0.0


def test_calibration_is_measured_on_all_labels_when_selection_used_a_sample():
    # annotators have ~50 labels in a 2,000-label sample and ~500 in all: a temperature
    # learned on the sample would over-soften the full fit's posteriors
    labels, truth = synthetic(n_items=4000, n_annotators=40, per_item=5, seed=1)
    sampled = Auto(select_max_labels=2000).fit(labels)
    whole = Auto(select_max_labels=labels.n_labels).fit(labels)
    assert sampled.method_ == whole.method_ == "dawid_skene"
    assert abs(sampled.temperature_ - whole.temperature_) < 0.15
    assert _ece(sampled, truth, np.arange(labels.n_items)) < 0.03


def _skewed(n_items: int = 2000, share_of_1: float = 0.15, seed: int = 0):
    """Binary labels, every annotator right 75 % of the time, class 1 rare: majority
    vote (uniform prior) then over-predicts class 1 by the log prior ratio, a shift a
    temperature cannot undo."""
    rng = np.random.default_rng(seed)
    truth = (rng.random(n_items) < share_of_1).astype(np.int64)
    item = np.repeat(np.arange(n_items), 3)
    annotator = rng.integers(0, 50, len(item))
    value = np.where(rng.random(len(item)) < 0.75, truth[item], 1 - truth[item])
    return LabelArrays(item, annotator, value, n_items, 50, 2), truth


def test_gold_calibration_recovers_a_known_temperature_and_class_shift():
    rng = np.random.default_rng(0)
    n, k = 20_000, 3
    log_held = np.log(rng.dirichlet(np.ones(k), size=n))
    shift = np.array([0.8, -0.3, -0.5])  # sums to 0: the prior's gauge
    truth_p = _calibrated(log_held, np.full(k, 1 / k), 2.0, 0.0, shift)
    truth = (rng.random(n)[:, None] > truth_p.cumsum(axis=1)).sum(axis=1)
    (t, floor, bias), neg_ll = _fit_gold_calibration(
        log_held, np.full(k, 1 / k), truth, with_floor=False, with_bias=True
    )
    assert abs(t - 2.0) < 0.1 and floor == 0.0
    np.testing.assert_allclose(bias, shift, atol=0.06)
    (_, _, none), worse = _fit_gold_calibration(log_held, np.full(k, 1 / k), truth, False)
    assert none is None and worse > neg_ll + 100  # the shift is worth much more than 1 nat


def test_class_bias_undoes_a_wrong_class_prior_when_gold_allows():
    labels, truth = _skewed()
    gold = np.where(np.arange(labels.n_items) < 400, truth, -1)
    unseen = np.arange(400, labels.n_items)
    biased = Auto(candidates=("majority_vote",)).fit(labels, gold=gold)
    plain = Auto(candidates=("majority_vote",), class_bias=False).fit(labels, gold=gold)
    # log(0.85 / 0.15) = 1.73, shrunk a little by the N(0, 1) prior on each bias
    assert 1.2 < biased.class_bias_[0] - biased.class_bias_[1] < 2.3
    assert not plain.class_bias_.any()

    def log_loss(auto: Auto) -> float:
        return -float(np.log(auto.posteriors_[unseen, truth[unseen]]).mean())

    assert log_loss(biased) < log_loss(plain) - 0.05
    assert (biased.labels_[unseen] == truth[unseen]).mean() > (
        plain.labels_[unseen] == truth[unseen]
    ).mean() + 0.02
    # the bias is part of the selection: a warm refit and the streaming E-step keep it
    again = Auto().fit(labels, gold=gold, init=biased.selection_ | biased.fitted_params())
    np.testing.assert_array_equal(again.class_bias_, biased.class_bias_)
    np.testing.assert_allclose(biased.predict_proba(labels)[unseen], biased.posteriors_[unseen])


def test_class_bias_needs_enough_gold_per_class():
    labels, truth = _skewed()
    # 36 gold items: enough to select on (min_gold 30), not 20 per class for 2 classes
    gold = np.where(np.arange(labels.n_items) < 36, truth, -1)
    auto = Auto(candidates=("majority_vote",)).fit(labels, gold=gold)
    assert auto.selected_on_ == "gold" and not auto.class_bias_.any()
    # and none without gold, whatever the labels
    assert not Auto().fit(labels).class_bias_.any()


def test_calibration_on_gold_is_deterministic_whatever_the_row_order():
    labels, truth = _skewed(seed=3)
    gold = np.where(np.arange(labels.n_items) < 400, truth, -1)
    order = np.random.default_rng(1).permutation(labels.n_labels)
    shuffled = LabelArrays(labels.item[order], labels.annotator[order], labels.value[order],
                           labels.n_items, labels.n_annotators, labels.n_values)  # fmt: skip
    first, second = Auto().fit(labels, gold=gold), Auto().fit(shuffled, gold=gold)
    again = Auto().fit(labels, gold=gold)
    assert first.selection_ == again.selection_
    assert first.method_ == second.method_
    np.testing.assert_allclose(
        [first.temperature_, first.floor_, *first.class_bias_],
        [second.temperature_, second.floor_, *second.class_bias_],
        atol=1e-6,
    )
    np.testing.assert_allclose(first.posteriors_, second.posteriors_, atol=1e-6)


def test_only_control_gold_chooses_and_calibrates_but_all_gold_clamps():
    labels, truth = synthetic(n_items=600, n_annotators=30, per_item=5, seed=11)
    gold = np.where(np.arange(labels.n_items) < 200, truth, -1)
    unscored = Auto().fit(labels, gold=gold, control=np.zeros(labels.n_items, bool))
    # chosen and calibrated on held-out labels, as without gold (the gold clamps there)
    assert unscored.selected_on_ == "labels"
    assert Auto().fit(labels, gold=gold).selected_on_ == "gold"
    assert (unscored.labels_[:200] == truth[:200]).all()

    control = np.arange(labels.n_items) < 100
    part = Auto().fit(labels, gold=gold, control=control)
    assert part.selected_on_ == "gold"
    # the other 100 gold items clamp in every fold, so the scores differ from a fit
    # given the control gold alone, but they are scored only on the control items
    alone = Auto().fit(labels, gold=np.where(control, truth, -1))
    assert part.scores_.keys() == alone.scores_.keys()
    assert part.scores_ != alone.scores_
    assert (part.labels_[:200] == truth[:200]).all()
    assert Auto().fit(labels, gold=gold, control=None).scores_ != part.scores_


def test_control_must_name_every_item():
    labels, truth = synthetic(n_items=50, per_item=3)
    with pytest.raises(ValueError, match="one entry per item"):
        Auto().fit(labels, gold=truth, control=np.ones(10, bool))
