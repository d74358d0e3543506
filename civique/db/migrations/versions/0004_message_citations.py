"""citations kept with assistant messages

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 18:35:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("messages") as batch_op:
        batch_op.add_column(sa.Column("citations", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("grounding", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_column("grounding")
        batch_op.drop_column("citations")
