"""lab challenges: challenges, teams, learning path and quiz, experiments, showcase

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-04 18:23:22.021631
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "lab_challenges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("awareness_start", sa.Date(), nullable=False),
        sa.Column("awareness_end", sa.Date(), nullable=False),
        sa.Column("exploration_start", sa.Date(), nullable=False),
        sa.Column("exploration_end", sa.Date(), nullable=False),
        sa.Column("showcase_start", sa.Date(), nullable=False),
        sa.Column("showcase_end", sa.Date(), nullable=False),
        sa.Column("path_required", sa.Boolean(), nullable=False),
        sa.Column("team_size_limit", sa.Integer(), nullable=True),
        sa.Column("pass_mark", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_lab_challenges_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_lab_challenges_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_challenges")),
    )
    with op.batch_alter_table("lab_challenges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lab_challenges_org_id"), ["org_id"], unique=False)

    op.create_table(
        "lab_challenge_coaches",
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["lab_challenges.id"],
            name=op.f("fk_lab_challenge_coaches_challenge_id_lab_challenges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_lab_challenge_coaches_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("challenge_id", "user_id", name=op.f("pk_lab_challenge_coaches")),
    )
    op.create_table(
        "lab_challenge_units",
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["lab_challenges.id"],
            name=op.f("fk_lab_challenge_units_challenge_id_lab_challenges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_lab_challenge_units_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("challenge_id", "unit_id", name=op.f("pk_lab_challenge_units")),
    )
    op.create_table(
        "lab_learning_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["lab_challenges.id"],
            name=op.f("fk_lab_learning_pages_challenge_id_lab_challenges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_lab_learning_pages_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_learning_pages")),
    )
    with op.batch_alter_table("lab_learning_pages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lab_learning_pages_challenge_id"), ["challenge_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_lab_learning_pages_org_id"), ["org_id"], unique=False)

    op.create_table(
        "lab_participants",
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["lab_challenges.id"],
            name=op.f("fk_lab_participants_challenge_id_lab_challenges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_lab_participants_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_lab_participants_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("challenge_id", "user_id", name=op.f("pk_lab_participants")),
    )
    with op.batch_alter_table("lab_participants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lab_participants_org_id"), ["org_id"], unique=False)

    op.create_table(
        "lab_quiz_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("right", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["lab_challenges.id"],
            name=op.f("fk_lab_quiz_attempts_challenge_id_lab_challenges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_lab_quiz_attempts_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_lab_quiz_attempts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_quiz_attempts")),
    )
    with op.batch_alter_table("lab_quiz_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lab_quiz_attempts_challenge_user", ["challenge_id", "user_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_lab_quiz_attempts_org_id"), ["org_id"], unique=False)

    op.create_table(
        "lab_quiz_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("correct", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["lab_challenges.id"],
            name=op.f("fk_lab_quiz_questions_challenge_id_lab_challenges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_lab_quiz_questions_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_quiz_questions")),
    )
    with op.batch_alter_table("lab_quiz_questions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lab_quiz_questions_challenge_id"), ["challenge_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_lab_quiz_questions_org_id"), ["org_id"], unique=False)

    op.create_table(
        "lab_teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["lab_challenges.id"],
            name=op.f("fk_lab_teams_challenge_id_lab_challenges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_lab_teams_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_lab_teams_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_lab_teams_team_id_teams"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_teams")),
        sa.UniqueConstraint("team_id", name=op.f("uq_lab_teams_team_id")),
    )
    with op.batch_alter_table("lab_teams", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lab_teams_challenge_id"), ["challenge_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_lab_teams_org_id"), ["org_id"], unique=False)

    op.create_table(
        "lab_experiments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("lab_team_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("irritant", sa.Text(), nullable=False),
        sa.Column("sufferers", sa.Text(), nullable=False),
        sa.Column("expected_gain", sa.Text(), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("protocol", sa.Text(), nullable=False),
        sa.Column("tools_prompts", sa.Text(), nullable=False),
        sa.Column("learnings", sa.Text(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["lab_challenges.id"],
            name=op.f("fk_lab_experiments_challenge_id_lab_challenges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_lab_experiments_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["lab_team_id"],
            ["lab_teams.id"],
            name=op.f("fk_lab_experiments_lab_team_id_lab_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_lab_experiments_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_experiments")),
    )
    with op.batch_alter_table("lab_experiments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lab_experiments_challenge_id"), ["challenge_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_lab_experiments_lab_team_id"), ["lab_team_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_lab_experiments_org_id"), ["org_id"], unique=False)

    op.create_table(
        "lab_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_lab_comments_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["lab_experiments.id"],
            name=op.f("fk_lab_comments_experiment_id_lab_experiments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_lab_comments_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_comments")),
    )
    with op.batch_alter_table("lab_comments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lab_comments_experiment_id"), ["experiment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_lab_comments_org_id"), ["org_id"], unique=False)

    op.create_table(
        "lab_experiment_outputs",
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("output_id", sa.Integer(), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by"],
            ["users.id"],
            name=op.f("fk_lab_experiment_outputs_added_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["lab_experiments.id"],
            name=op.f("fk_lab_experiment_outputs_experiment_id_lab_experiments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["output_id"],
            ["output_records.id"],
            name=op.f("fk_lab_experiment_outputs_output_id_output_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "experiment_id", "output_id", name=op.f("pk_lab_experiment_outputs")
        ),
    )
    op.create_table(
        "lab_measurements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=True),
        sa.Column("before_value", sa.String(length=40), nullable=True),
        sa.Column("after_value", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["lab_experiments.id"],
            name=op.f("fk_lab_measurements_experiment_id_lab_experiments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_lab_measurements_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_measurements")),
    )
    with op.batch_alter_table("lab_measurements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lab_measurements_experiment_id"), ["experiment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_lab_measurements_org_id"), ["org_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("lab_measurements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lab_measurements_org_id"))
        batch_op.drop_index(batch_op.f("ix_lab_measurements_experiment_id"))

    op.drop_table("lab_measurements")
    op.drop_table("lab_experiment_outputs")
    with op.batch_alter_table("lab_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lab_comments_org_id"))
        batch_op.drop_index(batch_op.f("ix_lab_comments_experiment_id"))

    op.drop_table("lab_comments")
    with op.batch_alter_table("lab_experiments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lab_experiments_org_id"))
        batch_op.drop_index(batch_op.f("ix_lab_experiments_lab_team_id"))
        batch_op.drop_index(batch_op.f("ix_lab_experiments_challenge_id"))

    op.drop_table("lab_experiments")
    with op.batch_alter_table("lab_teams", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lab_teams_org_id"))
        batch_op.drop_index(batch_op.f("ix_lab_teams_challenge_id"))

    op.drop_table("lab_teams")
    with op.batch_alter_table("lab_quiz_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lab_quiz_questions_org_id"))
        batch_op.drop_index(batch_op.f("ix_lab_quiz_questions_challenge_id"))

    op.drop_table("lab_quiz_questions")
    with op.batch_alter_table("lab_quiz_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lab_quiz_attempts_org_id"))
        batch_op.drop_index("ix_lab_quiz_attempts_challenge_user")

    op.drop_table("lab_quiz_attempts")
    with op.batch_alter_table("lab_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lab_participants_org_id"))

    op.drop_table("lab_participants")
    with op.batch_alter_table("lab_learning_pages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lab_learning_pages_org_id"))
        batch_op.drop_index(batch_op.f("ix_lab_learning_pages_challenge_id"))

    op.drop_table("lab_learning_pages")
    op.drop_table("lab_challenge_units")
    op.drop_table("lab_challenge_coaches")
    with op.batch_alter_table("lab_challenges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lab_challenges_org_id"))

    op.drop_table("lab_challenges")
