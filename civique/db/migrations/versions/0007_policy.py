"""AI-use policy, usage charter and acceptances; an organisation's clearance of a model

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "org_policies",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("validation_tools", sa.JSON(), nullable=False),
        sa.Column("conversations_days", sa.Integer(), nullable=True),
        sa.Column("documents_days", sa.Integer(), nullable=True),
        sa.Column("audio_days", sa.Integer(), nullable=True),
        sa.Column("vault_days", sa.Integer(), nullable=True),
        sa.Column("register_days", sa.Integer(), nullable=True),
        sa.Column("legal_hold", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_org_policies_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_org_policies_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_org_policies")),
    )
    op.create_table(
        "charters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_charters_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["published_by"],
            ["users.id"],
            name=op.f("fk_charters_published_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charters")),
        sa.UniqueConstraint("org_id", "version", name=op.f("uq_charters_org_id")),
    )
    op.create_index(op.f("ix_charters_org_id"), "charters", ["org_id"])
    op.create_table(
        "charter_acceptances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("charter_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["charter_id"],
            ["charters.id"],
            name=op.f("fk_charter_acceptances_charter_id_charters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_charter_acceptances_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charter_acceptances")),
        sa.UniqueConstraint(
            "charter_id", "user_id", name=op.f("uq_charter_acceptances_charter_id")
        ),
    )
    op.create_index(
        op.f("ix_charter_acceptances_charter_id"), "charter_acceptances", ["charter_id"]
    )
    op.create_index(op.f("ix_charter_acceptances_user_id"), "charter_acceptances", ["user_id"])
    with op.batch_alter_table("org_models") as batch_op:
        batch_op.add_column(sa.Column("clearance", sa.String(length=16), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("org_models") as batch_op:
        batch_op.drop_column("clearance")
    op.drop_table("charter_acceptances")
    op.drop_table("charters")
    op.drop_table("org_policies")
