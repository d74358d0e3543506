"""Tenant isolation matrix (DESIGN.md §4.2): every route that takes an object id is tried
anonymously, by a user of another organisation, by another user of the same organisation for
personal objects, and by a lower role for administration objects. None may succeed, and none may
change anything in the database. A route the matrix does not know makes it fail: extend `ROUTES`
(or `NOT_OBJECTS` / `PUBLIC`) when you add one.
"""

from __future__ import annotations

import functools
import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

import pypdfium2
import pytest
from fastapi import FastAPI, Form
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.auth.passwords import hash_password
from civique.auth.service import create_api_token, create_user
from civique.chat.models import Conversation, Message
from civique.db.registry import Base
from civique.documents import service as documents
from civique.documents.models import CollectionShare, Document, DocumentSection, DocumentVersion
from civique.governance import charter, validation
from civique.lab import challenges as lab_challenges
from civique.lab import experiments as lab_experiments
from civique.lab import irritants, learning
from civique.orgs.models import Team, TeamMember, Unit
from civique.orgs.service import create_organisation
from civique.tools.letters import library
from civique.tools.translation import glossaries
from tests.helpers import Tenant, csrf_of, login, make_tenant
from tests.lab.helpers import form as lab_form
from tests.lab.helpers import lab_objects, open_challenge
from tests.tools.helpers import make_tool_output


@dataclass(frozen=True)
class Obj:
    """A form field holding the id of an object of this kind."""

    kind: str


@dataclass(frozen=True)
class Upload:
    """A file sent in the form (multipart)."""

    name: str
    content: bytes


# Path or form parameter name → kind of object it names. `model_id` names a registry model, not
# an object of an organisation.
PARAM_KINDS = {
    "conversation_id": "conversation",
    "message_id": "message",
    "user_id": "user",
    "unit_id": "unit",
    "team_id": "team",
    "token_id": "token",
    "org_id": "org",
    "collection_id": "collection",
    "share_id": "share",
    "document_id": "document",
    "number": "version",
    "output_id": "output",
    "charter_id": "charter",
    "challenge_id": "challenge",
    "lab_team_id": "lab_team",
    "experiment_id": "experiment",
    "measurement_id": "measurement",
    "page_id": "page",
    "question_id": "question",
    "glossary_id": "glossary",
    "entry_id": "glossary_entry",
    "template_id": "letter_template",
    "irritant_id": "irritant",
}
NOT_IDS = {"model_id"}
PERSONAL = {"conversation", "message", "token", "collection", "share", "document"}

