"""The showcase: experiments a team published as a one-page result, for the whole organisation;
their PDF (with the AI-assistance note) and the open-data CSV of a challenge's results.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from html import escape

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.errors import NotFound, UserError
from civique.i18n import format_datetime, format_number, gettext
from civique.lab import challenges, evidence, experiments
from civique.lab.challenges_labels import DECISION_LABELS
from civique.lab.evidence import FeedbackSummary
from civique.lab.experiments import LinkedOutput
from civique.lab.models import Challenge, Experiment, LabTeam, Measurement
from civique.orgs.models import Organisation, Team
from civique.settings import Settings
from civique.web.markdown import render_markdown

# The setting's default, for callers without settings at hand (the routes pass the setting).
MIN_GROUP = int(Settings.model_fields["lab_min_group_size"].default)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
UNIT_LABELS = {
    "minutes": "min",
    "hours": "h",
    "percent": "%",
    "count": "#",
    "euros": "€",
    "score5": "/5",
}


def publish(session: Session, user: User, experiment_id: int, published: bool) -> Experiment:
    """Publish the experiment as a one-page result (its problem and decision written), or
    withdraw it."""
    allowed = experiments.access(session, user, experiment_id)
    challenges.check_writable(allowed.challenge)
    if not allowed.can_edit:
        raise NotFound() if not allowed.coach else UserError("forbidden", 403)
    experiment = allowed.experiment
    if published and not (experiment.irritant and experiment.decision):
        raise UserError("lab_publish_incomplete", 409)
    experiment.published_at = datetime.now(UTC) if published else None
    session.commit()
    return experiment


@dataclass(frozen=True)
class Result:
    """A published experiment as the showcase shows it."""

    experiment: Experiment
    challenge: Challenge
    team: str
    measurements: list[Measurement]
    outputs: list[LinkedOutput]
    feedback: FeedbackSummary


def _published(user: User) -> Select[Experiment, Challenge, str]:
    return (
        select(Experiment, Challenge, Team.name)
        .join(Challenge, Challenge.id == Experiment.challenge_id)
        .join(LabTeam, LabTeam.id == Experiment.lab_team_id)
        .join(Team, Team.id == LabTeam.team_id)
        .where(
            Experiment.org_id == user.org_id,
            Experiment.published_at.is_not(None),
            Challenge.status != "draft",
        )
    )


def results(
    session: Session, user: User, challenge_id: int | None = None, minimum: int = MIN_GROUP
) -> list[Result]:
    """The organisation's published results, newest first (of one challenge if given)."""
    stmt = _published(user)
    if challenge_id is not None:
        challenge = challenges.challenge_for(session, user, challenge_id)
        stmt = stmt.where(Experiment.challenge_id == challenge.id)
    rows = session.execute(stmt.order_by(Experiment.published_at.desc(), Experiment.id.desc()))
    return [_result(session, e, c, name, minimum) for e, c, name in rows]


def _result(session: Session, e: Experiment, c: Challenge, team: str, minimum: int) -> Result:
    return Result(
        e,
        c,
        team,
        experiments.measurements(session, e.id),
        experiments.linked_outputs(session, e),
        evidence.summary(session, e, minimum),
    )


def result(session: Session, user: User, experiment_id: int, minimum: int = MIN_GROUP) -> Result:
    """One published result of the user's organisation (any other is not found)."""
    stmt = _published(user).where(Experiment.id == experiment_id)
    row = session.execute(stmt).first()
    if row is None:
        raise NotFound()
    experiment, challenge, team = row
    return _result(session, experiment, challenge, team, minimum)


# PDF -------------------------------------------------------------------------------------------


def ai_note(outputs: list[LinkedOutput]) -> str | None:
    """The AI-assistance note of a result whose tests used outputs of the register."""
    if not outputs:
        return None
    models = ", ".join(sorted({o.model for o in outputs}))
    return gettext(
        "This experiment tested %(count)s outputs produced with the assistance of an AI "
        "(models: %(models)s); they were checked by the team.",
        count=len(outputs),
        models=models,
    )


def number(value: str | Decimal | None) -> str:
    """A stored decimal as people write it (no trailing zeros)."""
    if value is None:
        return ""
    return format(Decimal(value).normalize(), "f")


def _measure_rows(rows: list[Measurement]) -> str:
    lines = []
    for m in rows:
        unit = escape(UNIT_LABELS.get(m.unit, m.unit))
        if m.value is not None:
            figure = f"{escape(number(m.value))} {unit}"
        else:
            figure = f"{escape(number(m.before_value))} → {escape(number(m.after_value))} {unit}"
        lines.append(f"<tr><th>{escape(m.label)}</th><td>{figure}</td></tr>")
    return "".join(lines)


_PDF_CSS = """
@page { size: A4; margin: 2cm 2cm 2.5cm; @bottom-center { content: element(footer); } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 10.5pt; line-height: 1.45; }
h1 { font-size: 17pt; margin: 0 0 .2cm; } h2 { font-size: 12pt; margin: .5cm 0 .15cm; }
footer { position: running(footer); font-size: 8pt; color: #444; }
table { border-collapse: collapse; } th, td { text-align: left; padding: 2pt 8pt 2pt 0; }
.meta { color: #444; } .note { border-left: 3pt solid #b37400; padding-left: 6pt; }
"""


