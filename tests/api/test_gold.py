"""POST /projects/{project}/gold."""

from __future__ import annotations

from tests.conftest import ADMIN, row_counts

GOLD = "/api/v1/projects/shirts/gold"


def test_gold_is_stored_and_replaced(client, project):
    response = client.post(
        GOLD,
        json={
            "gold": [
                {"item": "img-1", "attribute": "shade", "value": "cream"},
                {"item": "img-2", "attribute": "tags", "value": ["linen"]},
            ]
        },
        headers=ADMIN,
    )
    assert response.status_code == 200 and response.get_json() == {"accepted": 2}
    client.post(
        GOLD,
        json={"gold": [{"item": "img-1", "attribute": "shade", "value": "beige"}]},
        headers=ADMIN,
    )
    counts = client.get("/api/v1/projects/shirts", headers=ADMIN).get_json()["counts"]
    assert counts["gold"] == 2 and counts["items"] == 2


def test_bad_gold_writes_nothing(client, project, engine):
    before = row_counts(engine)
    response = client.post(
        GOLD,
        json={
            "gold": [
                {"item": "img-1", "attribute": "shade", "value": "cream"},
                {"item": "img-1", "attribute": "shade", "value": "mauve"},
            ]
        },
        headers=ADMIN,
    )
    assert response.status_code == 422
    assert response.get_json()["errors"] == [
        {
            "field": "/gold/1/value",
            "message": "'mauve' is not one of "
            "['white', 'off-white', 'cream', 'beige', 'light gray']",
        }
    ]
    assert row_counts(engine) == before
