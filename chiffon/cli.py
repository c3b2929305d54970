"""The ``chiffon`` command."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import logging
import re
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from chiffon import __version__
from chiffon.catalog import CatalogError
from chiffon.db import DatabaseError, upgrade_database
from chiffon.lib.extravars import ExtraVarsError, parse_extra_vars
from chiffon.lib.progressbar import ProgressBar
from chiffon.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from chiffon.app import Services

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class CommandError(Exception):
    """Something the person asked for cannot be done; printed without a traceback."""


def _port(value: str) -> int:
    """An argparse type: a TCP port from 1 to 65535 (the socket layer wraps 70000 to 4464)."""
    port = int(value) if value.isdigit() else 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port: use an integer from 1 to 65535")
    return port


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

    run = commands.add_parser("run", help="run a playbook, role or tag and stream its log")
    run.add_argument("entry", help="entry name, kind:name, or path relative to the repo")
    run.add_argument("--playbooks", type=Path, help="playbook repo (CHIFFON_PLAYBOOKS_DIR)")
    run.add_argument("-i", "--inventory", help="inventory file or directory")
    run.add_argument("--limit", help="limit to these hosts or groups")
    run.add_argument("--tags", help="only run tasks with these tags")
    run.add_argument(
        "-e",
        "--extra-vars",
        action="append",
        default=[],
        metavar="VARS",
        help="k=v pairs, @file.yml, or a JSON/YAML mapping; repeatable",
    )
    run.add_argument("--check", action="store_true", help="dry run: --check --diff")
    run.add_argument("--json", action="store_true", help="end with one JSON line")

    plan = commands.add_parser(
        "plan", help="turn a request in plain words into a plan of the repo's playbooks"
    )
    plan.add_argument("request", nargs="?", help='what you want done, e.g. "deploy grafana"')
    plan.add_argument("--playbooks", type=Path, help="playbook repo (CHIFFON_PLAYBOOKS_DIR)")
    plan.add_argument("--format", choices=["text", "json"], default="text", help="output format")
    plan.add_argument(
        "--batch", metavar="FILE", help="plan every line of FILE (- for stdin): one JSON per line"
    )

    audit = commands.add_parser("audit", help="the git audit trail")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    audit_commands.add_parser("verify", help="check that the database and the git trail agree")

    unit = commands.add_parser("systemd-unit", help="print a hardened systemd unit")
    unit.add_argument("--user", default="chiffon", help="service user (default chiffon)")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings()
    if getattr(args, "playbooks", None):
        settings = settings.with_overrides(playbooks_dir=args.playbooks)
    return settings


async def _with_services(
    settings: Settings, work: Callable[[Services], Awaitable[int]], scan: bool = True
) -> int:
    from chiffon.app import bootstrap

    await asyncio.to_thread(upgrade_database, settings.effective_database_url)
    services = bootstrap(settings)
    try:
        await services.start(scan=scan)
        return await work(services)
    finally:
        await services.stop()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from chiffon.app import create_app

    settings = _settings(args)
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    if not _is_loopback(host):
        raise CommandError(
            f"refusing to listen on {host}: until accounts exist Chiffon serves only on "
            "loopback (127.0.0.1 or ::1). Put a reverse proxy in front, or use an SSH tunnel."
        )
    upgrade_database(settings.effective_database_url)
    app = create_app(settings)
    print(f"Chiffon {__version__} on http://{host}:{port}  (playbooks: {settings.playbooks_dir})")
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
    settings = _settings(args)
    upgrade_database(settings.effective_database_url)
    print("database is up to date")
    return 0


def _embedding_bar() -> ProgressBar:
    return ProgressBar("embedding catalog entries")


def cmd_catalog_scan(args: argparse.Namespace) -> int:
    async def work(services: Services) -> int:
        result = await services.catalog.scan()
        embeddings = services.catalog.embeddings
        update = None
        if embeddings is not None:
            bar = _embedding_bar()
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

    return asyncio.run(_with_services(_settings(args), work, scan=False))


def cmd_run(args: argparse.Namespace) -> int:
    from chiffon.executor import RunEventRecorded, RunRequest, RunRequestError

    settings = _settings(args)
    try:
        extra_vars = parse_extra_vars(args.extra_vars, base_dir=Path.cwd())
    except ExtraVarsError as error:
        raise CommandError(str(error)) from None
    colour = sys.stdout.isatty() and not args.json

    async def work(services: Services) -> int:
        run_id: int | None = None

        async def show(event: RunEventRecorded) -> None:
            if event.run_id == run_id and event.stdout:
                text = event.stdout.replace("\r\n", "\n")
                print(text if colour else _ANSI.sub("", text), flush=True)

        services.bus.subscribe(RunEventRecorded, show)
        try:
            run = await services.executor.start_run(
                RunRequest(
                    entry=args.entry,
                    inventory=args.inventory,
                    limit=args.limit,
                    tags=args.tags,
                    extra_vars=extra_vars,
                    check=args.check,
                    requested_by="cli",
                )
            )
        except RunRequestError as error:
            raise CommandError(str(error)) from None
        run_id = run.id
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(
            signal.SIGINT, lambda: asyncio.ensure_future(services.executor.cancel_run(run.id))
        )
        finished = await services.executor.wait_for(run.id)
        loop.remove_signal_handler(signal.SIGINT)
        final = await services.executor.get_run(run.id) or finished
        if args.json:
            print(
                json.dumps(
                    {
                        "run_id": final.id,
                        "status": str(final.status),
                        "rc": final.rc,
                        "audit_commit": final.audit_commit,
                    }
                )
            )
        else:
            print(f"run {final.id} {final.status} (rc {final.rc}) audit {final.audit_commit}")
        if final.error and not args.json:
            print(final.error, file=sys.stderr)
        return 0 if str(final.status) == "succeeded" else 2

    return asyncio.run(_with_services(settings, work))


def cmd_plan(args: argparse.Namespace) -> int:
    from chiffon.planner import RequestError, check_request
    from chiffon.planner.text import plan_text

    if (args.request is None) == (args.batch is None):
        raise CommandError('give exactly one of REQUEST ("deploy grafana") and --batch FILE')
    if args.batch is None:
        try:
            request = check_request(args.request)
        except RequestError as error:
            raise CommandError(str(error)) from None

        async def one(services: Services) -> int:
            await _prepare(services)
            plan = await services.planner.plan(request)
            if args.format == "json":
                print(json.dumps(plan.to_json(), default=str))
            else:
                print(plan_text(plan))
            return 0

        return asyncio.run(_with_services(_settings(args), one))
    lines = _batch_lines(args.batch)

    async def batch(services: Services) -> int:
        await _prepare(services)  # the index is built once, before the first line
        rejected = 0
        for line in lines:
            try:
                plan = await services.planner.plan(line)
            except RequestError as error:
                rejected += 1
                print(json.dumps({"request": line, "error": str(error)}), flush=True)
                continue
            print(json.dumps(plan.to_json(), default=str), flush=True)
        return 2 if rejected else 0

    return asyncio.run(_with_services(_settings(args), batch))


async def _prepare(services: Services) -> None:
    bar = _embedding_bar()
    try:
        await services.planner.prepare(progress=bar)
    finally:
        bar.close()


def _batch_lines(source: str) -> list[str]:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"cannot read the batch file {source}: {error}") from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def cmd_audit_verify(args: argparse.Namespace) -> int:
    async def work(services: Services) -> int:
        report = await services.audit.verify()
        for problem in report.problems:
            print(problem)
        print(f"checked {report.checked} runs: " + ("ok" if report.ok else "PROBLEMS FOUND"))
        return 0 if report.ok else 1

    return asyncio.run(_with_services(_settings(args), work, scan=False))


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
    "audit": cmd_audit_verify,
    "systemd-unit": cmd_systemd_unit,
}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return _COMMANDS[args.command](args)
    except (SettingsError, DatabaseError, CatalogError, CommandError) as error:
        print(f"chiffon: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
