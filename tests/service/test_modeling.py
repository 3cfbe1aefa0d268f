"""The engine seen from the service: a fit survives being stored and rebuilt."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np

from qc_service.engine import Auto, LabelArrays, make_estimator
from qc_service.service.modeling import (
    annotator_parameters,
    estimator_from_parameters,
    fit_attribute,
    model_summary,
)
from qc_service.store.fits import AttributeLabels
from qc_service.store.models import Attribute
from tests.engine.conftest import synthetic


def test_a_stored_auto_fit_streams_with_its_temperature_and_floor():
    labels, truth = synthetic(n_items=600, spammers=0.0, seed=7)
    # the crowd agrees on a wrong answer on a tenth of the items: gold fits a floor
    tricky = (np.arange(labels.n_items) % 10 == 0)[labels.item]
    value = np.where(tricky, (truth[labels.item] + 1) % labels.n_values, labels.value)
    labels = type(labels)(labels.item, labels.annotator, value, labels.n_items,
                          labels.n_annotators, labels.n_values)  # fmt: skip
    gold = np.where(np.arange(labels.n_items) < 300, truth, -1)
    auto = Auto().fit(labels, gold=gold)
    assert auto.floor_ > 0
    problem = SimpleNamespace(estimator=auto)
    summary = json.loads(json.dumps(model_summary(problem)))  # as stored
    rows = [annotator_parameters(problem, code) for code in range(labels.n_annotators)]
    rebuilt = estimator_from_parameters("auto", summary, rows)
    assert (rebuilt.temperature_, rebuilt.floor_) == (auto.temperature_, auto.floor_)
    np.testing.assert_array_equal(rebuilt.class_bias_, auto.class_bias_)
    np.testing.assert_allclose(rebuilt.predict_proba(labels), auto.predict_proba(labels))
    # a fit stored before auto had a floor or a class bias streams without them
    del summary["floor"], summary["class_bias"]
    old = estimator_from_parameters("auto", summary, rows)
    assert old.floor_ == 0.0 and not old.class_bias_.any()
    assert old.predict_proba(labels).shape == (labels.n_items, labels.n_values)


def test_a_stored_auto_fit_streams_with_its_class_bias():
    # majority vote ignores that class 1 is rare: gold fits a class bias
    rng = np.random.default_rng(0)
    truth = (rng.random(2000) < 0.15).astype(np.int64)
    item = np.repeat(np.arange(2000), 3)
    value = np.where(rng.random(len(item)) < 0.75, truth[item], 1 - truth[item])
    labels = LabelArrays(item, rng.integers(0, 50, len(item)), value, 2000, 50, 2)
    auto = Auto(candidates=("majority_vote",)).fit(
        labels, gold=np.where(item[::3] < 400, truth, -1)
    )
    assert auto.class_bias_[0] > auto.class_bias_[1]
    problem = SimpleNamespace(estimator=auto)
    summary = json.loads(json.dumps(model_summary(problem)))
    rows = [annotator_parameters(problem, code) for code in range(labels.n_annotators)]
    rebuilt = estimator_from_parameters("auto", summary, rows)
    np.testing.assert_allclose(rebuilt.predict_proba(labels), auto.predict_proba(labels))


def test_a_stored_mace_fit_streams_like_the_fit():
    labels, _ = synthetic(n_items=300, seed=8)
    mace = make_estimator("mace").fit(labels)
    problem = SimpleNamespace(estimator=mace)
    summary = json.loads(json.dumps(model_summary(problem)))  # as stored
    assert set(summary["population"]) == {"competence_", "spam_"}
    rows = [annotator_parameters(problem, code) for code in range(labels.n_annotators)]
    rebuilt = estimator_from_parameters("mace", summary, rows)
    np.testing.assert_allclose(rebuilt.predict_proba(labels), mace.predict_proba(labels))


def test_auto_chooses_its_model_on_control_gold_not_on_verdicts():
    """Verdicts answer the items the last fit was least sure of; only gold given as
    such (control items) is a sample that can score models. Both clamp their items."""
    labels, truth = synthetic(n_items=400, n_annotators=30, per_item=5, seed=5)
    values = [f"v{code}" for code in range(labels.n_values)]
    attribute = Attribute(
        id=1, project_id="p", position=0, name="shade", kind="categorical", values=values
    )
    data = AttributeLabels(labels.item, labels.annotator, labels.value, values)
    for source, chosen_on in (("verdict", "labels"), ("api", "gold")):
        gold = [(int(item), values[truth[item]], source) for item in range(100)]
        fit = fit_attribute(attribute, "auto", data, gold)
        auto = fit.problems[0].estimator
        assert auto.selected_on_ == chosen_on, source
        assert (auto.labels_[:100] == truth[:100]).all()
