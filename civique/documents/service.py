"""Collections and who may read or write them. Every function stays in the user's organisation.

The access rules are SQL conditions (`readable_collections_clause`, `writable_collections_clause`)
so that search and chat can put them inside their own queries instead of filtering results.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, delete, false, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from civique.auth.models import User
from civique.auth.roles import can
from civique.documents.models import ORG_WIDE, RIGHTS, SCOPES, Collection, CollectionShare
from civique.documents.schemas import CollectionSummary, ShareSummary
from civique.errors import Forbidden, NotFound, UserError
from civique.orgs.models import Team, TeamMember, Unit
from civique.orgs.service import org_team, org_unit
from civique.textcheck import clean_text

NAME_LIMIT = 200
DESCRIPTION_LIMIT = 2000


def _is_admin(user: User) -> bool:
    return can(user.role, "org.manage")


def _user_teams(user: User) -> Select[int]:
    return select(TeamMember.team_id).where(TeamMember.user_id == user.id)


def _in_own_unit(column: InstrumentedAttribute[int | None], user: User) -> ColumnElement[bool]:
    # A user without a unit matches no unit (NULL = NULL is not true, but say it plainly).
    return column == user.unit_id if user.unit_id is not None else false()


def _shared_with(user: User, rights: tuple[str, ...]) -> Select[int]:
    """Ids of collections shared with one of the user's teams or their unit, with `rights`."""
    return select(CollectionShare.collection_id).where(
        CollectionShare.right.in_(rights),
        or_(
            CollectionShare.team_id.in_(_user_teams(user)),
            _in_own_unit(CollectionShare.unit_id, user),
        ),
    )


def readable_collections_clause(user: User) -> ColumnElement[bool]:
    """SQL condition on `Collection`: true for the collections `user` may read."""
    return and_(
        Collection.org_id == user.org_id,
        or_(
            and_(Collection.scope == "personal", Collection.owner_user_id == user.id),
            Collection.scope.in_(ORG_WIDE),
            and_(Collection.scope == "team", Collection.team_id.in_(_user_teams(user))),
            and_(Collection.scope == "unit", _in_own_unit(Collection.unit_id, user)),
            Collection.id.in_(_shared_with(user, RIGHTS)),
        ),
    )


def writable_collections_clause(user: User) -> ColumnElement[bool]:
    """SQL condition on `Collection`: true for the collections `user` may add documents to."""
    return and_(
        Collection.org_id == user.org_id,
        or_(
            and_(Collection.scope == "personal", Collection.owner_user_id == user.id),
            and_(Collection.scope.in_(ORG_WIDE), true() if _is_admin(user) else false()),
            and_(Collection.scope == "team", Collection.team_id.in_(_user_teams(user))),
            and_(Collection.scope == "unit", _in_own_unit(Collection.unit_id, user)),
            Collection.id.in_(_shared_with(user, ("write",))),
        ),
    )


def readable_collection_ids(session: Session, user: User) -> Select[int]:
    """Subquery of the ids of collections `user` may read (use inside other queries)."""
    del session  # the subquery runs inside the caller's query, on the caller's session
    return select(Collection.id).where(readable_collections_clause(user))


def writable_collection_ids(session: Session, user: User) -> Select[int]:
    """Subquery of the ids of collections `user` may write to."""
    del session
    return select(Collection.id).where(writable_collections_clause(user))


def readable_collection(session: Session, user: User, collection_id: int) -> Collection:
    """A collection `user` may read; any other (or another organisation's) is not found."""
    found = session.scalar(
        select(Collection).where(Collection.id == collection_id, readable_collections_clause(user))
    )
    if found is None:
        raise NotFound()
    return found


def can_write(session: Session, user: User, collection: Collection) -> bool:
    """True when `user` may add documents to the collection."""
    stmt = select(Collection.id).where(
        Collection.id == collection.id, writable_collections_clause(user)
    )
    return session.scalar(stmt) is not None


def can_manage(user: User, collection: Collection) -> bool:
    """Rename, delete, share: the owner; any org admin for organisation-wide collections."""
    if collection.org_id != user.org_id:
        return False
    if collection.scope in ORG_WIDE:
        return _is_admin(user)
    return collection.owner_user_id == user.id


