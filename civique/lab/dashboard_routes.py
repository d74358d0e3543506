"""Lab dashboards (innovation leads): every figure on one page, and each figure as CSV."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.errors import UserError, error_message
from civique.lab import challenges, dashboard_export, dashboard_pipeline, dashboards
from civique.lab.feedback import PROBLEM_LABELS
from civique.orgs.pages import optional_id, page
from civique.settings import Settings
from civique.web.deps import DB, AppSettings, require

router = APIRouter()
Lead = Annotated[User, Depends(require("lab.lead"))]


Text = Annotated[str, Query(max_length=200)]


@dataclass(frozen=True)
class DashboardQuery:
    """The filters as typed in the form (checked by the service), kept to fill it again."""

    start: str = ""
    end: str = ""
    unit_id: str = ""
    tool: str = ""
    model: str = ""
    challenge_id: str = ""


def dashboard_query(
    start: Text = "",
    end: Text = "",
    unit_id: Text = "",
    tool: Text = "",
    model: Text = "",
    challenge_id: Text = "",
) -> DashboardQuery:
    """The filter fields of the query string."""
    return DashboardQuery(start, end, unit_id, tool, model, challenge_id)


Filters = Annotated[DashboardQuery, Depends(dashboard_query)]


def _build(
    db: Session, settings: Settings, actor: User, q: DashboardQuery
) -> tuple[dashboards.Dashboard, dashboard_pipeline.Pipeline]:
    filters = dashboards.make_filters(
        db,
        actor,
        q.start,
        q.end,
        optional_id(q.unit_id),
        q.tool,
        q.model,
        use_rollups=settings.lab_rollups,
    )
    typed = dashboard_pipeline.period_given(q.start, q.end)
    filters, challenge = dashboard_pipeline.with_challenge(
        db, actor, filters, optional_id(q.challenge_id), typed
    )
    dash = dashboards.dashboard(db, actor, filters, settings.lab_min_group_size)
    return dash, dashboard_pipeline.build(db, actor, filters, challenge)


@router.get("/lab/dashboards", name="lab_dashboards")
def dashboards_page(
    request: Request, actor: Lead, db: DB, settings: AppSettings, q: Filters
) -> Response:
    """Adoption, usage, time saved, satisfaction, errors and cost, with their charts."""
    try:
        dash, pipe = _build(db, settings, actor, q)
    except UserError as exc:
        if exc.status == 404:
            raise
        units = dashboards.choices(db, actor, None)[0]
        return page(
            request,
            "lab/dashboards.html",
            400,
            dash=None,
            form=q,
            units=units,
            tools=[],
            models=[],
            challenges=dashboard_pipeline.challenges_of(db, actor),
            error=error_message(exc),
        )
    units, tools, models = dashboards.choices(db, actor, dash)
    return page(
        request,
        "lab/dashboards.html",
        dash=dash,
        form=q,
        units=units,
        tools=tools,
        models=models,
        charts=dashboard_export.charts_of(dash),
        tables={name: dashboard_export.table(dash, name) for name in dashboard_export.FIGURES},
        figures=dashboard_export.FIGURES,
        problems=PROBLEM_LABELS,
        hidden=dashboard_export.hidden_text(dash.minimum),
        challenges=dashboard_pipeline.challenges_of(db, actor),
        pipe=pipe,
        participant_count=(
            challenges.participant_count(db, pipe.challenge.id) if pipe.challenge else 0
        ),
        pipe_figures=dashboard_pipeline.FIGURES,
        pipe_charts=dashboard_pipeline.charts_of(pipe),
        pipe_tables={n: dashboard_pipeline.table(pipe, n) for n in dashboard_pipeline.FIGURES},
    )


@router.get("/lab/dashboards/export", name="lab_dashboards_export")
def dashboards_export(
    actor: Lead,
    db: DB,
    settings: AppSettings,
    q: Filters,
    figure: Annotated[str, Query(max_length=20)] = "adoption",
) -> Response:
    """One figure as CSV, with the same filters and the same hidden cells as the page."""
    dash, pipe = _build(db, settings, actor, q)
    if figure in dashboard_pipeline.FIGURES:
        header, rows = dashboard_pipeline.table(pipe, figure)
    else:
        header, rows = dashboard_export.table(dash, figure)
    data = dashboard_export.to_csv(header, rows, dash.minimum)
    name = f"civique-lab-{figure}-{dash.filters.start}-{dash.filters.end}.csv"
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
