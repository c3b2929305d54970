"""audit records: what the audit list searches by

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 06:00:00.000000

Runs committed before this revision get their index from the runs table; plans were not
committed before it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
# The lead re-chains migrations when merging branches; written on top of main's newest.
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FROM_RUN = "(SELECT {} FROM runs WHERE runs.id = audit_records.subject_id)"


def upgrade() -> None:
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("title", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("requested_by", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("decided_by", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("services", sa.String(length=1024), nullable=True))
        batch_op.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_records_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_records_finished_at"), ["finished_at"], unique=False
        )
    services = "'|' || lower(entry_name) || '|' || coalesce(lower(entry_role) || '|', '')"
    columns = {
        "status": "status",
        "title": "entry_name",
        "requested_by": "requested_by",
        "services": services,
        "error": "error",
        "finished_at": "finished_at",
    }
    assignments = ", ".join(
        f"{name} = {_FROM_RUN.format(value)}" for name, value in columns.items()
    )
    op.execute(f"UPDATE audit_records SET {assignments} WHERE subject = 'run'")


def downgrade() -> None:
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_records_finished_at"))
        batch_op.drop_index(batch_op.f("ix_audit_records_status"))
        batch_op.drop_column("finished_at")
        batch_op.drop_column("error")
        batch_op.drop_column("services")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("requested_by")
        batch_op.drop_column("title")
        batch_op.drop_column("status")
