"""Every module's models, imported so that Alembic sees the whole schema."""

from chiffon.approval.models import PlanChange
from chiffon.audit.models import AuditRecord
from chiffon.catalog.models import CatalogEntry
from chiffon.db import Base
from chiffon.executor.models import Run, RunEvent
from chiffon.planner.models import PlanRow, PlanStepRow

__all__ = [
    "AuditRecord",
    "Base",
    "CatalogEntry",
    "PlanChange",
    "PlanRow",
    "PlanStepRow",
    "Run",
    "RunEvent",
]
