"""Estimates for just-touched items, computed on the request path.

A platform posting a label wants to know at once whether the item needs another
annotator. Until a fit exists the estimate is the share of votes; the refit job
later replaces it with the model's posterior.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable

from sqlalchemy.orm import Session

from qc_service.schemas.labels import ItemStatus
from qc_service.service.status import Policy, classify
from qc_service.store import labels as label_store
from qc_service.store.models import Attribute, Project


def vote_distribution(attribute: Attribute, values: list[str]) -> dict[str, float]:
    """Share of votes per value; for multilabel, the share of annotators giving each tag."""
    if attribute.kind == "multilabel":
        tag_counts = Counter(tag for value in values for tag in json.loads(value))
        return {tag: tag_counts[tag] / len(values) for tag in attribute.values}
    counts = Counter(values)
    return {value: counts[value] / len(values) for value in attribute.values}


def label_and_confidence(
    attribute: Attribute, distribution: dict[str, float]
) -> tuple[str | list[str], float]:
    """The answer to report and how sure we are of it.

    Multilabel: every tag whose probability exceeds one half, and the confidence of the
    least certain tag decision. Otherwise the most probable value (ties go to the value
    listed first in the taxonomy) and its probability.
    """
    if attribute.kind == "multilabel":
        tags = [tag for tag in attribute.values if distribution[tag] > 0.5]
        confidence = min(max(p, 1 - p) for p in distribution.values())
        return tags, confidence
    label = max(attribute.values, key=lambda value: distribution[value])
    return label, distribution[label]


def touched_statuses(
    session: Session,
    project: Project,
    attributes_by_id: dict[int, Attribute],
    item_keys: dict[int, str],
    pairs: Iterable[tuple[int, int]],
) -> list[ItemStatus]:
    """Status, label and confidence of each (item_id, attribute_id) in ``pairs``, in order."""
    pairs = list(dict.fromkeys(pairs))
    values: dict[tuple[int, int], list[str]] = defaultdict(list)
    for item_id, attribute_id, _annotator, value in label_store.current_labels(
        session, project.id, pairs
    ):
        values[(item_id, attribute_id)].append(value)
    gold = label_store.gold_for_items(session, project.id, (item_id for item_id, _ in pairs))
    policy = Policy(project.target_confidence, project.min_labels, project.max_labels)
    statuses = []
    for item_id, attribute_id in pairs:
        attribute = attributes_by_id[attribute_id]
        given = values.get((item_id, attribute_id), [])
        verdict = gold.get((item_id, attribute_id))
        label: str | list[str] | None = None
        confidence: float | None = None
        if given:
            label, confidence = label_and_confidence(attribute, vote_distribution(attribute, given))
        statuses.append(
            ItemStatus(
                item=item_keys[item_id],
                attribute=attribute.name,
                status=classify(
                    policy,
                    confidence,
                    len(given),
                    reviewed=verdict is not None and verdict[1] == "verdict",
                ),
                label=label,
                confidence=confidence,
            )
        )
    return statuses
