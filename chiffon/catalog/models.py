"""Catalog rows: what the playbook repo offers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chiffon.db import Base, utcnow


class CatalogEntry(Base):
    """One runnable thing: a playbook, a role, or a tag of a site playbook."""

    __tablename__ = "catalog_entries"
    __table_args__ = (UniqueConstraint("kind", "path", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # EntryKind
    name: Mapped[str] = mapped_column(String(255), index=True)
    path: Mapped[str] = mapped_column(String(1024))  # relative to the playbook repo
    role: Mapped[str | None] = mapped_column(String(255))  # tag entries: the role it applies
    description: Mapped[str] = mapped_column(Text, default="")
    service: Mapped[str | None] = mapped_column(String(255))
    tags: Mapped[list[Any]] = mapped_column(default=list)
    variables: Mapped[list[Any]] = mapped_column(default=list)  # [{name, default, source}]
    hosts: Mapped[str | None] = mapped_column(String(1024))
    task_names: Mapped[list[Any]] = mapped_column(default=list)
    header: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the `# chiffon:` block
    content_hash: Mapped[str] = mapped_column(String(64))
    valid: Mapped[bool] = mapped_column(default=True)
    become: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(Text)
    scanned_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
