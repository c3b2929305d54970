"""plan steps: where a step runs (the router's placement and a person's override)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 19:00:00.000000

Steps planned before this revision have no placement: they run on their target, as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
# The lead re-chains migrations when merging branches; written on top of main's newest.
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plan_steps") as batch:
        batch.add_column(sa.Column("placement", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plan_steps") as batch:
        batch.drop_column("placement")
