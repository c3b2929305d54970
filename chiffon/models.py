"""Every module's models, imported so that Alembic sees the whole schema."""

from chiffon.analyzer.models import Diagnosis, LintResult, Suggestion
from chiffon.approval.models import PlanChange
from chiffon.audit.models import AuditRecord
from chiffon.catalog.models import CatalogEntry
from chiffon.db import Base
from chiffon.executor.models import Run, RunEvent
from chiffon.planner.models import LlmUsage, PlanRow, PlanStepRow, SavedDraftRow
from chiffon.router.models import Agent, AgentHeartbeat
from chiffon.web.models import ApiToken, LoginFailure, User, WebSession

__all__ = [
    "Agent",
    "AgentHeartbeat",
    "ApiToken",
    "AuditRecord",
    "Base",
    "CatalogEntry",
    "Diagnosis",
    "LintResult",
    "LlmUsage",
    "LoginFailure",
    "PlanChange",
    "PlanRow",
    "PlanStepRow",
    "Run",
    "RunEvent",
    "SavedDraftRow",
    "Suggestion",
    "User",
    "WebSession",
]
