"""Translatable labels of the Lab's codes (phases, statuses, steps, decisions, units)."""

from __future__ import annotations

from civique.errors import N_

PHASE_LABELS = {
    "awareness": N_("Awareness"),
    "exploration": N_("Exploration"),
    "showcase": N_("Showcase"),
}
CHALLENGE_STATUS_LABELS = {"draft": N_("Draft"), "open": N_("Open"), "closed": N_("Closed")}
AUDIENCE_LABELS = {
    "organisation": N_("The whole organisation"),
    "units": N_("Chosen units"),
}
EXPERIMENT_STATUS_LABELS = {
    "draft": N_("Draft"),
    "in_progress": N_("In progress"),
    "concluded": N_("Concluded"),
}
STEP_LABELS = {
    "hypotheses": N_("Hypotheses"),
    "tests": N_("Tests"),
    "evidence": N_("Evidence"),
    "learnings": N_("Learnings"),
    "decision": N_("Decision"),
}
DECISION_LABELS = {
    "generalise": N_("Generalise"),
    "extend": N_("Extend the test"),
    "stop": N_("Stop"),
    "non_ai": N_("Non-AI alternative"),
}
UNIT_LABELS = {
    "minutes": N_("minutes"),
    "hours": N_("hours"),
    "percent": N_("%"),
    "count": N_("count"),
    "euros": N_("€"),
    "score5": N_("score /5"),
}
