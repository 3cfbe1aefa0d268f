"""Receiving a platform's webhook: verify who sent it, parse it, store it once.

Platforms cannot send our bearer tokens, so a webhook is authenticated by its
Standard Webhooks signature (see :mod:`.signatures`) made with one of the secrets
configured for the project and platform; Toloka's notifications by Toloka's own
``Toloka-Signature`` with the same secrets. A sender that can only add fixed headers
(Label Studio's webhook ``headers``) may instead send ``Authorization: Bearer``
with a token of the project holding the ``ingest`` scope; such deliveries carry no
id, and the platform's event ids keep them idempotent.

A signed delivery's id is remembered with its answer, in the batch's transaction:
a retry (same ``webhook-id``, re-signed with a fresh timestamp, even days later)
gets that answer back and stores nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from qc_service.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
)
from qc_service.platforms import PayloadError
from qc_service.schemas.labels import EventIngestResult
from qc_service.service import auth
from qc_service.service.context import Context
from qc_service.service.ingest import ingest_events, request_hash
from qc_service.service.platforms import adapter_for, mapping_of, stored_settings
from qc_service.service.signatures import (
    SIGNATURE_HEADERS,
    TOLOKA_HEADER,
    verify,
    verify_toloka,
)
from qc_service.store import db
from qc_service.store import webhooks as webhook_store


def receive_webhook(
    ctx: Context,
    project_id: str,
    platform: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float | None = None,
) -> tuple[EventIngestResult, bool]:
    """Store what a platform pushed; answer (result, replayed)."""
    adapter = adapter_for(platform)
    delivery = _authenticate(ctx, project_id, platform, headers, body, now)
    if delivery is not None:
        # Answer a retry before parsing: the mapping may have changed since.
        stored = _stored_answer(ctx, delivery)
        if stored is not None:
            return EventIngestResult.model_validate_json(stored), True
    settings = stored_settings(ctx, project_id, platform)
    try:
        batch = adapter.parse_webhook(body, mapping_of(settings))
    except PayloadError as error:
        raise InvalidInput(
            f"the {platform} payload cannot be read; nothing was stored",
            [FieldError(entry["field"] or "/", entry["message"]) for entry in error.errors],
        ) from None
    limit = ctx.settings.max_batch_labels
    if len(batch.labels) > limit:
        raise PayloadTooLarge(
            f"the payload carries {len(batch.labels)} labels; the limit is {limit}",
            [FieldError("/", f"send at most {limit} labels per delivery (QC_MAX_BATCH_LABELS)")],
        )
    return ingest_events(ctx, project_id, batch, source=platform, remembered=delivery)


class Delivery:
    """A verified signed delivery, remembered so that it takes effect once."""

    def __init__(self, project_id: str, platform: str, delivery_id: str, body: bytes) -> None:
        self.project_id = project_id
        self.platform = platform
        self.delivery_id = delivery_id
        self.body_hash = request_hash(body)

    def find(self, session: Session) -> str | None:
        stored = webhook_store.find_delivery(session, self.project_id, self.delivery_id)
        if stored is None:
            return None
        if stored.body_hash != self.body_hash:
            raise Conflict(
                "this webhook-id was delivered before with another body; nothing was stored",
                [FieldError("/headers/webhook-id", "a new message needs a new id")],
            )
        return stored.answer

    def save(self, session: Session, answer: str) -> None:
        webhook_store.save_delivery(
            session, self.project_id, self.platform, self.delivery_id, self.body_hash, answer
        )


def _authenticate(
    ctx: Context,
    project_id: str,
    platform: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float | None,
) -> Delivery | None:
    """The signed delivery, or ``None`` for a bearer-token delivery; else 401."""
    if any(headers.get(name) is not None for name in SIGNATURE_HEADERS):
        delivery_id = verify(headers, body, _secrets(ctx, project_id, platform), now)
        return Delivery(project_id, platform, delivery_id, body)
    toloka_signature = headers.get(TOLOKA_HEADER)
    if platform == "toloka" and toloka_signature is not None:
        secrets = _secrets(ctx, project_id, platform)
        delivery_id = verify_toloka(toloka_signature, body, secrets, now)
        return Delivery(project_id, platform, delivery_id, body)
    authorization = headers.get("Authorization")
    if authorization is None:
        raise Unauthorized(
            "sign the delivery (webhook-id, webhook-timestamp, webhook-signature) or send "
            "'Authorization: Bearer <token>' with an ingest token; nothing was stored",
            [FieldError("/headers/webhook-signature", "is required")],
        )
    auth.authenticate(ctx, authorization).require(project_id, "ingest")
    return None


def _secrets(ctx: Context, project_id: str, platform: str) -> list[str]:
    try:
        return stored_settings(ctx, project_id, platform).get("secrets", [])
    except NotFound:
        # An unsigned caller learns nothing, not even whether the project exists.
        return []


def _stored_answer(ctx: Context, delivery: Delivery) -> str | None:
    with db.session_scope(ctx.engine) as session:
        return delivery.find(session)
