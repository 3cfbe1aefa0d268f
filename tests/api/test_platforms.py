"""PUT/GET /projects/{project}/platforms/{platform}: mapping and webhook secrets."""

from __future__ import annotations

import base64

import pytest

from tests.conftest import ADMIN, row_counts

URL = "/api/v1/projects/shirts/platforms/labelstudio"
SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


def test_settings_are_stored_and_secrets_never_answered(client, project):
    put = client.put(
        URL, json={"mapping": {"item": "data.image"}, "secrets": [SECRET]}, headers=ADMIN
    )
    assert put.status_code == 200, put.get_json()
    got = client.get(URL, headers=ADMIN)
    for response in (put, got):
        body = response.get_json()
        assert SECRET not in response.get_data(as_text=True)
        assert body["mapping"] == {"item": "data.image"}
        assert [s["fingerprint"][:7] for s in body["secrets"]] == ["sha256:"]
        assert body["webhook_url"] == "/api/v1/projects/shirts/webhooks/labelstudio"


def test_secrets_left_out_are_kept_and_empty_list_removes_them(client, project):
    client.put(URL, json={"secrets": [SECRET]}, headers=ADMIN)
    kept = client.put(URL, json={"mapping": {"annotator": "completed_by.email"}}, headers=ADMIN)
    assert len(kept.get_json()["secrets"]) == 1
    removed = client.put(URL, json={"secrets": []}, headers=ADMIN)
    assert removed.get_json()["secrets"] == [] and removed.get_json()["mapping"] == {}


def test_unconfigured_platform_answers_defaults(client, project):
    body = client.get(URL, headers=ADMIN).get_json()
    assert (body["mapping"], body["secrets"]) == ({}, [])


BAD = {
    "unknown mapping field": ({"mapping": {"itme": "x"}}, 422, "/mapping/itme"),
    "mapping field of wrong type": ({"mapping": {"attributes": "x"}}, 422, "/mapping/attributes"),
    "secret not base64": ({"secrets": ["whsec_***"]}, 422, "/secrets/0"),
    "secret too short": ({"secrets": [SECRET, "short"]}, 422, "/secrets/1"),
    "secret not text": ({"secrets": [5]}, 422, "/secrets/0"),
    "too many secrets": ({"secrets": [SECRET] * 6}, 422, "/secrets"),
    "unknown top-level field": ({"secret": [SECRET]}, 422, "/secret"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_settings_name_the_field_and_write_nothing(client, project, engine, case):
    body, status, field = BAD[case]
    client.put(URL, json={"mapping": {"item": "data.image"}, "secrets": [SECRET]}, headers=ADMIN)
    before = client.get(URL, headers=ADMIN).get_json()
    counts = row_counts(engine)
    response = client.put(URL, json=body, headers=ADMIN)
    assert response.status_code == status, response.get_json()
    assert field in [error["field"] for error in response.get_json()["errors"]]
    assert client.get(URL, headers=ADMIN).get_json() == before
    assert row_counts(engine) == counts


def test_unknown_platform_and_project(client, project):
    response = client.put("/api/v1/projects/shirts/platforms/figma", json={}, headers=ADMIN)
    assert response.status_code == 404
    assert response.get_json()["errors"][0]["field"] == "/platform"
    assert client.get("/api/v1/projects/nope/platforms/toloka", headers=ADMIN).status_code == 404


def test_needs_admin_scope(client, project, token_for):
    ingest = token_for(project, "ingest")
    assert client.get(URL, headers=ingest).status_code == 403
    assert client.put(URL, json={"secrets": [SECRET]}, headers=ingest).status_code == 403
    assert client.get(URL).status_code == 401