# Every route taking an object id (in its path or its form), with a form that is valid for the
# owner, so that only the ownership check can refuse it. The positive control proves it.
ROUTES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/account/tokens/{token_id}/revoke"): {},
    ("GET", "/chat/{conversation_id}"): {},
    ("POST", "/chat/{conversation_id}/messages"): {"text": "Intrusion ?", "model_id": "fake/echo"},
    ("POST", "/chat/{conversation_id}/rename"): {"title": "Renommée par un intrus"},
    ("POST", "/chat/{conversation_id}/delete"): {},
    ("POST", "/chat/{conversation_id}/privacy"): {"text": "Jean Dupont", "model_id": "fake/echo"},
    ("POST", "/chat/messages/{message_id}/regenerate"): {},
    ("POST", "/chat/messages/{message_id}/stop"): {},
    ("GET", "/chat/messages/{message_id}/stream"): {},
    ("POST", "/admin/users"): {
        "name": "Intrus",
        "email": "intrus@matrix.test",
        "role": "agent",
        "unit_id": Obj("unit"),
    },
    ("GET", "/admin/users/{user_id}"): {},
    ("POST", "/admin/users/{user_id}/role"): {"role": "agent"},
    ("POST", "/admin/users/{user_id}/unit"): {"unit_id": Obj("unit")},
    ("POST", "/admin/users/{user_id}/active"): {"active": "0"},
    ("POST", "/admin/users/{user_id}/reset"): {},
    ("POST", "/admin/units/{unit_id}/delete"): {},
    ("POST", "/admin/teams"): {"name": "Équipe intruse", "unit_id": Obj("unit")},
    ("GET", "/admin/teams/{team_id}"): {},
    ("POST", "/admin/teams/{team_id}/delete"): {},
    ("POST", "/admin/teams/{team_id}/members"): {"user_id": Obj("user")},
    ("POST", "/admin/teams/{team_id}/members/{user_id}/remove"): {},
    ("POST", "/platform/orgs/{org_id}/active"): {"active": "0"},
    # An organisation-wide collection: only an administrator may create one, and the team
    # field (used by team collections) must still be a team of the caller's organisation.
    ("POST", "/collections"): {
        "name": "Collection intruse",
        "scope": "organisation",
        "team_id": Obj("team"),
    },
    ("GET", "/collections/{collection_id}"): {},
    ("POST", "/collections/{collection_id}/rename"): {"name": "Renommée par un intrus"},
    ("POST", "/collections/{collection_id}/delete"): {},
    ("POST", "/collections/{collection_id}/shares/team"): {
        "team_id": Obj("team"),
        "right": "write",
    },
    ("POST", "/collections/{collection_id}/shares/unit"): {
        "unit_id": Obj("unit"),
        "right": "write",
    },
    ("POST", "/collections/{collection_id}/shares/{share_id}/delete"): {},
    ("GET", "/api/v1/collections/{collection_id}"): {},
    ("POST", "/collections/{collection_id}/documents"): {"files": Upload("avis.txt", b"Avis.")},
    ("GET", "/collections/{collection_id}/documents/status"): {},
    ("GET", "/documents/{document_id}"): {},
    ("POST", "/documents/{document_id}/versions"): {"file": Upload("v2.txt", b"Version 2.")},
    ("GET", "/documents/{document_id}/versions/{number}/file"): {},
    ("POST", "/documents/{document_id}/delete"): {},
    ("POST", "/api/v1/collections/{collection_id}/documents"): {
        "files": Upload("avis.txt", b"Avis.")
    },
    ("GET", "/api/v1/collections/{collection_id}/documents"): {},
    ("GET", "/api/v1/documents/{document_id}"): {},
    ("GET", "/api/v1/documents/{document_id}/versions/{number}/file"): {},
    ("DELETE", "/api/v1/documents/{document_id}"): {},
    ("GET", "/documents/{document_id}/source"): {},
    ("GET", "/documents/{document_id}/page.png"): {},
    ("GET", "/collections/{collection_id}/quality"): {},
    ("GET", "/api/v1/collections/{collection_id}/quality"): {},
    # The register (data-protection officer): its filters name a unit and a user, which must be
    # of the caller's organisation; on GET the form is sent as query parameters.
    ("GET", "/register"): {"unit_id": Obj("unit"), "user_id": Obj("user")},
    ("GET", "/register/export"): {"unit_id": Obj("unit"), "user_id": Obj("user"), "format": "csv"},
    ("GET", "/register/{output_id}"): {},
    ("GET", "/api/v1/register"): {"unit_id": Obj("unit"), "user_id": Obj("user")},
    ("GET", "/api/v1/register/export"): {
        "unit_id": Obj("unit"),
        "user_id": Obj("user"),
        "format": "json",
    },
    ("GET", "/api/v1/register/{output_id}"): {},
    ("GET", "/audit"): {"actor_id": Obj("user")},
    # Human validation: the output's author, then the organisation's validators.
    ("GET", "/outputs/{output_id}"): {},
    ("POST", "/outputs/{output_id}/final"): {"text": "Texte final corrigé"},
    ("POST", "/outputs/{output_id}/submit"): {},
    ("GET", "/outputs/{output_id}/export"): {"format": "docx"},
    ("GET", "/api/v1/outputs/{output_id}"): {},
    ("POST", "/api/v1/outputs/{output_id}/submit"): {},
    ("GET", "/api/v1/outputs/{output_id}/export"): {"format": "odt"},
    ("GET", "/validation/{output_id}"): {},
    ("POST", "/validation/{output_id}/decide"): {"decision": "approve", "comment": "Conforme"},
    ("POST", "/api/v1/outputs/{output_id}/validate"): {"decision": "approve", "comment": "OK"},
    ("GET", "/admin/policy/charter/{charter_id}"): {},
    # Drafting tools: the outputs here are tool outputs (see World), so regenerating works.
    ("POST", "/outputs/{output_id}/regenerate"): {},
    ("GET", "/outputs/{output_id}/compare"): {},
    ("POST", "/outputs/{output_id}/proofreading"): {
        "name": "Léa Martin", "role": "relectrice formée", "checked_on": "2026-12-01"
    },
    # The drafting tools' data: glossaries (every member reads), letter templates, entries.
    ("GET", "/glossaries/{glossary_id}"): {},
    ("GET", "/glossaries/{glossary_id}/export.csv"): {},
    ("GET", "/admin/glossaries/{glossary_id}"): {},
    ("POST", "/admin/glossaries/{glossary_id}"): {"name": "Renommé par un intrus"},
    ("POST", "/admin/glossaries/{glossary_id}/delete"): {},
    ("POST", "/admin/glossaries/{glossary_id}/import"): {
        "file": Upload("g.csv", b"term,language,translation\nintrusion,en,intrusion\n"),
        "mode": "replace",
    },
    ("POST", "/admin/glossaries/{glossary_id}/entries"): {
        "term": "intrusion", "language": "en", "translation": "intrusion"
    },
    ("GET", "/admin/glossaries/entries/{entry_id}"): {},
    ("POST", "/admin/glossaries/entries/{entry_id}"): {
        "term": "mairie", "language": "en", "translation": "intruded"
    },
    ("POST", "/admin/glossaries/entries/{entry_id}/delete"): {},
    ("GET", "/admin/letter-templates/{template_id}"): {},
    ("GET", "/admin/letter-templates/{template_id}/edit"): {},
    ("POST", "/admin/letter-templates/{template_id}"): {
        "kind": "reply", "title": "Modèle de l'intrus", "body": "Objet : intrusion"
    },
    ("POST", "/admin/letter-templates/{template_id}/enabled"): {"enabled": "0"},
    # The Lab: feedback by whoever may read the output; irritants and dashboards (leads).
    ("GET", "/outputs/{output_id}/feedback"): {},
    ("POST", "/outputs/{output_id}/feedback"): {"helped": "yes"},
    ("GET", "/api/v1/outputs/{output_id}/feedback"): {},
    ("POST", "/api/v1/outputs/{output_id}/feedback"): {"helped": True, "minutes_saved": 5},
    ("GET", "/lab/irritants"): {"unit_id": Obj("unit")},
    ("POST", "/lab/irritants"): {
        "title": "Irritant intrus",
        "minutes_per_task": "10",
        "tasks_per_month": "10",
        "people_affected": "2",
        "unit_id": Obj("unit"),
    },
    ("GET", "/lab/irritants/{irritant_id}"): {},
    ("POST", "/lab/irritants/{irritant_id}"): {
        "title": "Modifié par un intrus",
        "minutes_per_task": "1",
        "tasks_per_month": "1",
        "people_affected": "1",
    },
    ("POST", "/lab/irritants/{irritant_id}/status"): {"status": "dropped"},
    ("GET", "/lab/dashboards"): {"unit_id": Obj("unit"), "challenge_id": Obj("challenge")},
    ("GET", "/lab/dashboards/export"): {
        "unit_id": Obj("unit"),
        "challenge_id": Obj("challenge"),
        "figure": "pipeline",
    },
}

