"""Pages of the Lab's experiments: the team space, the five steps, the board and the showcase."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.errors import UserError, error_message
from civique.i18n import gettext
from civique.lab import challenges, evidence, experiments, showcase
from civique.lab.challenges_routes import Csrf, Member, Short, Text, lab_context
from civique.orgs.pages import done, failed, optional_id, page
from civique.web.deps import DB, AppSettings

router = APIRouter()
Field = Annotated[str, Form(max_length=experiments.TEXT_LIMIT)]
Number = Annotated[str, Form(max_length=40)]


# What the feedback summary's template (lab/evidence_feedback.html) calls.
FEEDBACK_HELPERS = {
    "feedback_lines": evidence.figures,
    "feedback_label": evidence.label_of,
    "feedback_value": showcase.feedback_value,
    "hidden_reason": showcase.hidden_reason,
}


def _render(
    request: Request, db: Session, template: str, status: int = 200, **ctx: object
) -> Response:
    return page(request, template, status, **lab_context(db), **FEEDBACK_HELPERS, **ctx)


def _minimum(request: Request) -> int:
    return int(request.app.state.settings.lab_min_group_size)


def _gate_page(request: Request, db: Session, exc: UserError) -> Response:
    """The learning path's gate, with a link to the path (instead of a bare error page)."""
    return _render(
        request,
        db,
        "lab/learning_gate.html",
        403,
        message=error_message(exc),
        path_url=exc.params.get("url", "/lab"),
    )


# The team space --------------------------------------------------------------------------------


@router.get("/lab/teams/{lab_team_id}", name="lab_team")
def team_page(request: Request, actor: Member, db: DB, lab_team_id: int) -> Response:
    """A team's space: members, team collections, experiments (gated by the path if asked)."""
    try:
        team, challenge = experiments.team_space(db, actor, lab_team_id)
    except UserError as exc:
        if exc.code != "lab_path_required":
            raise
        return _gate_page(request, db, exc)
    rows = experiments.team_experiments(db, team)
    return _render(
        request,
        db,
        "lab/experiment_team.html",
        team=team,
        challenge=challenge,
        name=challenges.team_name(db, team),
        members=challenges.members(db, team),
        member=challenges.is_member(db, actor, team),
        collections=experiments.team_collections(db, team),
        rows=rows,
        step_of={e.id: experiments.current_step(db, e) for e in rows},
        closed=challenge.status == "closed",
    )


@router.post("/lab/teams/{lab_team_id}/experiments", dependencies=Csrf)
def create_experiment(
    request: Request, actor: Member, db: DB, lab_team_id: int, title: Short = ""
) -> Response:
    """Start an experiment."""
    experiment = experiments.create(db, actor, lab_team_id, title)
    return done(request, f"/lab/experiments/{experiment.id}", gettext("Experiment created."))


# One experiment --------------------------------------------------------------------------------


