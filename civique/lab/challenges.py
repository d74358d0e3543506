"""Challenges: the lead's settings and phases, who may see and join them, teams and coaches.

Every function stays in the caller's organisation (another organisation's challenge is not
found). A challenge team is a real org team, so its members share the team's collections.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.auth.roles import can
from civique.errors import Forbidden, NotFound, UserError
from civique.lab.models import (
    AUDIENCES,
    CHALLENGE_STATUSES,
    PHASES,
    Challenge,
    ChallengeCoach,
    ChallengeUnit,
    LabTeam,
    Participant,
)
from civique.orgs.models import Team, TeamMember, Unit
from civique.orgs.service import org_unit, org_user
from civique.textcheck import clean_text

TITLE_LIMIT = 200
DESCRIPTION_LIMIT = 5000
TEAM_SIZE_MAX = 100


@dataclass
class ChallengeForm:
    """What the lead types into the challenge form (dates as ISO text, as sent)."""

    title: str = ""
    description: str = ""
    status: str = "draft"
    audience: str = "organisation"
    unit_ids: list[int] = field(default_factory=list)
    dates: dict[str, str] = field(default_factory=dict)  # starts_on, ends_on, <phase>_start/_end
    path_required: bool = False
    team_size_limit: str = ""
    pass_mark: str = "80"


DATE_FIELDS = (
    "starts_on",
    "ends_on",
    *(f"{phase}_{edge}" for phase in PHASES for edge in ("start", "end")),
)


def is_lead(user: User) -> bool:
    """Innovation leads and administrators manage every challenge of their organisation."""
    return can(user.role, "lab.lead")


def _require_lead(user: User) -> None:
    if not is_lead(user):
        raise Forbidden()


def today() -> date:
    """The current date (UTC), for the timeline."""
    return datetime.now(UTC).date()


# Reading ---------------------------------------------------------------------------------------


def challenge_for(session: Session, user: User, challenge_id: int) -> Challenge:
    """A challenge of the user's organisation; a draft only for leads and its coaches."""
    found = session.get(Challenge, challenge_id)
    if found is None or found.org_id != user.org_id:
        raise NotFound()
    if found.status == "draft" and not (is_lead(user) or is_coach(session, user, found.id)):
        raise NotFound()
    return found


def managed(session: Session, user: User, challenge_id: int) -> Challenge:
    """A challenge the lead may change."""
    _require_lead(user)
    return challenge_for(session, user, challenge_id)


def is_coach(session: Session, user: User, challenge_id: int) -> bool:
    """Whether the lead named `user` coach of the challenge."""
    stmt = select(ChallengeCoach.user_id).where(
        ChallengeCoach.challenge_id == challenge_id, ChallengeCoach.user_id == user.id
    )
    return session.scalar(stmt) is not None


def is_participant(session: Session, user: User, challenge_id: int) -> bool:
    """Whether `user` registered to the challenge."""
    return session.get(Participant, (challenge_id, user.id)) is not None


def unit_ids(session: Session, challenge_id: int) -> list[int]:
    """The units a challenge is open to (when it is not open to the whole organisation)."""
    stmt = select(ChallengeUnit.unit_id).where(ChallengeUnit.challenge_id == challenge_id)
    return list(session.scalars(stmt))


def unit_names(session: Session, challenge_id: int) -> list[str]:
    """The names of the units a challenge is open to."""
    stmt = (
        select(Unit.name)
        .join(ChallengeUnit, ChallengeUnit.unit_id == Unit.id)
        .where(ChallengeUnit.challenge_id == challenge_id)
        .order_by(Unit.name)
    )
    return list(session.scalars(stmt))


def eligible(session: Session, user: User, challenge: Challenge) -> bool:
    """Whether the challenge is open to the user's unit (or to the whole organisation)."""
    if challenge.audience == "organisation":
        return True
    return user.unit_id is not None and user.unit_id in unit_ids(session, challenge.id)


def list_challenges(session: Session, user: User) -> list[Challenge]:
    """Leads: every challenge; others: the open ones they may join and those they are in."""
    stmt = select(Challenge).where(Challenge.org_id == user.org_id)
    rows = list(session.scalars(stmt.order_by(Challenge.starts_on.desc(), Challenge.id.desc())))
    if is_lead(user):
        return rows
    mine = set(
        session.scalars(select(Participant.challenge_id).where(Participant.user_id == user.id))
    )
    coached = set(
        session.scalars(
            select(ChallengeCoach.challenge_id).where(ChallengeCoach.user_id == user.id)
        )
    )
    return [
        c
        for c in rows
        if c.id in mine or c.id in coached or (c.status == "open" and eligible(session, user, c))
    ]


