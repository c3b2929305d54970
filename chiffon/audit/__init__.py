"""Audit trail: each finished run and decided plan committed to an append-only git repo, the
audit list, and ``verify``."""

from ._records import plan_record, plan_record_path, record_bytes, record_path, run_record
from ._search import STATUSES, AuditEntry, AuditFilter, AuditFilterError, parse_filter
from .events import PlanAudited, RunAudited
from .repo import commit_paths, repo_head
from .service import AuditDetail, AuditService, VerifyReport

__all__ = [
    "STATUSES",
    "AuditDetail",
    "AuditEntry",
    "AuditFilter",
    "AuditFilterError",
    "AuditService",
    "PlanAudited",
    "RunAudited",
    "VerifyReport",
    "commit_paths",
    "parse_filter",
    "plan_record",
    "plan_record_path",
    "record_bytes",
    "record_path",
    "repo_head",
    "run_record",
]
