"""Each dashboard figure as a table, a chart and CSV (RFC 4180, safe to open in a spreadsheet)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence

from markupsafe import Markup

from civique.errors import N_, UserError
from civique.i18n import gettext
from civique.lab import charts
from civique.lab.dashboards import Dashboard
from civique.lab.feedback import PROBLEM_LABELS

Cell = str | int | float | None
Table = tuple[list[str], list[list[Cell]]]
FIGURES: dict[str, str] = {
    "adoption": N_("Adoption"),
    "usage": N_("Usage per tool and model"),
    "cost": N_("Cost"),
    "time_saved": N_("Time saved"),
    "satisfaction": N_("Satisfaction"),
    "errors": N_("Error rates"),
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def hidden_text(minimum: int) -> str:
    """What a hidden cell says."""
    return gettext("hidden: fewer than %(n)s people", n=minimum)


def _all(tool: str | None) -> str:
    return tool if tool is not None else gettext("All tools")


def _adoption(d: Dashboard) -> Table:
    header = [gettext("Week"), gettext("Unit"), gettext("Active people")]
    rows: list[list[Cell]] = [[r.label, gettext("All units"), r.users] for r in d.adoption]
    rows += [[r.label, r.unit or gettext("No unit"), r.users] for r in d.adoption_by_unit]
    return header, rows


def _usage(d: Dashboard) -> Table:
    header = [gettext("Tool"), gettext("Model"), gettext("Calls"), gettext("Outputs")]
    return header, [[r.tool, r.model, r.calls, r.outputs] for r in d.usage]


def _cost(d: Dashboard) -> Table:
    header = [
        gettext("Tool"),
        gettext("Model"),
        gettext("Tokens in"),
        gettext("Tokens out"),
        gettext("Energy (Wh)"),
    ]
    return header, [[r.tool, r.model, r.tokens_in, r.tokens_out, r.energy_wh] for r in d.usage]


def _time(d: Dashboard) -> Table:
    header = [
        gettext("Tool"),
        gettext("Ratings with minutes saved"),
        gettext("Minutes saved in all"),
        gettext("Minutes saved per use"),
        gettext("Ratings with the time without AI"),
        gettext("Minutes without AI per use"),
    ]
    rows: list[list[Cell]] = [
        [
            _all(r.tool),
            r.ratings,
            r.total_minutes,
            r.mean_minutes,
            r.ratings_without_ai,
            r.mean_without_ai,
        ]
        for r in d.time_saved
    ]
    return header, rows


def _satisfaction(d: Dashboard) -> Table:
    header = [gettext("Tool or mark"), gettext("Ratings"), gettext("Mean (1 to 5)")]
    rows: list[list[Cell]] = [[_all(r.tool), r.ratings, r.mean] for r in d.satisfaction]
    rows += [[gettext("Mark %(mark)s", mark=m.mark), m.ratings, ""] for m in d.distribution]
    return header, rows


def _errors(d: Dashboard) -> Table:
    header = [gettext("Tool"), gettext("Model"), gettext("Feedback")]
    header += [gettext("%(problem)s (share)", problem=gettext(v)) for v in PROBLEM_LABELS.values()]
    rows: list[list[Cell]] = []
    for r in d.errors:
        shares = r.shares
        values: list[Cell] = [shares[c] if shares else None for c in PROBLEM_LABELS]
        rows.append([r.tool, r.model, r.feedback, *values])
    return header, rows


_TABLES: dict[str, Callable[[Dashboard], Table]] = {
    "adoption": _adoption,
    "usage": _usage,
    "cost": _cost,
    "time_saved": _time,
    "satisfaction": _satisfaction,
    "errors": _errors,
}


def table(d: Dashboard, figure: str) -> Table:
    """The figure's header and rows (hidden cells are None)."""
    if figure not in _TABLES:
        raise UserError("lab_dashboard_figure")
    return _TABLES[figure](d)


def safe_cell(value: Cell, hidden: str) -> str:
    """A cell as text: hidden ones say why; text a spreadsheet would run as a formula is
    prefixed with an apostrophe."""
    if value is None:
        return hidden
    if isinstance(value, int | float):
        return str(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def to_csv(header: Sequence[str], rows: Sequence[Sequence[Cell]], minimum: int) -> bytes:
    """RFC 4180 CSV (CRLF, quoted when needed) in UTF-8 with a BOM for spreadsheets."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    hidden = hidden_text(minimum)
    writer.writerow([safe_cell(h, hidden) for h in header])
    for row in rows:
        writer.writerow([safe_cell(c, hidden) for c in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _pair(tool: str, model: str) -> str:
    return f"{tool} · {model}"


def charts_of(d: Dashboard) -> dict[str, Markup]:
    """The chart of each figure (hidden values left out: the table says why)."""
    factual = PROBLEM_LABELS["factual_error"]
    return {
        "adoption": charts.line_chart(
            "chart-adoption",
            gettext("Active people per week"),
            [(r.label, r.users) for r in d.adoption],
        ),
        "usage": charts.bar_chart(
            "chart-usage",
            gettext("Outputs per tool and model"),
            [(_pair(r.tool, r.model), r.outputs) for r in d.usage],
        ),
        "cost": charts.bar_chart(
            "chart-cost",
            gettext("Energy estimate (Wh) per tool and model"),
            [(_pair(r.tool, r.model), r.energy_wh) for r in d.usage],
        ),
        "time_saved": charts.bar_chart(
            "chart-time",
            gettext("Minutes saved in all, per tool"),
            [(r.tool, r.total_minutes) for r in d.time_saved if r.tool is not None],
        ),
        "satisfaction": charts.bar_chart(
            "chart-satisfaction",
            gettext("Ratings per satisfaction mark"),
            [(gettext("Mark %(mark)s", mark=m.mark), m.ratings) for m in d.distribution],
        ),
        "errors": charts.bar_chart(
            "chart-errors",
            gettext(
                "%(problem)s: share of feedback (%%) per tool and model", problem=gettext(factual)
            ),
            [
                (_pair(r.tool, r.model), round(r.shares["factual_error"] * 100, 1))
                for r in d.errors
                if r.shares is not None
            ],
        ),
    }
