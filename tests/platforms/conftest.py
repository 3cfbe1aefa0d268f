"""Where the real platform payloads live (``QC_PAYLOADS``, default ``../shared/payloads``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qc_service.events import EventBatch

PAYLOADS = Path(
    os.environ.get("QC_PAYLOADS", Path(__file__).resolve().parents[3] / "shared" / "payloads")
)


def payload(relative: str) -> Path:
    """A real payload file, or a skip that says where it was looked for."""
    path = PAYLOADS / relative
    if not path.is_file():
        pytest.skip(f"real payload {path} is absent (set QC_PAYLOADS to the payloads folder)")
    return path


def merged(batches) -> EventBatch:
    """All batches of an export as one, to count what the whole file carried."""
    total = EventBatch()
    for batch in batches:
        total.labels.extend(batch.labels)
        total.gold.extend(batch.gold)
        total.retractions.extend(batch.retractions)
        for reason, count in batch.skipped.items():
            total.skipped[reason] = total.skipped.get(reason, 0) + count
    return total
