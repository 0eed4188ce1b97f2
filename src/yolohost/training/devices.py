"""The devices training can use on this machine, as ``GET /api/training/gpu-availability`` lists them.

Ids are ``cpu`` and ``cuda:N``; a ``gpuType`` names one of them. A device is ``High`` when no run
of this server trains on it, ``Low`` while one does.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def local() -> dict[str, dict]:
    """id -> {"device": the Ultralytics device argument, "name", "memoryGb"}."""
    import os

    import psutil

    found = {"cpu": {"device": "cpu", "name": f"CPU ({os.cpu_count() or 1} cores)",
                     "memoryGb": round(psutil.virtual_memory().total / (1 << 30), 1)}}
    try:
        import torch

        for i in range(torch.cuda.device_count() if torch.cuda.is_available() else 0):
            props = torch.cuda.get_device_properties(i)
            found[f"cuda:{i}"] = {"device": str(i), "name": props.name,
                                  "memoryGb": round(props.total_memory / (1 << 30), 1)}
    except Exception:  # no usable CUDA: CPU only
        pass
    return found


def describe(gpu_type: str) -> dict:
    return local().get(gpu_type, {"device": None, "name": gpu_type, "memoryGb": 0.0})


def availability(busy: set[str]) -> dict[str, str]:
    return {ident: "Low" if ident in busy else "High" for ident in local()}


def choose(gpu_type: str | None, device_arg: str | None) -> tuple[str, str | None]:
    """(gpuType, Ultralytics device) for a run: the named device, else the trainArgs' device, else the
    first GPU (or the CPU). Raises KeyError for a device this machine does not have."""
    devices = local()
    if gpu_type:
        return gpu_type, devices[gpu_type]["device"]
    if device_arg in (None, "", "auto"):
        ident = next((d for d in devices if d.startswith("cuda:")), "cpu")
        return ident, devices[ident]["device"]
    if device_arg == "cpu":
        return "cpu", "cpu"
    ident = f"cuda:{device_arg}"
    if ident not in devices:
        raise KeyError(ident)
    return ident, str(device_arg)
