"""Probes on this machine (no GPU here: the empty-GPU path) and NVML replaced by a fake."""

from __future__ import annotations

import logging
import shutil
import time

import pytest

from chiffon.router.probes import (
    NoGpus,
    NvmlGpus,
    open_gpu_reader,
    prime_cpu_percent,
    probe_resources,
)
from chiffon.router.protocol import Gpu, parse_resources
from tests._router import FakeNvml

GiB = 1024**3


def test_it_probes_this_machine_without_a_gpu_quietly(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    reader = open_gpu_reader()
    prime_cpu_percent()
    time.sleep(0.1)

    resources = probe_resources(reader)
    reader.close()

    assert isinstance(reader, NoGpus)  # this machine has no NVIDIA GPU (or no NVML)
    assert resources.gpus == ()
    assert not [r for r in caplog.records if r.levelno >= logging.INFO]
    assert resources.cores_total >= 1
    assert 0 <= resources.cores_free <= resources.cores_total
    assert 0 <= resources.cpu_percent <= 100
    assert 0 < resources.memory_available_mb <= resources.memory_total_mb
    assert resources.disk_total_mb == shutil.disk_usage("/").total // 1024**2
    # What the probe reports passes the server's own checks.
    assert parse_resources(resources.to_json()) == resources


def test_it_reports_two_gpus_through_nvml() -> None:
    nvml = FakeNvml(
        [("NVIDIA RTX 4090", 24 * GiB, 20 * GiB, 7), ("Tesla P40", 24 * GiB, 2 * GiB, 93)]
    )
    reader = NvmlGpus(nvml)

    resources = probe_resources(reader)
    reader.close()

    assert nvml.initialised and nvml.shut_down
    assert resources.gpus == (
        Gpu(0, "NVIDIA RTX 4090", 24576, 20480, 7.0),
        Gpu(1, "Tesla P40", 24576, 2048, 93.0),
    )
    assert parse_resources(resources.to_json()).gpus == resources.gpus


def test_it_keeps_the_gpus_read_before_one_fails() -> None:
    nvml = FakeNvml([("A", 8 * GiB, 8 * GiB, 0), ("B", 8 * GiB, 8 * GiB, 0)], fail_at=1)

    gpus = NvmlGpus(nvml).read()

    assert [gpu.name for gpu in gpus] == ["A"]


def test_it_decodes_gpu_names_given_as_bytes() -> None:
    class OldNvml(FakeNvml):
        def nvmlDeviceGetName(self, handle: int) -> bytes:  # type: ignore[override]
            return b"GeForce GTX 1080"

    gpus = NvmlGpus(OldNvml([("x", 8 * GiB, 4 * GiB, 1)])).read()

    assert gpus[0].name == "GeForce GTX 1080"
