import numpy as np
import pytest

from qc_service.engine import (
    GLAD,
    MACE,
    METHODS,
    Auto,
    DawidSkene,
    LabelArrays,
    MajorityVote,
    OneCoin,
    make_estimator,
)

from .conftest import synthetic

OWN = [MajorityVote, DawidSkene, OneCoin, GLAD, MACE, Auto]
EM = [DawidSkene, OneCoin, GLAD, MACE]


def accuracy(est, truth):
    return float((est.labels_ == truth).mean())


@pytest.mark.parametrize("cls", OWN)
def test_result_attributes(cls, small):
    labels, truth = small
    est = cls().fit(labels)
    assert est.posteriors_.shape == (labels.n_items, labels.n_values)
    np.testing.assert_allclose(est.posteriors_.sum(axis=1), 1.0)
    assert (est.labels_ == est.posteriors_.argmax(axis=1)).all()
    np.testing.assert_allclose(est.confidence_, est.posteriors_.max(axis=1))
    assert isinstance(est.converged_, bool) and est.n_iter_ >= 0
    assert accuracy(est, truth) > 0.7


@pytest.mark.parametrize("cls", EM)
def test_em_beats_majority_vote_with_spammers(cls):
    labels, truth = synthetic(n_items=400, spammers=0.4, seed=1)
    em = cls().fit(labels)
    assert em.converged_
    assert accuracy(em, truth) >= accuracy(MajorityVote().fit(labels), truth)
    ll = np.array(em.log_likelihood_)
    assert np.isfinite(ll).all()


def test_dawid_skene_without_smoothing_increases_likelihood(small):
    ll = np.diff(DawidSkene(smoothing=0).fit(small[0]).log_likelihood_)
    assert (ll >= -1e-6).all()


@pytest.mark.parametrize("cls", OWN)
def test_empty_input_is_refused(cls):
    empty = LabelArrays(np.array([], int), np.array([], int), np.array([], int), 0, 0, 2)
    with pytest.raises(ValueError, match="empty"):
        cls().fit(empty)


@pytest.mark.parametrize("cls", OWN)
def test_edge_cases(cls):
    # one annotator; one item with a single label; an item with no label at all
    single = LabelArrays.from_codes([0, 1, 2], [0, 0, 0], [0, 1, 1], n_items=4, n_values=2)
    est = cls().fit(single)
    assert est.labels_[:3].tolist() == [0, 1, 1]
    np.testing.assert_allclose(est.posteriors_[3], est.prior_)
    # one value only
    one = LabelArrays.from_codes([0, 1, 1], [0, 0, 1], [0, 0, 0])
    est = cls().fit(one)
    assert est.labels_.tolist() == [0, 0] and np.allclose(est.posteriors_, 1.0)


@pytest.mark.parametrize("cls", EM)
def test_constant_annotator_does_not_break_the_fit(cls, small):
    labels, truth = small
    # a new annotator who answers 0 on every item
    extra = LabelArrays(
        np.concatenate([labels.item, np.arange(labels.n_items)]),
        np.concatenate([labels.annotator, np.full(labels.n_items, labels.n_annotators)]),
        np.concatenate([labels.value, np.zeros(labels.n_items, int)]),
        labels.n_items,
        labels.n_annotators + 1,
        labels.n_values,
    )
    est = cls().fit(extra)
    assert np.isfinite(est.posteriors_).all()
    assert accuracy(est, truth) >= accuracy(cls().fit(labels), truth) - 0.05


def test_majority_vote_ties_go_to_lowest_code_and_are_reported():
    labels = LabelArrays.from_codes([0, 0, 1, 1, 1], [0, 1, 0, 1, 2], [1, 0, 2, 2, 1])
    mv = MajorityVote().fit(labels)
    assert mv.labels_.tolist() == [0, 2]
    assert mv.tied_.tolist() == [True, False]


def test_weighted_majority_vote():
    labels = LabelArrays.from_codes([0, 0, 0], [0, 1, 2], [1, 0, 0])
    assert MajorityVote(weights=np.array([3.0, 1.0, 1.0])).fit(labels).labels_.tolist() == [1]


@pytest.mark.parametrize("cls", OWN)
def test_gold_clamps_its_items(cls, small):
    labels, truth = small
    gold = np.full(labels.n_items, -1)
    gold[:50] = (truth[:50] + 1) % labels.n_values  # deliberately "wrong" gold wins
    est = cls().fit(labels, gold=gold)
    assert (est.labels_[:50] == gold[:50]).all()
    np.testing.assert_allclose(est.confidence_[:50], 1.0)


