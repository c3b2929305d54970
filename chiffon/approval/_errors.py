"""What the approval workflow refuses, each with the HTTP status a page or the API answers."""

from __future__ import annotations


class ApprovalError(Exception):
    """A plan cannot be changed as asked; the message says why and what to do."""

    status_code = 409


class PlanNotFound(ApprovalError):
    status_code = 404


class PlanConflict(ApprovalError):
    """The plan is in the wrong state, stale, or someone else changed it first."""

    status_code = 409


class InvalidChange(ApprovalError):
    """A modification that names unknown steps or variables, or values of the wrong type."""

    status_code = 422


class NotAllowed(ApprovalError):
    """The person may not do this to this plan (e.g. approve their own request)."""

    status_code = 403
