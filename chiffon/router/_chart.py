"""The agent page's history chart: SVG polyline points from heartbeat history (no JS)."""

from __future__ import annotations

from ._views import HistoryPoint

WIDTH = 480
HEIGHT = 90
SERIES = ("cpu_percent", "memory_percent", "gpu_percent", "vram_percent")


def chart_lines(
    points: list[HistoryPoint], width: int = WIDTH, height: int = HEIGHT
) -> dict[str, str]:
    """``{series: "x,y x,y ..."}`` for each series that has values, time on x, 0-100 % on y."""
    if not points:
        return {}
    start = points[0].at
    span = max((points[-1].at - start).total_seconds(), 1.0)
    lines: dict[str, str] = {}
    for series in SERIES:
        coordinates = []
        for point in points:
            value = getattr(point, series)
            if value is None:
                continue
            x = (point.at - start).total_seconds() / span * width
            y = height - min(max(value, 0.0), 100.0) / 100 * height
            coordinates.append(f"{x:.1f},{y:.1f}")
        if coordinates:
            lines[series] = " ".join(coordinates)
    return lines