@pytest.mark.parametrize("cls", EM)
def test_warm_start_converges_in_few_iterations(cls, small):
    labels, _ = small
    first = cls().fit(labels)
    again = cls().fit(labels, init=first)
    assert again.n_iter_ <= max(3, first.n_iter_ // 3)
    assert (again.labels_ == first.labels_).mean() > 0.99


def test_warm_start_with_new_annotators(small):
    labels, _ = small
    first = DawidSkene().fit(labels.subset(labels.annotator < 20))
    params = first.reindexed(np.r_[np.arange(20), np.full(labels.n_annotators - 20, -1)])
    assert params["confusion_"].shape[0] == labels.n_annotators
    np.testing.assert_allclose(params["confusion_"][25], first.population_params()["confusion_"])
    DawidSkene().fit(labels, init=params)


@pytest.mark.parametrize("cls", EM)
def test_population_params_are_what_unseen_annotators_get(cls, small):
    labels, _ = small
    est = cls().fit(labels)
    population = est.population_params()
    names = type(est)._annotator_params
    assert set(population) == set(names) == set(est.annotator_params(0))
    for name in names:
        # same structure per annotator as one row of fitted_params()
        assert population[name].shape == est.fitted_params()[name][0].shape
        assert est.annotator_params(3)[name].shape == population[name].shape
        np.testing.assert_allclose(est.annotator_params(3)[name], est.fitted_params()[name][3])
        # the label-weighted mean of the fitted annotators' parameters
        w = est.n_labels_per_annotator_ / est.n_labels_per_annotator_.sum()
        np.testing.assert_allclose(population[name], np.tensordot(w, getattr(est, name), axes=1))
    # an annotator code beyond the fit is predicted with exactly these parameters
    new_code = labels.n_annotators
    new = LabelArrays.from_codes([0], [new_code], [1], n_values=3)
    rebuilt = cls()
    rebuilt.prior_ = est.prior_
    for name in names:
        row = population[name][None]
        setattr(rebuilt, name, np.concatenate([getattr(est, name), row]))
    for name in type(est)._item_params:  # GLAD's item difficulties
        setattr(rebuilt, name, getattr(est, name))
    rebuilt.n_labels_per_annotator_ = np.r_[est.n_labels_per_annotator_, 1.0]
    np.testing.assert_allclose(est.predict_proba(new), rebuilt.predict_proba(new))


def test_population_params_of_auto_and_majority_vote(small):
    labels, _ = small
    auto = Auto(candidates=("one_coin", "dawid_skene")).fit(labels)
    chosen = auto.estimator_
    np.testing.assert_allclose(
        auto.population_params()[type(chosen)._annotator_params[0]],
        chosen.population_params()[type(chosen)._annotator_params[0]],
    )
    assert MajorityVote().fit(labels).population_params() == {}
    with pytest.raises(RuntimeError, match="not fitted"):
        DawidSkene().population_params()


@pytest.mark.parametrize("cls", EM)
def test_predict_proba_is_one_e_step(cls, small):
    labels, _ = small
    est = cls().fit(labels)
    np.testing.assert_allclose(est.predict_proba(labels), est.posteriors_, atol=1e-3)
    # labels of an annotator unseen in the fit get population parameters
    new = LabelArrays.from_codes([0, 0], [labels.n_annotators, 0], [1, 1], n_values=3)
    p = est.predict_proba(new)
    assert p.shape == (1, 3) and np.isclose(p.sum(), 1.0)


def test_make_estimator_knows_every_method():
    for name in METHODS:
        assert make_estimator(name) is not None
    with pytest.raises(ValueError, match="unknown method"):
        make_estimator("nope")


def test_deterministic(small):
    labels, _ = small
    a, b = Auto().fit(labels), Auto().fit(labels)
    assert a.method_ == b.method_
    np.testing.assert_array_equal(a.posteriors_, b.posteriors_)


@pytest.mark.parametrize("cls", EM)
def test_label_proba_is_a_distribution_over_the_values_a_label_could_take(cls, small):
    labels, _ = small
    est = cls().fit(labels)
    some = labels.subset(np.arange(0, labels.n_labels, 7))
    each_value = [
        est.label_proba(LabelArrays(some.item, some.annotator, np.full(some.n_labels, v),
                                    some.n_items, some.n_annotators, some.n_values))
        for v in range(labels.n_values)
    ]  # fmt: skip
    np.testing.assert_allclose(np.sum(each_value, axis=0), 1.0)
    assert (np.argmax(each_value, axis=0) == est.labels_[some.item]).mean() > 0.9
