"""Creating and reading projects."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN, project_spec, row_counts


def test_created_project_document(client):
    response = client.post("/api/v1/projects", json=project_spec(), headers=ADMIN)
    assert response.status_code == 201
    assert response.headers["Location"] == "/api/v1/projects/shirts"
    body = response.get_json()
    assert body["id"] == "shirts"
    assert body["target_confidence"] == 0.8
    assert body["attributes"][2] == {"name": "has_logo", "kind": "binary", "values": ["0", "1"]}
    assert body["last_fit"] is None


def test_id_is_made_from_the_name_when_left_out(client):
    spec = project_spec(name="Sommer Kleider: Farbtöne!")
    del spec["id"]
    assert client.post("/api/v1/projects", json=spec, headers=ADMIN).get_json()["id"] == (
        "sommer-kleider-farbtone"
    )


def test_defaults(client):
    spec = {"name": "Minimal", "attributes": [{"name": "ok", "kind": "binary"}]}
    body = client.post("/api/v1/projects", json=spec, headers=ADMIN).get_json()
    assert (body["target_confidence"], body["min_labels"], body["max_labels"], body["method"]) == (
        0.9,
        3,
        7,
        "auto",
    )


def test_duplicate_id_is_409(client, project, engine):
    before = row_counts(engine)
    response = client.post("/api/v1/projects", json=project_spec(), headers=ADMIN)
    assert response.status_code == 409
    assert response.get_json()["errors"][0]["field"] == "/id"
    assert row_counts(engine) == before


BAD_PROJECTS = {
    "no attributes": (project_spec(attributes=[]), "/attributes"),
    "unknown kind": (
        project_spec(attributes=[{"name": "a", "kind": "bbox", "values": []}]),
        "/attributes/0/kind",
    ),
    "one value": (project_spec(attributes=[{"name": "a", "values": ["x"]}]), "/attributes/0"),
    "repeated values": (
        project_spec(attributes=[{"name": "a", "values": ["x", "x"]}]),
        "/attributes/0",
    ),
    "binary with three values": (
        project_spec(attributes=[{"name": "a", "kind": "binary", "values": ["x", "y", "z"]}]),
        "/attributes/0",
    ),
    "repeated attribute names": (
        project_spec(attributes=[{"name": "a", "values": ["x", "y"]}] * 2),
        "/",
    ),
    "target of 1": (project_spec(target_confidence=1.0), "/target_confidence"),
    "min above max": (project_spec(min_labels=5, max_labels=3), "/"),
    "unknown method": (project_spec(method="magic"), "/method"),
    "bad slug": (project_spec(id="Shirts and Pants"), "/id"),
    "unknown field": (project_spec(owner="me"), "/owner"),
}


@pytest.mark.parametrize("case", BAD_PROJECTS, ids=list(BAD_PROJECTS))
def test_bad_project_is_refused(client, engine, case):
    spec, field = BAD_PROJECTS[case]
    before = row_counts(engine)
    response = client.post("/api/v1/projects", json=spec, headers=ADMIN)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in [e["field"] for e in response.get_json()["errors"]]
    assert row_counts(engine) == before


def test_unknown_project_is_404(client):
    response = client.get("/api/v1/projects/nope", headers=ADMIN)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_unknown_route_is_a_problem_document(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
