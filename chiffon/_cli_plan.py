"""``chiffon plan`` and ``chiffon draft``: plain-words requests planned on the command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from chiffon._cli_base import CommandError, embedding_bar, run_with_services
from chiffon._cli_base import command_settings as _settings

if TYPE_CHECKING:
    from chiffon.app import Services

__all__ = ["add_draft_command", "add_plan_command", "cmd_draft", "cmd_plan"]


def add_plan_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    plan = commands.add_parser(
        "plan", help="turn a request in plain words into a plan of the repo's playbooks"
    )
    plan.add_argument("request", nargs="?", help='what you want done, e.g. "deploy grafana"')
    plan.add_argument("--playbooks", type=Path, help="playbook repo (CHIFFON_PLAYBOOKS_DIR)")
    plan.add_argument("--format", choices=["text", "json"], default="text", help="output format")
    plan.add_argument(
        "--batch", metavar="FILE", help="plan every line of FILE (- for stdin): one JSON per line"
    )


def add_draft_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    draft = commands.add_parser(
        "draft", help="show (or save) generated playbooks for what nothing in the repo fits"
    )
    draft.add_argument("request", help='what you want done, e.g. "deploy vaultwarden on port 8200"')
    draft.add_argument("--playbooks", type=Path, help="playbook repo (CHIFFON_PLAYBOOKS_DIR)")
    draft.add_argument(
        "--save", action="store_true", help="write the drafts into the repo (a commit in git)"
    )
    draft.add_argument("--author", default="chiffon <chiffon@localhost>", help="commit author")


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

        return run_with_services(_settings(args), one)
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

    return run_with_services(_settings(args), batch)


def cmd_draft(args: argparse.Namespace) -> int:
    from chiffon.planner import DraftError, RequestError, check_request

    try:
        request = check_request(args.request)
    except RequestError as error:
        raise CommandError(str(error)) from None

    async def work(services: Services) -> int:
        plan = await services.planner.plan(request)
        drafts = [(n, step) for n, step in enumerate(plan.steps, 1) if step.draft is not None]
        if not drafts:
            print("every step matched an entry in the playbook repo: nothing to draft")
            return 0
        for number, step in drafts:
            assert step.draft is not None
            if not args.save:
                print(f"# step {number}: {step.clause}\n# would be saved as {step.draft.path}")
                print(step.draft.text)
                continue
            try:
                saved = await services.planner.save_draft(step.draft, author=args.author)
            except DraftError as error:
                raise CommandError(str(error)) from None
            where = f"commit {saved.commit}" if saved.commit else "not a git repo: no commit"
            print(f"saved {step.draft.path} ({where})")
        if args.save:
            print(
                "Generated playbooks run only once reviewed: read each one, then add "
                "`reviewed: true` to its `# chiffon:` header."
            )
        return 0

    return run_with_services(_settings(args), work)


async def _prepare(services: Services) -> None:
    bar = embedding_bar()
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
