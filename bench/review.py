"""Review efficiency on every shared dataset: the share of the aggregate's errors
that fall in the first 10 % of the review queue (random order would catch 10 %).

    .venv/bin/python bench/review.py

Each dataset is fitted as the service fits it (``compute_fit``, Dawid-Skene, no gold
given), items are ordered as the queue orders them (flagged first, then by
priority, the estimated probability that the label is wrong), and errors are
counted against the dataset's gold.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

from qc_service.service.fits import compute_fit
from qc_service.store.fits import AttributeLabels
from qc_service.store.models import Attribute, Project

DATASETS = Path(
    os.environ.get("QC_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets")
)


def efficiency(folder: Path) -> tuple[int, int, float, float]:
    with open(folder / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    with open(folder / "gold.csv", newline="") as f:
        gold = {row["task"]: row["label"] for row in csv.DictReader(f)}
    values = sorted({r["label"] for r in rows} | set(gold.values()))
    items = sorted({r["task"] for r in rows})
    workers = sorted({r["worker"] for r in rows})
    item_id = {key: i for i, key in enumerate(items)}
    worker_id = {key: i for i, key in enumerate(workers)}
    value_code = {v: i for i, v in enumerate(values)}
    data = AttributeLabels(
        np.array([item_id[r["task"]] for r in rows]),
        np.array([worker_id[r["worker"]] for r in rows]),
        np.array([value_code[r["label"]] for r in rows]),
        values,
    )
    project = Project(
        id="bench",
        name="bench",
        target_confidence=0.9,
        min_labels=1,
        max_labels=1,
        method="dawid_skene",
        revision=0,
    )
    attribute = Attribute(
        id=1, project_id="bench", position=0, name="answer", kind="categorical", values=values
    )
    results = compute_fit(project, [(attribute, data, [])]).results.rows()
    # the queue: flagged items by priority, then the rest (a reviewer who empties it)
    ranked = sorted(results, key=lambda r: (r["status"] != "flagged", -r["priority"]))
    judged = [r for r in ranked if items[r["item_id"]] in gold]
    wrong = np.array([r["label"] != gold[items[r["item_id"]]] for r in judged])
    top = max(1, round(0.1 * len(judged)))
    caught = wrong[:top].sum() / max(wrong.sum(), 1)
    ceiling = min(1.0, top / max(wrong.sum(), 1))  # a perfect order catches this much
    return len(judged), int(wrong.sum()), float(caught), float(ceiling)


def main() -> None:
    print(f"{'dataset':20} {'items':>7} {'errors':>7} {'top 10 %':>9} {'best':>6}")
    shares = []
    for folder in sorted(p for p in DATASETS.iterdir() if (p / "gold.csv").exists()):
        n, errors, caught, ceiling = efficiency(folder)
        shares.append(caught)
        print(f"{folder.name:20} {n:7d} {errors:7d} {caught:9.1%} {ceiling:6.1%}")
    print(f"{'mean':20} {'':7} {'':7} {np.mean(shares):9.1%}")


if __name__ == "__main__":
    main()