# The Lab: who may call each route. LEAD: the innovation lead (an agent of the same
# organisation is refused); MEMBER: a member of the challenge team (the DPO, in no team and
# coaching nothing, is refused); ORG: anyone of the organisation (a challenge's page, learning
# path, quiz and showcase), so only another organisation and anonymous callers are refused.
LEAD, MEMBER, ORG = ("innovation_lead", "agent"), ("agent", "dpo"), ("agent", None)
_CHALLENGE_FORM = {
    "title": "Défi modifié", "status": "open", "audience": "organisation", "pass_mark": "80",
    **lab_form().dates,
}
LAB_ROUTES: dict[tuple[str, str], tuple[dict[str, Any], tuple[str, str | None]]] = {
    ("GET", "/lab/challenges/{challenge_id}"): ({}, ORG),
    ("GET", "/lab/challenges/{challenge_id}/edit"): ({}, LEAD),
    ("POST", "/lab/challenges/{challenge_id}"): (_CHALLENGE_FORM, LEAD),
    ("POST", "/lab/challenges/{challenge_id}/coaches"): ({"user_id": Obj("user")}, LEAD),
    ("POST", "/lab/challenges/{challenge_id}/coaches/{user_id}/remove"): ({}, LEAD),
    ("POST", "/lab/challenges/{challenge_id}/register"): ({}, ORG),
    ("POST", "/lab/challenges/{challenge_id}/leave"): ({}, ORG),
    ("POST", "/lab/challenges/{challenge_id}/teams"): ({"name": "Équipe du labo"}, ORG),
    ("POST", "/lab/teams/{lab_team_id}/join"): ({}, ORG),
    ("POST", "/lab/teams/{lab_team_id}/leave"): ({}, MEMBER),
    ("GET", "/lab/challenges/{challenge_id}/learning"): ({}, ORG),
    ("GET", "/lab/challenges/{challenge_id}/learning/edit"): ({}, LEAD),
    ("POST", "/lab/challenges/{challenge_id}/learning/pages"): ({"title": "Page intruse"}, LEAD),
    ("POST", "/lab/challenges/{challenge_id}/learning/default"): ({}, LEAD),
    ("POST", "/lab/learning/pages/{page_id}"): ({"title": "Page intruse"}, LEAD),
    ("POST", "/lab/learning/pages/{page_id}/delete"): ({}, LEAD),
    ("POST", "/lab/challenges/{challenge_id}/quiz/questions"): (
        {"text": "Intrus ?", "choices": ["Oui", "Non"], "correct": "0"}, LEAD
    ),
    ("POST", "/lab/quiz/questions/{question_id}/delete"): ({}, LEAD),
    ("GET", "/lab/challenges/{challenge_id}/quiz"): ({}, ORG),
    ("POST", "/lab/challenges/{challenge_id}/quiz"): ({}, ORG),
    ("GET", "/lab/teams/{lab_team_id}"): ({}, MEMBER),
    ("POST", "/lab/teams/{lab_team_id}/experiments"): ({"title": "Essai intrus"}, MEMBER),
    ("GET", "/lab/experiments/{experiment_id}"): ({}, MEMBER),
    ("POST", "/lab/experiments/{experiment_id}/step"): (
        {"step": "learnings", "learnings": "Intrusion"}, MEMBER
    ),
    ("POST", "/lab/experiments/{experiment_id}/status"): ({"status": "concluded"}, MEMBER),
    ("POST", "/lab/experiments/{experiment_id}/outputs"): ({"output_id": Obj("output")}, MEMBER),
    ("POST", "/lab/experiments/{experiment_id}/outputs/{output_id}/remove"): ({}, MEMBER),
    ("POST", "/lab/experiments/{experiment_id}/measurements"): (
        {"label": "Temps", "unit": "minutes", "value": "3"}, MEMBER
    ),
    ("POST", "/lab/measurements/{measurement_id}/delete"): ({}, MEMBER),
    ("POST", "/lab/experiments/{experiment_id}/comments"): (
        {"step": "tests", "body": "Intrusion"}, MEMBER
    ),
    ("POST", "/lab/experiments/{experiment_id}/publish"): ({"published": "0"}, MEMBER),
    ("POST", "/lab/experiments/{experiment_id}/delete"): ({}, MEMBER),
    ("GET", "/lab/challenges/{challenge_id}/board"): ({"lab_team_id": Obj("lab_team")}, ORG),
    ("GET", "/lab/challenges/{challenge_id}/showcase"): ({}, ORG),
    ("GET", "/lab/challenges/{challenge_id}/showcase.csv"): ({}, ORG),
    ("GET", "/lab/showcase/{experiment_id}"): ({}, ORG),
    ("GET", "/lab/showcase/{experiment_id}/pdf"): ({}, ORG),
}
ROUTES.update({key: form for key, (form, _who) in LAB_ROUTES.items()})
LAB_KINDS = {"challenge", "lab_team", "experiment", "measurement", "page", "question"}

