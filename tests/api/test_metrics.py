"""GET /metrics: Prometheus counters for requests, latency and stored labels."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ADMIN


def scrape(client) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def test_requests_and_labels_are_counted(client, project):
    labels_rule = "/api/v1/projects/<project>/labels"
    posted = (
        "qc_http_requests_total",
        frozenset({"method": "POST", "endpoint": labels_rule, "status": "200"}.items()),
    )
    refused = (
        "qc_http_requests_total",
        frozenset({"method": "POST", "endpoint": labels_rule, "status": "422"}.items()),
    )
    accepted = ("qc_labels_accepted_total", frozenset({"source": "api"}.items()))
    before = scrape(client)

    batch = [
        {"item": "i1", "annotator": f"a{n}", "attribute": "shade", "value": "cream"}
        for n in range(3)
    ]
    client.post("/api/v1/projects/shirts/labels", json={"labels": batch}, headers=ADMIN)
    client.post("/api/v1/projects/shirts/labels", json={"labels": [{"item": "x"}]}, headers=ADMIN)
    after = scrape(client)

    assert after[posted] - before.get(posted, 0) == 1
    assert after[refused] - before.get(refused, 0) == 1
    assert after[accepted] - before.get(accepted, 0) == 3
    # One series per route, never per project or item: bounded cardinality.
    assert not any("shirts" in dict(labels).get("endpoint", "") for _, labels in after)
    latency = (
        "qc_http_request_seconds_count",
        frozenset({"method": "POST", "endpoint": labels_rule}.items()),
    )
    assert after[latency] - before.get(latency, 0) == 2
