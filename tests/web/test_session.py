"""Sign-in, the session cookie, CSRF and scope hiding, through Flask's test client."""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from qc_service.service import fits
from tests.conftest import ADMIN, ADMIN_TOKEN, SHADES, project_spec


def secret(token_headers: dict[str, str]) -> str:
    return token_headers["Authorization"].removeprefix("Bearer ")


def csrf(client) -> str:
    """The session's CSRF token, as the sign-in page hands it out."""
    client.get("/ui/signin")
    with client.session_transaction() as session:
        return session["csrf_token"]


def sign_in(client, token: str, reviewer: str = "", **form: str):
    data = {"token": token, "reviewer": reviewer, "csrf_token": csrf(client), **form}
    return client.post("/ui/signin", data=data)


def wait_for_job(client, job_id: str) -> dict:
    """Wait for a refit the test started, so it does not write behind the next test."""
    deadline = time.monotonic() + 30
    job = client.get(f"/api/v1/jobs/{job_id}", headers=ADMIN).get_json()
    while job["state"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.05)
        job = client.get(f"/api/v1/jobs/{job_id}", headers=ADMIN).get_json()
    return job


def post_data(client, path: str, json: dict | None = None):
    """A POST from the dashboard's scripts: JSON with the CSRF header."""
    with client.session_transaction() as session:
        token = session["csrf_token"]
    return client.post(path, json=json, headers={"X-CSRF-Token": token})


@pytest.fixture
def fitted(app, client, project) -> str:
    """The shirts project fitted on labels where three annotators agree except on a
    few items and a fourth answers at random; five items have control answers, one
    of which the crowd contradicts."""
    labels = []
    for i in range(24):
        truth = SHADES[i % len(SHADES)]
        for annotator in ("ann-1", "ann-2", "ann-3"):
            value = SHADES[(i + 1) % 5] if (annotator == "ann-3" and i % 4 == 0) else truth
            labels.append({"item": f"img-{i}", "annotator": annotator, "attribute": "shade",
                           "value": value})  # fmt: skip
        labels.append({"item": f"img-{i}", "annotator": "ann-4", "attribute": "shade",
                       "value": SHADES[(i * 7) % 5]})  # fmt: skip
    response = client.post(f"/api/v1/projects/{project}/labels", json={"labels": labels},
                           headers=ADMIN)  # fmt: skip
    assert response.status_code == 200, response.get_json()
    gold = [{"item": f"img-{i}", "attribute": "shade", "value": SHADES[i % 5]} for i in range(4)]
    # A control answer the crowd contradicts: the item goes to the review queue.
    gold.append({"item": "img-5", "attribute": "shade", "value": SHADES[2]})
    response = client.post(f"/api/v1/projects/{project}/gold", json={"gold": gold}, headers=ADMIN)
    assert response.status_code in (200, 201)
    fits.run_fit(app.extensions["qc"], project)
    return project


def test_root_and_home_lead_to_sign_in(client):
    assert client.get("/").location == "/ui/"
    assert client.get("/ui/").location == "/ui/signin"


def test_sign_in_keeps_the_token_in_a_hardened_cookie(client, project, token_for):
    response = sign_in(client, secret(token_for(project, "read")))
    assert response.status_code == 302 and response.location == f"/ui/p/{project}/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert client.get(f"/ui/p/{project}/").status_code == 200


def test_the_cookie_never_carries_the_token(app, client, project, token_for):
    token = secret(token_for(project, "read"))
    response = sign_in(client, token)
    cookie = response.headers["Set-Cookie"].split(";", 1)[0].split("=", 1)[1]
    serializer = app.session_interface.get_signing_serializer(app)
    contents = serializer.loads(cookie)
    assert token not in json.dumps(contents)
    assert contents["token_hash"] == hashlib.sha256(token.encode()).hexdigest()


def test_the_cookie_is_secure_over_https(app, project, token_for):
    client = app.test_client()
    token = secret(token_for(project, "read"))
    client.get("/ui/signin", base_url="https://localhost")
    with client.session_transaction(base_url="https://localhost") as session:
        data = {"token": token, "csrf_token": session["csrf_token"]}
    response = client.post("/ui/signin", data=data, base_url="https://localhost")
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_a_bad_token_is_refused_and_starts_no_session(client, project):
    response = sign_in(client, "qc_not_a_token")
    assert response.status_code == 401
    assert b"not valid" in response.data
    with client.session_transaction() as session:
        assert "token" not in session
    assert client.get(f"/ui/p/{project}/").status_code == 302


