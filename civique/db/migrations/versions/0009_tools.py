"""drafting tools: organisations' tool settings, tool runs, FALC proof-readings

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    name = target.split(".")[0]
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{name}"), ondelete=ondelete
    )


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "org_tools",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("tool_id", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("validation", sa.String(length=8), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        _fk("org_tools", "org_id", "organisations.id", "CASCADE"),
        _fk("org_tools", "updated_by", "users.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_tools")),
        sa.UniqueConstraint("org_id", "tool_id", name=op.f("uq_org_tools_org_id")),
    )
    op.create_index(op.f("ix_org_tools_org_id"), "org_tools", ["org_id"])
    op.create_table(
        "tool_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("tool", sa.String(length=64), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("model_id", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(length=64), nullable=True),
        sa.Column("parts_total", sa.Integer(), nullable=False),
        sa.Column("parts_done", sa.Integer(), nullable=False),
        sa.Column("output_id", sa.Integer(), nullable=True),
        sa.Column("previous_output_id", sa.Integer(), nullable=True),
        sa.Column("part_output_ids", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("tool_runs", "org_id", "organisations.id", "CASCADE"),
        _fk("tool_runs", "user_id", "users.id", "SET NULL"),
        _fk("tool_runs", "output_id", "output_records.id", "SET NULL"),
        _fk("tool_runs", "previous_output_id", "output_records.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tool_runs")),
    )
    op.create_index(op.f("ix_tool_runs_org_id"), "tool_runs", ["org_id"])
    op.create_index(op.f("ix_tool_runs_user_id"), "tool_runs", ["user_id"])
    op.create_index(op.f("ix_tool_runs_output_id"), "tool_runs", ["output_id"])
    op.create_table(
        "tool_proofreadings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("output_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=False),
        sa.Column("checked_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("tool_proofreadings", "org_id", "organisations.id", "CASCADE"),
        _fk("tool_proofreadings", "output_id", "output_records.id", "CASCADE"),
        _fk("tool_proofreadings", "recorded_by", "users.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tool_proofreadings")),
    )
    op.create_index(op.f("ix_tool_proofreadings_org_id"), "tool_proofreadings", ["org_id"])
    op.create_index(op.f("ix_tool_proofreadings_output_id"), "tool_proofreadings", ["output_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("tool_proofreadings")
    op.drop_table("tool_runs")
    op.drop_table("org_tools")