# Routes without object ids that change the caller's own organisation, with a valid form: done
# by another organisation's administrator, they must leave every row of organisation A as it was.
ORG_ROUTES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/admin/policy"): {"tools": "chat", "conversations_days": "30", "legal_hold": "1"},
    ("PUT", "/api/v1/policy"): {
        "validation_tools": ["api.chat"],
        "retention_days": {
            "conversations": 10, "documents": 20, "audio": None, "vault": 5, "register": 3650
        },
        "legal_hold": False,
    },
    ("POST", "/admin/policy/charter"): {"text": "Charte de l'intrus"},
    ("POST", "/charter/accept"): {"version": "2"},  # the version published just before
    ("POST", "/admin/tools"): {"validation-plain_language": "always"},
    ("POST", "/admin/glossaries"): {"name": "Glossaire de l'intrus"},
    ("POST", "/admin/letter-templates"): {
        "kind": "reply", "title": "Modèle de l'intrus", "body": "Objet : intrusion"
    },
    ("POST", "/admin/jargon"): {"term": "intrusion", "suggestion": "entrée"},
    ("POST", "/admin/jargon/remove"): {"term": "nonobstant"},
    ("POST", "/admin/jargon/restore"): {"keep_own": "0"},
}

# Routes whose form is sent as a JSON body (API routes with a pydantic body).
JSON_ROUTES = {
    ("POST", "/api/v1/outputs/{output_id}/validate"),
    ("POST", "/api/v1/outputs/{output_id}/feedback"),
}
# Routes that act on an output awaiting validation: their positive control submits it first.
PENDING_ROUTES = {"/validation/{output_id}/decide", "/api/v1/outputs/{output_id}/validate"}

# Routes whose rightful caller has a role other than org admin (by path prefix); their attacker
# from the other organisation has the same role, so only the organisation check can refuse.
# The longest matching prefix wins. "author": the output's author (organisation A's agent, who
# made the test outputs) is the rightful caller; in the same organisation, a user who is neither
# the author nor a reader of others' outputs (validators, DPO, administrators) is refused.
ROLE_OF_PATH = {
    "/register": "dpo",
    "/api/v1/register": "dpo",
    "/outputs": "author",
    "/api/v1/outputs": "author",
    "/validation": "validator",
    "/api/v1/outputs/{output_id}/validate": "validator",
    "/glossaries": "agent",
    "/lab/irritants": "innovation_lead",
    "/lab/dashboards": "innovation_lead",
}
NOT_A_READER = "a:innovation_lead"

# Routes with a path parameter that is not an object of an organisation.
NOT_OBJECTS = {
    ("GET", "/lang/{code}"): "a language code",
    ("GET", "/invite/{token}"): "the one-time secret is the credential (tests/orgs)",
    ("POST", "/invite/{token}"): "the one-time secret is the credential (tests/orgs)",
    ("GET", "/reset/{token}"): "the one-time secret is the credential (tests/orgs)",
    ("POST", "/reset/{token}"): "the one-time secret is the credential (tests/orgs)",
    ("GET", "/tools/{tool_id}"): "a registered tool, on or off per organisation (tests/tools)",
    ("POST", "/tools/{tool_id}"): "a registered tool, on or off per organisation (tests/tools)",
    ("POST", "/api/v1/tools/{tool_id}/runs"): "a registered tool, per organisation (tests/tools)",
}

# Routes without parameters that anyone may call without logging in.
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/docs"),
}

# Columns that legitimately change when someone merely logs in or calls the API.
VOLATILE = {("users", "last_login_at"), ("api_tokens", "last_used_at")}
SKIPPED_TABLES = {"login_failures"}
MARKERS = ("Zq7", "Org alpha", "@alpha.test", " alpha")


@dataclass(frozen=True)
class RouteSpec:
    """A route of the app and the object ids it takes."""

    method: str
    path: str
    slots: tuple[tuple[str, str], ...]  # (parameter or form field, kind)
    form: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.path

    @property
    def personal(self) -> bool:
        return any(kind in PERSONAL for _, kind in self.slots)


def _app_routes(app: FastAPI) -> Iterator[tuple[str, str, APIRoute]]:
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path:
            for method in sorted(context.methods or ()):
                if method != "HEAD":
                    yield method, context.path, route


def _param_names(dependant: Dependant) -> tuple[list[str], list[str]]:
    """Path, and body or query, parameter names of a route and of its dependencies."""
    path = [p.name for p in dependant.path_params]
    others = [p.name for p in (*dependant.body_params, *dependant.query_params)]
    for sub in dependant.dependencies:
        sub_path, sub_others = _param_names(sub)
        path += [n for n in sub_path if n not in path]
        others += [n for n in sub_others if n not in others]
    return path, others


