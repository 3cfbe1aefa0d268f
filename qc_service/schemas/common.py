"""Pieces shared by several request and response models."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

#: Longest item key, annotator id or event id accepted (they are platform keys).
MAX_KEY_LENGTH = 256

Key = Annotated[str, StringConstraints(min_length=1, max_length=MAX_KEY_LENGTH)]
Slug = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
ValueText = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class RequestModel(BaseModel):
    """Strict about what it accepts: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Problem(ResponseModel):
    """An RFC 9457 problem document."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] = []
