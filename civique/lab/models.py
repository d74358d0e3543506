"""Tables of the Lab's challenges: phases, teams, learning path and quiz, experiments, showcase."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from civique.db.base import Base, Timestamped, utcnow

CHALLENGE_STATUSES = ("draft", "open", "closed")
AUDIENCES = ("organisation", "units")
PHASES = ("awareness", "exploration", "showcase")
EXPERIMENT_STATUSES = ("draft", "in_progress", "concluded")
STEPS = ("hypotheses", "tests", "evidence", "learnings", "decision")
DECISIONS = ("generalise", "extend", "stop", "non_ai")
MEASURE_UNITS = ("minutes", "hours", "percent", "count", "euros", "score5")


def _org() -> Mapped[int]:
    return mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)


def _challenge() -> Mapped[int]:
    return mapped_column(ForeignKey("lab_challenges.id", ondelete="CASCADE"), index=True)


class Challenge(Timestamped, Base):
    """An innovation challenge with its three phases and who may join it."""

    __tablename__ = "lab_challenges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = _org()
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    audience: Mapped[str] = mapped_column(String(16), default="organisation")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    awareness_start: Mapped[date] = mapped_column(Date)
    awareness_end: Mapped[date] = mapped_column(Date)
    exploration_start: Mapped[date] = mapped_column(Date)
    exploration_end: Mapped[date] = mapped_column(Date)
    showcase_start: Mapped[date] = mapped_column(Date)
    showcase_end: Mapped[date] = mapped_column(Date)
    # When set, the team space and experiments open only once the participant passed the quiz.
    path_required: Mapped[bool] = mapped_column(Boolean, default=False)
    team_size_limit: Mapped[int | None] = mapped_column(Integer, default=None)
    pass_mark: Mapped[int] = mapped_column(Integer, default=80)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class ChallengeUnit(Base):
    """A unit whose staff may join a challenge open to chosen units."""

    __tablename__ = "lab_challenge_units"

    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("lab_challenges.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )


class ChallengeCoach(Base):
    """A user the innovation lead named coach of a challenge: reads and comments every step."""

    __tablename__ = "lab_challenge_coaches"

    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("lab_challenges.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )


class Participant(Timestamped, Base):
    """A user registered to a challenge (their team is an org team, see `LabTeam`)."""

    __tablename__ = "lab_participants"

    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("lab_challenges.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[int] = _org()


class LabTeam(Timestamped, Base):
    """A challenge team: a real org team (members share its team collections) in a challenge."""

    __tablename__ = "lab_teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = _org()
    challenge_id: Mapped[int] = _challenge()
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )


class LearningPage(Timestamped, Base):
    """A short page of a challenge's learning path (Markdown, rendered sanitised)."""

    __tablename__ = "lab_learning_pages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = _org()
    challenge_id: Mapped[int] = _challenge()
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")


class QuizQuestion(Timestamped, Base):
    """A question of a challenge's quiz: 2 to 5 choices, one or more of them correct."""

    __tablename__ = "lab_quiz_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = _org()
    challenge_id: Mapped[int] = _challenge()
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(String(1000))
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    correct: Mapped[list[int]] = mapped_column(JSON, default=list)  # indexes into `choices`
    explanation: Mapped[str] = mapped_column(Text, default="")


class QuizAttempt(Timestamped, Base):
    """One submission of the quiz: the answers and the exact score (right answers of total)."""

    __tablename__ = "lab_quiz_attempts"
    __table_args__ = (Index("ix_lab_quiz_attempts_challenge_user", "challenge_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = _org()
    challenge_id: Mapped[int] = mapped_column(ForeignKey("lab_challenges.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # question id → indexes
    right: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    passed: Mapped[bool] = mapped_column(Boolean)


class Experiment(Timestamped, Base):
    """A team's experiment in five steps: hypotheses, tests, evidence, learnings, decision."""

    __tablename__ = "lab_experiments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = _org()
    challenge_id: Mapped[int] = _challenge()
    lab_team_id: Mapped[int] = mapped_column(
        ForeignKey("lab_teams.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    irritant: Mapped[str] = mapped_column(Text, default="")
    sufferers: Mapped[str] = mapped_column(Text, default="")
    expected_gain: Mapped[str] = mapped_column(Text, default="")
    metric: Mapped[str] = mapped_column(Text, default="")
    protocol: Mapped[str] = mapped_column(Text, default="")
    tools_prompts: Mapped[str] = mapped_column(Text, default="")
    learnings: Mapped[str] = mapped_column(Text, default="")
    decision: Mapped[str | None] = mapped_column(String(16), default=None)
    rationale: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ExperimentOutput(Timestamped, Base):
    """An output of the register a team member linked to an experiment's tests."""

    __tablename__ = "lab_experiment_outputs"

    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("lab_experiments.id", ondelete="CASCADE"), primary_key=True
    )
    output_id: Mapped[int] = mapped_column(
        ForeignKey("output_records.id", ondelete="CASCADE"), primary_key=True
    )
    added_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )


class Measurement(Timestamped, Base):
    """A typed measurement of an experiment's evidence: one value, or a before/after pair.

    Values are kept as exact decimal text: SQLite has no decimal type, and sums must not drift.
    """

    __tablename__ = "lab_measurements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = _org()
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("lab_experiments.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(16))
    value: Mapped[str | None] = mapped_column(String(40), default=None)
    before_value: Mapped[str | None] = mapped_column(String(40), default=None)
    after_value: Mapped[str | None] = mapped_column(String(40), default=None)


class Comment(Timestamped, Base):
    """A comment on one step of an experiment (coaches, leads, the team)."""

    __tablename__ = "lab_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = _org()
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("lab_experiments.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    step: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
