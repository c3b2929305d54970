"""Audit trail: each finished run committed to an append-only git repo, and ``verify``."""

from .events import RunAudited
from .repo import repo_head
from .service import AuditService, VerifyReport, record_path, run_record

__all__ = [
    "AuditService",
    "RunAudited",
    "VerifyReport",
    "record_path",
    "repo_head",
    "run_record",
]
