"""Review leases under concurrency, refusals that write nothing, and job behaviour."""

from __future__ import annotations

import threading
import time

import pytest

from qc_service.service import fits as fit_service
from qc_service.store import db
from qc_service.store import jobs as job_store
from tests.conftest import ADMIN, project_spec, row_counts
from tests.results.helpers import all_pages, forged_cursor, refit, wait_for_job


def post_disputed_items(client, n_items: int) -> None:
    """Items whose two labels disagree: every one is flagged once max_labels is 2."""
    labels = []
    for i in range(n_items):
        labels.append({"item": f"i{i}", "annotator": "a", "attribute": "shade", "value": "white"})
        labels.append({"item": f"i{i}", "annotator": "b", "attribute": "shade", "value": "cream"})
    response = client.post("/api/v1/projects/shirts/labels", json={"labels": labels}, headers=ADMIN)
    assert response.status_code == 200, response.get_json()


@pytest.fixture
def disputed(client):
    spec = project_spec(min_labels=2, max_labels=2, target_confidence=0.9)
    assert client.post("/api/v1/projects", json=spec, headers=ADMIN).status_code == 201
    post_disputed_items(client, 30)
    refit(client, "shirts")
    return "shirts"


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_concurrent_claims_never_share_an_item(app, disputed):
    queue = all_pages(app.test_client(), "/api/v1/projects/shirts/review/queue", "queue")
    assert len(queue) == 30
    barrier = threading.Barrier(8)
    claimed: dict[str, list[str]] = {}

    def claim(reviewer: str) -> None:
        client = app.test_client()  # each thread checks out its own connection
        barrier.wait()
        response = client.post(
            "/api/v1/projects/shirts/review/claim",
            json={"reviewer": reviewer, "limit": 5},
            headers=ADMIN,
        )
        assert response.status_code == 200, response.get_json()
        claimed[reviewer] = [c["item"] for c in response.get_json()["claims"]]

    threads = [threading.Thread(target=claim, args=(f"r{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    items = [item for got in claimed.values() for item in got]
    assert len(items) == len(set(items)) == 30  # 8 x 5 asked, 30 exist: all leased once
    assert all(len(got) <= 5 for got in claimed.values())


def test_leases_expire_and_guard_verdicts(client, disputed):
    first = client.post(
        "/api/v1/projects/shirts/review/claim", json={"reviewer": "ann", "limit": 3}, headers=ADMIN
    ).get_json()["claims"]
    second = client.post(
        "/api/v1/projects/shirts/review/claim", json={"reviewer": "bob", "limit": 3}, headers=ADMIN
    ).get_json()["claims"]
    assert not {c["item"] for c in first} & {c["item"] for c in second}
    item = first[0]["item"]
    before = row_counts(client.application.extensions["qc"].engine)
    response = client.post(
        f"/api/v1/projects/shirts/review/{item}/verdict",
        json={"attribute": "shade", "value": "white", "reviewer": "bob"},
        headers=ADMIN,
    )
    assert response.status_code == 409
    assert response.headers["Content-Type"] == "application/problem+json"
    assert row_counts(client.application.extensions["qc"].engine) == before
    queue = client.get("/api/v1/projects/shirts/review/queue?limit=1000", headers=ADMIN).get_json()
    leased = {q["item"]: q["claimed_by"] for q in queue["queue"] if q["claimed_by"]}
    assert leased == {**{c["item"]: "ann" for c in first}, **{c["item"]: "bob" for c in second}}


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", "/api/v1/projects/shirts/results?status=done", None),
        ("GET", "/api/v1/projects/shirts/results?attribute=colour", None),
        ("GET", "/api/v1/projects/shirts/results?limit=0", None),
        ("GET", "/api/v1/projects/shirts/results?limit=1001", None),
        ("GET", "/api/v1/projects/shirts/results?cursor=bm90LWEtY3Vyc29y", None),
        ("GET", "/api/v1/projects/shirts/results?colour=red", None),
        ("GET", "/api/v1/projects/shirts/results/nope", None),
        ("GET", "/api/v1/projects/shirts/annotators?sort=age", None),
        ("GET", "/api/v1/projects/shirts/annotators?status=great", None),
        ("GET", "/api/v1/projects/shirts/annotators/nobody", None),
        ("GET", "/api/v1/projects/shirts/review/queue?cursor=%%%", None),
        ("GET", f"/api/v1/projects/shirts/results?cursor={forged_cursor({'after': 'x'})}", None),
        ("GET", f"/api/v1/projects/shirts/results?cursor={forged_cursor({'after': 2**64})}", None),
        ("GET", f"/api/v1/projects/shirts/results?cursor={forged_cursor({'after': True})}", None),
        (
            "GET",
            "/api/v1/projects/shirts/review/queue?cursor="
            + forged_cursor({"priority": "x", "id": 1}),
            None,
        ),
        (
            "GET",
            "/api/v1/projects/shirts/review/queue?cursor="
            + forged_cursor({"priority": 0.5, "id": None}),
            None,
        ),
        ("GET", "/api/v1/projects/shirts/export?format=xlsx", None),
        ("GET", "/api/v1/projects/shirts/export?attribute=colour", None),
        ("GET", "/api/v1/projects/nope/agreement", None),
        ("POST", "/api/v1/projects/nope/fits", None),
        ("GET", "/api/v1/jobs/not-a-job", None),
        ("POST", "/api/v1/projects/shirts/review/claim", {"reviewer": "ann", "limit": 0}),
        ("POST", "/api/v1/projects/shirts/review/claim", {"reviewer": "", "limit": 1}),
        ("POST", "/api/v1/projects/shirts/review/claim", {"reviewer": "a", "extra": 1}),
        ("POST", "/api/v1/projects/shirts/review/claim", {"reviewer": "a", "lease_seconds": 1}),
        ("POST", "/api/v1/projects/shirts/review/i0/verdict", {"attribute": "shade"}),
        (
            "POST",
            "/api/v1/projects/shirts/review/i0/verdict",
            {"attribute": "shade", "value": "purple", "reviewer": "ann"},
        ),
        (
            "POST",
            "/api/v1/projects/shirts/review/i0/verdict",
            {"attribute": "colour", "value": "white", "reviewer": "ann"},
        ),
        (
            "POST",
            "/api/v1/projects/shirts/review/nope/verdict",
            {"attribute": "shade", "value": "white", "reviewer": "ann"},
        ),
        ("POST", "/api/v1/projects/shirts/review/i0/verdict", "not json"),
    ],
)
def test_bad_input_is_a_problem_and_writes_nothing(client, engine, disputed, method, url, body):
    before = row_counts(engine)
    if isinstance(body, str):
        response = client.open(url, method=method, data=body, headers=ADMIN)
    else:
        response = client.open(url, method=method, json=body, headers=ADMIN)
    assert 400 <= response.status_code < 500, response.data
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == response.status_code and problem["detail"]
    if response.status_code == 422:
        assert problem["errors"] and all(e["field"].startswith("/") for e in problem["errors"])
    assert row_counts(engine) == before


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/projects/shirts/results",
        "/api/v1/projects/shirts/annotators",
        "/api/v1/projects/shirts/review/queue",
        "/api/v1/projects/shirts/agreement",
        "/api/v1/projects/shirts/export",
    ],
)
def test_reads_need_the_right_token(client, disputed, token_for, url):
    assert client.get(url).status_code == 401
    client.post("/api/v1/projects", json=project_spec(id="other"), headers=ADMIN)
    assert client.get(url, headers=token_for("other", "read", "review")).status_code == 404
    scope = "review" if "review" in url else "read"
    assert client.get(url, headers=token_for("shirts", scope)).status_code == 200
    wrong = "ingest"
    assert client.get(url, headers=token_for("shirts", wrong)).status_code == 403


