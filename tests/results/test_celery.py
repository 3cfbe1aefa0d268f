"""Refits on a real Celery worker process over a real Redis."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import redis

from qc_service.app import create_app
from tests.conftest import ROOT, make_settings
from tests.results.helpers import all_pages, dataset_project, read_dataset, wait_for_job

REDIS_URL = os.environ.get("QC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
#: A database number of its own, so the test never reads or flushes anyone else's keys.
BROKER_URL = REDIS_URL.rsplit("/", 1)[0] + "/13"


@pytest.fixture
def broker() -> str:
    connection = redis.Redis.from_url(BROKER_URL)
    try:
        connection.ping()
    except redis.ConnectionError as error:
        pytest.fail(f"Redis at {BROKER_URL} is not reachable ({error}); `bash .ci/run` starts it")
    connection.flushdb()
    yield BROKER_URL
    connection.flushdb()


@pytest.fixture
def worker(broker: str, database_url: str, tmp_path):
    env = {**os.environ, "DATABASE_URL": database_url, "QC_BROKER_URL": broker}
    with open(tmp_path / "worker.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "qc_service.cli", "worker"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        yield process
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_refits_run_on_a_celery_worker(database_url, broker, worker, tmp_path):
    app = create_app({"TESTING": True}, settings=make_settings(database_url, broker_url=broker))
    client = app.test_client()
    rows, _ = read_dataset("bluebirds")
    dataset_project(client, "birds", rows)
    response = client.post(
        "/api/v1/projects/birds/fits", headers={"Authorization": "Bearer qc_test_admin_token"}
    )
    assert response.status_code == 202
    job = wait_for_job(client, response.get_json()["id"], timeout=90)
    assert job["state"] == "done", (job, (tmp_path / "worker.log").read_text()[-3000:])
    results = all_pages(client, "/api/v1/projects/birds/results", "results")
    assert len(results) == len({r["task"] for r in rows})
    assert all(r["fit"] == job["detail"]["fit"] for r in results)
    app.extensions["qc"].engine.dispose()
