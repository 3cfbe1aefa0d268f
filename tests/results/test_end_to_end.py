"""A real dataset over HTTP: post it, wait for the fit, compare with the engine."""

from __future__ import annotations

import io
import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from qc_service.engine.dawid_skene import DawidSkene
from qc_service.engine.encoding import encode
from tests.conftest import ADMIN
from tests.results.helpers import all_pages, dataset_project, read_dataset, refit


def engine_posteriors(rows: list[dict], values: list[str], gold: dict[str, str] | None = None):
    labels, encoder = encode(
        [r["task"] for r in rows],
        [r["worker"] for r in rows],
        [r["label"] for r in rows],
        value_order=values,
    )
    gold_array = encoder.encode_gold(gold) if gold else None
    model = DawidSkene().fit(labels, gold=gold_array)
    return {item: model.posteriors_[code] for code, item in enumerate(encoder.items)}


def test_results_match_the_engine(client):
    rows, _ = read_dataset("bluebirds")
    values = dataset_project(client, "birds", rows)
    job = refit(client, "birds")

    results = all_pages(client, "/api/v1/projects/birds/results", "results", limit=250)
    expected = engine_posteriors(rows, values)
    assert len(results) == len(expected) == len({r["item"] for r in results})
    for result in results:
        posterior = expected[result["item"]]
        got = np.array([result["distribution"][v] for v in values])
        np.testing.assert_allclose(got, posterior, atol=1e-5)
        assert result["label"] == values[int(np.argmax(posterior))]
        assert abs(result["confidence"] - np.max(posterior)) < 1e-9
        assert result["fit"] == job["detail"]["fit"]
        # every item has >= max_labels labels, so below target means review
        assert result["status"] == ("confident" if result["confidence"] >= 0.9 else "flagged")

    project = client.get("/api/v1/projects/birds", headers=ADMIN).get_json()
    assert project["last_fit"]["id"] == job["detail"]["fit"]
    assert project["last_fit"]["attributes"]["answer"]["n_labels"] == len(rows)

    flagged = all_pages(client, "/api/v1/projects/birds/review/queue", "queue")
    assert {r["item"] for r in flagged} == {r["item"] for r in results if r["status"] == "flagged"}
    priorities = [r["priority"] for r in flagged]
    assert priorities == sorted(priorities, reverse=True)
    assert all("low_confidence" in r["flags"] for r in flagged)
    assert all(("ambiguous" in r["flags"]) != ("uncertain" in r["flags"]) for r in flagged)


@pytest.mark.parametrize("method", ["dawid_skene", "auto"])
def test_live_estimate_is_the_fits_e_step(client, method):
    """Re-sending labels that change nothing answers what the fit published (for
    ``auto``: its chosen model's E-step, tempered)."""
    rows, _ = read_dataset("bluebirds")
    dataset_project(client, "birds", rows, method=method)
    refit(client, "birds")
    item = rows[0]["task"]
    published = client.get(f"/api/v1/projects/birds/results/{item}", headers=ADMIN).get_json()
    again = [
        {"item": item, "annotator": r["worker"], "attribute": "answer", "value": r["label"]}
        for r in rows
        if r["task"] == item
    ]
    response = client.post("/api/v1/projects/birds/labels", json={"labels": again}, headers=ADMIN)
    live = response.get_json()["items"][0]
    result = published["attributes"][0]["result"]
    assert live["label"] == result["label"]
    assert abs(live["confidence"] - result["confidence"]) < 1e-9
    assert live["status"] == result["status"]
    assert len(published["attributes"][0]["labels"]) == len(again)
    assert all(0 <= lb["annotator_accuracy"] <= 1 for lb in published["attributes"][0]["labels"])


