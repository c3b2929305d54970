"""Every module's models, imported so that Alembic sees the whole schema."""

from chiffon.audit.models import AuditRecord
from chiffon.catalog.models import CatalogEntry
from chiffon.db import Base
from chiffon.executor.models import Run, RunEvent
from chiffon.planner.models import LlmUsage

__all__ = ["AuditRecord", "Base", "CatalogEntry", "LlmUsage", "Run", "RunEvent"]
