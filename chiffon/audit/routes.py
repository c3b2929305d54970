"""The audit trail's JSON API."""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.di import NamedDependency

from chiffon.audit import AuditService

__all__ = ["ROUTES"]


@get("/api/audit/verify", tags=["audit"])
async def verify_api(audit: NamedDependency[AuditService]) -> dict[str, Any]:
    """Whether every finished run has an audit commit matching the database (``ok``), how
    many runs were checked, and one line per problem found."""
    report = await audit.verify()
    return {"ok": report.ok, "checked": report.checked, "problems": list(report.problems)}


ROUTES = [verify_api]
