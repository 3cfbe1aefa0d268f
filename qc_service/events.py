"""The events that flow into the service, whatever their source.

Platform adapters (``qc_service.platforms``) turn payloads into these; the service
layer stores them. They are plain data so that neither side depends on the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

#: An answer is one value for ``categorical`` and ``binary`` attributes, a list of
#: tags for ``multilabel`` ones.
Value = str | list[str]


@dataclass(frozen=True, slots=True)
class LabelEvent:
    """One annotator's answer for one (item, attribute)."""

    item: str
    annotator: str
    attribute: str
    value: Value
    id: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class GoldEvent:
    """A known answer for one (item, attribute): a control task or an expert verdict."""

    item: str
    attribute: str
    value: Value


@dataclass(frozen=True, slots=True)
class Retraction:
    """An earlier label that no longer counts (the platform deleted it).

    ``label_id`` names the labels it withdraws: every label of the project whose
    event id equals it exactly, or starts with it followed by ``:`` (so
    ``labelstudio:annotation:17`` withdraws every version and attribute of that
    annotation, but not ``labelstudio:annotation:170``). A batch's retractions are
    applied before its labels and never withdraw the batch's own labels.
    """

    label_id: str


@dataclass(slots=True)
class EventBatch:
    """What one payload or one export file carries."""

    labels: list[LabelEvent] = field(default_factory=list)
    gold: list[GoldEvent] = field(default_factory=list)
    retractions: list[Retraction] = field(default_factory=list)
    #: Records the adapter passed over on purpose, by reason (for the import summary).
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
