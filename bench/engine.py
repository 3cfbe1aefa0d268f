"""Benchmark of the aggregation engine against crowd-kit, in the same run.

For every shared dataset (and synthetic sets) and every method: accuracy against gold,
expected calibration error of the confidence (10 bins), fit time, and our peak extra
memory per label (tracemalloc, in a second run so it does not slow the timed one).
Not a test: run it by hand and copy the table into bench/RESULTS.md. ``auto_gold`` is
``auto`` given half the gold and scored on the other half (see :func:`run_auto_gold`).

    .venv/bin/python bench/engine.py --help
"""

from __future__ import annotations

import argparse
import csv
import os
import time
import tracemalloc
from pathlib import Path

import numpy as np

from qc_service.engine import (
    LabelArrays,
    encode,
    expected_calibration_error,
    make_estimator,
)

REPO = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("QC_DATASETS", REPO.parent / "shared" / "datasets"))
OURS = ["majority_vote", "one_coin", "dawid_skene", "glad", "mace", "auto", "auto_gold"]
CROWDKIT = {
    "majority_vote": "MajorityVote",
    "one_coin": "OneCoinDawidSkene",
    "dawid_skene": "DawidSkene",
    "glad": "GLAD",
    "mace": "MACE",
    "wawa": "Wawa",
    "zero_based_skill": "ZeroBasedSkill",
}


