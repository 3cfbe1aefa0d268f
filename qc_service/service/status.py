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
