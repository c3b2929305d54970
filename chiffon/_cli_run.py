"""``chiffon run``: a catalog entry run from the command line, its log streamed.

Imported by ``chiffon``'s parser, so it imports little: the command starts ansible-playbook
(held, ``executor/headstart.py``) before it imports asyncio, the database layer and the
services, and its start-up overlaps theirs.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chiffon._cli_base import CommandError, command_settings, import_services, run_with_services
from chiffon.lib.extravars import ExtraVarsError, parse_extra_vars
from chiffon.settings import Settings

if TYPE_CHECKING:
    from chiffon.app import Services
    from chiffon.executor import ResourceUsage, RunRequest
    from chiffon.executor.headstart import HeadStart

__all__ = ["add_run_command", "cmd_run", "head_start", "run_request"]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def add_run_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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


def cmd_run(args: argparse.Namespace) -> int:
    settings = command_settings(args)
    try:
        extra_vars = parse_extra_vars(args.extra_vars, base_dir=Path.cwd())
    except ExtraVarsError as error:
        raise CommandError(str(error)) from None
    head: HeadStart | None = None
    try:
        head = head_start(settings, args, extra_vars)
        import_services()
        return _run(args, settings, extra_vars, head)
    finally:
        if head is not None:
            head.close()


def head_start(
    settings: Settings, args: argparse.Namespace, extra_vars: dict[str, Any]
) -> HeadStart | None:
    """ansible-playbook started at once on the playbook ENTRY most likely names, held once
    its code is loaded and before it reads the repo: it starts while Chiffon imports,
    migrates and scans, and the executor lets it go or aborts it once the run is checked and
    stored."""
    if not settings.head_start:
        return None
    from chiffon.executor import headstart

    job = headstart.guess_job(
        settings.playbooks_dir,
        settings.runs_dir,
        args.entry,
        inventory=args.inventory,
        configured_inventory=settings.inventory,
        limit=args.limit,
        tags=args.tags,
        extra_vars=extra_vars,
        check=args.check,
    )
    return headstart.begin(job) if job is not None else None


def run_request(args: argparse.Namespace, extra_vars: dict[str, Any]) -> RunRequest:
    """The run ``chiffon run`` asks the executor for."""
    from chiffon.executor import RunRequest

    return RunRequest(
        entry=args.entry,
        inventory=args.inventory,
        limit=args.limit,
        tags=args.tags,
        extra_vars=extra_vars,
        check=args.check,
        requested_by="cli",
    )


def _run(
    args: argparse.Namespace,
    settings: Settings,
    extra_vars: dict[str, Any],
    head: HeadStart | None,
) -> int:
    from chiffon.executor import RunEventRecorded, RunRequestError

    colour = sys.stdout.isatty() and not args.json

    async def work(services: Services) -> int:
        run_id: int | None = None

        async def show(event: RunEventRecorded) -> None:
            if event.run_id == run_id and event.stdout:
                text = event.stdout.replace("\r\n", "\n")
                print(text if colour else _ANSI.sub("", text), flush=True)

        services.bus.subscribe(RunEventRecorded, show)
        try:
            run = await services.executor.start_run(run_request(args, extra_vars), head_start=head)
        except RunRequestError as error:
            raise CommandError(str(error)) from None
        run_id = run.id
        import asyncio

        loop = asyncio.get_running_loop()
        cancels: list[asyncio.Future[bool]] = []  # Ctrl-C
        loop.add_signal_handler(
            signal.SIGINT,
            lambda: cancels.append(asyncio.ensure_future(services.executor.cancel_run(run.id))),
        )
        finished = await services.executor.wait_for(run.id)
        loop.remove_signal_handler(signal.SIGINT)
        await asyncio.gather(*cancels)  # each kills what is left of the run before it returns
        final = await services.executor.get_run(run.id) or finished
        if args.json:
            print(
                json.dumps(
                    {
                        "run_id": final.id,
                        "status": str(final.status),
                        "rc": final.rc,
                        "audit_commit": final.audit_commit,
                        "resources": final.resources.to_json() if final.resources else None,
                    }
                )
            )
        else:
            print(f"run {final.id} {final.status} (rc {final.rc}) audit {final.audit_commit}")
            if final.resources:
                print(_resources_text(final.resources))
        if final.error and not args.json:
            print(final.error, file=sys.stderr)
        return 0 if str(final.status) == "succeeded" else 2

    return run_with_services(settings, work)


def _resources_text(used: ResourceUsage) -> str:
    peak = "?" if used.peak_rss_bytes is None else f"{used.peak_rss_bytes / 2**20:.1f} MiB"
    return f"used {used.wall_s:.2f} s wall, {used.cpu_s:.2f} s CPU, {peak} peak RSS"
