"""The Jinja2 environment: autoescaping, gettext, Markdown and date filters."""

from __future__ import annotations

from pathlib import Path

import jinja2
from fastapi.templating import Jinja2Templates

from civique import __version__
from civique.auth.roles import ALL_ROLES, ROLE_LABELS, can
from civique.i18n import (
    LANGUAGES,
    format_date,
    format_datetime,
    format_number,
    get_locale,
    gettext,
    ngettext,
)
from civique.lab.feedback import MAX_MINUTES, PROBLEM_LABELS, USAGES, form_values
from civique.web.markdown import render_markdown

TEMPLATES_DIR = Path(__file__).parent / "templates"


def make_templates() -> Jinja2Templates:
    """Templates with `_`/`gettext`, `can(role, action)` and the `markdown` filter."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
    )
    templates = Jinja2Templates(env=env)
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        can=can,
        get_locale=get_locale,
        LANGUAGES=LANGUAGES,
        ROLES=ALL_ROLES,
        civique_version=__version__,
        role_label=lambda role: gettext(ROLE_LABELS.get(role) or str(role)),
        # The feedback widget is included by the chat and output pages (lab/feedback_widget.html).
        feedback_problems=PROBLEM_LABELS,
        feedback_usages=USAGES,
        feedback_max_minutes=MAX_MINUTES,
        feedback_values=form_values,
    )
    env.filters.update(
        markdown=render_markdown, datetime=format_datetime, date=format_date, number=format_number
    )
    return templates
