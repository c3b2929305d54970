"""Audit trail: each finished run committed to an append-only git repo, and ``verify``."""

from .events import RunAudited
from .repo import commit_paths, repo_head
from .service import AuditService, VerifyReport, record_path, run_record

__all__ = [
    "AuditService",
    "RunAudited",
    "VerifyReport",
    "commit_paths",
    "record_path",
    "repo_head",
    "run_record",
]
