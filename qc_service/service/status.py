"""The item status state machine (see DESIGN.md, "Item status").

``assess`` is the one place that decides whether an item's attribute is
``confident``, ``needs_labels``, ``flagged`` or ``reviewed``, and which flags it
carries. It works on arrays, one entry per (item, attribute): a refit assesses
every item of a project at once, and ingest the items a batch touched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Policy:
    target_confidence: float
    min_labels: int
    max_labels: int


#: Mean accuracy of an item's annotators at or above which their disagreement is
#: read as ``ambiguous`` (the item itself is hard) rather than ``uncertain``.
RELIABLE_ACCURACY = 0.8
#: Share of an item's labels from suspected spammers above which it goes to review.
SUSPECT_SHARE = 0.5
#: Every flag, in the order an item lists them.
FLAGS = ("gold_conflict", "suspect_annotators", "low_confidence", "ambiguous", "uncertain")


@dataclass(frozen=True)
class Evidence:
    """What is known about each (item, attribute) beyond its confidence; arrays of
    one length (the scalars' defaults stand for "no such evidence")."""

    reviewed: np.ndarray | bool = False
    gold_conflict: np.ndarray | bool = False
    #: Share of the item's labels given by suspected spammers.
    suspect_share: np.ndarray | float = 0.0
    #: Mean estimated accuracy of the annotators who labelled the item (nan: unknown).
    annotator_accuracy: np.ndarray | float = np.nan


@dataclass(frozen=True)
class Assessment:
    """Per (item, attribute): its status and its flags (names from ``FLAGS``)."""

    status: list[str]
    flags: list[tuple[str, ...]]


def assess(
    policy: Policy, confidence: np.ndarray, n_labels: np.ndarray, evidence: Evidence
) -> Assessment:
    """Status and flags of each (item, attribute); ``confidence`` nan when unknown.

    ``reviewed``: an expert verdict exists (it has no flags). ``flagged``: a review
    reason holds, namely ``gold_conflict`` (the annotators' answer differs from a
    control answer), ``suspect_annotators`` (mostly labelled by suspected spammers,
    once it has ``min_labels``) or ``low_confidence`` (below target with
    ``max_labels`` reached). Else ``needs_labels`` below ``min_labels`` or below target,
    ``confident`` at or above target. Any item below target also says why its
    confidence is low: ``ambiguous`` when its annotators are reliable yet disagree
    (the item is genuinely hard), ``uncertain`` when they are unreliable (more or
    better labels would help).
    """
    confidence = np.asarray(confidence, dtype=float)
    n_labels = np.asarray(n_labels)
    shape = confidence.shape
    reviewed = np.broadcast_to(evidence.reviewed, shape)
    accuracy = np.broadcast_to(np.asarray(evidence.annotator_accuracy, dtype=float), shape)
    gold_conflict = np.broadcast_to(evidence.gold_conflict, shape)
    suspect = (n_labels >= policy.min_labels) & (
        np.broadcast_to(evidence.suspect_share, shape) > SUSPECT_SHARE
    )
    below_target = ~(confidence >= policy.target_confidence)  # nan: below
    exhausted = below_target & (n_labels >= policy.max_labels)
    flagged = gold_conflict | suspect | (exhausted & (n_labels >= policy.min_labels))
    status = np.where(
        flagged,
        "flagged",
        np.where((n_labels < policy.min_labels) | below_target, "needs_labels", "confident"),
    )
    status[reviewed] = "reviewed"
    explained = ~reviewed & below_target & (n_labels > 0) & ~np.isnan(accuracy)
    reliable = accuracy >= RELIABLE_ACCURACY
    masks = np.stack(
        [
            ~reviewed & gold_conflict,
            ~reviewed & suspect,
            ~reviewed & flagged & exhausted,
            explained & reliable,
            explained & ~reliable,
        ]
    )
    codes = (masks.astype(np.int64) << np.arange(len(FLAGS))[:, None]).sum(axis=0)
    names = {
        int(code): tuple(flag for bit, flag in enumerate(FLAGS) if code >> bit & 1)
        for code in np.unique(codes)
    }
    return Assessment(status=status.tolist(), flags=[names[code] for code in codes.tolist()])
