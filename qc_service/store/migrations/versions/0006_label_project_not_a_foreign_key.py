"""label.project_id is no longer a foreign key of its own

A label's project is its item's, and ``item.project_id`` is a foreign key already;
checking the project again for every inserted label cost ~15 % of a bulk import's
database time (bench/RESULTS.md, "Import").

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 08:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: SQLite keeps foreign keys unnamed; batch mode names them by this convention so that
#: one can be dropped. PostgreSQL named it ``label_project_id_fkey`` when it was made.
_SQLITE_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def _constraint_name() -> str:
    if op.get_context().dialect.name == "sqlite":
        return "fk_label_project_id_project"
    return "label_project_id_fkey"


def upgrade() -> None:
    with op.batch_alter_table("label", naming_convention=_SQLITE_NAMES) as batch_op:
        batch_op.drop_constraint(_constraint_name(), type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("label", naming_convention=_SQLITE_NAMES) as batch_op:
        batch_op.create_foreign_key(_constraint_name(), "project", ["project_id"], ["id"])
