"""Label batches, gold answers and the answer to an ingest."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from qc_service.schemas.common import Key, Name, RequestModel, ResponseModel, ValueText

#: A categorical answer, a binary one (``true``/``false`` or one of its two values),
#: or a multilabel set of tags. Integers are accepted and read as their decimal text.
LabelValue = ValueText | int | bool | list[ValueText]

Status = Literal["confident", "needs_labels", "flagged", "reviewed"]


class LabelIn(RequestModel):
    item: Key
    annotator: Key
    attribute: Name
    value: LabelValue
    id: Key | None = Field(default=None, description="The sender's event id, for idempotency.")
    created_at: datetime | None = None


class LabelBatch(RequestModel):
    labels: list[LabelIn] = Field(min_length=1)


class GoldIn(RequestModel):
    item: Key
    attribute: Name
    value: LabelValue


class GoldBatch(RequestModel):
    gold: list[GoldIn] = Field(min_length=1)


class ItemStatus(ResponseModel):
    item: str
    attribute: str
    status: Status
    label: str | list[str] | None
    confidence: float | None


class IngestResult(ResponseModel):
    accepted: int
    duplicates: int
    items: list[ItemStatus]


class EventIngestResult(IngestResult):
    """The answer to a whole event batch (a webhook, one batch of an import)."""

    gold: int = Field(default=0, description="Known answers stored or replaced.")
    retracted: int = Field(default=0, description="Earlier labels that no longer count.")
    skipped: dict[str, int] = Field(
        default_factory=dict,
        description="Records the platform adapter passed over on purpose, by reason.",
    )


class GoldResult(ResponseModel):
    accepted: int
