"""`civique audit verify | head`: the integrity check from the command line, for every
organisation or one, with a head noted elsewhere."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from civique.errors import N_, NotFound, UserError
from civique.governance import labels, service
from civique.governance.chain import Report, stored_head
from civique.governance.models import AuditEntry, RegisterEvent
from civique.i18n import gettext
from civique.orgs.models import Organisation

CHAINS = {"register_events": N_("register"), "audit_log": N_("audit log")}


def _organisations(session: Session, slug: str | None) -> list[Organisation]:
    stmt = select(Organisation).order_by(Organisation.slug)
    if slug:
        stmt = stmt.where(Organisation.slug == slug)
    found = list(session.scalars(stmt))
    if slug and not found:
        raise NotFound()
    return found


def _line(org: Organisation, report: Report) -> list[str]:
    chain = labels.label(CHAINS, report.chain)
    head = f"{report.head_seq}:{report.head_hash}"
    if report.broken is None:
        text = gettext(
            "%(org)s · %(chain)s: intact, %(count)s entries, head %(head)s",
            org=org.slug,
            chain=chain,
            count=report.entries,
            head=head,
        )
        return [text]
    first = gettext(
        "%(org)s · %(chain)s: BROKEN at entry %(seq)s",
        org=org.slug,
        chain=chain,
        seq=report.broken.seq,
    )
    last = "  " + gettext("last intact head: %(head)s", head=head)
    return [first, "  " + labels.describe_break(report.broken), last]


def verify_all(session: Session, slug: str | None, expect: str | None) -> tuple[list[str], bool]:
    """Check the register and the audit log of one or every organisation (each check is noted
    in its audit log); the lines to print and whether everything is intact."""
    if expect and not slug:
        raise UserError("audit_expect_needs_org")
    lines, ok = [], True
    for org in _organisations(session, slug):
        result = service.check_organisation(session, org.id, None, expect)
        lines += _line(org, result.register) + _line(org, result.audit)
        ok = ok and result.ok
    return lines, ok


def heads(session: Session, slug: str | None) -> list[str]:
    """The stored head of each register and audit log, to note outside Civique."""
    lines = []
    for org in _organisations(session, slug):
        found = {
            RegisterEvent.__tablename__: stored_head(session, RegisterEvent, org.id),
            AuditEntry.__tablename__: stored_head(session, AuditEntry, org.id),
        }
        for chain, (seq, value) in found.items():
            lines.append(f"{org.slug} · {labels.label(CHAINS, chain)}: {seq}:{value}")
    return lines
