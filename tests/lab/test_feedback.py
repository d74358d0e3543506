"""Feedback on outputs: two clicks, bounds with clear messages, one per output and person,
who may rate what, the widget under chat answers and on the output page, the API, the data
export and what deleting an output or an account removes."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civique.chat.models import Conversation, Message
from civique.errors import NotFound
from civique.lab import feedback
from civique.lab.feedback_models import LabFeedback
from civique.llm.models import OutputRecord
from civique.settings import Settings
from tests.governance.outputs import make_output
from tests.helpers import Tenant, login


def _count(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(LabFeedback)) or 0)


def test_thumbs_then_detail_updates_one_feedback(
    db: Session, settings: Settings, tenant: Tenant
) -> None:
    agent = tenant.users["agent"]
    output_id = make_output(db, settings, tenant)
    feedback.give(db, agent, output_id, {"helped": "yes"})
    row = feedback.give(
        db,
        agent,
        output_id,
        {
            "helped": "",
            "minutes_saved": "25",
            "minutes_without_ai": "",
            "satisfaction": "4",
            "problems": ["tone", "factual_error", "tone"],
            "comment": " Un peu long ",
            "usage": "edited",
        },
    )
    assert _count(db) == 1
    assert (row.helped, row.minutes_saved, row.minutes_without_ai) == (True, 25, None)
    assert (row.satisfaction, row.usage, row.comment) == (4, "edited", "Un peu long")
    assert row.problems == ["factual_error", "tone"]
    assert row.problem_flags == feedback.PROBLEMS["factual_error"] | feedback.PROBLEMS["tone"]
    again = feedback.give(db, agent, output_id, {"helped": False})
    assert (again.id, again.helped, again.minutes_saved) == (row.id, False, 25)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"minutes_saved": "-5"}, "lab_feedback_minutes_saved"),
        ({"minutes_saved": "481"}, "lab_feedback_minutes_saved"),
        ({"minutes_saved": "2.5"}, "lab_feedback_minutes_saved"),
        ({"minutes_without_ai": 100000}, "lab_feedback_minutes_without_ai"),
        ({"satisfaction": "6"}, "lab_feedback_satisfaction"),
        ({"satisfaction": "0"}, "lab_feedback_satisfaction"),
        ({"problems": ["typo"]}, "lab_feedback_problem"),
        ({"usage": "printed"}, "lab_feedback_usage"),
        ({"comment": "x" * 1001}, "too_long"),
        ({"helped": "maybe"}, "lab_feedback_bad_helped"),
    ],
)
def test_bad_values_are_refused_with_their_field(
    db: Session, settings: Settings, tenant: Tenant, changes: dict[str, object], code: str
) -> None:
    output_id = make_output(db, settings, tenant)
    with pytest.raises(feedback.FeedbackError) as refused:
        feedback.give(db, tenant.users["agent"], output_id, {"helped": "yes", **changes})
    assert refused.value.code == code
    assert refused.value.field == next(iter(changes))
    assert _count(db) == 0


def test_bounds_are_inclusive_and_helped_comes_first(
    db: Session, settings: Settings, tenant: Tenant
) -> None:
    agent = tenant.users["agent"]
    output_id = make_output(db, settings, tenant)
    with pytest.raises(feedback.FeedbackError) as first:
        feedback.give(db, agent, output_id, {"minutes_saved": "10"})
    assert first.value.code == "lab_feedback_helped_required"
    row = feedback.give(db, agent, output_id, {"helped": "no", "minutes_saved": "480"})
    assert row.minutes_saved == 480
    assert feedback.give(db, agent, output_id, {"minutes_saved": 0}).minutes_saved == 0


def test_only_readers_of_the_output_rate_it(
    db: Session, settings: Settings, tenant: Tenant, other_tenant: Tenant
) -> None:
    output_id = make_output(db, settings, tenant)
    for outsider in (other_tenant.users["org_admin"], other_tenant.users["agent"]):
        with pytest.raises(NotFound):
            feedback.give(db, outsider, output_id, {"helped": "yes"})
    colleague = make_output(db, settings, tenant, role="validator")  # a colleague's output
    with pytest.raises(NotFound):  # another user's private output
        feedback.give(db, tenant.users["agent"], colleague, {"helped": "yes"})
    with pytest.raises(NotFound):  # innovation leads read dashboards, not outputs
        feedback.mine(db, tenant.users["innovation_lead"], output_id)
    # A validator reads the organisation's outputs, so may say what was wrong with one.
    feedback.give(db, tenant.users["validator"], output_id, {"helped": "no", "problems": ["legal"]})
    assert _count(db) == 1
    assert feedback.mine(db, tenant.users["agent"], output_id) is None


def _widget(html: str, output_id: int) -> str:
    match = re.search(
        rf'<div class="feedback" id="fb{output_id}">.*?</details>\s*</div>', html, re.S
    )
    assert match, "no feedback widget"
    return match.group(0)


def test_chat_answer_shows_the_widget_and_two_clicks_save(
    db: Session,
    settings: Settings,
    tenant: Tenant,
    agent_client: tuple[TestClient, str],
) -> None:
    client, csrf = agent_client
    output_id = make_output(db, settings, tenant)
    conv = Conversation(
        org_id=tenant.org.id,
        user_id=tenant.users["agent"].id,
        model_id="fake/echo",
        title="Courrier",
    )
    db.add(conv)
    db.flush()
    db.add_all(
        [
            Message(conversation_id=conv.id, role="user", content="Rédige"),
            Message(
                conversation_id=conv.id, role="assistant", content="Voici", output_id=output_id
            ),
        ]
    )
    db.commit()
    page = client.get(f"/chat/{conv.id}")
    widget = _widget(page.text, output_id)
    assert 'aria-pressed="false"' in widget and "Ce texte vous a-t-il aidé" in widget
    # Click 1, without JavaScript: a plain form post and a redirect back to the conversation.
    done = client.post(
        f"/outputs/{output_id}/feedback",
        follow_redirects=False,
        data={"csrf_token": csrf, "helped": "yes", "next": f"/chat/{conv.id}"},
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/chat/{conv.id}#fb{output_id}"
    back = client.get(f"/chat/{conv.id}")
    assert "Merci : votre avis est enregistré." in back.text
    assert 'value="yes" class="secondary small thumb" aria-describedby="fb' in back.text
    assert 'aria-pressed="true"' in _widget(back.text, output_id)
    # Click 2, with htmx: the detail form answers with the widget alone.
    swapped = client.post(
        f"/outputs/{output_id}/feedback",
        headers={"HX-Request": "true", "X-CSRF-Token": csrf},
        data={
            "detail": "1",
            "minutes_saved": "12",
            "satisfaction": "5",
            "problems": ["wrong_citation"],
            "usage": "as_is",
        },
    )
    assert swapped.status_code == 200 and swapped.text.lstrip().startswith('<div class="feedback"')
    assert "Merci" in swapped.text and 'value="12"' in swapped.text
    row = feedback.mine(db, tenant.users["agent"], output_id)
    db.refresh(row)
    assert row is not None and (row.helped, row.minutes_saved, row.problems) == (
        True,
        12,
        ["wrong_citation"],
    )


def test_absurd_minutes_explained_and_every_value_kept(
    db: Session, settings: Settings, tenant: Tenant, agent_client: tuple[TestClient, str]
) -> None:
    client, csrf = agent_client
    output_id = make_output(db, settings, tenant)
    form = {
        "csrf_token": csrf,
        "detail": "1",
        "helped": "yes",
        "minutes_saved": "600",
        "satisfaction": "3",
        "comment": "Gain énorme",
        "problems": ["bias"],
    }
    refused = client.post(f"/outputs/{output_id}/feedback", data=form)
    assert refused.status_code == 400
    assert "de 0 à 480" in refused.text and "journée de travail" in refused.text
    assert 'value="600"' in refused.text and "Gain énorme" in refused.text
    assert 'value="bias" checked' in refused.text and 'value="3" checked' in refused.text
    assert 'aria-invalid="true"' in refused.text
    fragment = client.post(
        f"/outputs/{output_id}/feedback",
        data={**form, "minutes_saved": "-1"},
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 200 and 'role="alert"' in fragment.text
    assert 'value="-1"' in fragment.text
    assert _count(db) == 0


def test_output_page_has_the_widget(
    db: Session, settings: Settings, tenant: Tenant, agent_client: tuple[TestClient, str]
) -> None:
    client, _ = agent_client
    output_id = make_output(db, settings, tenant)
    page = client.get(f"/outputs/{output_id}")
    assert page.status_code == 200 and "Votre avis" in page.text
    assert f'action="/outputs/{output_id}/feedback"' in page.text
    assert client.get(f"/outputs/{output_id}/feedback").status_code == 200


def test_api_gives_and_reads_own_feedback(
    db: Session,
    settings: Settings,
    tenant: Tenant,
    other_tenant: Tenant,
    agent_client: tuple[TestClient, str],
    app: FastAPI,
) -> None:
    client, csrf = agent_client
    output_id = make_output(db, settings, tenant)
    url = f"/api/v1/outputs/{output_id}/feedback"
    assert client.get(url).json() == {
        "output_id": output_id,
        "given": False,
        "helped": None,
        "minutes_saved": None,
        "minutes_without_ai": None,
        "satisfaction": None,
        "problems": [],
        "comment": "",
        "usage": None,
        "created_at": None,
        "updated_at": None,
    }
    assert client.post(url, json={"helped": True}).status_code == 403  # a session needs CSRF
    headers = {"X-CSRF-Token": csrf}
    given = client.post(url, json={"helped": True, "minutes_without_ai": 45}, headers=headers)
    assert given.status_code == 200 and given.json()["minutes_without_ai"] == 45
    kept = client.post(url, json={"satisfaction": 2}, headers=headers).json()
    assert (kept["helped"], kept["minutes_without_ai"], kept["satisfaction"]) == (True, 45, 2)
    bad = client.post(url, json={"minutes_saved": -3}, headers=headers)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "lab_feedback_minutes_saved"
    assert "480" in bad.json()["error"]["message"]
    with TestClient(app) as stranger:
        token = login(stranger, other_tenant.users["agent"].email)
        assert stranger.get(url).status_code == 404
        assert (
            stranger.post(url, json={"helped": True}, headers={"X-CSRF-Token": token}).status_code
            == 404
        )


def test_feedback_is_in_the_data_export_and_goes_with_output_or_account(
    db: Session, settings: Settings, tenant: Tenant, agent_client: tuple[TestClient, str]
) -> None:
    client, _ = agent_client
    agent = tenant.users["agent"]
    first, second = make_output(db, settings, tenant), make_output(db, settings, tenant)
    feedback.give(db, agent, first, {"helped": "yes", "minutes_saved": "7", "comment": "Bien"})
    feedback.give(db, agent, second, {"helped": "no"})
    archive = zipfile.ZipFile(io.BytesIO(client.get("/api/v1/me/export").content))
    exported = json.loads(archive.read("feedback.json"))
    assert [(f["output_id"], f["minutes_saved"], f["comment"]) for f in exported] == [
        (first, 7, "Bien"),
        (second, None, ""),
    ]
    db.delete(db.get(OutputRecord, first))
    db.commit()
    assert _count(db) == 1
    db.delete(db.get(type(agent), agent.id))
    db.commit()
    assert _count(db) == 0