def _managed(session: Session, user: User, collection_id: int) -> Collection:
    collection = readable_collection(session, user, collection_id)
    if not can_manage(user, collection):
        raise Forbidden()
    return collection


def _text(value: str, limit: int, required: bool) -> str:
    value = clean_text(value, limit, allow_empty=True)
    if required and not value:
        raise UserError("name_required", 400)
    return value


def _check_unique(session: Session, collection: Collection, exclude: int | None = None) -> None:
    """Two collections of the same scope and place (owner, team, unit) need different names."""
    place = {
        "personal": Collection.owner_user_id == collection.owner_user_id,
        "team": Collection.team_id == collection.team_id,
        "unit": Collection.unit_id == collection.unit_id,
    }.get(collection.scope, true())
    stmt = select(Collection.id).where(
        Collection.org_id == collection.org_id,
        Collection.scope == collection.scope,
        Collection.name == collection.name,
        place,
    )
    if exclude is not None:
        stmt = stmt.where(Collection.id != exclude)
    if session.scalar(stmt) is not None:
        raise UserError("name_taken", 409)


def _is_member(session: Session, user: User, team_id: int) -> bool:
    stmt = select(TeamMember.team_id).where(
        TeamMember.team_id == team_id, TeamMember.user_id == user.id
    )
    return session.scalar(stmt) is not None


def create_collection(
    session: Session,
    user: User,
    name: str,
    scope: str,
    description: str = "",
    team_id: int | None = None,
) -> Collection:
    """Create a collection owned by `user`; a team one for a team they are in, a unit one for
    their own unit, an organisation-wide or public one only by an org admin."""
    if team_id is not None:
        org_team(session, user, team_id)  # another organisation's team is not found
    if scope not in SCOPES:
        raise UserError("scope_invalid", 400)
    collection = Collection(
        org_id=user.org_id,
        name=_text(name, NAME_LIMIT, True),
        description=_text(description, DESCRIPTION_LIMIT, False),
        scope=scope,
        owner_user_id=user.id,
    )
    if scope in ORG_WIDE and not _is_admin(user):
        raise Forbidden()
    if scope == "team":
        if team_id is None:
            raise UserError("collection_team_required", 400)
        if not _is_member(session, user, team_id):
            raise Forbidden()
        collection.team_id = team_id
    if scope == "unit":
        if user.unit_id is None:
            raise UserError("collection_no_unit", 400)
        collection.unit_id = user.unit_id
    _check_unique(session, collection)
    session.add(collection)
    session.commit()
    return collection


def update_collection(
    session: Session, user: User, collection_id: int, name: str, description: str
) -> Collection:
    """Rename a collection or change its description."""
    collection = _managed(session, user, collection_id)
    collection.name = _text(name, NAME_LIMIT, True)
    collection.description = _text(description, DESCRIPTION_LIMIT, False)
    _check_unique(session, collection, exclude=collection.id)
    session.commit()
    return collection


def delete_collection(session: Session, user: User, collection_id: int) -> None:
    """Delete a collection and its shares."""
    collection = _managed(session, user, collection_id)
    # Explicit: SQLite enforces ON DELETE CASCADE only when foreign keys are switched on.
    session.execute(delete(CollectionShare).where(CollectionShare.collection_id == collection.id))
    session.delete(collection)
    session.commit()


def share(
    session: Session,
    user: User,
    collection_id: int,
    right: str,
    team_id: int | None = None,
    unit_id: int | None = None,
) -> CollectionShare:
    """Open a collection to a team or unit of the organisation; sharing again changes the right."""
    if (team_id is None) == (unit_id is None):
        raise NotFound()
    if team_id is not None:
        org_team(session, user, team_id)
    if unit_id is not None:
        org_unit(session, user, unit_id)
    collection = _managed(session, user, collection_id)
    if right not in RIGHTS:
        raise UserError("right_invalid", 400)
    target = (
        CollectionShare.team_id == team_id
        if team_id is not None
        else CollectionShare.unit_id == unit_id
    )
    existing = session.scalar(
        select(CollectionShare).where(CollectionShare.collection_id == collection.id, target)
    )
    row = existing or CollectionShare(collection_id=collection.id, team_id=team_id, unit_id=unit_id)
    row.right = right
    session.add(row)
    session.commit()
    return row


