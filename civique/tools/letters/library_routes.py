"""Letter template pages: administrators list, read, create, edit (new version) and disable."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from civique.auth.models import User
from civique.errors import UserError
from civique.i18n import gettext
from civique.orgs.pages import done, failed, page
from civique.tools.letters import library
from civique.tools.letters.library import KIND_LABELS, VARIABLE_TYPES, LetterTemplate, Variable
from civique.web.deps import DB, check_csrf, require

router = APIRouter()
Admin = Annotated[User, Depends(require("tools.manage_letter_templates"))]
Csrf = [Depends(check_csrf)]
Short = Annotated[str, Form(max_length=1000)]
Body = Annotated[str, Form(max_length=library.MAX_BODY + 1000)]
Values = Annotated[list[str] | None, Form()]
EMPTY_ROWS = 3  # blank variable rows offered under the template's own


def _kinds() -> list[tuple[str, str]]:
    return [(kind, gettext(label)) for kind, label in KIND_LABELS.items()]


def _types() -> list[tuple[str, str]]:
    return [(t, gettext(label)) for t, label in VARIABLE_TYPES.items()]


def _form_of(template: LetterTemplate | None) -> dict[str, Any]:
    if template is None:
        return {"kind": "reply", "title": "", "description": "", "body": "", "variables": []}
    return {
        "kind": template.kind,
        "title": template.title_for(),
        "body": template.body,
        "description": template.description_for(),
        "variables": [
            {"name": v.name, "label": v.label_for(), "type": v.type, "required": v.required}
            for v in template.variables
        ],
    }


def _variables(
    names: list[str] | None,
    labels: list[str] | None,
    types: list[str] | None,
    required: list[str] | None,
) -> list[Variable]:
    """The variable rows of the form; a row without a name is ignored (the blank ones)."""
    names, labels, types, chosen = names or [], labels or [], types or [], set(required or [])
    found = []
    for i, name in enumerate(names):
        if not name.strip():
            continue
        label = labels[i] if i < len(labels) else ""
        kind = types[i] if i < len(types) else "text"
        found.append(Variable(name.strip(), " ".join(label.split()), kind, str(i) in chosen))
    return found


def _edit_page(
    request: Request,
    form: dict[str, Any],
    template_id: str | None,
    status: int = 200,
    **context: Any,
) -> Response:
    rows = (
        list(form["variables"])
        + [{"name": "", "label": "", "type": "text", "required": False}] * EMPTY_ROWS
    )
    return page(
        request,
        "tools/letter_template_edit.html",
        status,
        form=form,
        rows=rows,
        template_id=template_id,
        kinds=_kinds(),
        types=_types(),
        **context,
    )


@router.get("/admin/letter-templates", name="admin_letter_templates")
def list_page(request: Request, actor: Admin, db: DB) -> Response:
    """Built-in and own templates, with their state."""
    templates = library.list_templates(db, actor.org_id, include_disabled=True)
    return page(
        request,
        "tools/letter_template_list.html",
        templates=templates,
        kind_labels={k: gettext(v) for k, v in KIND_LABELS.items()},
    )


@router.get("/admin/letter-templates/new")
def new_page(request: Request, actor: Admin, db: DB, start: str = "") -> Response:
    """The form for a new template, empty or starting from a built-in one."""
    base = library.builtins().get(start)
    form = _form_of(base)
    if base is not None:
        form["title"] = gettext("%(title)s (copy)", title=form["title"])
    return _edit_page(request, form, None)


def _posted(
    kind: str, title: str, description: str, body: str, variables: list[Variable]
) -> dict[str, Any]:
    return {
        "kind": kind,
        "title": title,
        "description": description,
        "body": body,
        "variables": [v.__dict__ for v in variables],
    }


@router.post("/admin/letter-templates", dependencies=Csrf)
def create(
    request: Request,
    actor: Admin,
    db: DB,
    kind: Short = "",
    title: Short = "",
    description: Body = "",
    body: Body = "",
    var_name: Values = None,
    var_label: Values = None,
    var_type: Values = None,
    var_required: Values = None,
) -> Response:
    """Create a template of the organisation (version 1)."""
    variables = _variables(var_name, var_label, var_type, var_required)
    try:
        template = library.create_template(db, actor, kind, title, description, variables, body)
    except UserError as exc:
        status, message = failed(db, exc)
        form = _posted(kind, title, description, body, variables)
        return _edit_page(request, form, None, status, error=message)
    return done(
        request, f"/admin/letter-templates/{template.id}", gettext("The template was created.")
    )


def _view(
    request: Request,
    db: Session,
    actor: User,
    template_id: str,
    status: int = 200,
    **context: Any,
) -> Response:
    template = library.get_template(db, actor.org_id, template_id)
    return page(
        request,
        "tools/letter_template.html",
        status,
        letter=template,
        versions=library.versions(db, actor.org_id, template_id),
        kind_label=gettext(KIND_LABELS[template.kind]),
        type_labels={k: gettext(v) for k, v in VARIABLE_TYPES.items()},
        **context,
    )


@router.get("/admin/letter-templates/{template_id}")
def view(request: Request, actor: Admin, db: DB, template_id: str, version: int = 0) -> Response:
    """A template: its variables, body and versions (an earlier version with `version`)."""
    if version:
        shown = library.get_template(db, actor.org_id, template_id, version)
        return _view(request, db, actor, template_id, shown=shown)
    return _view(request, db, actor, template_id)


@router.get("/admin/letter-templates/{template_id}/edit")
def edit_page(request: Request, actor: Admin, db: DB, template_id: str) -> Response:
    """The form to change an organisation's template (saved as a new version)."""
    template = library.get_template(db, actor.org_id, template_id)
    if template.builtin:
        return done(
            request,
            f"/admin/letter-templates/new?start={template_id}",
            gettext("Built-in templates cannot be edited; create your own from it."),
        )
    return _edit_page(request, _form_of(template), template_id)


@router.post("/admin/letter-templates/{template_id}", dependencies=Csrf)
def save(
    request: Request,
    actor: Admin,
    db: DB,
    template_id: str,
    kind: Short = "",
    title: Short = "",
    description: Body = "",
    body: Body = "",
    var_name: Values = None,
    var_label: Values = None,
    var_type: Values = None,
    var_required: Values = None,
) -> Response:
    """Save the changes as a new version of the template."""
    variables = _variables(var_name, var_label, var_type, var_required)
    try:
        template = library.update_template(
            db, actor, template_id, kind, title, description, variables, body
        )
    except UserError as exc:
        status, message = failed(db, exc)
        library.get_template(db, actor.org_id, template_id)  # another organisation's: 404
        form = _posted(kind, title, description, body, variables)
        return _edit_page(request, form, template_id, status, error=message)
    return done(
        request,
        f"/admin/letter-templates/{template_id}",
        gettext("Version %(version)s of the template was saved.", version=template.version),
    )


@router.post("/admin/letter-templates/{template_id}/enabled", dependencies=Csrf)
def set_enabled(
    request: Request, actor: Admin, db: DB, template_id: str, enabled: Short = "1"
) -> Response:
    """Offer the template to agents, or stop offering it."""
    library.set_enabled(db, actor, template_id, enabled == "1")
    message = (
        gettext("The template is offered to agents.")
        if enabled == "1"
        else gettext("The template is no longer offered to agents.")
    )
    return done(request, "/admin/letter-templates", message)
