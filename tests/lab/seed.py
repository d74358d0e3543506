"""Helpers of the Lab tests: outputs and calls at chosen times, feedback on them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.lab.feedback import PROBLEMS
from civique.lab.feedback_models import LabFeedback
from civique.llm.models import ModelCall, OutputRecord


def call(
    db: Session,
    user: User,
    at: datetime,
    tool: str = "chat",
    model: str = "fake/echo",
    tokens: tuple[int, int] = (10, 20),
    energy: float = 0.5,
) -> ModelCall:
    """One model call of `user` at `at` (UTC)."""
    row = ModelCall(
        org_id=user.org_id,
        user_id=user.id,
        tool=tool,
        kind="chat",
        model_id=model,
        status="ok",
        tokens_in=tokens[0],
        tokens_out=tokens[1],
        energy_wh=energy,
        created_at=at,
    )
    db.add(row)
    db.flush()
    return row


def output(
    db: Session,
    user: User,
    at: datetime,
    tool: str = "chat",
    model: str = "fake/echo",
    **call_args: Any,
) -> OutputRecord:
    """One output of `user` at `at` with its call; its unit is the user's unit."""
    made = call(db, user, at, tool, model, **call_args)
    row = OutputRecord(
        org_id=user.org_id,
        user_id=user.id,
        call_id=made.id,
        tool=tool,
        model_id=model,
        model_version="1",
        prompt_template="t",
        prompt_template_version="1",
        input=[{"role": "user", "content": "q"}],
        output="r",
        status="ok",
        unit_id=user.unit_id,
        created_at=at,
    )
    db.add(row)
    db.flush()
    return row


def rate(
    db: Session,
    user: User,
    record: OutputRecord,
    helped: bool = True,
    minutes: int | None = None,
    without: int | None = None,
    satisfaction: int | None = None,
    problems: tuple[str, ...] = (),
) -> LabFeedback:
    """A feedback row written directly (the service is tested on its own)."""
    row = LabFeedback(
        org_id=record.org_id,
        output_id=record.id,
        user_id=user.id,
        helped=helped,
        minutes_saved=minutes,
        minutes_without_ai=without,
        satisfaction=satisfaction,
        problems=list(problems),
        problem_flags=sum(PROBLEMS[p] for p in problems),
    )
    db.add(row)
    db.flush()
    return row