def test_sign_in_without_the_csrf_token_is_refused(client, project, token_for):
    client.get("/ui/signin")
    response = client.post("/ui/signin", data={"token": secret(token_for(project, "read"))})
    assert response.status_code == 403
    with client.session_transaction() as session:
        assert "token" not in session


def test_posts_need_the_csrf_token(client, project, token_for):
    sign_in(client, secret(token_for(project, "read", "ingest")))
    assert client.post(f"/ui/data/p/{project}/fits").status_code == 403
    forged = client.post(f"/ui/data/p/{project}/fits", headers={"X-CSRF-Token": "guess"})
    assert forged.status_code == 403
    assert client.post("/ui/signout").status_code == 403
    response = post_data(client, f"/ui/data/p/{project}/fits")
    assert response.status_code == 200
    job = wait_for_job(client, response.get_json()["id"])
    assert (job["project"], job["kind"], job["state"]) == (project, "fit", "done")


def test_sign_in_replaces_the_csrf_token(client, project, token_for):
    before = csrf(client)
    sign_in(client, secret(token_for(project, "read")))
    with client.session_transaction() as session:
        assert session["csrf_token"] != before


def test_sign_out_clears_the_session(client, project, token_for):
    sign_in(client, secret(token_for(project, "read")))
    response = post_data(client, "/ui/signout")
    assert response.location == "/ui/signin"
    with client.session_transaction() as session:
        assert dict(session) == {}
    page = client.get(f"/ui/p/{project}/annotators")
    assert page.status_code == 302
    assert page.location == f"/ui/signin?next=/ui/p/{project}/annotators"
    assert client.get(f"/ui/data/p/{project}/overview").status_code == 401


@pytest.mark.parametrize(
    ("scopes", "review_link", "refit_button"),
    [
        (["read"], False, False),
        (["read", "ingest"], False, True),
        (["read", "review"], True, False),
        (["admin"], True, True),
    ],
)
def test_the_overview_shows_only_what_the_scopes_allow(
    client, project, token_for, scopes, review_link, refit_button
):
    sign_in(client, secret(token_for(project, *scopes)))
    html = client.get(f"/ui/p/{project}/").get_data(as_text=True)
    assert (f'href="/ui/p/{project}/review"' in html) == review_link
    assert ('id="refit"' in html) == refit_button
    assert 'href="/api/v1/docs/"' in html  # the API docs, whatever the scopes


def test_without_review_scope_there_is_no_review(client, project, token_for):
    sign_in(client, secret(token_for(project, "read")))
    assert client.get(f"/ui/p/{project}/review").status_code == 403
    assert client.get(f"/ui/data/p/{project}/review/queue").status_code == 403
    claim = post_data(client, f"/ui/data/p/{project}/review/claim", {"limit": 1})
    assert claim.status_code == 403
    assert post_data(client, f"/ui/data/p/{project}/fits").status_code == 403


def test_a_reviewer_without_read_sees_only_the_review_page(client, fitted, token_for):
    sign_in(client, secret(token_for(fitted, "review")))
    html = client.get(f"/ui/p/{fitted}/review").get_data(as_text=True)
    assert "Claim a batch" in html and "Overview</a>" not in html and "data-read" not in html
    assert client.get(f"/ui/p/{fitted}/").status_code == 403
    assert client.get(f"/ui/data/p/{fitted}/annotators").status_code == 403
    # ...but the labels behind the items they judge are theirs to see.
    claims = post_data(client, f"/ui/data/p/{fitted}/review/claim", {"limit": 1}).get_json()
    item = claims["claims"][0]["item"]
    labels = client.get(f"/ui/data/p/{fitted}/items/{item}").get_json()["attributes"][0]["labels"]
    assert {label["annotator"] for label in labels} == {"ann-1", "ann-2", "ann-3", "ann-4"}


def test_another_projects_token_learns_nothing(client, project, token_for):
    other = client.post("/api/v1/projects", json=project_spec(id="other"), headers=ADMIN)
    assert other.status_code == 201
    sign_in(client, secret(token_for("other", "admin")))
    assert client.get(f"/ui/p/{project}/").status_code == 404
    assert client.get(f"/ui/data/p/{project}/overview").status_code == 404
    assert client.get("/ui/projects").status_code == 403


def test_a_service_admin_picks_a_project(client, project):
    response = sign_in(client, ADMIN_TOKEN)
    assert response.location == "/ui/projects"
    html = client.get("/ui/projects").get_data(as_text=True)
    assert f'href="/ui/p/{project}/"' in html


