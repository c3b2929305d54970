"""Identifiers."""

import uuid


def new_correlation_id() -> str:
    """A 32-character hex id that follows one request through events, logs, runs and audit."""
    return uuid.uuid4().hex
