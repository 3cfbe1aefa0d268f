"""Pruning replay records: webhook deliveries and Idempotency-Keys past their window."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from qc_service.store.models import IdempotentRequest, WebhookDelivery


def prune_replay_records(session: Session, before: datetime) -> tuple[int, int]:
    """Delete the records stored before ``before``; answers (deliveries, requests) deleted."""
    counts = []
    for model in (WebhookDelivery, IdempotentRequest):
        result = session.execute(delete(model).where(model.created_at < before))
        counts.append(result.rowcount)
    return counts[0], counts[1]
