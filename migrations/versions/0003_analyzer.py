"""analyzer: lint results cached by content hash, suggestions, diagnoses

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 05:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analyzer_lint_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_kind", sa.String(length=16), nullable=False),
        sa.Column("entry_name", sa.String(length=255), nullable=False),
        sa.Column("entry_path", sa.String(length=1024), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("lint_error", sa.Text(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analyzer_lint_results")),
        sa.UniqueConstraint(
            "entry_kind",
            "entry_path",
            "entry_name",
            "content_hash",
            name=op.f("uq_analyzer_lint_results_entry_kind"),
        ),
    )
    op.create_table(
        "analyzer_diagnoses",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("failure_class", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_analyzer_diagnoses")),
    )
    op.create_table(
        "analyzer_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=128), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("file", sa.String(length=1024), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("reasoning", sa.Text(), nullable=False),
        sa.Column("file_hash", sa.String(length=64), nullable=False),
        sa.Column("fix_by", sa.String(length=16), nullable=True),
        sa.Column("fix_text", sa.Text(), nullable=True),
        sa.Column("fix_diff", sa.Text(), nullable=True),
        sa.Column("fix_error", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=255), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("commit_sha", sa.String(length=40), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["result_id"],
            ["analyzer_lint_results.id"],
            name=op.f("fk_analyzer_suggestions_result_id_analyzer_lint_results"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analyzer_suggestions")),
    )
    with op.batch_alter_table("analyzer_suggestions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_analyzer_suggestions_result_id"), ["result_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("analyzer_suggestions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analyzer_suggestions_result_id"))
    op.drop_table("analyzer_suggestions")
    op.drop_table("analyzer_diagnoses")
    op.drop_table("analyzer_lint_results")
