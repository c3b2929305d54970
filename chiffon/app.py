"""The one wiring point: ``bootstrap`` builds the services, ``create_app`` the web app."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine

from chiffon import __version__
from chiffon.analyzer import AnalyzerService, DiagnosisView, Explainer
from chiffon.analyzer.handlers import subscriptions as analyzer_subscriptions
from chiffon.approval import ApprovalService
from chiffon.approval._watch import PlanWatch
from chiffon.approval.handlers import subscriptions as approval_subscriptions
from chiffon.audit import AuditService, commit_paths, repo_head
from chiffon.audit.handlers import subscriptions as audit_subscriptions
from chiffon.bus import EventBus
from chiffon.catalog import CatalogService, EmbeddingIndex
from chiffon.db import SessionFactory, make_engine, make_session_factory, utcnow
from chiffon.executor import ExecutorService
from chiffon.executor.handlers import subscriptions as executor_subscriptions
from chiffon.planner import LlmPlanner, Planner
from chiffon.router import AgentRegistry, Router, RouterUpkeep
from chiffon.settings import Settings
from chiffon.web.accounts import AccountService
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
    approval: ApprovalService
    watch: PlanWatch
    analyzer: AnalyzerService
    agents: AgentRegistry
    router: Router
    upkeep: RouterUpkeep
    accounts: AccountService

    async def start(self, scan: bool = True) -> None:
        """Recover what a crash left, finish pending audit commits, scan the playbook repo."""
        self.settings.runs_dir.mkdir(parents=True, exist_ok=True)
        interrupted = await self.executor.recover()
        if interrupted:
            log.warning("runs interrupted by the last stop: %s", interrupted)
        await self.audit.commit_pending()
        if scan:
            await self.catalog.scan()
        await self.approval.resume()

    def start_background(self) -> None:
        """The server's periodic work: the local agent's heartbeat, offline sweep, pruning."""
        self.upkeep.start()

    async def stop(self) -> None:
        await self.approval.stop()
        await self.upkeep.stop()
        await self.agents.close()
        await self.executor.stop()
        await self.analyzer.stop()
        await self.planner.close()
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
        sessions,
        settings.playbooks_dir,
        commit_paths=commit_paths,
        embeddings=embedding_index(settings),
    )
    agents = overrides.get("agents") or AgentRegistry(
        sessions,
        bus,
        clock=overrides.get("clock", utcnow),
        offline_after_s=settings.agent_offline_seconds,
        retention_s=settings.heartbeat_retention_hours * 3600,
        flood_interval_s=settings.agent_flood_seconds,
        heartbeat_interval_s=settings.agent_heartbeat_seconds,
    )
    router = overrides.get("router") or Router(agents)
    upkeep = RouterUpkeep(
        agents,
        settings.local_agent_host,
        settings.agent_heartbeat_seconds,
        **({"gpu_reader": overrides["gpu_reader"]} if "gpu_reader" in overrides else {}),
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
        capacity=router,
        capacity_wait_s=settings.capacity_wait_seconds,
    )
    live = overrides.get("live") or LiveRuns(executor)
    llm = _llm_planner(settings, sessions)
    planner = overrides.get("planner") or Planner(
        catalog,
        llm,
        sessions,
        bus,
        typical_duration=executor.typical_duration,
        router=router,
    )
    assert planner.plans is not None
    approval = overrides.get("approval") or ApprovalService(
        sessions,
        bus,
        planner.plans,
        catalog,
        executor,
        require_second_approver=settings.require_second_approver,
        placer=planner.placer,
    )
    audit = overrides.get("audit") or AuditService(
        sessions, settings.audit_dir, bus, executor, plans=approval, entries=catalog
    )
    watch = PlanWatch()
    analyzer = overrides.get("analyzer") or AnalyzerService(
        sessions,
        bus,
        catalog,
        executor,
        lint_executable=settings.ansible_lint or None,
        lint_timeout_s=settings.lint_timeout_seconds,
        explainer=overrides.get("explainer") or _explainer(llm),
        plans=approval,
    )
    accounts = overrides.get("accounts") or AccountService(
        sessions, clock=overrides.get("clock", utcnow), session_hours=settings.session_hours
    )
    bus.register(executor_subscriptions(executor))
    bus.register(approval_subscriptions(approval))
    bus.register(watch.subscriptions())
    bus.register(audit_subscriptions(audit))
    bus.register(live.subscriptions())
    bus.register(analyzer_subscriptions(analyzer))
    return Services(
        settings,
        bus,
        engine,
        sessions,
        catalog,
        executor,
        audit,
        live,
        planner,
        approval,
        watch,
        analyzer,
        agents,
        router,
        upkeep,
        accounts,
    )


def _llm_planner(settings: Settings, sessions: SessionFactory) -> LlmPlanner | None:
    if not settings.llm_providers:
        return None
    # The openai SDK is imported only when an LLM is configured (it is slow to import).
    from chiffon.planner.llm import ChatClient

    return LlmPlanner(sessions, settings.llm_providers, ChatClient())


# What a model is told of a failure: the facts the diagnosis established (not the raw output).
_FACTS = ("class", "title", "subject", "task", "hosts", "module", "file", "line", "rc")
_FACT_TEXTS = ("error", "explanation", "remedy")


def _explainer(llm: LlmPlanner | None) -> Explainer | None:
    """The planner's LLM chain explaining a diagnosis in more words; None without providers."""
    if llm is None:
        return None
    chain = llm

    async def explain(view: DiagnosisView, correlation_id: str) -> str | None:
        data = view.to_json()
        facts = {key: data[key] for key in (*_FACTS, *_FACT_TEXTS) if data.get(key)}
        return await chain.explain(facts, correlation_id)

    return explain


