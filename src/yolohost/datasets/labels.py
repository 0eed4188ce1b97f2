"""Labels in the contract's shape (``{classId, bbox?, segments?, keypoints?, obb?}``, YOLO-normalized),
converted from and to YOLO label lines and NDJSON annotations, and validated per task."""

from __future__ import annotations

from collections.abc import Sequence

from yolohost.kit.errors import Invalid

TASKS = ("detect", "segment", "classify", "pose", "obb")  # tasks whose labels are Label objects
DATASET_TASKS = (*TASKS, "semantic")  # semantic datasets hold per-pixel masks, not Labels
NDJSON_KEY = {"detect": "boxes", "segment": "segments", "pose": "pose", "obb": "obb", "classify": "classification"}
EPS = 1e-6  # float noise tolerated at the borders of [0, 1]


def _unit(values: Sequence[float], what: str) -> list[float]:
    out = []
    for v in values:
        if not isinstance(v, (int, float)) or isinstance(v, bool) or v != v or v < -EPS or v > 1 + EPS:
            raise Invalid(f"{what} must hold numbers from 0 to 1 (YOLO-normalized); got {v!r}")
        out.append(min(1.0, max(0.0, float(v))))
    return out


def check(label: dict, task: str, num_classes: int | None, kpt_dims: int | None = None) -> dict:
    """A validated copy of one contract Label for a dataset of ``task`` with ``num_classes`` classes."""
    if not isinstance(label, dict):
        raise Invalid("labels must be a list of objects with classId")
    unknown = set(label) - {"classId", "bbox", "segments", "keypoints", "obb", "skeletonId"}
    if unknown:
        raise Invalid(f"labels: unknown field(s) {', '.join(sorted(unknown))}")
    cls = label.get("classId")
    if not isinstance(cls, int) or isinstance(cls, bool) or cls < 0:
        raise Invalid(f"labels: classId must be an integer >= 0; got {cls!r}")
    if num_classes is not None and cls >= num_classes:
        raise Invalid(f"labels: classId {cls} is out of range; the dataset has {num_classes} classes (0-{num_classes - 1})")
    out: dict = {"classId": cls}
    if task in ("detect", "pose") or "bbox" in label:
        bbox = label.get("bbox")
        if not isinstance(bbox, list) or len(bbox) != 4:
            raise Invalid(f"labels: a {task} label needs bbox [x_center, y_center, width, height]")
        out["bbox"] = _unit(bbox, "bbox")
    if task == "segment":
        seg = label.get("segments")
        if not isinstance(seg, list) or len(seg) < 6 or len(seg) % 2:
            raise Invalid("labels: a segment label needs segments [x1, y1, x2, y2, ...] with at least 3 points")
        out["segments"] = _unit(seg, "segments")
    if task == "pose":
        kpts = label.get("keypoints")
        if not isinstance(kpts, list) or not kpts or (kpt_dims and len(kpts) % kpt_dims):
            raise Invalid(f"labels: a pose label needs keypoints as a flat list of {kpt_dims or 2 or 3}-value points")
        out["keypoints"] = [float(v) for v in kpts]
        coords = [v for i, v in enumerate(kpts) if not kpt_dims or i % kpt_dims < 2]
        _unit([v for v in coords if v >= 0], "keypoints")
    if task == "obb":
        obb = label.get("obb")
        if not isinstance(obb, list) or len(obb) != 8:
            raise Invalid("labels: an obb label needs obb [x1, y1, x2, y2, x3, y3, x4, y4]")
        out["obb"] = _unit(obb, "obb")
    return out


def check_all(labels: list, task: str, num_classes: int | None, kpt_dims: int | None = None) -> list[dict]:
    if not isinstance(labels, list):
        raise Invalid("labels must be a list")
    if task not in TASKS:
        raise Invalid(f"{task} datasets hold per-pixel masks, which this server does not edit as labels yet")
    if task == "classify" and len(labels) > 1:
        raise Invalid("labels: a classify image has at most one label")
    return [check(label, task, num_classes, kpt_dims) for label in labels]


def from_yolo_line(line: str, task: str, kpt_dims: int | None, where: str) -> dict:
    """One line of a YOLO label file as a Label; ``where`` names the file and line in errors."""
    parts = line.split()
    try:
        cls, values = int(parts[0]), [float(v) for v in parts[1:]]
    except (ValueError, IndexError):
        raise Invalid(f"{where}: not a YOLO label line: {line.strip()!r}") from None
    if task == "detect" and len(values) > 4 and len(values) % 2 == 0:  # a polygon counts by its box
        xs, ys = values[0::2], values[1::2]
        values = [(min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2, max(xs) - min(xs), max(ys) - min(ys)]
    if task == "detect":
        if len(values) != 4:
            raise Invalid(f"{where}: a detect label has 5 values (class x_center y_center width height)")
        return {"classId": cls, "bbox": values}
    if task == "segment":
        if len(values) == 4:
            raise Invalid(f"{where}: a segment label needs a polygon (class x1 y1 x2 y2 ...)")
        return {"classId": cls, "segments": values}
    if task == "pose":
        return {"classId": cls, "bbox": values[:4], "keypoints": values[4:]}
    if task == "obb":
        if len(values) != 8:
            raise Invalid(f"{where}: an obb label has 9 values (class x1 y1 x2 y2 x3 y3 x4 y4)")
        return {"classId": cls, "obb": values}
    raise Invalid(f"{where}: {task} datasets have no label files")


def to_ndjson(labels: list[dict], task: str) -> dict:
    """The ``annotations`` of an NDJSON image record."""
    if not labels:
        return {}
    key = NDJSON_KEY[task]
    if task == "classify":
        return {key: [labels[0]["classId"]]}
    rows = []
    for label in labels:
        body = {"detect": label.get("bbox"), "segment": label.get("segments"), "obb": label.get("obb"),
                "pose": (label.get("bbox") or []) + (label.get("keypoints") or [])}[task] or []
        rows.append([label["classId"], *body])
    return {key: rows}


def from_ndjson(annotations: dict, task: str) -> list[dict]:
    """Labels from an NDJSON record's ``annotations``."""
    if not annotations:
        return []
    if task == "classify":
        ids = annotations.get("classification") or []
        return [{"classId": int(ids[0])}] if ids else []
    rows = next(iter(annotations.values()))
    return [from_yolo_line(" ".join(str(v) for v in row), task, None, "annotations") for row in rows]
