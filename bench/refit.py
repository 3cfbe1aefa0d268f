"""Refit of a 1M-label synthetic project from PostgreSQL: load, fit, publish.

    .venv/bin/python bench/refit.py setup   # once: creates schema qc_bench, 1M labels
    .venv/bin/python bench/refit.py run     # times one refit; peak RSS of this process
    .venv/bin/python bench/refit.py run first    # ... as the project's first fit
    .venv/bin/python bench/refit.py run changed  # ... with every stored result changed

``QC_BENCH_POSTGRES_URL`` names the server (default: the local ``test`` database),
``QC_BENCH_SCHEMA`` the schema (default ``qc_bench``), so that parallel benchmarks on
one server keep apart.
Setup uses COPY so it takes seconds; the run is what the service does in a job. A
plain run refits unchanged labels, so publishing writes nothing; ``first`` deletes the
stored results beforehand (every row is inserted), ``changed`` nudges every stored
confidence and priority (every row is updated, as after a refit on 1 % more labels).
"""

from __future__ import annotations

import io
import os
import resource
import sys
import time
from urllib.parse import quote

import numpy as np
import sqlalchemy as sa

from qc_service.service.context import Context
from qc_service.settings import Settings
from qc_service.store import db

BASE_URL = os.environ.get(
    "QC_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SCHEMA = os.environ.get("QC_BENCH_SCHEMA", "qc_bench")
URL = f"{BASE_URL}?options={quote(f'-csearch_path={SCHEMA}')}"
PROJECT = "bench"
VALUES = ["white", "off-white", "cream", "beige", "light gray"]
N_ITEMS, LABELS_PER_ITEM, N_ANNOTATORS = 100_000, 10, 1_000


def setup() -> None:
    admin = sa.create_engine(BASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        connection.execute(sa.text(f'CREATE SCHEMA "{SCHEMA}"'))
    engine = db.make_engine(URL)
    db.upgrade(engine)
    rng = np.random.default_rng(0)
    truth = rng.integers(0, len(VALUES), N_ITEMS)
    accuracy = rng.uniform(0.45, 0.95, N_ANNOTATORS)
    item = np.repeat(np.arange(N_ITEMS), LABELS_PER_ITEM)
    annotator = np.concatenate(
        [rng.choice(N_ANNOTATORS, LABELS_PER_ITEM, replace=False) for _ in range(N_ITEMS)]
    )
    right = rng.random(len(item)) < accuracy[annotator]
    noise = (truth[item] + rng.integers(1, len(VALUES), len(item))) % len(VALUES)
    value = np.where(right, truth[item], noise)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO project (id, name, target_confidence, min_labels, max_labels, method,"
                " platform_config, created_at, revision) VALUES (:id, :id, 0.9, 3, 10,"
                " 'dawid_skene', '{}', now(), 1)"
            ),
            {"id": PROJECT},
        )
        connection.execute(
            sa.text(
                "INSERT INTO attribute (project_id, position, name, kind, values)"
                " VALUES (:p, 0, 'shade', 'categorical', CAST(:v AS json))"
            ),
            {"p": PROJECT, "v": str(VALUES).replace("'", '"')},
        )
        for table, n in (("item", N_ITEMS), ("annotator", N_ANNOTATORS)):
            connection.execute(
                sa.text(
                    f"INSERT INTO {table} (id, project_id, key, created_at)"
                    " SELECT g, :p, 'k' || g, now() FROM generate_series(1, :n) g"
                ),
                {"p": PROJECT, "n": n},
            )
        attribute_id = connection.execute(sa.text("SELECT id FROM attribute")).scalar_one()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        buffer = io.StringIO()
        for i, a, v in zip(item + 1, annotator + 1, value, strict=True):
            buffer.write(f"{PROJECT}\t{i}\t{a}\t{attribute_id}\t{VALUES[v]}\tbench\tnow\tnow\tf\n")
        with cursor.copy(
            "COPY label (project_id, item_id, annotator_id, attribute_id, value, source,"
            " created_at, received_at, retracted) FROM STDIN"
        ) as copy:
            copy.write(buffer.getvalue())
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as connection:
        connection.execute(sa.text("ANALYZE"))
    print(f"set up {len(item):,} labels on {N_ITEMS:,} items by {N_ANNOTATORS:,} annotators")


#: What a run does to the stored results before the timed refit.
SCENARIOS = {
    "unchanged": None,
    "first": "DELETE FROM result WHERE project_id = :p",
    # as after new labels: every posterior moves a little, so confidence and priority
    # change on every row
    "changed": "UPDATE result SET confidence = confidence + 1e-9, priority = priority + 1e-9"
    " WHERE project_id = :p",
}


def run(scenario: str = "unchanged") -> None:
    from qc_service.service import fits

    settings = Settings.from_env({}, database_url=URL)
    ctx = Context(settings=settings, engine=db.make_engine(URL))
    if SCENARIOS[scenario] is not None:
        with ctx.engine.begin() as connection:
            connection.execute(sa.text(SCENARIOS[scenario]), {"p": PROJECT})
        with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE result"))
    started = time.perf_counter()
    fit = fits.run_fit(ctx, PROJECT)
    total = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    timings = fit.detail["timings"]
    publish = total - timings["load_seconds"] - timings["fit_seconds"]
    summary = fit.detail["attributes"]["shade"]
    print(
        f"{scenario} refit of {summary['n_labels']:,} labels: {total:.2f} s "
        f"(load {timings['load_seconds']:.2f}, fit {timings['fit_seconds']:.2f}, "
        f"publish {publish:.2f}); n_iter {summary['problems']['']['n_iter']}; "
        f"peak RSS {peak_mb:.0f} MB"
    )


if __name__ == "__main__":
    {"setup": setup, "run": run}[sys.argv[1]](*sys.argv[2:])
