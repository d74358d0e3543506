"""The demo organisation "Commune d'Exemple" with one user per role, and admin creation."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civique.auth.models import User
from civique.auth.passwords import hash_password
from civique.auth.roles import Role
from civique.auth.service import check_password, create_user
from civique.db.engine import make_engine, make_session_factory
from civique.db.migrate import upgrade
from civique.demo_documents import demo_files
from civique.documents.models import Collection
from civique.documents.service import create_collection
from civique.governance import charter
from civique.llm.registry import build_registry
from civique.orgs.models import Organisation, Team, TeamMember, Unit
from civique.orgs.service import create_organisation, default_model_ids
from civique.settings import Settings

DEMO_SLUG = "exemple"
DEMO_NAME = "Commune d'Exemple"
DEMO_PASSWORD = "exemple-demo-2026"
DEMO_COLLECTION = "Documents de la commune"
DEMO_COLLECTION_DESCRIPTION = (
    "Règlements, démarches et FAQ de la Commune d'Exemple (documents de démonstration)."
)
DEMO_CHARTER = """# Charte d'utilisation de l'assistant

1. **Les réponses sont des brouillons.** Je relis et vérifie chaque texte produit avant de
   l'utiliser ; je reste responsable de ce que j'envoie.
2. **Données personnelles.** Je n'envoie que les données nécessaires. Quand un modèle n'est pas
   habilité pour les données personnelles, elles sont remplacées par des marqueurs : je vérifie
   l'aperçu avant l'envoi.
3. **Transparence.** J'indique qu'un document a été préparé avec l'aide de l'IA quand il quitte
   l'administration.
4. **Traçabilité.** Les productions assistées par l'IA sont inscrites au registre, consultable
   par le délégué à la protection des données.
5. **Signalement.** Je signale toute réponse fausse, biaisée ou inappropriée à l'équipe
   d'innovation.
"""
DEMO_USERS = [
    ("agent@exemple.test", "Alice Agent", Role.AGENT, "État civil"),
    ("validateur@exemple.test", "Victor Validateur", Role.VALIDATOR, "État civil"),
    ("innovation@exemple.test", "Inès Innovation", Role.INNOVATION_LEAD, "Direction générale"),
    ("dpo@exemple.test", "Daniel Délégué", Role.DPO, "Direction générale"),
    ("admin@exemple.test", "Anne Admin", Role.ORG_ADMIN, "Direction générale"),
    ("plateforme@exemple.test", "Paul Plateforme", Role.PLATFORM_ADMIN, "Direction générale"),
]


def default_models(settings: Settings) -> list[str]:
    """Models a new organisation allows: every registered one, chat models first."""
    return default_model_ids(build_registry(settings).models())


def create_demo(settings: Settings, lab: bool = True) -> list[tuple[str, str, str]]:
    """Create (or keep) the demo organisation, with the Lab's past challenge unless `lab` is
    false; returns (email, role, password) rows."""
    if settings.environment == "production":
        raise SystemExit("refusing to create demo accounts in production")
    upgrade(settings)
    engine = make_engine(settings.sqlalchemy_url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        org = session.scalar(select(Organisation).where(Organisation.slug == DEMO_SLUG))
        if org is None:
            org = create_organisation(session, None, DEMO_SLUG, DEMO_NAME, default_models(settings))
        units: dict[str, Unit] = {}
        for name in ("État civil", "Urbanisme", "Direction générale"):
            unit = session.scalar(select(Unit).where(Unit.org_id == org.id, Unit.name == name))
            if unit is None:
                unit = Unit(org_id=org.id, name=name)
                session.add(unit)
                session.flush()
            units[name] = unit
        team = session.scalar(select(Team).where(Team.org_id == org.id))
        if team is None:
            team = Team(
                org_id=org.id, name="Équipe accueil numérique", unit_id=units["État civil"].id
            )
            session.add(team)
            session.flush()
        for email, name, role, unit_name in DEMO_USERS:
            user = session.scalar(select(User).where(User.email == email))
            if user is None:
                user = User(
                    org_id=org.id,
                    email=email,
                    name=name,
                    role=role,
                    unit_id=units[unit_name].id,
                    password_hash=hash_password(DEMO_PASSWORD),
                )
                session.add(user)
                session.flush()
                if role in (Role.AGENT, Role.VALIDATOR):
                    session.add(TeamMember(team_id=team.id, user_id=user.id))
        session.commit()
        admin = session.scalar(select(User).where(User.email == "admin@exemple.test"))
        if admin is not None:
            accept_demo_charter(session, admin)
            if lab:
                add_lab_demo(settings, session, org.id)
            add_demo_documents(settings, sessions, admin)
    engine.dispose()
    return [(email, role.value, DEMO_PASSWORD) for email, _, role, _ in DEMO_USERS]


def add_lab_demo(settings: Settings, session: Session, org_id: int) -> None:
    """The Lab's past challenge with its uses and feedback (once; see `lab.demo_data`)."""
    from civique.lab import demo_data

    lead = session.scalar(select(User).where(User.email == "innovation@exemple.test"))
    coach = session.scalar(select(User).where(User.email == "validateur@exemple.test"))
    if lead is None or coach is None:
        return
    seeded = demo_data.seed(session, org_id, lead, coach, embedded_watts=settings.embedded_watts)
    if seeded is not None:
        print(
            f"Lab demo: a past challenge with {seeded.teams} teams, {seeded.experiments} "
            f"experiments, {seeded.outputs} outputs and {seeded.feedback} feedback entries.",
            flush=True,
        )


