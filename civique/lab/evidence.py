"""The feedback collected on an experiment's linked outputs, summed up for its Evidence step.

The same minimum-group rule as the dashboards: each figure is shown only when at least the
minimum number of distinct people gave the answers it is made of; below it, only the counts
(outputs, ratings, people) are given, with the reason. The experiment's outputs are mostly the
team's own, so without the rule a team of three would read each member's ratings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from civique.errors import N_
from civique.i18n import gettext
from civique.lab.feedback import PROBLEM_LABELS, PROBLEMS, USAGES
from civique.lab.feedback_models import LabFeedback
from civique.lab.models import Experiment, ExperimentOutput


@dataclass(frozen=True)
class _Person:
    """One rater's answers on the experiment's outputs (counts and sums)."""

    ratings: int
    helped: int
    minutes_n: int
    minutes_sum: int
    satisfaction_n: int
    satisfaction_sum: int
    problems: dict[str, int]
    usage: dict[str, int]


@dataclass(frozen=True)
class FeedbackSummary:
    """What the linked outputs' feedback says; a figure is None when hidden by the rule."""

    outputs: int  # linked outputs
    rated_outputs: int
    ratings: int
    raters: int
    minimum: int
    helped_share: float | None  # 0 to 1
    minutes_ratings: int | None
    minutes_total: int | None
    minutes_mean: float | None
    satisfaction_ratings: int | None
    satisfaction_mean: float | None
    problems: dict[str, int] | None  # feedback entries reporting each problem
    usage: dict[str, int] | None  # used as is, edited, discarded
    # Enough raters in all, but some figure (minutes, satisfaction, usage) had fewer people.
    partly_hidden: bool = False

    @property
    def hidden(self) -> bool:
        """Fewer raters than the minimum: only the counts are shown."""
        return 0 < self.raters < self.minimum


def _per_person(session: Session, experiment: Experiment) -> tuple[list[_Person], int]:
    """Each rater's counts and sums (one grouped query), and how many outputs were rated."""
    problem_sums = [
        func.sum(case((LabFeedback.problem_flags.op("&")(bit) != 0, 1), else_=0))
        for bit in PROBLEMS.values()
    ]
    usage_sums = [func.sum(case((LabFeedback.usage == code, 1), else_=0)) for code in USAGES]
    linked = ExperimentOutput.experiment_id == experiment.id
    base = (
        select(LabFeedback.user_id)
        .join(ExperimentOutput, ExperimentOutput.output_id == LabFeedback.output_id)
        .where(linked, LabFeedback.org_id == experiment.org_id)
    )
    stmt = base.add_columns(
        func.count(),
        func.sum(case((LabFeedback.helped.is_(True), 1), else_=0)),
        func.count(LabFeedback.minutes_saved),
        func.coalesce(func.sum(LabFeedback.minutes_saved), 0),
        func.count(LabFeedback.satisfaction),
        func.coalesce(func.sum(LabFeedback.satisfaction), 0),
        *problem_sums,
        *usage_sums,
    ).group_by(LabFeedback.user_id)
    people = [_person(row) for row in session.execute(stmt)]
    outputs_rated = session.scalar(
        select(func.count(func.distinct(LabFeedback.output_id)))
        .join(ExperimentOutput, ExperimentOutput.output_id == LabFeedback.output_id)
        .where(linked, LabFeedback.org_id == experiment.org_id)
    )
    return people, int(outputs_rated or 0)


def _person(row: Any) -> _Person:
    _user, n, helped, m_n, m_sum, s_n, s_sum, *rest = (int(v or 0) for v in row)
    problems = dict(zip(PROBLEMS, rest[: len(PROBLEMS)], strict=True))
    usage = dict(zip(USAGES, rest[len(PROBLEMS) :], strict=True))
    return _Person(n, helped, m_n, m_sum, s_n, s_sum, problems, usage)


def _count_people(people: list[_Person], attribute: str) -> int:
    return sum(1 for p in people if getattr(p, attribute) > 0)


