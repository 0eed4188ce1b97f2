"""What touches ultralytics: loading a checkpoint, reading its facts, and running one prediction.

Imported only when a model is needed, so the API process starts without torch.
"""

from __future__ import annotations

import os
import platform
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from yolohost.inference.args import PredictArgs
from yolohost.inference.media import VIDEO_SUFFIX, Media, decode_image
from yolohost.kit.errors import Invalid

# The server never fetches anything on its own: no update checks, no hub calls from ultralytics, and no
# pip installs (loading an ONNX export on a CUDA machine would otherwise try to install onnxruntime-gpu).
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "false")

TASKS = ("detect", "segment", "classify", "pose", "obb")


@dataclass(frozen=True, slots=True)
class CheckpointInfo:
    task: str
    class_names: list[str]
    imgsz: int | None


@dataclass
class LoadedModel:
    """A YOLO model in memory. One prediction at a time: ultralytics predictors are not thread-safe."""

    yolo: object
    task: str
    loaded_at: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)


def load(path: Path, task: str | None = None) -> LoadedModel:
    """A checkpoint, or an exported model (ONNX, OpenVINO, TorchScript) whose ``task`` is given."""
    from ultralytics import YOLO

    yolo = YOLO(str(path), task=task)
    return LoadedModel(yolo=yolo, task=yolo.task)


def inspect_checkpoint(path: Path) -> CheckpointInfo:
    """Task, class names and image size of a checkpoint; 400 if it is not a loadable YOLO checkpoint."""
    try:
        model = load(path).yolo
        task, names, imgsz = model.task, model.names, model.overrides.get("imgsz")
    except Exception as exc:  # anything torch or ultralytics raises on a bad file
        raise Invalid(f"file is not a loadable Ultralytics YOLO checkpoint: {type(exc).__name__}: {exc}"[:500]) from None
    if task not in TASKS:
        raise Invalid(f"checkpoint task {task!r} is not supported; supported: {', '.join(TASKS)}")
    class_names = [str(names[i]) for i in sorted(names)] if isinstance(names, dict) else [str(n) for n in names]
    if isinstance(imgsz, (list, tuple)):
        imgsz = max(imgsz)
    return CheckpointInfo(task, class_names, int(imgsz) if imgsz else None)


def _entry(result, args: PredictArgs) -> dict:
    speed = result.speed or {}
    return {
        "shape": [int(x) for x in result.orig_shape],
        "speed": {k: round(float(speed.get(k) or 0.0), 3) for k in ("preprocess", "inference", "postprocess")},
        "results": result.summary(normalize=args.normalize, decimals=args.decimals),
    }


def predict(model: LoadedModel, media: Media, args: PredictArgs) -> list[dict]:
    """One entry per image, or per processed frame of a video: shape, speed, results."""
    options = {"imgsz": args.imgsz, "conf": args.conf, "iou": args.iou, "verbose": False}
    if not media.is_video:
        image = decode_image(media)
        with model.lock:
            return [_entry(r, args) for r in model.yolo.predict(image, **options)]
    # ultralytics reads videos from files and tells them by their suffix.
    with tempfile.NamedTemporaryFile(suffix=VIDEO_SUFFIX[media.kind]) as tmp:
        tmp.write(media.data)
        tmp.flush()
        _check_video(tmp.name, media.kind)
        with model.lock:
            stream = model.yolo.predict(tmp.name, stream=True, vid_stride=args.vid_stride, **options)
            return [_entry(r, args) for r in stream]


def _check_video(path: str, kind: str) -> None:
    import cv2

    cap = cv2.VideoCapture(path)
    try:
        ok = cap.isOpened() and cap.get(cv2.CAP_PROP_FRAME_COUNT) > 0 and cap.read()[0]
    finally:
        cap.release()
    if not ok:
        raise Invalid(f"file: the {kind.upper()} video could not be decoded (corrupt, truncated or no frames)")


@cache
def versions() -> dict[str, str]:
    import torch
    import ultralytics

    return {"ultralytics": ultralytics.__version__, "torch": torch.__version__.split("+")[0], "python": platform.python_version()}


def predict_labels(model: LoadedModel, image, *, conf: float, iou: float) -> list[tuple[str, dict]]:
    """Predictions as (class name, YOLO-normalized geometry) pairs, for labelling dataset images."""
    with model.lock:
        (r,) = model.yolo.predict(image, conf=conf, iou=iou, verbose=False)
    names = r.names
    if r.probs is not None:
        return [(names[int(r.probs.top1)], {})]
    if r.obb is not None:
        return [(names[int(c)], {"obb": [round(float(v), 6) for v in pts.flatten()]})
                for c, pts in zip(r.obb.cls.tolist(), r.obb.xyxyxyxyn)]
    out = []
    for i, (c, box) in enumerate(zip(r.boxes.cls.tolist(), r.boxes.xywhn.tolist())):
        geometry = {"bbox": [round(float(v), 6) for v in box]}
        if r.masks is not None and len(r.masks.xyn[i]) >= 3:
            geometry["segments"] = [round(float(v), 6) for v in r.masks.xyn[i].flatten()]
        if r.keypoints is not None:
            xy = r.keypoints.xyn[i].tolist()
            vis = r.keypoints.conf[i].tolist() if r.keypoints.conf is not None else None
            geometry["keypoints"] = [round(float(v), 6) for j, p in enumerate(xy) for v in (*p, *([vis[j]] if vis else []))]
        out.append((names[int(c)], geometry))
    return out