def test_verdicts_change_the_next_fit(client, token_for):
    rows, _ = read_dataset("bluebirds")
    values = dataset_project(client, "birds", rows, target_confidence=0.999)
    first = refit(client, "birds")["detail"]["fit"]
    reviewer = token_for("birds", "review")
    before = {
        (a["annotator"]): a["accuracy"]
        for a in all_pages(client, "/api/v1/projects/birds/annotators", "annotators")
    }

    claims = client.post(
        "/api/v1/projects/birds/review/claim",
        json={"reviewer": "ann", "limit": 5},
        headers=reviewer,
    ).get_json()["claims"]
    assert len(claims) == 5 and all(c["claimed_by"] == "ann" for c in claims)
    verdicts = {}
    for claim in claims:
        # the expert overrules the crowd: the opposite of the published label
        value = next(v for v in values if v != claim["label"])
        response = client.post(
            f"/api/v1/projects/birds/review/{claim['item']}/verdict",
            json={"attribute": "answer", "value": value, "reviewer": "ann", "note": "checked"},
            headers=reviewer,
        )
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["status"] == "reviewed"
        verdicts[claim["item"]] = value

    second = refit(client, "birds")["detail"]["fit"]
    assert second > first
    results = {r["item"]: r for r in all_pages(client, "/api/v1/projects/birds/results", "results")}
    for item, value in verdicts.items():
        assert results[item]["status"] == "reviewed"
        assert results[item]["label"] == value and results[item]["fit"] == second
    queue = all_pages(client, "/api/v1/projects/birds/review/queue", "queue", headers=reviewer)
    assert not set(verdicts) & {q["item"] for q in queue}
    after = {
        a["annotator"]: a["accuracy"]
        for a in all_pages(client, "/api/v1/projects/birds/annotators", "annotators")
    }
    assert any(abs(after[a] - before[a]) > 1e-6 for a in before)


def test_annotators_etag_and_detail(client):
    rows, gold = read_dataset("bluebirds")
    dataset_project(client, "birds", rows)
    client.post(
        "/api/v1/projects/birds/gold",
        json={"gold": [{"item": t, "attribute": "answer", "value": v} for t, v in gold.items()]},
        headers=ADMIN,
    )
    refit(client, "birds")
    url = "/api/v1/projects/birds/annotators?sort=-accuracy&limit=5"
    first = client.get(url, headers=ADMIN)
    assert first.status_code == 200 and first.headers["ETag"]
    scores = first.get_json()["annotators"]
    assert [s["accuracy"] for s in scores] == sorted((s["accuracy"] for s in scores), reverse=True)
    assert all(
        s["accuracy_interval"][0] <= s["accuracy"] <= s["accuracy_interval"][1] for s in scores
    )
    assert all(s["gold_accuracy"] is not None and s["n_gold"] > 0 for s in scores)
    again = client.get(url, headers={**ADMIN, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    other = client.get(
        url + "&status=ok", headers={**ADMIN, "If-None-Match": first.headers["ETag"]}
    )
    assert other.status_code == 200

    annotator = scores[-1]["annotator"]
    detail = client.get(f"/api/v1/projects/birds/annotators/{annotator}", headers=ADMIN).get_json()
    (attribute,) = detail["attributes"]
    confusion = attribute["confusion"][""]
    assert len(confusion["counts"]) == len(confusion["values"]) == 2
    assert abs(sum(map(sum, confusion["counts"])) - attribute["n_labels"]) < 1e-6

    # a new fit changes the tag, so pollers see the new scores
    refit(client, "birds")
    assert (
        client.get(url, headers={**ADMIN, "If-None-Match": first.headers["ETag"]}).status_code
        == 200
    )


def test_agreement_and_export(client):
    rows, _ = read_dataset("bluebirds")
    dataset_project(client, "birds", rows)
    refit(client, "birds")
    results = all_pages(client, "/api/v1/projects/birds/results", "results")
    agreement = client.get("/api/v1/projects/birds/agreement", headers=ADMIN).get_json()
    (answer,) = agreement["attributes"]
    assert 0 < answer["alpha"] < 1
    assert sum(answer["statuses"].values()) == len(results)
    assert 0.5 < answer["estimated_accuracy"] <= 1

    jsonl = client.get("/api/v1/projects/birds/export?format=jsonl", headers=ADMIN)
    assert jsonl.is_streamed or jsonl.status_code == 200
    lines = [json.loads(line) for line in jsonl.data.decode().splitlines()]
    assert lines == results
    csv_text = client.get("/api/v1/projects/birds/export?format=csv", headers=ADMIN).data.decode()
    assert len(csv_text.strip().splitlines()) == len(results) + 1
    parquet = client.get("/api/v1/projects/birds/export?format=parquet", headers=ADMIN)
    table = pq.read_table(io.BytesIO(parquet.data))
    assert table.num_rows == len(results)
    assert sorted(table.column("item").to_pylist()) == sorted(r["item"] for r in results)
