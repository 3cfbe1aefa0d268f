"""Replay records (webhook delivery ids, Idempotency-Keys) are kept for the retention
window, then pruned; a retry older than the window is processed as new."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import sqlalchemy as sa

from qc_service.service import retention
from qc_service.store.models import utcnow
from tests.api.test_labels import label, post
from tests.api.test_webhooks import configure, deliver, labels_body, signed
from tests.conftest import ADMIN, row_counts
from tests.results.helpers import refit


def age(engine, table: str, key_column: str, key: str, days: int) -> None:
    """Make a stored record look ``days`` old."""
    with engine.begin() as connection:
        connection.execute(
            sa.text(f"UPDATE {table} SET created_at = :at WHERE {key_column} = :key"),
            {"at": utcnow() - timedelta(days=days), "key": key},
        )


def replay_rows(engine) -> tuple[int, int]:
    counts = row_counts(engine)
    return counts["webhook_delivery"], counts["idempotent_request"]


def test_records_past_the_window_are_pruned_and_their_retries_are_new(app, client, project, engine):
    configure(client)
    old, new = labels_body("cream", "beige"), labels_body("white")
    assert deliver(client, old, signed(old, delivery_id="msg_old")).status_code == 200
    assert deliver(client, new, signed(new, delivery_id="msg_new")).status_code == 200
    keyed = [label(annotator="a7", id="k-1"), label(annotator="a8", id="k-2")]
    for key in ("old-key", "new-key"):
        assert post(client, keyed, headers={**ADMIN, "Idempotency-Key": key}).status_code == 200
    age(engine, "webhook_delivery", "delivery_id", "msg_old", days=31)
    age(engine, "idempotent_request", "key", "old-key", days=31)
    age(engine, "idempotent_request", "key", "new-key", days=29)

    pruned = retention.prune_replay_records(app.extensions["qc"])
    assert (pruned.webhook_deliveries, pruned.idempotent_requests) == (1, 1)
    assert replay_rows(engine) == (1, 1)
    labels_before = row_counts(engine)["label"]

    # Inside the window: the first answer, replayed.
    inside = deliver(client, new, signed(new, delivery_id="msg_new"))
    assert inside.headers["Webhook-Replayed"] == "true"
    kept = post(client, keyed, headers={**ADMIN, "Idempotency-Key": "new-key"})
    assert kept.headers["Idempotency-Replayed"] == "true"
    # Past it: processed again, but the event ids store nothing twice.
    outside = deliver(client, old, signed(old, delivery_id="msg_old"))
    assert outside.status_code == 200 and "Webhook-Replayed" not in outside.headers
    assert (outside.get_json()["accepted"], outside.get_json()["duplicates"]) == (0, 2)
    again = post(client, keyed, headers={**ADMIN, "Idempotency-Key": "old-key"})
    assert "Idempotency-Replayed" not in again.headers
    assert (again.get_json()["accepted"], again.get_json()["duplicates"]) == (0, 2)
    assert row_counts(engine)["label"] == labels_before
    # ...and are remembered again from now on.
    assert replay_rows(engine) == (2, 2)


def test_retention_zero_keeps_every_record(app, client, project, engine):
    configure(client)
    body = labels_body("cream")
    deliver(client, body, signed(body))
    age(engine, "webhook_delivery", "delivery_id", "msg_1", days=3650)
    ctx = app.extensions["qc"]
    ctx.settings = dataclasses.replace(ctx.settings, replay_retention_days=0)
    assert retention.prune_replay_records(ctx) is None
    assert replay_rows(engine) == (1, 0)
    assert retention.prune_replay_records(ctx, days=3000).webhook_deliveries == 1


def test_refits_prune_at_most_hourly(app, client, project, engine):
    configure(client)
    for n in range(2):
        body = labels_body("cream", "beige")
        deliver(client, body, signed(body, delivery_id=f"msg_{n}"))
    ctx = app.extensions["qc"]
    ctx.replay_pruned_at = None
    age(engine, "webhook_delivery", "delivery_id", "msg_0", days=40)
    refit(client, "shirts")
    assert replay_rows(engine) == (1, 0)
    age(engine, "webhook_delivery", "delivery_id", "msg_1", days=40)
    refit(client, "shirts")  # within the hour: not again
    assert replay_rows(engine) == (1, 0)
    ctx.replay_pruned_at -= retention.PRUNE_INTERVAL_SECONDS
    refit(client, "shirts")
    assert replay_rows(engine) == (0, 0)
