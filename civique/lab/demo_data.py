"""The demo's past challenge, so that a new instance shows a living Lab.

`seed` adds to the demo organisation a closed challenge ("Défi IA 2026 — Commune d'Exemple")
with its default learning path and quiz attempts, about forty staff accounts that cannot log in
(no password), two dozen teams, forty experiments across the five steps with measurements,
decisions, coach comments and showcase results, irritants with baselines, and twelve weeks of
uses: 3,000 outputs with their model calls and register entries, 2,000 feedback entries.

Everything is labelled demo data: the staff's addresses end in `@demo.exemple.test`, every
call's channel and register entry say `demo`, every text starts with "[Démo]". The random draws
use a fixed seed and dates count back from the day of seeding; a second run finds the challenge
and adds nothing. Rows are written in bulk (a few statements per table).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.governance.register import record_created_many
from civique.lab import demo_texts as texts
from civique.lab.feedback import PROBLEMS
from civique.lab.feedback_models import LabFeedback, LabIrritant
from civique.lab.learning import default_path, passes
from civique.lab.models import (
    Challenge,
    ChallengeCoach,
    Comment,
    Experiment,
    ExperimentOutput,
    LabTeam,
    LearningPage,
    Measurement,
    Participant,
    QuizAttempt,
    QuizQuestion,
)
from civique.llm.models import ModelCall, OutputRecord
from civique.orgs.models import Team, TeamMember, Unit

SEED = 2026
CHANNEL = "demo"
EMAIL_DOMAIN = "demo.exemple.test"
OUTPUTS = 3000
FEEDBACK = 2000
DAYS = 84  # twelve weeks, up to yesterday
# 24 teams, 42 people: three teams of five (their results show the feedback figures), six
# pairs, fifteen people alone (theirs show counts only: fewer raters than the minimum group).
TEAM_SIZES = (5, 5, 5, 2, 2, 2, 2, 2, 2) + (1,) * 15
# Where each of the 40 experiments stands: its furthest step and its status.
PLAN = (
    [("hypotheses", "draft")] * 3
    + [("hypotheses", "in_progress"), ("tests", "draft")]
    + [("tests", "in_progress")] * 5
    + [("evidence", "in_progress")] * 7
    + [("learnings", "in_progress")] * 3
    + [("learnings", "concluded")] * 3
    + [("decision", "in_progress")] * 2
    + [("decision", "concluded")] * 15
)
DECIDED = ["generalise"] * 6 + ["extend"] * 5 + ["stop"] * 3 + ["non_ai"] * 3
TOOLS = {  # tool: (prompt template, weight among the uses outside the team's theme)
    "chat": ("chat.free", 45),
    "plain_language": ("plain_language.falc", 20),
    "letters": ("letters.reply", 15),
    "translation": ("translation.text", 10),
    "deliberation": ("deliberation.check", 10),
}
MODELS = (  # id, version, provider kind, weight
    ("embedded/qwen2.5-1.5b-instruct", "qwen2.5-1.5b-instruct-q4_k_m.gguf", "embedded", 70),
    ("albert/mistral-small", "mistral-small-3.2", "server", 30),
)
PROBLEM_WEIGHTS = {
    "factual_error": 40,
    "wrong_citation": 15,
    "tone": 20,
    "legal": 8,
    "bias": 5,
    "other": 12,
}


@dataclass
class Seeded:
    """What `seed` wrote (for the command's message and the tests)."""

    staff: int = 0
    teams: int = 0
    experiments: int = 0
    outputs: int = 0
    feedback: int = 0
    published: int = 0
    challenge_id: int = 0


@dataclass
class _World:
    """What the steps share while seeding."""

    org_id: int
    today: date
    rng: random.Random
    units: dict[str, Unit] = field(default_factory=dict)
    staff: list[User] = field(default_factory=list)
    tool_of: dict[int, str] = field(default_factory=dict)  # user id → their team's tool
    outputs: list[tuple[int, int, str, datetime]] = field(default_factory=list)  # id, user…
    rated: set[int] = field(default_factory=set)

    def day(self, offset: int) -> date:
        """`offset` days from today (negative: before)."""
        return self.today + timedelta(days=offset)

    def at(self, offset: int, hour: int = 10) -> datetime:
        """An instant on that day, in UTC."""
        return datetime.combine(self.day(offset), time(hour), UTC)


def exists(session: Session, org_id: int) -> bool:
    """Whether the demo challenge was already seeded in the organisation."""
    stmt = select(Challenge.id).where(
        Challenge.org_id == org_id, Challenge.title == texts.CHALLENGE_TITLE
    )
    return session.scalar(stmt) is not None


def seed(
    session: Session,
    org_id: int,
    lead: User,
    coach: User,
    today: date | None = None,
    embedded_watts: float = 30.0,
) -> Seeded | None:
    """Seed the past challenge and its uses once (None when already there); commits."""
    if exists(session, org_id):
        return None
    w = _World(org_id, today or datetime.now(UTC).date(), random.Random(SEED))  # noqa: S311 - synthetic data, reproducible
    _units(session, w)
    _staff(session, w)
    challenge = _challenge(session, w, lead, coach)
    _learning(session, w, challenge)
    teams = _teams(session, w, challenge)
    _uses(session, w, embedded_watts)
    experiments = _experiments(session, w, challenge, teams, [lead, coach])
    _feedback(session, w)
    _irritants(session, w)
    session.commit()
    published = sum(1 for e in experiments if e.published_at is not None)
    return Seeded(
        len(w.staff), len(teams), len(experiments), len(w.outputs), len(w.rated), published,
        challenge.id,
    )  # fmt: skip


# People ----------------------------------------------------------------------------------------


def _units(session: Session, w: _World) -> None:
    found = session.scalars(select(Unit).where(Unit.org_id == w.org_id))
    w.units = {u.name: u for u in found}
    for name in texts.UNITS:
        if name not in w.units:
            w.units[name] = Unit(org_id=w.org_id, name=name)
            session.add(w.units[name])
    session.flush()


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return plain.lower().replace(" ", "-").replace("'", "")


def _staff(session: Session, w: _World) -> None:
    """Staff accounts without a password (they cannot log in), spread over the units."""
    units = [w.units[name] for name in texts.UNITS]
    wanted = []
    for i in range(sum(TEAM_SIZES)):
        first, last = texts.FIRST_NAMES[i], texts.LAST_NAMES[(i * 7) % len(texts.LAST_NAMES)]
        email = f"{_ascii(first)}.{_ascii(last)}@{EMAIL_DOMAIN}"
        wanted.append((email, f"{first} {last}", units[w.rng.randrange(len(units))]))
    emails = [email for email, _, _ in wanted]
    known = {u.email: u for u in session.scalars(select(User).where(User.email.in_(emails)))}
    for email, name, unit in wanted:
        user = known.get(email)
        if user is None:
            user = User(
                org_id=w.org_id, email=email, name=name, role="agent", unit_id=unit.id,
                password_hash=None,
            )  # fmt: skip
            session.add(user)
        w.staff.append(user)
    session.flush()


# The challenge, its path and teams -------------------------------------------------------------


def _challenge(session: Session, w: _World, lead: User, coach: User) -> Challenge:
    """Closed a week ago: awareness two weeks, exploration seven, showcase one."""
    challenge = Challenge(
        org_id=w.org_id,
        title=texts.CHALLENGE_TITLE,
        description=texts.CHALLENGE_DESCRIPTION,
        status="closed",
        audience="organisation",
        starts_on=w.day(-77),
        ends_on=w.day(-8),
        awareness_start=w.day(-77),
        awareness_end=w.day(-64),
        exploration_start=w.day(-63),
        exploration_end=w.day(-15),
        showcase_start=w.day(-14),
        showcase_end=w.day(-8),
        path_required=True,
        created_by=lead.id,
        closed_at=w.at(-7, 17),
        created_at=w.at(-90),
    )
    session.add(challenge)
    session.flush()
    session.add(ChallengeCoach(challenge_id=challenge.id, user_id=coach.id))
    return challenge


def _learning(session: Session, w: _World, challenge: Challenge) -> None:
    """The packaged path and quiz; each person passes, some at the second attempt."""
    data = default_path()
    session.execute(
        insert(LearningPage),
        [
            {"org_id": w.org_id, "challenge_id": challenge.id, "position": i, "title": p["title"],
             "body": p["body"]}
            for i, p in enumerate(data["pages"], start=1)
        ],
    )  # fmt: skip
    questions = []
    for i, q in enumerate(data["questions"], start=1):
        question = QuizQuestion(
            org_id=w.org_id, challenge_id=challenge.id, position=i, text=q["text"],
            choices=q["choices"], correct=q["correct"], explanation=q["explanation"],
        )  # fmt: skip
        session.add(question)
        questions.append(question)
    session.flush()
    attempts = []
    for user in w.staff:
        wrong = [w.rng.choice([0, 0, 0, 1, 2, 3])]
        if wrong[0] >= 2:
            wrong.append(w.rng.choice([0, 1]))  # failed first, then passed (or nearly)
        for k, misses in enumerate(wrong):
            attempts.append(_attempt(w, challenge, questions, user, misses, -75 + k * 3))
    session.execute(insert(QuizAttempt), attempts)


def _attempt(
    w: _World, challenge: Challenge, qs: list[QuizQuestion], user: User, misses: int, day: int
) -> dict[str, Any]:
    missed = set(w.rng.sample(range(len(qs)), misses))
    answers = {
        str(q.id): ([] if i in missed else sorted(q.correct)) for i, q in enumerate(qs)
    }
    right = len(qs) - misses
    return {
        "org_id": w.org_id, "challenge_id": challenge.id, "user_id": user.id, "answers": answers,
        "right": right, "total": len(qs), "passed": passes(right, len(qs), challenge.pass_mark),
        "created_at": w.at(day + w.rng.randrange(3), 9 + w.rng.randrange(8)),
    }  # fmt: skip


def _teams(
    session: Session, w: _World, challenge: Challenge
) -> list[tuple[LabTeam, list[User], int]]:
    """Teams of the sizes planned, each on a theme (its index in THEMES)."""
    people = list(w.staff)
    w.rng.shuffle(people)
    found = []
    for i, size in enumerate(TEAM_SIZES):
        members, people = people[:size], people[size:]
        theme = i % len(texts.THEMES)
        name = texts.THEMES[theme][0] + texts.TEAM_SUFFIXES[i // len(texts.THEMES)]
        org_team = Team(org_id=w.org_id, name=name, unit_id=members[0].unit_id)
        session.add(org_team)
        session.flush()
        team = LabTeam(
            org_id=w.org_id, challenge_id=challenge.id, team_id=org_team.id,
            description=texts.THEMES[theme][1], created_by=members[0].id,
            created_at=w.at(-66 + i % 5),
        )  # fmt: skip
        session.add(team)
        for user in members:
            session.add(TeamMember(team_id=org_team.id, user_id=user.id))
            session.add(
                Participant(challenge_id=challenge.id, user_id=user.id, org_id=w.org_id,
                            created_at=w.at(-76 + w.rng.randrange(10)))
            )  # fmt: skip
            w.tool_of[user.id] = texts.THEMES[theme][3]
        found.append((team, members, theme))
    session.flush()
    return found


# Uses: model calls, outputs and their register entries ----------------------------------------


def _day_weights(w: _World) -> list[float]:
    """More use during the challenge, little at weekends."""
    weights = []
    for offset in range(-DAYS, 0):
        day = w.day(offset)
        weight = 1.0 if offset < -77 else 3.0 if offset <= -15 else 2.0 if offset <= -8 else 1.6
        weights.append(weight * (0.12 if day.weekday() >= 5 else 1.0))
    return weights


def _uses(session: Session, w: _World, embedded_watts: float) -> None:
    """OUTPUTS outputs with their calls, written in bulk, then their register entries."""
    days = list(range(-DAYS, 0))
    day_weights = _day_weights(w)
    activity = [w.rng.lognormvariate(0, 0.8) for _ in w.staff]
    drawn = []
    for _ in range(OUTPUTS):
        user = w.rng.choices(w.staff, activity)[0]
        offset = w.rng.choices(days, day_weights)[0]
        at = w.at(offset, 8 + w.rng.randrange(10)) + timedelta(minutes=w.rng.randrange(60))
        tool = w.tool_of.get(user.id, "chat")
        if w.rng.random() > 0.55:
            tool = w.rng.choices(list(TOOLS), [t[1] for t in TOOLS.values()])[0]
        model = w.rng.choices(MODELS, [m[3] for m in MODELS])[0]
        drawn.append((user, tool, model, at))
    drawn.sort(key=lambda row: row[3])
    calls = [_call_row(w, user, tool, model, at, embedded_watts) for user, tool, model, at in drawn]
    call_ids = list(
        session.scalars(insert(ModelCall).returning(ModelCall.id, sort_by_parameter_order=True),
                        calls)
    )  # fmt: skip
    rows = [
        _output_row(w, i, user, tool, model, at, call_id)
        for i, ((user, tool, model, at), call_id) in enumerate(zip(drawn, call_ids, strict=True))
    ]
    ids = list(
        session.scalars(
            insert(OutputRecord).returning(OutputRecord.id, sort_by_parameter_order=True), rows
        )
    )
    records = [OutputRecord(id=output_id, **row) for row, output_id in zip(rows, ids, strict=True)]
    # Through the register service: `civique audit verify` checks every output has its entry.
    record_created_many(session, records, CHANNEL, "internal")
    w.outputs = [(r.id, r.user_id or 0, r.tool, r.created_at) for r in records]


def _call_row(
    w: _World, user: User, tool: str, model: tuple[str, str, str, int], at: datetime,
    watts: float,
) -> dict[str, Any]:  # fmt: skip
    tokens_in, tokens_out = w.rng.randint(150, 1800), w.rng.randint(80, 700)
    latency = int(tokens_in / 90 * 1000 + tokens_out / 32 * 1000)
    if model[2] == "embedded":
        energy = watts * latency / 3_600_000
    else:
        latency //= 6
        energy = 0.3 * (tokens_in + tokens_out) / 1000
    return {
        "org_id": w.org_id, "user_id": user.id, "tool": tool, "kind": "chat",
        "model_id": model[0], "channel": CHANNEL, "status": "ok", "tokens_in": tokens_in,
        "tokens_out": tokens_out, "latency_ms": latency, "first_token_ms": latency // 8,
        "energy_wh": round(energy, 4), "created_at": at,
    }  # fmt: skip


def _output_row(
    w: _World, i: int, user: User, tool: str, model: tuple[str, str, str, int], at: datetime,
    call_id: int,
) -> dict[str, Any]:  # fmt: skip
    prompt = texts.PROMPTS[tool]
    return {
        "org_id": w.org_id, "user_id": user.id, "call_id": call_id, "tool": tool,
        "model_id": model[0], "model_version": model[1], "prompt_template": TOOLS[tool][0],
        "prompt_template_version": "1",
        "input": [{"role": "user", "content": f"[Démo] {prompt}"}],
        "output": f"[Démo] Production synthétique n° {i + 1} ({tool}) : texte de démonstration, "
        "aucune donnée réelle.",
        "status": "ok", "unit_id": user.unit_id, "created_at": at,
    }  # fmt: skip


# Experiments -----------------------------------------------------------------------------------


def _experiments(
    session: Session,
    w: _World,
    challenge: Challenge,
    teams: list[tuple[LabTeam, list[User], int]],
    coaches: list[User],
) -> list[Experiment]:
    """PLAN's experiments: one per team, then a second for the first teams (big ones first)."""
    order = [*teams, *teams[: len(PLAN) - len(teams)]]
    plan = list(PLAN)
    w.rng.shuffle(plan)
    for i in range(3):  # the three big teams concluded: their results show the feedback
        j = plan.index(("decision", "concluded"), i)
        plan[i], plan[j] = plan[j], plan[i]
    decided = list(DECIDED)
    found = []
    for k, ((team, members, theme), (step, status)) in enumerate(zip(order, plan, strict=False)):
        experiment = _experiment(w, challenge, team, members[0], theme, k, step, status)
        if step == "decision":
            experiment.decision = decided.pop()
            experiment.rationale = texts.RATIONALES[experiment.decision]
        session.add(experiment)
        session.flush()
        _fill(session, w, experiment, members, step, coaches)
        found.append(experiment)
    _publish(w, challenge, found, teams)
    return found


def _experiment(
    w: _World, challenge: Challenge, team: LabTeam, author: User, theme: int, k: int,
    step: str, status: str,
) -> Experiment:  # fmt: skip
    title, irritant, sufferers, tool = texts.THEMES[theme]
    reached = ("hypotheses", "tests", "evidence", "learnings", "decision").index(step)
    return Experiment(
        org_id=w.org_id,
        challenge_id=challenge.id,
        lab_team_id=team.id,
        title=f"{title} : essai {1 + k // len(TEAM_SIZES)}",
        status=status,
        irritant=irritant,
        sufferers=sufferers,
        expected_gain="Diviser par deux le temps passé, sans plus d'erreurs.",
        metric="Minutes par dossier, dossiers à reprendre",
        protocol=texts.PROTOCOL if reached >= 1 else "",
        tools_prompts=texts.TOOLS_PROMPTS.format(tool=tool, prompt=texts.PROMPTS[tool])
        if reached >= 1
        else "",
        learnings=texts.LEARNINGS if reached >= 3 else "",
        created_by=author.id,
        created_at=w.at(-62 + k % 7),
        updated_at=w.at(-16 - k % 9, 16),
    )


def _fill(
    session: Session,
    w: _World,
    experiment: Experiment,
    members: list[User],
    step: str,
    coaches: list[User],
) -> None:
    """Linked outputs (one at least per member), measurements and coach comments."""
    reached = ("hypotheses", "tests", "evidence", "learnings", "decision").index(step)
    if reached >= 1:
        ids = {m.id for m in members}
        mine = [o for o in w.outputs if o[1] in ids and w.day(-63) <= o[3].date() <= w.day(-15)]
        picked: dict[int, int] = {}
        for member in members:  # one of each member's, so each member rated the tests
            theirs = [o for o in mine if o[1] == member.id]
            if theirs:
                chosen = w.rng.choice(theirs)
                picked[chosen[0]] = member.id
        for output_id, user_id, _tool, _at in w.rng.sample(mine, min(len(mine), 8)):
            if len(picked) < max(4, len(members) + 2):
                picked[output_id] = user_id
        for output_id in picked:
            session.add(ExperimentOutput(experiment_id=experiment.id, output_id=output_id,
                                         added_by=picked[output_id]))  # fmt: skip
            w.rated.add(output_id)  # the team rated what it tested
    if reached >= 2:
        _measurements(session, w, experiment)
    for step_name, body in texts.COMMENTS[: reached + 1]:
        if w.rng.random() < 0.6:
            session.add(
                Comment(org_id=w.org_id, experiment_id=experiment.id,
                        author_id=w.rng.choice(coaches).id, step=step_name, body=body,
                        created_at=w.at(-60 + reached * 9))
            )  # fmt: skip


def _measurements(session: Session, w: _World, experiment: Experiment) -> None:
    before = w.rng.randint(15, 45)
    after = round(before * w.rng.uniform(0.35, 0.95), 1)
    errors_before = w.rng.randint(4, 15)
    rows = [
        ("Temps par dossier", "minutes", None, str(before), f"{after:g}"),
        ("Dossiers à reprendre", "percent", None, str(errors_before),
         str(max(0, errors_before + w.rng.randint(-6, 3)))),
        ("Satisfaction de l'équipe", "score5", f"{w.rng.uniform(2.5, 4.8):.1f}", None, None),
    ]  # fmt: skip
    for label, unit, value, before_value, after_value in rows:
        session.add(
            Measurement(org_id=w.org_id, experiment_id=experiment.id, label=label, unit=unit,
                        value=value, before_value=before_value, after_value=after_value)
        )  # fmt: skip


def _publish(
    w: _World,
    challenge: Challenge,
    found: list[Experiment],
    teams: list[tuple[LabTeam, list[User], int]],
) -> None:
    """Eight decided experiments on the showcase, those of the big teams first."""
    size = {team.id: len(members) for team, members, _ in teams}
    decided = [e for e in found if e.decision]
    decided.sort(key=lambda e: (-size[e.lab_team_id], e.id))
    for i, experiment in enumerate(decided[:8]):
        experiment.published_at = w.at((challenge.showcase_start - w.today).days + i % 5, 11)


# Feedback and irritants ------------------------------------------------------------------------


def _feedback(session: Session, w: _World) -> None:
    """FEEDBACK entries by the outputs' authors: every tested output, then others at random."""
    others = [o[0] for o in w.outputs if o[0] not in w.rated]
    w.rated |= set(w.rng.sample(others, max(0, FEEDBACK - len(w.rated))))
    by_id = {o[0]: o for o in w.outputs}
    rows = [_rating(w, by_id[output_id]) for output_id in sorted(w.rated)]
    session.execute(insert(LabFeedback), rows)


def _rating(w: _World, output: tuple[int, int, str, datetime]) -> dict[str, Any]:
    """Mostly helpful, satisfaction mostly 3 to 5, 0 to 60 minutes saved, some problems."""
    rng = w.rng
    usage = rng.choices(["as_is", "edited", "discarded", None], [30, 42, 12, 16])[0]
    helped = rng.random() < (0.2 if usage == "discarded" else 0.9)
    satisfaction = rng.choices([3, 4, 5], [20, 45, 35])[0] if helped else rng.choice([1, 2, 2, 3])
    minutes = min(60, int(rng.gammavariate(2.0, 8.0))) if helped else 0
    problems: list[str] = []
    if rng.random() < (0.6 if not helped else 0.08):
        problems = sorted(set(rng.choices(list(PROBLEM_WEIGHTS), list(PROBLEM_WEIGHTS.values()),
                                          k=rng.choice([1, 1, 2]))))  # fmt: skip
    at = output[3] + timedelta(minutes=rng.randint(1, 120))
    return {
        "org_id": w.org_id, "output_id": output[0], "user_id": output[1], "helped": helped,
        "minutes_saved": minutes if rng.random() < 0.78 else None,
        "minutes_without_ai": minutes + rng.randint(5, 45) if rng.random() < 0.25 else None,
        "satisfaction": satisfaction if rng.random() < 0.88 else None,
        "problems": [p for p in PROBLEMS if p in problems],
        "problem_flags": sum(PROBLEMS[p] for p in problems), "comment": "", "usage": usage,
        "created_at": at, "updated_at": at,
    }  # fmt: skip


def _irritants(session: Session, w: _World) -> None:
    rows = [
        {"org_id": w.org_id, "unit_id": w.units[unit].id, "title": f"[Démo] {title}",
         "description": "", "minutes_per_task": minutes, "tasks_per_month": tasks,
         "error_rate": errors, "people_affected": people, "status": status,
         "created_by": w.staff[i].id, "created_at": w.at(-80 + i), "updated_at": w.at(-20 + i)}
        for i, (title, unit, minutes, tasks, errors, people, status) in enumerate(texts.IRRITANTS)
    ]  # fmt: skip
    session.execute(insert(LabIrritant), rows)