def test_a_failed_fit_leaves_the_previous_one(client, engine, disputed, monkeypatch):
    before = all_pages(client, "/api/v1/projects/shirts/results", "results")

    def broken(*args, **kwargs):
        raise RuntimeError("the model blew up")

    monkeypatch.setattr(fit_service, "compute_fit", broken)
    job = client.post("/api/v1/projects/shirts/fits", headers=ADMIN).get_json()
    job = wait_for_job(client, job["id"])
    assert job["state"] == "failed" and "the model blew up" in job["error"]
    assert all_pages(client, "/api/v1/projects/shirts/results", "results") == before


def test_changes_coalesce_into_one_queued_job(app, disputed):
    ctx = app.extensions["qc"]
    scheduler = app.extensions["qc_scheduler"]
    monkey_debounce = 30.0
    object.__setattr__(ctx.settings, "refit_debounce_seconds", monkey_debounce)
    for _ in range(5):
        scheduler.changed("shirts")
    with db.session_scope(ctx.engine) as session:
        queued = [j for j in job_store.queued_jobs(session) if j.project_id == "shirts"]
    assert len(queued) == 1
    due = queued[0].detail["due_at"]
    assert time.time() + monkey_debounce - 5 < due <= queued[0].detail["latest_due_at"]
    # starting a fit now joins the queued job and makes it due at once
    job = scheduler.run_now("shirts")
    assert job.id == queued[0].id
    assert wait_for_job(app.test_client(), job.id)["state"] == "done"


def test_a_verdict_given_while_a_fit_runs_stays_final(client, disputed, monkeypatch):
    """A refit that loaded its data before a verdict arrived must not publish the
    item as flagged again: the verdict is final the moment it is given."""
    compute = fit_service.compute_fit

    def verdict_arrives_during_the_fit(*args, **kwargs):
        output = compute(*args, **kwargs)
        response = client.post(
            "/api/v1/projects/shirts/review/i3/verdict",
            json={"attribute": "shade", "value": "cream", "reviewer": "ann"},
            headers=ADMIN,
        )
        assert response.status_code == 200, response.get_json()
        return output

    monkeypatch.setattr(fit_service, "compute_fit", verdict_arrives_during_the_fit)
    fit_service.run_fit(client.application.extensions["qc"], "shirts")

    result = client.get("/api/v1/projects/shirts/results/i3", headers=ADMIN).get_json()
    shade = next(a["result"] for a in result["attributes"] if a["attribute"] == "shade")
    assert (shade["status"], shade["label"], shade["confidence"]) == ("reviewed", "cream", 1.0)
    queue = client.get("/api/v1/projects/shirts/review/queue?limit=1000", headers=ADMIN).get_json()
    assert "i3" not in {entry["item"] for entry in queue["queue"]}
