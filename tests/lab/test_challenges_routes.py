"""The Lab's pages through HTTP: a small challenge end to end, the gate and refusals."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from civique.lab import learning
from civique.lab.models import Experiment, LabTeam
from civique.settings import Settings
from tests.governance.outputs import make_output
from tests.helpers import Tenant, login
from tests.lab.helpers import form


def _post(client: TestClient, csrf: str, url: str, **data: object) -> object:
    return client.post(url, data={"csrf_token": csrf, **data}, follow_redirects=False)


def _challenge_fields(**changes: str) -> dict[str, object]:
    typed = form()
    fields: dict[str, object] = {
        "title": "Défi courriers", "description": "**Essayer** l'IA.", "status": "open",
        "audience": "organisation", "pass_mark": "80", "path_required": "1",
        "default_path": "1", **typed.dates,
    }
    fields.update(changes)
    return fields


def test_a_small_challenge_through_the_pages(
    app: object, db: Session, tenant: Tenant, settings: Settings
) -> None:
    lead, csrf_lead = TestClient(app), ""  # type: ignore[arg-type]
    csrf_lead = login(lead, tenant.users["innovation_lead"].email)
    assert 'href="/lab"' in lead.get("/").text
    created = _post(lead, csrf_lead, "/lab/challenges", **_challenge_fields())
    assert created.status_code == 303  # type: ignore[attr-defined]
    challenge_url = created.headers["location"]  # type: ignore[attr-defined]
    challenge_id = int(challenge_url.rsplit("/", 1)[1])
    page = lead.get(challenge_url)
    assert page.status_code == 200 and 'aria-current="step"' in page.text
    assert "Exploration" in page.text
    assert lead.get(f"/lab/challenges/{challenge_id}/learning/edit").status_code == 200
    agent = TestClient(app)  # type: ignore[arg-type]
    csrf = login(agent, tenant.users["agent"].email)
    assert "Défi courriers" in agent.get("/lab").text
    path = agent.get(f"/lab/challenges/{challenge_id}/learning")
    assert "Comment vérifier une réponse" in path.text
    made = _post(agent, csrf, f"/lab/challenges/{challenge_id}/teams", name="Équipe Relances")
    team_url = made.headers["location"]  # type: ignore[attr-defined]
    gate = agent.get(team_url)
    assert gate.status_code == 403 and f"/lab/challenges/{challenge_id}/learning" in gate.text
    answers = {
        f"q{q.id}": [str(i) for i in q.correct] for q in learning.questions(db, challenge_id)
    }
    scored = agent.post(
        f"/lab/challenges/{challenge_id}/quiz", data={"csrf_token": csrf, **answers}
    )
    assert scored.status_code == 200 and "5 / 5" not in scored.text and "(100" in scored.text
    assert agent.get(team_url).status_code == 200
    team_id = int(team_url.rsplit("/", 1)[1])
    started = _post(agent, csrf, f"/lab/teams/{team_id}/experiments", title="Relances")
    exp_url = started.headers["location"]  # type: ignore[attr-defined]
    exp_id = int(exp_url.rsplit("/", 1)[1])
    steps = {
        "hypotheses": {"irritant": "Relances tapées à la main", "metric": "minutes"},
        "tests": {"protocol": "Dix courriers", "tools_prompts": "Outil courrier"},
        "learnings": {"learnings": "Relire les montants"},
        "decision": {"decision": "generalise", "rationale": "Gain net"},
    }
    for step, values in steps.items():
        saved = _post(agent, csrf, f"{exp_url}/step", step=step, **values)
        assert saved.status_code == 303, (step, saved.text)  # type: ignore[attr-defined]
    output = make_output(db, settings, tenant, "Relance", role="agent")
    assert _post(agent, csrf, f"{exp_url}/outputs", output_id=str(output)).status_code == 303  # type: ignore[attr-defined]
    bad = _post(agent, csrf, f"{exp_url}/measurements", label="Temps", unit="minutes", value="-1")
    assert bad.status_code == 400 and 'value="-1"' in bad.text  # type: ignore[attr-defined]
    _post(agent, csrf, f"{exp_url}/measurements", label="Temps", unit="minutes", before="12",
          after="4")
    page = agent.get(exp_url)
    assert f"/outputs/{output}" in page.text and "Relire les montants" in page.text
    assert _post(agent, csrf, f"{exp_url}/publish", published="1").status_code == 303  # type: ignore[attr-defined]
    board = lead.get(f"/lab/challenges/{challenge_id}/board")
    assert "Relances" in board.text
    dpo = TestClient(app)  # type: ignore[arg-type]
    login(dpo, tenant.users["dpo"].email)
    assert "Relances" in dpo.get("/lab/showcase").text
    result = dpo.get(f"/lab/showcase/{exp_id}")
    assert result.status_code == 200 and "Relances tapées à la main" in result.text
    assert dpo.get(f"/lab/showcase/{exp_id}/pdf").content.startswith(b"%PDF")
    csv_body = dpo.get(f"/lab/challenges/{challenge_id}/showcase.csv").text
    assert "Équipe Relances" in csv_body and "-8" in csv_body
    assert dpo.get(exp_url).status_code == 404  # not in the team: only the published page
    team = db.get(LabTeam, team_id)
    assert team is not None and db.get(Experiment, exp_id) is not None


def test_joining_refusals_are_explained(app: object, tenant: Tenant) -> None:
    lead = TestClient(app)  # type: ignore[arg-type]
    csrf_lead = login(lead, tenant.users["innovation_lead"].email)
    created = _post(lead, csrf_lead, "/lab/challenges", **_challenge_fields(status="closed"))
    url = created.headers["location"]  # type: ignore[attr-defined]
    agent = TestClient(app)  # type: ignore[arg-type]
    csrf = login(agent, tenant.users["agent"].email)
    refused = _post(agent, csrf, f"{url}/register")
    assert refused.status_code == 409  # type: ignore[attr-defined]
    assert "closed" in refused.text or "clos" in refused.text  # type: ignore[attr-defined]
    bad = _post(lead, csrf_lead, "/lab/challenges", **_challenge_fields(starts_on="demain"))
    assert bad.status_code == 400 and 'value="Défi courriers"' in bad.text  # type: ignore[attr-defined]
