"""Shared steps of the results tests: load a shared dataset, post it, wait for fits."""

from __future__ import annotations

import base64
import csv
import json
import time

import pytest

from tests.conftest import ADMIN, DATASETS


def read_dataset(name: str) -> tuple[list[dict], dict[str, str]]:
    """(labels as rows of worker, task, label; gold by task) of a shared dataset."""
    folder = DATASETS / name
    if not (folder / "labels.csv").exists():
        pytest.skip(f"shared dataset {name!r} is not in {DATASETS} (set QC_DATASETS)")
    with open(folder / "labels.csv", newline="") as f:
        labels = list(csv.DictReader(f))
    gold: dict[str, str] = {}
    if (folder / "gold.csv").exists():
        with open(folder / "gold.csv", newline="") as f:
            gold = {row["task"]: row["label"] for row in csv.DictReader(f)}
    return labels, gold


def dataset_project(client, project_id: str, rows: list[dict], **overrides) -> list[str]:
    """Create a one-attribute project over the dataset's values and post its labels."""
    values = sorted({row["label"] for row in rows}, key=lambda v: (len(v), v))
    spec = {
        "id": project_id,
        "name": project_id,
        "attributes": [{"name": "answer", "kind": "categorical", "values": values}],
        "target_confidence": 0.9,
        "min_labels": 2,
        "max_labels": 5,
        "method": "dawid_skene",
    }
    spec.update(overrides)
    response = client.post("/api/v1/projects", json=spec, headers=ADMIN)
    assert response.status_code == 201, response.get_json()
    labels = [
        {"item": r["task"], "annotator": r["worker"], "attribute": "answer", "value": r["label"]}
        for r in rows
    ]
    for start in range(0, len(labels), 5000):
        response = client.post(
            f"/api/v1/projects/{project_id}/labels",
            json={"labels": labels[start : start + 5000]},
            headers=ADMIN,
        )
        assert response.status_code == 200, response.get_json()
    return values


def wait_for_job(client, job_id: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}", headers=ADMIN).get_json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s: {job}")


def refit(client, project_id: str, timeout: float = 60.0) -> dict:
    """Start a refit, wait for it, and answer the finished job."""
    response = client.post(f"/api/v1/projects/{project_id}/fits", headers=ADMIN)
    assert response.status_code == 202, response.get_json()
    job = wait_for_job(client, response.get_json()["id"], timeout)
    assert job["state"] == "done", job
    return job


def all_pages(client, url: str, key: str, limit: int = 1000, headers=ADMIN) -> list[dict]:
    """Every row of a paginated list, following next_cursor."""
    rows: list[dict] = []
    cursor = None
    while True:
        separator = "&" if "?" in url else "?"
        page_url = f"{url}{separator}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(page_url, headers=headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        rows += body[key]
        cursor = body["next_cursor"]
        if cursor is None:
            return rows


def forged_cursor(position: object) -> str:
    """A cursor encoded as the service encodes them, holding whatever a client forged."""
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")