def current_phase(challenge: Challenge, on: date | None = None) -> str | None:
    """The phase whose dates hold `on` (today), or None before, between or after them."""
    on = on or today()
    for phase in PHASES:
        start, end = getattr(challenge, f"{phase}_start"), getattr(challenge, f"{phase}_end")
        if start <= on <= end:
            return phase
    return None


@dataclass(frozen=True)
class PhaseRow:
    """One phase of the timeline."""

    name: str
    start: date
    end: date
    state: str  # past | current | upcoming


def timeline(challenge: Challenge, on: date | None = None) -> list[PhaseRow]:
    """The three phases with their dates and whether each is past, current or upcoming."""
    on = on or today()
    rows = []
    for phase in PHASES:
        start, end = getattr(challenge, f"{phase}_start"), getattr(challenge, f"{phase}_end")
        state = "past" if end < on else "upcoming" if start > on else "current"
        rows.append(PhaseRow(phase, start, end, state))
    return rows


def read_only_reason(challenge: Challenge) -> str | None:
    """Why the challenge's teams and experiments can no longer change (a message code)."""
    return "lab_challenge_closed" if challenge.status == "closed" else None


def check_writable(challenge: Challenge) -> None:
    """Refuse any change once the challenge is closed, saying so."""
    if challenge.status == "closed":
        raise UserError("lab_challenge_closed", 409, date=_closed_on(challenge))


def _closed_on(challenge: Challenge) -> str:
    when = challenge.closed_at or datetime.now(UTC)
    return when.date().isoformat()


# The lead's form -------------------------------------------------------------------------------


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UserError("lab_bad_date", 400) from None


