"""Crowd platforms: per-project settings and the signed webhook endpoint."""

from __future__ import annotations

from flask import request

from qc_service.api.blueprint import api
from qc_service.api.metrics import LABELS_ACCEPTED
from qc_service.api.routing import context, endpoint
from qc_service.schemas.labels import EventIngestResult
from qc_service.schemas.platforms import PlatformConfigIn, PlatformConfigOut
from qc_service.service import platforms, webhooks
from qc_service.service.auth import Principal


@endpoint(
    api,
    "PUT",
    "/projects/<project>/platforms/<platform>",
    summary="Configure a platform",
    tag="platforms",
    scope="admin",
    body=PlatformConfigIn,
    response=PlatformConfigOut,
)
def put_platform(project: str, platform: str, principal: Principal, body: PlatformConfigIn):
    """Set how this platform's payloads map to items, annotators, attributes and gold,
    and the secrets its webhooks are signed with. Several secrets may be valid at once:
    to rotate, set ``[old, new]``, switch the sender to the new one, then set ``[new]``.
    Leaving ``secrets`` out keeps the current ones. Secrets are never answered back."""
    return platforms.configure_platform(context(), project, platform, body)


@endpoint(
    api,
    "GET",
    "/projects/<project>/platforms/<platform>",
    summary="Read a platform's settings",
    tag="platforms",
    scope="admin",
    response=PlatformConfigOut,
)
def get_platform(project: str, platform: str, principal: Principal):
    """The mapping, a fingerprint per secret, and the webhook URL to give the platform."""
    return platforms.platform_settings(context(), project, platform)


@endpoint(
    api,
    "POST",
    "/projects/<project>/webhooks/<platform>",
    summary="Receive a platform's webhook",
    tag="platforms",
    scope=None,
    response=EventIngestResult,
    headers={
        "webhook-id": "Standard Webhooks message id; a retry with the same id answers the "
        "first answer and stores nothing.",
        "webhook-timestamp": "Unix seconds; at most 5 minutes from the service's clock.",
        "webhook-signature": "`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, space-separated "
        "for several keys.",
        "Toloka-Signature": "toloka only, instead of the three above: Toloka's own "
        "`{v=1, ts=<Unix ms>, sign=<hex HMAC-SHA256 of ts.v.body>}` keyed by the subscription's "
        "secret_key; a retry with the same body answers the first answer.",
    },
)
def post_webhook(project: str, platform: str):
    """The platform's own payload (``labelstudio``, ``toloka``, ``mturk``, ``sagemaker``,
    ``a2i``, ``gal``, ``csv``, ``jsonl``), authenticated by its Standard Webhooks
    signature (Toloka: or Toloka's own ``Toloka-Signature``), not a bearer token
    (platforms cannot send ours). Senders that can only
    add fixed headers may send ``Authorization: Bearer`` with an ``ingest`` token
    instead. Any verification failure is a 401 and stores nothing; a payload that
    cannot be read is a 422 naming the field. Answers what was stored, plus what the
    platform's payload held that is not a label (``skipped``, by reason)."""
    result, replayed = webhooks.receive_webhook(
        context(), project, platform, request.headers, request.get_data()
    )
    LABELS_ACCEPTED.labels(platform).inc(0 if replayed else result.accepted)
    return result, 200, {"Webhook-Replayed": "true"} if replayed else {}
