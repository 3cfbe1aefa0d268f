"""Prometheus metrics at ``/metrics``: requests and latency per endpoint, labels stored.

Under gunicorn each worker process counts its own requests; set
``PROMETHEUS_MULTIPROC_DIR`` to an empty folder (the shipped gunicorn config does)
so that a scrape of any worker reports the sum over all of them.
"""

from __future__ import annotations

import os
import time

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

metrics = Blueprint("metrics", __name__)

REQUESTS = Counter(
    "qc_http_requests_total", "HTTP requests answered", ["method", "endpoint", "status"]
)
LATENCY = Histogram(
    "qc_http_request_seconds",
    "Time to answer an HTTP request",
    ["method", "endpoint"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
LABELS_ACCEPTED = Counter(
    "qc_labels_accepted_total", "Labels stored (duplicates not counted)", ["source"]
)


def instrument(app: Flask) -> None:
    @app.before_request
    def _start_timer() -> None:
        g.qc_request_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        started = g.pop("qc_request_started", None)
        # The URL rule, not the path: one series per endpoint, not per project or item.
        endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
        REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
        if started is not None:
            LATENCY.labels(request.method, endpoint).observe(time.perf_counter() - started)
        return response


@metrics.get("/metrics")
def prometheus_metrics() -> Response:
    """Prometheus text format; the sum over gunicorn workers in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
