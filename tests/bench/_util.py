"""Helpers shared by the benchmarks."""

from __future__ import annotations

import os
import socket
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def env(data_dir: Path, **extra: str) -> dict[str, str]:
    """An environment for a chiffon subprocess with its own data dir."""
    result = {k: v for k, v in os.environ.items() if not k.startswith("CHIFFON_")}
    result.update(
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        CHIFFON_DATA_DIR=str(data_dir),
        XDG_CACHE_HOME=str(data_dir / "xdg-cache"),
        **extra,
    )
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
