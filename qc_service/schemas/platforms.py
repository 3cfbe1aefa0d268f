"""A project's settings for one crowd platform: field mapping and webhook secrets."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints

from qc_service.schemas.common import RequestModel, ResponseModel

Secret = Annotated[str, StringConstraints(min_length=1, max_length=256)]

#: Enough for a rotation (old and new) with room to spare.
MAX_SECRETS = 5


class PlatformConfigIn(RequestModel):
    mapping: dict[str, Any] = Field(
        default_factory=dict,
        description="Which platform fields are the item, the annotator, each attribute "
        "and gold (see docs/platforms.md); empty: the platform's defaults.",
    )
    secrets: list[Secret] | None = Field(
        default=None,
        max_length=MAX_SECRETS,
        description="Webhook signing secrets (`whsec_<base64>` or plain text, at least 16 "
        "bytes); a signature by any of them is valid. Left out: keep the current ones; "
        "`[]`: remove them.",
    )


class SecretOut(ResponseModel):
    fingerprint: str = Field(description="`sha256:` and 12 hex digits of the key's hash.")


class PlatformConfigOut(ResponseModel):
    platform: str
    mapping: dict[str, Any]
    secrets: list[SecretOut] = Field(description="Never the secrets themselves.")
    webhook_url: str = Field(description="Where the platform (or a signing proxy) posts.")