def accept_demo_charter(session: Session, admin: User) -> None:
    """Publish the demo charter (version 1) once, accepted by every demo user, so that the demo
    opens on a usable home page while still showing the charter at /charter."""
    published = charter.current(session, admin.org_id) or charter.publish(
        session, admin, DEMO_CHARTER
    )
    emails = [email for email, _, _, _ in DEMO_USERS]
    for user in session.scalars(select(User).where(User.email.in_(emails))):
        if not charter.accepted(session, user, published):
            charter.accept(session, user, published.version)


def add_demo_documents(settings: Settings, sessions: sessionmaker[Session], admin: User) -> int:
    """Fill the organisation-wide demo collection with the commune's documents and ingest them
    now, so questions can be asked as soon as the server starts; returns the documents added."""
    from civique.documents.files import add_file
    from civique.documents.ingest import run_pending
    from civique.jobs.tasks import register_all
    from civique.llm.gateway import Gateway

    with sessions() as session:
        collection = session.scalar(
            select(Collection).where(
                Collection.org_id == admin.org_id, Collection.name == DEMO_COLLECTION
            )
        )
        if collection is None:
            collection = create_collection(
                session, admin, DEMO_COLLECTION, "organisation", DEMO_COLLECTION_DESCRIPTION
            )
        jobs = register_all(
            settings, sessions, Gateway(build_registry(settings), sessions, settings)
        )
        outcomes = [
            add_file(session, jobs.ingest.store, settings, admin, collection.id, name, data)
            for name, data in demo_files()
        ]
    added = sum(1 for o in outcomes if o.status == "queued")
    if added:
        print(f"Indexing the {added} demo documents of '{DEMO_COLLECTION}'…", flush=True)
    run_pending(jobs.ingest)
    return added


def print_logins(rows: list[tuple[str, str, str]]) -> None:
    """Print the demo logins as a table."""
    print(f"Demo organisation: {DEMO_NAME}")
    for email, role, password in rows:
        print(f"  {role:16} {email:28} password: {password}")


def create_admin(
    settings: Settings, email: str, name: str, org_slug: str, role: str, password: str
) -> None:
    """Create an administrator, and their organisation when it does not exist."""
    check_password(settings, password)
    upgrade(settings)
    engine = make_engine(settings.sqlalchemy_url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        org = session.scalar(select(Organisation).where(Organisation.slug == org_slug))
        if org is None:
            org = create_organisation(
                session, None, org_slug, org_slug.capitalize(), default_models(settings)
            )
        create_user(session, org.id, email, name, role, password=password)
    engine.dispose()