def _id_params(path: str, route: APIRoute) -> tuple[list[str], list[str]]:
    """Path parameters, and form or query fields that look like object ids (also those read by
    the route's dependencies, such as a filter object)."""
    path_params, others = _param_names(route.dependant)
    return path_params, [n for n in others if n.endswith("_id") and n not in NOT_IDS]


def _specs(app: FastAPI) -> tuple[list[RouteSpec], list[str]]:
    """The routes to exercise, and the problems: routes the matrix cannot exercise."""
    specs, problems, seen = [], [], set()
    for method, path, route in _app_routes(app):
        key = (method, path)
        seen.add(key)
        path_params, form_ids = _id_params(path, route)
        if key in NOT_OBJECTS or not (path_params or form_ids):
            continue
        if key not in ROUTES:
            problems.append(f"{method} {path}: takes {path_params + form_ids}, not in ROUTES")
            continue
        form = ROUTES[key]
        unknown = [p for p in path_params if p not in PARAM_KINDS]
        unknown += [f for f in form_ids if not isinstance(form.get(f), Obj)]
        if unknown:
            problems.append(f"{method} {path}: no object kind for {unknown}")
            continue
        slots = tuple((p, PARAM_KINDS[p]) for p in path_params) + tuple(
            (name, value.kind) for name, value in form.items() if isinstance(value, Obj)
        )
        specs.append(RouteSpec(method, path, slots, form))
    problems += [
        f"{m} {p}: in the matrix but gone from the app" for m, p in ROUTES if (m, p) not in seen
    ]
    return specs, problems


# The objects -----------------------------------------------------------------------------------