def summary(session: Session, experiment: Experiment, minimum: int) -> FeedbackSummary:
    """The linked outputs' feedback: counts always, the figures when enough people gave them."""
    stmt = select(func.count()).where(ExperimentOutput.experiment_id == experiment.id)
    outputs = int(session.scalar(stmt) or 0)
    people, rated = _per_person(session, experiment)
    raters = len(people)
    ratings = sum(p.ratings for p in people)
    enough = raters >= minimum
    minutes_n = sum(p.minutes_n for p in people)
    minutes_sum = sum(p.minutes_sum for p in people)
    sat_n = sum(p.satisfaction_n for p in people)
    sat_sum = sum(p.satisfaction_sum for p in people)
    behind = {
        "minutes": _count_people(people, "minutes_n"),
        "satisfaction": _count_people(people, "satisfaction_n"),
        "usage": sum(1 for p in people if any(p.usage.values())),
    }
    minutes_ok = enough and behind["minutes"] >= minimum
    sat_ok = enough and behind["satisfaction"] >= minimum
    usage_ok = enough and behind["usage"] >= minimum
    partly = enough and any(0 < n < minimum for n in behind.values())
    return FeedbackSummary(
        outputs=outputs,
        rated_outputs=rated,
        ratings=ratings,
        raters=raters,
        minimum=minimum,
        helped_share=round(sum(p.helped for p in people) / ratings, 4) if enough else None,
        minutes_ratings=minutes_n if minutes_ok else None,
        minutes_total=minutes_sum if minutes_ok and minutes_n else None,
        minutes_mean=round(minutes_sum / minutes_n, 1) if minutes_ok and minutes_n else None,
        satisfaction_ratings=sat_n if sat_ok else None,
        satisfaction_mean=round(sat_sum / sat_n, 2) if sat_ok and sat_n else None,
        problems={c: sum(p.problems[c] for p in people) for c in PROBLEMS} if enough else None,
        usage={c: sum(p.usage[c] for p in people) for c in USAGES} if usage_ok else None,
        partly_hidden=partly,
    )


@dataclass(frozen=True)
class Figure:
    """One line of the summary: a stable code (open data), its label, value and unit."""

    code: str
    label: str  # an N_() message id: translate when shown
    value: float | int | None  # None: hidden by the minimum group
    unit: str  # a measurement unit code (count, percent, minutes, score5)


COUNT_LABELS = {
    "outputs": N_("Outputs linked to the test"),
    "rated_outputs": N_("Outputs rated"),
    "ratings": N_("Ratings"),
    "raters": N_("People who rated"),
}


def figures(s: FeedbackSummary) -> list[Figure]:
    """The summary as lines: the counts, then (when enough people) the figures."""
    lines = [Figure(code, label, getattr(s, code), "count") for code, label in COUNT_LABELS.items()]
    if s.raters < s.minimum:
        return lines
    share = None if s.helped_share is None else round(s.helped_share * 100, 1)
    lines += [
        Figure("helped_share", N_("Share of ratings saying it helped"), share, "percent"),
        Figure("minutes_ratings", N_("Ratings with minutes saved"), s.minutes_ratings, "count"),
        Figure("minutes_total", N_("Minutes saved in all"), s.minutes_total, "minutes"),
        Figure("minutes_mean", N_("Minutes saved per rated use"), s.minutes_mean, "minutes"),
        Figure(
            "satisfaction_ratings",
            N_("Ratings with a satisfaction mark"),
            s.satisfaction_ratings,
            "count",
        ),
        Figure("satisfaction_mean", N_("Mean satisfaction"), s.satisfaction_mean, "score5"),
    ]
    problems = s.problems or {}
    lines += [
        Figure(f"problem_{code}", label, problems.get(code), "count")
        for code, label in PROBLEM_LABELS.items()
    ]
    usage = s.usage
    lines += [
        Figure(f"usage_{code}", label, None if usage is None else usage[code], "count")
        for code, label in USAGES.items()
    ]
    return lines


def label_of(line: Figure) -> str:
    """A line's label in the current language (problems and usage say what they count)."""
    if line.code.startswith("problem_"):
        return gettext("Problem reported: %(problem)s", problem=gettext(line.label))
    if line.code.startswith("usage_"):
        return gettext("What was done with it: %(usage)s", usage=gettext(line.label))
    return gettext(line.label)
