"""runs: resources the ansible process tree used (wall, CPU, peak RSS)

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-22 06:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable: runs recorded before this migration were never measured.
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("usage_wall_s", sa.Double(), nullable=True))
        batch.add_column(sa.Column("usage_cpu_s", sa.Double(), nullable=True))
        batch.add_column(sa.Column("usage_peak_rss_bytes", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("usage_peak_rss_bytes")
        batch.drop_column("usage_cpu_s")
        batch.drop_column("usage_wall_s")
