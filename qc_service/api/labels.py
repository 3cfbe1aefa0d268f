"""Label batches and gold answers."""

from __future__ import annotations

from flask import request

from qc_service.api.blueprint import api
from qc_service.api.metrics import LABELS_ACCEPTED
from qc_service.api.routing import context, endpoint
from qc_service.errors import BadRequest, FieldError
from qc_service.schemas.common import MAX_KEY_LENGTH
from qc_service.schemas.labels import GoldBatch, GoldResult, IngestResult, LabelBatch
from qc_service.service import ingest
from qc_service.service.auth import Principal


def _within_batch_limit(key: str):
    def check(data: object) -> None:
        limit = context().settings.max_batch_labels
        if isinstance(data, dict) and isinstance(data.get(key), list) and len(data[key]) > limit:
            raise BadRequest(
                f"the batch has {len(data[key])} entries; the limit is {limit}",
                [FieldError(f"/{key}", f"send at most {limit} per request (QC_MAX_BATCH_LABELS)")],
            )

    return check


@endpoint(
    api,
    "POST",
    "/projects/<project>/labels",
    summary="Post a batch of labels",
    tag="labels",
    scope="ingest",
    body=LabelBatch,
    response=IngestResult,
    headers={
        "Idempotency-Key": "Replays the first answer when the same key and body "
        "come again; the same key with another body is refused (422)."
    },
    before_validation=_within_batch_limit("labels"),
)
def post_labels(project: str, principal: Principal, body: LabelBatch):
    """Store a batch of labels, all or none. A label whose ``id`` was stored before is
    counted in ``duplicates`` and not stored again. Answers each touched item's current
    status, label and confidence, so a platform can decide at once whether to ask
    another annotator."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 0 < len(key) <= MAX_KEY_LENGTH:
        raise BadRequest(
            "bad Idempotency-Key",
            [FieldError("/headers/Idempotency-Key", f"1 to {MAX_KEY_LENGTH} characters")],
        )
    result, replayed = ingest.ingest_labels(
        context(),
        project,
        body.labels,
        idempotency_key=key,
        body_hash=ingest.request_hash(request.get_data()) if key else None,
    )
    LABELS_ACCEPTED.labels("api").inc(0 if replayed else result.accepted)
    return result, 200, {"Idempotency-Replayed": "true"} if replayed else {}


@endpoint(
    api,
    "POST",
    "/projects/<project>/gold",
    summary="Post known answers",
    tag="labels",
    scope="ingest",
    body=GoldBatch,
    response=GoldResult,
    before_validation=_within_batch_limit("gold"),
)
def post_gold(project: str, principal: Principal, body: GoldBatch):
    """Store control answers. A newer answer for the same item and attribute replaces
    the older one; the next fit clamps these items to their known answers."""
    return ingest.add_gold(context(), project, body.gold)
