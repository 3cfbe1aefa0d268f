"""The item status state machine (see DESIGN.md, "Item status").

``classify`` is the one place that decides whether an item's attribute is
``confident``, ``needs_labels``, ``flagged`` or ``reviewed``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    target_confidence: float
    min_labels: int
    max_labels: int


def classify(
    policy: Policy,
    confidence: float | None,
    n_labels: int,
    *,
    reviewed: bool = False,
    flag_reasons: tuple[str, ...] = (),
) -> str:
    """The status of one (item, attribute).

    ``flag_reasons`` are reasons other than low confidence (a conflict with gold,
    mostly suspect annotators) that send the item to review whatever its confidence.
    """
    if reviewed:
        return "reviewed"
    if flag_reasons:
        return "flagged"
    if n_labels < policy.min_labels:
        return "needs_labels"
    if confidence is not None and confidence >= policy.target_confidence:
        return "confident"
    if n_labels < policy.max_labels:
        return "needs_labels"
    return "flagged"


#: Mean accuracy of an item's annotators at or above which their disagreement is
#: read as ``ambiguous`` (the item itself is hard) rather than ``uncertain``.
RELIABLE_ACCURACY = 0.8
#: Share of an item's labels from suspected spammers above which it goes to review.
SUSPECT_SHARE = 0.5


@dataclass(frozen=True)
class Evidence:
    """What is known about one (item, attribute) beyond its confidence."""

    reviewed: bool = False
    gold_conflict: bool = False
    #: Share of the item's labels given by suspected spammers.
    suspect_share: float = 0.0
    #: Mean estimated accuracy of the annotators who labelled the item (None: unknown).
    annotator_accuracy: float | None = None


def assess(
    policy: Policy, confidence: float | None, n_labels: int, evidence: Evidence
) -> tuple[str, list[str]]:
    """Status and flags of one (item, attribute).

    Review reasons: ``gold_conflict`` (the annotators' answer differs from a control
    answer), ``suspect_annotators`` (mostly labelled by suspected spammers, once it
    has ``min_labels``), ``low_confidence`` (below target with ``max_labels`` reached).
    Any item below target also says why its confidence is low: ``ambiguous`` when its
    annotators are reliable yet disagree (the item is genuinely hard), ``uncertain``
    when they are unreliable (more or better labels would help).
    """
    reasons: list[str] = []
    if evidence.gold_conflict:
        reasons.append("gold_conflict")
    if n_labels >= policy.min_labels and evidence.suspect_share > SUSPECT_SHARE:
        reasons.append("suspect_annotators")
    status = classify(
        policy, confidence, n_labels, reviewed=evidence.reviewed, flag_reasons=tuple(reasons)
    )
    if status == "reviewed":
        return status, []
    flags = reasons if status == "flagged" else []
    below_target = confidence is None or confidence < policy.target_confidence
    if status == "flagged" and below_target and n_labels >= policy.max_labels:
        flags.append("low_confidence")
    if below_target and n_labels > 0 and evidence.annotator_accuracy is not None:
        reliable = evidence.annotator_accuracy >= RELIABLE_ACCURACY
        flags.append("ambiguous" if reliable else "uncertain")
    return status, flags
