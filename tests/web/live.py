"""A real qc-service process for the browser tests, and the data they look at.

The server is started the way the README says (``qc-service demo`` then ``qc-service
serve``, SQLite in a fresh data folder, ``QC_ADMIN_TOKEN`` set). Besides the demo
project, tests add over the HTTP API a project whose items are image URLs (served by
a tiny swatch server, so the review page shows pictures without the network) and,
when present, a shared real dataset.
"""

from __future__ import annotations

import csv
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import numpy as np

from tests.conftest import DATASETS, ROOT

ADMIN_TOKEN = "qc_browser_admin_token"
SHADES = ["white", "off-white", "cream", "beige", "light gray"]
SHADE_COLOURS = ["#ffffff", "#f4f1ea", "#f3e5c0", "#d8c3a5", "#cfd2d6"]
PATTERNS = ["solid", "striped", "checked", "floral"]
FABRICS = ["cotton", "linen", "silk"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path
    #: The admin token of the demo project that ``qc-service demo`` printed.
    demo_token: str

    def api(self, token: str = ADMIN_TOKEN) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.url}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )


def qc_service(*args: str) -> list[str]:
    """The ``qc-service`` command of this checkout (the installed script may import
    another one)."""
    return [sys.executable, "-c", "from qc_service.cli import main; main()", *args]


def start_server(data_dir: Path) -> Iterator[Server]:
    """What ``make run`` does: ``qc-service demo``, then ``qc-service serve`` on a free
    port, with the same data folder."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = data_dir / "server.log"
    env = {
        **os.environ,
        "QC_DATA_DIR": str(data_dir),
        "QC_ADMIN_TOKEN": ADMIN_TOKEN,
        "QC_SECRET_KEY": "browser-test-secret",
        "QC_REFIT_DEBOUNCE_SECONDS": "0.2",
        "PYTHONUNBUFFERED": "1",  # the log says how far it got if it does not start
    }
    env.pop("DATABASE_URL", None)
    demo = subprocess.run(
        qc_service("demo", "--url", url), cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert demo.returncode == 0, demo.stderr
    assert f"{url}/ui/signin" in demo.stdout, demo.stdout
    demo_token = re.search(r"^token:\s+(\S+)$", demo.stdout, re.MULTILINE).group(1)
    with log.open("w") as out:
        process = subprocess.Popen(
            qc_service("serve", "--port", str(port)),
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = Server(url, process, log, demo_token)
    # Generous: importing the scientific stack takes seconds, and much longer when the
    # machine is busy with other test workers.
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{server.url}/readyz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(
                f"qc-service did not start (exit code {process.poll()}):\n{log.read_text()}"
            )
        time.sleep(0.1)
    try:
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)


class _Swatches(BaseHTTPRequestHandler):
    """``/<item>/<shade>.svg``: a fabric swatch of that shade, standing in for photos."""

    def do_GET(self) -> None:
        shade = int(self.path.rsplit("/", 1)[-1].split(".")[0])
        colour = SHADE_COLOURS[shade % len(SHADE_COLOURS)]
        body = (
            '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="240">'
            f'<rect width="240" height="240" fill="{colour}"/>'
            '<path d="M0 60h240M0 120h240M0 180h240" stroke="#0002" stroke-width="6"/></svg>'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "image/svg+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet: the test output is not the place for access logs."""


def start_swatch_server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Swatches)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


