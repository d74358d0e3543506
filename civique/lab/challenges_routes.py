"""Pages of the Lab's challenges: the list, the lead's form and coaches, registration and
teams, the learning path and its quiz."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.errors import UserError
from civique.i18n import gettext
from civique.lab import challenges, experiments, learning
from civique.lab import challenges_labels as labels
from civique.lab.challenges import ChallengeForm
from civique.lab.models import MEASURE_UNITS, STEPS, Challenge
from civique.orgs.pages import done, failed, page
from civique.orgs.service import list_units
from civique.web.deps import DB, check_csrf, require

router = APIRouter()
Member = Annotated[User, Depends(require("lab.join"))]
Lead = Annotated[User, Depends(require("lab.lead"))]
Csrf = [Depends(check_csrf)]
Text = Annotated[str, Form(max_length=20_000)]
Short = Annotated[str, Form(max_length=400)]


def _translated(labels: dict[str, str]) -> dict[str, str]:
    return {code: gettext(label) for code, label in labels.items()}


def lab_context(db: Session) -> dict[str, object]:
    """Labels every Lab page uses, in the request's language."""
    del db
    return {
        "phase_labels": _translated(labels.PHASE_LABELS),
        "status_labels": _translated(labels.CHALLENGE_STATUS_LABELS),
        "audience_labels": _translated(labels.AUDIENCE_LABELS),
        "experiment_status_labels": _translated(labels.EXPERIMENT_STATUS_LABELS),
        "step_labels": _translated(labels.STEP_LABELS),
        "decision_labels": _translated(labels.DECISION_LABELS),
        "unit_labels": _translated(labels.UNIT_LABELS),
        "steps": STEPS,
        "measure_units": MEASURE_UNITS,
    }


def _labelled(
    request: Request, db: Session, template: str, status: int = 200, **ctx: object
) -> Response:
    return page(request, template, status, **lab_context(db), **ctx)


# The list and the lead's form ------------------------------------------------------------------


@router.get("/lab", name="lab")
def lab_home(request: Request, actor: Member, db: DB) -> Response:
    """The challenges the user may see (leads: all, with management links)."""
    rows = challenges.list_challenges(db, actor)
    phases = {c.id: challenges.current_phase(c) for c in rows}
    return _labelled(
        request,
        db,
        "lab/challenges.html",
        rows=rows,
        phases=phases,
        lead=challenges.is_lead(actor),
    )


def _form_page(
    request: Request,
    db: Session,
    actor: User,
    form: ChallengeForm,
    challenge: Challenge | None = None,
    status: int = 200,
    error: str | None = None,
) -> Response:
    coaches = challenges.coaches(db, challenge.id) if challenge else []
    people = list(
        db.scalars(
            select(User)
            .where(User.org_id == actor.org_id, User.active.is_(True))
            .order_by(User.name)
        )
    )
    return _labelled(
        request,
        db,
        "lab/challenge_form.html",
        status,
        form=form,
        challenge=challenge,
        units=list_units(db, actor),
        coaches=coaches,
        people=people,
        error=error,
        date_fields=challenges.DATE_FIELDS,
    )


@router.get("/lab/challenges/new", name="lab_new")
def new_page(request: Request, actor: Lead, db: DB) -> Response:
    """The form of a new challenge."""
    return _form_page(request, db, actor, ChallengeForm())


