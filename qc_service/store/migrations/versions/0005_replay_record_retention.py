"""index replay records by age, for pruning them

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 07:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_webhook_delivery_created_at"), "webhook_delivery", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_idempotent_request_created_at"),
        "idempotent_request",
        ["created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_idempotent_request_created_at"), table_name="idempotent_request")
    op.drop_index(op.f("ix_webhook_delivery_created_at"), table_name="webhook_delivery")
