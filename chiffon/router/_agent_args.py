"""``chiffon agent``'s options: defined apart from the agent, so that ``chiffon``'s parser
(which lists every command) does not import the agent's probes."""

from __future__ import annotations

import argparse
from pathlib import Path

from .protocol import ProtocolError, check_agent_name, check_label


def _labels(value: str) -> list[str]:
    labels = [part.strip() for part in value.split(",") if part.strip()]
    try:
        return [check_label(label) for label in labels]
    except ProtocolError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _name(value: str) -> str:
    try:
        return check_agent_name(value)
    except ProtocolError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _interval(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 1 <= seconds <= 3600:
        raise argparse.ArgumentTypeError(f"{value!r}: use a number of seconds from 1 to 3600")
    return seconds


def add_agent_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--server", required=True, help="the Chiffon server's URL")
    token = parser.add_mutually_exclusive_group(required=True)
    token.add_argument("--token", help="this agent's token (chiffon agent-token create NAME)")
    token.add_argument("--token-file", type=Path, help="a file holding the token")
    parser.add_argument("--name", type=_name, help="the agent's name (checked against the token)")
    parser.add_argument(
        "--host", dest="inventory_host", help="the inventory host this machine is (default: NAME)"
    )
    parser.add_argument("--labels", type=_labels, help="comma-separated labels, e.g. gpu,docker")
    parser.add_argument(
        "--interval", type=_interval, default=30.0, help="seconds between heartbeats (30)"
    )
    parser.add_argument("--disk", default="/", help="the file system to report (default /)")
    parser.add_argument("--once", action="store_true", help="send one heartbeat and exit")
