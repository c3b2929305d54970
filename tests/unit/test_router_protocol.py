"""The agent protocol's checks, needs, fit evaluation, the flood guard and the history chart."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from chiffon.router import Needs, NeedsError, ProtocolError, UnsupportedProtocol
from chiffon.router._chart import chart_lines
from chiffon.router._flood import FloodGuard
from chiffon.router._views import HistoryPoint
from chiffon.router.needs import evaluate
from chiffon.router.protocol import parse_heartbeat, parse_resources
from tests._router import gpu, heartbeat_body


def _without(body: dict[str, Any], *path: str) -> dict[str, Any]:
    body = copy.deepcopy(body)
    target = body
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return body


def _with(body: dict[str, Any], value: Any, *path: str) -> dict[str, Any]:
    body = copy.deepcopy(body)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


def test_it_reads_a_full_heartbeat() -> None:
    body = heartbeat_body(
        gpus=[gpu(0, 24_000, 20_000), gpu(1, 12_000, 1_000, name="RTX 3060")],
        name="gpu-box",
        inventory_host="gpu-box.lan",
        labels=["gpu", "docker", "gpu"],
        sent_at="2026-11-22T13:00:00+01:00",
        agent_version="0.1.0",
    )

    heartbeat = parse_heartbeat(body)

    assert heartbeat.name == "gpu-box" and heartbeat.inventory_host == "gpu-box.lan"
    assert heartbeat.labels == ("docker", "gpu")
    assert heartbeat.sent_at == dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
    assert [g.name for g in heartbeat.resources.gpus] == ["RTX 4090", "RTX 3060"]
    assert parse_heartbeat(heartbeat.to_json()) == heartbeat


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (("resources",), '"resources" is missing'),
        (("resources", "cpu"), '"resources.cpu" is missing'),
        (("resources", "cpu", "cores_total"), '"resources.cpu.cores_total" is missing'),
        (("resources", "memory", "available_mb"), '"resources.memory.available_mb" is missing'),
        (("resources", "disk"), '"resources.disk" is missing'),
        (("protocol",), '"protocol" must be a version string'),
    ],
)
def test_it_names_a_missing_field(path: tuple[str, ...], message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        parse_heartbeat(_without(heartbeat_body(), *path))


@pytest.mark.parametrize(
    ("value", "path", "message"),
    [
        (-1, ("resources", "cpu", "percent"), "cannot be negative"),
        (250, ("resources", "cpu", "percent"), "beyond the possible maximum 100"),
        (10**9, ("resources", "cpu", "cores_total"), "beyond the possible maximum"),
        (0, ("resources", "cpu", "cores_total"), "at least 1"),
        (9, ("resources", "cpu", "cores_free"), "beyond the possible maximum 8"),
        (True, ("resources", "cpu", "cores_total"), "must be a number"),
        ("8", ("resources", "cpu", "cores_total"), "must be a number"),
        (-5, ("resources", "memory", "total_mb"), "cannot be negative"),
        (10**15, ("resources", "memory", "total_mb"), "beyond the possible maximum"),
        (40_000, ("resources", "memory", "available_mb"), "beyond the possible maximum 32000"),
        ("lots", ("resources", "gpus"), "must be a list"),
        ([gpu(0, 8000, 9000)], ("resources", "gpus"), 'vram_free_mb" = 9000 is beyond'),
        ([gpu(0, -8000, 0)], ("resources", "gpus"), "cannot be negative"),
        ([gpu(0, 8000, 100, util=101)], ("resources", "gpus"), "utilization_percent"),
        ([{"index": 0}], ("resources", "gpus"), 'name" must be a name'),
        (["GPU"], ("labels",), "is not a label"),
        (["Has Space"], ("labels",), "is not a label"),
        ("gpu", ("labels",), "must be a list"),
        ("yesterday", ("sent_at",), "ISO 8601"),
        ("2026-11-22T12:00:00", ("sent_at",), "UTC offset"),
        ("two words", ("name",), '"name" must be'),
        ("a b", ("inventory_host",), '"inventory_host" must be'),
    ],
)
def test_it_refuses_negative_absurd_and_mistyped_values(
    value: Any, path: tuple[str, ...], message: str
) -> None:
    body = _with(heartbeat_body(), value, *path)
    with pytest.raises(ProtocolError, match=message):
        parse_heartbeat(body)


def test_it_refuses_another_major_version_naming_the_ones_it_speaks() -> None:
    with pytest.raises(UnsupportedProtocol, match=r"Protocol 2\.0 .* speaks 1\.x"):
        parse_heartbeat(heartbeat_body(protocol="2.0"))


def test_it_accepts_a_newer_minor_version_and_ignores_unknown_fields() -> None:
    heartbeat = parse_heartbeat(heartbeat_body(protocol="1.7", uptime_s=12))

    assert heartbeat.protocol == "1.7"


def test_it_refuses_what_is_not_an_object() -> None:
    with pytest.raises(ProtocolError, match="JSON object"):
        parse_heartbeat([1, 2])


def test_it_reads_needs_from_a_header_mapping() -> None:
    needs = Needs.from_mapping({"min_gpu_vram_mb": 8000, "min_cpu_cores": 1.5, "labels": "gpu"})

    assert needs == Needs(min_gpu_vram_mb=8000, min_cpu_cores=1.5, labels=("gpu",))
    assert Needs.from_mapping(None).is_empty
    with pytest.raises(NeedsError, match="unknown resource need"):
        Needs.from_mapping({"min_disk": 1})
    with pytest.raises(NeedsError, match="0 or more"):
        Needs.from_mapping({"min_memory_mb": -1})
    with pytest.raises(NeedsError, match="must be a number"):
        Needs.from_mapping({"min_cpu_cores": "two"})


def test_it_explains_a_fit_and_every_shortfall() -> None:
    resources = parse_resources(
        heartbeat_body(cores_free=2, memory_available_mb=4000, gpus=[gpu(0, 24_000, 6_000)])[
            "resources"
        ]
    )

    fit = evaluate(Needs(min_gpu_vram_mb=4000, min_cpu_cores=1), resources, ())
    short = evaluate(
        Needs(min_gpu_vram_mb=8000, min_cpu_cores=4, min_memory_mb=8000, labels=("gpu",)),
        resources,
        ("docker",),
    )

    assert fit.fits and "6,000 MB VRAM free on GPU 0 (RTX 4090)" in fit.reason
    assert not short.fits
    assert short.reason == (
        "lacks label(s) gpu; 2 cores free, needs 4; 4,000 MB memory available, needs 8,000 MB; "
        "best GPU has 6,000 MB VRAM free, needs 8,000 MB"
    )
    no_gpu = evaluate(Needs(min_gpu_vram_mb=1), parse_resources(heartbeat_body()["resources"]), ())
    assert not no_gpu.fits and no_gpu.reason == "has no GPU, needs 1 MB VRAM"


def test_it_lets_a_burst_through_then_one_heartbeat_per_interval() -> None:
    guard = FloodGuard(burst=3, interval_s=2.0)

    assert [guard.admit(1, 100.0) for _ in range(3)] == [0, 0, 0]
    assert guard.admit(1, 100.0) == pytest.approx(2.0)
    assert guard.admit(2, 100.0) == 0  # another agent has its own bucket
    assert guard.admit(1, 102.0) == 0


def test_it_draws_history_as_polyline_points() -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    points = [
        HistoryPoint(start, 0, 50, None, None),
        HistoryPoint(start + dt.timedelta(seconds=30), 100, 50, None, None),
    ]

    lines = chart_lines(points, width=100, height=50)

    assert lines == {"cpu_percent": "0.0,50.0 100.0,0.0", "memory_percent": "0.0,25.0 100.0,25.0"}
    assert chart_lines([]) == {}
