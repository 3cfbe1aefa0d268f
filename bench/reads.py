"""Read latency of ``results``, ``annotators`` and ``review/queue`` on the 1M-label
project under a steady 200 requests/s.

Uses the project ``bench/refit.py`` sets up and fits (schema ``qc_bench``), served by
gunicorn (2 workers, the shipped config) on 127.0.0.1. Requests go out open loop at a
fixed total rate, round-robin over the three endpoints and over page cursors
collected beforehand; each latency counts from the time its request was due, so a
stalled server cannot hide its queue. Every loop is bounded in time.

Wall-clock latency on a shared machine says as much about the neighbours as about
the service, so the run also reports CPU per request: of the gunicorn processes
(from /proc) and of this load generator (its own process time). PostgreSQL's share
is neither.

    .venv/bin/python bench/refit.py setup && .venv/bin/python bench/refit.py run
    .venv/bin/python bench/reads.py --rate 200 --seconds 30
    .venv/bin/python bench/reads.py --no-page-cache  # every read built from the database
    .venv/bin/python bench/reads.py --in-process   # CPU per request, page cache on and off
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import ADMIN, free_port, start_server
from refit import PROJECT, URL

PAGES = 20  # cursors collected per endpoint: reads spread over the first pages
#: The endpoints read, with the key of each answer's list.
ENDPOINTS = {"results": "results", "annotators": "annotators", "review/queue": "queue"}
HEADERS = {"Authorization": f"Bearer {ADMIN}"}


def get(connection: http.client.HTTPConnection, path: str) -> dict:
    connection.request("GET", path, headers=HEADERS)
    response = connection.getresponse()
    data = response.read()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: {response.status} {data[:300]!r}")
    return json.loads(data)


def page_paths(fetch: Callable[[str], dict], endpoint: str, key: str) -> list[str]:
    """The first ``PAGES`` page URLs of one list endpoint (100 rows each)."""
    base = f"/api/v1/projects/{PROJECT}/{endpoint}?limit=100"
    paths, path = [], base
    for _ in range(PAGES):
        paths.append(path)
        answer = fetch(path)
        assert answer[key], f"{endpoint} is empty: run bench/refit.py setup and run first"
        if answer["next_cursor"] is None:
            break
        path = f"{base}&cursor={answer['next_cursor']}"
    return paths


def _stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat from field 3 (state) on; the command name may hold spaces."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_tree_cpu(pid: int) -> float:
    """User + system CPU seconds of a process and its children (gunicorn's workers)."""
    pids = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat_fields(int(entry.name))[1]) == pid:
                    pids.append(int(entry.name))
            except (OSError, IndexError):
                continue  # the process ended meanwhile
    ticks = 0
    for each in pids:
        fields = _stat_fields(each)
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def steady_reads(port: int, targets: dict[str, list[str]], rate: float, seconds: float) -> dict:
    """Open-loop GETs at ``rate`` per second; latencies by endpoint."""
    plan = [
        (name, paths[(i // len(targets)) % len(paths)])
        for i in range(int(rate * seconds))
        for name, paths in [list(targets.items())[i % len(targets)]]
    ]
    latencies: dict[str, list[float]] = {name: [] for name in targets}
    lock = threading.Lock()
    start = time.monotonic() + 0.5
    # A server slower than the rate falls ever further behind; stop sending then and
    # count what was never sent as missed, so the run stays bounded.
    deadline = start + 2 * seconds + 5
    next_index = iter(range(len(plan)))

    def run() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                index = next(next_index, None)
            due = start + index / rate if index is not None else 0.0
            if index is None or time.monotonic() > deadline:
                return
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            name, path = plan[index]
            get(connection, path)
            with lock:
                latencies[name].append(time.monotonic() - due)

    workers = [threading.Thread(target=run) for _ in range(16)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    out = {}
    for name, values in latencies.items():
        values.sort()
        out[name] = {
            "requests": len(values),
            "missed": len(plan) // len(targets) - len(values),
            "p50_ms": round(1000 * statistics.median(values), 2),
            "p99_ms": round(1000 * values[int(0.99 * (len(values) - 1))], 2),
        }
    return out


def in_process_cpu(requests: int) -> None:
    """CPU per request through Flask's test client (no HTTP, no gunicorn, one thread),
    with the page cache and with an empty one (every read built from the database)."""
    from qc_service.app import create_app
    from qc_service.service.context import PageCache
    from qc_service.settings import Settings

    settings = Settings.from_env(
        database_url=URL, admin_token=ADMIN, refit_debounce_seconds=3600, log_level="WARNING"
    )
    app = create_app(settings=settings)
    client, ctx = app.test_client(), app.extensions["qc"]
    targets = {
        name: page_paths(lambda path: client.get(path, headers=HEADERS).get_json(), name, key)
        for name, key in ENDPOINTS.items()
    }
    for label, cache in (("cached", ctx.pages), ("uncached", PageCache(max_bytes=0))):
        ctx.pages = cache
        for name, paths in targets.items():
            for path in paths:  # warm up (and fill the cache)
                client.get(path, headers=HEADERS)
            started = time.process_time()
            for i in range(requests):
                client.get(paths[i % len(paths)], headers=HEADERS)
            cpu = (time.process_time() - started) / requests
            print(f"{label:9} {name:14} {1000 * cpu:.2f} ms CPU per request")
    app.extensions["qc_scheduler"].stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument(
        "--in-process", action="store_true", help="CPU per request through Flask's test client"
    )
    parser.add_argument(
        "--no-page-cache", action="store_true", help="serve with QC_PAGE_CACHE_BYTES=0"
    )
    args = parser.parse_args()
    if args.in_process:
        in_process_cpu(requests=300)
        return
    if args.no_page_cache:
        os.environ["QC_PAGE_CACHE_BYTES"] = "0"  # the server inherits this environment
    args.port = args.port or free_port()
    server = start_server(URL, args.port, workers=2)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        targets = {
            name: page_paths(lambda path: get(connection, path), name, key)
            for name, key in ENDPOINTS.items()
        }
        steady_reads(args.port, targets, args.rate, min(args.seconds, 5.0))  # warm up
        server_cpu, client_cpu = process_tree_cpu(server.pid), time.process_time()
        started = time.monotonic()
        result = steady_reads(args.port, targets, args.rate, args.seconds)
        elapsed = time.monotonic() - started
        server_cpu = process_tree_cpu(server.pid) - server_cpu
        client_cpu = time.process_time() - client_cpu
    finally:
        server.terminate()
        server.wait(timeout=30)
    served = sum(figures["requests"] for figures in result.values())
    cache = "no page cache" if args.no_page_cache else "page cache"
    print(
        f"{args.rate:.0f} req/s for {args.seconds:.0f} s, gunicorn 2 workers, PostgreSQL, {cache}"
    )
    for name, figures in result.items():
        print(f"{name:14} {figures}")
    print(
        f"served {served} in {elapsed:.1f} s ({served / elapsed:.0f} req/s); CPU per request:"
        f" server {1000 * server_cpu / served:.2f} ms, load generator"
        f" {1000 * client_cpu / served:.2f} ms"
    )


if __name__ == "__main__":
    main()
