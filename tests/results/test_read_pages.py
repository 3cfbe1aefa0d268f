"""List pages are built as plain dicts, without a model per row: their JSON must be
exactly what the documented response models (the OpenAPI schema) describe."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
import sqlalchemy as sa
from pydantic import BaseModel

from qc_service.schemas.results import AnnotatorsPage, QueuePage, ResultsPage
from tests.conftest import ADMIN, make_settings, project_spec
from tests.results.helpers import refit


@pytest.fixture(params=[16 * 2**20, 0], ids=["page-cache", "no-page-cache"])
def settings(database_url: str, request: pytest.FixtureRequest):
    """Every test here runs with the page cache and without (QC_PAGE_CACHE_BYTES=0)."""
    return make_settings(database_url, page_cache_bytes=request.param)


def post_labels(client) -> None:
    """Three annotators on every kind of attribute; they disagree on the shade of
    half the items, so some are flagged."""
    labels = []
    for i in range(12):
        for annotator, shade in (
            ("a", "white"),
            ("b", "cream" if i % 2 else "white"),
            ("c", "beige"),
        ):
            item = f"i{i}"
            labels += [
                {"item": item, "annotator": annotator, "attribute": "shade", "value": shade},
                {
                    "item": item,
                    "annotator": annotator,
                    "attribute": "has_logo",
                    "value": i % 3 == 0,
                },
                {"item": item, "annotator": annotator, "attribute": "tags", "value": ["cotton"]},
            ]
    response = client.post("/api/v1/projects/shirts/labels", json={"labels": labels}, headers=ADMIN)
    assert response.status_code == 200, response.get_json()


@pytest.fixture
def fitted(client):
    spec = project_spec(min_labels=2, max_labels=3, target_confidence=0.99)
    assert client.post("/api/v1/projects", json=spec, headers=ADMIN).status_code == 201
    post_labels(client)
    refit(client, "shirts")
    claim = client.post(
        "/api/v1/projects/shirts/review/claim", json={"reviewer": "ann", "limit": 2}, headers=ADMIN
    )
    assert len(claim.get_json()["claims"]) == 2  # the queue shows leases too
    return "shirts"


def assert_is_the_model(body: bytes, model: type[BaseModel]) -> dict:
    """The body validates against ``model`` and says exactly what the model's own
    JSON would say: no field missing, extra, renamed or of another type."""
    document = json.loads(body)
    assert document == json.loads(model.model_validate_json(body).model_dump_json())
    return document


@pytest.mark.parametrize(
    ("url", "model", "key"),
    [
        ("/api/v1/projects/shirts/results", ResultsPage, "results"),
        ("/api/v1/projects/shirts/results?attribute=tags", ResultsPage, "results"),
        ("/api/v1/projects/shirts/results?status=flagged", ResultsPage, "results"),
        ("/api/v1/projects/shirts/annotators", AnnotatorsPage, "annotators"),
        (
            "/api/v1/projects/shirts/annotators?sort=-accuracy&status=ok",
            AnnotatorsPage,
            "annotators",
        ),
        (
            "/api/v1/projects/shirts/annotators?sort=-agreement&annotator_prefix=b",
            AnnotatorsPage,
            "annotators",
        ),
        ("/api/v1/projects/shirts/review/queue", QueuePage, "queue"),
    ],
)
def test_list_pages_are_their_documented_models(client, fitted, url, model, key):
    rows, cursor = [], None
    while True:
        page_url = f"{url}{'&' if '?' in url else '?'}limit=5" + (
            f"&cursor={cursor}" if cursor else ""
        )
        response = client.get(page_url, headers=ADMIN)
        assert response.status_code == 200 and response.mimetype == "application/json"
        page = assert_is_the_model(response.data, model)
        rows += page[key]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert rows
    if key == "queue":
        assert {row["claimed_by"] for row in rows} >= {"ann", None}
    if "attribute=tags" in url:
        assert all(row["label"] == ["cotton"] for row in rows)
    if "status=flagged" in url:
        assert all(row["status"] == "flagged" for row in rows)
    if "annotator_prefix=b" in url:
        assert {row["annotator"] for row in rows} == {"b"}


def test_a_page_read_again_shows_verdicts_and_refits_at_once(client, fitted):
    """Pages are cached per process under the version of the results, which every
    writer of results moves: a verdict, a published fit."""
    url = "/api/v1/projects/shirts/results?attribute=shade&limit=1000"
    before = {row["item"]: row for row in client.get(url, headers=ADMIN).get_json()["results"]}
    item = next(item for item, row in before.items() if row["status"] == "flagged")
    verdict = {"attribute": "shade", "value": "beige", "reviewer": "ann"}
    response = client.post(
        f"/api/v1/projects/shirts/review/{item}/verdict", json=verdict, headers=ADMIN
    )
    assert response.status_code == 200, response.get_json()
    after = {row["item"]: row for row in client.get(url, headers=ADMIN).get_json()["results"]}
    assert (after[item]["status"], after[item]["label"]) == ("reviewed", "beige")

    fit = refit(client, "shirts")["detail"]["fit"]
    refitted = client.get(url, headers=ADMIN).get_json()["results"]
    assert {row["fit"] for row in refitted} == {fit} != {row["fit"] for row in before.values()}
    pages = client.application.extensions["qc"].pages
    assert len(pages) == (0 if pages.max_bytes == 0 else 3)  # one page per version read


def test_the_queue_read_again_shows_leases_taken_and_expired(client, fitted):
    url = "/api/v1/projects/shirts/review/queue?limit=1000"

    def claimed_by() -> dict[str, str]:
        queue = client.get(url, headers=ADMIN).get_json()["queue"]
        return {entry["item"]: entry["claimed_by"] for entry in queue if entry["claimed_by"]}

    before = claimed_by()
    assert set(before.values()) == {"ann"}  # the fixture's two leases
    claim = {"reviewer": "bob", "limit": 1}
    response = client.post("/api/v1/projects/shirts/review/claim", json=claim, headers=ADMIN)
    [taken] = [entry["item"] for entry in response.get_json()["claims"]]
    assert claimed_by() == {**before, taken: "bob"}

    engine = client.application.extensions["qc"].engine
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE review_claim SET expires_at = :past WHERE reviewer = 'ann'"),
            {"past": datetime(2000, 1, 1)},
        )
    assert claimed_by() == {taken: "bob"}
