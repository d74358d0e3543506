"""The learning path of a challenge: short pages, a quiz scored exactly, and the gate it sets.

When the challenge requires the path, a participant who has not passed the quiz cannot open
their team's space or experiments (`check_gate`); leads and coaches are never gated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.errors import NotFound, UserError
from civique.lab import challenges
from civique.lab.models import Challenge, LearningPage, QuizAttempt, QuizQuestion
from civique.textcheck import clean_text

PAGE_TITLE_LIMIT = 200
PAGE_BODY_LIMIT = 20_000
QUESTION_LIMIT = 1000
CHOICE_LIMIT = 300
MIN_CHOICES, MAX_CHOICES = 2, 5
DEFAULT_PATH = "learning_default.json"


# Pages -----------------------------------------------------------------------------------------


def pages(session: Session, challenge_id: int) -> list[LearningPage]:
    """The path's pages in reading order."""
    stmt = select(LearningPage).where(LearningPage.challenge_id == challenge_id)
    return list(session.scalars(stmt.order_by(LearningPage.position, LearningPage.id)))


def _page_texts(title: str, body: str) -> tuple[str, str]:
    title = clean_text(title, PAGE_TITLE_LIMIT, allow_empty=True)
    if not title:
        raise UserError("lab_title_required", 400)
    return title, clean_text(body, PAGE_BODY_LIMIT, allow_empty=True)


def add_page(
    session: Session, user: User, challenge_id: int, title: str, body: str
) -> LearningPage:
    """Append a page to the challenge's path."""
    challenge = challenges.managed(session, user, challenge_id)
    title, body = _page_texts(title, body)
    position = _next_position(session, LearningPage, challenge.id)
    page = LearningPage(
        org_id=user.org_id, challenge_id=challenge.id, position=position, title=title, body=body
    )
    session.add(page)
    session.commit()
    return page


def _next_position(
    session: Session, model: type[LearningPage] | type[QuizQuestion], challenge_id: int
) -> int:
    stmt = select(func.max(model.position)).where(model.challenge_id == challenge_id)
    return int(session.scalar(stmt) or 0) + 1


def _managed_page(session: Session, user: User, page_id: int) -> LearningPage:
    page = session.get(LearningPage, page_id)
    if page is None or page.org_id != user.org_id:
        raise NotFound()
    challenges.managed(session, user, page.challenge_id)
    return page


def update_page(session: Session, user: User, page_id: int, title: str, body: str) -> LearningPage:
    """Change a page's title or text."""
    page = _managed_page(session, user, page_id)
    page.title, page.body = _page_texts(title, body)
    session.commit()
    return page


def delete_page(session: Session, user: User, page_id: int) -> int:
    """Remove a page; returns its challenge's id."""
    page = _managed_page(session, user, page_id)
    challenge_id = page.challenge_id
    session.delete(page)
    session.commit()
    return challenge_id


# Questions -------------------------------------------------------------------------------------


def questions(session: Session, challenge_id: int) -> list[QuizQuestion]:
    """The quiz's questions in order."""
    stmt = select(QuizQuestion).where(QuizQuestion.challenge_id == challenge_id)
    return list(session.scalars(stmt.order_by(QuizQuestion.position, QuizQuestion.id)))


def _checked_question(
    text: str, choices: list[str], correct: list[int], explanation: str
) -> tuple[str, list[str], list[int], str]:
    text = clean_text(text, QUESTION_LIMIT, allow_empty=True)
    if not text:
        raise UserError("lab_question_required", 400)
    kept = [(i, clean_text(c, CHOICE_LIMIT, allow_empty=True)) for i, c in enumerate(choices)]
    filled = [(i, c) for i, c in kept if c]
    if not MIN_CHOICES <= len(filled) <= MAX_CHOICES:
        raise UserError("lab_choices_count", 400, low=MIN_CHOICES, high=MAX_CHOICES)
    # The correct boxes were ticked against the form's rows: renumber them over the filled rows.
    index = {old: new for new, (old, _c) in enumerate(filled)}
    right = sorted({index[i] for i in correct if i in index})
    if not right:
        raise UserError("lab_correct_required", 400)
    return (
        text,
        [c for _i, c in filled],
        right,
        clean_text(explanation, QUESTION_LIMIT, allow_empty=True),
    )


def add_question(
    session: Session,
    user: User,
    challenge_id: int,
    text: str,
    choices: list[str],
    correct: list[int],
    explanation: str = "",
) -> QuizQuestion:
    """Append a question to the quiz (2 to 5 choices, at least one correct)."""
    challenge = challenges.managed(session, user, challenge_id)
    text, kept, right, explanation = _checked_question(text, choices, correct, explanation)
    question = QuizQuestion(
        org_id=user.org_id,
        challenge_id=challenge.id,
        position=_next_position(session, QuizQuestion, challenge.id),
        text=text,
        choices=kept,
        correct=right,
        explanation=explanation,
    )
    session.add(question)
    session.commit()
    return question


