"""result without fit_id: every result in service is the current fit's

A refit now rewrites only the result rows whose values changed, so a per-row fit id
would either be stale or force a write of every row; readers take the current fit's
id instead.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 05:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("result", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_result_fit_id"))
        batch_op.drop_column("fit_id")


def downgrade() -> None:
    with op.batch_alter_table("result", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fit_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_result_fit_id", "fit", ["fit_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_result_fit_id"), ["fit_id"], unique=False)