def wait_for_fit(api: httpx.Client, project: str) -> dict:
    """Start a refit and wait until it is done; answers the job."""
    job = api.post(f"/projects/{project}/fits").json()
    deadline = time.monotonic() + 60
    while job["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, f"refit of {project} did not finish: {job}"
        time.sleep(0.1)
        job = api.get(f"/jobs/{job['id']}").json()
    assert job["state"] == "done", job
    return job


def swatch_project(api: httpx.Client, swatches: str, n_items: int = 120) -> str:
    """Shirts whose item keys are image URLs, labelled by 40 simulated annotators of
    uneven skill (a few answer at random), 3 to 5 labels per item (5 for the fabric
    tags), control answers on a tenth of the items."""
    rng = np.random.default_rng(7)
    spec = {
        "id": "swatches", "name": "Shirts with photos",
        "attributes": [
            {"name": "shade", "kind": "categorical", "values": SHADES},
            {"name": "pattern", "kind": "categorical", "values": PATTERNS},
            {"name": "has_logo", "kind": "binary", "values": ["no", "yes"]},
        ],
        "target_confidence": 0.9, "min_labels": 3, "max_labels": 5, "method": "dawid_skene",
    }  # fmt: skip
    single = list(spec["attributes"])
    spec["attributes"].append({"name": "fabric", "kind": "multilabel", "values": FABRICS})
    assert api.post("/projects", json=spec).status_code == 201
    skills = np.concatenate([rng.uniform(0.5, 0.95, 34), np.full(6, 0.0)])
    truth = {
        attribute["name"]: rng.integers(len(attribute["values"]), size=n_items)
        for attribute in single
    }
    items = [f"{swatches}/{i}/{shade}.svg" for i, shade in enumerate(truth["shade"])]
    labels = []
    for index, item in enumerate(items):
        for annotator in rng.choice(len(skills), size=rng.integers(3, 6), replace=False):
            for attribute in single:
                values = attribute["values"]
                true = truth[attribute["name"]][index]
                if rng.random() < skills[annotator]:
                    given = true
                elif attribute["name"] == "shade" and rng.random() < 0.7:
                    given = min(true + 1, len(values) - 1)  # neighbouring shades get mixed up
                else:
                    given = rng.integers(len(values))
                labels.append({
                    "item": item, "annotator": f"worker-{annotator:03d}",
                    "attribute": attribute["name"], "value": values[given],
                })  # fmt: skip
    # Fabric tags: each annotator misses or invents a tag now and then.
    has_tag = rng.random((n_items, len(FABRICS))) < 0.4
    for index, item in enumerate(items):
        for annotator in rng.choice(len(skills), size=5, replace=False):
            flipped = rng.random(len(FABRICS)) > (1 + skills[annotator]) / 2
            tags = [tag for tag, has in zip(FABRICS, has_tag[index] ^ flipped, strict=True) if has]
            labels.append({
                "item": item, "annotator": f"worker-{annotator:03d}",
                "attribute": "fabric", "value": tags,
            })  # fmt: skip
    response = api.post("/projects/swatches/labels", json={"labels": labels})
    assert response.status_code == 200, response.text
    gold = [
        {"item": items[i], "attribute": a["name"], "value": a["values"][truth[a["name"]][i]]}
        for i in range(0, n_items, 10)
        for a in single
    ]
    assert api.post("/projects/swatches/gold", json={"gold": gold}).status_code in (200, 201)
    wait_for_fit(api, "swatches")
    return "swatches"


def dataset_project(api: httpx.Client, name: str) -> str | None:
    """A shared real dataset as a one-attribute project; None when it is absent.
    Gold is posted for every other gold item so the queue keeps real doubts too."""
    folder = DATASETS / name
    if not (folder / "labels.csv").exists():
        return None
    with (folder / "labels.csv").open() as f:
        rows = list(csv.DictReader(f))
    with (folder / "gold.csv").open() as f:
        gold = list(csv.DictReader(f))
    values = sorted({row["label"] for row in rows} | {row["label"] for row in gold})
    spec = {
        "id": name, "name": f"{name} (shared dataset)",
        "attributes": [{"name": "label", "kind": "categorical", "values": values}],
        "target_confidence": 0.95, "min_labels": 3, "max_labels": 10, "method": "dawid_skene",
    }  # fmt: skip
    assert api.post("/projects", json=spec).status_code == 201
    labels = [
        {
            "item": row["task"],
            "annotator": row["worker"],
            "attribute": "label",
            "value": row["label"],
        }
        for row in rows
    ]
    for start in range(0, len(labels), 5000):
        response = api.post(
            f"/projects/{name}/labels", json={"labels": labels[start : start + 5000]}
        )
        assert response.status_code == 200, response.text
    answers = [
        {"item": row["task"], "attribute": "label", "value": row["label"]} for row in gold[::2]
    ]
    assert api.post(f"/projects/{name}/gold", json={"gold": answers}).status_code in (200, 201)
    wait_for_fit(api, name)
    return name