def load(name: str) -> tuple[LabelArrays, np.ndarray]:
    """A shared dataset as (labels, gold) or a synthetic one named synthetic_<n labels>."""
    if name.startswith("synthetic_"):
        return synthetic(int(float(name.split("_")[1])))
    with open(DATASETS / name / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    labels, enc = encode([r["task"] for r in rows], [r["worker"] for r in rows],
                         [r["label"] for r in rows])  # fmt: skip
    with open(DATASETS / name / "gold.csv", newline="") as f:
        gold = enc.encode_gold((r["task"], r["label"]) for r in csv.DictReader(f))
    return labels, gold


def synthetic(n_labels: int, k: int = 4, n_annotators: int = 1000, per_item: int = 4,
              seed: int = 0) -> tuple[LabelArrays, np.ndarray]:  # fmt: skip
    """Dawid-Skene data: 20 % uniform spammers, others diagonal-heavy confusion matrices."""
    rng = np.random.default_rng(seed)
    n_items = n_labels // per_item
    truth = rng.choice(k, size=n_items, p=rng.dirichlet(np.full(k, 5.0)))
    confusion = rng.dirichlet(np.ones(k), size=(n_annotators, k)) * 0.5 + np.eye(k) * 0.5
    spam = rng.random(n_annotators) < 0.2
    confusion[spam] = rng.dirichlet(np.ones(k), size=spam.sum())[:, None, :]
    item = np.repeat(np.arange(n_items), per_item)
    annotator = rng.integers(0, n_annotators, size=len(item))
    cum = confusion[annotator, truth[item]].cumsum(axis=1)
    value = np.minimum((rng.random(len(item))[:, None] > cum).sum(axis=1), k - 1)
    return LabelArrays(item, annotator, value, n_items, n_annotators, k), truth


def score(posteriors: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    known = gold >= 0
    labels = posteriors.argmax(axis=1)
    correct = labels[known] == gold[known]
    return float(correct.mean()), expected_calibration_error(posteriors[known].max(axis=1),
                                                             correct)  # fmt: skip


def ece_noise(posteriors: np.ndarray, gold: np.ndarray, draws: int = 500) -> str:
    """How far ECE moves by chance at this many gold items: its 90 % bootstrap
    interval, and the ECE of a perfectly calibrated predictor with the same confidences
    (mean and 95th percentile over simulated outcomes: ECE is biased upwards on small
    sets, so a calibrated model does not score 0). And the mean log-loss of the gold
    answers, a proper score that, unlike ECE, needs no bins."""
    rng = np.random.default_rng(0)
    known = gold >= 0
    confidence = posteriors[known].max(axis=1)
    correct = posteriors[known].argmax(axis=1) == gold[known]
    n = len(confidence)
    boot = [expected_calibration_error(confidence[i], correct[i])
            for i in rng.integers(0, n, size=(draws, n))]  # fmt: skip
    ideal = [expected_calibration_error(confidence, rng.random(n) < confidence)
             for _ in range(draws)]  # fmt: skip
    lo, hi = np.percentile(boot, [5, 95])
    log_loss = -np.log(np.maximum(posteriors[known, gold[known]], 1e-12)).mean()
    return (f"ECE 90% [{lo:.3f}, {hi:.3f}], calibrated-by-construction ECE "
            f"{np.mean(ideal):.3f} (p95 {np.percentile(ideal, 95):.3f}); "
            f"gold log-loss {log_loss:.3f}")  # fmt: skip


def _chose(est) -> str:
    bias = " ".join(f"{b:+.2f}" for b in est.class_bias_) if est.class_bias_.any() else "0"
    return f"{est.method_} T={est.temperature_:.2f} floor={est.floor_:.2f} bias={bias}"


def run_auto_gold(labels: LabelArrays, gold: np.ndarray, params: dict) -> dict:
    """``auto`` given half the gold, scored on the other half, and the other way round.

    Every gold item is scored by a fit that did not see it (the halves come from a hash
    of the item code), so accuracy and ECE are honest; time is per fit.
    """
    from qc_service.engine import Auto

    known = np.flatnonzero(gold >= 0)
    half = (known * 2654435761 % 97) % 2
    posteriors = np.zeros((labels.n_items, labels.n_values))
    chose, seconds = [], 0.0
    for h in (0, 1):
        train = gold.copy()
        train[known[half == h]] = -1
        start = time.perf_counter()
        est = Auto(**params).fit(labels, gold=train)
        seconds += time.perf_counter() - start
        posteriors[known[half == h]] = est.posteriors_[known[half == h]]
        chose.append(_chose(est))
    acc, ece = score(posteriors, gold)
    return {"acc": acc, "ece": ece, "time": seconds / 2, "iters": est.n_iter_,
            "chose": "; ".join(chose), "noise": ece_noise(posteriors, gold)}  # fmt: skip


def run_ours(method: str, labels: LabelArrays, gold: np.ndarray, memory: bool, auto: dict) -> dict:
    """``auto`` gives ``auto`` and ``auto_gold`` their hyper-parameters."""
    if method == "auto_gold":
        return run_auto_gold(labels, gold, auto)
    params = auto if method == "auto" else {}
    start = time.perf_counter()
    est = make_estimator(method, **params).fit(labels)
    seconds = time.perf_counter() - start
    acc, ece = score(est.posteriors_, gold)
    row = {"acc": acc, "ece": ece, "time": seconds, "iters": est.n_iter_}
    if method == "auto":
        row["chose"] = _chose(est)
        row["noise"] = ece_noise(est.posteriors_, gold)
        start = time.perf_counter()
        make_estimator(method, **params).fit(labels, init=est)
        row["warm"] = time.perf_counter() - start
    if memory:
        tracemalloc.start()
        make_estimator(method, **params).fit(labels)
        row["bytes_per_label"] = tracemalloc.get_traced_memory()[1] / labels.n_labels
        tracemalloc.stop()
    return row


def run_crowdkit(method: str, labels: LabelArrays, gold: np.ndarray, recode: bool) -> dict:
    """crowd-kit's ``method``; ``recode`` numbers annotators and values by first appearance.

    crowd-kit's MACE keeps its spam distributions in sorted (worker, label) order but
    reads them in order of first appearance, so its output depends on the row order
    unless the two orders agree, which recoding makes them do.
    """
    import pandas as pd

    from qc_service.engine.crowdkit_adapter import CROWDKIT_METHODS, crowdkit_class

    name = {v: k for k, v in CROWDKIT_METHODS.items()}[CROWDKIT[method]]
    workers, values, value_codes = labels.annotator, labels.value, np.arange(labels.n_values)
    if recode:
        workers = pd.factorize(workers)[0]
        values, value_codes = pd.factorize(values)
    data = pd.DataFrame({"task": labels.item, "worker": workers, "label": values})
    model = crowdkit_class(name)()
    start = time.perf_counter()
    probas = model.fit_predict_proba(data)
    seconds = time.perf_counter() - start
    post = np.full((labels.n_items, labels.n_values), 1.0 / labels.n_values)
    probas = probas.reindex(columns=range(len(value_codes)), fill_value=0.0).fillna(0.0)
    post[np.ix_(probas.index.to_numpy(dtype=int), value_codes)] = probas.to_numpy(dtype=float)
    acc, ece = score(post, gold)
    return {"acc": acc, "ece": ece, "time": seconds,
            "iters": len(getattr(model, "loss_history_", []) or [])}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    shared = sorted(p.name for p in DATASETS.iterdir() if (p / "labels.csv").exists()) \
        if DATASETS.exists() else []  # fmt: skip
    parser.add_argument("--datasets", nargs="+",
                        default=[*shared, "synthetic_100000", "synthetic_1000000"],
                        help="shared dataset names and/or synthetic_<n labels>")  # fmt: skip
    parser.add_argument("--methods", nargs="+", default=OURS, help=f"ours, of {OURS}")
    parser.add_argument("--crowdkit", nargs="*", default=["majority_vote", "one_coin",
                        "dawid_skene", "glad", "mace"],
                        help=f"crowd-kit methods alongside, of {list(CROWDKIT)}")  # fmt: skip
    parser.add_argument("--crowdkit-max-labels", type=int, default=2_000_000,
                        help="skip crowd-kit above this many labels")  # fmt: skip
    parser.add_argument("--crowdkit-slow-max-labels", type=int, default=30_000,
                        help="skip crowd-kit GLAD and MACE above this many labels")  # fmt: skip
    parser.add_argument("--crowdkit-recode", action="store_true",
                        help="give crowd-kit annotators and values numbered by first appearance "
                             "(see run_crowdkit)")  # fmt: skip
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc run")
    parser.add_argument("--auto-candidates", nargs="+",
                        help="auto's candidates (default: its own default)")  # fmt: skip
    args = parser.parse_args()
    print(f"load: {os.getloadavg()}, {os.cpu_count()} CPUs")
    auto = {"candidates": tuple(args.auto_candidates)} if args.auto_candidates else {}

    print("| dataset | labels | method | ours acc | ours ECE | ours s | bytes/label | iters "
          "| crowd-kit acc | crowd-kit ECE | crowd-kit s | speed-up | note |")  # fmt: skip
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for name in args.datasets:
        labels, gold = load(name)
        for method in dict.fromkeys([*args.methods, *args.crowdkit]):
            ours = (run_ours(method, labels, gold, not args.no_memory, auto)
                    if method in OURS else None)  # fmt: skip
            ck, note = None, ""
            slow = method in ("glad", "mace") and labels.n_labels > args.crowdkit_slow_max_labels
            if method in args.crowdkit and method in CROWDKIT:
                if slow or labels.n_labels > args.crowdkit_max_labels:
                    note = "crowd-kit skipped (too slow at this size)"
                else:
                    ck = run_crowdkit(method, labels, gold, args.crowdkit_recode)
            if ours and "chose" in ours:
                note = f"chose {ours['chose']}"
            if ours and "warm" in ours:
                note += f"; warm refit {ours['warm']:.2f} s"
            if ours and "noise" in ours:
                note += f"; {ours['noise']}"
            cells = [name, f"{labels.n_labels:,}", method]
            cells += ([f"{ours['acc']:.4f}", f"{ours['ece']:.3f}", f"{ours['time']:.2f}",
                       f"{ours.get('bytes_per_label', float('nan')):.0f}", str(ours["iters"])]
                      if ours else ["", "", "", "", ""])  # fmt: skip
            cells += ([f"{ck['acc']:.4f}", f"{ck['ece']:.3f}", f"{ck['time']:.2f}"]
                      if ck else ["", "", ""])  # fmt: skip
            cells.append(f"{ck['time'] / ours['time']:.0f}x" if ck and ours else "")
            cells.append(note)
            print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
