"""Prediction arguments, parsed from form or JSON values with errors that name the argument and its range."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from yolohost.kit.errors import Invalid

PLATFORM_IOU = 0.7  # the Platform reference's default
HUB_IOU = 0.45  # the HUB Inference API's default


@dataclass(frozen=True, slots=True)
class PredictArgs:
    imgsz: int = 640
    conf: float = 0.25
    iou: float = PLATFORM_IOU
    normalize: bool = False
    decimals: int = 5
    vid_stride: int = 1
    runtime: str | None = None  # pt, auto, or an export format; None: the server's default


#: What a prediction may run on: the checkpoint, the fastest fitting export, or one export format.
RUNTIMES = ("pt", "auto", "onnx", "openvino", "torchscript")


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _number(name: str, raw, kind: type, lo, hi):
    text = str(raw).strip()
    try:
        value = kind(text) if kind is float else int(text)
    except ValueError:
        value = None
    if value is None or value != value or not (lo <= value <= hi):  # value != value: NaN
        what = "an integer" if kind is int else "a number"
        raise Invalid(f"{name} must be {what} from {lo} to {hi}; got {text!r}")
    return value


def _boolean(name: str, raw) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Invalid(f"{name} must be true or false; got {raw!r}")


def parse(values: Mapping[str, object], *, names: Mapping[str, str] | None = None, iou_default: float = PLATFORM_IOU) -> PredictArgs:
    """Read the arguments from ``values``; ``names`` maps our names to the route's (e.g. imgsz -> size)."""
    names = {"imgsz": "imgsz", "conf": "conf", "iou": "iou", "normalize": "normalize", "decimals": "decimals",
             "vid_stride": "vid_stride", "runtime": "runtime", **(names or {})}

    def get(ours: str):
        raw = values.get(names[ours])
        return None if raw is None or (isinstance(raw, str) and raw.strip() == "") else raw

    out = {}
    specs = {"imgsz": (int, 32, 1280), "conf": (float, 0.01, 1.0), "iou": (float, 0.0, 0.95),
             "decimals": (int, 0, 10), "vid_stride": (int, 1, 1000)}
    for ours, (kind, lo, hi) in specs.items():
        if (raw := get(ours)) is not None:
            out[ours] = _number(names[ours], raw, kind, lo, hi)
    if (raw := get("normalize")) is not None:
        out["normalize"] = _boolean(names["normalize"], raw)
    if (raw := get("runtime")) is not None:
        out["runtime"] = str(raw).strip().lower()
        if out["runtime"] not in RUNTIMES:
            raise Invalid(f"{names['runtime']} must be one of {', '.join(RUNTIMES)}; got {raw!r}")
    if (raw := values.get("bits")) not in (None, "") and str(raw).strip() not in ("8", "12", "16"):
        raise Invalid(f"bits must be 8, 12 or 16; got {raw!r}")
    out.setdefault("iou", iou_default)
    return PredictArgs(**out)
