"""re-identification vault; what was masked, kept with outputs and messages

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 17:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "vault_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("placeholder", sa.String(length=48), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value_mac", sa.String(length=64), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_vault_entries_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vault_entries")),
        sa.UniqueConstraint("org_id", "scope", "placeholder", name="uq_vault_entries_placeholder"),
        sa.UniqueConstraint("org_id", "scope", "value_mac", name="uq_vault_entries_value"),
    )
    op.create_index(op.f("ix_vault_entries_org_id"), "vault_entries", ["org_id"])
    op.create_index(op.f("ix_vault_entries_scope"), "vault_entries", ["scope"])
    op.create_index(op.f("ix_vault_entries_value_mac"), "vault_entries", ["value_mac"])
    with op.batch_alter_table("output_records") as batch_op:
        batch_op.add_column(sa.Column("privacy", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("vault_scope", sa.String(length=80), nullable=True))
        batch_op.create_index(op.f("ix_output_records_vault_scope"), ["vault_scope"])
    with op.batch_alter_table("messages") as batch_op:
        batch_op.add_column(sa.Column("masking", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("privacy", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_column("privacy")
        batch_op.drop_column("masking")
    with op.batch_alter_table("output_records") as batch_op:
        batch_op.drop_index(op.f("ix_output_records_vault_scope"))
        batch_op.drop_column("vault_scope")
        batch_op.drop_column("privacy")
    op.drop_table("vault_entries")
