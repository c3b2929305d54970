"""The one wiring point: ``bootstrap`` builds the services, ``create_app`` the web app."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine

from chiffon import __version__
from chiffon.audit import AuditService, repo_head
from chiffon.audit.handlers import subscriptions as audit_subscriptions
from chiffon.bus import EventBus
from chiffon.catalog import CatalogService, EmbeddingIndex
from chiffon.db import SessionFactory, make_engine, make_session_factory
from chiffon.executor import ExecutorService
from chiffon.executor.handlers import subscriptions as executor_subscriptions
from chiffon.planner import Planner
from chiffon.settings import Settings
from chiffon.web.live import LiveRuns

if TYPE_CHECKING:
    from litestar import Litestar

log = logging.getLogger("chiffon")

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"


@dataclass
class Services:
    settings: Settings
    bus: EventBus
    engine: AsyncEngine
    sessions: SessionFactory
    catalog: CatalogService
    executor: ExecutorService
    audit: AuditService
    live: LiveRuns
    planner: Planner

    async def start(self, scan: bool = True) -> None:
        """Recover what a crash left, finish pending audit commits, scan the playbook repo."""
        self.settings.runs_dir.mkdir(parents=True, exist_ok=True)
        interrupted = await self.executor.recover()
        if interrupted:
            log.warning("runs interrupted by the last stop: %s", interrupted)
        await self.audit.commit_pending()
        if scan:
            await self.catalog.scan()

    async def stop(self) -> None:
        await self.executor.stop()
        await self.live.close()
        await self.engine.dispose()


def embedding_index(settings: Settings) -> EmbeddingIndex | None:
    """The catalog's embedding index in the data dir; None when CHIFFON_EMBEDDINGS is false."""
    if not settings.embeddings:
        log.info("semantic matching is off: CHIFFON_EMBEDDINGS=false")
        return None
    return EmbeddingIndex(settings.index_dir, settings.models_dir, settings.embedding_model_dir)


def bootstrap(settings: Settings, **overrides: Any) -> Services:
    """Build every service on ``settings``; ``overrides`` replace one by name (tests)."""
    bus: EventBus = overrides.get("bus") or EventBus()
    engine = overrides.get("engine") or make_engine(settings.effective_database_url)
    sessions = make_session_factory(engine)
    catalog = overrides.get("catalog") or CatalogService(
        sessions, settings.playbooks_dir, embedding_index(settings)
    )
    executor = overrides.get("executor") or ExecutorService(
        sessions,
        bus,
        catalog,
        runs_dir=settings.runs_dir,
        repo_commit=overrides.get("repo_commit", repo_head),
        inventory=settings.inventory,
        batch_size=settings.event_batch_size,
        cancel_grace_s=settings.cancel_grace_seconds,
    )
    audit = overrides.get("audit") or AuditService(sessions, settings.audit_dir, bus, executor)
    live = overrides.get("live") or LiveRuns(executor)
    planner = overrides.get("planner") or Planner(catalog)
    bus.register(executor_subscriptions(executor))
    bus.register(audit_subscriptions(audit))
    bus.register(live.subscriptions())
    return Services(settings, bus, engine, sessions, catalog, executor, audit, live, planner)


def _route_handlers() -> list[Any]:
    from chiffon.audit.routes import ROUTES as audit_routes
    from chiffon.catalog.routes import ROUTES as catalog_routes
    from chiffon.executor.routes import ROUTES as executor_routes
    from chiffon.web.routes import ROUTES as web_routes

    return [*web_routes, *catalog_routes, *executor_routes, *audit_routes]


def create_app(settings: Settings, **overrides: Any) -> Litestar:
    """The web app on ``bootstrap``'s services (or ``services=`` given ready-made)."""
    # Imported here so that CLI commands that need no web app start faster.
    from litestar import Litestar
    from litestar.di import Provide
    from litestar.openapi.config import OpenAPIConfig
    from litestar.plugins.htmx import HTMXPlugin
    from litestar.plugins.jinja import JinjaTemplateEngine
    from litestar.static_files import create_static_files_router
    from litestar.template.config import TemplateConfig

    services: Services = overrides.pop("services", None) or bootstrap(settings, **overrides)

    def provide(value: object) -> Provide:
        return Provide(lambda: value, use_cache=True, sync_to_thread=False)

    from chiffon.web.errors import exception_handlers
    from chiffon.web.templating import configure_environment

    async def start_services() -> None:
        await services.start()

    async def stop_services() -> None:
        await services.stop()

    return Litestar(
        route_handlers=[
            *_route_handlers(),
            create_static_files_router(path="/static", directories=[STATIC_DIR]),
        ],
        dependencies={
            "settings": provide(settings),
            "catalog": provide(services.catalog),
            "executor": provide(services.executor),
            "audit": provide(services.audit),
            "live": provide(services.live),
        },
        template_config=TemplateConfig(
            directory=TEMPLATES_DIR,
            engine=JinjaTemplateEngine,
            engine_callback=configure_environment,
        ),
        plugins=[HTMXPlugin()],
        exception_handlers=exception_handlers(),
        openapi_config=OpenAPIConfig(title="Chiffon", version=__version__, path="/schema"),
        on_startup=[start_services],
        on_shutdown=[stop_services],
        state={"services": services},  # type: ignore[arg-type]
        debug=False,
    )