def unshare(session: Session, user: User, collection_id: int, share_id: int) -> None:
    """Remove a share of a collection."""
    collection = _managed(session, user, collection_id)
    row = session.get(CollectionShare, share_id)
    if row is None or row.collection_id != collection.id:
        raise NotFound()
    session.delete(row)
    session.commit()


def list_shares(session: Session, user: User, collection_id: int) -> list[ShareSummary]:
    """The teams and units a readable collection is shared with."""
    collection = readable_collection(session, user, collection_id)
    teams = session.execute(
        select(CollectionShare, Team.name)
        .join(Team, Team.id == CollectionShare.team_id)
        .where(CollectionShare.collection_id == collection.id)
    ).all()
    units = session.execute(
        select(CollectionShare, Unit.name)
        .join(Unit, Unit.id == CollectionShare.unit_id)
        .where(CollectionShare.collection_id == collection.id)
    ).all()
    shares = [_share_summary(row, "team", name) for row, name in teams]
    shares += [_share_summary(row, "unit", name) for row, name in units]
    return sorted(shares, key=lambda s: (s.kind, s.target_name.casefold()))


def _share_summary(row: CollectionShare, kind: str, name: str) -> ShareSummary:
    target = row.team_id if kind == "team" else row.unit_id
    return ShareSummary(
        id=row.id, kind=kind, target_id=target or 0, target_name=name, right=row.right
    )


def readers(session: Session, user: User, collection_id: int) -> list[User]:
    """The active users who can read a collection (for the people who manage it)."""
    collection = readable_collection(session, user, collection_id)
    shared_teams = select(CollectionShare.team_id).where(
        CollectionShare.collection_id == collection.id, CollectionShare.team_id.is_not(None)
    )
    shared_units = select(CollectionShare.unit_id).where(
        CollectionShare.collection_id == collection.id, CollectionShare.unit_id.is_not(None)
    )
    by_scope = {
        "personal": User.id == collection.owner_user_id,
        "team": User.id.in_(
            select(TeamMember.user_id).where(TeamMember.team_id == collection.team_id)
        ),
        "unit": User.unit_id == collection.unit_id,
    }.get(collection.scope, true())
    stmt = select(User).where(
        User.org_id == collection.org_id,
        User.active.is_(True),
        or_(
            by_scope,
            User.id.in_(select(TeamMember.user_id).where(TeamMember.team_id.in_(shared_teams))),
            User.unit_id.in_(shared_units),
        ),
    )
    return list(session.scalars(stmt.order_by(User.name, User.id)))


def list_collections(session: Session, user: User) -> list[CollectionSummary]:
    """The collections `user` may read, with their owner, team or unit, and the user's right."""
    return _summaries(session, user, true())


def collection_summary(session: Session, user: User, collection_id: int) -> CollectionSummary:
    """One readable collection as `user` sees it (not found otherwise)."""
    found = _summaries(session, user, Collection.id == collection_id)
    if not found:
        raise NotFound()
    return found[0]


def _summaries(
    session: Session, user: User, condition: ColumnElement[bool]
) -> list[CollectionSummary]:
    rows = session.execute(
        select(Collection, User.name, Team.name, Unit.name)
        .outerjoin(User, User.id == Collection.owner_user_id)
        .outerjoin(Team, Team.id == Collection.team_id)
        .outerjoin(Unit, Unit.id == Collection.unit_id)
        .where(readable_collections_clause(user), condition)
        .order_by(Collection.name, Collection.id)
    ).all()
    writable = set(session.scalars(writable_collection_ids(session, user)))
    return [
        summarise(collection, user, owner, team or unit, collection.id in writable)
        for collection, owner, team, unit in rows
    ]


def user_teams(session: Session, user: User) -> list[Team]:
    """The teams `user` belongs to (where they may create team collections)."""
    stmt = select(Team).where(Team.id.in_(_user_teams(user)), Team.org_id == user.org_id)
    return list(session.scalars(stmt.order_by(Team.name)))


def summarise(
    collection: Collection, user: User, owner: str | None, target: str | None, writable: bool
) -> CollectionSummary:
    """The summary of one collection as `user` sees it."""
    right = "manage" if can_manage(user, collection) else "write" if writable else "read"
    return CollectionSummary(
        id=collection.id,
        name=collection.name,
        description=collection.description,
        scope=collection.scope,
        owner_name=owner,
        target_name=target,
        right=right,
        created_at=collection.created_at,
    )
