"""Router rows: agents (one per machine) and their heartbeats (kept for the history charts)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from chiffon.db import Base, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets room for years of rows.
_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="remote")  # "remote" | "local"
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # sha256 hex
    inventory_host: Mapped[str] = mapped_column(String(255), index=True)
    labels: Mapped[list[Any]] = mapped_column(default=list)
    protocol: Mapped[str | None] = mapped_column(String(16))
    agent_version: Mapped[str | None] = mapped_column(String(32))
    resources: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the latest heartbeat's
    online: Mapped[bool] = mapped_column(default=False)
    clock_skew_s: Mapped[float | None]  # the agent's clock minus the server's, last heartbeat
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


class AgentHeartbeat(Base):
    """The figures the history chart draws; the full resources live on the agent row."""

    __tablename__ = "agent_heartbeats"
    __table_args__ = (Index("ix_agent_heartbeats_agent_time", "agent_id", "received_at"),)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    received_at: Mapped[dt.datetime] = mapped_column(index=True)  # server time, always
    cpu_percent: Mapped[float]
    memory_percent: Mapped[float]
    gpu_percent: Mapped[float | None]  # mean utilisation over the GPUs
    vram_percent: Mapped[float | None]  # VRAM in use over all GPUs
