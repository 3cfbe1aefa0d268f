"""Per-project platform settings and the webhook deliveries already stored."""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from qc_service.store.models import Project, WebhookDelivery, utcnow


def platform_config(session: Session, project_id: str, *, for_update: bool = False) -> dict | None:
    """The project's settings for every platform, or ``None`` if there is no project."""
    query = select(Project.platform_config).where(Project.id == project_id)
    if for_update:
        # Two admins configuring two platforms at once must not undo each other.
        query = query.with_for_update()
    row = session.execute(query).first()
    return None if row is None else dict(row[0] or {})


def save_platform_config(session: Session, project_id: str, config: dict) -> None:
    session.execute(update(Project).where(Project.id == project_id).values(platform_config=config))


def find_delivery(session: Session, project_id: str, delivery_id: str) -> WebhookDelivery | None:
    return session.get(WebhookDelivery, (project_id, delivery_id))


def save_delivery(
    session: Session, project_id: str, platform: str, delivery_id: str, body_hash: str, answer: str
) -> None:
    session.execute(
        insert(WebhookDelivery.__table__),
        [
            {
                "project_id": project_id,
                "delivery_id": delivery_id,
                "platform": platform,
                "body_hash": body_hash,
                "answer": answer,
                "created_at": utcnow(),
            }
        ],
    )