class World:
    """Two organisations with one object of each kind, and logged-in clients."""

    def __init__(self, app: FastAPI, db: Session) -> None:
        self.app, self.db = app, db
        self.a = make_tenant(db, "alpha")
        self.b = make_tenant(db, "beta")
        self.counter = itertools.count()
        self.last_collection = 0  # the fresh collection a fresh share belongs to
        self.lab_challenge: int | None = None  # a fresh bare challenge, for a fresh team in it
        self.lab_experiment: int | None = None  # a fresh experiment, to link a fresh output to
        self.objects = {"a": self._objects(self.a), "b": self._objects(self.b)}
        self.clients: dict[str, tuple[TestClient, str]] = {}

    def _objects(self, tenant: Tenant) -> dict[str, int]:
        marker = "Zq7" if tenant is self.a else "Yw4"
        owner = tenant.users["agent"]
        unit = Unit(org_id=tenant.org.id, name=f"Unité {marker}")
        self.db.add(unit)
        self.db.flush()
        team = Team(org_id=tenant.org.id, name=f"Équipe {marker}", unit_id=unit.id)
        self.db.add(team)
        self.db.flush()
        self.db.add(TeamMember(team_id=team.id, user_id=tenant.users["validator"].id))
        conversation, message = self._conversation(tenant, marker)
        _token, _ = create_api_token(self.db, owner, f"Jeton {marker}")
        collection = documents.create_collection(self.db, owner, f"Collection {marker}", "personal")
        share = documents.share(self.db, owner, collection.id, "read", team_id=team.id)
        document = self._document(tenant, collection.id, marker)
        output = make_tool_output(self.db, self.app.state.settings, tenant, f"Courrier {marker}")
        return {
            **lab_objects(self.db, tenant, marker, output),
            "document": document,
            "version": 1,  # every document here has one version, number 1
            "collection": collection.id,
            "share": share.id,
            "conversation": conversation,
            "message": message,
            "token": _token.id,
            "user": tenant.users["validator"].id,
            "unit": unit.id,
            "team": team.id,
            "org": tenant.org.id,
            "output": output,
            "charter": self._charter(tenant, marker),
            "irritant": self._irritant(tenant, unit.id, marker),
            **self._tools_data(tenant, marker),
        }

    def _tools_data(self, tenant: Tenant, marker: str) -> dict[str, int]:
        """A glossary with one entry, and a letter template of the organisation."""
        admin = tenant.users["org_admin"]
        glossary = glossaries.create_glossary(self.db, admin, f"Glossaire {marker}")
        entry = glossaries.add_entry(self.db, admin, glossary.id, f"terme {marker}", "en", "term")
        template = library.create_template(
            self.db, admin, "reply", f"Modèle {marker}", "", [], "Objet : essai"
        )
        return {"glossary": glossary.id, "glossary_entry": entry.id,
                "letter_template": int(template.id)}

    def _irritant(self, tenant: Tenant, unit_id: int, marker: str) -> int:
        """An irritant of the unit (its agents and the organisation's leads see it)."""
        lead = tenant.users["innovation_lead"]
        form = {"title": f"Irritant {marker}", "minutes_per_task": "10",
                "tasks_per_month": "20", "people_affected": "3"}
        return irritants.create(self.db, lead, form, unit_id=unit_id).id

    def _charter(self, tenant: Tenant, marker: str) -> int:
        """A new charter version, accepted by every user of the tenant (so that the gate lets
        the positive controls through, and the refusals come from the ownership checks)."""
        published = charter.publish(self.db, tenant.users["org_admin"], f"Charte {marker}")
        for user in tenant.users.values():
            charter.accept(self.db, user, published.version)
        return published.id

    def _conversation(self, tenant: Tenant, marker: str) -> tuple[int, int]:
        owner = tenant.users["agent"]
        conv = Conversation(
            org_id=tenant.org.id, user_id=owner.id, model_id="fake/echo", title=f"Dossier {marker}"
        )
        self.db.add(conv)
        self.db.flush()
        question = Message(conversation_id=conv.id, role="user", content=f"Question {marker}")
        reply = Message(
            conversation_id=conv.id,
            role="assistant",
            status="done",
            content=f"Réponse {marker}",
            model_id="fake/echo",
        )
        self.db.add_all([question, reply])
        self.db.commit()
        return conv.id, reply.id

    def _document(self, tenant: Tenant, collection_id: int, marker: str) -> int:
        """A ready one-page PDF document with its parsed text."""
        pdf = pypdfium2.PdfDocument.new()
        pdf.new_page(200, 200)
        buffer = io.BytesIO()
        pdf.save(buffer)
        key, sha = self.app.state.jobs.ingest.store.put(tenant.org.id, buffer.getvalue())
        document = Document(
            org_id=tenant.org.id, collection_id=collection_id, title=f"Document {marker}",
            filename="page.pdf",
        )
        self.db.add(document)
        self.db.flush()
        version = DocumentVersion(
            document_id=document.id, org_id=tenant.org.id, collection_id=collection_id, number=1,
            filename="page.pdf", sha256=sha, size_bytes=len(buffer.getvalue()),
            media_type="application/pdf", storage_key=key, status="ready", page_count=1,
        )
        self.db.add(version)
        self.db.flush()
        section = DocumentSection(version_id=version.id, ordinal=0, page=1, text=f"Texte {marker}")
        self.db.add(section)
        document.current_version_id = version.id
        self.db.commit()
        return document.id

    def fresh(self, kind: str, pending: bool = False) -> int:
        """A new object of organisation A, for a positive control that may change or delete it
        (`pending`: an output submitted for validation by its author)."""
        n = next(self.counter)
        if kind in ("conversation", "message"):
            conv, reply = self._conversation(self.a, f"frais {n}")
            return conv if kind == "conversation" else reply
        if kind == "version":
            return 1
        if kind in LAB_KINDS:
            return self._fresh_lab(kind, n)
        if kind == "output":
            output_id = make_tool_output(self.db, self.app.state.settings, self.a, f"Frais {n}")
            if self.lab_experiment is not None:  # the route removes it from that experiment
                lab_experiments.link_output(
                    self.db, self.a.users["agent"], self.lab_experiment, output_id
                )
                self.lab_experiment = None
            if pending:
                validation.submit(self.db, self.a.users["agent"], output_id)
            return output_id
        if kind == "charter":
            return self._charter(self.a, f"frais {n}")
        if kind in ("glossary", "glossary_entry", "letter_template"):
            return self._tools_data(self.a, f"frais {n}")[kind]
        if kind == "irritant":
            return self._irritant(self.a, self.objects["a"]["unit"], f"frais {n}")
        if kind == "document":
            owner = self.a.users["agent"]
            collection = documents.create_collection(self.db, owner, f"Docs {n}", "personal")
            return self._document(self.a, collection.id, f"frais {n}")
        if kind == "collection":
            owner = self.a.users["agent"]
            self.last_collection = documents.create_collection(
                self.db, owner, f"Frais {n}", "personal"
            ).id
            return self.last_collection
        if kind == "share":  # on the collection made just before for the same route
            unit = Unit(org_id=self.a.org.id, name=f"Frais {n}")
            self.db.add(unit)
            self.db.flush()
            row = CollectionShare(collection_id=self.last_collection, unit_id=unit.id)
            self.db.add(row)
            self.db.commit()
            return row.id
        if kind == "token":
            return create_api_token(self.db, self.a.users["agent"], f"frais {n}")[0].id
        if kind == "user":
            return create_user(
                self.db, self.a.org.id, f"frais{n}@alpha.test", f"Frais {n}", "validator"
            ).id
        if kind == "org":
            return create_organisation(self.db, None, f"frais-{n}", f"Frais {n}", []).id
        model = Unit if kind == "unit" else Team
        row = model(org_id=self.a.org.id, name=f"Frais {n}")
        self.db.add(row)
        self.db.commit()
        return row.id

    def _fresh_lab(self, kind: str, n: int) -> int:
        """A fresh Lab object of organisation A: a bare open challenge (no team yet), a team
        in the fresh challenge made just before for the same route, or a whole set."""
        agent = self.a.users["agent"]
        if kind == "challenge":
            lead = self.a.users["innovation_lead"]
            challenge_id = open_challenge(self.db, lead, title=f"Frais {n}").id
            learning.add_question(self.db, lead, challenge_id, "Prêt ?", ["Oui", "Non"], [0])
            self.lab_challenge = challenge_id
            return challenge_id
        pending, self.lab_challenge = self.lab_challenge, None
        if kind == "lab_team" and pending is not None:
            team = lab_challenges.create_team(self.db, agent, pending, f"Frais {n}", "")
            return team.id
        output = make_tool_output(self.db, self.app.state.settings, self.a, f"Frais {n}")
        made = lab_objects(self.db, self.a, f"frais {n}", output)
        self.lab_experiment = made["experiment"] if kind == "experiment" else None
        return made[kind]

    def client(self, who: str) -> tuple[TestClient, str]:
        """A logged-in client for "a:agent", "b:org_admin"…, or "anonymous"."""
        if who not in self.clients:
            client = TestClient(self.app)
            if who == "anonymous":
                self.clients[who] = (client, csrf_of(client.get("/login").text))
            else:
                tenant = self.a if who.startswith("a:") else self.b
                self.clients[who] = (client, login(client, tenant.users[who[2:]].email))
        return self.clients[who]

    def snapshot(self, org_id: int | None = None) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table (but volatile columns), to prove nothing changed; with
        `org_id`, only the rows of the tables that name their organisation, of that one."""
        state = {}
        with self.app.state.engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                if table.name in SKIPPED_TABLES or (org_id and "org_id" not in table.columns):
                    continue
                columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE]
                stmt = select(*columns).order_by(*table.primary_key.columns)
                if org_id:
                    stmt = stmt.where(table.columns["org_id"] == org_id)
                state[table.name] = [tuple(row) for row in conn.execute(stmt)]
        return state


def _call(world: World, who: str, spec: RouteSpec, ids: dict[str, int]) -> Any:
    client, csrf = world.client(who)
    url = spec.path.format(
        **{name: ids[name] for name, _ in spec.slots if f"{{{name}}}" in spec.path}
    )
    plain = {n: v for n, v in spec.form.items() if not isinstance(v, Upload)}
    data = {n: str(ids[n]) if isinstance(v, Obj) else v for n, v in plain.items()}
    if spec.method == "GET":
        return client.get(url, params=data, follow_redirects=False)
    headers = {"x-csrf-token": csrf}  # what our pages' scripts send (the API wants it too)
    if spec.method == "DELETE":
        return client.delete(url, headers=headers, follow_redirects=False)
    if spec.key in JSON_ROUTES:
        return client.post(url, json=data, headers=headers, follow_redirects=False)
    files = {n: (v.name, v.content) for n, v in spec.form.items() if isinstance(v, Upload)}
    return client.post(
        url,
        data={"csrf_token": csrf, **data},
        files=files or None,
        headers=headers,
        follow_redirects=False,
    )


def _refused_anonymously(response: Any, path: str) -> bool:
    if path.startswith("/api/"):
        return bool(response.status_code == 401)
    return response.status_code == 303 and response.headers["location"].startswith("/login")


def _role(spec: RouteSpec) -> str:
    """The role that may use the route in its own organisation."""
    if spec.key in LAB_ROUTES:
        return LAB_ROUTES[spec.key][1][0]
    found = [prefix for prefix in ROLE_OF_PATH if spec.path.startswith(prefix)]
    return ROLE_OF_PATH[max(found, key=len)] if found else "org_admin"


def _user_role(spec: RouteSpec) -> str:
    """The role of the rightful caller's account (an output's author is an agent)."""
    role = _role(spec)
    return "agent" if role == "author" else role


def _attacks(world: World, spec: RouteSpec) -> Iterator[tuple[str, dict[str, int], str]]:
    """(who, ids, expectation) for every way this route must be refused."""
    victim = {name: world.objects["a"][kind] for name, kind in spec.slots}
    yield "anonymous", victim, "login"
    # Another organisation's user of the same role: every mix of their own and the victim's ids.
    for choice in itertools.product("ab", repeat=len(spec.slots)):
        if "a" in choice:
            ids = {
                name: world.objects[side][kind]
                for (name, kind), side in zip(spec.slots, choice, strict=True)
            }
            yield f"b:{_user_role(spec)}", ids, "refused"
    if spec.key in LAB_ROUTES:
        outsider = LAB_ROUTES[spec.key][1][1]
        if outsider is not None:
            yield f"a:{outsider}", victim, "refused"
    elif _role(spec) == "author":
        yield NOT_A_READER, victim, "refused"
    elif spec.personal:
        yield "a:org_admin", victim, "refused"  # not the owner, even as an administrator
    elif _role(spec) != "agent" and not any(kind == "org" for _, kind in spec.slots):
        yield "a:agent", victim, "refused"  # same organisation, role without the right


def _owner(spec: RouteSpec) -> str:
    if spec.personal:
        return "a:agent"
    return "a:platform_admin" if any(k == "org" for _, k in spec.slots) else f"a:{_user_role(spec)}"


_hash_once = functools.cache(hash_password)


@pytest.fixture
def world(app: FastAPI, db: Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """Both organisations and their objects; clients closed at the end."""
    # Twelve argon2 hashes of the same test password would dominate the run: hash it once.
    with monkeypatch.context() as patch:
        patch.setattr("civique.auth.service.hash_password", _hash_once)
        built = World(app, db)
    yield built
    for client, _ in built.clients.values():
        client.close()


# The tests -------------------------------------------------------------------------------------


def test_every_route_with_an_object_id_is_known_to_the_matrix(app: FastAPI) -> None:
    specs, problems = _specs(app)
    assert not problems, "extend tests/test_tenant_isolation.py:\n" + "\n".join(problems)
    assert len(specs) >= 20


def test_no_route_lets_an_outsider_reach_or_change_an_object(world: World) -> None:
    specs, problems = _specs(world.app)
    assert not problems, problems
    failures = []
    # Log everyone in first: a login is written to the audit log, the attacks must write nothing.
    for who in ("anonymous", "a:agent", "a:org_admin", "a:platform_admin", "a:dpo", "b:org_admin",
                "b:dpo", "b:agent", "b:validator", "a:validator", NOT_A_READER,
                "b:innovation_lead"):
        world.client(who)
    before = world.snapshot()
    for spec in specs:
        for who, ids, expected in _attacks(world, spec):
            response = _call(world, who, spec, ids)
            ok = (
                _refused_anonymously(response, spec.path)
                if expected == "login"
                else response.status_code in (403, 404)
            )
            if not ok:
                failures.append(
                    f"{spec.method} {spec.path} as {who} {ids}: "
                    f"{response.status_code} {response.text[:120]!r}"
                )
            elif "Zq7" in response.text:
                failures.append(f"{spec.method} {spec.path} as {who}: shows the object")
            after = world.snapshot()
            if after != before:
                changed = [t for t in after if after[t] != before.get(t)]
                failures.append(f"{spec.method} {spec.path} as {who} changed {changed}")
                before = after
    assert not failures, "\n".join(failures)
    # Positive control: the rightful user succeeds with the same forms, so the refusals above
    # came from the ownership checks and not from a malformed request.
    for spec in specs:
        world.lab_challenge = None  # a fresh team goes in a fresh challenge of the same route
        ids = {name: world.fresh(kind, spec.path in PENDING_ROUTES) for name, kind in spec.slots}
        response = _call(world, _owner(spec), spec, ids)
        if response.status_code not in (200, 303):
            failures.append(f"owner {spec.method} {spec.path}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_anonymous_callers_get_nothing_from_routes_without_ids(world: World) -> None:
    client, csrf = world.client("anonymous")
    before = world.snapshot()
    checked = 0
    for method, path, _route in _app_routes(world.app):
        if "{" in path or (method, path) in PUBLIC:
            continue
        if method == "GET":
            response = client.get(path, follow_redirects=False)
        else:
            response = client.request(
                method, path, data={"csrf_token": csrf}, follow_redirects=False
            )
        assert _refused_anonymously(response, path), f"{method} {path}: {response.status_code}"
        checked += 1
    assert checked >= 15
    assert world.snapshot() == before


def test_pages_and_api_of_another_organisation_never_show_its_names(world: World) -> None:
    pages = [
        path for method, path, _ in _app_routes(world.app) if method == "GET" and "{" not in path
    ]
    must_answer = {
        "/",
        "/admin/users",
        "/api/v1/models",
        "/admin/units",
        "/admin/teams",
        "/account",
        "/admin/policy",
        "/api/v1/policy",
        "/charter",
    }
    for who in ("b:org_admin", "b:agent"):
        client, _ = world.client(who)
        for path in pages:
            response = client.get(path, follow_redirects=False)
            if path in must_answer and who == "b:org_admin":
                assert response.status_code == 200, path
            body = response.text
            leaks = [m for m in MARKERS if m in body]
            assert not leaks, f"{path} shows {leaks} to {who}"
    # The users page lists exactly the organisation's own accounts.
    client, _ = world.client("b:org_admin")
    listed = client.get("/admin/users").text.count('href="/admin/users/')
    own = world.db.scalars(select(User.id).where(User.org_id == world.b.org.id)).all()
    assert listed == len(own) == len(world.b.users)
    # Sanity: the markers are real, the owner does see them.
    client, _ = world.client("a:org_admin")
    assert "Unité Zq7" in client.get("/admin/units").text
    agent, _ = world.client("a:agent")
    assert "Dossier Zq7" in agent.get("/").text
    assert "Collection Zq7" in agent.get("/collections").text


def test_the_matrix_fails_on_a_route_it_does_not_know(app: FastAPI) -> None:
    def widget(widget_id: int) -> dict[str, int]:
        return {"id": widget_id}

    def gadget(gadget_id: Annotated[str, Form()] = "") -> dict[str, str]:
        return {"id": gadget_id}

    app.add_api_route("/widgets/{widget_id}", widget, methods=["GET"])
    app.add_api_route("/gadgets", gadget, methods=["POST"])
    _, problems = _specs(app)
    assert any(p.startswith("GET /widgets/{widget_id}") for p in problems), problems
    assert any(p.startswith("POST /gadgets") for p in problems), problems


def test_organisation_wide_routes_change_only_the_callers_organisation(world: World) -> None:
    known = {(m, p) for m, p, _ in _app_routes(world.app)}
    assert set(ORG_ROUTES) <= known, set(ORG_ROUTES) - known
    client, csrf = world.client("b:org_admin")
    before = world.snapshot(world.a.org.id)
    for (method, path), form in ORG_ROUTES.items():
        if path.startswith("/api/"):
            response = client.request(method, path, json=form, headers={"x-csrf-token": csrf})
        else:
            data = {"csrf_token": csrf, **form}
            response = client.request(method, path, data=data, follow_redirects=False)
        assert response.status_code in (200, 303), (path, response.status_code, response.text)
        assert "Zq7" not in response.text, path
    assert world.snapshot(world.a.org.id) == before
    # Positive control: organisation B's charter did change, and its admin accepted it.
    current = charter.current(world.db, world.b.org.id)
    assert current is not None and current.text == "Charte de l'intrus"
    assert charter.pending(world.db, world.b.users["org_admin"]) is None