def delete_question(session: Session, user: User, question_id: int) -> int:
    """Remove a question; returns its challenge's id."""
    question = session.get(QuizQuestion, question_id)
    if question is None or question.org_id != user.org_id:
        raise NotFound()
    challenges.managed(session, user, question.challenge_id)
    challenge_id = question.challenge_id
    session.delete(question)
    session.commit()
    return challenge_id


def load_default(session: Session, user: User, challenge_id: int) -> int:
    """Replace the challenge's path and quiz by the packaged default one; returns the pages."""
    challenge = challenges.managed(session, user, challenge_id)
    data = default_path()
    session.execute(delete(LearningPage).where(LearningPage.challenge_id == challenge.id))
    session.execute(delete(QuizQuestion).where(QuizQuestion.challenge_id == challenge.id))
    for position, page in enumerate(data["pages"], start=1):
        session.add(
            LearningPage(
                org_id=user.org_id,
                challenge_id=challenge.id,
                position=position,
                title=page["title"],
                body=page["body"],
            )
        )
    for position, item in enumerate(data["questions"], start=1):
        session.add(
            QuizQuestion(
                org_id=user.org_id,
                challenge_id=challenge.id,
                position=position,
                text=item["text"],
                choices=item["choices"],
                correct=item["correct"],
                explanation=item["explanation"],
            )
        )
    session.commit()
    return len(data["pages"])


def default_path() -> dict[str, Any]:
    """The packaged default path (French): usage guidelines, allowed data, checking outputs."""
    text = resources.files("civique.lab").joinpath(DEFAULT_PATH).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


# Taking the quiz -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Marked:
    """One question after submission: what was chosen, what was right, why."""

    question: QuizQuestion
    chosen: list[int]
    right: bool


@dataclass(frozen=True)
class Result:
    """A scored attempt."""

    attempt: QuizAttempt
    marked: list[Marked]

    @property
    def percent(self) -> int:
        """The score in whole percent, rounded half up (the pass check itself is exact)."""
        return percent(self.attempt.right, self.attempt.total)


def percent(right: int, total: int) -> int:
    """`right` of `total` in whole percent, rounded half up."""
    return (200 * right + total) // (2 * total) if total else 0


def passes(right: int, total: int, pass_mark: int) -> bool:
    """Exact: right/total ≥ pass_mark/100, with integers only."""
    return total > 0 and 100 * right >= pass_mark * total


def score(qs: list[QuizQuestion], answers: dict[int, list[int]]) -> list[Marked]:
    """Mark each question: right only when exactly the correct choices were ticked."""
    marked = []
    for q in qs:
        chosen = sorted({i for i in answers.get(q.id, []) if 0 <= i < len(q.choices)})
        marked.append(Marked(q, chosen, chosen == sorted(q.correct)))
    return marked


def submit(
    session: Session, user: User, challenge_id: int, answers: dict[int, list[int]]
) -> Result:
    """Record and score an attempt of the quiz."""
    challenge = challenges.challenge_for(session, user, challenge_id)
    qs = questions(session, challenge.id)
    if not qs:
        raise UserError("lab_no_quiz", 409)
    marked = score(qs, answers)
    right = sum(m.right for m in marked)
    attempt = QuizAttempt(
        org_id=user.org_id,
        challenge_id=challenge.id,
        user_id=user.id,
        answers={str(m.question.id): m.chosen for m in marked},
        right=right,
        total=len(qs),
        passed=passes(right, len(qs), challenge.pass_mark),
    )
    session.add(attempt)
    session.commit()
    return Result(attempt, marked)


def attempts(session: Session, user: User, challenge_id: int) -> list[QuizAttempt]:
    """The user's attempts at a challenge's quiz, newest first."""
    stmt = select(QuizAttempt).where(
        QuizAttempt.challenge_id == challenge_id, QuizAttempt.user_id == user.id
    )
    return list(session.scalars(stmt.order_by(QuizAttempt.id.desc())))


def has_passed(session: Session, user: User, challenge_id: int) -> bool:
    """Whether one of the user's attempts passed."""
    stmt = select(QuizAttempt.id).where(
        QuizAttempt.challenge_id == challenge_id,
        QuizAttempt.user_id == user.id,
        QuizAttempt.passed.is_(True),
    )
    return session.scalars(stmt).first() is not None


def gated(session: Session, user: User, challenge: Challenge) -> bool:
    """Whether the path still stands between the user and the team space."""
    if not challenge.path_required or challenges.is_lead(user):
        return False
    if challenges.is_coach(session, user, challenge.id):
        return False
    return not has_passed(session, user, challenge.id)


def check_gate(session: Session, user: User, challenge: Challenge) -> None:
    """Refuse the team space and experiments until the quiz is passed, saying where to go."""
    if gated(session, user, challenge):
        raise UserError("lab_path_required", 403, url=f"/lab/challenges/{challenge.id}/learning")
