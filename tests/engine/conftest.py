"""Shared fixtures: the shared real datasets (read in place, never copied) and synthetic data."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest

from qc_service.engine import Encoder, LabelArrays, encode

REPO = Path(__file__).resolve().parents[2]
DATASETS = Path(os.environ.get("QC_DATASETS", REPO.parent / "shared" / "datasets"))


def load_dataset(name: str) -> tuple[LabelArrays, Encoder, np.ndarray]:
    """labels, encoder, gold array of a shared dataset; skips the test if it is absent."""
    folder = DATASETS / name
    if not (folder / "labels.csv").exists():
        pytest.skip(f"dataset {name!r} not found in {DATASETS} (set QC_DATASETS to its folder)")
    with open(folder / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    labels, encoder = encode(
        [r["task"] for r in rows], [r["worker"] for r in rows], [r["label"] for r in rows]
    )
    with open(folder / "gold.csv", newline="") as f:
        gold = encoder.encode_gold((r["task"], r["label"]) for r in csv.DictReader(f))
    return labels, encoder, gold


def synthetic(
    n_items: int = 300,
    n_annotators: int = 30,
    k: int = 3,
    per_item: int = 5,
    seed: int = 0,
    spammers: float = 0.2,
) -> tuple[LabelArrays, np.ndarray]:
    """Dawid-Skene-generated labels with some uniform spammers; returns (labels, truth)."""
    rng = np.random.default_rng(seed)
    truth = rng.choice(k, size=n_items, p=rng.dirichlet(np.full(k, 5.0)))
    confusion = np.empty((n_annotators, k, k))
    for a in range(n_annotators):
        if rng.random() < spammers:
            confusion[a] = rng.dirichlet(np.ones(k))[None, :]
        else:
            confusion[a] = rng.dirichlet(np.ones(k), size=k) * 0.4 + np.eye(k) * 0.6
    item = np.repeat(np.arange(n_items), per_item)
    annotator = np.concatenate(
        [rng.choice(n_annotators, size=per_item, replace=False) for _ in range(n_items)]
    )
    cum = confusion[annotator, truth[item]].cumsum(axis=1)
    value = np.minimum((rng.random(len(item))[:, None] > cum).sum(axis=1), k - 1)
    return LabelArrays(item, annotator, value, n_items, n_annotators, k), truth


@pytest.fixture
def small() -> tuple[LabelArrays, np.ndarray]:
    return synthetic()
