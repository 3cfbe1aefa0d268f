"""Jobs, fits, results, annotator scores, the review queue, agreement and export."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from qc_service.schemas.common import Key, Name, RequestModel, ResponseModel
from qc_service.schemas.labels import LabelValue, Status

#: Why an item is flagged, or why its confidence is low.
Flag = Literal["low_confidence", "gold_conflict", "suspect_annotators", "ambiguous", "uncertain"]
AnnotatorStatus = Literal["ok", "probation", "suspected_spammer"]


class Page(RequestModel):
    """Cursor pagination: pass the previous answer's ``next_cursor`` to go on."""

    limit: int = Field(default=100, ge=1, le=1000, description="Most rows in one page.")
    cursor: str | None = Field(
        default=None, max_length=200, description="Opaque: the previous page's next_cursor."
    )


class JobOut(ResponseModel):
    id: str
    project: str
    kind: str
    state: Literal["queued", "running", "done", "failed"]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    detail: dict


class ResultOut(ResponseModel):
    item: str
    attribute: str
    label: str | list[str]
    confidence: float
    distribution: dict[str, float]
    n_labels: int
    status: Status
    flags: list[Flag]
    priority: float = Field(description="Estimated probability that `label` is wrong.")
    fit: int


class ResultsQuery(Page):
    attribute: Name | None = None
    status: Status | None = None


class ResultsPage(ResponseModel):
    results: list[ResultOut]
    next_cursor: str | None


class LabelBehind(ResponseModel):
    annotator: str
    value: str | list[str]
    annotator_accuracy: float | None
    annotator_status: AnnotatorStatus | None


class ItemAttributeResult(ResponseModel):
    attribute: str
    result: ResultOut | None = Field(description="None until a fit has seen the item.")
    gold: str | list[str] | None
    gold_source: Literal["control", "verdict"] | None
    labels: list[LabelBehind]


class ItemResults(ResponseModel):
    item: str
    attributes: list[ItemAttributeResult]


class ConfusedPair(ResponseModel):
    true: str
    given: str
    rate: float
    count: float
    text: str


class AnnotatorScoreOut(ResponseModel):
    annotator: str
    attribute: str
    n_labels: int
    accuracy: float
    accuracy_interval: tuple[float, float] = Field(description="95 % credible interval.")
    gold_accuracy: float | None
    n_gold: int
    agreement: float = Field(description="Share of labels equal to the aggregate.")
    spammer_score: float = Field(description="0 perfect annotator, 1 answers at random.")
    status: AnnotatorStatus
    confused_pairs: list[ConfusedPair]
    fit: int


class Confusion(ResponseModel):
    values: list[str]
    counts: list[list[float]] = Field(description="Soft counts [true value][given value].")


class AnnotatorAttribute(AnnotatorScoreOut):
    confusion: dict[str, Confusion] = Field(
        description="Per problem: the attribute itself (key ''), or one per tag."
    )


class AnnotatorDetail(ResponseModel):
    annotator: str
    attributes: list[AnnotatorAttribute]


AnnotatorSort = Literal[
    "annotator",
    "accuracy",
    "-accuracy",
    "agreement",
    "-agreement",
    "n_labels",
    "-n_labels",
    "spammer_score",
    "-spammer_score",
]


class AnnotatorsQuery(Page):
    attribute: Name | None = None
    status: AnnotatorStatus | None = None
    annotator_prefix: Key | None = Field(
        default=None, description="Only annotators whose id starts with this (case-sensitive)."
    )
    sort: AnnotatorSort = Field(
        default="annotator",
        description="By annotator id, or by a score, lowest first (`-`: highest first); "
        "ties by annotator id, then attribute. A cursor pages on in the sort and "
        "filters it was made with.",
    )


class AnnotatorsPage(ResponseModel):
    annotators: list[AnnotatorScoreOut]
    next_cursor: str | None


class QueueQuery(Page):
    attribute: Name | None = None


class QueueEntry(ResultOut):
    claimed_by: str | None
    claim_expires_at: datetime | None


class QueuePage(ResponseModel):
    queue: list[QueueEntry]
    next_cursor: str | None


class ClaimIn(RequestModel):
    reviewer: Key
    limit: int = Field(default=10, ge=1, le=100)
    lease_seconds: int = Field(default=900, ge=10, le=86_400)
    attribute: Name | None = None


class ClaimsOut(ResponseModel):
    claims: list[QueueEntry]


class VerdictIn(RequestModel):
    attribute: Name
    value: LabelValue
    reviewer: Key
    note: str | None = Field(default=None, max_length=2000)


class VerdictOut(ResponseModel):
    item: str
    attribute: str
    value: str | list[str]
    status: Literal["reviewed"]
    reviewer: str


class AttributeAgreement(ResponseModel):
    attribute: str
    alpha: float | None = Field(description="Krippendorff's alpha (nominal).")
    estimated_accuracy: float | None
    statuses: dict[str, int]
    confused_pairs: list[ConfusedPair]
    n_items: int
    n_labels: int
    n_annotators: int
    method: str


class AgreementOut(ResponseModel):
    fit: int | None
    attributes: list[AttributeAgreement]


class ExportQuery(RequestModel):
    format: Literal["csv", "jsonl", "parquet"] = "jsonl"
    attribute: Name | None = None
