"""register of AI-assisted outputs and admin audit log (per-organisation hash chains)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 16:23:28.546307
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_audit_log_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("org_id", "seq", name="uq_audit_log_org_seq"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_org_at", ["org_id", "at"], unique=False)
        batch_op.create_index("ix_audit_log_org_kind", ["org_id", "kind"], unique=False)

    op.create_table(
        "chain_heads",
        sa.Column("chain", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_chain_heads_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chain", "org_id", name=op.f("pk_chain_heads")),
    )
    op.create_table(
        "register_events",
        sa.Column("output_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_register_events_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_events")),
        sa.UniqueConstraint("org_id", "seq", name="uq_register_events_org_seq"),
    )
    with op.batch_alter_table("register_events", schema=None) as batch_op:
        batch_op.create_index("ix_register_events_org_at", ["org_id", "at"], unique=False)
        batch_op.create_index("ix_register_events_org_kind", ["org_id", "kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_register_events_output_id"), ["output_id"], unique=False
        )

    with op.batch_alter_table("output_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "validation", sa.String(length=16), server_default="not_required", nullable=False
            )
        )
        batch_op.add_column(sa.Column("sources", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("final_text", sa.Text(), nullable=True))
        batch_op.create_index(
            "ix_output_records_org_created", ["org_id", "created_at"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_output_records_unit_id_units"),
            "units",
            ["unit_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("output_records", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_output_records_unit_id_units"), type_="foreignkey")
        batch_op.drop_index("ix_output_records_org_created")
        batch_op.drop_column("final_text")
        batch_op.drop_column("sources")
        batch_op.drop_column("validation")
        batch_op.drop_column("unit_id")

    with op.batch_alter_table("register_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_register_events_output_id"))
        batch_op.drop_index("ix_register_events_org_kind")
        batch_op.drop_index("ix_register_events_org_at")

    op.drop_table("register_events")
    op.drop_table("chain_heads")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_org_kind")
        batch_op.drop_index("ix_audit_log_org_at")

    op.drop_table("audit_log")
