"""the Lab's weekly rollups of outputs, model calls and feedback, for the dashboards at scale

Revision ID: 0017
Revises: 0013
Create Date: 2026-12-04 19:30:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
KEYS = ["week", "unit_id", "tool", "model_id"]
FEEDBACK_VALUES = [
    "feedback", "minutes_n", "minutes_sum", "without_n", "without_sum", "satisfaction_n",
    "satisfaction_sum", "mark_1", "mark_2", "mark_3", "mark_4", "mark_5", "factual_error",
    "wrong_citation", "tone", "legal", "bias", "other",
]


def _org(table: str) -> list[Any]:
    return [
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"],
                                name=op.f(f"fk_{table}_org_id_organisations"),
                                ondelete="CASCADE"),
    ]


def _cells(table: str, unit: bool = True) -> list[Any]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        *_org(table),
        sa.Column("week", sa.Date(), nullable=False),
        *([sa.Column("unit_id", sa.Integer(), nullable=True)] if unit else []),
        sa.Column("tool", sa.String(length=64), nullable=False),
        sa.Column("model_id", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "lab_outputs_weekly",
        *_cells("lab_outputs_weekly"),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("outputs", sa.Integer(), nullable=False),
    )
    op.create_index("ix_lab_outputs_weekly_read", "lab_outputs_weekly",
                    ["org_id", *KEYS, "user_id", "outputs"])
    op.create_table(
        "lab_calls_weekly",
        *_cells("lab_calls_weekly", unit=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("tokens_in", sa.Integer(), nullable=False),
        sa.Column("tokens_out", sa.Integer(), nullable=False),
        sa.Column("energy_wh", sa.Float(), nullable=False),
    )
    op.create_index("ix_lab_calls_weekly_read", "lab_calls_weekly",
                    ["org_id", "week", "tool", "model_id", "user_id", "calls", "tokens_in",
                     "tokens_out", "energy_wh"])
    op.create_table(
        "lab_feedback_weekly",
        *_cells("lab_feedback_weekly"),
        sa.Column("output_user_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in FEEDBACK_VALUES],
    )
    op.create_index("ix_lab_feedback_weekly_read", "lab_feedback_weekly", ["org_id", "week"])
    op.create_table(
        "lab_rollup_weeks",
        *_org("lab_rollup_weeks"),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "week", name=op.f("pk_lab_rollup_weeks")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("lab_rollup_weeks")
    op.drop_index("ix_lab_feedback_weekly_read", table_name="lab_feedback_weekly")
    op.drop_table("lab_feedback_weekly")
    op.drop_index("ix_lab_calls_weekly_read", table_name="lab_calls_weekly")
    op.drop_table("lab_calls_weekly")
    op.drop_index("ix_lab_outputs_weekly_read", table_name="lab_outputs_weekly")
    op.drop_table("lab_outputs_weekly")
