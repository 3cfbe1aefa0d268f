"""Import benchmark: a 100k-label CSV into PostgreSQL through `qc-service import`.

Generates the CSV in a temporary folder (item, annotator, attribute, value: 10,000
items x 5 annotators x 2 attributes), creates a throw-away PostgreSQL schema and a
project in it, then runs the real command in a subprocess, exactly as a user would,
twice: the first run stores everything, the second finds everything stored.

Besides wall-clock rates it reports CPU seconds, which other load on the machine
disturbs far less: the command's process (interpreter start-up included) and its
PostgreSQL backends (read from /proc, so only when the server runs on this machine).

    python bench/import_csv.py                    # 100,000 labels
    python bench/import_csv.py --labels 20000 --profile   # and where the time goes
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import numpy as np
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get(
    "QC_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SHADES = ["white", "off-white", "ivory", "cream", "beige", "light gray"]
PATTERNS = ["solid", "pinstripe", "striped", "checked", "plaid"]


def write_csv(path: Path, n_labels: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    per_item = 5 * 2  # annotators x attributes
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item", "annotator", "attribute", "value"])
        for item in range(n_labels // per_item):
            annotators = rng.choice(60, size=5, replace=False)
            for annotator in annotators:
                writer.writerow(
                    [
                        f"img-{item:06d}",
                        f"w{annotator:03d}",
                        "shade",
                        SHADES[rng.integers(len(SHADES))],
                    ]
                )
                writer.writerow([f"img-{item:06d}", f"w{annotator:03d}", "pattern",
                                 PATTERNS[rng.integers(len(PATTERNS))]])  # fmt: skip


def run_import(env: dict, path: Path, profile: Path | None) -> tuple[float, str, float]:
    """Wall seconds, output and CPU seconds of one import command."""
    command = [sys.executable]
    if profile is not None:
        command += ["-m", "cProfile", "-o", str(profile)]
    command += ["-m", "qc_service.cli", "import", str(path), "-f", "csv", "-p", "bench"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, done.stdout.strip(), cpu


class BackendCpu:
    """CPU seconds of the PostgreSQL backends serving ``application_name``, sampled
    from /proc while they live (``None`` when the server is not on this machine)."""

    def __init__(self, admin: sa.Engine, application_name: str) -> None:
        self.admin = admin
        self.application_name = application_name
        self.seconds: dict[int, float] = {}
        self.readable = True
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> BackendCpu:
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def total(self) -> float | None:
        return sum(self.seconds.values()) if self.readable and self.seconds else None

    def _sample(self) -> None:
        query = sa.text("SELECT pid FROM pg_stat_activity WHERE application_name = :name")
        tick = os.sysconf("SC_CLK_TCK")
        with self.admin.connect() as connection:
            while not self._stop.wait(0.05):
                for (pid,) in connection.execute(query, {"name": self.application_name}):
                    try:
                        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    except FileNotFoundError:
                        continue  # it ended between the query and the read
                    except OSError:
                        self.readable = False
                        return
                    self.seconds[pid] = (int(fields[11]) + int(fields[12])) / tick


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=100_000)
    parser.add_argument("--profile", action="store_true", help="cProfile the first import")
    args = parser.parse_args()

    schema = f"bench_import_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES}?options={quote(f'-csearch_path={schema}')}&application_name={schema}"
    env = {**os.environ, "DATABASE_URL": url, "QC_LOG_LEVEL": "WARNING"}
    try:
        subprocess.run([sys.executable, "-m", "qc_service.cli", "db", "upgrade"],
                       env=env, cwd=ROOT, check=True, capture_output=True)  # fmt: skip
        with tempfile.TemporaryDirectory() as folder:
            taxonomy = Path(folder) / "taxonomy.yaml"
            taxonomy.write_text(
                "id: bench\nname: Bench\nattributes:\n"
                f"  - {{name: shade, values: {SHADES}}}\n"
                f"  - {{name: pattern, values: {PATTERNS}}}\n"
            )
            subprocess.run([sys.executable, "-m", "qc_service.cli", "project", "create",
                            "--from", str(taxonomy)],
                           env=env, cwd=ROOT, check=True, capture_output=True)  # fmt: skip
            path = Path(folder) / "labels.csv"
            write_csv(path, args.labels)
            size = path.stat().st_size
            print(f"{args.labels:,} labels, {size / 1e6:.1f} MB CSV; load: {os.getloadavg()}")
            profile = Path(folder) / "import.prof" if args.profile else None
            for run in ("first import", "same file again"):
                with BackendCpu(admin, schema) as server:
                    wall, output, cpu = run_import(
                        env, path, profile if run == "first import" else None
                    )
                rate = re.search(r"\(([\d,]+) labels/s\)", output)
                print(f"{run}: {output.splitlines()[0]}")
                print(f"  command's own rate {rate[1] if rate else '?'} labels/s; "
                      f"wall {wall:.1f} s incl. interpreter start = "
                      f"{args.labels / wall:,.0f} labels/s")  # fmt: skip
                server_cpu = "?" if server.total is None else f"{server.total:.2f} s"
                print(f"  CPU: command {cpu:.2f} s incl. interpreter start, "
                      f"PostgreSQL {server_cpu}; load {os.getloadavg()[0]:.1f}")  # fmt: skip
            if profile is not None:
                import pstats

                pstats.Stats(str(profile)).sort_stats("cumulative").print_stats(25)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
