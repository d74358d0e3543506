"""human validation: the validators' queue reads pending outputs by organisation

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("output_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_output_records_org_validation", ["org_id", "validation"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("output_records", schema=None) as batch_op:
        batch_op.drop_index("ix_output_records_org_validation")
