"""Tokens: hashed at rest, scoped to a project and to what they may do."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import ADMIN, bearer, project_spec, row_counts

LABEL = {"item": "img-1", "annotator": "a1", "attribute": "shade", "value": "cream"}


def post_label(client, headers, project="shirts"):
    return client.post(
        f"/api/v1/projects/{project}/labels", json={"labels": [LABEL]}, headers=headers
    )


@pytest.mark.parametrize(
    "headers",
    [
        {},
        bearer("qc_not-a-real-token"),
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer"},
    ],
    ids=["missing", "unknown", "basic", "empty", "no-secret"],
)
def test_missing_or_wrong_token_is_401(client, project, engine, headers):
    before = row_counts(engine)
    response = post_label(client, headers)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert row_counts(engine) == before


def test_token_of_another_project_sees_404_not_the_data(client, project, token_for, engine):
    client.post("/api/v1/projects", json=project_spec(id="other", name="Other"), headers=ADMIN)
    other = token_for("other", "ingest", "read")
    before = row_counts(engine)
    assert post_label(client, other).status_code == 404
    read = client.get("/api/v1/projects/shirts", headers=other)
    assert read.status_code == 404
    assert "Shirts" not in read.get_data(as_text=True)
    # The same answer as for a project that does not exist: nothing to learn from it.
    assert client.get("/api/v1/projects/ghost", headers=other).get_json()["detail"] == (
        "project 'ghost' does not exist"
    )
    assert row_counts(engine) == before


def test_token_without_the_scope_is_403(client, project, token_for, engine):
    reader = token_for("shirts", "read")
    before = row_counts(engine)
    response = post_label(client, reader)
    assert response.status_code == 403
    assert "ingest" in response.get_json()["detail"]
    assert row_counts(engine) == before
    assert client.get("/api/v1/projects/shirts", headers=reader).status_code == 200


def test_project_admin_can_issue_tokens_for_its_project_only(client, project, token_for):
    project_admin = token_for("shirts", "admin")
    made = client.post(
        "/api/v1/projects/shirts/tokens", json={"scopes": ["ingest"]}, headers=project_admin
    )
    assert made.status_code == 201
    assert post_label(client, bearer(made.get_json()["token"])).status_code == 200
    # ...but creating projects needs a service-wide admin.
    response = client.post("/api/v1/projects", json=project_spec(id="x"), headers=project_admin)
    assert response.status_code == 403


def test_tokens_are_stored_hashed(client, project, engine):
    made = client.post(
        "/api/v1/projects/shirts/tokens", json={"scopes": ["read"]}, headers=ADMIN
    ).get_json()
    assert made["token"].startswith("qc_") and made["scopes"] == ["read"]
    with engine.connect() as connection:
        stored = [row[0] for row in connection.execute(sa.text("SELECT token_hash FROM token"))]
    assert made["token"] not in stored
    assert all(len(value) == 64 for value in stored)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"scopes": ["superuser"]}, "/scopes/0"),
        ({"scopes": []}, "/scopes"),
        ({}, "/scopes"),
    ],
)
def test_bad_token_request(client, project, engine, body, field):
    before = row_counts(engine)
    response = client.post("/api/v1/projects/shirts/tokens", json=body, headers=ADMIN)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.get_json()["errors"]]
    assert row_counts(engine) == before