def challenge_form(
    title: Short = "",
    description: Text = "",
    status: Annotated[str, Form(max_length=20)] = "draft",
    audience: Annotated[str, Form(max_length=20)] = "organisation",
    units: Annotated[list[int], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
    starts_on: Annotated[str, Form(max_length=20)] = "",
    ends_on: Annotated[str, Form(max_length=20)] = "",
    awareness_start: Annotated[str, Form(max_length=20)] = "",
    awareness_end: Annotated[str, Form(max_length=20)] = "",
    exploration_start: Annotated[str, Form(max_length=20)] = "",
    exploration_end: Annotated[str, Form(max_length=20)] = "",
    showcase_start: Annotated[str, Form(max_length=20)] = "",
    showcase_end: Annotated[str, Form(max_length=20)] = "",
    path_required: Annotated[str, Form(max_length=5)] = "",
    team_size_limit: Annotated[str, Form(max_length=10)] = "",
    pass_mark: Annotated[str, Form(max_length=10)] = "80",  # noqa: S107 - a percentage
) -> ChallengeForm:
    """The challenge form as typed (checked by the service)."""
    dates = {
        "starts_on": starts_on,
        "ends_on": ends_on,
        "awareness_start": awareness_start,
        "awareness_end": awareness_end,
        "exploration_start": exploration_start,
        "exploration_end": exploration_end,
        "showcase_start": showcase_start,
        "showcase_end": showcase_end,
    }
    return ChallengeForm(
        title,
        description,
        status,
        audience,
        units,
        dates,
        bool(path_required),
        team_size_limit,
        pass_mark,
    )


Typed = Annotated[ChallengeForm, Depends(challenge_form)]


@router.post("/lab/challenges", dependencies=Csrf)
def create_page(
    request: Request,
    actor: Lead,
    db: DB,
    form: Typed,
    default_path: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Create the challenge (with the default learning path when asked)."""
    try:
        challenge = challenges.create_challenge(db, actor, form)
    except UserError as exc:
        if exc.status == 404:
            raise
        status, message = failed(db, exc)
        return _form_page(request, db, actor, form, None, status, message)
    if default_path:
        learning.load_default(db, actor, challenge.id)
    return done(request, f"/lab/challenges/{challenge.id}", gettext("Challenge created."))


@router.get("/lab/challenges/{challenge_id}/edit", name="lab_edit")
def edit_page(request: Request, actor: Lead, db: DB, challenge_id: int) -> Response:
    """The form of an existing challenge, and its coaches."""
    challenge = challenges.managed(db, actor, challenge_id)
    return _form_page(request, db, actor, challenges.form_of(db, challenge), challenge)


@router.post("/lab/challenges/{challenge_id}", dependencies=Csrf)
def update_page(request: Request, actor: Lead, db: DB, challenge_id: int, form: Typed) -> Response:
    """Save the challenge's settings."""
    try:
        challenges.update_challenge(db, actor, challenge_id, form)
    except UserError as exc:
        if exc.status == 404:
            raise
        status, message = failed(db, exc)
        challenge = challenges.managed(db, actor, challenge_id)
        return _form_page(request, db, actor, form, challenge, status, message)
    return done(request, f"/lab/challenges/{challenge_id}", gettext("Challenge saved."))


@router.post("/lab/challenges/{challenge_id}/coaches", dependencies=Csrf)
def add_coach(
    request: Request, actor: Lead, db: DB, challenge_id: int, user_id: Annotated[int, Form()]
) -> Response:
    """Name a coach of the challenge."""
    challenges.set_coach(db, actor, challenge_id, user_id, True)
    return done(request, f"/lab/challenges/{challenge_id}/edit", gettext("Coach added."))


@router.post("/lab/challenges/{challenge_id}/coaches/{user_id}/remove", dependencies=Csrf)
def remove_coach(
    request: Request, actor: Lead, db: DB, challenge_id: int, user_id: int
) -> Response:
    """No longer a coach of the challenge."""
    challenges.set_coach(db, actor, challenge_id, user_id, False)
    return done(request, f"/lab/challenges/{challenge_id}/edit", gettext("Coach removed."))


# The challenge page, registration and teams ----------------------------------------------------


def _challenge_page(
    request: Request,
    db: Session,
    actor: User,
    challenge_id: int,
    status: int = 200,
    error: str | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    challenge = challenges.challenge_for(db, actor, challenge_id)
    mine = challenges.team_of(db, actor, challenge.id)
    return _labelled(
        request,
        db,
        "lab/challenge.html",
        status,
        challenge=challenge,
        error=error,
        typed=typed or {},
        timeline=challenges.timeline(challenge),
        phase=challenges.current_phase(challenge),
        teams=challenges.teams(db, challenge.id),
        my_team=mine,
        registered=challenges.is_participant(db, actor, challenge.id),
        eligible=challenges.eligible(db, actor, challenge),
        unit_names=challenges.unit_names(db, challenge.id),
        lead=challenges.is_lead(actor),
        coach=challenges.is_coach(db, actor, challenge.id),
        passed=learning.has_passed(db, actor, challenge.id),
        gated=learning.gated(db, actor, challenge),
        participants=challenges.participant_count(db, challenge.id),
        experiment_count=experiments.experiment_count(db, challenge.id),
        page_count=len(learning.pages(db, challenge.id)),
        question_count=len(learning.questions(db, challenge.id)),
    )


@router.get("/lab/challenges/{challenge_id}", name="lab_challenge")
def challenge_page(request: Request, actor: Member, db: DB, challenge_id: int) -> Response:
    """A challenge: its timeline, its teams, and how to take part."""
    return _challenge_page(request, db, actor, challenge_id)


def _or_challenge_page(
    request: Request,
    db: Session,
    actor: User,
    challenge_id: int,
    exc: UserError,
    typed: dict[str, str] | None = None,
) -> Response:
    if exc.status == 404:
        raise exc
    status, message = failed(db, exc)
    return _challenge_page(request, db, actor, challenge_id, status, message, typed)


@router.post("/lab/challenges/{challenge_id}/register", dependencies=Csrf)
def register_page(request: Request, actor: Member, db: DB, challenge_id: int) -> Response:
    """Register to the challenge."""
    try:
        challenges.register(db, actor, challenge_id)
    except UserError as exc:
        return _or_challenge_page(request, db, actor, challenge_id, exc)
    return done(request, f"/lab/challenges/{challenge_id}", gettext("You are registered."))


@router.post("/lab/challenges/{challenge_id}/leave", dependencies=Csrf)
def unregister_page(request: Request, actor: Member, db: DB, challenge_id: int) -> Response:
    """Leave the challenge and its team."""
    try:
        challenges.unregister(db, actor, challenge_id)
    except UserError as exc:
        return _or_challenge_page(request, db, actor, challenge_id, exc)
    return done(request, f"/lab/challenges/{challenge_id}", gettext("You left the challenge."))


@router.post("/lab/challenges/{challenge_id}/teams", dependencies=Csrf)
def create_team_page(
    request: Request,
    actor: Member,
    db: DB,
    challenge_id: int,
    name: Short = "",
    description: Text = "",
) -> Response:
    """Create a team in the challenge, with oneself in it."""
    try:
        team = challenges.create_team(db, actor, challenge_id, name, description)
    except UserError as exc:
        typed = {"team_name": name, "team_description": description}
        return _or_challenge_page(request, db, actor, challenge_id, exc, typed)
    return done(request, f"/lab/teams/{team.id}", gettext("Team created."))


@router.post("/lab/teams/{lab_team_id}/join", dependencies=Csrf)
def join_page(request: Request, actor: Member, db: DB, lab_team_id: int) -> Response:
    """Join an existing team."""
    team = challenges.lab_team(db, actor, lab_team_id)
    try:
        challenges.join_team(db, actor, lab_team_id)
    except UserError as exc:
        return _or_challenge_page(request, db, actor, team.challenge_id, exc)
    return done(request, f"/lab/challenges/{team.challenge_id}", gettext("You joined the team."))


@router.post("/lab/teams/{lab_team_id}/leave", dependencies=Csrf)
def leave_page(request: Request, actor: Member, db: DB, lab_team_id: int) -> Response:
    """Leave one's team (one stays registered to the challenge)."""
    team = challenges.lab_team(db, actor, lab_team_id)
    try:
        challenges.leave_team(db, actor, lab_team_id)
    except UserError as exc:
        return _or_challenge_page(request, db, actor, team.challenge_id, exc)
    return done(request, f"/lab/challenges/{team.challenge_id}", gettext("You left the team."))


# The learning path -----------------------------------------------------------------------------


@router.get("/lab/challenges/{challenge_id}/learning", name="lab_learning")
def learning_page(request: Request, actor: Member, db: DB, challenge_id: int) -> Response:
    """The path's pages, then the quiz."""
    challenge = challenges.challenge_for(db, actor, challenge_id)
    return _labelled(
        request,
        db,
        "lab/learning.html",
        challenge=challenge,
        pages=learning.pages(db, challenge.id),
        attempts=learning.attempts(db, actor, challenge.id),
        question_count=len(learning.questions(db, challenge.id)),
        passed=learning.has_passed(db, actor, challenge.id),
        lead=challenges.is_lead(actor),
        percent=learning.percent,
    )


def _edit_path_page(
    request: Request,
    db: Session,
    actor: User,
    challenge_id: int,
    status: int = 200,
    error: str | None = None,
    typed: dict[str, object] | None = None,
) -> Response:
    challenge = challenges.managed(db, actor, challenge_id)
    return _labelled(
        request,
        db,
        "lab/learning_edit.html",
        status,
        challenge=challenge,
        error=error,
        pages=learning.pages(db, challenge.id),
        questions=learning.questions(db, challenge.id),
        typed=typed or {},
        max_choices=learning.MAX_CHOICES,
    )


@router.get("/lab/challenges/{challenge_id}/learning/edit", name="lab_learning_edit")
def edit_path(request: Request, actor: Lead, db: DB, challenge_id: int) -> Response:
    """The lead's page to write the path and the quiz."""
    return _edit_path_page(request, db, actor, challenge_id)


def _path_failed(
    request: Request,
    db: Session,
    actor: User,
    challenge_id: int,
    exc: UserError,
    typed: dict[str, object],
) -> Response:
    if exc.status == 404:
        raise exc
    status, message = failed(db, exc)
    return _edit_path_page(request, db, actor, challenge_id, status, message, typed)


@router.post("/lab/challenges/{challenge_id}/learning/pages", dependencies=Csrf)
def add_page(
    request: Request, actor: Lead, db: DB, challenge_id: int, title: Short = "", body: Text = ""
) -> Response:
    """Add a page to the path."""
    try:
        learning.add_page(db, actor, challenge_id, title, body)
    except UserError as exc:
        typed: dict[str, object] = {"page_title": title, "page_body": body}
        return _path_failed(request, db, actor, challenge_id, exc, typed)
    return done(request, f"/lab/challenges/{challenge_id}/learning/edit", gettext("Page added."))


@router.post("/lab/challenges/{challenge_id}/learning/default", dependencies=Csrf)
def load_default(request: Request, actor: Lead, db: DB, challenge_id: int) -> Response:
    """Replace the path and quiz by the default ones."""
    learning.load_default(db, actor, challenge_id)
    notice = gettext("The default learning path and quiz were loaded.")
    return done(request, f"/lab/challenges/{challenge_id}/learning/edit", notice)


@router.post("/lab/learning/pages/{page_id}", dependencies=Csrf)
def update_page_route(
    request: Request, actor: Lead, db: DB, page_id: int, title: Short = "", body: Text = ""
) -> Response:
    """Save a page of the path."""
    page_row = learning.update_page(db, actor, page_id, title, body)
    target = f"/lab/challenges/{page_row.challenge_id}/learning/edit"
    return done(request, target, gettext("Page saved."))


@router.post("/lab/learning/pages/{page_id}/delete", dependencies=Csrf)
def delete_page(request: Request, actor: Lead, db: DB, page_id: int) -> Response:
    """Remove a page of the path."""
    challenge_id = learning.delete_page(db, actor, page_id)
    return done(request, f"/lab/challenges/{challenge_id}/learning/edit", gettext("Page deleted."))


@router.post("/lab/challenges/{challenge_id}/quiz/questions", dependencies=Csrf)
def add_question(
    request: Request,
    actor: Lead,
    db: DB,
    challenge_id: int,
    text: Short = "",
    choices: Annotated[list[str], Form(max_length=400)] = [],  # noqa: B006 - copied by FastAPI
    correct: Annotated[list[int], Form()] = [],  # noqa: B006 - copied by FastAPI
    explanation: Text = "",
) -> Response:
    """Add a question to the quiz."""
    try:
        learning.add_question(db, actor, challenge_id, text, choices, correct, explanation)
    except UserError as exc:
        typed: dict[str, object] = {
            "text": text,
            "choices": choices,
            "correct": correct,
            "explanation": explanation,
        }
        return _path_failed(request, db, actor, challenge_id, exc, typed)
    target = f"/lab/challenges/{challenge_id}/learning/edit"
    return done(request, target, gettext("Question added."))


@router.post("/lab/quiz/questions/{question_id}/delete", dependencies=Csrf)
def delete_question(request: Request, actor: Lead, db: DB, question_id: int) -> Response:
    """Remove a question of the quiz."""
    challenge_id = learning.delete_question(db, actor, question_id)
    target = f"/lab/challenges/{challenge_id}/learning/edit"
    return done(request, target, gettext("Question deleted."))


@router.get("/lab/challenges/{challenge_id}/quiz", name="lab_quiz")
def quiz_page(request: Request, actor: Member, db: DB, challenge_id: int) -> Response:
    """The quiz to take."""
    challenge = challenges.challenge_for(db, actor, challenge_id)
    return _labelled(
        request,
        db,
        "lab/learning_quiz.html",
        challenge=challenge,
        questions=learning.questions(db, challenge.id),
        result=None,
    )


async def quiz_answers(request: Request) -> dict[int, list[int]]:
    """The ticked choices: fields `q<question id>` holding choice indexes."""
    form = await request.form()
    answers: dict[int, list[int]] = {}
    for key, value in form.multi_items():
        ticked = isinstance(value, str) and value.isdigit()
        if ticked and key.startswith("q") and key[1:].isdigit():
            assert isinstance(value, str)
            answers.setdefault(int(key[1:]), []).append(int(value))
    return answers


@router.post("/lab/challenges/{challenge_id}/quiz", dependencies=Csrf)
def submit_quiz(
    request: Request,
    actor: Member,
    db: DB,
    challenge_id: int,
    answers: Annotated[dict[int, list[int]], Depends(quiz_answers)],
) -> Response:
    """Score the quiz and show the correct answers with their explanations."""
    result = learning.submit(db, actor, challenge_id, answers)
    challenge = challenges.challenge_for(db, actor, challenge_id)
    return _labelled(
        request,
        db,
        "lab/learning_quiz.html",
        challenge=challenge,
        questions=learning.questions(db, challenge.id),
        result=result,
    )
