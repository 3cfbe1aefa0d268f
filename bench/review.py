"""Review efficiency on every shared dataset.

    PYTHONPATH=. .venv/bin/python bench/review.py [--methods dawid_skene auto] [--rounds 10]
        [--sensitivity 1 2 5] [--single-verdict-max 50] [--seeds 5] [--datasets NAME ...]
    PYTHONPATH=. .venv/bin/python bench/review.py --verdict-effect --datasets NAME ...

Each dataset is fitted as the service fits it (``compute_fit`` with the project's
method: Dawid-Skene for issue 4's figure, and ``auto``, the default; target confidence
0.9, ``max_labels`` 1 so every item below target is flagged; no gold at first), items
are ordered as the queue orders them (flagged first, then by priority, the estimated
probability that the label is wrong), and errors are counted against the dataset's
gold. Only items with gold can be reviewed (a simulated verdict is the gold answer),
so the queue is the gold items' part of the real queue.

**Static** (the figure issue 4 asks for): the share of the first fit's errors in the
first 10 % of that one ranking (random order would catch 10 %; a perfect order
``min(1, budget / errors)``, the ceiling).

**Closed loop** (what the service does): the budget is 10 % of the gold items, taken
in rounds. Each round the reviewer takes the top of the current queue, each verdict
is recorded as gold (source ``verdict``, the item ``reviewed``), and the project is
refitted as ``run_fit`` refits it (``compute_fit`` from scratch with every verdict
as gold: the service does not warm-start), which re-estimates every annotator's
confusion and re-ranks the queue. A round is what one claim leases: the claim fixes
its items, and the debounced refit (``refit_debounce_seconds``, 2 s by default) has
long finished before a human's next claim. Two reviewers:

- ``flagged``: the service's queue and claims list flagged items only, so once no
  flagged gold item is left the reviewer stops with budget unspent;
- ``onward``: the reviewer goes on past the flagged items by priority (what the
  static figure's ranking assumes).

After the budget, every reviewed item counts as right and every other item carries
the final refit's label: a refit with gold can fix errors nobody reviewed, and it can
also make new ones; both are counted. Random order and the static order get the same
budget and the same final refit (their order does not depend on refits, so one round
is exact for them); random is averaged over ``--seeds`` draws. ``seeded``: the first
round is a random sample (control items before review starts), the rest as ``onward``.

Refits dominate the time (Dawid-Skene 0.05-0.6 s, ``auto`` 0.1-2 s): the defaults
make about 1,200 refits, 4-5 min of CPU (8-10 min on a loaded 2-core box), ``auto``
four fifths of it. ``--verdict-effect`` refits once per gold item: small datasets.
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qc_service.service.fits import compute_fit
from qc_service.store.fits import AttributeLabels, ResultColumns
from qc_service.store.models import Attribute, Project

DATASETS = Path(
    os.environ.get("QC_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets")
)
BUDGET_SHARE = 0.1
#: Key of the run that refits after every verdict.
EACH_VERDICT = 0


@dataclass
class Dataset:
    name: str
    values: list[str]
    labels: AttributeLabels
    #: Per item id (row of ``labels``' items): the gold value, None without gold.
    gold: list[str | None]

    @property
    def gold_items(self) -> np.ndarray:
        return np.array([i for i, value in enumerate(self.gold) if value is not None])


def load(folder: Path) -> Dataset:
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
    labels = AttributeLabels(
        np.array([item_id[r["task"]] for r in rows]),
        np.array([worker_id[r["worker"]] for r in rows]),
        np.array([value_code[r["label"]] for r in rows]),
        values,
    )
    return Dataset(folder.name, values, labels, [gold.get(key) for key in items])


def refit(dataset: Dataset, verdicts: set[int], method: str) -> ResultColumns:
    """The results ``run_fit`` publishes once ``verdicts`` (item ids) are recorded."""
    project = Project(
        id="bench",
        name="bench",
        target_confidence=0.9,
        min_labels=1,
        max_labels=1,
        method=method,
        revision=0,
    )
    attribute = Attribute(
        id=1,
        project_id="bench",
        position=0,
        name="answer",
        kind="categorical",
        values=dataset.values,
    )
    gold = [(item, dataset.gold[item], "verdict") for item in sorted(verdicts)]
    results = compute_fit(project, [(attribute, dataset.labels, gold)]).results
    order = np.argsort(results.item_id)  # one row per item: index results by item id
    return ResultColumns(
        **{
            name: np.asarray(getattr(results, name))[order]
            for name in (
                "attribute_id",
                "item_id",
                "label",
                "confidence",
                "distribution",
                "n_labels",
                "status",
                "flags",
                "priority",
            )
        }
    )


def queue(results: ResultColumns, candidates: np.ndarray, onward: bool) -> np.ndarray:
    """``candidates`` (item ids) in the queue's order: flagged by priority, ties by
    result row; with ``onward`` the other unreviewed items follow by priority."""
    status = results.status[candidates]
    flagged = status == "flagged"
    keep = flagged | (onward & (status != "reviewed"))
    candidates = candidates[keep]
    order = np.lexsort((candidates, -results.priority[candidates], ~flagged[keep]))
    return candidates[order]


def wrong_of(dataset: Dataset, results: ResultColumns, items: np.ndarray) -> np.ndarray:
    return np.array([results.label[i] != dataset.gold[i] for i in items], dtype=bool)


@dataclass
class Outcome:
    reviewed: int
    caught: int  # errors of the first fit among the reviewed items
    remaining: int  # errors after the budget (reviewed items right)
    fixed: int  # first-fit errors not reviewed that the final refit got right
    new: int  # first-fit right answers not reviewed that the final refit got wrong
    fits: int


def outcome(
    dataset: Dataset, first: ResultColumns, verdicts: set[int], final: ResultColumns, fits: int
) -> Outcome:
    items = dataset.gold_items
    was_wrong = wrong_of(dataset, first, items)
    now_wrong = wrong_of(dataset, final, items)
    reviewed = np.isin(items, list(verdicts))
    return Outcome(
        reviewed=len(verdicts),
        caught=int((was_wrong & reviewed).sum()),
        remaining=int((now_wrong & ~reviewed).sum()),
        fixed=int((was_wrong & ~now_wrong & ~reviewed).sum()),
        new=int((~was_wrong & now_wrong & ~reviewed).sum()),
        fits=fits,
    )


def round_sizes(budget: int, rounds: int) -> list[int]:
    """``budget`` split into ``rounds`` near-equal claims (fewer when the budget is small)."""
    rounds = max(1, min(rounds, budget))
    return [len(part) for part in np.array_split(np.arange(budget), rounds)]


@dataclass
class Simulation:
    """One dataset under one method: its first fit and the review budget."""

    dataset: Dataset
    method: str

    def __post_init__(self) -> None:
        self.first = refit(self.dataset, set(), self.method)
        self.budget = max(1, round(BUDGET_SHARE * len(self.dataset.gold_items)))

    def closed_loop(self, rounds: int, onward: bool, seed_round: bool = False) -> Outcome:
        """Claim the top of the queue, record the verdicts, refit; ``rounds`` times.
        ``seed_round``: the first claim is a random sample of the gold items instead
        (control items posted before review starts)."""
        verdicts: set[int] = set()
        results, fits = self.first, 0
        for round_number, size in enumerate(round_sizes(self.budget, rounds)):
            pending = np.setdiff1d(self.dataset.gold_items, list(verdicts))
            if seed_round and round_number == 0:
                taken = np.random.default_rng(0).permutation(pending)[:size]
            else:
                taken = queue(results, pending, onward)[:size]
            if len(taken) == 0:
                break  # the queue is empty: nothing left to claim
            verdicts.update(taken.tolist())
            results, fits = refit(self.dataset, verdicts, self.method), fits + 1
        return outcome(self.dataset, self.first, verdicts, results, fits)

    def one_pass(self, order: np.ndarray) -> Outcome:
        """Review the first ``budget`` of a fixed order, then refit once."""
        verdicts = set(order[: self.budget].tolist())
        return outcome(
            self.dataset, self.first, verdicts, refit(self.dataset, verdicts, self.method), 1
        )

    def unflagged_errors(self) -> int:
        """Errors of the first fit on items it does not flag: the service's queue never
        shows them (confidently wrong)."""
        items = self.dataset.gold_items
        unflagged = self.first.status[items] != "flagged"
        return int((wrong_of(self.dataset, self.first, items) & unflagged).sum())

    def static_share(self) -> tuple[int, float]:
        """Issue 4's figure: errors of the first fit, share in the first ``budget`` of
        its ranking (flagged first, then the rest)."""
        ranked = queue(self.first, self.dataset.gold_items, onward=True)
        wrong = wrong_of(self.dataset, self.first, ranked)
        return int(wrong.sum()), float(wrong[: self.budget].sum() / max(wrong.sum(), 1))


@dataclass
class Row:
    name: str
    n_gold: int
    errors: int
    unflagged: int
    budget: int
    static: float
    #: strategy -> its outcomes (several for random orders)
    compared: dict[str, list[Outcome]]
    #: number of rounds (``EACH_VERDICT``: a refit after every verdict) -> outcome
    by_rounds: dict[int, Outcome]

    @property
    def ceiling(self) -> float:
        return min(1.0, self.budget / max(self.errors, 1))

    @property
    def flagged_ceiling(self) -> float:
        """What a perfect order of the first fit's flagged items alone could catch."""
        return min(self.budget, self.errors - self.unflagged) / max(self.errors, 1)

    def caught(self, strategy: str) -> float:
        return mean(self.compared[strategy], "caught") / max(self.errors, 1)

    def left(self, strategy: str) -> str:
        outcomes = self.compared[strategy]
        return (
            f"{mean(outcomes, 'remaining'):.0f} "
            f"({mean(outcomes, 'fixed'):.0f}/{mean(outcomes, 'new'):.0f})"
        )


