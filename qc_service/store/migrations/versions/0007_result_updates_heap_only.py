"""result: no index on the review queue's priority, and room on each page (PostgreSQL)

A refit after new labels moves nearly every result's confidence and priority. With
``priority`` indexed, each such update wrote a new row version plus an entry in every
index of ``result`` (3.1 s for 100k rows, bench/RESULTS.md); without it, and with
free space on the page (fillfactor), the update is heap-only. The review queue reads
the flagged rows through ``ix_result_project_status`` and sorts them by priority.
Half of each page stays free: a refit updates nearly every row in one statement, and
the old versions are not freed before it commits, so each row needs room for two.

The fillfactor applies to pages written from now on; ``VACUUM FULL result`` applies
it to the rows already stored (it rewrites the table under an exclusive lock, so it is
left to the operator).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 08:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: As ``qc_service.store.models.RESULT_FILLFACTOR`` when this migration was written.
_FILLFACTOR = 50


def upgrade() -> None:
    with op.batch_alter_table("result") as batch_op:
        batch_op.drop_index("ix_result_queue")
    if op.get_context().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE result SET (fillfactor = {_FILLFACTOR})")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE result RESET (fillfactor)")
    with op.batch_alter_table("result") as batch_op:
        batch_op.create_index(
            "ix_result_queue", ["project_id", "status", "priority", "id"], unique=False
        )