def feedback_value(line: evidence.Figure, minimum: int) -> str:
    """A summary line's value as text, with its unit; hidden ones say why."""
    if line.value is None:
        return gettext("hidden: fewer than %(n)s people", n=minimum)
    unit = UNIT_LABELS.get(line.unit, "") if line.unit != "count" else ""
    return f"{format_number(line.value)} {unit}".strip()


def _feedback_html(summary: FeedbackSummary) -> str:
    """The feedback summary for the PDF (nothing when no output was rated)."""
    if not summary.ratings:
        return ""
    rows = "".join(
        f"<tr><th>{escape(evidence.label_of(line))}</th>"
        f"<td>{escape(feedback_value(line, summary.minimum))}</td></tr>"
        for line in evidence.figures(summary)
        if not (line.value == 0 and line.code.startswith(("problem_", "usage_")))
    )
    note = f"<p>{escape(hidden_reason(summary))}</p>" if summary.hidden else ""
    title = escape(gettext("Feedback on the tested outputs"))
    return f"<h3>{title}</h3>{note}<table>{rows}</table>"


def hidden_reason(summary: FeedbackSummary) -> str:
    """Why only the counts of the feedback are shown."""
    return gettext(
        "Fewer than %(n)s people rated these outputs: only the counts are shown, so that "
        "nobody's own ratings can be read from the figures.",
        n=summary.minimum,
    )


def pdf(
    session: Session, user: User, experiment_id: int, minimum: int = MIN_GROUP
) -> tuple[bytes, str]:
    """The one-page result as a PDF and its file name."""
    from weasyprint import HTML

    found = result(session, user, experiment_id, minimum)
    e = found.experiment
    org = session.get(Organisation, user.org_id)
    note = ai_note(found.outputs)
    decision = gettext(DECISION_LABELS.get(e.decision or "", "")) if e.decision else ""
    sections = [
        (gettext("Problem"), render_markdown(e.irritant)),
        (gettext("What was tried"), render_markdown(f"{e.protocol}\n\n{e.tools_prompts}")),
        (
            gettext("Evidence"),
            f"<table>{_measure_rows(found.measurements)}</table>"
            + _feedback_html(found.feedback),
        ),
        (gettext("Learnings"), render_markdown(e.learnings)),
        (
            gettext("Decision"),
            f"<p><strong>{escape(decision)}</strong></p>" + str(render_markdown(e.rationale)),
        ),
    ]
    body = "".join(f"<h2>{escape(t)}</h2>{html}" for t, html in sections)
    meta = gettext(
        "Team %(team)s · challenge %(challenge)s · published on %(date)s",
        team=found.team,
        challenge=found.challenge.title,
        date=format_datetime(e.published_at or e.created_at, "short"),
    )
    note_html = f'<p class="note">{escape(note)}</p>' if note else ""
    html = f"""<!doctype html><html><head><meta charset="utf-8">
<title>{escape(e.title)}</title><meta name="generator" content="Civique">
<meta name="description" content="{escape(note or meta)}">
<style>{_PDF_CSS}</style></head><body>
<footer>{escape(org.name if org else "")} · {escape(note or meta)}</footer>
<h1>{escape(e.title)}</h1><p class="meta">{escape(meta)}</p>{note_html}{body}
</body></html>"""
    data = bytes(HTML(string=html, url_fetcher=_no_fetch).write_pdf())
    return data, f"civique-resultat-{e.id}.pdf"


def _no_fetch(url: str, *args: object, **kwargs: object) -> dict[str, object]:
    """A published result loads nothing: the team's Markdown may hold image links."""
    raise ValueError("external resources are not loaded")


# Open-data CSV ---------------------------------------------------------------------------------


def safe_cell(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


CSV_COLUMNS = (
    "challenge",
    "team",
    "experiment",
    "decision",
    "measurement",
    "unit",
    "value",
    "before",
    "after",
    "change",
)


def _feedback_rows(texts: list[str], summary: FeedbackSummary) -> list[list[str]]:
    """The feedback summary as rows `feedback_<code>` (figures hidden by the minimum group
    are left out: open data never holds them)."""
    if not summary.ratings:
        return []
    return [
        [safe_cell(t) for t in texts]
        + [f"feedback_{line.code}", line.unit, number(str(line.value)), "", "", ""]
        for line in evidence.figures(summary)
        if line.value is not None
    ]


def open_data_csv(
    session: Session, user: User, challenge_id: int, minimum: int = MIN_GROUP
) -> tuple[bytes, str]:
    """One row per measurement of the challenge's published experiments, then one per figure
    of the feedback on their tested outputs: team names and figures only, never a person's
    name."""
    challenge = challenges.challenge_for(session, user, challenge_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for found in results(session, user, challenge.id, minimum):
        e = found.experiment
        texts = [challenge.title, found.team, e.title, e.decision or ""]
        if not found.measurements and not found.feedback.ratings:
            writer.writerow([safe_cell(t) for t in texts] + [""] * 6)
        for m in found.measurements:
            delta = experiments.change(m)
            writer.writerow(
                [safe_cell(t) for t in texts]
                + [
                    safe_cell(m.label),
                    m.unit,
                    number(m.value),
                    number(m.before_value),
                    number(m.after_value),
                    number(delta) if delta is not None else "",
                ]
            )
        writer.writerows(_feedback_rows(texts, found.feedback))
    # A BOM so that spreadsheet software reads the accents as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8"), f"civique-defi-{challenge.id}.csv"
