"""agents, agent heartbeats, capacity placement on runs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("inventory_host", sa.String(length=255), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("protocol", sa.String(length=16), nullable=True),
        sa.Column("agent_version", sa.String(length=32), nullable=True),
        sa.Column("resources", sa.JSON(), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("clock_skew_s", sa.Double(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
        sa.UniqueConstraint("name", name=op.f("uq_agents_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_agents_token_hash")),
    )
    op.create_index(op.f("ix_agents_inventory_host"), "agents", ["inventory_host"])
    op.create_table(
        "agent_heartbeats",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cpu_percent", sa.Double(), nullable=False),
        sa.Column("memory_percent", sa.Double(), nullable=False),
        sa.Column("gpu_percent", sa.Double(), nullable=True),
        sa.Column("vram_percent", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_heartbeats_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_heartbeats")),
    )
    op.create_index(
        "ix_agent_heartbeats_agent_time", "agent_heartbeats", ["agent_id", "received_at"]
    )
    op.create_index(op.f("ix_agent_heartbeats_received_at"), "agent_heartbeats", ["received_at"])
    with op.batch_alter_table("runs") as runs:
        runs.add_column(sa.Column("needs", sa.JSON(), nullable=True))
        runs.add_column(sa.Column("placed_host", sa.String(length=255), nullable=True))
        runs.add_column(sa.Column("placement_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as runs:
        runs.drop_column("placement_reason")
        runs.drop_column("placed_host")
        runs.drop_column("needs")
    op.drop_index(op.f("ix_agent_heartbeats_received_at"), table_name="agent_heartbeats")
    op.drop_index("ix_agent_heartbeats_agent_time", table_name="agent_heartbeats")
    op.drop_table("agent_heartbeats")
    op.drop_index(op.f("ix_agents_inventory_host"), table_name="agents")
    op.drop_table("agents")
