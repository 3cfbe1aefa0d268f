"""Every method the engine offers is a method a project can use."""

from __future__ import annotations

import numpy as np
import pytest

from qc_service.engine import METHODS, make_estimator
from qc_service.engine.encoding import encode
from qc_service.service.fits import compute_fit
from qc_service.store.fits import AttributeLabels
from qc_service.store.models import Attribute, Project
from tests.conftest import ADMIN
from tests.results.helpers import dataset_project, read_dataset, refit


def _bluebirds() -> tuple[Project, Attribute, AttributeLabels, object]:
    rows, _ = read_dataset("bluebirds")
    values = sorted({r["label"] for r in rows})
    labels, _ = encode(
        [r["task"] for r in rows],
        [r["worker"] for r in rows],
        [r["label"] for r in rows],
        value_order=values,
    )
    data = AttributeLabels(labels.item, labels.annotator, labels.value, values)
    project = Project(
        id="birds", name="birds", target_confidence=0.9, min_labels=1, max_labels=5, revision=0
    )
    attribute = Attribute(
        id=1, project_id="birds", position=0, name="answer", kind="categorical", values=values
    )
    return project, attribute, data, labels


@pytest.mark.parametrize("method", METHODS)
def test_every_engine_method_fits_a_project(method):
    project, attribute, data, labels = _bluebirds()
    project.method = method
    output = compute_fit(project, [(attribute, data, [])])
    expected = make_estimator(method).fit(labels)
    summary = output.fit.detail["attributes"]["answer"]
    assert summary["method"] == method
    results = output.results.rows()
    got = np.array([[row["distribution"][v] for v in attribute.values] for row in results])
    np.testing.assert_allclose(got, expected.posteriors_, atol=1e-5)
    assert [row["label"] for row in results] == [
        attribute.values[code] for code in expected.labels_
    ]
    assert len(output.scores) == labels.n_annotators
    assert all(0 <= row["spammer_score"] <= 1 for row in output.scores)


def test_crowdkit_project_over_http_answers_vote_shares_until_the_refit(client):
    """crowd-kit's models have no E-step: ingest answers vote shares, the fit the model."""
    rows, _ = read_dataset("bluebirds")
    dataset_project(client, "birds", rows, method="crowdkit_mace")
    job = refit(client, "birds", timeout=120)
    project = client.get("/api/v1/projects/birds", headers=ADMIN).get_json()
    assert project["last_fit"]["attributes"]["answer"]["method"] == "crowdkit_mace"
    item = rows[0]["task"]
    given = [r for r in rows if r["task"] == item]
    response = client.post(
        "/api/v1/projects/birds/labels",
        json={
            "labels": [
                {
                    "item": item,
                    "annotator": "newcomer",
                    "attribute": "answer",
                    "value": given[0]["label"],
                }
            ]
        },
        headers=ADMIN,
    )
    live = response.get_json()["items"][0]
    share = (sum(r["label"] == given[0]["label"] for r in given) + 1) / (len(given) + 1)
    assert abs(live["confidence"] - max(share, 1 - share)) < 1e-9
    published = client.get(f"/api/v1/projects/birds/results/{item}", headers=ADMIN).get_json()
    assert published["attributes"][0]["result"]["fit"] == job["detail"]["fit"]