def _route_handlers() -> list[Any]:
    from chiffon.analyzer.routes import ROUTES as analyzer_routes
    from chiffon.approval.routes import ROUTES as approval_routes
    from chiffon.audit.routes import ROUTES as audit_routes
    from chiffon.catalog.routes import ROUTES as catalog_routes
    from chiffon.executor.routes import ROUTES as executor_routes
    from chiffon.planner.routes import ROUTES as planner_routes
    from chiffon.router.routes import ROUTES as router_routes
    from chiffon.web.routes import ROUTES as web_routes

    return [
        *web_routes,
        *catalog_routes,
        *executor_routes,
        *audit_routes,
        *planner_routes,
        *approval_routes,
        *analyzer_routes,
        *router_routes,
    ]


def create_app(settings: Settings, **overrides: Any) -> Litestar:
    """The web app on ``bootstrap``'s services (or ``services=`` given ready-made)."""
    # Imported here so that CLI commands that need no web app start faster.
    from litestar import Litestar
    from litestar.di import Provide
    from litestar.middleware import DefineMiddleware
    from litestar.openapi.config import OpenAPIConfig
    from litestar.plugins.htmx import HTMXPlugin
    from litestar.plugins.jinja import JinjaTemplateEngine
    from litestar.static_files import create_static_files_router
    from litestar.template.config import TemplateConfig

    services: Services = overrides.pop("services", None) or bootstrap(settings, **overrides)

    def provide(value: object) -> Provide:
        return Provide(lambda: value, use_cache=True, sync_to_thread=False)

    from chiffon.web.auth import AuthMiddleware
    from chiffon.web.errors import exception_handlers
    from chiffon.web.templating import configure_environment

    async def start_services() -> None:
        await services.start()
        services.start_background()

    async def stop_services() -> None:
        await services.stop()

    return Litestar(
        route_handlers=[
            *_route_handlers(),
            create_static_files_router(
                path="/static", directories=[STATIC_DIR], opt={"public": True}
            ),
        ],
        middleware=[DefineMiddleware(AuthMiddleware, accounts=services.accounts)],
        dependencies={
            "settings": provide(settings),
            "catalog": provide(services.catalog),
            "executor": provide(services.executor),
            "audit": provide(services.audit),
            "live": provide(services.live),
            "planner": provide(services.planner),
            "approval": provide(services.approval),
            "watch": provide(services.watch),
            "analyzer": provide(services.analyzer),
            "agents": provide(services.agents),
            "router": provide(services.router),
            "accounts": provide(services.accounts),
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
