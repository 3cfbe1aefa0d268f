"""How long a retry is recognised: pruning webhook delivery ids and Idempotency-Keys.

A signed webhook's ``webhook-id`` and a client's ``Idempotency-Key`` are stored with
their answer so that a retry gets the first answer back and writes nothing. They are
kept for ``QC_REPLAY_RETENTION_DAYS`` (0: forever), then deleted, so the tables do
not grow forever. A retry older than the window is processed as a new request:
labels carrying event ids (every platform's, and ``POST /labels`` labels with an
``id``) are recognised as duplicates and not stored twice; its answer counts them
as ``duplicates`` instead of repeating the first answer.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from qc_service.service.context import Context
from qc_service.store import db
from qc_service.store import retention as retention_store
from qc_service.store.models import utcnow

log = logging.getLogger(__name__)

#: Opportunistic pruning (after refits) runs at most this often per process.
PRUNE_INTERVAL_SECONDS = 3600.0


@dataclass(frozen=True)
class Pruned:
    """What one pruning deleted: records stored before ``before``."""

    before: datetime
    webhook_deliveries: int
    idempotent_requests: int


def prune_replay_records(
    ctx: Context, days: int | None = None, now: datetime | None = None
) -> Pruned | None:
    """Delete replay records older than ``days`` (default: the setting).

    ``None`` when retention is off (``QC_REPLAY_RETENTION_DAYS=0`` and no ``days``).
    """
    days = ctx.settings.replay_retention_days if days is None else days
    if days <= 0:
        return None
    before = (now or utcnow()) - timedelta(days=days)
    with db.session_scope(ctx.engine, write=True) as session:
        deliveries, requests = retention_store.prune_replay_records(session, before)
    return Pruned(before, deliveries, requests)


def prune_if_due(ctx: Context) -> Pruned | None:
    """Prune if this process has not in the last hour; never raises (it is a side job)."""
    now = time.monotonic()
    if ctx.replay_pruned_at is not None and now - ctx.replay_pruned_at < PRUNE_INTERVAL_SECONDS:
        return None
    ctx.replay_pruned_at = now
    try:
        pruned = prune_replay_records(ctx)
    except Exception as error:  # a failed prune must not fail the refit that called it
        log.warning("pruning old webhook deliveries and idempotency keys failed: %s", error)
        return None
    if pruned is not None and (pruned.webhook_deliveries or pruned.idempotent_requests):
        log.info(
            "pruned %d webhook deliveries and %d idempotency keys stored before %s",
            pruned.webhook_deliveries,
            pruned.idempotent_requests,
            pruned.before.isoformat(),
        )
    return pruned