def _bounded_int(value: str, low: int, high: int, code: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or not low <= int(value) <= high:
        raise UserError(code, 400, low=low, high=high)
    return int(value)


def _apply(session: Session, user: User, challenge: Challenge, form: ChallengeForm) -> None:
    """Check the form and copy it onto the challenge (nothing is written on a refusal)."""
    challenge.title = clean_text(form.title, TITLE_LIMIT, allow_empty=True)
    if not challenge.title:
        raise UserError("lab_title_required", 400)
    challenge.description = clean_text(form.description, DESCRIPTION_LIMIT, allow_empty=True)
    if form.status not in CHALLENGE_STATUSES:
        raise UserError("lab_bad_status", 400)
    if form.audience not in AUDIENCES:
        raise UserError("lab_bad_audience", 400)
    dates = {name: _parse_date(form.dates.get(name, "")) for name in DATE_FIELDS}
    _check_dates(dates)
    for name, value in dates.items():
        setattr(challenge, name, value)
    units = [org_unit(session, user, uid).id for uid in dict.fromkeys(form.unit_ids)]
    if form.audience == "units" and not units:
        raise UserError("lab_units_required", 400)
    if challenge.status != "closed" and form.status == "closed":
        challenge.closed_at = datetime.now(UTC)
    elif form.status != "closed":
        challenge.closed_at = None
    challenge.status, challenge.audience = form.status, form.audience
    challenge.path_required = form.path_required
    challenge.team_size_limit = _bounded_int(form.team_size_limit, 1, TEAM_SIZE_MAX, "lab_size")
    challenge.pass_mark = _bounded_int(form.pass_mark, 1, 100, "lab_pass_mark") or 80
    session.flush()
    session.execute(delete(ChallengeUnit).where(ChallengeUnit.challenge_id == challenge.id))
    if form.audience == "units":
        session.add_all(ChallengeUnit(challenge_id=challenge.id, unit_id=u) for u in units)


def _check_dates(dates: dict[str, date]) -> None:
    if dates["starts_on"] > dates["ends_on"]:
        raise UserError("lab_dates_order", 400)
    previous_end = None
    for phase in PHASES:
        start, end = dates[f"{phase}_start"], dates[f"{phase}_end"]
        if start > end or (previous_end is not None and start < previous_end):
            raise UserError("lab_phases_order", 400)
        if start < dates["starts_on"] or end > dates["ends_on"]:
            raise UserError("lab_phases_outside", 400)
        previous_end = end


def create_challenge(session: Session, user: User, form: ChallengeForm) -> Challenge:
    """A new challenge of the lead's organisation."""
    _require_lead(user)
    challenge = Challenge(org_id=user.org_id, created_by=user.id)
    session.add(challenge)
    _apply(session, user, challenge, form)
    session.commit()
    return challenge


def update_challenge(
    session: Session, user: User, challenge_id: int, form: ChallengeForm
) -> Challenge:
    """Change a challenge's settings, phases and audience."""
    challenge = managed(session, user, challenge_id)
    _apply(session, user, challenge, form)
    session.commit()
    return challenge


def form_of(session: Session, challenge: Challenge) -> ChallengeForm:
    """The form filled with a challenge's current settings."""
    return ChallengeForm(
        title=challenge.title,
        description=challenge.description,
        status=challenge.status,
        audience=challenge.audience,
        unit_ids=unit_ids(session, challenge.id),
        dates={name: getattr(challenge, name).isoformat() for name in DATE_FIELDS},
        path_required=challenge.path_required,
        team_size_limit=str(challenge.team_size_limit or ""),
        pass_mark=str(challenge.pass_mark),
    )


# Coaches ---------------------------------------------------------------------------------------


def coaches(session: Session, challenge_id: int) -> list[User]:
    """The challenge's coaches, by name."""
    stmt = (
        select(User)
        .join(ChallengeCoach, ChallengeCoach.user_id == User.id)
        .where(ChallengeCoach.challenge_id == challenge_id)
        .order_by(User.name)
    )
    return list(session.scalars(stmt))


def set_coach(session: Session, user: User, challenge_id: int, coach_id: int, coach: bool) -> None:
    """Name a user of the organisation coach of the challenge, or no longer."""
    challenge = managed(session, user, challenge_id)
    person = org_user(session, user, coach_id)
    row = session.get(ChallengeCoach, (challenge.id, person.id))
    if coach and row is None:
        session.add(ChallengeCoach(challenge_id=challenge.id, user_id=person.id))
    elif not coach and row is not None:
        session.delete(row)
    session.commit()


# Registration and teams ------------------------------------------------------------------------


def _check_joinable(session: Session, user: User, challenge: Challenge) -> None:
    if challenge.status == "closed":
        raise UserError("lab_join_closed", 409)
    if challenge.status != "open":
        raise UserError("lab_join_not_open", 409)
    if not eligible(session, user, challenge):
        raise UserError("lab_join_unit", 403, units=", ".join(unit_names(session, challenge.id)))


def register(session: Session, user: User, challenge_id: int) -> Participant:
    """Register the user to an open challenge their unit may join."""
    challenge = challenge_for(session, user, challenge_id)
    _check_joinable(session, user, challenge)
    row = session.get(Participant, (challenge.id, user.id))
    if row is None:
        row = Participant(challenge_id=challenge.id, user_id=user.id, org_id=user.org_id)
        session.add(row)
        session.commit()
    return row


def unregister(session: Session, user: User, challenge_id: int) -> None:
    """Leave a challenge (and its team)."""
    challenge = challenge_for(session, user, challenge_id)
    check_writable(challenge)
    team = team_of(session, user, challenge.id)
    if team is not None:
        _remove_member(session, team, user)
    row = session.get(Participant, (challenge.id, user.id))
    if row is not None:
        session.delete(row)
    session.commit()


def team_of(session: Session, user: User, challenge_id: int) -> LabTeam | None:
    """The user's team in a challenge, if any (membership is the org team's)."""
    stmt = (
        select(LabTeam)
        .join(TeamMember, TeamMember.team_id == LabTeam.team_id)
        .where(LabTeam.challenge_id == challenge_id, TeamMember.user_id == user.id)
    )
    return session.scalars(stmt).first()


def lab_team(session: Session, user: User, lab_team_id: int) -> LabTeam:
    """A challenge team of the user's organisation whose challenge the user may see."""
    found = session.get(LabTeam, lab_team_id)
    if found is None or found.org_id != user.org_id:
        raise NotFound()
    challenge_for(session, user, found.challenge_id)
    return found


def is_member(session: Session, user: User, team: LabTeam) -> bool:
    """Whether the user belongs to the challenge team."""
    return session.get(TeamMember, (team.team_id, user.id)) is not None


def team_name(session: Session, team: LabTeam) -> str:
    """The name of a challenge team (its org team's)."""
    org_team = session.get(Team, team.team_id)
    return org_team.name if org_team is not None else ""


def create_team(
    session: Session, user: User, challenge_id: int, name: str, description: str
) -> LabTeam:
    """Create a team in the challenge (an org team of the same name) with the user in it."""
    challenge = challenge_for(session, user, challenge_id)
    _check_joinable(session, user, challenge)
    if team_of(session, user, challenge.id) is not None:
        raise UserError("lab_already_in_team", 409)
    name = clean_text(name, TITLE_LIMIT, allow_empty=True)
    if not name:
        raise UserError("name_required", 400)
    taken = select(Team.id).where(Team.org_id == user.org_id, Team.name == name)
    if session.scalar(taken) is not None:
        raise UserError("name_taken", 409)
    org_team = Team(org_id=user.org_id, name=name)
    session.add(org_team)
    session.flush()
    team = LabTeam(
        org_id=user.org_id,
        challenge_id=challenge.id,
        team_id=org_team.id,
        description=clean_text(description, DESCRIPTION_LIMIT, allow_empty=True),
        created_by=user.id,
    )
    session.add(team)
    _add_member(session, challenge, team, user)
    session.commit()
    return team


def _add_member(session: Session, challenge: Challenge, team: LabTeam, user: User) -> None:
    if session.get(Participant, (challenge.id, user.id)) is None:
        session.add(Participant(challenge_id=challenge.id, user_id=user.id, org_id=user.org_id))
    session.add(TeamMember(team_id=team.team_id, user_id=user.id))


def _remove_member(session: Session, team: LabTeam, user: User) -> None:
    session.execute(
        delete(TeamMember).where(TeamMember.team_id == team.team_id, TeamMember.user_id == user.id)
    )


def team_size(session: Session, team: LabTeam) -> int:
    """How many people are in the team."""
    stmt = select(func.count()).select_from(TeamMember).where(TeamMember.team_id == team.team_id)
    return int(session.scalar(stmt) or 0)


def join_team(session: Session, user: User, lab_team_id: int) -> LabTeam:
    """Join an existing team of an open challenge (one team per challenge, size limit)."""
    team = lab_team(session, user, lab_team_id)
    challenge = challenge_for(session, user, team.challenge_id)
    _check_joinable(session, user, challenge)
    current = team_of(session, user, challenge.id)
    if current is not None:
        if current.id == team.id:
            return team
        raise UserError("lab_already_in_team", 409)
    limit = challenge.team_size_limit
    if limit is not None and team_size(session, team) >= limit:
        raise UserError("lab_team_full", 409, limit=limit)
    _add_member(session, challenge, team, user)
    session.commit()
    return team


def leave_team(session: Session, user: User, lab_team_id: int) -> LabTeam:
    """Leave a team (the user stays registered; the team and its experiments stay)."""
    team = lab_team(session, user, lab_team_id)
    if not is_member(session, user, team):
        raise NotFound()  # not one's team: nothing to leave
    check_writable(challenge_for(session, user, team.challenge_id))
    _remove_member(session, team, user)
    session.commit()
    return team


@dataclass(frozen=True)
class TeamRow:
    """A team as the challenge page lists it."""

    id: int
    team_id: int
    name: str
    description: str
    size: int


def teams(session: Session, challenge_id: int) -> list[TeamRow]:
    """The challenge's teams with their size, by name."""
    sizes = (
        select(TeamMember.team_id, func.count().label("n")).group_by(TeamMember.team_id).subquery()
    )
    stmt = (
        select(LabTeam, Team.name, sizes.c.n)
        .join(Team, Team.id == LabTeam.team_id)
        .outerjoin(sizes, sizes.c.team_id == LabTeam.team_id)
        .where(LabTeam.challenge_id == challenge_id)
        .order_by(Team.name)
    )
    return [
        TeamRow(row.id, row.team_id, name, row.description, int(n or 0))
        for row, name, n in session.execute(stmt)
    ]


def members(session: Session, team: LabTeam) -> list[User]:
    """The people of a team, by name."""
    stmt = (
        select(User)
        .join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.team_id == team.team_id)
        .order_by(User.name)
    )
    return list(session.scalars(stmt))


def participant_count(session: Session, challenge_id: int) -> int:
    """How many people registered to the challenge."""
    stmt = (
        select(func.count())
        .select_from(Participant)
        .where(Participant.challenge_id == challenge_id)
    )
    return int(session.scalar(stmt) or 0)
