"""webhook delivery

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_delivery",
        sa.Column("project_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("delivery_id", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("body_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"]),
        sa.PrimaryKeyConstraint("project_id", "delivery_id"),
    )


def downgrade() -> None:
    op.drop_table("webhook_delivery")