def run(sim: Simulation, args: argparse.Namespace) -> Row:
    dataset = sim.dataset
    errors, static = sim.static_share()
    rng = np.random.default_rng(0)
    compared = {
        "random": [sim.one_pass(rng.permutation(dataset.gold_items)) for _ in range(args.seeds)],
        "static": [sim.one_pass(queue(sim.first, dataset.gold_items, onward=True))],
        "flagged": [sim.closed_loop(args.rounds, onward=False)],
        "onward": [sim.closed_loop(args.rounds, onward=True)],
        "seeded": [sim.closed_loop(args.rounds, onward=True, seed_round=True)],
    }
    by_rounds = {args.rounds: compared["onward"][0]}
    for rounds in args.sensitivity:
        by_rounds[rounds] = sim.closed_loop(rounds, onward=True)
    if sim.budget <= args.single_verdict_max:
        by_rounds[EACH_VERDICT] = sim.closed_loop(sim.budget, onward=True)
    return Row(
        dataset.name,
        len(dataset.gold_items),
        errors,
        sim.unflagged_errors(),
        sim.budget,
        static,
        compared,
        by_rounds,
    )


def verdict_effect(sim: Simulation, rounds: int) -> str:
    """What one more verdict does to the other labels, half-way through the budget.

    The closed loop runs (onward) until half the budget is reviewed; then, for every
    gold item not yet reviewed, the project is refitted with that one verdict more,
    and the other unreviewed gold items' labels are compared: an expected-label-change
    priority could only beat P(wrong) where such changes happen."""
    dataset = sim.dataset
    verdicts: set[int] = set()
    results = sim.first
    for size in round_sizes(sim.budget // 2, max(1, rounds // 2)):
        pending = np.setdiff1d(dataset.gold_items, list(verdicts))
        verdicts.update(queue(results, pending, onward=True)[:size].tolist())
        results = refit(dataset, verdicts, sim.method)
    pending = np.setdiff1d(dataset.gold_items, list(verdicts))
    changes = []
    for item in pending:
        after = refit(dataset, verdicts | {int(item)}, sim.method)
        others = pending[pending != item]
        before_wrong = wrong_of(dataset, results, others)
        after_wrong = wrong_of(dataset, after, others)
        changes.append(((before_wrong & ~after_wrong).sum(), (~before_wrong & after_wrong).sum()))
    fixed, new = np.array(changes).T
    return (
        f"| {dataset.name} | {sim.method} | {len(verdicts)} | {len(pending)} "
        f"| {int(((fixed + new) > 0).sum())} | {int(fixed.sum())} / {int(new.sum())} "
        f"| {int(wrong_of(dataset, results, pending).sum())} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="*", default=None)
    parser.add_argument(
        "--methods",
        nargs="*",
        default=["dawid_skene", "auto"],
        help="project methods (issue 4's figure is Dawid-Skene's; auto is the default)",
    )
    parser.add_argument("--rounds", type=int, default=10, help="claims per budget")
    parser.add_argument(
        "--sensitivity",
        type=int,
        nargs="*",
        default=[1, 2, 5],
        help="other numbers of rounds (onward reviewer)",
    )
    parser.add_argument(
        "--single-verdict-max",
        type=int,
        default=50,
        help="also refit after every verdict on datasets whose budget is at most this",
    )
    parser.add_argument("--seeds", type=int, default=5, help="random orders averaged")
    parser.add_argument(
        "--verdict-effect",
        action="store_true",
        help="instead: the effect of one more verdict on the other labels (a refit per "
        "gold item: small datasets only)",
    )
    args = parser.parse_args()
    folders = sorted(p for p in DATASETS.iterdir() if (p / "gold.csv").exists())
    if args.datasets:
        folders = [p for p in folders if p.name in args.datasets]
    datasets = [load(folder) for folder in folders]
    started = time.process_time()
    if args.verdict_effect:
        print(
            "| dataset | method | verdicts | candidates | candidates whose verdict changes "
            "another label | other labels fixed / broken (sum) | errors among candidates |"
        )
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
        for method in args.methods:
            for dataset in datasets:
                print(verdict_effect(Simulation(dataset, method), args.rounds), flush=True)
    for method in [] if args.verdict_effect else args.methods:
        rows = []
        for dataset in datasets:
            rows.append(run(Simulation(dataset, method), args))
            print(f"# {method} {dataset.name}: {time.process_time() - started:.0f} s CPU")
        print(f"\n## method {method}")
        print_tables(rows, args.rounds)
    print(f"\nCPU {time.process_time() - started:.0f} s")


def mean(outcomes: list[Outcome], field: str) -> float:
    return float(np.mean([getattr(o, field) for o in outcomes]))


def print_tables(rows: list[Row], rounds: int) -> None:
    print(
        f"\nShare of the first fit's errors reviewed within the budget (10 % of the gold "
        f"items); closed loop in {rounds} rounds; flagged: reviewed items in brackets"
    )
    print(
        "| dataset | items with gold | errors | not flagged | budget | ceiling | flagged ceiling "
        "| random | static (issue) | closed loop, flagged only | closed loop, onward "
        "| onward / ceiling |"
    )
    print("| --- |" + " ---: |" * 11)
    for r in rows:
        flagged = r.compared["flagged"][0].reviewed
        print(
            f"| {r.name} | {r.n_gold} | {r.errors} | {r.unflagged} | {r.budget} | {r.ceiling:.1%} "
            f"| {r.flagged_ceiling:.1%} "
            f"| {r.caught('random'):.1%} | {r.static:.1%} "
            f"| {r.caught('flagged'):.1%} ({flagged}) | {r.caught('onward'):.1%} "
            f"| {r.caught('onward') / r.ceiling:.1%} |"
        )
    print(
        f"| mean | | | | | {np.mean([r.ceiling for r in rows]):.1%} "
        f"| {np.mean([r.flagged_ceiling for r in rows]):.1%} "
        f"| {np.mean([r.caught('random') for r in rows]):.1%} "
        f"| {np.mean([r.static for r in rows]):.1%} "
        f"| {np.mean([r.caught('flagged') for r in rows]):.1%} "
        f"| {np.mean([r.caught('onward') for r in rows]):.1%} "
        f"| {np.mean([r.caught('onward') / r.ceiling for r in rows]):.1%} |"
    )

    strategies = ("random", "static", "flagged", "onward", "seeded")
    print(
        "\nErrors left after the budget: reviewed items right, the rest by the final refit "
        "(in brackets: first-fit errors it fixed / right answers it broke, unreviewed)"
    )
    print("| dataset | errors | " + " | ".join(strategies) + " |")
    print("| --- | ---: |" + " ---: |" * len(strategies))
    for r in rows:
        print(f"| {r.name} | {r.errors} | " + " | ".join(r.left(s) for s in strategies) + " |")
    removed = [
        np.mean([1 - mean(r.compared[s], "remaining") / max(r.errors, 1) for r in rows])
        for s in strategies
    ]
    print("| mean share removed | | " + " | ".join(f"{x:.1%}" for x in removed) + " |")

    print(
        "\nRound size (onward reviewer): share of the first fit's errors reviewed / errors "
        "left, by number of rounds (each verdict: a refit after every verdict)"
    )
    counts = sorted({n for r in rows for n in r.by_rounds if n != EACH_VERDICT})
    heads = [f"{n} rounds" for n in counts] + ["each verdict"]
    print("| dataset | errors | budget | " + " | ".join(heads) + " |")
    print("| --- | ---: | ---: |" + " ---: |" * len(heads))
    for r in rows:
        cells = [
            f"{r.by_rounds[n].caught / max(r.errors, 1):.1%} / {r.by_rounds[n].remaining}"
            if n in r.by_rounds
            else ""
            for n in [*counts, EACH_VERDICT]
        ]
        print(f"| {r.name} | {r.errors} | {r.budget} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
