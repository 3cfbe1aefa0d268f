"""Projects, their attribute taxonomy and review policy; tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator

from qc_service.schemas.common import Name, RequestModel, ResponseModel, Slug, ValueText

AttributeKind = Literal["categorical", "binary", "multilabel"]
Scope = Literal["admin", "ingest", "read", "review"]

#: Values a binary attribute takes when the project does not name them.
DEFAULT_BINARY_VALUES = ["0", "1"]


class AttributeSpec(RequestModel):
    name: Name
    kind: AttributeKind = "categorical"
    values: list[ValueText] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _values_fit_kind(self) -> AttributeSpec:
        if len(set(self.values)) != len(self.values):
            raise ValueError("values must be distinct")
        if self.kind == "binary":
            if not self.values:
                self.values = list(DEFAULT_BINARY_VALUES)
            elif len(self.values) != 2:
                raise ValueError("a binary attribute has exactly two values")
        elif len(self.values) < 2:
            raise ValueError(f"a {self.kind} attribute needs at least two values")
        return self


class ProjectCreate(RequestModel):
    id: Slug | None = Field(
        default=None, description="URL-safe slug; made from the name when left out."
    )
    name: Name
    attributes: list[AttributeSpec] = Field(min_length=1, max_length=100)
    target_confidence: float = Field(default=0.9, gt=0.0, lt=1.0)
    min_labels: int = Field(default=3, ge=1, le=1000)
    max_labels: int = Field(default=7, ge=1, le=1000)
    method: str = Field(
        default="auto",
        max_length=40,
        description=(
            "The aggregation model. `auto` (default) picks one of majority_vote, one_coin,"
            " dawid_skene and glad per attribute from the data (on control gold when"
            " there are 30 items or more); or name one: majority_vote, dawid_skene,"
            " one_coin, glad, mace, or crowd-kit's crowdkit_mace, wawa, zero_based_skill,"
            " kos (two values only), mmsr, crowdkit_dawid_skene, crowdkit_one_coin,"
            " crowdkit_glad, crowdkit_majority_vote (no streaming estimates between refits)."
        ),
    )

    @model_validator(mode="after")
    def _policy_is_consistent(self) -> ProjectCreate:
        if self.min_labels > self.max_labels:
            raise ValueError("min_labels must not exceed max_labels")
        names = [a.name for a in self.attributes]
        if len(set(names)) != len(names):
            raise ValueError("attribute names must be distinct")
        return self


class AttributeOut(ResponseModel):
    name: str
    kind: AttributeKind
    values: list[str]


class ProjectCounts(ResponseModel):
    labels: int
    items: int
    annotators: int
    gold: int


class ProjectOut(ResponseModel):
    id: str
    name: str
    attributes: list[AttributeOut]
    target_confidence: float
    min_labels: int
    max_labels: int
    method: str
    created_at: datetime
    counts: ProjectCounts
    last_fit: dict | None = None


class TokenCreate(RequestModel):
    scopes: list[Scope] = Field(min_length=1)
    name: str = Field(default="", max_length=100)


class TokenOut(ResponseModel):
    token: str = Field(description="The secret. Shown once; only its hash is stored.")
    scopes: list[Scope]
    project: str | None
    name: str
