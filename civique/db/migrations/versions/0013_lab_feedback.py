"""the Lab's field data: feedback on outputs, irritants; indexes for the dashboards

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# Every column the dashboards group output records by: a period is read from the index alone.
LAB_COLUMNS = ["org_id", "created_at", "unit_id", "tool", "model_id", "user_id", "id"]
CALL_COLUMNS = [
    "org_id",
    "created_at",
    "tool",
    "model_id",
    "user_id",
    "tokens_in",
    "tokens_out",
    "energy_wh",
]


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "lab_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("output_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("helped", sa.Boolean(), nullable=False),
        sa.Column("minutes_saved", sa.Integer(), nullable=True),
        sa.Column("minutes_without_ai", sa.Integer(), nullable=True),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("problem_flags", sa.Integer(), server_default="0", nullable=False),
        sa.Column("comment", sa.String(length=1000), server_default="", nullable=False),
        sa.Column("usage", sa.String(length=16), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("lab_feedback", "org_id", "organisations", "CASCADE"),
        _fk("lab_feedback", "output_id", "output_records", "CASCADE"),
        _fk("lab_feedback", "user_id", "users", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_feedback")),
        sa.UniqueConstraint("output_id", "user_id", name=op.f("uq_lab_feedback_output_id")),
    )
    op.create_index("ix_lab_feedback_org_output", "lab_feedback", ["org_id", "output_id"])
    op.create_index(op.f("ix_lab_feedback_user_id"), "lab_feedback", ["user_id"])
    op.create_table(
        "lab_irritants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("minutes_per_task", sa.Integer(), nullable=False),
        sa.Column("tasks_per_month", sa.Integer(), nullable=False),
        sa.Column("error_rate", sa.Float(), nullable=False),
        sa.Column("people_affected", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("lab_irritants", "org_id", "organisations", "CASCADE"),
        _fk("lab_irritants", "unit_id", "units", "SET NULL"),
        _fk("lab_irritants", "created_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_irritants")),
    )
    op.create_index("ix_lab_irritants_org_unit", "lab_irritants", ["org_id", "unit_id"])
    with op.batch_alter_table("model_calls", schema=None) as batch_op:
        batch_op.create_index("ix_model_calls_lab", CALL_COLUMNS, unique=False)
    with op.batch_alter_table("output_records", schema=None) as batch_op:
        batch_op.create_index("ix_output_records_lab", LAB_COLUMNS, unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("output_records", schema=None) as batch_op:
        batch_op.drop_index("ix_output_records_lab")
    with op.batch_alter_table("model_calls", schema=None) as batch_op:
        batch_op.drop_index("ix_model_calls_lab")
    op.drop_index("ix_lab_irritants_org_unit", table_name="lab_irritants")
    op.drop_table("lab_irritants")
    op.drop_index(op.f("ix_lab_feedback_user_id"), table_name="lab_feedback")
    op.drop_index("ix_lab_feedback_org_output", table_name="lab_feedback")
    op.drop_table("lab_feedback")
