"""Dashboard figures computed from seeded data, compared with values worked out by hand (both
databases), the minimum-group rule, filters, the challenge hook, CSV export and the pages."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.auth.service import create_user
from civique.errors import NotFound, UserError
from civique.i18n import set_locale
from civique.lab import dashboard_export, dashboards
from civique.orgs.models import Unit
from tests.helpers import Tenant, login, make_tenant, password_hash
from tests.lab.seed import call, output, rate

START, END = date(2026, 11, 16), date(2026, 11, 29)  # ISO weeks 47 and 48 of 2026
W47, W48 = date(2026, 11, 16), date(2026, 11, 23)


def _at(day: int, hour: int = 10, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


class World:
    """Unit A with six agents (u1-u6), unit B with four (v1-v4), and their uses:

    week 47: u1-u6 one chat output each (17 Nov), v1-v4 one letter each (18 Nov);
    week 48: u1-u5 two chat outputs each (24 Nov, and Sunday 29 Nov 23:30, still week 48);
    outside: u1 on Sunday 15 Nov 23:59 (week 46) and Monday 30 Nov 00:10 (week 49);
    v1-v4 one embedding call each (no output) in week 47.
    Feedback: see `_feedback`.
    """

    def __init__(self, db: Session, tenant: Tenant) -> None:
        self.db, self.tenant = db, tenant
        self.unit_a = Unit(org_id=tenant.org.id, name="Accueil")
        self.unit_b = Unit(org_id=tenant.org.id, name="Bâtiments")
        db.add_all([self.unit_a, self.unit_b])
        db.flush()
        self.u = [self._user(f"u{i}", self.unit_a) for i in range(1, 7)]
        self.v = [self._user(f"v{i}", self.unit_b) for i in range(1, 5)]
        self.w47 = [output(db, u, _at(17)) for u in self.u]
        self.letters = [output(db, v, _at(18), tool="letters") for v in self.v]
        self.w48 = [output(db, u, _at(24)) for u in self.u[:5]]
        self.w48 += [output(db, u, _at(29, 23, 30)) for u in self.u[:5]]
        output(db, self.u[0], _at(15, 23, 59))
        output(db, self.u[0], _at(30, 0, 10))
        for v in self.v:
            call(db, v, _at(18), tool="documents", model="fake/embed", tokens=(100, 0), energy=0.1)
        self._feedback()
        db.commit()

    def _user(self, name: str, unit: Unit) -> User:
        user = create_user(self.db, self.tenant.org.id, f"{name}@alpha.test", name, "agent")
        user.unit_id = unit.id
        user.password_hash = password_hash()
        return user

    def _feedback(self) -> None:
        u, db = self.u, self.db
        rate(db, u[0], self.w47[0], minutes=10, satisfaction=5)
        rate(db, u[1], self.w47[1], minutes=20, satisfaction=4, problems=("tone",))
        rate(db, u[2], self.w47[2], minutes=30, satisfaction=4, problems=("factual_error",))
        rate(
            db,
            u[3],
            self.w47[3],
            helped=False,
            minutes=0,
            satisfaction=2,
            problems=("factual_error", "wrong_citation"),
        )
        rate(db, u[4], self.w47[4], without=60, satisfaction=3)
        rate(db, u[5], self.w47[5], minutes=40)
        rate(db, u[0], self.w48[0], minutes=15, satisfaction=5)
        for v, letter in zip(self.v, self.letters, strict=True):
            rate(db, v, letter, minutes=5, satisfaction=4)

    def dash(self, minimum: int = 5, **filters: object) -> dashboards.Dashboard:
        actor = self.tenant.users["innovation_lead"]
        f = dashboards.Filters(START, END, **filters)  # type: ignore[arg-type]
        return dashboards.dashboard(self.db, actor, f, minimum)


@pytest.fixture
def world(db: Session, tenant: Tenant, other_tenant: Tenant) -> World:
    built = World(db, tenant)
    # The other organisation's uses in the same weeks must never count.
    stranger = other_tenant.users["agent"]
    for day in (17, 24):
        for _ in range(3):
            rate(db, stranger, output(db, stranger, _at(day)), minutes=400, satisfaction=1)
    db.commit()
    return built


def test_adoption_counts_active_people_per_iso_week(world: World) -> None:
    d = world.dash()
    assert [(r.week, r.users) for r in d.adoption] == [(W47, 10), (W48, 5)]
    assert [r.label for r in d.adoption] == ["2026-W47", "2026-W48"]
    by_unit = [(r.week, r.unit, r.users) for r in d.adoption_by_unit]
    # Unit B has four people in week 47: hidden.
    assert by_unit == [(W47, "Accueil", 6), (W47, "Bâtiments", None), (W48, "Accueil", 5)]


def test_usage_and_cost_per_tool_and_model(world: World) -> None:
    rows = {(r.tool, r.model): r for r in world.dash().usage}
    chat = rows[("chat", "fake/echo")]
    # 6 outputs in week 47 and 10 in week 48, each with its call of 10 + 20 tokens and 0.5 Wh.
    assert (chat.calls, chat.outputs) == (16, 16)
    assert (chat.tokens_in, chat.tokens_out, chat.energy_wh) == (160, 320, 8.0)
    letters = rows[("letters", "fake/echo")]
    assert (letters.calls, letters.outputs, letters.tokens_in, letters.energy_wh) == (
        None,
        None,
        None,
        None,
    )  # four people
    embed = rows[("documents", "fake/embed")]
    assert (embed.calls, embed.outputs) == (None, None)
    assert next(r.tool for r in world.dash().usage) == "chat"  # most outputs first


def test_time_saved_sum_mean_and_ratings(world: World) -> None:
    rows = {r.tool: r for r in world.dash().time_saved}
    chat = rows["chat"]
    # Minutes 10, 20, 30, 0, 40 (week 47) and 15 (week 48) by u1, u2, u3, u4, u6: 5 people.
    assert (chat.ratings, chat.total_minutes, chat.mean_minutes) == (6, 115, 19.2)
    assert (chat.ratings_without_ai, chat.mean_without_ai) == (None, None)  # u5 alone
    assert rows["letters"].total_minutes is None
    total = rows[None]  # every tool: the letters' 4 × 5 minutes join the chat's
    assert (total.ratings, total.total_minutes, total.mean_minutes) == (10, 135, 13.5)


def test_satisfaction_mean_and_distribution(world: World) -> None:
    d = world.dash()
    rows = {r.tool: r for r in d.satisfaction}
    assert (rows["chat"].ratings, rows["chat"].mean) == (6, 3.83)  # 5+4+4+2+3+5 = 23 / 6
    assert rows["letters"].mean is None
    assert (rows[None].ratings, rows[None].mean) == (10, 3.9)  # (23 + 16) / 10
    # Mark 4: u2, u3 and v1-v4 (six people); the others come from fewer than five people.
    assert [(m.mark, m.ratings) for m in d.distribution] == [
        (1, 0),
        (2, None),
        (3, None),
        (4, 6),
        (5, None),
    ]


def test_error_rates_by_tool_and_model(world: World) -> None:
    rows = {(r.tool, r.model): r for r in world.dash().errors}
    chat = rows[("chat", "fake/echo")]
    assert chat.feedback == 7 and chat.shares is not None
    assert chat.shares == {
        "factual_error": round(2 / 7, 4),
        "wrong_citation": round(1 / 7, 4),
        "tone": round(1 / 7, 4),
        "legal": 0.0,
        "bias": 0.0,
        "other": 0.0,
    }
    assert rows[("letters", "fake/echo")].shares is None


def test_filters_by_unit_tool_model_and_people(world: World) -> None:
    by_unit = world.dash(unit_id=world.unit_a.id)
    assert [r.users for r in by_unit.adoption] == [6, 5]
    assert {r.tool for r in by_unit.usage} == {"chat"}
    assert [r.tool for r in world.dash(tool="letters", minimum=4).usage] == ["letters"]
    assert world.dash(model="fake/embed", minimum=4).usage[0].calls == 4
    # The challenges' hook: only these people (u1-u5) count.
    people = select(User.id).where(User.name.in_(["u1", "u2", "u3", "u4", "u5"]))
    hooked = world.dash(users=people)
    assert [r.users for r in hooked.adoption] == [5, 5]
    # u6's 40 minutes are out; u1 (twice), u2, u3 and u4 gave minutes: four people.
    assert {r.tool: r.ratings for r in hooked.time_saved}["chat"] is None
    chat = {r.tool: r for r in world.dash(users=people, minimum=4).time_saved}["chat"]
    assert (chat.ratings, chat.total_minutes) == (5, 75)


def test_minimum_group_size_four_hidden_five_shown(db: Session, tenant: Tenant) -> None:
    lead = tenant.users["innovation_lead"]
    people = [
        create_user(db, tenant.org.id, f"p{i}@alpha.test", f"p{i}", "agent") for i in range(5)
    ]
    for person in people[:4]:
        rate(db, person, output(db, person, _at(17)), minutes=10, satisfaction=4)
    db.commit()
    f = dashboards.Filters(START, END)
    four = dashboards.dashboard(db, lead, f, 5)
    assert [r.users for r in four.adoption] == [None]
    assert four.time_saved[0].total_minutes is None and four.satisfaction[0].mean is None
    rate(db, people[4], output(db, people[4], _at(18)), minutes=20, satisfaction=5)
    db.commit()
    five = dashboards.dashboard(db, lead, f, 5)
    assert [r.users for r in five.adoption] == [5]
    assert (five.time_saved[0].total_minutes, five.time_saved[0].mean_minutes) == (60, 12.0)
    assert five.satisfaction[0].mean == 4.2


def test_empty_period_and_bad_filters(
    world: World, db: Session, tenant: Tenant, other_tenant: Tenant
) -> None:
    lead = tenant.users["innovation_lead"]
    empty = dashboards.dashboard(
        db, lead, dashboards.Filters(date(2025, 1, 1), date(2025, 1, 31)), 5
    )
    assert empty.empty and not empty.time_saved and not empty.distribution
    with pytest.raises(UserError) as bad:
        dashboards.make_filters(db, lead, "2026-13-01", "")
    assert bad.value.code == "lab_dashboard_date"
    with pytest.raises(UserError) as backwards:
        dashboards.make_filters(db, lead, "2026-11-30", "2026-11-01")
    assert backwards.value.code == "lab_dashboard_period"
    foreign = Unit(org_id=other_tenant.org.id, name="Ailleurs")
    db.add(foreign)
    db.commit()
    with pytest.raises(NotFound):
        dashboards.make_filters(db, lead, unit_id=foreign.id)
    default = dashboards.make_filters(db, lead, today=date(2026, 12, 4))
    assert (default.start, default.end) == (date(2026, 9, 12), date(2026, 12, 4))


def test_csv_export_hides_small_groups_and_defuses_formulas(world: World) -> None:
    set_locale("fr")
    d = world.dash()
    header, rows = dashboard_export.table(d, "adoption")
    data = dashboard_export.to_csv(header, rows, d.minimum)
    assert data.startswith("\ufeff".encode())
    text = data.decode("utf-8-sig")
    assert "\r\n" in text and text.count("\r\n") == len(rows) + 1
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == ["Semaine", "Unité", "Personnes actives"]  # the request's language
    assert ["2026-W47", "Bâtiments", "masqué : moins de 5 personnes"] in parsed
    assert ["2026-W47", "Accueil", "6"] in parsed
    evil = dashboard_export.to_csv(
        ["a"], [["=HYPERLINK(1)"], ["+1"], ["-2"], ["@x"], ["a,b"], [-3]], 5
    )
    lines = list(csv.reader(io.StringIO(evil.decode("utf-8-sig"))))
    assert [line[0] for line in lines[1:]] == ["'=HYPERLINK(1)", "'+1", "'-2", "'@x", "a,b", "-3"]
    with pytest.raises(UserError):
        dashboard_export.table(d, "salaries")


def test_every_figure_has_a_table_and_an_accessible_chart(world: World) -> None:
    d = world.dash()
    svgs = dashboard_export.charts_of(d)
    assert set(svgs) == set(dashboard_export.FIGURES)
    for name in dashboard_export.FIGURES:
        assert dashboard_export.table(d, name)[1], name
        assert 'role="img"' in svgs[name] and "<title" in svgs[name] and "<desc" in svgs[name]
    assert "2026-W47: 10; 2026-W48: 5" in svgs["adoption"]


@pytest.fixture
def lead_client(app: object, world: World) -> TestClient:
    client = TestClient(app)  # type: ignore[arg-type]
    login(client, world.tenant.users["innovation_lead"].email)
    return client


def test_dashboard_page_and_csv_route(lead_client: TestClient, world: World) -> None:
    page = lead_client.get("/lab/dashboards", params={"start": "2026-11-16", "end": "2026-11-29"})
    assert page.status_code == 200
    assert "moins de 5 personnes" in page.text and "<svg" in page.text
    assert "115" in page.text  # minutes saved with the chat
    csv_page = lead_client.get(
        "/lab/dashboards/export",
        params={"figure": "time_saved", "start": "2026-11-16", "end": "2026-11-29"},
    )
    assert csv_page.status_code == 200
    assert csv_page.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_page.headers["content-disposition"]
    assert "115" in csv_page.text and "moins de 5 personnes" in csv_page.text
    empty = lead_client.get("/lab/dashboards", params={"start": "2020-01-01", "end": "2020-01-31"})
    assert empty.status_code == 200 and "Aucune donnée" in empty.text
    bad = lead_client.get("/lab/dashboards", params={"start": "hier"})
    assert bad.status_code == 400 and "AAAA-MM-JJ" in bad.text and 'value="hier"' in bad.text


def test_dashboards_are_for_innovation_leads(app: object, world: World) -> None:
    client = TestClient(app)  # type: ignore[arg-type]
    login(client, world.tenant.users["agent"].email)
    assert client.get("/lab/dashboards").status_code == 403
    assert client.get("/lab/dashboards/export?figure=usage").status_code == 403


def test_other_organisation_sees_none_of_it(db: Session, world: World) -> None:
    beta = make_tenant(db, "gamma")
    d = dashboards.dashboard(db, beta.users["innovation_lead"], dashboards.Filters(START, END), 1)
    assert d.empty and not d.errors
