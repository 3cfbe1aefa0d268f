"""Ingest benchmark: labels per second through HTTP, and single-label latency.

Starts gunicorn (2 workers, the shipped config) on SQLite and on PostgreSQL, then
1. posts batches of 1, 100 and 1,000 labels from several client threads for a fixed
   time and reports sustained labels/s;
2. posts single labels at a steady rate (open loop: latency counts from the time each
   request was due, so a stalled server cannot hide its queue) and reports p50/p99.

Traffic goes to 127.0.0.1 only, every loop is bounded in time.

    python bench/ingest.py                       # both databases, default durations
    python bench/ingest.py --databases sqlite --seconds 5
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "bench-admin-token"
POSTGRES = os.environ.get(
    "QC_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def free_port() -> int:
    """A port nothing listens on now: a fixed default once met another benchmark's
    server, whose /readyz answered for ours while gunicorn failed to bind."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(database_url: str, port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "QC_ADMIN_TOKEN": ADMIN,
        "QC_AUTO_MIGRATE": "1",
        "QC_LOG_LEVEL": "WARNING",
        # Refits are measured by bench/refit.py; keep them from competing here.
        "QC_REFIT_DEBOUNCE_SECONDS": "3600",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "python:qc_service.gunicorn_conf",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "/dev/null",
            "qc_service.app:create_app()",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"server did not start: {server.stderr.read().decode()[-2000:]}")


def request(connection, method, path, body=None, token=ADMIN):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    if response.status >= 300:
        raise RuntimeError(f"{method} {path}: {response.status} {data[:300]!r}")
    return json.loads(data)


def create_project(port: int) -> str:
    project = f"bench-{uuid.uuid4().hex[:8]}"
    spec = {
        "id": project,
        "name": project,
        "method": "dawid_skene",
        "attributes": [{"name": "shade", "values": ["a", "b", "c", "d"]}],
    }
    request(
        http.client.HTTPConnection("127.0.0.1", port), "POST", "/api/v1/projects", json.dumps(spec)
    )
    return project


def make_bodies(batch: int, count: int, tag: str) -> list[bytes]:
    """Distinct batches: 1,000 annotators, items with overlap 5, random-looking values."""
    bodies = []
    n = 0
    for _ in range(count):
        labels = []
        for _ in range(batch):
            labels.append(
                {
                    "item": f"{tag}-i{n // 5}",
                    "annotator": f"w{(n * 7919) % 1000}",
                    "attribute": "shade",
                    "value": "abcd"[(n * 31) % 4],
                    "id": f"{tag}-{n}",
                }
            )
            n += 1
        bodies.append(json.dumps({"labels": labels}).encode())
    return bodies


def throughput(port: int, project: str, batch: int, seconds: float, threads: int) -> dict:
    path = f"/api/v1/projects/{project}/labels"
    per_thread = max(8, int(25_000 / batch * seconds / threads) + 8)
    stop = time.monotonic() + seconds
    sent = [0] * threads
    errors: list[str] = []

    def run(index: int) -> None:
        bodies = make_bodies(batch, per_thread, f"b{batch}t{index}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for body in bodies:
            if time.monotonic() >= stop:
                return
            try:
                request(connection, "POST", path, body)
            except Exception as error:  # reported after the run, with the first failure
                errors.append(str(error))
                return
            sent[index] += batch

    start = time.monotonic()
    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - start
    if errors:
        raise RuntimeError(errors[0])
    return {
        "batch": batch,
        "labels": sum(sent),
        "seconds": round(elapsed, 2),
        "labels_per_second": round(sum(sent) / elapsed),
    }


def steady_latency(port: int, project: str, rate: float, seconds: float) -> dict:
    """Open-loop single-label posts at ``rate`` per second."""
    path = f"/api/v1/projects/{project}/labels"
    total = int(rate * seconds)
    bodies = make_bodies(1, total, f"lat{uuid.uuid4().hex[:4]}")
    latencies: list[float] = []
    lock = threading.Lock()
    start = time.monotonic() + 0.2
    next_index = iter(range(total))

    def run() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                index = next(next_index, None)
            if index is None:
                return
            due = start + index / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            request(connection, "POST", path, bodies[index])
            with lock:
                latencies.append(time.monotonic() - due)

    workers = [threading.Thread(target=run) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    latencies.sort()
    return {
        "rate": rate,
        "requests": len(latencies),
        "p50_ms": round(1000 * statistics.median(latencies), 2),
        "p99_ms": round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 2),
    }


def postgres_schema_url() -> tuple[str, str]:
    schema = f"qc_bench_{uuid.uuid4().hex[:8]}"
    with sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    return schema, f"{POSTGRES}?options={quote(f'-csearch_path={schema}')}"


def drop_schema(schema: str) -> None:
    with sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--databases", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"]
    )
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 100, 1000])
    parser.add_argument("--seconds", type=float, default=10.0, help="per throughput run")
    parser.add_argument("--threads", type=int, default=4, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--rate", type=float, default=100.0, help="steady single-label rate")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    args = parser.parse_args()
    args.port = args.port or free_port()

    results = []
    for database in args.databases:
        schema = None
        with tempfile.TemporaryDirectory() as folder:
            if database == "sqlite":
                url = f"sqlite:///{folder}/bench.db"
            else:
                schema, url = postgres_schema_url()
            server = start_server(url, args.port, args.workers)
            try:
                for batch in args.batches:
                    row = throughput(
                        args.port, create_project(args.port), batch, args.seconds, args.threads
                    )
                    results.append({"database": database, **row})
                    print(json.dumps(results[-1]), flush=True)
                row = steady_latency(args.port, create_project(args.port), args.rate, args.seconds)
                results.append({"database": database, "single_label_latency": row})
                print(json.dumps(results[-1]), flush=True)
            finally:
                server.terminate()
                server.wait(timeout=30)
                if schema:
                    drop_schema(schema)


if __name__ == "__main__":
    main()
