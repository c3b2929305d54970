"""``chiffon agent``, ``chiffon agents`` and ``chiffon agent-token``: the homelab's machines."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from chiffon._cli_base import CommandError, run_with_services
from chiffon._cli_base import command_settings as _settings
from chiffon.router._agent_args import add_agent_arguments

if TYPE_CHECKING:
    from chiffon.app import Services

__all__ = ["add_agent_commands", "cmd_agent", "cmd_agent_token", "cmd_agents"]


def add_agent_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    agent = commands.add_parser("agent", help="report this machine's resources to a server")
    add_agent_arguments(agent)

    agents = commands.add_parser("agents", help="list the agents and their latest resources")
    agents.add_argument("--json", action="store_true", help="print the agents as JSON")

    token = commands.add_parser("agent-token", help="create or revoke an agent's token")
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_commands.add_parser("create", help="create an agent and print its token")
    create.add_argument("name", help="the agent's name, e.g. gpu-box")
    create.add_argument("--host", help="the inventory host it reports for (default: NAME)")
    create.add_argument("--labels", default="", help="comma-separated labels, e.g. gpu,docker")
    revoke = token_commands.add_parser("revoke", help="revoke an agent's token")
    revoke.add_argument("name", help="the agent's name")


def cmd_agent(args: argparse.Namespace) -> int:
    from chiffon.router.agent import run_agent

    return run_agent(args)


def cmd_agent_token(args: argparse.Namespace) -> int:
    from chiffon.router import AgentError

    labels = [label.strip() for label in getattr(args, "labels", "").split(",") if label.strip()]

    async def work(services: Services) -> int:
        try:
            if args.token_command == "create":
                token = await services.agents.create_token(args.name, args.host, labels)
                print(token)
                print(
                    f"On {args.name}: chiffon agent --server URL --token-file FILE "
                    "(the token is shown once; Chiffon keeps only its hash)",
                    file=sys.stderr,
                )
            else:
                await services.agents.revoke_token(args.name)
                print(f"revoked agent {args.name}'s token")
        except AgentError as error:
            raise CommandError(str(error)) from None
        return 0

    return run_with_services(_settings(args), work, scan=False)


def cmd_agents(args: argparse.Namespace) -> int:
    async def work(services: Services) -> int:
        agents = await services.agents.list_agents()
        if args.json:
            print(json.dumps([agent.to_json() for agent in agents], indent=2))
            return 0
        for agent in agents:
            res = agent.resources
            summary = "no heartbeat yet"
            if res is not None:
                gpus = ", ".join(
                    f"{g.name} {g.vram_free_mb}/{g.vram_total_mb} MB" for g in res.gpus
                )
                summary = (
                    f"cpu {res.cpu_percent:.0f}% ({res.cores_free:g}/{res.cores_total} free)  "
                    f"mem {res.memory_available_mb}/{res.memory_total_mb} MB  "
                    f"gpu {gpus or 'none'}"
                )
            print(f"{agent.name:<20} {agent.status:<10} {agent.inventory_host:<20} {summary}")
        if not agents:
            print("no agents yet: chiffon agent-token create NAME")
        return 0

    return run_with_services(_settings(args), work, scan=False)