def test_after_sign_in_only_a_local_page_is_next(client, project, token_for):
    token = secret(token_for(project, "read"))
    response = sign_in(client, token, next="https://evil.example/ui/")
    assert response.location == f"/ui/p/{project}/"
    response = sign_in(client, token, next=f"/ui/p/{project}/annotators")
    assert response.location == f"/ui/p/{project}/annotators"


def test_pages_forbid_foreign_scripts_and_caching(client, project, token_for):
    sign_in(client, secret(token_for(project, "read")))
    response = client.get(f"/ui/p/{project}/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get("/ui/static/app.css").status_code == 200


def test_data_routes_answer_what_the_api_answers(client, fitted, token_for):
    headers = token_for(fitted, "read")
    sign_in(client, secret(headers))
    overview = client.get(f"/ui/data/p/{fitted}/overview").get_json()
    api_project = client.get(f"/api/v1/projects/{fitted}", headers=headers).get_json()
    assert overview["project"]["counts"] == api_project["counts"] == {
        "labels": 96, "items": 24, "annotators": 4, "gold": 5,
    }  # fmt: skip
    assert overview["fit"]["attributes"]["shade"]["converged"] is True
    query = "annotators?sort=-accuracy&attribute=shade&limit=2"
    page = client.get(f"/ui/data/p/{fitted}/{query}").get_json()
    assert page == client.get(f"/api/v1/projects/{fitted}/{query}", headers=headers).get_json()
    assert page["annotators"][0]["annotator"] in {"ann-1", "ann-2"}
    bad = client.get(f"/ui/data/p/{fitted}/annotators?sort=nonsense")
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "/query/sort"


def test_the_attribute_view_has_confusion_and_reliability(client, fitted, token_for):
    sign_in(client, secret(token_for(fitted, "read")))
    view = client.get(f"/ui/data/p/{fitted}/attributes/shade").get_json()
    counts = view["confusion"][""]["counts"]
    assert view["confusion"][""]["values"] == SHADES and len(counts) == len(SHADES)
    assert sum(map(sum, counts)) == pytest.approx(96, abs=0.1)
    bins = view["calibration"]
    assert sum(b["n"] for b in bins) == 5  # the gold items
    assert all(0 <= b["accuracy"] <= 1 and b["low"] <= b["confidence"] <= b["high"] for b in bins)
    missing = client.get(f"/ui/data/p/{fitted}/attributes/colour")
    assert missing.status_code == 404
    assert client.get(f"/ui/p/{fitted}/attributes/colour").status_code == 404


def test_claims_and_verdicts_carry_the_signed_in_reviewer(client, fitted, token_for):
    headers = token_for(fitted, "read", "review")
    sign_in(client, secret(headers), reviewer="dana")
    claims = post_data(client, f"/ui/data/p/{fitted}/review/claim", {"limit": 2}).get_json()
    assert claims["claims"] and {c["claimed_by"] for c in claims["claims"]} == {"dana"}
    first = claims["claims"][0]
    verdict = post_data(
        client,
        f"/ui/data/p/{fitted}/review/{first['item']}/verdict",
        {"attribute": first["attribute"], "value": "cream", "reviewer": "mallory"},
    )
    assert verdict.status_code == 200 and verdict.get_json()["reviewer"] == "dana"
    result = client.get(f"/api/v1/projects/{fitted}/results/{first['item']}", headers=headers)
    shade = next(a for a in result.get_json()["attributes"] if a["attribute"] == "shade")
    assert (shade["gold"], shade["gold_source"], shade["result"]["status"]) == (
        "cream", "verdict", "reviewed",
    )  # fmt: skip


def test_gunicorn_workers_share_one_session_key(monkeypatch):
    """Without QC_SECRET_KEY, the master draws one key before forking, so a session
    signed by one worker is valid on the others."""
    from qc_service import gunicorn_conf
    from qc_service.settings import Settings

    # Set first, so that the key drawn below is removed again after the test.
    monkeypatch.setenv("QC_SECRET_KEY", "")
    monkeypatch.delenv("QC_SECRET_KEY")
    gunicorn_conf._share_session_secret()
    drawn = Settings.from_env().secret_key
    assert len(drawn) == 64
    gunicorn_conf._share_session_secret()
    assert Settings.from_env().secret_key == drawn
    monkeypatch.setenv("QC_SECRET_KEY", "chosen")
    gunicorn_conf._share_session_secret()
    assert Settings.from_env().secret_key == "chosen"