def _experiment_page(
    request: Request,
    db: Session,
    actor: User,
    experiment_id: int,
    status: int = 200,
    error: str | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    try:
        allowed = experiments.access(db, actor, experiment_id)
    except UserError as exc:
        if exc.code != "lab_path_required":
            raise
        return _gate_page(request, db, exc)
    e = allowed.experiment
    return _render(
        request,
        db,
        "lab/experiment.html",
        status,
        access=allowed,
        experiment=e,
        challenge=allowed.challenge,
        team_name=challenges.team_name(db, allowed.team),
        step=experiments.current_step(db, e),
        outputs=experiments.linked_outputs(db, e),
        pickable=experiments.pickable_outputs(db, actor) if allowed.can_edit else [],
        measurements=experiments.measurements(db, e.id),
        summary=evidence.summary(db, e, _minimum(request)),
        change=experiments.change,
        number=showcase.number,
        comments=experiments.comments(db, e.id),
        error=error,
        typed=typed or {},
        closed_reason=challenges.read_only_reason(allowed.challenge),
        closed_on=(
            allowed.challenge.closed_at.date().isoformat() if allowed.challenge.closed_at else ""
        ),
    )


@router.get("/lab/experiments/{experiment_id}", name="lab_experiment")
def experiment_page(request: Request, actor: Member, db: DB, experiment_id: int) -> Response:
    """An experiment through its five steps, with the coaches' comments."""
    return _experiment_page(request, db, actor, experiment_id)


def _or_page(
    request: Request,
    db: Session,
    actor: User,
    experiment_id: int,
    exc: UserError,
    typed: dict[str, str] | None = None,
) -> Response:
    if exc.status in (403, 404) and exc.code in ("forbidden", "not_found"):
        raise exc
    status, message = failed(db, exc)
    return _experiment_page(request, db, actor, experiment_id, status, message, typed)


def _back(request: Request, experiment_id: int, anchor: str, notice: str) -> Response:
    return done(request, f"/lab/experiments/{experiment_id}#{anchor}", notice)


@router.post("/lab/experiments/{experiment_id}/step", dependencies=Csrf)
def save_step(
    request: Request,
    actor: Member,
    db: DB,
    experiment_id: int,
    step: Annotated[str, Form(max_length=20)] = "",
    irritant: Field = "",
    sufferers: Field = "",
    expected_gain: Field = "",
    metric: Field = "",
    protocol: Field = "",
    tools_prompts: Field = "",
    learnings: Field = "",
    decision: Annotated[str, Form(max_length=20)] = "",
    rationale: Field = "",
) -> Response:
    """Save one step's texts."""
    values = {
        "irritant": irritant,
        "sufferers": sufferers,
        "expected_gain": expected_gain,
        "metric": metric,
        "protocol": protocol,
        "tools_prompts": tools_prompts,
        "learnings": learnings,
        "decision": decision,
        "rationale": rationale,
    }
    try:
        experiments.save_step(db, actor, experiment_id, step, values)
    except UserError as exc:
        return _or_page(request, db, actor, experiment_id, exc, values)
    return _back(request, experiment_id, f"step-{step}", gettext("Step saved."))


@router.post("/lab/experiments/{experiment_id}/status", dependencies=Csrf)
def set_status(
    request: Request,
    actor: Member,
    db: DB,
    experiment_id: int,
    status: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Change the experiment's status."""
    try:
        experiments.set_status(db, actor, experiment_id, status)
    except UserError as exc:
        return _or_page(request, db, actor, experiment_id, exc)
    return _back(request, experiment_id, "status", gettext("Status saved."))


@router.post("/lab/experiments/{experiment_id}/outputs", dependencies=Csrf)
def link_output(
    request: Request,
    actor: Member,
    db: DB,
    experiment_id: int,
    output_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Link an output of the register to the tests."""
    try:
        chosen = optional_id(output_id.lstrip("#"))
        if chosen is None:
            raise UserError("lab_output_required", 400)
        experiments.link_output(db, actor, experiment_id, chosen)
    except UserError as exc:
        if exc.code == "not_found" and experiments.access(db, actor, experiment_id).can_edit:
            exc = UserError("lab_output_unknown", 404)  # the output, not the experiment
        return _or_page(request, db, actor, experiment_id, exc, {"output_id": output_id})
    return _back(request, experiment_id, "step-tests", gettext("Output linked."))


@router.post("/lab/experiments/{experiment_id}/outputs/{output_id}/remove", dependencies=Csrf)
def unlink_output(
    request: Request, actor: Member, db: DB, experiment_id: int, output_id: int
) -> Response:
    """Remove a linked output."""
    try:
        experiments.unlink_output(db, actor, experiment_id, output_id)
    except UserError as exc:
        return _or_page(request, db, actor, experiment_id, exc)
    return _back(request, experiment_id, "step-tests", gettext("Output removed."))


@router.post("/lab/experiments/{experiment_id}/measurements", dependencies=Csrf)
def add_measurement(
    request: Request,
    actor: Member,
    db: DB,
    experiment_id: int,
    label: Short = "",
    unit: Annotated[str, Form(max_length=20)] = "",
    value: Number = "",
    before: Number = "",
    after: Number = "",
) -> Response:
    """Add a measurement to the evidence."""
    try:
        experiments.add_measurement(db, actor, experiment_id, label, unit, (value, before, after))
    except UserError as exc:
        typed = {"label": label, "unit": unit, "value": value, "before": before, "after": after}
        return _or_page(request, db, actor, experiment_id, exc, typed)
    return _back(request, experiment_id, "step-evidence", gettext("Measurement added."))


@router.post("/lab/measurements/{measurement_id}/delete", dependencies=Csrf)
def delete_measurement(request: Request, actor: Member, db: DB, measurement_id: int) -> Response:
    """Remove a measurement."""
    experiment_id = experiments.delete_measurement(db, actor, measurement_id)
    return _back(request, experiment_id, "step-evidence", gettext("Measurement deleted."))


@router.post("/lab/experiments/{experiment_id}/comments", dependencies=Csrf)
def add_comment(
    request: Request,
    actor: Member,
    db: DB,
    experiment_id: int,
    step: Annotated[str, Form(max_length=20)] = "",
    body: Text = "",
) -> Response:
    """Comment on a step."""
    try:
        experiments.add_comment(db, actor, experiment_id, step, body)
    except UserError as exc:
        return _or_page(request, db, actor, experiment_id, exc, {f"comment_{step}": body})
    return _back(request, experiment_id, f"step-{step}", gettext("Comment added."))


@router.post("/lab/experiments/{experiment_id}/publish", dependencies=Csrf)
def publish(
    request: Request,
    actor: Member,
    db: DB,
    experiment_id: int,
    published: Annotated[str, Form(max_length=5)] = "1",
) -> Response:
    """Publish the result to the showcase, or withdraw it."""
    try:
        showcase.publish(db, actor, experiment_id, published == "1")
    except UserError as exc:
        return _or_page(request, db, actor, experiment_id, exc)
    notice = (
        gettext("Published to the showcase.")
        if published == "1"
        else gettext("Withdrawn from the showcase.")
    )
    return _back(request, experiment_id, "publish", notice)


@router.post("/lab/experiments/{experiment_id}/delete", dependencies=Csrf)
def delete_experiment(request: Request, actor: Member, db: DB, experiment_id: int) -> Response:
    """Delete the experiment."""
    team_id = experiments.delete_experiment(db, actor, experiment_id)
    return done(request, f"/lab/teams/{team_id}", gettext("Experiment deleted."))


# The board -------------------------------------------------------------------------------------


@router.get("/lab/challenges/{challenge_id}/board", name="lab_board")
def board_page(
    request: Request,
    actor: Member,
    db: DB,
    challenge_id: int,
    lab_team_id: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """Every experiment of the challenge by step and status, filterable by team."""
    chosen = optional_id(lab_team_id)
    challenge = challenges.challenge_for(db, actor, challenge_id)
    board = experiments.board(db, actor, challenge.id, chosen)
    return _render(
        request,
        db,
        "lab/board.html",
        challenge=challenge,
        board=board,
        teams=challenges.teams(db, challenge.id),
        chosen=chosen,
    )


# The showcase ----------------------------------------------------------------------------------


@router.get("/lab/showcase", name="lab_showcase")
def showcase_page(request: Request, actor: Member, db: DB) -> Response:
    """Every published result of the organisation."""
    return _render(
        request,
        db,
        "lab/showcase.html",
        results=showcase.results(db, actor, minimum=_minimum(request)),
        challenge=None,
    )


@router.get("/lab/challenges/{challenge_id}/showcase", name="lab_challenge_showcase")
def challenge_showcase(request: Request, actor: Member, db: DB, challenge_id: int) -> Response:
    """The published results of one challenge."""
    challenge = challenges.challenge_for(db, actor, challenge_id)
    return _render(
        request,
        db,
        "lab/showcase.html",
        results=showcase.results(db, actor, challenge.id, _minimum(request)),
        challenge=challenge,
    )


def _download(data: bytes, media_type: str, name: str) -> Response:
    return Response(
        data,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/lab/challenges/{challenge_id}/showcase.csv", name="lab_showcase_csv")
def showcase_csv(actor: Member, db: DB, settings: AppSettings, challenge_id: int) -> Response:
    """The open-data CSV of the challenge's published results."""
    data, name = showcase.open_data_csv(db, actor, challenge_id, settings.lab_min_group_size)
    return _download(data, "text/csv; charset=utf-8", name)


@router.get("/lab/showcase/{experiment_id}", name="lab_result")
def result_page(request: Request, actor: Member, db: DB, experiment_id: int) -> Response:
    """A published result on one page."""
    found = showcase.result(db, actor, experiment_id, _minimum(request))
    return _render(
        request,
        db,
        "lab/showcase_result.html",
        found=found,
        number=showcase.number,
        note=showcase.ai_note(found.outputs),
    )


@router.get("/lab/showcase/{experiment_id}/pdf", name="lab_result_pdf")
def result_pdf(actor: Member, db: DB, settings: AppSettings, experiment_id: int) -> Response:
    """The published result as a PDF with the AI-assistance note."""
    data, name = showcase.pdf(db, actor, experiment_id, settings.lab_min_group_size)
    return _download(data, "application/pdf", name)
