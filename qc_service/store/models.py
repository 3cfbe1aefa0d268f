"""The tables. Only ``qc_service.store`` imports this module.

Labels are append-only: a changed answer is a new row, and the newest row per
(annotator, item, attribute) counts. Keys given by platforms (item, annotator,
event ids) are stored as text; everything else refers to rows by integer id so
that loading a project's labels into arrays is a scan of small integers.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Project(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    target_confidence: float
    min_labels: int
    max_labels: int
    method: str = Field(max_length=40)
    #: Per-platform field mappings and webhook secrets, as given by the project admin.
    platform_config: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    #: Bumped by every write that should trigger a refit; a fit records the value it saw.
    revision: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))


class Attribute(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(foreign_key="project.id", index=True, max_length=64)
    position: int
    name: str = Field(max_length=100)
    kind: str = Field(max_length=20)
    values: list = Field(sa_column=Column(JSON, nullable=False))


class Item(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("project_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(foreign_key="project.id", max_length=64)
    key: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Annotator(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("project_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(foreign_key="project.id", max_length=64)
    key: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Label(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("project_id", "event_id"),
        Index("ix_label_current", "project_id", "attribute_id", "item_id", "annotator_id", "id"),
    )

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    )
    #: Its item's project; not a foreign key of its own (``item.project_id`` is one):
    #: checking it for every inserted label cost ~15 % of a bulk import's database time.
    project_id: str = Field(max_length=64)
    item_id: int = Field(foreign_key="item.id")
    annotator_id: int = Field(foreign_key="annotator.id")
    attribute_id: int = Field(foreign_key="attribute.id")
    #: The value as given; a multilabel answer is a JSON array of its tags, sorted.
    value: str = Field(sa_column=Column(Text, nullable=False))
    #: The sender's own event id, unique per project: a re-sent event is stored once.
    event_id: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    source: str = Field(default="api", max_length=40)
    created_at: datetime = Field(default_factory=utcnow)
    received_at: datetime = Field(default_factory=utcnow)
    #: The platform withdrew this label; it stays in the log but no longer counts.
    retracted: bool = Field(default=False)


class Gold(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("project_id", "item_id", "attribute_id"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(foreign_key="project.id", max_length=64)
    item_id: int = Field(foreign_key="item.id")
    attribute_id: int = Field(foreign_key="attribute.id")
    value: str = Field(sa_column=Column(Text, nullable=False))
    #: ``control`` for known answers sent by the client, ``verdict`` for expert reviews.
    source: str = Field(default="control", max_length=20)
    created_at: datetime = Field(default_factory=utcnow)


class Token(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    #: None for a service-wide admin token (the one seeded from QC_ADMIN_TOKEN).
    project_id: str | None = Field(default=None, foreign_key="project.id", max_length=64)
    #: SHA-256 of the secret; the secret itself is shown once and never stored.
    token_hash: str = Field(unique=True, max_length=64)
    scopes: list = Field(sa_column=Column(JSON, nullable=False))
    name: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow)


class IdempotentRequest(SQLModel, table=True):
    """A stored answer, replayed when a client re-sends the same ``Idempotency-Key``."""

    __tablename__ = "idempotent_request"

    project_id: str = Field(foreign_key="project.id", primary_key=True, max_length=64)
    key: str = Field(primary_key=True, max_length=256)
    request_hash: str = Field(max_length=64)
    status: int
    body: str = Field(sa_column=Column(Text, nullable=False))
    #: Indexed for pruning records older than the retention window.
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Job(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=36)
    project_id: str = Field(foreign_key="project.id", index=True, max_length=64)
    kind: str = Field(default="fit", max_length=20)
    state: str = Field(default="queued", max_length=20)
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    #: Free-form facts the job reports (the fit it produced, its timings).
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Fit(SQLModel, table=True):
    """One published run of the models over all of a project's attributes.

    Results and annotator scores point at the fit that produced them; exactly one
    fit per project is ``current`` (the one in service). Its id is its version.
    """

    __table_args__ = (Index("ix_fit_project_current", "project_id", "current"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(foreign_key="project.id", max_length=64)
    job_id: str | None = Field(default=None, max_length=36)
    #: The project's ``revision`` this fit saw: later writes are not in it.
    revision: int = Field(sa_column=Column(BigInteger, nullable=False))
    method: str = Field(max_length=40)
    current: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    #: Per attribute: method used, convergence, prior, population parameters,
    #: agreement figures; and the timings of the run.
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


#: Percent of each ``result`` page filled by inserts (PostgreSQL); the rest is room
#: for a refit's heap-only updates of the same rows. A refit updates nearly all of a
#: project's rows in one statement, and a row's old version is not freed before that
#: statement commits, so a page needs room for a second version of each of its rows:
#: at 75 % only about half the updates of such a refit were heap-only, at 50 % all.
RESULT_FILLFACTOR = 50


class Result(SQLModel, table=True):
    """The aggregate of one (item, attribute) in the current fit.

    No fit id per row: a refit rewrites only the rows whose values changed, and every
    row in service belongs to the project's current fit.

    A refit after new labels moves nearly every row's confidence, distribution and
    priority, so none of them is indexed and pages keep free space (PostgreSQL's
    fillfactor): such an update is then heap-only, one new row version on the same
    page and no index entry. The review queue reads the flagged rows by status and
    sorts them by priority.
    """

    __table_args__ = (
        UniqueConstraint("project_id", "attribute_id", "item_id"),
        Index("ix_result_project_status", "project_id", "status", "id"),
        Index("ix_result_project_item", "project_id", "item_id"),
        {"postgresql_with": {"fillfactor": RESULT_FILLFACTOR}},
    )

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    )
    project_id: str = Field(foreign_key="project.id", max_length=64)
    attribute_id: int = Field(foreign_key="attribute.id")
    item_id: int = Field(foreign_key="item.id")
    #: Stored form of the label (a JSON array of tags for multilabel attributes).
    label: str = Field(sa_column=Column(Text, nullable=False))
    confidence: float
    distribution: dict = Field(sa_column=Column(JSON, nullable=False))
    n_labels: int
    status: str = Field(max_length=20)
    flags: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: Estimated probability that ``label`` is wrong: the review queue's order.
    priority: float


class AnnotatorScore(SQLModel, table=True):
    """One annotator's reliability on one attribute, as estimated by a fit."""

    __tablename__ = "annotator_score"
    __table_args__ = (UniqueConstraint("project_id", "attribute_id", "annotator_id"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(foreign_key="project.id", max_length=64)
    fit_id: int = Field(foreign_key="fit.id", index=True)
    attribute_id: int = Field(foreign_key="attribute.id")
    annotator_id: int = Field(foreign_key="annotator.id", index=True)
    n_labels: int
    accuracy: float
    accuracy_low: float
    accuracy_high: float
    agreement: float
    gold_accuracy: float | None = None
    n_gold: int = 0
    spammer_score: float
    status: str = Field(max_length=20)
    #: Soft confusion counts [true][given] (per tag for multilabel attributes).
    confusion: dict = Field(sa_column=Column(JSON, nullable=False))
    confused_pairs: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: The model's own parameters for this annotator, for the streaming E-step.
    params: dict = Field(sa_column=Column(JSON, nullable=False))


class ReviewClaim(SQLModel, table=True):
    """A lease of one flagged (item, attribute) to a reviewer until ``expires_at``.

    Kept apart from ``result`` so that a refit, which replaces every result row,
    does not cancel leases in progress.
    """

    __tablename__ = "review_claim"

    project_id: str = Field(foreign_key="project.id", primary_key=True, max_length=64)
    item_id: int = Field(foreign_key="item.id", primary_key=True)
    attribute_id: int = Field(foreign_key="attribute.id", primary_key=True)
    reviewer: str = Field(sa_column=Column(Text, nullable=False))
    claimed_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class Verdict(SQLModel, table=True):
    """An expert's answer, kept with its reviewer and note (the gold row holds the value)."""

    id: int | None = Field(default=None, primary_key=True)
    project_id: str = Field(foreign_key="project.id", index=True, max_length=64)
    item_id: int = Field(foreign_key="item.id")
    attribute_id: int = Field(foreign_key="attribute.id")
    value: str = Field(sa_column=Column(Text, nullable=False))
    reviewer: str = Field(sa_column=Column(Text, nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)


#: At most one queued refit per project: concurrent schedulers (several gunicorn
#: workers) that race to queue one collide here and join the winner's job instead.
_queued_fit = Job.state == "queued"
Index(
    "uq_job_queued_fit",
    Job.project_id,
    unique=True,
    sqlite_where=_queued_fit,
    postgresql_where=_queued_fit,
)


class WebhookDelivery(SQLModel, table=True):
    """A signed webhook delivery already stored. A retry (same ``webhook-id``, even
    re-signed days later) gets ``answer`` back and stores nothing again."""

    __tablename__ = "webhook_delivery"

    project_id: str = Field(foreign_key="project.id", primary_key=True, max_length=64)
    delivery_id: str = Field(primary_key=True, max_length=256)
    platform: str = Field(max_length=40)
    #: SHA-256 of the body: the same id with another body is refused, not replayed.
    body_hash: str = Field(max_length=64)
    answer: str = Field(sa_column=Column(Text, nullable=False))
    #: Indexed for pruning records older than the retention window.
    created_at: datetime = Field(default_factory=utcnow, index=True)
