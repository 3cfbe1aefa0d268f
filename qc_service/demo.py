"""A demo project made up on the spot: fine-grained shirt attributes, a crowd with
uneven skills, a spammer and an adversary, and some gold.

Nothing is read from disk: a seeded generator makes the same data every time, so
the ids are the same every time and building the demo twice stores it once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from qc_service.events import EventBatch, GoldEvent, LabelEvent

PROJECT_ID = "demo"

#: Values in order of similarity: a careless annotator slips to a neighbour.
ATTRIBUTES: dict[str, list[str]] = {
    "shade": ["white", "off-white", "ivory", "cream", "beige", "light gray"],
    "pattern": ["solid", "pinstripe", "striped", "checked", "plaid"],
    "texture": ["smooth", "twill", "oxford", "ribbed", "knit"],
    "has_logo": ["no", "yes"],
}
#: How many of each value the shirts really have (subtle shades are common).
PRIORS: dict[str, list[float]] = {
    "shade": [0.25, 0.2, 0.15, 0.15, 0.15, 0.1],
    "pattern": [0.45, 0.15, 0.2, 0.1, 0.1],
    "texture": [0.35, 0.2, 0.2, 0.15, 0.1],
    "has_logo": [0.7, 0.3],
}


@dataclass
class Demo:
    """What the demo project is made of."""

    spec: dict
    batch: EventBatch
    #: Annotator -> what kind of worker they were made to be.
    crowd: dict[str, str] = field(default_factory=dict)


def generate(
    seed: int = 2024,
    n_items: int = 200,
    n_annotators: int = 25,
    n_gold: int = 20,
    overlap: tuple[int, int] = (3, 5),
) -> Demo:
    """The demo's project spec, labels and gold; the same for the same arguments."""
    rng = np.random.default_rng(seed)
    names = list(ATTRIBUTES)
    truth = {
        name: rng.choice(len(ATTRIBUTES[name]), size=n_items, p=PRIORS[name]) for name in names
    }
    annotators = [f"worker-{n:02d}" for n in range(1, n_annotators + 1)]
    # Per annotator and attribute, the chance of the right answer: good at some
    # attributes, mediocre at others, as real annotators are.
    skill = rng.uniform(0.55, 0.97, size=(n_annotators, len(names)))
    crowd = {annotator: "honest" for annotator in annotators}
    spammer, adversary = annotators[-2], annotators[-1]
    crowd[spammer], crowd[adversary] = "spammer", "adversary"

    items = [f"shirt-{n:03d}" for n in range(1, n_items + 1)]
    labels: list[LabelEvent] = []
    for item_index, item in enumerate(items):
        k = int(rng.integers(overlap[0], overlap[1] + 1))
        chosen = rng.choice(n_annotators, size=k, replace=False)
        for annotator_index in sorted(chosen):
            annotator = annotators[annotator_index]
            for attribute_index, name in enumerate(names):
                values = ATTRIBUTES[name]
                true = int(truth[name][item_index])
                if annotator == spammer:
                    answer = int(rng.integers(len(values)))
                elif annotator == adversary:
                    # Always wrong, and consistently so: the value next to the truth.
                    answer = (true + 1) % len(values)
                elif rng.random() < skill[annotator_index, attribute_index]:
                    answer = true
                else:
                    answer = _slip(rng, true, len(values))
                labels.append(
                    LabelEvent(
                        item, annotator, name, values[answer], f"demo:{item}:{annotator}:{name}"
                    )
                )
    gold_items = rng.choice(n_items, size=n_gold, replace=False)
    gold = [
        GoldEvent(items[i], name, ATTRIBUTES[name][int(truth[name][i])])
        for i in sorted(gold_items)
        for name in names
    ]
    spec = {
        "id": PROJECT_ID,
        "name": "Demo: shirt attributes",
        "attributes": [
            {"name": name, "kind": "binary" if name == "has_logo" else "categorical",
             "values": values}
            for name, values in ATTRIBUTES.items()
        ],
        "target_confidence": 0.9,
        "min_labels": 3,
        "max_labels": 5,
        "method": "dawid_skene",
    }  # fmt: skip
    return Demo(spec=spec, batch=EventBatch(labels=labels, gold=gold), crowd=crowd)


def _slip(rng: np.random.Generator, true: int, n_values: int) -> int:
    """A wrong answer, mostly a neighbouring value (subtle differences get confused)."""
    if n_values > 2 and rng.random() < 0.7:
        step = 1 if rng.random() < 0.5 else -1
        neighbour = true + step
        return neighbour if 0 <= neighbour < n_values else true - step
    wrong = int(rng.integers(n_values - 1))
    return wrong if wrong < true else wrong + 1
