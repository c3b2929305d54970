"""The ``chiffon`` command."""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from chiffon import __version__
from chiffon._cli_accounts import ACCOUNT_COMMANDS, add_account_commands
from chiffon._cli_agents import add_agent_commands, cmd_agent, cmd_agent_token, cmd_agents
from chiffon._cli_base import CommandError, embedding_bar, import_services, run_with_services
from chiffon._cli_base import command_settings as _settings
from chiffon._cli_plan import add_draft_command, add_plan_command, cmd_draft, cmd_plan
from chiffon._cli_run import add_run_command, cmd_run
from chiffon.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from chiffon.app import Services

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _port(value: str) -> int:
    """An argparse type: a TCP port from 1 to 65535 (the socket layer wraps 70000 to 4464)."""
    port = int(value) if value.isdigit() else 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port: use an integer from 1 to 65535")
    return port


MAX_DAYS = 36_500


def _days(value: str) -> int:
    """An argparse type: a whole number of days from 1 to ``MAX_DAYS``."""
    days = int(value) if value.strip().isdigit() else 0
    if not 1 <= days <= MAX_DAYS:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a number of days: use a whole number from 1 to {MAX_DAYS}"
        )
    return days


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chiffon", description="Run your homelab's Ansible playbooks, recorded and audited."
    )
    parser.add_argument("--version", action="version", version=f"chiffon {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the web app and API")
    serve.add_argument("--host", help="address to bind (default CHIFFON_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=_port, help="port (default CHIFFON_PORT or 8484)")

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply the database migrations")

    catalog = commands.add_parser("catalog", help="the playbook repo's catalog")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", required=True)
    scan = catalog_commands.add_parser("scan", help="discover playbooks, roles and tags")
    scan.add_argument("--playbooks", type=Path, help="playbook repo (CHIFFON_PLAYBOOKS_DIR)")
    scan.add_argument("--json", action="store_true", help="print the entries as JSON")

    add_run_command(commands)

    add_plan_command(commands)

    analyze = commands.add_parser(
        "analyze", help="ansible-lint and Chiffon's checks on a playbook, role or tag"
    )
    analyze.add_argument("entry", help="entry name, kind:name, or path relative to the repo")
    analyze.add_argument("--playbooks", type=Path, help="playbook repo (CHIFFON_PLAYBOOKS_DIR)")
    analyze.add_argument("--recheck", action="store_true", help="lint again even if cached")
    analyze.add_argument("--json", action="store_true", help="print the suggestions as JSON")

    diagnose = commands.add_parser("diagnose", help="explain why a run failed")
    diagnose.add_argument("run_id", type=int, help="the failed run's id")
    diagnose.add_argument("--playbooks", type=Path, help="playbook repo (CHIFFON_PLAYBOOKS_DIR)")
    diagnose.add_argument("--json", action="store_true", help="print the diagnosis as JSON")
    add_agent_commands(commands)
    add_draft_command(commands)

    audit = commands.add_parser("audit", help="the git audit trail")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    audit_commands.add_parser("verify", help="check that the database and the git trail agree")
    failures = audit_commands.add_parser(
        "failures", help="failed runs and plans of the last days, from the audit trail"
    )
    failures.add_argument("--days", type=_days, default=7, help="how many days back (default 7)")
    failures.add_argument("--json", action="store_true", help="print a JSON list")

    add_account_commands(commands)

    unit = commands.add_parser("systemd-unit", help="print a hardened systemd unit")
    unit.add_argument("--user", default="chiffon", help="service user (default chiffon)")
    return parser


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _has_accounts(settings: Settings) -> bool:
    """Whether the database holds an account, creating nothing (no file, no tables)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from chiffon.db import make_engine, make_session_factory
    from chiffon.web.accounts import AccountService

    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        return False

    async def ask() -> bool:
        engine = make_engine(settings.effective_database_url)
        try:
            return await AccountService(make_session_factory(engine)).has_users()
        except SQLAlchemyError:  # not migrated yet: no accounts table
            return False
        finally:
            await engine.dispose()

    import asyncio

    return asyncio.run(ask())


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from chiffon.app import create_app
    from chiffon.db import upgrade_database

    settings = _settings(args)
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    if not _is_loopback(host) and not _has_accounts(settings):
        raise CommandError(
            f"refusing to listen on {host}: until an account exists Chiffon serves only on "
            "loopback (127.0.0.1 or ::1). Create the admin first: "
            "chiffon user add NAME --role admin"
        )
    upgrade_database(settings.effective_database_url)
    app = create_app(settings)
    print(f"Chiffon {__version__} on http://{host}:{port}  (playbooks: {settings.playbooks_dir})")
    if _is_loopback(host) and not _has_accounts(settings):
        print(f"No accounts yet: open http://{host}:{port}/setup to create the admin.")
    # An open live-log stream must not hold a stop (systemd) forever: streams get 3 s.
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=settings.log_level,
        access_log=False,
        timeout_graceful_shutdown=3,
    )
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from chiffon.db import upgrade_database

    settings = _settings(args)
    upgrade_database(settings.effective_database_url)
    print("database is up to date")
    return 0


def cmd_catalog_scan(args: argparse.Namespace) -> int:
    async def work(services: Services) -> int:
        result = await services.catalog.scan()
        embeddings = services.catalog.embeddings
        update = None
        if embeddings is not None:
            bar = embedding_bar()
            try:
                update = await embeddings.refresh(result.entries, bar)
            finally:
                bar.close()
        if args.json:
            print(json.dumps([e.to_json() for e in result.entries], indent=2, default=str))
            return 0
        for entry in result.entries:
            mark = " " if entry.valid else "!"
            print(f"{mark} {entry.kind:<8} {entry.name:<32} {entry.path}")
            if not entry.valid:
                print(f"    {entry.error}")
        if update is None:
            print("semantic index: off (CHIFFON_EMBEDDINGS=false)")
        elif update.off:
            print(f"semantic index: off ({update.off})")
        else:
            print(
                f"semantic index: {update.embedded} embedded, {update.kept} unchanged, "
                f"{update.removed} removed in {update.seconds:.2f}s"
            )
        invalid = sum(not e.valid for e in result.entries)
        print(
            f"{len(result.entries)} entries ({invalid} invalid) in {result.seconds:.2f}s: "
            f"{result.parsed} parsed, {result.reused} unchanged, {result.removed} removed"
        )
        return 0

    return run_with_services(_settings(args), work, scan=False)


def cmd_analyze(args: argparse.Namespace) -> int:
    from chiffon.analyzer import AnalyzerError
    from chiffon.analyzer.text import analysis_text

    async def work(services: Services) -> int:
        try:
            analysis = await services.analyzer.analyze(args.entry, force=args.recheck)
        except AnalyzerError as error:
            raise CommandError(str(error)) from None
        if args.json:
            print(json.dumps(analysis.to_json(), default=str))
        else:
            print(analysis_text(analysis))
        return 1 if any(s.status == "open" for s in analysis.suggestions) else 0

    return run_with_services(_settings(args), work)


def cmd_diagnose(args: argparse.Namespace) -> int:
    from chiffon.analyzer import AnalyzerError
    from chiffon.analyzer.text import diagnosis_text

    async def work(services: Services) -> int:
        try:
            diagnosed = await services.analyzer.diagnosis_of(args.run_id)
        except AnalyzerError as error:
            raise CommandError(str(error)) from None
        if args.json:
            body = {
                "diagnosis": diagnosed.diagnosis.to_json(),
                "suggestions": diagnosed.analysis.to_json() if diagnosed.analysis else None,
                "suggestions_error": diagnosed.analysis_error,
            }
            print(json.dumps(body, default=str))
        else:
            print(diagnosis_text(diagnosed))
        return 0

    return run_with_services(_settings(args), work)


def cmd_audit(args: argparse.Namespace) -> int:
    if args.audit_command == "failures":
        return cmd_audit_failures(args)
    return cmd_audit_verify(args)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    async def work(services: Services) -> int:
        report = await services.audit.verify()
        for problem in report.problems:
            print(problem)
        print(
            f"checked {report.runs_checked} runs and {report.plans_checked} plans: "
            + ("ok" if report.ok else "PROBLEMS FOUND")
        )
        return 0 if report.ok else 1

    return run_with_services(_settings(args), work, scan=False)


def cmd_audit_failures(args: argparse.Namespace) -> int:
    async def work(services: Services) -> int:
        found = await services.audit.failures(args.days)
        if args.json:
            print(json.dumps([entry.to_json() for entry in found], indent=2))
            return 0
        for entry in found:
            when = entry.finished_at.strftime("%Y-%m-%d %H:%M") if entry.finished_at else "?"
            who = entry.requested_by or "?"
            if entry.decided_by and entry.decided_by != entry.requested_by:
                who += f" (approved by {entry.decided_by})"
            print(f"{entry.subject} {entry.subject_id}  {when} UTC  {entry.title}  by {who}")
            error = (entry.error or "").strip().splitlines() or ["none recorded"]
            print(f"    error: {error[0]}")
            print(f"    commit: {entry.commit_sha or 'pending'}")
        day_s = "day" if args.days == 1 else "days"
        print(f"{len(found)} failed in the last {args.days} {day_s}")
        return 0

    return run_with_services(_settings(args), work, scan=False)


def cmd_systemd_unit(args: argparse.Namespace) -> int:
    from chiffon.lib.systemd import unit_text

    settings = load_settings()
    print(unit_text(user=args.user, python=sys.executable, settings=settings), end="")
    return 0


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "serve": cmd_serve,
    "db": cmd_db,
    "catalog": cmd_catalog_scan,
    "run": cmd_run,
    "plan": cmd_plan,
    "analyze": cmd_analyze,
    "diagnose": cmd_diagnose,
    "draft": cmd_draft,
    "agent": cmd_agent,
    "agents": cmd_agents,
    "agent-token": cmd_agent_token,
    "audit": cmd_audit,
    "systemd-unit": cmd_systemd_unit,
    **ACCOUNT_COMMANDS,
}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command not in ("systemd-unit", "run"):  # `run` imports them after its head start
        import_services()
    try:
        return _COMMANDS[args.command](args)
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        if not isinstance(error, _told_errors()):
            raise
        print(f"chiffon: error: {error}", file=sys.stderr)
        return 2


def _told_errors() -> tuple[type[Exception], ...]:
    """The errors a command ends with as a message (the person's to fix), not a traceback."""
    from chiffon.catalog import CatalogError
    from chiffon.db import DatabaseError

    return (SettingsError, DatabaseError, CatalogError, CommandError)
