"""Estimates for just-touched items, computed on the request path.

A platform posting a label wants to know at once whether the item needs another
annotator. The estimate is one E-step of the current fit's model over the touched
items only (the share of votes until a fit exists); the refit job later corrects it.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable

import numpy as np
from sqlalchemy.orm import Session

from qc_service.engine.encoding import LabelArrays
from qc_service.schemas.labels import ItemStatus
from qc_service.service.modeling import (
    estimator_from_parameters,
    problem_values,
    streams,
    value_codes,
)
from qc_service.service.status import Evidence, Policy, assess
from qc_service.store import fits as fit_store
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
    """Status, label and confidence of each (item_id, attribute_id) in ``pairs``, in order.

    With a fit in service this is one E-step over just these items with the fit's
    annotator parameters (annotators it has not seen get the population average);
    before the first fit of an attribute it is the share of votes.
    """
    pairs = list(dict.fromkeys(pairs))
    given: dict[tuple[int, int], list[tuple[int, str]]] = defaultdict(list)
    for item_id, attribute_id, annotator_id, value in label_store.current_labels(
        session, project.id, pairs
    ):
        given[(item_id, attribute_id)].append((annotator_id, value))
    gold = label_store.gold_for_items(session, project.id, (item_id for item_id, _ in pairs))
    summaries = fit_store.current_fit_summaries(session, project.id)
    streamed = [
        attribute_id
        for attribute_id in {attribute_id for _, attribute_id in pairs}
        if _streams(summaries.get(attributes_by_id[attribute_id].name))
    ]
    # Before a fit (or with a method that cannot stream) there are no parameters to read.
    params = fit_store.annotator_params(
        session,
        project.id,
        streamed,
        [annotator for labels in given.values() for annotator, _ in labels],
    )
    distributions: dict[tuple[int, int], dict[str, float]] = {}
    for attribute_id in {attribute_id for _, attribute_id in pairs}:
        attribute = attributes_by_id[attribute_id]
        labelled = {pair: labels for pair, labels in given.items() if pair[1] == attribute_id}
        if not labelled:
            continue
        summary = summaries.get(attribute.name)
        if not _streams(summary):
            for pair, labels in labelled.items():
                distributions[pair] = vote_distribution(attribute, [v for _, v in labels])
        else:
            distributions.update(_e_step(attribute, summary, params, labelled))
    policy = Policy(project.target_confidence, project.min_labels, project.max_labels)
    answers = []
    for item_id, attribute_id in pairs:
        distribution = distributions.get((item_id, attribute_id))
        answers.append(
            (None, None)
            if distribution is None
            else label_and_confidence(attributes_by_id[attribute_id], distribution)
        )
    assessment = assess(
        policy,
        np.array([np.nan if confidence is None else confidence for _, confidence in answers]),
        np.array([len(given.get(pair, [])) for pair in pairs], dtype=np.int64),
        Evidence(
            reviewed=np.array(
                [gold.get(pair, (None, None))[1] == "verdict" for pair in pairs], dtype=bool
            )
        ),
    )
    statuses = [
        ItemStatus(
            item=item_keys[item_id],
            attribute=attributes_by_id[attribute_id].name,
            status=status,
            label=label,
            confidence=confidence,
        )
        for (item_id, attribute_id), (label, confidence), status in zip(
            pairs, answers, assessment.status, strict=True
        )
    ]
    return statuses


def _streams(summary: dict | None) -> bool:
    """Whether an attribute's fit summary allows the one-step estimate."""
    return summary is not None and streams(summary["method"])


def _e_step(
    attribute: Attribute,
    summary: dict,
    params: dict[tuple[int, int], dict],
    labelled: dict[tuple[int, int], list[tuple[int, str]]],
) -> dict[tuple[int, int], dict[str, float]]:
    """Posteriors of the ``labelled`` items under the fit's parameters.

    Annotators are coded in order of first appearance; those without parameters
    share one extra code carrying the population average.
    """
    pairs = list(labelled)
    rows = [
        (row, annotator, value)
        for row, pair in enumerate(pairs)
        for annotator, value in labelled[pair]
    ]
    known = sorted({a for _, a, _ in rows if (attribute.id, a) in params})
    code = {annotator: index for index, annotator in enumerate(known)}
    unseen = len(known)
    stored = sorted({value for _, _, value in rows})
    value_index = {value: index for index, value in enumerate(stored)}
    codes = value_codes(attribute, stored)
    item = np.array([row for row, _, _ in rows], dtype=np.int64)
    annotator = np.array([code.get(a, unseen) for _, a, _ in rows], dtype=np.int64)
    value = np.array([value_index[v] for _, _, v in rows], dtype=np.int64)
    posteriors = {}
    for key, values in problem_values(attribute):
        problem = summary["problems"][key]
        parameters = [params[(attribute.id, a)][key] for a in known] + [problem["population"]]
        estimator = estimator_from_parameters(summary["method"], problem, parameters)
        labels = LabelArrays(
            item, annotator, codes[key][value], len(pairs), unseen + 1, len(values)
        )
        posteriors[key] = estimator.predict_proba(labels)
    if attribute.kind == "multilabel":
        return {
            pair: {tag: float(posteriors[tag][row, 1]) for tag in attribute.values}
            for row, pair in enumerate(pairs)
        }
    return {
        pair: dict(zip(attribute.values, posteriors[""][row].tolist(), strict=True))
        for row, pair in enumerate(pairs)
    }
