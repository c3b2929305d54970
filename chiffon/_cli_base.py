"""What every ``chiffon`` command shares: its error type, its settings, its services."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from chiffon.settings import Settings, load_settings

if TYPE_CHECKING:
    from chiffon.app import Services

__all__ = ["CommandError", "command_settings", "with_services"]


class CommandError(Exception):
    """Something the person asked for cannot be done; printed without a traceback."""


def command_settings(args: argparse.Namespace) -> Settings:
    """The settings, with ``--playbooks`` (where the command has it) over the environment's."""
    settings = load_settings()
    if getattr(args, "playbooks", None):
        settings = settings.with_overrides(playbooks_dir=args.playbooks)
    return settings


async def with_services(
    settings: Settings, work: Callable[[Services], Awaitable[int]], scan: bool = True
) -> int:
    """``work`` on started services (the database migrated first), stopped afterwards."""
    from chiffon.app import bootstrap
    from chiffon.db import upgrade_database

    await asyncio.to_thread(upgrade_database, settings.effective_database_url)
    services = bootstrap(settings)
    try:
        await services.start(scan=scan)
        return await work(services)
    finally:
        await services.stop()
