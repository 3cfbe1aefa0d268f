"""Parity with crowd-kit, and the adapter that serves the rest of its zoo."""

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from qc_service.engine import GLAD, CrowdKit, DawidSkene, MajorityVote, make_estimator
from qc_service.engine.crowdkit_adapter import crowdkit_class

from .conftest import load_dataset, synthetic

pd = pytest.importorskip("pandas")
aggregation = pytest.importorskip("crowdkit.aggregation")

SMALL = ["bluebirds", "temp", "rte", "music_genre"]


def frame(labels):
    return pd.DataFrame({"task": labels.item, "worker": labels.annotator, "label": labels.value})


def as_array(series, n_items):
    out = np.full(n_items, -1)
    out[series.index.to_numpy(dtype=int)] = series.to_numpy(dtype=int)
    return out


def test_importing_the_engine_does_not_import_crowdkit_or_pandas():
    code = (
        "import sys, qc_service.engine; print('crowdkit' in sys.modules, 'pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("name", SMALL)
def test_majority_vote_matches_crowdkit_except_where_tied(name):
    labels, _, _ = load_dataset(name)
    ours = MajorityVote().fit(labels)
    ck = aggregation.MajorityVote().fit(frame(labels))
    theirs = as_array(ck.labels_, labels.n_items)
    probas = ck.probas_.reindex(
        index=range(labels.n_items), columns=range(labels.n_values), fill_value=0
    ).to_numpy()
    np.testing.assert_allclose(ours.posteriors_, probas)
    assert (ours.labels_[~ours.tied_] == theirs[~ours.tied_]).all()
    # crowd-kit breaks ties by pandas column order; ours by lowest code, and says so
    top2 = np.sort(probas, axis=1)[:, -2:]
    np.testing.assert_array_equal(ours.tied_, np.isclose(top2[:, 0], top2[:, 1]))


@pytest.mark.parametrize("name", SMALL)
def test_dawid_skene_unsmoothed_matches_crowdkit_same_iterations(name):
    labels, _, _ = load_dataset(name)
    ck = aggregation.DawidSkene(n_iter=100).fit(frame(labels))
    n = len(ck.loss_history_)
    ours = DawidSkene(smoothing=0, prior_smoothing=0, max_iter=n, tol=0).fit(labels)
    assert ours.n_iter_ == n
    agree = (ours.labels_ == as_array(ck.labels_, labels.n_items)).mean()
    assert agree >= 0.99, f"{name}: {agree:.4f} after {n} iterations"


def test_glad_accuracy_at_least_crowdkits_on_synthetic_data():
    labels, truth = synthetic(n_items=150, n_annotators=15, k=2, per_item=4, seed=5)
    ours = GLAD().fit(labels)
    ck = aggregation.GLAD(n_iter=50).fit(frame(labels))
    acc_ours = (ours.labels_ == truth).mean()
    acc_ck = (as_array(ck.labels_, labels.n_items) == truth).mean()
    assert acc_ours >= acc_ck - 0.005


@pytest.mark.slow
def test_glad_accuracy_at_least_crowdkits_on_temp():
    labels, _, gold = load_dataset("temp")
    known = gold >= 0
    ours = GLAD().fit(labels)
    ck = aggregation.GLAD().fit(frame(labels))
    acc_ours = (ours.labels_[known] == gold[known]).mean()
    acc_ck = (as_array(ck.labels_, labels.n_items)[known] == gold[known]).mean()
    assert acc_ours >= acc_ck - 0.005


@pytest.mark.parametrize("name", ["wawa", "zero_based_skill", "crowdkit_mace", "kos", "mmsr"])
def test_adapter_runs_the_zoo(name):
    labels, truth = synthetic(n_items=120, n_annotators=12, k=2, per_item=5, seed=2)
    params = {"n_iter": 20} if name in ("crowdkit_mace", "kos") else {}
    est = make_estimator(name, **params).fit(labels)
    assert est.posteriors_.shape == (labels.n_items, 2)
    np.testing.assert_allclose(est.posteriors_.sum(axis=1), 1.0)
    assert (est.labels_ == truth).mean() > 0.7


def test_wawa_and_zbs_have_sklearn_tags_under_any_scikit_learn():
    from sklearn.utils.validation import check_is_fitted

    for name in ("wawa", "zero_based_skill"):
        model = crowdkit_class(name)()
        model.skills_ = pd.Series(dtype=float)
        check_is_fitted(model, attributes="skills_")  # raised AttributeError before the fix


def test_adapter_rejects_unknown_methods_and_kos_on_many_values():
    with pytest.raises(ValueError, match="unknown"):
        CrowdKit("nope")
    labels, _ = synthetic(n_items=20, k=3)
    with pytest.raises(ValueError, match="two values"):
        CrowdKit("kos").fit(labels)


@pytest.mark.parametrize("name", ["crowdkit_mace", "wawa", "mmsr", "crowdkit_dawid_skene"])
def test_adapter_output_does_not_depend_on_the_row_order(name):
    """crowd-kit's MACE reads its spam distributions in order of first appearance but
    stores them sorted: fed rows as they come, shuffling them changed its answer."""
    labels, truth = synthetic(n_items=150, n_annotators=12, k=3, per_item=5, seed=4)
    shuffle = np.random.default_rng(0).permutation(labels.n_labels)
    shuffled = dataclasses.replace(
        labels,
        item=labels.item[shuffle],
        annotator=labels.annotator[shuffle],
        value=labels.value[shuffle],
    )
    params = {"n_iter": 20} if name == "crowdkit_mace" else {}
    first = make_estimator(name, **params).fit(labels)
    again = make_estimator(name, **params).fit(shuffled)
    np.testing.assert_allclose(again.posteriors_, first.posteriors_, atol=1e-12)
    assert (first.labels_ == truth).mean() > 0.8
