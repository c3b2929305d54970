"""What every ``chiffon`` command shares: its error type, its settings, its services."""

from __future__ import annotations

import argparse
import gc
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from chiffon.lib.progressbar import ProgressBar
from chiffon.settings import Settings, load_settings

if TYPE_CHECKING:
    from chiffon.app import Services

__all__ = [
    "CommandError",
    "command_settings",
    "embedding_bar",
    "import_services",
    "run_with_services",
    "with_services",
]


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
    import asyncio

    from chiffon.app import bootstrap
    from chiffon.db import upgrade_database

    await asyncio.to_thread(upgrade_database, settings.effective_database_url)
    services = bootstrap(settings)
    try:
        await services.start(scan=scan)
        return await work(services)
    finally:
        await services.stop()


def run_with_services(
    settings: Settings, work: Callable[[Services], Awaitable[int]], scan: bool = True
) -> int:
    """``with_services`` on a new event loop: a command's whole run."""
    import asyncio  # here: ``chiffon run`` starts ansible-playbook before it imports asyncio

    return asyncio.run(with_services(settings, work, scan))


def import_services() -> None:
    """Import every service module with the garbage collector off, then freeze what they made.

    Imports only create long-lived objects (classes, SQLAlchemy's tables and caches), so the
    collections they trigger find nothing to free: about 0.15 s of CPU, a third of the imports,
    on every ``chiffon run``. Frozen, those objects are skipped by later collections too,
    the one at exit included.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        import chiffon.app  # noqa: F401  (the import is the point)
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def embedding_bar() -> ProgressBar:
    """The progress bar of embedding the catalog's entries (a cold index build)."""
    return ProgressBar("embedding catalog entries")
