"""Resource probes: the one adapter over psutil and NVML (nvidia-ml-py's ``pynvml``).

A machine without an NVIDIA GPU, or without the NVML library, is a normal machine: its GPU list
is empty, nothing is raised and nothing is logged above debug level.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from typing import Any, Protocol

import psutil

from .protocol import Gpu, Resources

__all__ = ["GpuReader", "NoGpus", "NvmlGpus", "open_gpu_reader", "probe_resources"]

log = logging.getLogger("chiffon.router.probes")

_MB = 1024 * 1024


class GpuReader(Protocol):
    """Where GPU figures come from (NVML here; a fake in tests)."""

    def read(self) -> list[Gpu]: ...

    def close(self) -> None: ...


class NoGpus:
    def read(self) -> list[Gpu]:
        return []

    def close(self) -> None:
        pass


class NvmlGpus:
    """GPUs through NVML. ``library`` is the ``pynvml`` module, or an object with its API."""

    def __init__(self, library: Any) -> None:
        self._nvml = library
        self._nvml.nvmlInit()

    def read(self) -> list[Gpu]:
        nvml = self._nvml
        gpus = []
        try:
            for index in range(nvml.nvmlDeviceGetCount()):
                handle = nvml.nvmlDeviceGetHandleByIndex(index)
                name = nvml.nvmlDeviceGetName(handle)
                memory = nvml.nvmlDeviceGetMemoryInfo(handle)
                utilization = nvml.nvmlDeviceGetUtilizationRates(handle)
                gpus.append(
                    Gpu(
                        index=index,
                        name=name.decode() if isinstance(name, bytes) else str(name),
                        vram_total_mb=int(memory.total) // _MB,
                        vram_free_mb=int(memory.free) // _MB,
                        utilization_percent=float(utilization.gpu),
                    )
                )
        except nvml.NVMLError as error:
            # A GPU that fell off the bus must not stop the heartbeat: report what was read.
            log.debug("NVML read failed: %s", error)
        return gpus

    def close(self) -> None:
        with contextlib.suppress(self._nvml.NVMLError):
            self._nvml.nvmlShutdown()


def open_gpu_reader() -> GpuReader:
    """NVML's reader when the library and a driver are there, else ``NoGpus`` (quietly)."""
    try:
        import pynvml
    except ImportError:
        return NoGpus()
    try:
        return NvmlGpus(pynvml)
    except pynvml.NVMLError as error:
        log.debug("no NVIDIA GPU here (%s)", error)
        return NoGpus()


def prime_cpu_percent() -> None:
    """Start psutil's CPU-percent interval, so that the first probe is not a meaningless 0."""
    psutil.cpu_percent(interval=None)


def probe_resources(gpus: GpuReader, disk_path: str = "/") -> Resources:
    """This machine's CPU, memory, disk and GPUs now (CPU load since the previous call)."""
    percent = min(100.0, max(0.0, psutil.cpu_percent(interval=None)))
    cores = psutil.cpu_count(logical=True) or 1
    memory = psutil.virtual_memory()
    disk = shutil.disk_usage(disk_path)
    return Resources(
        cpu_percent=round(percent, 1),
        cores_total=cores,
        cores_free=round(cores * (1 - percent / 100), 2),
        memory_total_mb=memory.total // _MB,
        memory_available_mb=memory.available // _MB,
        disk_path=disk_path,
        disk_total_mb=disk.total // _MB,
        disk_free_mb=disk.free // _MB,
        gpus=tuple(gpus.read()),
    )
