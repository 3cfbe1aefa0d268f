"""``auto``: selection on a bounded sample, reuse of a selection, selection on gold."""

from __future__ import annotations

import numpy as np

from qc_service.engine import Auto, DawidSkene, LabelArrays, expected_calibration_error
from qc_service.engine.auto import _sample

from .conftest import synthetic


def test_sample_takes_whole_items_gold_first_and_is_bounded():
    labels, _ = synthetic(n_items=400, per_item=5)
    gold = np.full(labels.n_items, -1)
    gold[[7, 300, 399]] = 0
    sample, sample_gold = _sample(labels, gold, max_labels=500, seed=0)
    assert sample.n_labels == 500 and sample.n_items == 100  # whole items of 5 labels
    assert (sample_gold >= 0).sum() == 3  # every gold item made it in
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
    assert auto.scores_["dawid_skene"] > 0.8 > auto.scores_["majority_vote"]
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
